"""Truncated backpropagation through time: cut the state between chunks, and a warning for the
classic leak of forgetting to.

Feeding a layer's final state back as the next chunk's initial state links the chunks' graphs:
without ``detach_state`` the graph (and memory) grows with every call, and backward runs
through every chunk seen so far. A recurrent layer counts how many of its own previous
forward calls the incoming state's graph already spans; past a threshold it warns once with
:class:`GraphGrowthWarning`.
"""
from __future__ import annotations

import warnings
import weakref
from typing import Any

from minigrad import Edge, Tensor

_threshold: int | None = 50


class GraphGrowthWarning(UserWarning):
    """The state fed to a recurrent layer carries a graph spanning many forward calls."""


def detach_state(state: Any) -> Any:
    """``state`` with every Tensor detached, keeping its tuple/list nesting (None stays None).

    Truncated BPTT: ``state = nn.utils.detach_state(state)`` between chunks keeps the values
    and cuts the graph (drawn as a dashed "detach" edge by the renderer).
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a Tensor or a tuple/list of them, got {type(state).__name__}")


def set_graph_growth_warning(calls: int | None) -> int | None:
    """Warn when a layer's incoming state spans ``calls`` previous forward calls (None: never).

    Returns the previous setting.
    """
    global _threshold
    if calls is not None and (not isinstance(calls, int) or calls < 1):
        raise ValueError(f"set_graph_growth_warning: calls must be a positive int or None, got {calls!r}")
    previous, _threshold = _threshold, calls
    return previous


def get_graph_growth_warning() -> int | None:
    """The current threshold of :func:`set_graph_growth_warning` (None: never warns)."""
    return _threshold


class GrowthTracker:
    """Counts how many of one layer's consecutive forward calls the incoming state chains.

    ``check(hx)`` before the forward: the count grows by one if some part of ``hx`` was made
    from the layer's previous final state and its graph is still alive (no backward freed it);
    it restarts at 0 for a leaf, detached or foreign state. ``remember(state)`` after it.
    """

    SEARCH_NODES = 16  # how far back from hx to look for the previous state (slices, reshapes)

    def __init__(self, owner: str):
        self.owner = owner
        self.calls = 0
        self._previous: list = []

    def check(self, hx) -> None:
        if self._chains_previous(hx):
            self.calls += 1
        else:
            self.calls = 0
        if _threshold is not None and self.calls == _threshold:
            warnings.warn(
                f"{self.owner}: the initial state's graph spans the last {self.calls} forward calls "
                "and no backward has freed it, so memory grows with every call. Between chunks "
                "(truncated BPTT) cut it with `state = nn.utils.detach_state(state)`, or run "
                "under `minigrad.no_grad()` when no gradient is needed. "
                "(nn.utils.set_graph_growth_warning(n) changes this threshold.)",
                GraphGrowthWarning, stacklevel=4)

    def remember(self, state: tuple) -> None:
        self._previous = [weakref.ref(s.grad_fn) for s in state if s.grad_fn is not None]

    def _chains_previous(self, hx) -> bool:
        previous = {id(n) for n in (r() for r in self._previous) if n is not None}
        if not previous or hx is None:
            return False
        parts = (hx,) if isinstance(hx, Tensor) else hx
        return any(isinstance(p, Tensor) and _reaches(p.grad_fn, previous, self.SEARCH_NODES)
                   for p in parts)


def _reaches(node, targets: set, budget: int) -> bool:
    """Whether a walk back from ``node`` meets one of ``targets`` (ids) within ``budget`` nodes."""
    frontier = [node] if node is not None else []
    while frontier and budget > 0:
        node = frontier.pop()
        budget -= 1
        if node.freed:
            continue
        if id(node) in targets:
            return True
        frontier.extend(edge.node for edge in node.next if isinstance(edge, Edge))
    return False
