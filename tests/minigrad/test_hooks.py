"""The engine's one hook (minigrad/hooks.py): listeners hear of recorded nodes and backward steps."""
import numpy as np

import minigrad


class Log:
    def __init__(self):
        self.nodes, self.steps = [], []

    def on_node(self, node, inputs, outputs):
        self.nodes.append((node.name, len(inputs), [o.shape for o in outputs]))

    def on_backward(self, node, grad_outputs, grad_inputs):
        self.steps.append((node.name, len(grad_outputs), len(grad_inputs)))


def test_a_listener_hears_every_recorded_node_and_backward_step():
    x = minigrad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with minigrad.listen(Log()) as log:
        y = (x * 3.0).sum()
        y.backward()
    assert log.nodes == [("Mul", 2, [(2,)]), ("Sum", 1, [()])]
    assert log.steps == [("Sum", 1, 1), ("Mul", 1, 2)]


def test_nothing_is_heard_without_grad_or_outside_the_block():
    x = minigrad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    log = Log()
    with minigrad.listen(log):
        with minigrad.no_grad():
            x * 2.0
        minigrad.tensor([1.0]) * 2.0  # no input needs a gradient: no node
    (x * 2.0).sum().backward()
    assert log.nodes == [] and log.steps == []


def test_listeners_nest_and_one_with_a_single_method_is_enough():
    class Nodes:
        count = 0

        def on_node(self, node, inputs, outputs):
            self.count += 1

    x = minigrad.tensor([1.0], requires_grad=True)
    with minigrad.listen(Nodes()) as outer:
        x * 2.0
        with minigrad.listen(Nodes()) as inner:
            (x * 2.0).sum().backward()
    assert (outer.count, inner.count) == (3, 2)
    assert minigrad.function.STATE.listeners == ()
