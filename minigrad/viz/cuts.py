"""Where the graph was cut: the source of a tensor that ``detach()`` took out of the graph, for
the dashed "detach" edges of truncated BPTT.

The engine keeps the cut: a detached tensor's ``cut_from`` (a ``minigrad.Cut``) holds, weakly,
the node it was cut from and the role label of what it cut; so do slices of it
(``h_0 = hx[k]``), noting which part of a stack they took back (layer k's h from h_n). The
recorder notes which inputs of each node were such tensors (``NodeFacts.cuts``), which survives
``backward``. The weak reference is dead once nothing holds the earlier graph; the renderer then
draws a small "cut" box in its place, named by the role (h, C).
"""
from __future__ import annotations

from ..function import Edge, Function
from ..tensor import Tensor
from .recorder import recorded


def source(x) -> tuple | None:
    """(node, output index) where tensor ``x`` was cut from, when it was and that node exists."""
    cut = x.cut_from if isinstance(x, Tensor) else None
    return (cut.node, cut.index) if cut is not None and cut.node is not None else None


def links(item) -> list:
    """The nodes ``item`` was computed from, and those its cut inputs were cut from."""
    if not isinstance(item, Function):
        found = source(item)
        return [found[0]] if found else []
    nodes = [e.node if isinstance(e, Edge) else e for e in item.next if e is not None]
    facts = recorded(item)  # (None for a node of an earlier graph drawn unrecorded)
    cut_from = [c.cut.node for c in ((facts.cuts if facts else None) or {}).values()]
    return nodes + [node for node in cut_from if node is not None]


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
                if not isinstance(e, Edge):
                    continue
                if drawn(e.node):
                    found.append(e)
                else:
                    further.append(e.node)
        if found:
            return list(dict.fromkeys(found))
        frontier = further
    return []
