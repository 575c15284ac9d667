"""Axis arguments (None, an int or a tuple) as the ops use them."""
from __future__ import annotations

from numbers import Integral


def is_integer(value) -> bool:
    """A Python or a NumPy integer (``numbers.Integral``; ``int`` checked first, as it is fast)."""
    return type(value) is int or isinstance(value, Integral)


def normalize_axes(axis, ndim: int, op: str) -> tuple:
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative axes; checks the range.

    A 0-d tensor accepts axis 0 and -1, as PyTorch does, and they name no axis: ``()``."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:
        return (axis % ndim,)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        if not is_integer(a):
            raise TypeError(f"{op}: an axis must be an integer, got {a!r} in axis={axis!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out)) if ndim else ()


def split_axis(axis, ndim: int, op: str) -> int:
    """The one axis that split, chunk and unbind cut along (a 0-d tensor has none to cut)."""
    if ndim == 0:
        raise ValueError(f"{op}: needs a tensor with at least 1 dimension, got a 0-d tensor")
    return normalize_axes(axis, ndim, op)[0]
