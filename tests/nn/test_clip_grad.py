"""Gradient clipping against PyTorch; the clipped gradient is a new tensor, the old one unchanged."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import minigrad
import nn
from nn.utils import clip_grad_norm_, clip_grad_value_

SHAPES = [(3, 4), (5,), (2, 3)]


def _params(scale, seed=0):
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(s) * scale for s in SHAPES]
    ours = [nn.Parameter(np.zeros(s)) for s in SHAPES]
    theirs = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES]
    for p, tp, g in zip(ours, theirs, grads):
        p.grad = minigrad.tensor(g)
        tp.grad = torch.tensor(g)
    return ours, theirs, grads


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, 0.0, -math.inf, -1.0, "inf"])
@pytest.mark.parametrize("scale", [0.01, 10.0])  # below and above max_norm
def test_clip_grad_norm_matches_torch(norm_type, scale):
    ours, theirs, grads = _params(scale)
    old = [p.grad for p in ours]
    total = clip_grad_norm_(ours, max_norm=1.5, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.5, norm_type=norm_type)
    assert isinstance(total, minigrad.Tensor) and total.shape == ()
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-13)
    for p, tp, g, o in zip(ours, theirs, grads, old):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-13)
        np.testing.assert_array_equal(o.numpy(), g)  # the previous gradient is untouched
        assert p.grad is not o


def test_clip_grad_norm_handles_shared_gradients_and_missing_grads():
    shared = minigrad.tensor(np.array([3.0, 4.0]))
    p, q, r = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(2))
    p.grad = q.grad = shared
    total = clip_grad_norm_(iter([p, q, r]), max_norm=1.0)
    np.testing.assert_allclose(total.item(), math.sqrt(50.0))
    np.testing.assert_array_equal(shared.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(p.grad.numpy(), np.array([3.0, 4.0]) / (math.sqrt(50.0) + 1e-6))
    assert r.grad is None
    assert clip_grad_norm_([r], 1.0).item() == 0.0


def test_clip_grad_norm_single_tensor_and_nonfinite():
    p = nn.Parameter(np.zeros(2))
    p.grad = minigrad.tensor(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match="inf"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_a_nan_gradient_makes_every_gradient_nan_like_torch(norm_type):
    ours, theirs, grads = _params(1.0)
    grads[-1][0] = np.nan  # in the last gradient: Python's max() skipped a NaN after a number
    ours[-1].grad, theirs[-1].grad = minigrad.tensor(grads[-1]), torch.tensor(grads[-1])
    total = clip_grad_norm_(ours, 1.0, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
    assert math.isnan(total.item()) and math.isnan(ttotal.item())
    for p, tp in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())  # all NaN


def test_clip_grad_value_matches_torch():
    ours, theirs, grads = _params(2.0)
    old = [p.grad for p in ours]
    assert clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, tp, g, o in zip(ours, theirs, grads, old):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
        np.testing.assert_array_equal(o.numpy(), g)


def test_clipped_gradients_stay_on_their_device(device):
    p = nn.Parameter(minigrad.zeros(3, device=device))
    p.grad = minigrad.ones(3, device=device) * 10.0
    clip_grad_norm_([p], 1.0)
    assert p.grad.device == device
    clip_grad_value_([p], 0.1)
    assert p.grad.device == device
