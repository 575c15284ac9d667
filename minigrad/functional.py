"""Composite functions: built from primitive ops, so their gradients need no code of their own.

Each subtracts the maximum m (treated as a constant) before exponentiating, so inputs of ±1e4
neither overflow nor warn; m cancels out of the value, hence out of the gradient. Working with
the shifted z = x - m also keeps float32 results accurate: log_softmax is z - log sum exp(z),
never x - logsumexp(x), whose two large terms would cancel.
"""
from __future__ import annotations

from .ops.axes import is_integer, normalize_axes
from .ops.elementwise import where
from .tensor import Tensor


def _one_axis(axis, ndim: int, op: str) -> tuple:
    """One axis, as a tuple (empty for a 0-d tensor, whose axis 0 or -1 names no axis)."""
    if not is_integer(axis):
        raise TypeError(f"{op}: axis must be one int, got {axis!r}")
    return normalize_axes(axis, ndim, op)


def _shifted(x: Tensor, axis) -> Tensor:
    """z = x - max(x) over ``axis`` (the max held constant), so every exp(z) <= 1."""
    return x - x.detach().amax(axis=axis, keepdims=True)


def _empty_along(x: Tensor, axis: tuple) -> bool:
    """Whether ``axis`` has length 0: then (log) softmax has no element, and no max to shift by;
    its result is empty too, as in PyTorch."""
    return any(x.shape[a] == 0 for a in axis)


def logsumexp(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """log sum_i exp(x_i) = m + log sum_i exp(x_i - m), with m = max_i x_i.

    Where m is infinite (all x_i = -inf, or some x_i = +inf) the shift is 0 instead, as
    x_i - m would be inf - inf = NaN; an empty axis sums to 0, whose log is -inf."""
    axes = normalize_axes(axis, x.ndim, "logsumexp")
    if _empty_along(x, axes):  # log 0 = -inf, without log's divide-by-zero warning
        out = x.sum(axis=axes, keepdims=True) - float("inf")
    else:
        m = x.detach().amax(axis=axes, keepdims=True)
        m = where(m.abs() < float("inf"), m, 0.0)
        out = (x - m).exp().sum(axis=axes, keepdims=True).log() + m
    return out if keepdims else out.squeeze(axes)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log softmax(x)_i = x_i - logsumexp(x) = z_i - log sum_j exp(z_j), with z = x - max(x)."""
    axis = _one_axis(axis, x.ndim, "log_softmax")
    if _empty_along(x, axis):
        return x + 0.0
    z = _shifted(x, axis)
    return z - z.exp().sum(axis=axis, keepdims=True).log()


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) = exp(z_i) / sum_j exp(z_j), with z = x - max(x)."""
    axis = _one_axis(axis, x.ndim, "softmax")
    if _empty_along(x, axis):
        return x + 0.0
    e = _shifted(x, axis).exp()
    return e / e.sum(axis=axis, keepdims=True)
