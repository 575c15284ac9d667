"""Reverse mode: walk the recorded graph from the output back to the leaves.

1. Count, for every node reachable from the outputs, how many of its outputs' consumers are
   reachable too (an iterative depth-first walk: no recursion, so a 100,000-op chain is fine).
2. Start from the outputs with their seed gradients. A node is ready when all of its consumers
   have sent their gradient; then its ``backward`` turns the summed output gradients into input
   gradients, which go to the nodes (or leaves) that made those inputs.

This visits every node once, in reverse topological order. Gradients travel as plain arrays,
so each backward formula just computes (see ``minigrad/function.py``); with ``create_graph``
they travel as Tensors and the formulas record the graph of the backward pass. A gradient that
arrives is never changed in place (it may be shared, or held by a higher-order graph): the first
sum is a new array; later ones add into that array, which only the engine holds.
"""
from __future__ import annotations

from . import backend, hooks
from .function import STATE, Edge, Function
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


def backward(tensor: Tensor, grad=None, retain_graph: bool = False, create_graph: bool = False):
    """Accumulate d(tensor)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    ``grad`` is the seed (d loss / d tensor); it may be omitted only for a one-element tensor.
    Unless ``retain_graph``, what the graph saved for backward is freed afterwards.
    """
    seed = _seed(tensor, grad, "backward")
    _run([tensor], [seed], retain_graph or create_graph, create_graph, targets=None)


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
    seeds = [_seed(o, g, "grad") for o, g in zip(outputs, grad_outputs)]
    keep = create_graph if retain_graph is None else retain_graph
    # an input listed twice gets its gradient twice: the engine is asked for each one once
    unique = list({id(x): x for x in inputs}.values())
    by_id = dict(zip(map(id, unique), _run(outputs, seeds, keep, create_graph, targets=unique)))
    found = [by_id[id(x)] for x in inputs]
    for i, g in enumerate(found):
        if g is None and not allow_unused:
            raise ValueError(f"grad: input {i} (shape {inputs[i].shape}) is not part of the graph "
                             "of the outputs; pass allow_unused=True to get None")
    return tuple(found)


def _seed(tensor: Tensor, grad, op: str) -> Tensor:
    if not tensor.requires_grad:
        raise RuntimeError(f"{op}: the tensor (shape {tensor.shape}) does not require grad "
                           "and has no grad_fn")
    if grad is None:
        if tensor.size != 1:
            raise ValueError(f"{op}: grad can be implicit only for a one-element output, got shape "
                             f"{tensor.shape}; pass grad= with that shape")
        return Tensor._make(backend.get_array_module(tensor.data).ones_like(tensor.data))
    grad = grad if isinstance(grad, Tensor) else Tensor(grad, dtype=tensor.dtype, device=tensor.device)
    if grad.shape != tensor.shape:
        raise ValueError(f"{op}: grad has shape {grad.shape} but the output has shape {tensor.shape}")
    if grad.dtype != tensor.dtype:  # gradients keep their tensors' dtypes (PyTorch casts too)
        grad = grad.to(dtype=tensor.dtype)
    return grad


def _run(outputs, seeds, retain_graph: bool, create_graph: bool, targets):
    """The walk (Kahn's algorithm): a node runs once all of its consumers have sent their
    gradient, so each node runs once, in reverse topological order. With ``targets``
    (minigrad.grad) return their gradients instead of accumulating into leaves."""
    sink = _Sink(targets, create_graph)
    roots = _edges_to(outputs)
    pending = _count_consumers(roots)  # node -> consumers that have not sent their gradient yet
    buffers = _Buffers(create_graph)   # node -> the gradients of its outputs received so far
    ready = []                         # nodes whose consumers have all sent theirs
    previous, STATE.grad_enabled = STATE.grad_enabled, create_graph
    try:
        seeds = [s if create_graph else s.data for s in seeds]
        _send(roots, seeds, pending, buffers, ready, sink)
        while ready:
            node = ready.pop()
            grads_out = buffers.pop(node)
            sink.take_node(node, grads_out)
            grads_in = _call_backward(node, grads_out)
            if STATE.listeners:
                hooks.tell_backward(node, grads_out, grads_in)
            if not retain_graph:
                node.release()
            _send(node.next, grads_in, pending, buffers, ready, sink)
    finally:
        STATE.grad_enabled = previous
    return sink.found()


def _count_consumers(roots) -> dict:
    """For each node reachable from ``roots``, the number of edges that point at it, a root
    counting once more for each seed it gets (an iterative depth-first walk: no recursion, so a
    100,000-op chain is fine)."""
    pending, stack = {}, []
    for edge in roots:
        _count_edge(edge, pending, stack)
    while stack:
        for edge in stack.pop().next:
            _count_edge(edge, pending, stack)
    return pending


def _count_edge(edge, pending: dict, stack: list) -> None:
    if isinstance(edge, Edge):
        if edge.node not in pending:
            pending[edge.node] = 0
            stack.append(edge.node)
        pending[edge.node] += 1


def _edges_to(outputs) -> list:
    """The edges along which the seeds go: each seed counts as one more consumer of its output."""
    return [o if o.grad_fn is None else Edge(o.grad_fn, o._output_index) for o in outputs]


def _send(edges, grads, pending, buffers, ready, sink) -> None:
    """Send each gradient along its edge: into the buffer of the node that made that input
    (which is ready once its last consumer has sent), or to a leaf."""
    for edge, g in zip(edges, grads):
        if isinstance(edge, Edge):
            node = edge.node
            if g is not None:  # (None: nothing flows here, but this consumer is done)
                buffers.add(node, edge.index, g)
            pending[node] -= 1
            if not pending[node]:
                ready.append(node)
        elif edge is not None and g is not None:
            sink.take_leaf(edge, g)


def _call_backward(node: Function, grads_out: list) -> tuple:
    """The node's input gradients (None for each where no output gradient arrived)."""
    if node.freed:
        raise RuntimeError(
            f"backward through {node.name} a second time: its saved values were freed by the "
            "first backward. Pass retain_graph=True to the first call if you need to.")
    if grads_out[0] is None and all(g is None for g in grads_out):
        return (None,) * len(node.next)
    try:
        grads_in = node.backward(*grads_out)
    except AttributeError as err:
        raise _array_hint(node, err) from err
    return grads_in if type(grads_in) is tuple else (grads_in,)


class _Buffers:
    """The gradients each node's outputs have received, summed. A gradient that arrives is
    never changed in place (it may be shared, or held by a higher-order graph): the first sum is
    a new array, later ones add into it (only the engine holds it; not with create_graph)."""

    def __init__(self, create_graph: bool):
        self.grads = {}   # node -> [gradient of each output, or None]
        self.owned = {}   # node -> [whether that gradient is a sum the engine made]
        self.create_graph = create_graph

    def add(self, node: Function, index: int, g) -> None:
        grads = self.grads.get(node)
        if grads is None:
            self.grads[node] = grads = [None] * node.n_outputs
        if grads[index] is None:
            grads[index] = g
        elif self.create_graph or not self._owned(node, index):
            grads[index] = grads[index] + g
        else:
            grads[index] += g

    def _owned(self, node: Function, index: int) -> bool:
        """Whether the gradient buffered at ``index`` is a sum the engine made (and now will)."""
        owned = self.owned.setdefault(node, [False] * node.n_outputs)
        was, owned[index] = owned[index], True
        return was

    def pop(self, node: Function) -> list:
        self.owned.pop(node, None)
        return self.grads.pop(node, None) or [None] * node.n_outputs


class _Sink:
    """Where the gradients end: added into each leaf's ``.grad`` (backward), or, for
    ``minigrad.grad``, kept for the tensors asked for (leaves, or outputs of nodes)."""

    def __init__(self, targets, create_graph: bool):
        self.create_graph = create_graph
        self.targets = targets
        self.grads = [None] * len(targets or ())
        self.leaves = {id(t): i for i, t in enumerate(targets or ()) if t.grad_fn is None}
        self.outputs = {(id(t.grad_fn), t._output_index): i
                        for i, t in enumerate(targets or ()) if t.grad_fn is not None}

    def take_leaf(self, leaf: Tensor, g) -> None:
        if self.targets is None:
            g = g if self.create_graph else Tensor._make(g)
            leaf.grad = g if leaf.grad is None else leaf.grad + g
        elif id(leaf) in self.leaves:
            i = self.leaves[id(leaf)]
            self.grads[i] = g if self.grads[i] is None else self.grads[i] + g

    def take_node(self, node: Function, grads_out: list) -> None:
        if self.outputs:
            for index, g in enumerate(grads_out):
                i = self.outputs.get((id(node), index))
                if i is not None:
                    self.grads[i] = g

    def found(self) -> list:
        if self.create_graph:
            return self.grads
        return [None if g is None else Tensor._make(g) for g in self.grads]


def _array_hint(node: Function, err: AttributeError) -> AttributeError:
    """A backward written for Tensors only (``x.sigmoid()``) fails on plain arrays: say why."""
    return AttributeError(
        f"{node.name}.backward: {err}. Backward formulas get plain arrays unless "
        "create_graph=True; use operators and ops (minigrad.sigmoid(x), Op.apply(...)), not "
        "methods that only Tensors have (see docs/autograd.md, section 6)")
