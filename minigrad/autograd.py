"""What users call to differentiate: ``backward``, ``grad``, and the grad-mode switches
``no_grad`` and ``enable_grad``. The walk itself is in ``minigrad/function.py``, beside the
recording of the nodes it walks."""
from __future__ import annotations

from . import checks
from .function import STATE, backward, run_backward
from .hooks import listen
from .tensor import Tensor


class no_grad:
    """Record nothing inside (context manager or decorator)."""

    _enabled = False

    def __new__(cls, func=None):
        """``no_grad()`` is the context manager; ``@no_grad`` without parentheses decorates."""
        self = super().__new__(cls)
        return self if func is None else self(func)

    def __enter__(self):
        self._previous = STATE.grad_enabled
        STATE.grad_enabled = self._enabled

    def __exit__(self, *exc):
        STATE.grad_enabled = self._previous

    def __call__(self, func):
        def wrapper(*args, **kwargs):
            with type(self)():
                return func(*args, **kwargs)

        wrapper.__name__ = getattr(func, "__name__", "wrapper")
        wrapper.__doc__ = getattr(func, "__doc__", None)
        return wrapper


class enable_grad(no_grad):
    """Record again inside a ``no_grad`` region (context manager or decorator)."""

    _enabled = True


def is_grad_enabled() -> bool:
    return STATE.grad_enabled


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         allow_unused: bool = False):
    """Return d(outputs)/d(inputs) as a tuple of Tensors, leaving every ``.grad`` untouched."""
    single_input = isinstance(inputs, Tensor)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if single_input else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            what = (f"shape {x.shape}, dtype {x.dtype}" if isinstance(x, Tensor)
                    else f"a {type(x).__name__}, not a Tensor")
            raise ValueError(f"grad: input {i} ({what}) does not require grad")
    seeds = [checks.seed(o, g, "grad") for o, g in zip(outputs, grad_outputs)]
    keep = create_graph if retain_graph is None else retain_graph
    collect = _Collect(inputs)
    with listen(collect):  # (it hears the gradients of the inputs that are outputs of ops)
        run_backward(outputs, seeds, keep, create_graph, to_leaf=collect.to_leaf)
    found = [collect.found(x, create_graph) for x in inputs]
    for i, g in enumerate(found):
        if g is None and not allow_unused:
            raise ValueError(f"grad: input {i} (shape {inputs[i].shape}) is not part of the graph "
                             "of the outputs; pass allow_unused=True to get None")
    return tuple(found)


class _Collect:
    """The gradients of the tensors ``grad`` was asked for: summed where they reach a leaf, the
    gradient an op's output received when that op's node runs."""

    def __init__(self, tensors):
        self.wanted = {id(t) for t in tensors if t.grad_fn is None}
        self.wanted_outputs = {(t.grad_fn, t._output_index) for t in tensors
                               if t.grad_fn is not None}
        self.grads = {}  # id(leaf) or (node, output index) -> gradient

    def to_leaf(self, leaf: Tensor, g) -> None:
        if id(leaf) in self.wanted:
            held = self.grads.get(id(leaf))
            self.grads[id(leaf)] = g if held is None else held + g

    def on_backward(self, node, grad_outputs, grad_inputs) -> None:
        for index, g in enumerate(grad_outputs):
            if (node, index) in self.wanted_outputs:
                self.grads[node, index] = g

    def found(self, t: Tensor, create_graph: bool):
        g = self.grads.get(id(t) if t.grad_fn is None else (t.grad_fn, t._output_index))
        return g if g is None or create_graph else Tensor._make(g)


__all__ = ["backward", "enable_grad", "grad", "is_grad_enabled", "no_grad"]
