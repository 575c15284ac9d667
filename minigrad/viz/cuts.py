"""Where the graph was cut: the source of a tensor that ``detach()`` took out of the graph, for
the dashed "detach" edges of truncated BPTT.

The engine keeps the trace: a detached tensor remembers, weakly, the node it was cut from, and
the role label of what it cut (``Tensor._detached_from``); so do slices of it (``h_0 = hx[k]``),
noting which part of a stack they took back (layer k's h from h_n), and a node records which of
its inputs were such tensors, with their shapes (``Function.cuts``), which survives ``backward``. The weak reference is dead once nothing holds the earlier graph;
the renderer then draws a small "cut" box in its place, named by the role (h, C).
"""
from __future__ import annotations

from ..function import Function
from ..tensor import Tensor


def resolve(trace) -> tuple | None:
    """(node, output index) from a ``_detached_from`` trace, or None when it is gone."""
    if trace is None:
        return None
    node = trace[0]()
    return (node, trace[1]) if node is not None else None


def role(trace) -> str | None:
    """The role label of what a ``_detached_from`` trace's tensor cut (``h_t``), kept when the
    graph it was cut from is gone."""
    return trace[2] if trace is not None else None


def part(trace) -> int | None:
    """Which input of the stack a trace points at its tensor took back (``h_n[k]``), or None."""
    return trace[3] if trace is not None else None


def source(x) -> tuple | None:
    """Where tensor ``x`` was cut from, when it was and that node still exists."""
    return resolve(x._detached_from) if isinstance(x, Tensor) else None


def links(item) -> list:
    """The nodes ``item`` was computed from, and those its cut inputs were cut from."""
    if not isinstance(item, Function):
        found = source(item)
        return [found[0]] if found else []
    nodes = [e[0] if type(e) is tuple else e for e in item.next if e is not None]
    cut_from = [resolve(trace) for trace, _ in (item.cuts or {}).values()]
    return nodes + [found[0] for found in cut_from if found]


def was_detached(x) -> bool:
    return isinstance(x, Tensor) and x._detached_from is not None


def drawn_above(fn, drawn, depth: int = 3, part: int | None = None) -> list:
    """(node, output) pairs that ``drawn`` accepts, found walking back from ``fn`` at most
    ``depth`` nodes (through the stack that made h_n, a slice, a reshape); from input ``part``
    of ``fn`` only, when the cut tensor is that part of it (layer k's h from h_n)."""
    found, frontier = [], [fn] if fn is not None else []
    for level in range(depth):
        further = []
        for node in frontier:
            edges = node.next if level or part is None else node.next[part:part + 1]
            for e in edges:
                if type(e) is not tuple:
                    continue
                if drawn(e[0]):
                    found.append(e)
                else:
                    further.append(e[0])
        if found:
            return list(dict.fromkeys(found))
        frontier = further
    return []
