"""Anomaly mode: find the first op that made a NaN or an infinity, and where your code made it.

    with minigrad.detect_anomaly():
        loss = model(x)
        loss.backward()

Inside the block every recorded node is checked as it is made (its outputs) and as the backward
walk passes it (the gradients it sends to its inputs). The first NaN or inf raises
:class:`AnomalyError` naming the op, its role label (``f_t``), its scope tags (step 17 of
layer 1), the shapes, and the line of your code that recorded the node: the first stack frame
outside the ``minigrad`` and ``nn`` packages, noted when the node was recorded. NumPy's own
warnings of overflow, division by zero and invalid values are off inside: the error says more.

A forward anomaly is raised when the next node is recorded (or when the block ends): by then a
layer has given the node its role label. It is a listener on the engine's one hook
(``minigrad/hooks.py``): outside the block nothing is checked and nothing is paid.
"""
from __future__ import annotations

import linecache
import sys
import weakref

from . import backend
from .hooks import listen
from .scope import current_scope
from .tensor import Tensor, unwrap

LIBRARY_PACKAGES = ("minigrad", "nn")
"""Frames in these packages are the library's; the first frame outside them is the user's."""


class AnomalyError(RuntimeError):
    """An op made a NaN or an infinity inside ``minigrad.detect_anomaly()``."""


class detect_anomaly:
    """Context manager: raise :class:`AnomalyError` at the first op whose output (forward) or
    input gradient (backward) holds a NaN or an infinity. See the module docstring."""

    def __init__(self):
        self._watcher = _Watcher()
        self._listening = listen(self._watcher)
        self._quiet = backend.warnings_off("over", "divide", "invalid")  # reported better here

    def __enter__(self):
        self._quiet.__enter__()
        self._listening.__enter__()
        return self

    def __exit__(self, exc_type, *exc):
        self._listening.__exit__(exc_type, *exc)
        self._quiet.__exit__(exc_type, *exc)
        if exc_type is None:
            self._watcher.raise_pending()


class _Watcher:
    """The listener: notes where each node was recorded, checks what the engine made."""

    def __init__(self):
        # node -> ((file, line, function), scope): where and in which scope it was recorded
        self.recorded_at = weakref.WeakKeyDictionary()
        self.pending = None  # the first forward anomaly, raised at the next node

    def on_node(self, node, inputs, outputs):
        self.raise_pending()
        self.recorded_at[node] = (_user_frame(), current_scope())
        for k, out in enumerate(outputs):
            bad = _not_finite(out._data)
            if bad is not None:
                self.pending = (node, k, bad, out.shape, _shapes(inputs), _first_bad_input(inputs))
                return

    def on_backward(self, node, grad_outputs, grad_inputs):
        self.raise_pending()
        for i, g in enumerate(grad_inputs):
            bad = None if g is None else _not_finite(unwrap(g))
            if bad is None:
                continue
            received = [r for r in map(_not_finite, map(unwrap, grad_outputs)) if r is not None]
            origin = (f"the gradient it received already held {received[0]}" if received
                      else "the gradient it received was finite")
            raise AnomalyError(
                f"detect_anomaly: the backward of {node.name} returned {bad} in the gradient of "
                f"its input {i} (shape {_shape(g)}); {origin}"
                f"{_describe(node, 0, self.recorded_at.get(node))}")

    def raise_pending(self):
        if self.pending is None:
            return
        node, k, bad, shape, input_shapes, bad_input = self.pending
        self.pending = None
        origin = "its inputs were finite" if bad_input is None else bad_input
        raise AnomalyError(
            f"detect_anomaly: {node.name} returned {bad} in its output {k} (shape {shape}) "
            f"from inputs of shapes {input_shapes}; {origin}"
            f"{_describe(node, k, self.recorded_at.get(node))}")


def _not_finite(array) -> str | None:
    """"nan", "inf" or "-inf" for a floating-point array that holds one (NaN first), else None."""
    if not backend.is_array(array) or not backend.is_floating(array.dtype):
        return None
    xp = backend.get_array_module(array)
    if bool(xp.isfinite(array).all()):
        return None
    if bool(xp.isnan(array).any()):
        return "nan"
    return "inf" if bool((array == xp.inf).any()) else "-inf"


def _first_bad_input(inputs) -> str | None:
    """Which input already held a NaN or inf (so the anomaly began earlier), or None."""
    for i, x in enumerate(inputs):
        bad = _not_finite(unwrap(x))
        if bad is not None:
            node = x.grad_fn if isinstance(x, Tensor) else None
            made_by = "a leaf: data or a parameter" if node is None else f"made by {node.name}"
            return f"its input {i} (shape {_shape(x)}, {made_by}) already held {bad}"
    return None


def _shape(x) -> tuple:
    return tuple(getattr(x, "shape", ()))


def _shapes(inputs) -> str:
    return ", ".join(str(_shape(x)) if isinstance(x, Tensor) or backend.is_array(x) else repr(x)
                     for x in inputs)


def _role(node, index: int):
    """The node's role label for output ``index`` (``"f_t"``), or None (read defensively: the
    engine may keep roles elsewhere)."""
    role = getattr(node, "role", None)
    try:
        return role(index) if callable(role) else role
    except (AttributeError, IndexError, TypeError):
        return None


def _scope_text(scope) -> str | None:
    """"lstm.l1 (layer=1, step=17)" for the scope a node was recorded in, or None."""
    if scope is None:
        return None
    path = "/".join(scope.path()) if hasattr(scope, "path") else str(scope)
    tags = scope.tags() if hasattr(scope, "tags") else {}
    shown = ", ".join(f"{k}={v}" for k, v in tags.items())
    return f"{path} ({shown})" if shown else path


def _describe(node, index: int, noted) -> str:
    """The node's role, scope and the user's line that recorded it (``noted``: what on_node
    noted, or None), as the end of a message."""
    where, scope = noted if noted is not None else (None, None)
    parts = []
    role = _role(node, index)
    if role is not None:
        parts.append(f"role {role}")
    scope = _scope_text(scope)
    if scope is not None:
        parts.append(f"scope {scope}")
    if where is not None:
        filename, line, function = where
        code = linecache.getline(filename, line).strip()
        parts.append(f"recorded at {filename}:{line} in {function}" + (f": {code}" if code else ""))
    else:
        parts.append("recorded before detect_anomaly() began, so where is unknown")
    return "; " + "; ".join(parts)


def _user_frame():
    """(file, line, function) of the first caller outside the library packages."""
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.split(".")[0] not in LIBRARY_PACKAGES:
            return frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name
        frame = frame.f_back
    return None
