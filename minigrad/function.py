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

A class sets ``saves_inputs = True`` to get its inputs back from ``self.inputs()`` during
backward (or a tuple of input positions, to keep only those: the others come back as None),
or ``saves_output = True`` to get its result back from ``self.output()``; both give
arrays or Tensors as above. ``self.saved`` holds the input arrays themselves, for values that
are constants of the derivative (a mask, a sign). Apart from the inputs no gradient flows to
(``self.constants``, for the renderer), nothing else is kept: the graph links a node to the
nodes that made its inputs (``self.next``), not to the intermediate tensors, so an intermediate
array lives only as long as someone saved it.
"""
from __future__ import annotations

import re

from . import backend
from .tensor import Tensor


class _State:
    """Global switches read on every op: grad mode, the current scope, gradient recording."""

    __slots__ = ("grad_enabled", "scope", "record_grads", "listeners")

    def __init__(self):
        self.grad_enabled = True
        self.scope = None
        self.record_grads = False
        self.listeners = ()  # see minigrad/hooks.py


STATE = _State()


class Function:
    """Base class of every primitive op. See the module docstring for how to write one."""

    saves_inputs = False
    saves_output = False
    broadcasts = False   # binary elementwise ops: operand dtypes are reconciled first

    # What a recorded node holds. The common fields are slots (a long unrolled graph has many
    # nodes); the rare ones are class defaults that a node overrides only when it needs to.
    __slots__ = (
        "next",          # per input: None, a leaf Tensor, or (producing Function, output index)
        "saved",         # the input arrays (constants as given), when the op saves them
        "out",           # the output array(s), when the op saves them
        "shapes",        # output shapes, for the renderer
        "scope",         # the Scope active when the node was recorded
        "small_value",   # output data when it has at most 16 elements (drawn micrograd-style)
        "roles",         # per output, its role label such as "f_t" (or None): see Tensor.label
        "constants",     # {input index: array or number} for inputs that carry no gradient
        "freed",         # set once backward has dropped what forward saved
        "__weakref__",
    )
    n_outputs = 1        # multi-output ops (split, unbind) set their own count
    moves = False        # True for the ops that only move elements (ops/shape.py)
    grad_norms = None    # filled by backward inside minigrad.record_grads()
    grad_values = None
    cuts = None          # {input index: (Tensor._detached_from, shape)}: inputs cut by detach()
    # Subclasses declare no slots, so they also get a __dict__ for the facts their forward
    # keeps (an axis, a shape); it is created only by the ops that keep such facts.

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs, **options):
        """Run forward on the inputs' arrays and, if any input needs a gradient, record a node.

        ``inputs`` are Tensors or constants (Python scalars, arrays); ``options`` go to forward.
        Returns a Tensor, or a tuple of Tensors for multi-output ops; with no Tensor among the
        inputs, the plain array(s) (how a backward formula computes when no graph is wanted).
        """
        fn = cls.__new__(cls)
        arrays, edges = [], []
        any_tensor = needs_grad = cut = False
        constants = None  # {input index: array or number} for inputs no gradient flows to
        for x in inputs:  # one pass: the arrays, where gradients go, constants, detached inputs
            if isinstance(x, Tensor):
                any_tensor = True
                arrays.append(x._data)
                if x._requires_grad:
                    needs_grad = True
                    edges.append(x if x.grad_fn is None else (x.grad_fn, x._output_index))
                    continue
                if x._detached_from is not None:
                    cut = True
            elif type(x) in _NOT_OPERANDS:  # NumPy would make a float64 or complex array of it
                raise _operand_error(cls.__name__, x, inputs)
            else:
                arrays.append(x)
            if constants is None:
                constants = {len(edges): arrays[-1]}
            else:
                constants[len(edges)] = arrays[-1]
            edges.append(None)
        if cls.broadcasts:
            dtype_a = getattr(arrays[0], "dtype", None)
            if dtype_a is not None and dtype_a is not getattr(arrays[1], "dtype", dtype_a):
                _reconcile_dtypes(cls.__name__, inputs, arrays)
        if _CHECK_DEVICES and any_tensor:
            _check_same_device(cls.__name__, inputs)
        try:  # (an empty **options still costs a dict on every call)
            out = fn.forward(*arrays, **options) if options else fn.forward(*arrays)
        except (ValueError, TypeError, IndexError) as err:
            raise _input_error(cls.__name__, err, inputs) from err

        if not any_tensor:
            return out
        if not (needs_grad and STATE.grad_enabled):
            outs = tuple([Tensor._make(o) for o in out]) if type(out) is tuple else Tensor._make(out)
            if cut and STATE.grad_enabled:
                _carry_cut(fn, inputs, outs)
            return outs

        fn.next = tuple(edges)
        fn.constants = constants  # (the renderer draws them, even after backward)
        if cut:
            _note_cuts(fn, inputs)
        saves = cls.saves_inputs
        if saves is True:
            fn.saved = arrays
        elif saves:  # a tuple of input positions
            fn.saved = _only(arrays, saves)
        else:
            fn.saved = None
        fn.out = out if cls.saves_output else None
        fn.scope = STATE.scope
        fn.roles = None
        fn.freed = False
        if type(out) is tuple:
            fn.n_outputs = len(out)
            fn.shapes = tuple([o.shape for o in out])
            fn.small_value = None
            result = tuple([Tensor._make(o, fn, i) for i, o in enumerate(out)])
            if STATE.listeners:
                hooks.tell_node(fn, inputs, result)
            return result
        fn.shapes = (out.shape,)
        fn.small_value = out if out.size <= 16 else None
        result = Tensor._make(out, fn, 0)
        if STATE.listeners:
            hooks.tell_node(fn, inputs, (result,))
        return result

    def forward(self, *arrays):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, *grads):  # pragma: no cover - abstract
        raise NotImplementedError

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
                todo += [e for e in fn.next if type(e) is tuple]
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

    def needs_grad(self, i: int) -> bool:
        """Whether input ``i`` wants a gradient (skip computing the others)."""
        return self.next[i] is not None

    def inputs(self):
        """The saved inputs, for backward: the arrays, or, while the backward pass is recorded
        (``create_graph=True``), Tensors linked to the graph so that it reaches them."""
        if not STATE.grad_enabled:
            return self.saved
        return tuple(_linked(edge, x) for edge, x in zip(self.next, self.saved))

    def output(self, index: int = 0):
        """The saved output, for backward: the array, or while the backward pass is recorded a
        Tensor that belongs to this node (so that higher-order gradients flow through it)."""
        out = self.out if self.n_outputs == 1 else self.out[index]
        return Tensor._make(out, self, index) if STATE.grad_enabled else out

    def release(self) -> None:
        """Drop what forward saved; the graph's shape (``next``) stays for the renderer."""
        self.saved = None
        self.out = None
        self.freed = True

    def __repr__(self) -> str:
        return f"<{self.name}>"


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
    return Tensor._make(array, *edge) if type(edge) is tuple else edge


def _note_cuts(fn: Function, inputs) -> None:
    """Remember which inputs were cut from an earlier graph by ``detach()`` (truncated BPTT),
    so the renderer can draw the cut as a dashed edge even after backward."""
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x._detached_from is not None and not x.requires_grad:
            if fn.cuts is None:
                fn.cuts = {}
            fn.cuts[i] = (x._detached_from, x.shape)


def _carry_cut(fn: Function, inputs, outs) -> None:
    """A slice or reshape of a detached state (``h_0 = hx[k]``) is still the cut state. A slice
    that takes one part of a cut stack back whole (layer k's h from h_n) also notes which part:
    a drawing joins layer k's initial state to layer k's last one, not to every layer's."""
    for x in inputs:
        trace = x._detached_from if isinstance(x, Tensor) else None
        if trace is not None:
            source = trace[0]() if trace[3] is None else None
            for k, out in enumerate(outs if type(outs) is tuple else (outs,)):
                part = fn.part_taken(k, source) if source is not None else None
                out._detached_from = trace if part is None else trace[:3] + (part,)
            return


def _reconcile_dtypes(op: str, inputs, arrays) -> None:
    """Binary elementwise ops never promote silently: a constant takes the tensor's dtype, an
    integer or bool tensor takes the float tensor's dtype, two float dtypes that differ are an
    error (a float32 model quietly computing in float64 is slow and hard to notice)."""
    a, b = arrays
    dtype_a = getattr(a, "dtype", None)
    dtype_b = getattr(b, "dtype", None)
    for operand, dtype in zip(arrays, (dtype_a, dtype_b)):
        if dtype is not None and not hasattr(dtype, "kind"):  # another library's tensor (torch)
            raise _operand_error(op, operand, inputs)
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
    kind = type(operand)
    name = (kind.__name__ if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}")  # torch.Tensor, not Tensor
    values = "x.detach().numpy()" if hasattr(operand, "detach") else "..."  # a PyTorch tensor
    return TypeError(f"{_snake(op)}: operands must be tensors, arrays or numbers, got a "
                     f"{name} ({' '.join(repr(operand).split())[:40]}) as input {position}; "
                     f"make it a tensor first: minigrad.tensor({values}, dtype=minigrad.{dtype})")


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
