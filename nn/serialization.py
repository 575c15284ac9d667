"""Checkpoints: ``save(obj, path)`` / ``load(path)`` in NumPy's ``.npz`` format, without pickle.

``obj`` is a state dict, an optimizer state, or nested dicts/lists of those with plain numbers,
strings, booleans and None (e.g. ``{"model": ..., "optim": ..., "step": 10}``). Each array is
one ``.npz`` entry named by its path of keys (``"model/weight"``); everything else, and the
shape of the nesting, is JSON in the reserved entry ``__minigrad__``. Nothing is executed on
load, so a checkpoint from an untrusted source is only data.

Writing is atomic (:func:`minigrad.files.write_atomic`): a crash or error mid-save leaves the
old file whole.

A path ending in ``.safetensors`` is written and read in the safetensors format instead (the
``safetensors`` package: no pickle either), which PyTorch and its ecosystem read
(``safetensors.torch.load_file``): it holds one flat state dict, names to tensors, the way to
take a trained model to PyTorch and back. Training state (an optimizer's, nested dicts) stays
in the ``.npz`` checkpoint.
"""
from __future__ import annotations

import json
import os
from typing import BinaryIO

from minigrad import Tensor, backend
from minigrad.files import write_atomic

RESERVED = "__minigrad__"
FORMAT_VERSION = 1
NUMERIC_KINDS = "biufc"  # numpy dtype kinds: bool, int, uint, float, complex
MAX_DEPTH = 100  # dicts in lists in dicts...: far more than any state dict, far less than Python's stack


def save(obj, path: str | os.PathLike | BinaryIO) -> None:
    """Write ``obj`` to ``path`` (exactly that name; ``.npz`` is the usual suffix, and
    ``.safetensors`` writes a state dict in that format), or into an open binary file."""
    if not hasattr(path, "write") and _is_safetensors(path):
        return _save_safetensors(obj, path)
    arrays: dict = {}
    tree = _encode(obj, (), arrays)
    header = json.dumps({"format": FORMAT_VERSION, "tree": tree})
    arrays[RESERVED] = header
    if hasattr(path, "write"):  # the caller's open file (torch.save(x, open(name, "wb")))
        return backend.save_npz(path, arrays)
    write_atomic(path, lambda f: backend.save_npz(f, arrays))


def load(path: str | os.PathLike, device: str | None = None):
    """Read what :func:`save` wrote. Tensors come back as minigrad Tensors on ``device``
    (default: the default device), arrays as arrays, numbers and strings as themselves.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the path for a
    file that is truncated, corrupt, or not a minigrad checkpoint.
    """
    path = os.fspath(path)
    device = backend.check_device(device)
    if not os.path.exists(path):
        raise FileNotFoundError(f"nn.load: no checkpoint at {path!r}")
    if _is_safetensors(path):
        return _load_safetensors(path, device)
    arrays = backend.load_npz(path)
    if RESERVED not in arrays:
        raise ValueError(f"nn.load: {path!r} is an .npz file but not a minigrad checkpoint "
                         f"(it has no {RESERVED!r} entry)")
    try:
        header = json.loads(str(arrays.pop(RESERVED).item()))
        if header.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown format version {header.get('format')!r}")
        return _decode(header["tree"], arrays, device)
    except RecursionError:  # (from json or _decode) a header no checkpoint has: refuse it the same way
        raise ValueError(f"nn.load: {path!r} is damaged or not a minigrad checkpoint: its header "
                         f"nests deeper than {MAX_DEPTH} levels") from None
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"nn.load: {path!r} is damaged or not a minigrad checkpoint: {err}") from err


# --- the JSON tree: containers are tagged objects, arrays are references to entries -----------
def _encode(obj, keys: tuple, arrays: dict):
    if isinstance(obj, Tensor):
        return {"tensor": _store(obj.data, keys, arrays)}
    if backend.is_array(obj):
        return {"array": _store(obj, keys, arrays)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise TypeError(f"nn.save: dict keys must be str or int, got {type(k).__name__} "
                                f"{k!r} at {_where(keys)}")
            items.append([k, _encode(v, keys + (str(k),), arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, keys + (str(i),), arrays) for i, v in enumerate(obj)]}
    raise TypeError(f"nn.save: cannot store a {type(obj).__name__} at {_where(keys)} (expected "
                    f"Tensors, arrays, dicts, lists, tuples, numbers, strings, booleans or None)")


def _where(keys: tuple) -> str:
    return "/".join(keys) or "the top level"


def _store(array, keys: tuple, arrays: dict) -> str:
    """Add ``array`` under its key path (made unique if two paths flatten to the same name).

    Only numeric arrays are stored: an object array (e.g. a Tensor made of Tensors) would need
    pickle, which load refuses, and a string array is no Tensor."""
    if array.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"nn.save: cannot store the {array.dtype} array at {_where(keys)}: only "
                        f"numeric arrays (bool, integer, float, complex) are saved")
    name = "/".join(keys) or "data"
    unique, n = name, 1
    while unique in arrays or unique == RESERVED:
        unique, n = f"{name}~{n}", n + 1
    arrays[unique] = array
    return unique


def _decode(node, arrays: dict, device: str, depth: int = 0):
    if not isinstance(node, dict):
        return node
    if depth > MAX_DEPTH:
        raise RecursionError
    (kind, body), = node.items()
    if kind == "tensor":
        return Tensor(arrays[body], device=device)
    if kind == "array":
        return backend.to_device(arrays[body], device)
    if kind == "dict":
        return {k: _decode(v, arrays, device, depth + 1) for k, v in body}
    if kind == "list":
        return [_decode(v, arrays, device, depth + 1) for v in body]
    if kind == "tuple":
        return tuple(_decode(v, arrays, device, depth + 1) for v in body)
    raise ValueError(f"unknown entry kind {kind!r}")


# --- safetensors: one flat dict of named tensors -------------------------------------------
def _is_safetensors(path) -> bool:
    return os.fspath(path).endswith(".safetensors")


def _save_safetensors(state: dict, path) -> None:
    from safetensors.numpy import save as to_bytes
    if not isinstance(state, dict):
        raise TypeError(f"nn.save: a .safetensors file holds a state dict (names to tensors), "
                        f"got a {type(state).__name__}; save other objects to a .npz file")
    arrays = {}
    for name, value in state.items():
        if not isinstance(name, str) or not (isinstance(value, Tensor) or backend.is_array(value)):
            raise TypeError(f"nn.save: a .safetensors file maps names to tensors, got "
                            f"{type(value).__name__} at key {name!r}; save nested or other "
                            f"objects (an optimizer's state) to a .npz file")
        array = backend.to_numpy(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in NUMERIC_KINDS or array.dtype.kind == "c":
            raise TypeError(f"nn.save: safetensors cannot store the {array.dtype} tensor {name!r}")
        arrays[name] = backend.numpy.ascontiguousarray(array)
    data = to_bytes(arrays, metadata={"format": "pt"})  # "pt": transformers' loaders ask for it
    write_atomic(path, lambda f: f.write(data))


def _load_safetensors(path: str, device: str) -> dict:
    from safetensors import SafetensorError
    from safetensors.numpy import load as from_bytes
    with open(path, "rb") as f:
        data = f.read()
    try:
        arrays = from_bytes(data)
    except (SafetensorError, ValueError) as err:
        raise ValueError(f"nn.load: {path!r} is damaged or not a safetensors file: {err}") from err
    return {name: Tensor(array, device=device) for name, array in arrays.items()}


__all__ = ["save", "load"]
