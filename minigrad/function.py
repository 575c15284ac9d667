"""`Function`: one node of the recorded graph, with its forward and its backward side by side.

A primitive op subclasses Function and writes two methods:

* ``forward(self, *arrays)`` computes on raw backend arrays and may keep small facts on
  ``self`` (an axis, a shape) for later;
* ``backward(self, *grads)`` returns one gradient per input, written once with operators
  (``+ - * / @``, indexing), array methods that Tensors share (``reshape``, ``sum``,
  ``transpose``, ``T``) and ops (``Op.apply``, ``minigrad.log``...).

The engine runs a backward formula in one of two ways. Usually nobody differentiates the
backward pass, so the gradients and saved values it gets are plain backend arrays and every op
in the formula just computes: a Function applied to plain arrays (no Tensor among its inputs)
runs its forward and returns the plain result, recording nothing. With ``create_graph=True``
they are Tensors linked to the graph, the same formula records a graph of its own, and it can be
differentiated again. One formula, so second derivatives are never a second piece of code.

Saved values come back one way: a class sets ``saves_inputs = True`` (or a tuple of input
positions, to keep only those: the others come back as None) and reads them in backward with
``self.inputs()``, or sets ``saves_output = True`` and reads ``self.output()``; both give arrays
or Tensors as above. A constant of the derivative (a mask, a sign) is computed from their data,
``unwrap(x) > 0``: it takes no part in a second derivative. Nothing else is kept: the graph links
a node to the nodes that made its inputs (``self.next``), not to the intermediate tensors, so an
intermediate array lives only as long as someone saved it. Whatever else wants to know about a
node (its scope, shapes, values: the renderer's recorder) hears of it through ``hooks.py``.
"""
from __future__ import annotations

import re

from typing import NamedTuple

from . import backend
from .tensor import Tensor


class _State:
    """Global switches read on every op: grad mode, the current scope, who listens."""

    __slots__ = ("grad_enabled", "scope", "listeners")

    def __init__(self):
        self.grad_enabled = True
        self.scope = None     # see minigrad/scope.py
        self.listeners = ()   # see minigrad/hooks.py


STATE = _State()


class Edge(NamedTuple):
    """Where an input came from: output ``index`` of ``node``. A node's ``next`` holds, per
    input, an Edge, the leaf Tensor itself, or None (a constant: no gradient goes there)."""

    node: "Function"
    index: int


class Function:
    """Base class of every primitive op. See the module docstring for how to write one."""

    saves_inputs = False  # True, or a tuple of the input positions to keep
    saves_output = False
    broadcasts = False    # binary elementwise ops: operand dtypes are reconciled first

    # A long unrolled graph has many nodes: the fields every node has are slots. Subclasses
    # declare none, so they also get a __dict__ for the facts their forward keeps (an axis).
    __slots__ = ("next", "_inputs", "_output", "freed", "__weakref__")
    n_outputs = 1        # multi-output ops (split, unbind) set their own count
    moves = False        # True for the ops that only move elements (ops/shape.py)
    roles = None         # per output, its role label such as "f_t" (see Tensor.label)

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs, **options):
        """Run forward on the inputs' arrays and, if an input needs a gradient, record a node.

        ``inputs`` are Tensors or constants (Python scalars, arrays); ``options`` go to forward.
        Returns a Tensor, or a tuple of Tensors for multi-output ops; with no Tensor among the
        inputs, the plain array(s) (how a backward formula computes when no graph is wanted).
        """
        arrays, edges = operands(cls, inputs)
        node = cls.__new__(cls)
        out = run_forward(node, arrays, options, inputs)
        if edges is None:                      # no Tensor in: plain arrays out
            return out
        if not (edges and STATE.grad_enabled):  # nothing needs a gradient: no node
            return untracked(node, out, inputs)
        node.next = edges
        node.keep(arrays, out)
        if type(out) is tuple:
            node.n_outputs = len(out)
            outputs = tuple([Tensor._make(o, node, i) for i, o in enumerate(out)])
        else:
            outputs = Tensor._make(out, node, 0)
        if STATE.listeners:
            hooks.tell_node(node, inputs, outputs if type(outputs) is tuple else (outputs,))
        return outputs

    def forward(self, *arrays):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, *grads):  # pragma: no cover - abstract
        raise NotImplementedError

    # --- what backward reads ------------------------------------------------------------
    def needs_grad(self, i: int) -> bool:
        """Whether input ``i`` wants a gradient (skip computing the others)."""
        return self.next[i] is not None

    def inputs(self):
        """The saved inputs: arrays, or, while the backward pass is recorded
        (``create_graph=True``), Tensors linked to the graph so that it reaches them. An input
        the op did not save is None."""
        if not STATE.grad_enabled:
            return self._inputs
        return tuple(_linked(edge, x) for edge, x in zip(self.next, self._inputs))

    def output(self, index: int = 0):
        """Saved output ``index``: the array, or, while the backward pass is recorded, a Tensor
        of this node (so that higher-order gradients flow through it)."""
        out = self._output if self.n_outputs == 1 else self._output[index]
        return Tensor._make(out, self, index) if STATE.grad_enabled else out

    def keep(self, arrays: list, out) -> None:
        """Save what backward will read: the inputs the class asks for, and the output."""
        saves = type(self).saves_inputs
        self._inputs = arrays if saves is True else _only(arrays, saves) if saves else None
        self._output = out if type(self).saves_output else None
        self.freed = False

    def release(self) -> None:
        """Drop what forward saved; the graph's shape (``next``) stays."""
        self._inputs = self._output = None
        self.freed = True

    # --- role labels and cuts (for whoever names or draws the graph) --------------------------
    def role(self, index: int = 0):
        """The role label of output ``index`` (``"f_t"``, ``"C_t"``...), or None."""
        return self.roles[index] if self.roles is not None else None

    def cut_role(self, index: int = 0):
        """The role label of output ``index`` or, through ops that only move elements (the stack
        that makes h_n, a slice, a reshape), the one label of what they move: what a ``detach()``
        of it cuts. The detached tensor keeps it, so a drawing names the cut once this graph is
        gone."""
        role = self.role(index)
        if role is not None or not self.moves:
            return role
        roles, todo, seen = set(), [(self, index)], set()
        while todo:
            fn, i = todo.pop()
            role = fn.role(i)
            if role is not None:
                roles.add(role)
            elif fn.moves and id(fn) not in seen:
                seen.add(id(fn))
                todo += [e for e in fn.next if isinstance(e, Edge)]
        return roles.pop() if len(roles) == 1 else None

    def part_taken(self, index: int, source: "Function") -> int | None:
        """Which input of ``source`` (the node a cut input was detached from) output ``index``
        takes back whole, when this op unbinds or indexes a stack; None otherwise."""
        return None

    def option_arrays(self) -> tuple:
        """The arrays this op was given as options rather than inputs (an index array, the
        condition of a ``where``): like its constants they carry no gradient, and they may be
        data. For the renderer, which draws no parameter computed from data."""
        return ()

    def __repr__(self) -> str:
        return f"<{self.name}>"


# --- the helpers of apply --------------------------------------------------------------------
def operands(cls, inputs) -> tuple:
    """(the arrays forward computes on, per input where its gradient goes: an Edge, a leaf, or
    None), after the checks: operand types, dtypes, devices. The edges are ``()`` when no input
    needs a gradient, None when no input is a Tensor (a backward formula on plain arrays)."""
    arrays, edges, tensors, needs_grad = [], [], 0, False
    for x in inputs:
        if isinstance(x, Tensor):
            tensors += 1
            arrays.append(x.data)
            if x._requires_grad:
                needs_grad = True
                edges.append(x if x.grad_fn is None else Edge(x.grad_fn, x._output_index))
            else:
                edges.append(None)
        elif type(x) in _NOT_OPERANDS:  # NumPy would make a float64 or complex array of it
            raise _operand_error(cls.__name__, x, inputs)
        else:
            arrays.append(x)
            edges.append(None)
    if cls.broadcasts:
        dtype_a = getattr(arrays[0], "dtype", None)
        if dtype_a is not None and dtype_a is not getattr(arrays[1], "dtype", dtype_a):
            _reconcile_dtypes(cls.__name__, inputs, arrays)
    if _CHECK_DEVICES and tensors:
        _check_same_device(cls.__name__, inputs)
    return arrays, (tuple(edges) if needs_grad else ()) if tensors else None


def run_forward(node: Function, arrays: list, options: dict, inputs):
    """``node.forward``, with an error that names the op and its inputs' shapes."""
    try:
        return node.forward(*arrays, **options)
    except (ValueError, TypeError, IndexError) as err:
        raise _input_error(node.name, err, inputs) from err


def untracked(node: Function, out, inputs):
    """The outputs as Tensors outside any graph (nothing needed a gradient, or grad mode is
    off). A move of a detached state (``h_0 = hx[k]``) stays what it was cut from."""
    if type(out) is tuple:
        outputs = tuple([Tensor._make(o) for o in out])
        _carry_cut(node, inputs, outputs)
    else:
        outputs = Tensor._make(out)
        _carry_cut(node, inputs, (outputs,))
    return outputs


_CHECK_DEVICES = backend.cupy is not None
_NOT_OPERANDS = frozenset({list, tuple, complex})


def _only(arrays: list, positions: tuple) -> list:
    """The inputs at ``positions`` kept, the others None (so that they can be freed)."""
    kept = [None] * len(arrays)
    for i in positions:
        kept[i] = arrays[i]
    return kept


def _linked(edge, array):
    """A saved input as a recorded backward pass sees it: a constant stays its array, a leaf is
    the leaf itself, an op's output becomes a Tensor of that node (so gradients reach it); an
    input that was not saved stays None."""
    if edge is None or array is None:
        return array
    return Tensor._make(array, *edge) if isinstance(edge, Edge) else edge


def _carry_cut(node: Function, inputs, outputs: tuple) -> None:
    """A slice or reshape of a detached state is still the cut state; one that takes one part
    of a cut stack back whole (layer k's h from h_n) also notes which part, so that a drawing
    joins layer k's initial state to layer k's last one, not to every layer's."""
    if not STATE.grad_enabled:
        return
    for x in inputs:
        cut = x.cut_from if isinstance(x, Tensor) else None
        if cut is not None:
            source = cut.node if cut.part is None else None
            for k, out in enumerate(outputs):
                part = node.part_taken(k, source) if source is not None else None
                out._cut = cut if part is None else cut._replace(part=part)
            return


def _reconcile_dtypes(op: str, inputs, arrays) -> None:
    """Binary elementwise ops never promote silently: a constant takes the tensor's dtype, an
    integer or bool tensor takes the float tensor's dtype, two float dtypes that differ are an
    error (a float32 model quietly computing in float64 is slow and hard to notice)."""
    a, b = arrays
    dtype_a = getattr(a, "dtype", None)
    dtype_b = getattr(b, "dtype", None)
    if dtype_a is None or dtype_b is None or dtype_a == dtype_b:
        return
    if "c" in (dtype_a.kind, dtype_b.kind):  # (the cast below would drop the imaginary part)
        raise TypeError(f"{_snake(op)}: minigrad computes with real numbers, got dtypes "
                        f"{dtype_a} {a.shape} and {dtype_b} {b.shape}")
    tensor_a, tensor_b = isinstance(inputs[0], Tensor), isinstance(inputs[1], Tensor)
    float_a, float_b = backend.is_floating(dtype_a), backend.is_floating(dtype_b)
    if tensor_a and tensor_b and float_a and float_b:
        raise TypeError(f"{_snake(op)}: dtypes differ: {dtype_a} {a.shape} and {dtype_b} {b.shape}; "
                        "convert one with .to(dtype=...)")
    if float_a and (not float_b or not tensor_b):
        arrays[1] = b.astype(dtype_a)
    elif float_b and (not float_a or not tensor_a):
        arrays[0] = a.astype(dtype_b)


def _operand_error(op: str, operand, inputs) -> TypeError:
    """A list or tuple operand (``x + [1.0, 2.0]``) is refused, as in PyTorch: NumPy would turn
    it into a float64 array and compute a float32 model's op in float64. So is a complex number:
    minigrad has no complex dtypes."""
    position = next(i for i, x in enumerate(inputs) if x is operand)
    if type(operand) is complex:
        return TypeError(f"{_snake(op)}: minigrad computes with real numbers, got the complex "
                         f"number {operand!r} as input {position}")
    dtype = next((x.dtype for x in inputs if isinstance(x, Tensor)), backend.DEFAULT_FLOAT)
    return TypeError(f"{_snake(op)}: operands must be tensors, arrays or numbers, got a "
                     f"{type(operand).__name__} ({repr(operand)[:40]}) as input {position}; "
                     f"make it a tensor first: minigrad.tensor(..., dtype=minigrad.{dtype})")


def _check_same_device(op: str, inputs) -> None:
    devices = {x.device for x in inputs if isinstance(x, Tensor)}
    if len(devices) > 1:
        shown = ", ".join(f"{x.device} {tuple(x.shape)}" for x in inputs if isinstance(x, Tensor))
        raise RuntimeError(f"{op}: inputs are on different devices ({shown}); move them with .to()")


def _input_error(op: str, err: Exception, inputs) -> Exception:
    message = str(err)
    if message.split(":")[0].replace("_", "") == op.lower():  # already says which op
        return err
    shown = ", ".join(
        f"{tuple(x.shape)} {x.dtype}" if isinstance(x, Tensor) else repr(x) for x in inputs
    )
    kind = next(k for k in (ValueError, TypeError, IndexError) if isinstance(err, k))
    return kind(f"{_snake(op)}: {message} (inputs: {shown})")


def _snake(op: str) -> str:
    """An op's name as users spell it in messages: BroadcastTo -> broadcast_to."""
    return _SPELLED.get(op) or re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower()


_SPELLED = {"MatMul": "matmul", "AddMM": "addmm", "GetItem": "getitem"}


from . import hooks  # noqa: E402  (hooks reads STATE, defined above)
