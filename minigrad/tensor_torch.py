"""The PyTorch surface of `Tensor`: the methods a PyTorch tutorial calls, kept apart from the
core in ``tensor.py`` so that the core stays short.

Everything here is composed of the core's ops (gather is indexing, repeat is a broadcast, a sort's
values are a gather by the sorted indices), so no method here has a backward of its own. The
in-place methods (``add_``, ``zero_``...) rebind the tensor's array to a new one: an array that a
recorded graph saved is never written into. Like PyTorch, they refuse a leaf that requires grad
unless gradients are off (``with minigrad.no_grad(): p -= lr * p.grad``).

PyTorch's argument names are accepted beside NumPy's by the methods listed in ``TORCH_NAMES``
(``x.sum(dim=1, keepdim=True)``); :func:`accept_torch_names` wraps them once, when tensor.py
has made the class.
"""
from __future__ import annotations

import functools
from collections import namedtuple

from . import backend

# torch.return_types.max and friends: a pair that also reads as .values and .indices
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])

_RENAMED = {"dim": "axis", "keepdim": "keepdims", "start_dim": "start_axis",
            "end_dim": "end_axis"}
TORCH_NAMES = ("sum", "mean", "amax", "amin", "argmax", "argmin", "softmax", "log_softmax",
               "logsumexp", "flatten", "squeeze", "expand_dims", "unsqueeze", "split", "chunk",
               "unbind")

# PyTorch's legacy type names, which x.type() returns
_TYPE_NAMES = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor",
               "float16": "torch.HalfTensor", "int64": "torch.LongTensor",
               "int32": "torch.IntTensor", "bool": "torch.BoolTensor"}


def accept_torch_names(cls) -> None:
    """Let each method in ``TORCH_NAMES`` take ``dim``/``keepdim`` (and ``start_dim``/
    ``end_dim``) as well as ``axis``/``keepdims``."""
    for name in TORCH_NAMES:
        setattr(cls, name, _renaming(getattr(cls, name)))


def _renaming(method):
    @functools.wraps(method)
    def with_torch_names(self, *args, **kwargs):
        if kwargs and not _RENAMED.keys().isdisjoint(kwargs):  # (a PyTorch name was given)
            for torch_name, ours in _RENAMED.items():
                if torch_name in kwargs:
                    if ours in kwargs:
                        raise TypeError(f"{method.__name__}: give {torch_name} or {ours}, not both")
                    kwargs[ours] = kwargs.pop(torch_name)
        return method(self, *args, **kwargs)

    return with_torch_names


def _ops():
    from . import ops  # (ops build Tensors, so they are imported once tensor.py is done)
    return ops


def _dims(args) -> tuple:
    """``f(2, 3)`` or ``f((2, 3))`` as the tuple (2, 3)."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


class TorchSurface:
    """Mixed into `Tensor`: PyTorch's names for facts, conversions, indexing, sorting and
    in-place updates."""

    __slots__ = ()

    # --- facts ---------------------------------------------------------------------------
    def size(self, dim: int | None = None):
        """The shape (``x.size()``), or the length of one axis (``x.size(0)``), as in PyTorch.
        (NumPy's ``size``, the element count, is :meth:`numel`.)"""
        if dim is None:
            return self.shape
        return self.shape[_ops().normalize_axes(dim, self.ndim, "size")[0]]

    def numel(self) -> int:
        """The number of elements."""
        return self._data.size

    def dim(self) -> int:
        """The number of axes (``ndim``)."""
        return self._data.ndim

    def type(self, dtype=None):
        """Without an argument PyTorch's type name (``"torch.FloatTensor"``); with a dtype, a
        copy converted to it (:meth:`to`)."""
        if dtype is None:
            return _TYPE_NAMES.get(str(self.dtype), f"torch.{self.dtype}")
        return self.to(dtype=dtype)

    def long(self):
        return self.to(dtype=backend.int64)

    def int(self):
        return self.to(dtype=backend.int32)

    def bool(self):
        return self.to(dtype=backend.bool_)

    def contiguous(self):
        """Self: a minigrad tensor never needs copying before a reshape."""
        return self

    def new_tensor(self, data):
        """A leaf from ``data`` with this tensor's device and (unless data is a Tensor of its
        own dtype) dtype."""
        return type(self)(data._data if isinstance(data, type(self)) else data,
                          dtype=self.dtype, device=self.device)

    def new_zeros(self, *size):
        return self.new_full(_dims(size), 0)

    def new_ones(self, *size):
        return self.new_full(_dims(size), 1)

    def new_full(self, size, fill_value):
        xp = backend.array_module(self.device)
        return type(self)._make(xp.full(_dims((size,)), fill_value, dtype=self.dtype))

    # --- reductions that also say where -------------------------------------------------
    def amax(self, axis=None, keepdims: bool = False):
        """The largest elements over ``axis`` (an int, a tuple, or all); the gradient is shared
        evenly among ties (PyTorch's ``amax``)."""
        return _ops().Max.apply(self, axis=axis, keepdims=keepdims)

    def amin(self, axis=None, keepdims: bool = False):
        """The smallest elements over ``axis``; see :meth:`amax`."""
        return _ops().Min.apply(self, axis=axis, keepdims=keepdims)

    def max(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """As PyTorch: ``x.max()`` the largest element; ``x.max(dim)`` the pair
        ``(values, indices)`` along that axis (the gradient goes to the element picked);
        ``x.max(other)`` the elementwise :meth:`maximum`. Several axes at once: :meth:`amax`."""
        return self._extreme("max", dim, keepdim, axis, keepdims)

    def min(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """As :meth:`max`, for the smallest."""
        return self._extreme("min", dim, keepdim, axis, keepdims)

    def _extreme(self, op: str, dim, keepdim, axis, keepdims):
        if axis is not None:
            dim = axis
        if keepdims is not None:
            keepdim = keepdims
        if isinstance(dim, type(self)):
            return self.maximum(dim) if op == "max" else self.minimum(dim)
        if dim is None:
            return self.amax() if op == "max" else self.amin()
        if isinstance(dim, (tuple, list)):
            raise TypeError(f"{op}: dim must be one int, got {dim!r}; for the {op}imum over "
                            f"several axes use a{op}(axis={tuple(dim)!r})")
        axis = _ops().normalize_axes(dim, self.ndim, op)
        if axis and self.shape[axis[0]] == 0:
            raise ValueError(f"{op}: cannot reduce an empty axis: axis {dim} of a tensor of "
                             f"shape {self.shape}")
        indices = self.argmax(dim, keepdims=True) if op == "max" else self.argmin(dim, keepdims=True)
        return self._picked(dim, indices, keepdim)

    def _picked(self, dim: int, indices, keepdim: bool):
        """(values, indices): the elements at ``indices`` along ``dim`` (kept as size 1)."""
        values = self.gather(dim, indices)
        if not keepdim and self.ndim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        return ValuesIndices(values, indices)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """(values, indices) sorted along ``dim`` (ties keep their order)."""
        indices = self.argsort(dim, descending)
        return ValuesIndices(self.gather(dim, indices), indices)

    def argsort(self, dim: int = -1, descending: bool = False):
        """The indices that sort ``dim`` (ascending, or descending); int64, no gradient."""
        axis = _ops().normalize_axes(dim, self.ndim, "argsort")
        xp = backend.get_array_module(self._data)
        if not axis:
            return type(self)._make(xp.zeros((), dtype=backend.int64))
        data = self._data
        if descending:  # ascending in -x, stably: equal elements keep their order
            data = ~data if data.dtype == backend.bool_ else -data
        order = backend.stable_argsort(data, axis[0])
        return type(self)._make(order.astype(backend.int64, copy=False))

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        """(values, indices) of the ``k`` largest (or smallest) along ``dim``, largest first."""
        axis = _ops().normalize_axes(dim, self.ndim, "topk")
        length = self.shape[axis[0]] if axis else 1
        if not 0 <= k <= length:
            raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {length} "
                             f"(shape {self.shape})")
        indices = self.argsort(dim, descending=largest)
        if axis:
            indices = indices.narrow(axis[0], 0, k)
        return ValuesIndices(self.gather(dim, indices), indices)

    # --- picking elements -----------------------------------------------------------------
    def gather(self, dim: int, index):
        """out[i][j] = self[i][index[i][j]] (for dim 1; likewise for any dim): ``index`` has
        the result's shape. The gradient adds up at the elements picked."""
        return self[self._along(dim, index, "gather")]

    def scatter_add(self, dim: int, index, src):
        """A copy of self with src[i][j] added at [i][index[i][j]] (for dim 1): the reverse
        of :meth:`gather`; repeated indices add up."""
        where = self._along(dim, index, "scatter_add")
        return self + _ops().ScatterAdd.apply(src, index=where, shape=self.shape)

    def _along(self, dim: int, index, op: str) -> tuple:
        """The NumPy index that picks, at each position of ``index``, the element whose
        coordinate along ``dim`` is the index's value and whose other coordinates are the
        position's own."""
        axis = _ops().normalize_axes(dim, self.ndim, op)
        index = index._data if isinstance(index, type(self)) else backend.asarray(
            index, backend.int64, self.device)
        if backend.is_floating(index.dtype) or index.dtype == backend.bool_:
            raise TypeError(f"{op}: index must hold integers, got dtype {index.dtype}")
        if not axis:
            return (index,) if index.ndim else ()
        if index.ndim != self.ndim:
            raise ValueError(f"{op}: index has {index.ndim} dimensions but the tensor has "
                             f"{self.ndim} (shapes {index.shape} and {self.shape})")
        xp = backend.get_array_module(index)
        grid = list(xp.ogrid[tuple(slice(n) for n in index.shape)])
        grid[axis[0]] = index
        return tuple(grid)

    def index_select(self, dim: int, index):
        """The slices at ``index`` (a 1-D integer tensor) along ``dim``."""
        axis = _ops().normalize_axes(dim, self.ndim, "index_select")[0]
        return self[(slice(None),) * axis + (index,)]

    def narrow(self, dim: int, start: int, length: int):
        """``length`` slices along ``dim`` from ``start``."""
        axis = _ops().normalize_axes(dim, self.ndim, "narrow")[0]
        n = self.shape[axis]
        start = start + n if start < 0 else start
        if not (0 <= start and 0 <= length and start + length <= n):
            raise ValueError(f"narrow: start {start} + length {length} exceeds dim {dim} of "
                             f"size {n} (shape {self.shape})")
        return self[(slice(None),) * axis + (slice(start, start + length),)]

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` is True, self elsewhere (the gradient flows where False)."""
        mask = mask if isinstance(mask, type(self)) else type(self)(mask, device=self.device)
        if mask.dtype != backend.bool_:
            raise TypeError(f"masked_fill: the mask must be a bool tensor, got dtype {mask.dtype}")
        value = value._data if isinstance(value, type(self)) else value
        fill = backend.asarray(value, self.dtype, self.device)
        return _ops().where(mask, fill, self)

    # --- shape -------------------------------------------------------------------------
    def t(self):
        """The transpose of a matrix (a 0-d or 1-d tensor as it is), as PyTorch's ``t()``."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with at most 2 dimensions, got shape {self.shape}")
        return self if self.ndim < 2 else self.transpose(0, 1)

    def expand(self, *sizes):
        """Repeated along axes of size 1 (no copy in PyTorch; -1 keeps an axis)."""
        return self.broadcast_to(_dims(sizes))

    def expand_as(self, other):
        return self.broadcast_to(other.shape)

    def view_as(self, other):
        return self.reshape(other.shape)

    def repeat(self, *repeats):
        """Tiled: axis k repeated ``repeats[k]`` times (as PyTorch's ``repeat``, NumPy's ``tile``).

        Each axis of size n becomes a pair (r, n), broadcast from (1, n), then merged: r*n."""
        repeats = _dims(repeats)
        if len(repeats) < self.ndim:
            raise ValueError(f"repeat: {len(repeats)} repeats for a tensor of shape {self.shape}: "
                             "give at least one per axis")
        shape = (1,) * (len(repeats) - self.ndim) + self.shape
        pairs = tuple(x for n in shape for x in (1, n))
        wide = tuple(x for r, n in zip(repeats, shape) for x in (r, n))
        merged = tuple(r * n for r, n in zip(repeats, shape))
        return self.reshape(pairs).broadcast_to(wide).reshape(merged)

    # --- elementwise ---------------------------------------------------------------------
    def add(self, other, alpha=1):
        """self + alpha * other (``x.add(y)`` is ``x + y``)."""
        return self + (other * alpha if alpha != 1 else other)

    def sub(self, other, alpha=1):
        return self - (other * alpha if alpha != 1 else other)

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def pow(self, exponent):
        return self ** exponent

    def neg(self):
        return -self

    def matmul(self, other):
        return self @ other

    def mm(self, other):
        """The product of two matrices (``@`` for 2-D tensors only)."""
        if self.ndim != 2 or getattr(other, "ndim", 0) != 2:
            raise ValueError(f"mm: expects two matrices, got shapes {self.shape} and "
                             f"{getattr(other, 'shape', None)}")
        return self @ other

    def sin(self):
        return _ops().Sin.apply(self)

    def cos(self):
        return _ops().Cos.apply(self)

    def norm(self, p=2, dim=None, keepdim: bool = False):
        """(sum_i |x_i|^p)^(1/p) over ``dim`` (all by default); p = 2 is the Euclidean length."""
        if p == 2:
            return (self * self).sum(axis=dim, keepdims=keepdim).sqrt()
        if p == float("inf"):
            return self.abs().amax(axis=dim, keepdims=keepdim)
        return (self.abs() ** p).sum(axis=dim, keepdims=keepdim) ** (1.0 / p)

    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    # --- in place: the array is rebound, never written into -------------------------------
    def _set(self, op: str, array):
        """Make ``array`` this tensor's values (cast to its dtype, which must hold them)."""
        from .function import STATE
        if STATE.grad_enabled and self._requires_grad:
            what = ("a leaf tensor that requires grad" if self.grad_fn is None
                    else f"a tensor made by {self.grad_fn.name} that requires grad")
            raise RuntimeError(
                f"{op}: {what} (shape {self.shape}) cannot be changed in place while gradients "
                f"are recorded; update parameters inside `with minigrad.no_grad():`, or write "
                f"x = x ... for a new tensor")
        if array.shape != self.shape:
            raise ValueError(f"{op}: the result has shape {array.shape}, but the tensor has "
                             f"shape {self.shape} (in place, the other operand must broadcast "
                             "to it)")
        if array.dtype != self.dtype:
            if backend.is_floating(array.dtype) and not backend.is_floating(self.dtype):
                raise TypeError(f"{op}: a {array.dtype} result cannot be stored in place in a "
                                f"{self.dtype} tensor (shape {self.shape})")
            array = array.astype(self.dtype)
        self.data = array
        return self

    def _update(self, op: str, function, other):
        """self = function(self, other) in place, computed without recording."""
        from .autograd import no_grad
        with no_grad():
            result = function(self, other)
        return self._set(op, result._data)

    def add_(self, other, alpha=1):
        """self += alpha * other, in place."""
        return self._update("add_", lambda x, y: x + (y * alpha if alpha != 1 else y), other)

    def sub_(self, other, alpha=1):
        """self -= alpha * other, in place."""
        return self._update("sub_", lambda x, y: x - (y * alpha if alpha != 1 else y), other)

    def mul_(self, other):
        return self._update("mul_", lambda x, y: x * y, other)

    def div_(self, other):
        return self._update("div_", lambda x, y: x / y, other)

    def clamp_(self, min=None, max=None):
        return self._update("clamp_", lambda x, _: x.clip(min, max), None)

    clip_ = clamp_

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        value = value.item() if isinstance(value, type(self)) else value
        xp = backend.get_array_module(self._data)
        return self._set("fill_", xp.full(self.shape, value, dtype=self.dtype))

    def copy_(self, src):
        """self's values become src's (broadcast to self's shape, cast to its dtype)."""
        src = src._data if isinstance(src, type(self)) else backend.asarray(src, device=self.device)
        xp = backend.get_array_module(self._data)
        src = backend.to_device(src, self.device)
        return self._set("copy_", xp.broadcast_to(src, self.shape).astype(self.dtype))

    def detach_(self):
        """Cut this tensor from its graph in place: it becomes a leaf that needs no gradient."""
        self.grad_fn = None
        self._requires_grad = False
        self._output_index = 0
        return self

    # x += y. With gradients recorded, a tensor that needs them cannot change in place: on a
    # leaf (a parameter) that is an error, as in PyTorch; otherwise x becomes a new tensor
    # x + y (minigrad records no in-place ops). Elsewhere (no_grad, or nothing needs a
    # gradient) the tensor's values change, as in PyTorch, so that
    # `with no_grad(): p -= lr * p.grad` updates the parameter p.
    def __iadd__(self, other):
        return self._in_place("+=", "Add", other)

    def __isub__(self, other):
        return self._in_place("-=", "Sub", other)

    def __imul__(self, other):
        return self._in_place("*=", "Mul", other)

    def __itruediv__(self, other):
        return self._in_place("/=", "Div", other)

    def __ipow__(self, other):
        return self._in_place("**=", "Pow", other)

    def _in_place(self, op: str, op_name: str, other):
        from .function import STATE
        function = getattr(_ops(), op_name)
        recorded = STATE.grad_enabled and (
            self._requires_grad or getattr(other, "_requires_grad", False))
        if not recorded:
            return self._update(op, function.apply, other)
        if self._requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"{op} on a leaf tensor that requires grad (shape {self.shape}) while gradients "
                f"are recorded: update a parameter inside `with minigrad.no_grad():`, or write "
                f"x = x {op[:-1]} ... for a new tensor")
        return function.apply(self, other)

    # --- watching gradients ------------------------------------------------------------
    def register_hook(self, hook):
        """Call ``hook(grad)`` each time backward computes this tensor's gradient (a leaf's: the
        sum over all its uses, once per backward). Hooks watch: one that returns a new gradient
        is an error (the walk has already used the gradient). Returns a handle whose
        ``remove()`` stops the calls."""
        if not self._requires_grad:
            raise RuntimeError(f"register_hook: the tensor (shape {self.shape}) does not require "
                               "grad, so no gradient will reach it")
        from .tensor_hooks import add_hook
        return add_hook(self, hook)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward (a leaf's is kept
        anyway)."""
        if not self._requires_grad:
            raise RuntimeError(f"retain_grad: the tensor (shape {self.shape}) does not require grad")
        if self.grad_fn is not None:
            from .tensor_hooks import retain
            retain(self)
