"""`Tensor`: a backend array plus what autograd needs (``grad``, ``requires_grad``, ``grad_fn``).

Operators and methods are thin: each calls one primitive op (``minigrad/ops``) or one composite
function (``minigrad/functional.py``). A tensor made by an op that needs gradients points at the
op's node, ``grad_fn``; a tensor made by the user is a leaf (``grad_fn is None``).
"""
from __future__ import annotations

import operator
import weakref
from typing import NamedTuple

from . import backend
from .data_array import data_view, is_view_of, plain
from .tensor_torch import TorchSurface, accept_torch_names


class Cut(NamedTuple):
    """Where ``detach()`` cut a tensor from its graph (truncated BPTT), for whoever draws it:
    output ``index`` of a node held weakly (``node`` is None once that graph is gone), the role
    label of what was cut (``"h_t"``, kept when the graph is gone) and, for a slice that took one
    input of a cut stack back whole (layer k's h from h_n), which input (``part``)."""

    ref: weakref.ref
    index: int
    role: str | None
    part: int | None = None

    @property
    def node(self):
        return self.ref()


class Tensor(TorchSurface):
    """An n-dimensional array that records the operations applied to it.

    Make one with :func:`minigrad.tensor`. ``t.data`` is its NumPy/CuPy array,
    ``t.grad`` the accumulated gradient (a Tensor) after ``backward``.
    """

    # ``requires_grad`` and ``data`` are properties, so that setting them checks the value; the
    # engine reads and writes their slots ``_requires_grad`` and ``_data`` directly, because a
    # property on every op's result and input would cost time on the hot path.
    __slots__ = ("_data", "grad", "_requires_grad", "grad_fn", "_output_index", "__dict__",
                 "__weakref__")
    name = None            # set by whoever wants this tensor named in a drawing
    is_parameter = False   # True for what a model learns (nn.Parameter): drawn as a parameter
    _cut = None            # a Cut, for a tensor made by detach() (see cut_from)
    __array_priority__ = 1000  # numpy_array * tensor calls Tensor.__rmul__
    __hash__ = object.__hash__  # == is elementwise, identity stays the hash

    def __init__(self, data, dtype=None, device=None, requires_grad: bool = False):
        self._data = backend.asarray(data, backend.as_dtype(dtype), device)
        self.grad = self.grad_fn = None
        self._requires_grad = False
        self._output_index = 0
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, grad_fn=None, output_index: int = 0) -> "Tensor":
        """Wrap an array without checks (used by ops)."""
        t = cls.__new__(cls)
        t._data = data
        t.grad = None
        t._requires_grad = grad_fn is not None
        t.grad_fn = grad_fn
        t._output_index = output_index
        return t

    # --- facts -------------------------------------------------------------------------
    @property
    def data(self):
        """The NumPy/CuPy array this tensor holds. On NumPy it also answers PyTorch's in-place
        methods, writing into this tensor (``p.data.add_(p.grad, alpha=-lr)``; see
        minigrad/data_array.py). Assigning replaces it with an array of the same shape, dtype
        and device; a Tensor's own array is taken, so ``p.data -= lr * p.grad`` updates ``p``."""
        return data_view(self._data)

    @data.setter
    def data(self, value) -> None:
        self._data = _new_data(self, value)

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self._data)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def numpy(self):
        """The data as a NumPy array (copied from the GPU if needed)."""
        return backend.to_numpy(self._data)

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item(): only a one-element tensor converts to a number, got shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self.numpy().tolist()

    def __repr__(self) -> str:
        # an empty tensor prints as [] whatever its shape: PyTorch adds the shape
        extras = [f"size={self.shape}"] if self.numel() == 0 and self.ndim != 1 else []
        if self.dtype not in (backend.float32, backend.int64, backend.bool_):
            extras.append(f"dtype={self.dtype}")  # PyTorch's habit: name only unusual dtypes
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        values = backend.format_array(self.numpy(), prefix="tensor(")
        return "tensor(" + ", ".join([values] + extras) + ")"

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # --- autograd ------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor. Setting it is ``requires_grad_(flag)``."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        """Make this leaf require gradients (or not); only floating-point tensors can."""
        if flag and not backend.is_floating(self.dtype):
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype} "
                f"(shape {self.shape}); convert with .to(dtype=minigrad.float32)"
            )
        if self.grad_fn is not None and not flag:
            raise RuntimeError(f"a non-leaf tensor (made by {self.grad_fn.name}, shape "
                               f"{self.shape}) cannot stop requiring grad: use .detach() instead")
        self._requires_grad = bool(flag)
        return self

    def backward(self, grad=None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Add d(self)/d(leaf) into every leaf's ``.grad`` (see :func:`minigrad.backward`)."""
        seed = checks.seed(self, grad, "backward")  # d(self)/d(self): 1 for a scalar
        function.run_backward([self], [seed], retain_graph or create_graph, create_graph)

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (truncated BPTT). Remembers where it was cut
        (:attr:`cut_from`)."""
        t = Tensor._make(self._data)
        fn, index = self.grad_fn, self._output_index
        if fn is not None:
            t._cut = Cut(weakref.ref(fn), index, fn.cut_role(index))
        return t

    @property
    def cut_from(self) -> Cut | None:
        """Where :meth:`detach` cut this tensor (or the state it is a slice of) from a graph,
        as a :class:`Cut`; None for any other tensor."""
        return self._cut

    def label(self, role: str) -> "Tensor":
        """Name this tensor's role for the renderer (``"f_t"``, ``"C_t"``...). Returns self."""
        fn = self.grad_fn
        if fn is None:
            return self
        if fn.n_outputs == 1:
            fn.roles = (role,)
        else:
            roles = list(fn.roles or (None,) * fn.n_outputs)
            roles[self._output_index] = role
            fn.roles = tuple(roles)
        return self

    @property
    def role(self) -> str | None:
        """The role label :meth:`label` gave this tensor (``"h_t"``), or None."""
        return self.grad_fn.role(self._output_index) if self.grad_fn is not None else None

    def to(self, device: str | None = None, dtype=None) -> "Tensor":
        """A copy on ``device`` and/or with ``dtype`` (differentiable, unless to an integer or bool
        dtype); self when nothing changes. A dtype may come first: ``x.to(minigrad.float64)``."""
        if device is not None and not isinstance(device, str):  # x.to(dtype), as PyTorch
            device, dtype = None, device
        out = self
        if dtype is not None and backend.as_dtype(dtype) != self.dtype:
            dtype = backend.as_dtype(dtype)
            # a float result is differentiable; an integer or bool one is cut off, as in PyTorch
            out = ops.Cast.apply(out if backend.is_floating(dtype) else out.detach(), dtype=dtype)
        if device is not None and backend.check_device(device) != self.device:
            out = ops.ToDevice.apply(out, device=device)
        return out

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        return self.to("cuda")

    def float(self) -> "Tensor":
        return self.to(dtype=backend.float32)

    def double(self) -> "Tensor":
        return self.to(dtype=backend.float64)

    # --- arithmetic ----------------------------------------------------------------------
    def __add__(self, other):
        return ops.Add.apply(self, other)

    def __radd__(self, other):
        return ops.Add.apply(other, self)

    def __sub__(self, other):
        return ops.Sub.apply(self, other)

    def __rsub__(self, other):
        return ops.Sub.apply(other, self)

    def __mul__(self, other):
        return ops.Mul.apply(self, other)

    def __rmul__(self, other):
        return ops.Mul.apply(other, self)

    def __truediv__(self, other):
        return ops.Div.apply(self, other)

    def __rtruediv__(self, other):
        return ops.Div.apply(other, self)

    def __pow__(self, other):
        return ops.Pow.apply(self, other)

    def __rpow__(self, other):
        return ops.Pow.apply(other, self)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __pos__(self):
        return self

    def __matmul__(self, other):
        return ops.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return ops.MatMul.apply(other, self)

    def __getitem__(self, index):
        return ops.GetItem.apply(self, index=index)

    # Comparisons give tensors that carry no gradient.
    def __lt__(self, other):
        return _compare(operator.lt, self, other)

    def __le__(self, other):
        return _compare(operator.le, self, other)

    def __gt__(self, other):
        return _compare(operator.gt, self, other)

    def __ge__(self, other):
        return _compare(operator.ge, self, other)

    def __eq__(self, other):
        return _compare(operator.eq, self, other)

    def __ne__(self, other):
        return _compare(operator.ne, self, other)

    # --- elementwise functions -----------------------------------------------------------
    def exp(self):
        return ops.Exp.apply(self)

    def log(self):
        return ops.Log.apply(self)

    def sqrt(self):
        return ops.Sqrt.apply(self)

    def abs(self):
        return ops.Abs.apply(self)

    def tanh(self):
        return ops.Tanh.apply(self)

    def sigmoid(self):
        return ops.Sigmoid.apply(self)

    def relu(self):
        return ops.Relu.apply(self)

    def clip(self, min=None, max=None):
        """Each element limited to [min, max]; a bound is a number, an array or a Tensor
        (a constant: to differentiate with respect to a bound, use maximum/minimum)."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        return ops.Clip.apply(self, low=_bound(min, "min"), high=_bound(max, "max"))

    clamp = clip

    def maximum(self, other):
        return ops.Maximum.apply(self, other)

    def minimum(self, other):
        return ops.Minimum.apply(self, other)

    # --- reductions ------------------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False):
        return ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims: bool = False):
        """Index of the largest element (of all, flattened, or along ``axis``); an int64
        tensor that carries no gradient. Ties: the first."""
        return self._arg("argmax", axis, keepdims)

    def argmin(self, axis=None, keepdims: bool = False):
        """Index of the smallest element; see :meth:`argmax`."""
        return self._arg("argmin", axis, keepdims)

    def _arg(self, op: str, axis, keepdims: bool) -> "Tensor":
        if axis is not None:
            axis = ops.normalize_axes(axis, self.ndim, op)[0] if self.ndim else None
        if (self.shape[axis] if axis is not None else self.numel()) == 0:
            raise ValueError(f"{op}: cannot pick from an empty axis of a tensor of shape {self.shape}")
        found = getattr(self._data, op)(axis=axis, keepdims=keepdims)
        return Tensor._make(found.astype(backend.int64, copy=False))

    def softmax(self, axis: int = -1):
        return functional.softmax(self, axis)

    def log_softmax(self, axis: int = -1):
        return functional.log_softmax(self, axis)

    def logsumexp(self, axis=None, keepdims: bool = False):
        return functional.logsumexp(self, axis, keepdims)

    # --- shape -----------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        if shape == self._data.shape:
            return self
        return ops.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_axis: int = 0, end_axis: int = -1):
        """Axes ``start_axis`` to ``end_axis`` (both included) merged into one, as PyTorch's
        ``flatten(start_dim, end_dim)``: ``x.flatten(1)`` of (N, C, L) is (N, C*L)."""
        shape = self.shape or (1,)
        start, end = (ops.normalize_axes(axis, len(shape), "flatten")[0]
                      for axis in (start_axis, end_axis))
        if start > end:
            raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis} "
                             f"for a tensor of shape {self.shape}")
        merged = 1
        for n in shape[start:end + 1]:
            merged *= n
        return self.reshape(shape[:start] + (merged,) + shape[end + 1:])

    def transpose(self, *axes):
        """Two axes: swap them, as PyTorch's ``transpose(dim0, dim1)`` does (``x.transpose(0, 1)``
        of a matrix is its transpose); otherwise :meth:`permute` (no axes reverses them)."""
        if len(axes) == 2 and all(ops.is_integer(a) for a in axes):
            return ops.Transpose.apply(self, axes=_swapped(self.ndim, *axes, op="transpose"))
        return self.permute(*axes)

    def permute(self, *axes):
        """Reorder all axes: axis k of the result is axis ``axes[k]`` of self (NumPy's
        ``transpose(axes)``, PyTorch's ``permute``); no axes reverses them."""
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return ops.Transpose.apply(self, axes=tuple(axes) if axes else None)

    @property
    def T(self):
        return ops.Transpose.apply(self, axes=None)

    @property
    def mT(self):
        """The last two axes swapped: each matrix of a batch (..., n, m) transposed to (..., m, n),
        as PyTorch's ``mT``."""
        if self.ndim < 2:
            raise ValueError(f"mT: needs a matrix or a batch of matrices (at least 2 dimensions), "
                             f"got a tensor of shape {self.shape}")
        return ops.Transpose.apply(self, axes=_swapped(self.ndim, -2, -1, op="mT"))

    def swapaxes(self, axis1: int, axis2: int):
        return ops.Transpose.apply(self, axes=_swapped(self.ndim, axis1, axis2, op="swapaxes"))

    def broadcast_to(self, shape):
        """Repeated along new leading axes and axes of size 1 to ``shape``; -1 keeps an axis's
        size, as in PyTorch."""
        shape = (shape,) if ops.is_integer(shape) else tuple(shape)
        if -1 in shape:
            lead = len(shape) - self.ndim
            if lead < 0 or -1 in shape[:lead]:
                raise ValueError(f"broadcast_to: -1 (keep the size) in {shape} names no axis of "
                                 f"the tensor's shape {self.shape}")
            kept = tuple(n if m == -1 else m for m, n in zip(shape[lead:], self.shape))
            shape = shape[:lead] + kept
        return ops.BroadcastTo.apply(self, shape=shape)

    def expand_dims(self, axis: int):
        if not -self.ndim - 1 <= axis <= self.ndim:
            raise ValueError(f"expand_dims: axis {axis} is out of range for a tensor with "
                             f"{self.ndim} dimensions")
        shape = list(self.shape)
        shape.insert(axis if axis >= 0 else len(shape) + axis + 1, 1)
        return self.reshape(tuple(shape))

    unsqueeze = expand_dims

    def squeeze(self, axis=None):
        if axis is None:
            shape = tuple(s for s in self.shape if s != 1)
        else:
            axes = set(ops.normalize_axes(axis, self.ndim, "squeeze"))
            shape = tuple(s for i, s in enumerate(self.shape) if i not in axes or s != 1)
        return self.reshape(shape)

    def split(self, split_size_or_sections, axis: int = 0):
        """Pieces along ``axis``: an int is each piece's size (PyTorch's rule), a list the sizes."""
        length = self.shape[ops.split_axis(axis, self.ndim, "split")]
        sizes = ops.split_sizes(length, split_size_or_sections, "split")
        return ops.Split.apply(self, sizes=sizes, axis=axis)

    def chunk(self, chunks: int, axis: int = 0):
        """``chunks`` nearly equal pieces along ``axis`` (the last may be smaller)."""
        length = self.shape[ops.split_axis(axis, self.ndim, "chunk")]
        return ops.Split.apply(self, sizes=ops.chunk_sizes(length, chunks), axis=axis)

    def unbind(self, axis: int = 0):
        return ops.Unbind.apply(self, axis=axis)


def _compare(op, tensor: Tensor, other):
    """``op(tensor, other)`` elementwise, a bool tensor. With ``other`` neither a tensor, an
    array nor a number (None, a string, a list) NotImplemented, so that Python falls back as
    for PyTorch tensors: ``x == None`` is False, ``x != "a"`` True, ``x < None`` a TypeError."""
    if isinstance(other, Tensor):
        other = other._data
    elif not isinstance(other, backend.ARRAYS_AND_NUMBERS):
        return NotImplemented
    return Tensor._make(op(tensor._data, other))


def _new_data(t: Tensor, value):
    """``value`` checked to replace ``t``'s array: the same shape, dtype and device (a Tensor is
    unwrapped: ``p.data -= lr * p.grad`` makes a Tensor of NumPy's in-place subtraction)."""
    if is_view_of(value, t._data):  # p.data -= g: NumPy wrote into the tensor's own array
        return t._data
    value = plain(unwrap(value))  # (a DataArray, what .data handed out, as the plain array)
    if isinstance(value, backend.numpy.generic):  # a NumPy scalar: what a 0-d op may return
        value = backend.numpy.asarray(value)
    want = f"an array of shape {t.shape}, dtype {t.dtype}, on {t.device}"
    if not backend.is_array(value):
        raise TypeError(f"Tensor.data: assign {want}; got a {type(value).__name__}. To set values "
                        "in place write t.data[...] = values; for another shape or dtype make a new "
                        "tensor with minigrad.tensor(values)")
    if value.shape != t.shape:
        raise ValueError(f"Tensor.data: assign {want}; got shape {value.shape}. For another shape "
                         "make a new tensor with minigrad.tensor(values)")
    if value.dtype != t.dtype:
        raise TypeError(f"Tensor.data: assign {want}; got dtype {value.dtype}: write "
                        f"t.data = values.astype('{t.dtype}')")
    if backend.device_of(value) != t.device:
        raise ValueError(f"Tensor.data: assign {want}; got an array on {backend.device_of(value)}: "
                         f"move it first (minigrad.tensor(values, device='{t.device}').data)")
    return value


def unwrap(x):
    """The array inside a Tensor; anything else (an array, a number) as it is."""
    return x._data if isinstance(x, Tensor) else x


def tensor(data, dtype=None, device: str | None = None, requires_grad: bool = False) -> Tensor:
    """Make a leaf Tensor from Python data or an array.

    Python floats become float32; a NumPy float64 array stays float64; ``dtype`` overrides both.
    ``device`` is ``"cpu"`` or ``"cuda"`` (default: :func:`minigrad.get_default_device`).
    """
    if isinstance(data, Tensor):
        data = data._data
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


from . import checks, function, functional, ops  # noqa: E402  (circular: ops build Tensors)

accept_torch_names(Tensor)  # x.sum(dim=1, keepdim=True) as well as axis=, keepdims=


def _swapped(ndim: int, axis1: int, axis2: int, op: str) -> tuple:
    """The permutation of ``ndim`` axes that swaps ``axis1`` and ``axis2``."""
    picked = [ops.normalize_axes(a, ndim, op) for a in (axis1, axis2)]  # () for a 0-d tensor
    axes = list(range(ndim))
    if ndim:
        (a,), (b,) = picked
        axes[a], axes[b] = axes[b], axes[a]
    return tuple(axes)


def _bound(value, name: str):
    """A clip bound as the op takes it: a Tensor gives its array, if it needs no gradient. A list
    (NumPy would compute in float64) or a complex bound is refused, as the binary ops refuse them."""
    if isinstance(value, (list, tuple)) or backend.is_complex(value):
        raise TypeError(f"clip: the {name} bound is a {type(value).__name__} "
                        f"({repr(value)[:40]}): give a real number, an array or a Tensor")
    if not isinstance(value, Tensor):
        return value
    if value.requires_grad:
        raise TypeError(f"clip: the {name} bound {tuple(value.shape)} requires grad; clip's "
                        "bounds are constants (use maximum/minimum to differentiate them)")
    return value._data
