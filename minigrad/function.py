"""`Function`: one node of the recorded graph, with its forward and its backward side by side.

A primitive op subclasses Function and writes two methods:

* ``forward(self, *arrays)`` computes on raw backend arrays and may keep small facts on
  ``self`` (an axis, a shape) for later;
* ``backward(self, *grads)`` returns one gradient per input, written with *Tensor* ops, so that
  differentiating the backward pass (``create_graph=True``) needs nothing more.

A class sets ``saves_inputs = True`` to find its input Tensors in ``self.inputs`` during
backward, or ``saves_output = True`` to get its result back from ``self.output()``. Nothing
else is kept: the graph links a node to the nodes that made its inputs (``self.next``), not to
the intermediate tensors, so an intermediate array lives only as long as someone saved it.
"""
from __future__ import annotations

from . import backend
from .tensor import Tensor


class _State:
    """Global switches read on every op: grad mode, the current scope, gradient recording."""

    __slots__ = ("grad_enabled", "scope", "record_grads")

    def __init__(self):
        self.grad_enabled = True
        self.scope = None
        self.record_grads = False


STATE = _State()


class Function:
    """Base class of every primitive op. See the module docstring for how to write one."""

    saves_inputs = False
    saves_output = False

    __slots__ = (
        "next",          # per input: None, a leaf Tensor, or (producing Function, output index)
        "inputs",        # the input Tensors, when the op saves them
        "out",           # the output array, when the op saves it
        "n_outputs",
        "shapes",        # output shapes, for the renderer
        "dtype",
        "scope",         # the Scope active when the node was recorded
        "roles",         # {output index: role label such as "f_t"}
        "small_value",   # output data when it has at most 16 elements (drawn micrograd-style)
        "grad_norms",    # filled by backward inside minigrad.record_grads()
        "grad_values",
        "freed",
        "__dict__",      # per-op facts set in forward (axis, shape, ...)
        "__weakref__",
    )

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs, **options):
        """Run forward on the inputs' arrays and, if any input needs a gradient, record a node.

        ``inputs`` are Tensors or Python scalars (constants); ``options`` go to forward.
        Returns a Tensor, or a tuple of Tensors for multi-output ops.
        """
        fn = cls.__new__(cls)
        arrays = [x.data if type(x) is Tensor or isinstance(x, Tensor) else x for x in inputs]
        if backend.cupy is not None:
            _check_same_device(cls.__name__, inputs)
        try:
            out = fn.forward(*arrays, **options)
        except (ValueError, TypeError, IndexError) as err:
            raise _input_error(cls.__name__, err, inputs) from err

        needs_grad = False
        if STATE.grad_enabled:
            for x in inputs:
                if isinstance(x, Tensor) and x.requires_grad:
                    needs_grad = True
                    break
        multi = type(out) is tuple
        if not needs_grad:
            if multi:
                return tuple(Tensor._make(o) for o in out)
            return Tensor._make(out)

        fn.next = tuple(_edge(x) for x in inputs)
        fn.inputs = inputs if cls.saves_inputs else None
        fn.out = out if cls.saves_output else None
        fn.scope = STATE.scope
        fn.roles = None
        fn.grad_norms = None
        fn.freed = False
        if multi:
            fn.n_outputs = len(out)
            fn.shapes = tuple(o.shape for o in out)
            fn.dtype = out[0].dtype
            fn.small_value = None
            return tuple(Tensor._make(o, fn, i) for i, o in enumerate(out))
        fn.n_outputs = 1
        fn.shapes = (out.shape,)
        fn.dtype = out.dtype
        fn.small_value = out if out.size <= 16 else None
        return Tensor._make(out, fn, 0)

    def forward(self, *arrays):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, *grads):  # pragma: no cover - abstract
        raise NotImplementedError

    def needs_grad(self, i: int) -> bool:
        """Whether input ``i`` wants a gradient (skip computing the others)."""
        return self.next[i] is not None

    def output(self, index: int = 0) -> Tensor:
        """The saved output as a Tensor that belongs to this node (for higher-order grads)."""
        out = self.out if self.n_outputs == 1 else self.out[index]
        return Tensor._make(out, self, index)

    def release(self) -> None:
        """Drop what forward saved; the graph's shape (``next``) stays for the renderer."""
        self.inputs = None
        self.out = None
        self.freed = True

    def __repr__(self) -> str:
        return f"<{self.name}>"


def _edge(x):
    if not isinstance(x, Tensor) or not x.requires_grad:
        return None
    if x.grad_fn is None:
        return x
    return (x.grad_fn, x._output_index)


def _check_same_device(op: str, inputs) -> None:
    devices = {x.device for x in inputs if isinstance(x, Tensor)}
    if len(devices) > 1:
        shown = ", ".join(f"{x.device} {tuple(x.shape)}" for x in inputs if isinstance(x, Tensor))
        raise RuntimeError(f"{op}: inputs are on different devices ({shown}); move them with .to()")


def _input_error(op: str, err: Exception, inputs) -> Exception:
    message = str(err)
    if message.startswith(op.lower() + ":"):
        return err
    shown = ", ".join(
        f"{tuple(x.shape)} {x.dtype}" if isinstance(x, Tensor) else repr(x) for x in inputs
    )
    kind = next(k for k in (ValueError, TypeError, IndexError) if isinstance(err, k))
    return kind(f"{op.lower()}: {message} (inputs: {shown})")
