"""Every op of the engine's op table, traced: the same values and gradients as eager (float64),
at the recording's call (its gradients computed by deriving the backward) and at compiled calls. The trace records the
ops' own forward and backward formulas, so any array call an op makes must be recordable."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "minigrad"))
from op_cases import CASES, as_tuple, make_arrays, mg_inputs  # noqa: E402


def _loss_and_grads(fn, inputs, seeds):
    for t in inputs:
        t.grad = None
    outs = as_tuple(fn(*inputs))
    zero = mg.tensor(0.0, dtype=mg.float64, device=inputs[0].device if inputs else None)
    loss = sum(((o * s).sum() for o, s in zip(outs, seeds) if o.requires_grad), zero)
    if loss.requires_grad:
        loss.backward()
    return [o.numpy().copy() for o in outs], [None if t.grad is None else t.grad.numpy().copy()
                                             for t in inputs]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_traced_op_equals_eager(case, device):
    """On CuPy (``pytest -m cuda``) the programs call CuPy's functions."""
    rng = np.random.default_rng(0)
    inputs = mg_inputs(make_arrays(case, rng), device)
    eager_outs = as_tuple(case.mg(*inputs))
    seeds = [mg.tensor(rng.standard_normal(o.shape), device=device) for o in eager_outs]
    want = _loss_and_grads(case.mg, inputs, seeds)
    traced = mg.trace(case.mg)
    for _ in range(3):  # the recording's values (the backward derived), then compiled
        got = _loss_and_grads(traced, inputs, seeds)
        for a, b in zip(got[0], want[0]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
        for a, b in zip(got[1], want[1]):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)
