"""Ops that move elements around without arithmetic: reshape, transpose, broadcast, indexing,
concatenation and splitting. Each backward is the inverse move."""
from __future__ import annotations

from .. import backend
from ..function import Function
from ..tensor import Tensor, unwrap
from .elementwise import sum_to_shape
from .axes import is_integer, split_axis


class _Move(Function):
    """An op that only moves elements around: what it outputs is what it read (a stack of h_t
    is still h, see ``Function.cut_role``)."""

    moves = True


class Reshape(_Move):
    """z = x viewed with a new shape (same elements, same order)"""

    def forward(self, x, shape):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.in_shape)


class Transpose(_Move):
    """z = x with its axes permuted (reversed when ``axes`` is None)"""

    def forward(self, x, axes=None):
        if axes is not None and sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of {x.ndim} dimensions")
        self.axes = axes
        return x.transpose(axes)

    def backward(self, grad):
        if self.axes is None:
            return grad.transpose()
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a % len(self.axes)] = i
        return grad.transpose(tuple(inverse))


class BroadcastTo(_Move):
    """z = x repeated along broadcast axes;  the gradient is summed back"""

    def forward(self, x, shape):
        self.in_shape = x.shape
        return backend.get_array_module(x).broadcast_to(x, shape)

    def backward(self, grad):
        return sum_to_shape(grad, self.in_shape)


def _raw_index(index, device: str):
    """Tensors and lists inside an index become arrays, on the indexed tensor's device."""
    if isinstance(index, tuple):
        return tuple(_raw_index(i, device) for i in index)
    if isinstance(index, Tensor):
        index = index._data
    elif isinstance(index, list):  # ([] picks nothing; NumPy would make it a float array)
        index = backend.asarray(index, backend.int64 if not index else None, device)
    return backend.to_device(index, device) if backend.is_array(index) else index


def _index_arrays(index) -> tuple:
    """The arrays in an index: advanced indexing, which picks elements by them."""
    parts = index if isinstance(index, tuple) else (index,)
    return tuple(p for p in parts if backend.is_array(p))


class GetItem(_Move):
    """z = x[index] (ints, slices, None, Ellipsis, integer arrays, boolean masks)

    Backward scatters the gradient back into zeros of x's shape, adding at repeated indices."""

    def forward(self, x, index):
        index = _raw_index(index, backend.device_of(x))
        if backend.is_array(index) and index.dtype == backend.bool_ and index.shape != x.shape[:index.ndim]:
            raise IndexError(f"getitem: boolean mask of shape {index.shape} does not match "
                             f"tensor of shape {x.shape}")
        self.index = index
        self.in_shape = x.shape
        return x[index]

    def backward(self, grad):
        return ScatterAdd.apply(grad, index=self.index, shape=self.in_shape)

    def option_arrays(self) -> tuple:
        return _index_arrays(self.index)  # an embedding's tokens, or a fixed selection

    def part_taken(self, index: int, source: Function) -> int | None:
        """``h_n[k]`` takes back input k of the stack h_n (along axis 0)."""
        if isinstance(source, Stack) and source.axis == 0 and is_integer(self.index):
            return self.index % len(source.next)
        return None


class ScatterAdd(_Move):
    """z = zeros(shape); z[index] += g  (the backward of GetItem; its own backward is GetItem)"""

    def forward(self, g, index, shape):
        self.index = index
        xp = backend.get_array_module(g)
        out = xp.zeros(shape, dtype=g.dtype)
        if _index_arrays(index):
            xp.add.at(out, index, g)  # repeated indices accumulate
        else:
            out[index] = g  # basic indexing never repeats an element
        return out

    def backward(self, grad):
        return grad[self.index]


def _join(op: str, arrays, axis: int) -> tuple:
    """NumPy's concatenate (``op`` "concat") or stack of ``arrays`` along ``axis``, refusing to
    mix dtypes (NumPy would promote silently). Returns (the axis made non-negative, the result)."""
    if not arrays:
        raise ValueError(f"{op}: needs at least one tensor")
    try:
        dtype = arrays[0].dtype
        for i, a in enumerate(arrays):
            if a.dtype != dtype:
                raise TypeError(f"{op}: tensor {i} has dtype {a.dtype} but tensor 0 has {dtype}")
    except AttributeError:
        _refuse_non_arrays(op, arrays)
    ndim = arrays[0].ndim + (1 if op == "stack" else 0)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for {ndim} dimensions")
    axis %= ndim
    xp = backend.get_array_module(arrays[0])
    try:
        out = (xp.stack if op == "stack" else xp.concatenate)(arrays, axis=axis)
    except ValueError:
        _check_joinable(op, arrays, axis)  # NumPy's message names no shapes: raise ours
        raise
    return axis, out


def _refuse_non_arrays(op: str, arrays) -> None:
    """Raise the TypeError that names the first element that is not an array (a NumPy scalar,
    from arithmetic on 0-d arrays, is one)."""
    for i, a in enumerate(arrays):
        if not hasattr(a, "dtype"):
            raise TypeError(f"{op}: element {i} is a {type(a).__name__}, not a Tensor "
                            f"(make one with minigrad.tensor)")


def _check_joinable(op: str, arrays, axis: int) -> None:
    """Raise the error that says which shapes cannot be joined, and why."""
    same_shape = op == "stack"
    first = arrays[0]
    before, after = first.shape[:axis], first.shape[axis + 1:]
    for a in arrays:
        if same_shape:
            bad = a.shape != first.shape
        else:
            bad = a.ndim != first.ndim or a.shape[:axis] != before or a.shape[axis + 1:] != after
        if bad:
            shapes = ", ".join(str(x.shape) for x in arrays)
            rule = "the same shape" if same_shape else f"the same shape except along axis {axis}"
            raise ValueError(f"{op}: tensors must have {rule}; got {shapes}")


class Concat(_Move):
    """z = [x_1, x_2, ...] joined along ``axis``;  backward splits the gradient the same way"""

    def forward(self, *arrays, axis=0):
        self.axis, out = _join("concat", arrays, axis)
        self.sizes = [a.shape[self.axis] for a in arrays]
        return out

    def backward(self, grad):
        return Split.apply(grad, sizes=self.sizes, axis=self.axis)


class Stack(_Move):
    """z = the inputs stacked along a new ``axis``;  backward unbinds the gradient"""

    def forward(self, *arrays, axis=0):
        self.axis, out = _join("stack", arrays, axis)
        return out

    def backward(self, grad):
        return Unbind.apply(grad, axis=self.axis)


def _fill_missing(grads, shapes):
    """Outputs that received no gradient contribute zeros."""
    for g in grads:
        if g is None:
            break
    else:  # every output got one (the common case)
        return grads
    like = next(g for g in grads if g is not None)
    xp = backend.get_array_module(unwrap(like))
    return [g if g is not None else xp.zeros(s, dtype=like.dtype) for g, s in zip(grads, shapes)]


class Split(_Move):
    """(z_1, z_2, ...) = consecutive pieces of x along ``axis`` with the given sizes (views)"""

    def forward(self, x, sizes, axis=0):
        axis = split_axis(axis, x.ndim, "split")
        if sum(sizes) != x.shape[axis] or min(sizes) < 0:
            raise ValueError(f"split: sizes {list(sizes)} do not add up to {x.shape[axis]}, "
                             f"the length of axis {axis} of shape {x.shape}")
        self.axis = axis
        before = (slice(None),) * axis
        pieces, start = [], 0
        for size in sizes:
            pieces.append(x[before + (slice(start, start + size),)])
            start += size
        self.piece_shapes = [p.shape for p in pieces]
        return tuple(pieces)

    def backward(self, *grads):
        return concat(_fill_missing(grads, self.piece_shapes), axis=self.axis)


class Unbind(_Move):
    """(z_0, z_1, ...) = x[0], x[1], ... along ``axis`` (views)"""

    def forward(self, x, axis=0):
        axis = split_axis(axis, x.ndim, "unbind")
        self.axis = axis
        moved = backend.get_array_module(x).moveaxis(x, axis, 0)
        self.piece_shape = moved.shape[1:]
        return tuple(moved[i] for i in range(moved.shape[0]))

    def backward(self, *grads):
        return stack(_fill_missing(grads, [self.piece_shape] * len(grads)), axis=self.axis)

    def part_taken(self, index: int, source: Function) -> int | None:
        """Unbinding a stack along its axis gives its inputs back: output k is input k."""
        return index if isinstance(source, Stack) and source.axis == self.axis else None


def concat(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return Concat.apply(*_sequence(tensors, "concat"), axis=axis)


def stack(tensors, axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    return Stack.apply(*_sequence(tensors, "stack"), axis=axis)


def _sequence(tensors, op: str):
    if isinstance(tensors, Tensor):  # (iterating it would join its rows, 0-d for a vector)
        raise TypeError(f"{op}: takes a list or tuple of tensors, got one Tensor of shape "
                        f"{tensors.shape}")
    return tensors


def split_sizes(length: int, split_size_or_sections, op: str) -> list:
    """PyTorch's rule: an int is the size of each piece (the last may be smaller), a list the sizes."""
    if is_integer(split_size_or_sections):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"{op}: piece size must be positive, got {size}")
        return [min(size, length - start) for start in range(0, length, size)] or [0]
    return list(split_size_or_sections)


def chunk_sizes(length: int, chunks: int) -> list:
    """PyTorch's chunk: ``chunks`` pieces of ceil(length / chunks) (fewer if it runs out)."""
    if not is_integer(chunks) or chunks <= 0:
        raise ValueError(f"chunk: the number of chunks must be a positive int, got {chunks!r}")
    chunks = int(chunks)
    if length % chunks == 0:
        return [length // chunks] * chunks
    return split_sizes(length, -(-length // chunks), "chunk")
