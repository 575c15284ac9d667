"""A hand-written loop's input sequence, named with draw(inputs={"x": x}), enters each step as a
stub x_t, as nn's layers' inputs do: not one node with a line into every step, nor ops outside
the steps, nor number literals."""
import warnings

import pytest

import minigrad
from minigrad.viz import draw


def gru_loop(x_needs_grad: bool, slice_inside: bool = True, T: int = 3):
    """A learner's GRU, ten lines, its gates labelled, each step in a scope."""
    minigrad.manual_seed(0)
    H, I = 4, 3
    Wz, Wr, Wn = (minigrad.randn(I + H, H, requires_grad=True) for _ in range(3))
    x = minigrad.randn(T, 2, I, requires_grad=x_needs_grad)
    h = minigrad.zeros((2, H))
    for t in range(T):
        outside = x[t]
        with minigrad.scope("my_gru", step=t, cell="gru"):
            x_t = x[t] if slice_inside else outside
            hx = minigrad.concat([h, x_t], axis=1)
            z = (hx @ Wz).sigmoid().label("z_t")
            r = (hx @ Wr).sigmoid().label("r_t")
            n = (minigrad.concat([r * h, x_t], axis=1) @ Wn).tanh().label("n_t")
            h = ((1 - z) * n + z * h).label("h_t")
    return h, x, dict(W_z=Wz, W_r=Wr, W_n=Wn)


def drawn(h, params, detail, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return draw(h, params=params, detail=detail, **{"width": None, **options}).records


@pytest.mark.parametrize("slice_inside", [True, False])
@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
def test_a_named_input_enters_each_step_as_a_stub(detail, slice_inside):
    h, x, params = gru_loop(True, slice_inside)
    g = drawn(h, params, detail, inputs={"x": x})
    stubs = sorted((n.step.step, n.role, n.shape) for n in g.nodes.values() if n.kind == "stub")
    assert stubs == [(t, f"x_{t}", (2, 3)) for t in range(3)]
    assert not [n for n in g.nodes.values() if n.kind == "input"]
    assert not [n for n in g.nodes.values() if n.step is None and n.op == "GetItem"]
    unnamed = drawn(h, params, detail)  # without the name: the sequence with lines into the steps
    assert not [n for n in unnamed.nodes.values() if n.kind == "stub"]


def test_a_named_input_that_needs_no_gradient_is_no_number_literal():
    """x[t] of a tensor that needs no gradient reaches the step as a plain array, drawn as its
    numbers; named, it is the stub x_t (x_0 included where a step's op reads it as it is)."""
    h, x, params = gru_loop(False)
    g = drawn(h, params, "gate", inputs={"x": x})
    roles = {n.role for n in g.nodes.values() if n.kind == "stub"}
    assert roles == {"x_0", "x_1", "x_2"}
    consts = [n for n in g.nodes.values() if n.kind == "const" and n.shape == (2, 3)]
    assert consts == []
    assert [n for n in drawn(h, params, "gate").nodes.values()
            if n.kind == "const" and n.shape == (2, 3)]


def test_inputs_must_name_tensors():
    h, x, params = gru_loop(True)
    with pytest.raises(TypeError, match="inputs must map names to tensors"):
        draw(h, params=params, inputs=[x])
