"""What ``Tensor.data`` gives on NumPy: the tensor's own array, which also answers PyTorch's
in-place methods.

PyTorch scripts change a parameter through ``.data``, behind autograd's back:
``p.data.add_(p.grad, alpha=-lr)``, ``w.data.uniform_(-r, r)``, ``b.data.zero_()``. Here
``.data`` is the array an op computes on, handed out as a :class:`DataArray`, a view of that
array: NumPy code sees an ndarray (every result of arithmetic on it is a plain ndarray), and the
methods below write into the tensor's memory. Like PyTorch's, they are not recorded: a graph
that saved this array for its backward pass sees the new values, so call them between steps.

On CuPy ``.data`` is the plain CuPy array (see docs/pytorch.md).
"""
from __future__ import annotations

from . import backend

_ndarray = backend.numpy.ndarray


def data_view(array):
    """``array`` as a DataArray (a view: the same memory), or as it is if not a NumPy array."""
    return array.view(DataArray) if type(array) is _ndarray else array


def plain(array):
    """A DataArray as the plain ndarray it views; anything else as it is."""
    return array.view(_ndarray) if isinstance(array, DataArray) else array


def is_view_of(value, array) -> bool:
    """Whether ``value`` is a DataArray over exactly ``array``'s memory (data, shape, strides)."""
    return (isinstance(value, DataArray) and type(array) is _ndarray
            and plain(value).__array_interface__ == array.__array_interface__)


class DataArray(_ndarray):
    """A NumPy array with PyTorch's in-place methods: ``x.add_(y, alpha=a)`` is ``x += a * y``.
    A Tensor operand is read as its array; each method returns the array itself."""

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        # Compute on plain views, so that arithmetic never makes a DataArray (a view, copy or
        # reshape of one is still one, as for any ndarray subclass). With out=, the out arrays
        # are returned, as NumPy does: d += 1 keeps d a DataArray.
        if out is not None:
            kwargs["out"] = tuple(plain(x) for x in out)
        result = getattr(ufunc, method)(*(plain(x) for x in inputs), **kwargs)
        return result if out is None else out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        return repr(plain(self))

    def __str__(self) -> str:
        return str(plain(self))

    def add_(self, other, alpha=1):
        return self._apply("add_", backend.numpy.add, _scaled(other, alpha))

    def sub_(self, other, alpha=1):
        return self._apply("sub_", backend.numpy.subtract, _scaled(other, alpha))

    def mul_(self, other):
        return self._apply("mul_", backend.numpy.multiply, _array(other))

    def div_(self, other):
        return self._apply("div_", backend.numpy.true_divide, _array(other))

    def _apply(self, name: str, ufunc, other):
        """self = ufunc(self, other), written into self's memory."""
        self._check(name, other)
        ufunc(plain(self), other, out=plain(self))
        return self

    def _check(self, name: str, *operands) -> None:
        """Each operand must give a result this dtype can hold, and fit this shape."""
        for other in operands:
            result = backend.numpy.result_type(self, other)
            if not backend.numpy.can_cast(result, self.dtype, casting="same_kind"):
                raise TypeError(f".data.{name}: a {result} result cannot be stored in place in "
                                f"a {self.dtype} array")
            self._check_shape(name, other)

    def _check_shape(self, name: str, other) -> None:
        shape = backend.numpy.shape(other)
        try:
            fits = backend.numpy.broadcast_shapes(shape, self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f".data.{name}: an operand of shape {shape} does not broadcast to "
                             f"the array's shape {self.shape}")

    def clamp_(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError(".data.clamp_: give min, max or both")
        low, high = _array(min), _array(max)
        self._check("clamp_", *(b for b in (low, high) if b is not None))
        backend.numpy.clip(plain(self), low, high, out=plain(self))
        return self

    clip_ = clamp_

    def fill_(self, value):
        """Every element becomes ``value``, a number (or a 0-d tensor or array)."""
        if backend.numpy.ndim(_array(value)) != 0:
            raise TypeError(f".data.fill_: takes a number, got an array of shape "
                            f"{backend.numpy.shape(_array(value))} (use copy_)")
        return self.copy_(value)

    def zero_(self):
        return self.copy_(0)

    def copy_(self, src):
        """Take ``src``'s values (broadcast to this shape, cast to this dtype)."""
        src = _array(src)
        self._check_shape("copy_", src)
        plain(self)[...] = src
        return self

    def uniform_(self, a=0.0, b=1.0):
        """Draw every value from U(a, b) with minigrad's generator (``manual_seed``)."""
        return self.copy_(backend.random_uniform(a, b, self.shape, self.dtype, "cpu"))

    def normal_(self, mean=0.0, std=1.0):
        """Draw every value from N(mean, std²) with minigrad's generator."""
        return self.copy_(backend.random_normal(mean, std, self.shape, self.dtype, "cpu"))


def _scaled(value, alpha):
    """alpha * value, value read as an array (PyTorch's ``alpha=`` of add_ and sub_)."""
    return _array(value) * alpha if alpha != 1 else _array(value)


def _array(value):
    """A Tensor's array, a DataArray's plain view, or the value as it is."""
    from .tensor import Tensor  # (tensor.py imports this module)
    return value._data if isinstance(value, Tensor) else plain(value)
