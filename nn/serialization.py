"""Checkpoints: ``save(obj, path)`` / ``load(path)`` in NumPy's ``.npz`` format, without pickle.

``obj`` is a state dict, an optimizer state, or nested dicts/lists of those with plain numbers,
strings, booleans and None (e.g. ``{"model": ..., "optim": ..., "step": 10}``). Each array is
one ``.npz`` entry named by its path of keys (``"model/weight"``); everything else, and the
shape of the nesting, is JSON in the reserved entry ``__minigrad__``. Nothing is executed on
load, so a checkpoint from an untrusted source is only data.

Writing is atomic (:func:`minigrad.files.write_atomic`): a crash or error mid-save leaves the
old file whole.
"""
from __future__ import annotations

import json
import os

from minigrad import Tensor, backend
from minigrad.files import write_atomic

RESERVED = "__minigrad__"
FORMAT_VERSION = 1
NUMERIC_KINDS = "biufc"  # numpy dtype kinds: bool, int, uint, float, complex
MAX_DEPTH = 100  # dicts in lists in dicts...: far more than any state dict, far less than Python's stack


def save(obj, path: str | os.PathLike) -> None:
    """Write ``obj`` to ``path`` (exactly that name; ``.npz`` is the usual suffix)."""
    arrays: dict = {}
    tree = _encode(obj, (), arrays)
    header = json.dumps({"format": FORMAT_VERSION, "tree": tree})
    arrays[RESERVED] = header
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


__all__ = ["save", "load"]
