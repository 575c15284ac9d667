"""Reductions over an axis (int or tuple) or over everything, with ``keepdims``."""
from __future__ import annotations

import math

from .. import backend
from ..function import Function
from ..tensor import unwrap
from .axes import normalize_axes
from .shape import BroadcastTo


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    """The shape with the reduced axes kept as size 1 (what the gradient broadcasts from)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """z = sum_i x_i over the axes;  dz/dx_i = 1 (the gradient is broadcast back)"""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axes(axis, x.ndim, "sum")
        self.in_shape = x.shape
        return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, grad):
        return BroadcastTo.apply(grad.reshape(_kept_shape(self.in_shape, self.axes)),
                                 shape=self.in_shape)


class Mean(Function):
    """z = (1/n) sum_i x_i;  dz/dx_i = 1/n

    The mean of n = 0 elements is NaN, as in PyTorch (without NumPy's warning); its input is
    empty, and so is the gradient."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axes(axis, x.ndim, "mean")
        self.in_shape = x.shape
        self.count = 1
        for a in self.axes:
            self.count *= x.shape[a]
        if self.count == 0:
            return x.sum(axis=self.axes, keepdims=keepdims) * math.nan
        return x.mean(axis=self.axes, keepdims=keepdims)

    def backward(self, grad):
        grad = grad.reshape(_kept_shape(self.in_shape, self.axes)) / max(self.count, 1)
        return BroadcastTo.apply(grad, shape=self.in_shape)


class _Extreme(Function):
    """Shared by Max and Min: the gradient goes to the extreme element, split evenly among ties
    (PyTorch's ``amax``/``amin``)."""

    saves_inputs = True
    saves_output = True

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axes(axis, x.ndim, self.name.lower())
        if any(x.shape[a] == 0 for a in self.axes):  # (other axes may be empty: (0, 5) -> (0,))
            raise ValueError(f"{self.name.lower()}: cannot reduce an empty axis: axes "
                             f"{self.axes} of a tensor of shape {x.shape}")
        return self.reduce(x, axis=self.axes, keepdims=keepdims)

    def backward(self, grad):
        x, z = unwrap(self.inputs()[0]), unwrap(self.output())
        kept = _kept_shape(x.shape, self.axes)
        hit = backend.mask(x == z.reshape(kept), like=x)  # 1 at the extremes, 0 elsewhere
        return grad.reshape(kept) * (hit / hit.sum(axis=self.axes, keepdims=True))


class Max(_Extreme):
    """z = max_i x_i"""

    @staticmethod
    def reduce(x, **kw):
        return x.max(**kw)


class Min(_Extreme):
    """z = min_i x_i"""

    @staticmethod
    def reduce(x, **kw):
        return x.min(**kw)
