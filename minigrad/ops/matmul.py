"""Matrix products: `@` with NumPy's rules for vectors and batches, and `addmm` (c + a @ b)."""
from __future__ import annotations

import math

from ..function import Function
from .elementwise import sum_to_shape


class MatMul(Function):
    """z = a @ b;  dL/da = g @ b^T, dL/db = a^T @ g

    A 1-d ``a`` acts as a row (1, k), a 1-d ``b`` as a column (k, 1); leading (batch) axes
    broadcast, and their gradients are summed back to each input's shape."""

    saves_inputs = True

    def forward(self, a, b):
        return product("matmul", a, b)

    def backward(self, grad):
        a, b = self.inputs()
        if a.ndim == 2 and b.ndim == 2:  # two matrices, the common case: nothing to reshape
            return matrix_grads(grad, a, b, self.needs_grad(0), self.needs_grad(1))
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        g2 = grad
        if b.ndim == 1:
            g2 = g2.reshape(g2.shape + (1,))
        if a.ndim == 1:
            g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:])
        grad_a = grad_b = None
        if self.needs_grad(0):
            grad_a = sum_to_shape(g2 @ _swap_last(b2), a2.shape).reshape(a.shape)
        if self.needs_grad(1):
            if b2.ndim == 2 and a2.ndim > 2:
                # a batch times one matrix: fold the batch into the rows, one matmul, no
                # (batch, k, m) intermediate to sum over
                # (rows counted, not -1: with an empty axis, -1 is ambiguous)
                rows = math.prod(a2.shape[:-1])
                a2, g2 = a2.reshape(rows, a2.shape[-1]), g2.reshape(rows, g2.shape[-1])
            grad_b = sum_to_shape(_swap_last(a2) @ g2, b2.shape).reshape(b.shape)
        return grad_a, grad_b


def matrix_grads(grad, a, b, want_a: bool, want_b: bool) -> tuple:
    """dL/da = g @ b^T and dL/db = a^T @ g for z = a @ b with matrices a and b (None if unwanted)."""
    return (grad @ b.T if want_a else None, a.T @ grad if want_b else None)


def product(op: str, a, b):
    """``a @ b``, after the checks that make a bad pair an error naming ``op`` and the shapes."""
    try:
        scalar = a.ndim == 0 or b.ndim == 0
    except AttributeError:  # a list or a number: no ndim
        other = b if hasattr(a, "ndim") else a
        raise TypeError(f"{op}: both operands must be tensors (or arrays), got a "
                        f"{type(other).__name__}") from None
    if scalar:
        raise ValueError(f"{op}: both operands need at least 1 dimension, got shapes {a.shape} "
                         f"and {b.shape}")
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != inner_b:
        raise ValueError(f"{op}: inner dimensions differ: {a.shape} @ {b.shape} "
                         f"({a.shape[-1]} != {inner_b})")
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: dtypes differ: {a.dtype} {a.shape} @ {b.dtype} {b.shape}")
    return a @ b


class AddMM(Function):
    """z = c + a @ b for matrices a (n, k), b (k, m) and c broadcast to (n, m) (PyTorch's
    ``addmm``);  dL/dc = g summed back to c's shape, dL/da = g @ b^T, dL/db = a^T @ g

    One node where ``c + a @ b`` makes two, and the sum is written into the product's own memory
    instead of a third array: the recurrent cells' x_t W_ih^T + h_{t-1} W_hh^T, every step.
    As in PyTorch, c must have the product's dtype (a Python number is fine): no promotion."""

    saves_inputs = (1, 2)  # a and b; c would keep x W_ih^T of every step alive until backward

    def forward(self, c, a, b):
        if a.ndim != 2 or b.ndim != 2:
            raise ValueError(f"addmm: a and b must be matrices, got shapes {a.shape} and {b.shape}")
        out = product("addmm", a, b)
        if getattr(c, "dtype", out.dtype) != out.dtype:
            raise TypeError(f"addmm: dtypes differ: c is {c.dtype} {c.shape}, a @ b is "
                            f"{out.dtype} {out.shape}")
        self.shape_c = getattr(c, "shape", ())
        try:
            out += c
        except ValueError:  # NumPy's message speaks of an "output operand"
            raise ValueError(f"addmm: c of shape {self.shape_c} does not broadcast to the shape of "
                             f"a @ b, {out.shape}") from None
        return out

    def backward(self, grad):
        _, a, b = self.inputs()
        return (sum_to_shape(grad, self.shape_c) if self.needs_grad(0) else None,
                *matrix_grads(grad, a, b, self.needs_grad(1), self.needs_grad(2)))


def _swap_last(x):
    """x with its last two axes swapped (a matrix transposed, or each matrix of a batch)."""
    return x.T if x.ndim == 2 else x.swapaxes(-1, -2)
