"""Composite functions: built from primitive ops, so their gradients need no code of their own.

Each subtracts the running maximum (treated as a constant) before exponentiating, so inputs of
±1e4 neither overflow nor warn; the maximum cancels out of the value, hence out of the gradient.
"""
from __future__ import annotations

from .tensor import Tensor


def logsumexp(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """log sum_i exp(x_i) = m + log sum_i exp(x_i - m), with m = max_i x_i."""
    m = x.detach().max(axis=axis, keepdims=True)
    out = (x - m).exp().sum(axis=axis, keepdims=True).log() + m
    if keepdims:
        return out
    return out.reshape(()) if axis is None else out.squeeze(axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log softmax(x)_i = x_i - logsumexp(x)."""
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) = exp(x_i - logsumexp(x))."""
    return log_softmax(x, axis).exp()
