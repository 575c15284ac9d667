"""The engine's one hook: tools that want to know what the engine does listen here.

The renderer's recorder, anomaly mode, gradient recording and the tracer all need to learn of
each node the engine records, or of each backward step it takes. None of that belongs in the
textbook path, so the engine only tells whoever listens:

* ``listener.on_node(node, inputs, outputs)``: ``Function.apply`` recorded ``node``; ``inputs``
  are the operands as the op was given them (Tensors and constants), ``outputs`` the tuple of
  Tensors it made (one for most ops).
* ``listener.on_backward(node, grad_outputs, grad_inputs)``: the backward walk ran
  ``node.backward``; ``grad_outputs`` are the gradients it received (None where nothing
  arrived), ``grad_inputs`` the ones it sent along ``node.next``.

A listener defines the methods it needs (a missing one is not called). While nobody listens the
engine pays one empty-tuple test per recorded node and per backward step.

    class Counter:
        count = 0
        def on_node(self, node, inputs, outputs):
            self.count += 1

    with minigrad.listen(Counter()) as counter:
        y = (x * x).sum()
    counter.count   # 2
"""
from __future__ import annotations

from .function import STATE


class listen:
    """Context manager: ``listener`` hears of every node recorded and every backward step taken
    inside. Listeners nest; the innermost hears last."""

    def __init__(self, listener):
        self.listener = listener

    def __enter__(self):
        STATE.listeners = STATE.listeners + (self.listener,)
        return self.listener

    def __exit__(self, *exc):
        STATE.listeners = tuple(x for x in STATE.listeners if x is not self.listener)


def tell_node(node, inputs, outputs) -> None:
    """Tell every listener that ``node`` was recorded (called by ``Function.apply``, with its
    one output or the tuple of them)."""
    outputs = outputs if type(outputs) is tuple else (outputs,)
    for listener in STATE.listeners:
        on_node = getattr(listener, "on_node", None)
        if on_node is not None:
            on_node(node, inputs, outputs)


def tell_backward(node, grad_outputs, grad_inputs) -> None:
    """Tell every listener that ``node.backward`` ran (called by the backward walk)."""
    for listener in STATE.listeners:
        on_backward = getattr(listener, "on_backward", None)
        if on_backward is not None:
            on_backward(node, grad_outputs, grad_inputs)
