"""nn.init: in place, seeded by minigrad.manual_seed, right bounds/variances, PyTorch's gains."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import minigrad
import nn
from nn import init

SHAPE = (60, 40)
FAN_IN, FAN_OUT = 40, 60

DRAWS = {
    "uniform_": lambda t: init.uniform_(t, -2.0, 3.0),
    "normal_": lambda t: init.normal_(t, 1.0, 0.5),
    "xavier_uniform_": lambda t: init.xavier_uniform_(t, gain=2.0),
    "xavier_normal_": lambda t: init.xavier_normal_(t),
    "kaiming_uniform_": lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)),
    "orthogonal_": lambda t: init.orthogonal_(t, gain=0.5),
}


def _param(shape=SHAPE, dtype=np.float64):
    return nn.Parameter(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_fills_in_place_reproducibly(name):
    p = _param()
    array = p._data
    minigrad.manual_seed(11)
    assert DRAWS[name](p) is p
    assert p._data is array and p.dtype == minigrad.float64 and p.requires_grad
    first = array.copy()
    assert np.unique(first).size > 100
    minigrad.manual_seed(11)
    DRAWS[name](p)
    np.testing.assert_array_equal(p.numpy(), first)
    DRAWS[name](p)
    assert not np.array_equal(p.numpy(), first)


def test_uniform_and_normal_statistics():
    minigrad.manual_seed(0)
    u = init.uniform_(_param(), -2.0, 3.0).numpy()
    assert u.min() >= -2.0 and u.max() < 3.0 and abs(u.mean() - 0.5) < 0.1
    n = init.normal_(_param(), 1.0, 0.5).numpy()
    assert abs(n.mean() - 1.0) < 0.03 and abs(n.std() - 0.5) < 0.03


def test_xavier_bounds_and_std():
    minigrad.manual_seed(0)
    bound = 2.0 * math.sqrt(6.0 / (FAN_IN + FAN_OUT))
    u = init.xavier_uniform_(_param(), gain=2.0).numpy()
    assert np.abs(u).max() <= bound and np.abs(u).max() > 0.95 * bound
    n = init.glorot_normal_(_param()).numpy()
    assert abs(n.std() - math.sqrt(2.0 / (FAN_IN + FAN_OUT))) < 0.05 * n.std()


def test_kaiming_uniform_matches_pytorch_linear_bound():
    minigrad.manual_seed(0)
    w = init.kaiming_uniform_(_param(), a=math.sqrt(5)).numpy()
    bound = 1.0 / math.sqrt(FAN_IN)  # what PyTorch's Linear uses
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound


@pytest.mark.parametrize("shape", [(60, 40), (40, 60), (12, 3, 4)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    minigrad.manual_seed(0)
    w = init.orthogonal_(_param(shape), gain=0.5).numpy().reshape(shape[0], -1) / 0.5
    small = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
    np.testing.assert_allclose(small, np.eye(small.shape[0]), atol=1e-12)


def test_orthogonal_float32():
    minigrad.manual_seed(0)
    w = init.orthogonal_(_param((8, 8), np.float32)).numpy()
    assert w.dtype == np.float32
    np.testing.assert_allclose(w @ w.T, np.eye(8), atol=1e-5)


def test_constants():
    p = _param((3, 2))
    np.testing.assert_array_equal(init.ones_(p).numpy(), np.ones((3, 2)))
    np.testing.assert_array_equal(init.constant_(p, 2.5).numpy(), np.full((3, 2), 2.5))
    np.testing.assert_array_equal(init.zeros_(p).numpy(), np.zeros((3, 2)))


def test_fan_based_inits_need_two_dimensions():
    for fn in (init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.orthogonal_):
        with pytest.raises(ValueError, match=r"shape \(5,\)"):
            fn(_param((5,)))


@pytest.mark.parametrize("nonlinearity, param", [("linear", None), ("sigmoid", None), ("tanh", None),
                                                 ("relu", None), ("leaky_relu", None),
                                                 ("leaky_relu", 0.2), ("leaky_relu", 0),
                                                 ("selu", None), ("conv2d", None),
                                                 ("conv_transpose1d", None)])
def test_calculate_gain_matches_pytorch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        torch.nn.init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="negative_slope True is not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_init_on_device(device):
    p = nn.Parameter(minigrad.zeros(4, 4, device=device))
    init.orthogonal_(p)
    init.xavier_uniform_(p)
    assert p.device == device
