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
    """z = a ** b;  dz/da = b a^(b-1), dz/db = a^b log a

    As in PyTorch: dz/da is 0 wherever b == 0 (x ** 0 = 1 is a constant, even at a == 0 or
    where the incoming gradient is inf), dz/db is 0 where a == 0 and b >= 0 (the limit of
    a^b log a), and a ** 0.5 and a ** -0.5 are sqrt(a) and 1 / sqrt(a): NaN at -inf, where C's
    pow, which NumPy uses for a 0-d value, gives inf and 0."""

    broadcasts = True
    saves_inputs = True
    saves_output = True

    def forward(self, a, b):
        if type(b) is float and b in (0.5, -0.5):
            root = backend.get_array_module(a).sqrt(a)
            return root if b > 0 else 1 / root
        return a ** b

    def backward(self, grad):
        a, b = self.inputs()
        base, exponent = unwrap(a), unwrap(b)  # plain values, for the masks
        grad_a = grad_b = None
        if self.needs_grad(0):
            if isinstance(exponent, (int, float)):  # x ** 2: the common case
                # (Pow.apply, not **, which on plain arrays would skip forward's -0.5 case)
                d_a = grad * b * Pow.apply(a, b - 1) if exponent != 0 else where(False, grad, 0.0)
            else:
                zero = exponent == 0  # (b - 1 replaced there, so that 0 ** -1 is not computed)
                d_a = where(zero, 0.0, grad * b * a ** where(zero, 1.0, b - 1))
            grad_a = sum_to_shape(d_a, _shape(a))
        if self.needs_grad(1):
            limit = (base == 0) & (exponent >= 0)
            if not self.needs_grad(0) and isinstance(base, (int, float)):  # a constant number
                # (not a 0-d tensor's value, which NumPy may hand over as a float64 scalar: its
                # log must stay in the graph)
                log_a = (math.log(base) if base > 0 else math.nan if base < 0
                         else where(limit, 0.0, -math.inf))  # (so that 0 * -inf is never formed)
            else:
                log_a = Log.apply(where(limit, 1.0, a))
            grad_b = sum_to_shape(grad * where(limit, 0.0, self.output() * log_a), _shape(b))
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
    """z = |x|;  dz/dx = sign(x), taken as 0 at 0 and at NaN (as PyTorch)"""

    saves_inputs = True

    def forward(self, x):
        return backend.get_array_module(x).abs(x)

    def backward(self, grad):
        x = unwrap(self.inputs()[0])
        return grad * ((x > 0).astype(x.dtype) - (x < 0).astype(x.dtype))


class Tanh(Function):
    """z = tanh(x);  dz/dx = 1 - z^2"""

    saves_output = True

    def forward(self, x):
        return backend.get_array_module(x).tanh(x)

    def backward(self, grad):
        z = self.output()
        return grad * (1 - z * z)


class Sigmoid(Function):
    """z = 1 / (1 + e^-x);  dz/dx = z (1 - z)

    Full relative precision on both sides: for x << 0, e^-x is large and 1 / (1 + e^-x) stays
    accurate (the tanh form (1 + tanh(x/2)) / 2 returns 0 from x = -20 in float32). Below
    x = -88.7 (float32; -709.8 in float64, -11.1 in float16) e^-x overflows to inf and z to 0,
    as PyTorch's float32 and float64 do: the true value is subnormal there. That overflow is
    expected, so it is not reported as a warning."""

    saves_output = True

    def forward(self, x):
        with backend.warnings_off("over"):
            return 1 / (1 + backend.get_array_module(x).exp(-x))

    def backward(self, grad):
        z = self.output()
        return grad * z * (1 - z)


class Relu(Function):
    """z = max(x, 0);  dz/dx = 1 where x > 0, else 0 (and 1 at NaN, as PyTorch)

    The gradient is selected, not multiplied by a 0/1 mask: inf * 0 would be NaN where x < 0."""

    saves_output = True

    def forward(self, x):
        return backend.get_array_module(x).maximum(0, x)  # (0, x): relu(-0.) is -0., see _Select

    def backward(self, grad):
        return where(unwrap(self.output()) <= 0, 0.0, grad)


class Clip(Function):
    """z = min(max(x, low), high);  dz/dx = 1 inside [low, high], else 0 (selected, as in Relu)"""

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
        inside = True
        if self.low is not None:
            inside = inside & (x >= self.low)
        if self.high is not None:
            inside = inside & (x <= self.high)
        return where(inside, grad, 0.0)


class _Select(Function):
    """Shared by Maximum and Minimum: the gradient goes to the chosen input, split evenly on
    ties; where either input is NaN (so is z) both get it whole, as in PyTorch. Selected, not
    multiplied by a 0/1 mask, so the input not chosen gets 0 even where the gradient is inf.

    On a tie NumPy's maximum returns its second argument and PyTorch's its first; that shows only
    for -0. and 0. (whose reciprocals are -inf and inf), so forward passes (b, a) to NumPy."""

    saves_inputs = True
    broadcasts = True

    def backward(self, grad):
        a, b = map(unwrap, self.inputs())
        shared = where(a == b, grad * 0.5, grad)
        return (sum_to_shape(where(self.loses(a, b), 0.0, shared), _shape(a))
                if self.needs_grad(0) else None,
                sum_to_shape(where(self.loses(b, a), 0.0, shared), _shape(b))
                if self.needs_grad(1) else None)


class Maximum(_Select):
    """z = max(a, b) elementwise"""

    def forward(self, a, b):
        return backend.get_array_module(a).maximum(b, a)

    @staticmethod
    def loses(a, b):
        return a < b


class Minimum(_Select):
    """z = min(a, b) elementwise"""

    def forward(self, a, b):
        return backend.get_array_module(a).minimum(b, a)

    @staticmethod
    def loses(a, b):
        return a > b


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
        out = Where.apply(a, b, cond=cond._data)
        return out if isinstance(out, Tensor) else Tensor._make(out)
    return Where.apply(a, b, cond=cond)

