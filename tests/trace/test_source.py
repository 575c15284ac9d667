"""traced.source(): the programs as Python over NumPy that reads as the math, and runs."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import nn


def _lstm_trace(steps=5):
    mg.manual_seed(0)
    model = nn.LSTM(4, 6, dtype=np.float64)
    x = mg.tensor(np.random.default_rng(0).normal(size=(steps, 3, 4)))
    traced = mg.trace(lambda x: model(x)[0])
    return model, x, traced


def test_lstm_backward_of_one_step_reads_as_bptt():
    _, x, traced = _lstm_trace()
    traced(x)
    step = traced.source(step=3)
    assert "C_3 = mul_3 + mul_3__2" in step
    assert "df_3 = dC_3 * C_2" in step
    assert "dC_3 = dC_4 * f_4 + dtanh_3 * (1 - tanh_3 * tanh_3)" in step
    assert "da_f_3 = df_3 * f_3 * (1 - f_3)" in step
    assert "C_2 = " not in step and "dC_2 = " not in step  # one step's lines only
    whole = traced.source()
    assert "dC_2 = dC_3 * f_3 + " in whole
    with pytest.raises(ValueError, match="step 99"):
        traced.source(step=99)


@pytest.mark.parametrize("inline", [True, False])
def test_printed_source_runs_and_gives_the_same_numbers(inline):
    model, x, traced = _lstm_trace()
    r = np.random.default_rng(1).normal(size=(5, 3, 6))
    out = traced(x)
    (out * mg.tensor(r)).sum().backward()
    want = [p.grad.numpy() for p in model.parameters()]
    text = traced.source(inline=inline)
    if not inline:  # one line per array call
        assert "dC_3 = dC_4 * f_4 + " not in text
    namespace = dict(traced.constants())
    exec(compile(text, "<traced source>", "exec"), namespace)
    params = [p.data for p in model.parameters()]
    outputs, saved = namespace["forward"](x.data, *params)
    np.testing.assert_array_equal(outputs[0], out.numpy())
    grads = namespace["backward"](saved, r)
    for g, w in zip(grads, want):
        np.testing.assert_array_equal(g, w)


def test_each_line_names_the_op_it_came_from():
    x = mg.tensor(np.ones(3), requires_grad=True)
    traced = mg.trace(lambda x: x.exp().sum())
    traced(x)
    text = traced.source(inline=False)
    assert "np.exp(x)" in text and "# Exp" in text and "# Exp backward" in text
