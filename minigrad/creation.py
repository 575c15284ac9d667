"""Functions that make new leaf tensors: constants, ranges and random draws.

Random draws come from minigrad's one generator (seed it with ``minigrad.manual_seed``); they
are drawn on the CPU and then moved, so a seed gives the same numbers on every device.
"""
from __future__ import annotations

from . import backend
from .ops.axes import is_integer
from .tensor import Tensor


def _shape(shape) -> tuple:
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def _leaf(data, requires_grad: bool) -> Tensor:
    t = Tensor._make(data)
    return t.requires_grad_(True) if requires_grad else t


def _dtype(dtype):
    return backend.as_dtype(dtype) or backend.DEFAULT_FLOAT


def zeros(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    xp = backend.array_module(backend.check_device(device))
    return _leaf(xp.zeros(_shape(shape), dtype=_dtype(dtype)), requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    xp = backend.array_module(backend.check_device(device))
    return _leaf(xp.ones(_shape(shape), dtype=_dtype(dtype)), requires_grad)


def full(shape, value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Every element ``value``; the dtype, unless given, follows the value as in PyTorch: bool for
    a bool, int64 for an int, float32 (the default float) otherwise."""
    if dtype is None and isinstance(value, (bool, backend.numpy.bool_)):
        dtype = backend.bool_
    elif dtype is None and is_integer(value):
        dtype = backend.int64
    xp = backend.array_module(backend.check_device(device))
    return _leaf(xp.full(_shape((shape,)), value, dtype=_dtype(dtype)), requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype=None, device=None) -> Tensor:
    if stop is None:
        start, stop = 0, start
    if step == 0:  # (NumPy raises ZeroDivisionError)
        raise ValueError(f"arange: step must be nonzero, got arange({start}, {stop}, {step})")
    xp = backend.array_module(backend.check_device(device))
    data = xp.arange(start, stop, step)
    if dtype is not None:
        data = data.astype(backend.as_dtype(dtype))
    elif backend.is_floating(data.dtype):
        data = data.astype(backend.DEFAULT_FLOAT)
    return Tensor._make(data)


def rand(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1)."""
    return uniform(0.0, 1.0, _shape(shape), dtype, device, requires_grad)


def uniform(low, high, shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform on [low, high)."""
    device = backend.check_device(device)
    return _leaf(backend.random_uniform(low, high, _shape((shape,)), _dtype(dtype), device), requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal."""
    device = backend.check_device(device)
    return _leaf(backend.random_normal(0.0, 1.0, _shape(shape), _dtype(dtype), device), requires_grad)
