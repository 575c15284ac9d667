"""Shared by the recurrent tests: run a minigrad module and its PyTorch twin on the same data
and weights, with the same scalar loss, and compare values and gradients."""
from __future__ import annotations

import numpy as np
import torch

import minigrad as mg

TOL = 1e-10


def copy_weights(mine, ref) -> None:
    """Load a PyTorch module's state_dict (as NumPy arrays) into a minigrad module."""
    mine.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})


def as_parts(value) -> tuple:
    """A state (one tensor or a tuple of them) as a tuple."""
    return value if isinstance(value, tuple) else (value,)


def loss_weights(shapes, seed: int) -> list:
    """Fixed random weights R_k: the loss is sum_k sum(y_k * R_k), so every output matters."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def run_torch(ref, x: np.ndarray, state, call=None, **kwargs):
    """Forward + backward in PyTorch; returns (outputs, grads of x and state, param grads).

    ``call(x, hx)`` replaces ``ref(x, hx)`` when given (e.g. to pack a padded batch)."""
    xt = torch.tensor(x, requires_grad=True)
    st = None if state is None else tuple(torch.tensor(s, requires_grad=True) for s in state)
    out = (call or ref)(xt, None if st is None else (st[0] if len(st) == 1 else st), **kwargs)
    flat = _flatten(out)
    loss = sum((y * torch.tensor(r)).sum() for y, r in zip(flat, loss_weights([y.shape for y in flat], 0)))
    loss.backward()
    inputs = [xt] + list(st or ())
    return ([y.detach().numpy() for y in flat], [t.grad.numpy() for t in inputs],
            {n: p.grad.numpy() for n, p in ref.named_parameters()})


def run_minigrad(mine, x: np.ndarray, state, device: str = "cpu", **kwargs):
    """The same as run_torch, for a minigrad module."""
    xt = mg.tensor(x, device=device, requires_grad=True)
    st = None if state is None else tuple(mg.tensor(s, device=device, requires_grad=True) for s in state)
    out = mine(xt, None if st is None else (st[0] if len(st) == 1 else st), **kwargs)
    flat = _flatten(out)
    weights = loss_weights([tuple(y.shape) for y in flat], 0)
    loss = None
    for y, r in zip(flat, weights):
        term = (y * mg.tensor(r, device=device)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    inputs = [xt] + list(st or ())
    return ([y.numpy() for y in flat], [t.grad.numpy() for t in inputs],
            {n: p.grad.numpy() for n, p in mine.named_parameters()})


def _flatten(out) -> list:
    if isinstance(out, (tuple, list)):
        return [y for part in out for y in _flatten(part)]
    return [out]


def assert_same_run(mine_run, ref_run, tol: float = TOL) -> None:
    """Outputs, input/state gradients and every parameter gradient agree within ``tol``."""
    (outs, grads, params), (r_outs, r_grads, r_params) = mine_run, ref_run
    assert len(outs) == len(r_outs)
    for k, (a, b) in enumerate(zip(outs, r_outs)):
        assert a.shape == b.shape, f"output {k}: shape {a.shape} vs {b.shape}"
        np.testing.assert_allclose(a, b, rtol=0, atol=tol, err_msg=f"output {k}")
    for k, (a, b) in enumerate(zip(grads, r_grads)):
        np.testing.assert_allclose(a, b, rtol=0, atol=tol, err_msg=f"gradient of input {k}")
    assert list(params) == list(r_params)
    for name in r_params:
        np.testing.assert_allclose(params[name], r_params[name], rtol=0, atol=tol,
                                   err_msg=f"gradient of {name}")


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))
