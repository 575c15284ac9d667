"""The recorder: what a drawing needs to know of each node, learned while something records.

The engine keeps only what backward needs. A picture needs more: the scope a node ran in (which
layer, step and cell), its output shapes and, when small, values; the constants it read (the
4.0 of ``y * 4.0``, a zero initial state); the inputs that ``detach()`` had cut from an earlier
graph; after backward, the gradient norms. Inside ``with minigrad.viz.recording():`` a
:class:`Recorder` hears of each new node and each backward step through the engine's one hook
(``minigrad.listen``) and keeps those facts beside the graph, weakly keyed by node: they go when
the graph goes. Outside, nothing is recorded and nothing is paid.

    with minigrad.viz.recording():
        output, _ = model(x)
        output[-1].sum().backward()     # optional: colours the picture by gradient norm
    minigrad.viz.draw(output)
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

from .. import backend
from ..function import Function
from ..hooks import listen
from ..scope import Scope, current_scope
from ..tensor import Cut, Tensor, unwrap

SMALL = 16  # outputs with at most this many elements keep their values, drawn micrograd-style


@dataclass
class CutInput:
    """An input that ``detach()`` had cut from an earlier graph: where, and its shape."""

    cut: Cut
    shape: tuple


@dataclass
class NodeFacts:
    """What the recorder learned of one node."""

    scope: Scope | None         # the scope it was recorded in
    shapes: tuple               # the shape of each output
    small_value: object         # the output's array, when it is one of at most SMALL elements
    constants: dict | None      # {input index: array or number} for inputs no gradient flows to
    cuts: dict | None           # {input index: CutInput} for inputs cut by detach()
    grad_norms: tuple | None = None   # per output, the norm of its gradient (after backward)
    grad_values: tuple | None = None  # per output, its gradient when small


_FACTS: "weakref.WeakKeyDictionary[Function, NodeFacts]" = weakref.WeakKeyDictionary()


class Recorder:
    """A listener (see ``minigrad/hooks.py``) that keeps each node's :class:`NodeFacts`."""

    def on_node(self, node: Function, inputs, outputs: tuple) -> None:
        constants, cuts = {}, {}
        for i, x in enumerate(inputs):
            if isinstance(x, Tensor) and x.requires_grad:
                continue
            constants[i] = unwrap(x)
            if isinstance(x, Tensor) and x.cut_from is not None:
                cuts[i] = CutInput(x.cut_from, tuple(x.shape))
        single = unwrap(outputs[0]) if len(outputs) == 1 else None
        _FACTS[node] = NodeFacts(
            scope=current_scope(), shapes=tuple(o.shape for o in outputs),
            small_value=single if single is not None and single.size <= SMALL else None,
            constants=constants or None, cuts=cuts or None)

    def on_backward(self, node: Function, grad_outputs, grad_inputs) -> None:
        facts = _FACTS.get(node)
        if facts is not None:
            facts.grad_norms = tuple(_norm(g) for g in grad_outputs)
            facts.grad_values = tuple(_small(g) for g in grad_outputs)


def recording() -> listen:
    """Context manager: record what a drawing needs of every node made, and every backward step
    taken, inside (returns the :class:`Recorder`)."""
    return listen(Recorder())


def recorded(node: Function) -> NodeFacts | None:
    """The facts recorded for ``node``, or None."""
    return _FACTS.get(node)


def facts_of(node: Function) -> NodeFacts:
    """The facts recorded for ``node``; an error that says what to write when there are none."""
    facts = _FACTS.get(node)
    if facts is None:
        raise RuntimeError(
            f"draw: the graph was recorded without minigrad.viz.recording() (its {node.name} "
            "node has no recorded scope, shapes or values). Run the forward pass, and the "
            "backward pass to colour by gradient, inside it:\n"
            "    with minigrad.viz.recording():\n"
            "        output, _ = model(x)\n"
            "        loss.backward()\n"
            "    minigrad.viz.draw(output)")
    return facts


def _norm(g) -> float | None:
    if g is None:
        return None
    g = unwrap(g)
    xp = backend.get_array_module(g)
    return float(xp.sqrt((g.astype(backend.float64) ** 2).sum()))


def _small(g):
    if g is None:
        return None
    g = unwrap(g)
    return backend.to_numpy(g) if g.size <= SMALL else None
