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
from .function import STATE, Function
from .tensor import Tensor, unwrap


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


class record_grads:
    """Inside, ``backward`` notes each node's gradient norm (and small gradients' values)
    on the node, for the renderer to colour the graph by."""

    def __enter__(self):
        self._previous = STATE.record_grads
        STATE.record_grads = True
        return self

    def __exit__(self, *exc):
        STATE.record_grads = self._previous


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
        if tensor.numel() != 1:
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
    """The engine. With ``targets`` (minigrad.grad) return their gradients instead of
    accumulating into leaves."""
    wanted_leaf = {}
    wanted_node = {}
    if targets is not None:
        for i, t in enumerate(targets):
            if t.grad_fn is None:
                wanted_leaf[id(t)] = i
            else:
                wanted_node[(id(t.grad_fn), t._output_index)] = i
    found = [None] * (len(targets) if targets is not None else 0)

    roots = [o.grad_fn for o in outputs if o.grad_fn is not None]
    pending = _count_consumers(roots)
    buffers: dict[Function, list] = {}  # node -> gradients of its outputs received so far
    summed: dict[Function, list] = {}   # which buffered gradients are sums the engine made
    ready = []
    record = STATE.record_grads

    def add_to_buffer(node, buf, index, g):
        """A second (third...) gradient for the same output: the first sum is a new array,
        later ones go into it in place (only the engine holds it; not with create_graph)."""
        if create_graph:
            buf[index] = buf[index] + g
        elif node in summed and summed[node][index]:
            buf[index] += g
        else:
            buf[index] = buf[index] + g
            summed.setdefault(node, [False] * node.n_outputs)[index] = True

    def reach_leaf(leaf, g):
        if g is None:
            return
        if targets is None:
            if not create_graph:
                g = Tensor._make(g)
            leaf.grad = g if leaf.grad is None else leaf.grad + g
        elif id(leaf) in wanted_leaf:
            i = wanted_leaf[id(leaf)]
            found[i] = g if found[i] is None else found[i] + g

    previous = STATE.grad_enabled
    STATE.grad_enabled = create_graph
    try:
        # The seeds go first, along edges to the outputs (each seed counts as one more
        # consumer of its output); then each node's input gradients go along its edges.
        edges = [o if o.grad_fn is None else (o.grad_fn, o._output_index) for o in outputs]
        for o in outputs:
            if o.grad_fn is not None:
                pending[o.grad_fn] += 1
        grads = [s if create_graph else s.data for s in seeds]
        while True:  # send ``grads`` along ``edges``, then take the next ready node (if any)
            for edge, g in zip(edges, grads):  # to a leaf, or into a node's buffer
                if type(edge) is not tuple:
                    if edge is not None:
                        reach_leaf(edge, g)
                    continue
                node, index = edge
                if g is not None:  # (None: nothing flows here, but the edge is done)
                    buf = buffers.get(node)
                    if buf is None:
                        buffers[node] = buf = [None] * node.n_outputs
                        buf[index] = g
                    elif buf[index] is None:
                        buf[index] = g
                    else:
                        add_to_buffer(node, buf, index, g)
                left = pending[node] - 1
                pending[node] = left
                if not left:  # all of its consumers have sent theirs
                    ready.append(node)
            if not ready:
                break

            node = ready.pop()
            out_grads = buffers.pop(node, None) or [None] * node.n_outputs
            if summed:
                summed.pop(node, None)
            if wanted_node:
                for index, g in enumerate(out_grads):
                    i = wanted_node.get((id(node), index))
                    if i is not None:
                        found[i] = g
            if node.freed:
                raise RuntimeError(
                    f"backward through {node.name} a second time: its saved values were freed by "
                    "the first backward. Pass retain_graph=True to the first call if you need to."
                )
            if record:
                _remember(node, out_grads)
            if out_grads[0] is None and all(g is None for g in out_grads):
                grads = (None,) * len(node.next)
            else:
                try:
                    grads = node.backward(*out_grads)
                except AttributeError as err:
                    raise _array_hint(node, err) from err
                if type(grads) is not tuple:
                    grads = (grads,)
            if STATE.listeners:
                hooks.tell_backward(node, out_grads, grads)
            edges = node.next
            if not retain_graph:
                node.release()
    finally:
        STATE.grad_enabled = previous
    if create_graph:
        return found
    return [None if g is None else Tensor._make(g) for g in found]


def _array_hint(node: Function, err: AttributeError) -> AttributeError:
    """A backward written for Tensors only (``x.sigmoid()``) fails on plain arrays: say why."""
    return AttributeError(
        f"{node.name}.backward: {err}. Backward formulas get plain arrays unless "
        "create_graph=True; use operators and ops (minigrad.sigmoid(x), Op.apply(...)), not "
        "methods that only Tensors have (see docs/autograd.md, section 6)")


def _count_consumers(roots) -> dict:
    """For each reachable node, the number of edges that point at it."""
    pending = {}
    stack = []
    for root in roots:
        if root not in pending:
            pending[root] = 0
            stack.append(root)
    while stack:
        node = stack.pop()
        for edge in node.next:
            if type(edge) is tuple:
                parent = edge[0]
                if parent in pending:
                    pending[parent] += 1
                else:
                    pending[parent] = 1
                    stack.append(parent)
    return pending


def _remember(node: Function, grads) -> None:
    norms, values = [], []
    for g in grads:
        if g is None:
            norms.append(None)
            values.append(None)
            continue
        g = unwrap(g)
        xp = backend.get_array_module(g)
        norms.append(float(xp.sqrt((g.astype(backend.float64) ** 2).sum())))
        values.append(backend.to_numpy(g) if g.size <= 16 else None)
    node.grad_norms = tuple(norms)
    node.grad_values = tuple(values)
