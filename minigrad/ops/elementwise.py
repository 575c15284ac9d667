"""Elementwise ops. Binary ones broadcast as NumPy does; their backward sums each gradient back
to its input's shape with :func:`sum_to_shape`, the one place where broadcasting is undone.

Backward formulas see arrays or Tensors (``minigrad/function.py``) and read the same either way."""
from __future__ import annotations

import math

from .. import backend
from ..function import Function
from ..tensor import Tensor, unwrap


def sum_to_shape(grad, shape: tuple):
    """Undo broadcasting: sum ``grad`` over the axes that broadcasting added or stretched."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    return grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad.reshape(shape)


def _shape(x) -> tuple:
    """The shape of an operand (Tensor, array or Python scalar)."""
    return getattr(x, "shape", ())


class Add(Function):
    """z = a + b;  dz/da = dz/db = 1  (keeps only the input shapes, not the inputs)"""

    broadcasts = True

    def forward(self, a, b):
        self.shape_a, self.shape_b = _shape(a), _shape(b)
        return a + b

    def backward(self, grad):
        return (sum_to_shape(grad, self.shape_a) if self.needs_grad(0) else None,
                sum_to_shape(grad, self.shape_b) if self.needs_grad(1) else None)


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1  (keeps only the input shapes)"""

    broadcasts = True

    def forward(self, a, b):
        self.shape_a, self.shape_b = _shape(a), _shape(b)
        return a - b

    def backward(self, grad):
        return (sum_to_shape(grad, self.shape_a) if self.needs_grad(0) else None,
                sum_to_shape(-grad, self.shape_b) if self.needs_grad(1) else None)


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a"""

    broadcasts = True
    saves_inputs = True

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs()
        return (sum_to_shape(grad * b, _shape(a)) if self.needs_grad(0) else None,
                sum_to_shape(grad * a, _shape(b)) if self.needs_grad(1) else None)


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b^2"""

    broadcasts = True
    saves_inputs = True

    def forward(self, a, b):
        return a / b

    def backward(self, grad):
        a, b = self.inputs()
        grad_a = grad / b
        return (sum_to_shape(grad_a, _shape(a)) if self.needs_grad(0) else None,
                sum_to_shape(-grad_a * a / b, _shape(b)) if self.needs_grad(1) else None)


class Pow(Function):
    """z = a ** b;  dz/da = b a^(b-1), dz/db = a^b log a"""

    broadcasts = True
    saves_inputs = True
    saves_output = True

    def forward(self, a, b):
        return a ** b

    def backward(self, grad):
        a, b = self.inputs()
        grad_a = grad_b = None
        if self.needs_grad(0):
            exponent = unwrap(b)  # plain values, for the mask
            if isinstance(exponent, (int, float)) and exponent != 0:  # x ** 2: the common case
                d_a = grad * b * a ** (b - 1)
            elif isinstance(exponent, (int, float)):  # x ** 0 = 1, a constant
                d_a = grad * 0.0
            else:  # 0 where b == 0, even at a == 0 (not 0 * 0^-1 = NaN), as PyTorch does
                zero = exponent == 0
                d_a = where(zero, 0.0, grad * b * a ** where(zero, 1.0, b - 1))
            grad_a = sum_to_shape(d_a, _shape(a))
        if self.needs_grad(1):
            # a^b log a, taken as 0 where a == 0 (the limit as b > 0), as PyTorch does
            base = unwrap(a)  # plain values, for the mask
            if isinstance(base, (int, float)):  # a Python number: its log stays a weak scalar
                safe_log = math.log(base) if base > 0 else 0.0 if base == 0 else math.nan
            else:
                safe_log = Log.apply(where(base == 0, 1.0, a))
            grad_b = sum_to_shape(grad * self.output() * safe_log, _shape(b))
        return grad_a, grad_b


class Neg(Function):
    """z = -x"""

    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class Exp(Function):
    """z = e^x;  dz/dx = z"""

    saves_output = True

    def forward(self, x):
        return backend.get_array_module(x).exp(x)

    def backward(self, grad):
        return grad * self.output()


class Log(Function):
    """z = ln x;  dz/dx = 1/x"""

    saves_inputs = True

    def forward(self, x):
        return backend.get_array_module(x).log(x)

    def backward(self, grad):
        return grad / self.inputs()[0]


class Sqrt(Function):
    """z = sqrt(x);  dz/dx = 1 / (2 z)"""

    saves_output = True

    def forward(self, x):
        return backend.get_array_module(x).sqrt(x)

    def backward(self, grad):
        return grad / (2.0 * self.output())


class Abs(Function):
    """z = |x|;  dz/dx = sign(x) (0 at 0, as PyTorch)"""

    saves_inputs = True

    def forward(self, x):
        return backend.get_array_module(x).abs(x)

    def backward(self, grad):
        x = unwrap(self.inputs()[0])
        return grad * backend.get_array_module(x).sign(x)


class Tanh(Function):
    """z = tanh(x);  dz/dx = 1 - z^2"""

    saves_output = True

    def forward(self, x):
        return backend.get_array_module(x).tanh(x)

    def backward(self, grad):
        z = self.output()
        return grad - grad * z * z  # grad (1 - z^2), with no number for NumPy to convert


class Sigmoid(Function):
    """z = 1 / (1 + e^-x) = (1 + tanh(x/2)) / 2;  dz/dx = z (1 - z)

    The tanh form never overflows, for any x."""

    saves_output = True

    def forward(self, x):
        half = backend.scalar(0.5, x)
        return backend.get_array_module(x).tanh(x * half) * half + half

    def backward(self, grad):
        z = self.output()
        return grad * z * (backend.scalar(1.0, unwrap(z)) - z)


class Relu(Function):
    """z = max(x, 0);  dz/dx = 1 where x > 0, else 0 (and 1 at NaN, as PyTorch)"""

    saves_output = True

    def forward(self, x):
        return backend.get_array_module(x).maximum(x, 0)

    def backward(self, grad):
        # z != 0 is z > 0, but true at NaN too, where z > 0 is false; one comparison either way
        z = unwrap(self.output())
        return grad * (z != 0).astype(z.dtype)


class Clip(Function):
    """z = min(max(x, low), high);  dz/dx = 1 inside [low, high], else 0"""

    saves_inputs = True

    def forward(self, x, low=None, high=None):
        if (hasattr(low, "dtype") or hasattr(high, "dtype")) and x.dtype.kind == "f":
            # array bounds take a float x's dtype, as constants do (numbers need nothing)
            low, high = (v.astype(x.dtype) if getattr(v, "dtype", x.dtype) != x.dtype else v
                         for v in (low, high))
        self.low, self.high = low, high
        return backend.get_array_module(x).clip(x, low, high)

    def backward(self, grad):
        x = unwrap(self.inputs()[0])
        inside = backend.get_array_module(x).ones(x.shape, dtype=bool)
        if self.low is not None:
            inside &= x >= self.low
        if self.high is not None:
            inside &= x <= self.high
        return grad * inside.astype(x.dtype)


class _Select(Function):
    """Shared by Maximum and Minimum: the gradient goes to the chosen input (split evenly on ties,
    as PyTorch does)."""

    saves_inputs = True
    broadcasts = True

    def backward(self, grad):
        a, b = map(unwrap, self.inputs())
        xp = backend.get_array_module(unwrap(grad))
        weight_a = xp.where(a == b, 0.5, self.picks_first(a, b)).astype(grad.dtype)
        return (sum_to_shape(grad * weight_a, _shape(a)) if self.needs_grad(0) else None,
                sum_to_shape(grad * (1.0 - weight_a), _shape(b)) if self.needs_grad(1) else None)


class Maximum(_Select):
    """z = max(a, b) elementwise"""

    def forward(self, a, b):
        return backend.get_array_module(a).maximum(a, b)

    @staticmethod
    def picks_first(a, b):
        return a > b


class Minimum(_Select):
    """z = min(a, b) elementwise"""

    def forward(self, a, b):
        return backend.get_array_module(a).minimum(a, b)

    @staticmethod
    def picks_first(a, b):
        return a < b


class Where(Function):
    """z = a where cond else b;  the gradient flows to the chosen side (cond is a constant mask,
    an option rather than an input, so a and b follow the binary ops' dtype rules)"""

    broadcasts = True

    def forward(self, a, b, cond):
        arrays = [v for v in (a, b) if backend.is_array(v)]
        xp = backend.get_array_module(arrays[0] if arrays else cond)
        self.cond = cond = xp.asarray(cond)
        self.shape_a, self.shape_b = _shape(a), _shape(b)
        return xp.where(cond, a, b)

    def backward(self, grad):
        zero = 0.0  # not grad * 0.0: the side not chosen gets 0 even where grad is inf or NaN
        grad_a = sum_to_shape(where(self.cond, grad, zero), self.shape_a) if self.needs_grad(0) else None
        grad_b = sum_to_shape(where(self.cond, zero, grad), self.shape_b) if self.needs_grad(1) else None
        return grad_a, grad_b

    def option_arrays(self) -> tuple:
        return (self.cond,)


def where(cond, a, b):
    """Elementwise ``a if cond else b`` (``cond`` carries no gradient). A Tensor, unless no
    argument is one (plain arrays in a backward formula)."""
    if isinstance(cond, Tensor):
        out = Where.apply(a, b, cond=cond.data)
        return out if isinstance(out, Tensor) else Tensor._make(out)
    return Where.apply(a, b, cond=cond)

