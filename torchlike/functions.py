"""The functions PyTorch has at ``torch.*`` that minigrad names differently or lacks: each a
line or two over minigrad (``cat`` is ``concat`` with ``dim``), plus ``device`` objects."""
from __future__ import annotations

import os

import minigrad
import nn
from minigrad import Tensor, backend


class device(str):
    """``torch.device("cuda:0")``: a device name (minigrad's devices are strings) with PyTorch's
    ``type`` and ``index``."""

    def __new__(cls, type: str, index: int | None = None):
        name = str(type) if index is None else f"{type}:{index}"
        self = super().__new__(cls, name)
        self.type, _, number = name.partition(":")
        self.index = int(number) if number else index
        return self


def cat(tensors, dim: int = 0) -> Tensor:
    """Join along an existing axis (``minigrad.concat``)."""
    return minigrad.concat(tensors, axis=dim)


def stack(tensors, dim: int = 0) -> Tensor:
    return minigrad.stack(tensors, axis=dim)


def from_numpy(array) -> Tensor:
    """A tensor of ``array``, dtype kept (PyTorch shares the memory; minigrad's ops never write
    into an array, so sharing is invisible except through writes to ``array`` itself)."""
    if not isinstance(array, backend.numpy.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    return Tensor._make(array)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` itself if it is already a tensor of that dtype and device, else a new one."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    return minigrad.tensor(data, dtype=dtype, device=device)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


def rand_like(input: Tensor, dtype=None) -> Tensor:
    return minigrad.rand(input.shape, dtype=dtype or input.dtype, device=input.device)


def randn_like(input: Tensor, dtype=None) -> Tensor:
    return minigrad.randn(input.shape, dtype=dtype or input.dtype, device=input.device)


def full_like(input: Tensor, fill_value, dtype=None) -> Tensor:
    return minigrad.full(input.shape, fill_value, dtype=dtype or input.dtype, device=input.device)


def randint(low, high=None, size=(), dtype=None, device=None) -> Tensor:
    """Integers uniform in [low, high) (``randint(high, size)`` from 0), int64."""
    if high is None:
        low, high = 0, low
    out = Tensor._make(backend.random_integers(low, high, tuple(size), backend.check_device(device)))
    return out if dtype is None else out.to(dtype=dtype)


def linspace(start: float, end: float, steps: int, dtype=None, device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    values = backend.numpy.linspace(start, end, steps)
    return minigrad.tensor(values, dtype=dtype or backend.DEFAULT_FLOAT, device=device)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False) -> Tensor:
    """Indices drawn from each row of ``input`` (non-negative weights, not necessarily summing
    to 1), with minigrad's generator: a char-RNN's sampling step."""
    weights = backend.to_numpy(input.data).astype(backend.float64)
    rows = weights.reshape(-1, weights.shape[-1])
    if (rows < 0).any() or not backend.numpy.isfinite(rows).all() or (rows.sum(axis=1) <= 0).any():
        raise ValueError("multinomial: weights must be finite, non-negative and not all zero in "
                         f"a row (shape {input.shape})")
    if not replacement and num_samples > (rows > 0).sum(axis=1).min():
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement "
                         "from a row with fewer non-zero weights")
    picks = [backend.random_choice(rows.shape[1], num_samples, replacement, row / row.sum())
             for row in rows]
    out = backend.numpy.array(picks, dtype=backend.int64).reshape(weights.shape[:-1] + (num_samples,))
    return Tensor._make(backend.to_device(out, input.device))


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product: (B, n, m) @ (B, m, p) -> (B, n, p)."""
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: expects two 3-D tensors with the same batch size, got shapes "
                         f"{input.shape} and {mat2.shape}")
    return input @ mat2


def save(obj, f) -> None:
    """``nn.save``: a state dict, optimizer state, arrays and plain data, never pickle (a path
    ending in ``.safetensors`` writes that format). A whole module is refused on purpose."""
    if isinstance(obj, nn.Module):
        raise TypeError(f"save: saving a whole {type(obj).__name__} would pickle its code, which "
                        "minigrad never does (loading a pickle runs code); save "
                        "model.state_dict() and rebuild the model, then load_state_dict")
    nn.save(obj, f)


def load(f, map_location=None, weights_only: bool = True):
    """``nn.load``: what :func:`save` wrote (or a .safetensors file); a pickled PyTorch ``.pt``
    file is refused (not a minigrad checkpoint). ``map_location``: a device."""
    if isinstance(f, (str, os.PathLike)) and not os.path.exists(f):
        raise FileNotFoundError(f"load: no file {os.fspath(f)!r}")
    return nn.load(f, device=None if map_location is None else str(map_location))
