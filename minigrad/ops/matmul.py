"""Matrix product, with NumPy's rules for vectors and batches."""
from __future__ import annotations

from ..function import Function
from .elementwise import sum_to_shape


class MatMul(Function):
    """z = a @ b;  dL/da = g @ b^T, dL/db = a^T @ g

    A 1-d ``a`` acts as a row (1, k), a 1-d ``b`` as a column (k, 1); leading (batch) axes
    broadcast, and their gradients are summed back to each input's shape."""

    saves_inputs = True

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape} "
                             f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
        if a.dtype != b.dtype:
            raise TypeError(f"matmul: dtypes differ: {a.dtype} {a.shape} @ {b.dtype} {b.shape}")
        return a @ b

    def backward(self, grad):
        a, b = self.inputs
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = g2.expand_dims(-2)
        if b.ndim == 1:
            g2 = g2.expand_dims(-1)
        grad_a = grad_b = None
        if self.needs_grad(0):
            grad_a = sum_to_shape(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if self.needs_grad(1):
            grad_b = sum_to_shape(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
        return grad_a, grad_b
