"""Capture: walk the graph the engine recorded into plain :mod:`records` (no Graphviz needed).

From each output the walk follows ``node.next`` back to the leaves (iteratively: an unrolled
400-step graph is deep), taking the outputs in an order of its own (:func:`_walk_order`): the
order they are passed in changes nothing. Every ``Function`` becomes an ``op`` node, every
leaf a ``param`` or ``input`` node; scopes give the step key (:mod:`steps`); role labels get
their step (``f_t`` at step 3 is ``f_3``); recorded gradient norms come along. An input that an
op saved but that needs no gradient becomes a ``const`` node; an input cut from the graph by
``detach()`` (:mod:`cuts`) becomes a dashed ``detach`` edge back to where it was cut.
"""
from __future__ import annotations

import re
from collections import defaultdict

from .. import backend
from ..function import Edge as EngineEdge
from ..function import Function
from ..tensor import Tensor, unwrap
from . import cuts
from .recorder import SMALL, facts_of, recorded
from .notation import ticks
from .sequences import sequence_of
from .records import LEARNED, PRODUCTS, Edge, Graph, Node, role_base
from .steps import step_keys
_STEP_SUFFIX = re.compile(r"_t$")


def capture(*outputs: Tensor, params: dict | None = None, inputs: dict | None = None) -> Graph:
    """The op-level records of the graph behind ``outputs``.

    ``params`` maps names to leaf tensors (``dict(model.named_parameters())``) to name them;
    ``inputs`` names input sequences (``{"x": x}``): a step's slice of one that needs no
    gradient is a stub ``x_t`` rather than a constant (see :mod:`sequences`).
    """
    for k, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"draw: output {k} is a {type(out).__name__}, not a minigrad Tensor")
    # the output of a traced call (minigrad.trace) is drawn as the tensor the trace recorded
    outputs = tuple(o if getattr(o, "recording", None) is None else o.recording() for o in outputs)
    order = _walk(outputs)
    for item in order:
        if isinstance(item, Function):
            facts_of(item)  # (an error that says what to write, if drawn unrecorded)
    b = _Builder(step_keys(order), _names_of(params))
    b.sequences = dict(inputs or {})
    for item in order:
        if isinstance(item, Function):
            b.add_function(item)
        else:
            b.add_leaf(item)
    for item in order:
        if isinstance(item, Function):
            b.add_inputs(item)
        elif item.cut_from is not None:  # detached, then made to require grad again
            b.add_cut(item.cut_from, tuple(item.shape), b.node_id(item))
    graph = b.graph
    graph.engine = {nid: key for key, nid in b.ids.items() if nid in graph.nodes}
    graph.outputs = [b.node_id(o.grad_fn if o.grad_fn is not None else o) for o in outputs]
    _mark_derived(graph, b.with_data)
    graph.grads = any(n.grad_norm is not None for n in graph.nodes.values())
    return graph


def _names_of(params) -> dict:
    """{id(tensor): name} from a dict of named tensors, or from ``model.named_parameters()``
    itself (name, tensor pairs), the one-word-short spelling of the same thing."""
    try:
        pairs = list(dict(params or {}).items())
    except (TypeError, ValueError):
        pairs = None
    if pairs is None or not all(isinstance(t, Tensor) for _, t in pairs):
        raise TypeError(f"draw: params must map names to tensors, like "
                        f"dict(model.named_parameters()); got a {type(params).__name__}")
    return {id(t): str(name) for name, t in pairs}


def with_step(role: str | None, step: int | None) -> str | None:
    """``f_t`` at step 3 is ``f_3``; roles without ``_t`` stay as they are."""
    if role is None or step is None:
        return role
    return _STEP_SUFFIX.sub(f"_{step}", role)


def _walk(outputs) -> list:
    """All nodes and leaves reachable from the outputs, inputs before consumers (post-order),
    walked from the outputs in :func:`_walk_order`: the same list whatever their order."""
    order, seen = [], set()
    for root in _walk_order(outputs):
        if id(root) in seen:  # reached from an output walked before it
            continue
        seen.add(id(root))
        stack = [(root, iter(_parents(root)))]
        while stack:
            item, parents = stack[-1]
            for parent in parents:
                if id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append((parent, iter(_parents(parent))))
                    break
            else:
                stack.pop()
                order.append(item)
    return order


def _walk_order(outputs) -> list:
    """The outputs' distinct nodes, in an order that does not depend on the order they were
    passed (which would decide which nodes come first, and with them the picture): by the
    latest scope their graph was recorded in (``Scope.serial``: what a model run earlier
    computed comes first), then the larger graph first (a layer's output sequence before its
    final state), then by what they are and what they read."""
    roots = {id(r): r for r in (o.grad_fn if o.grad_fn is not None else o for o in outputs)}
    if len(roots) == 1:
        return list(roots.values())
    return sorted(roots.values(), key=_walk_key)


def _walk_key(root) -> tuple:
    """(the serial of the latest scope ``root``'s graph was recorded in, minus the number of
    its lines, what it and its inputs are): see :func:`_walk_order`."""
    seen, todo, lines, latest = {id(root)}, [root], 0, -1
    while todo:
        item = todo.pop()
        parents = _parents(item)
        lines += len(parents)
        latest = max(latest, _serial(item))
        for parent in parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                todo.append(parent)
    return latest, -lines, [_describe(item) for item in [root, *_parents(root)]]


def _serial(item) -> int:
    """The serial of the scope ``item`` was recorded in, -1 outside every scope."""
    scope = facts_of(item).scope if isinstance(item, Function) else None
    return scope.serial if scope is not None else -1


def _describe(item) -> str:
    """An op by its name, output shapes, roles and scope; a leaf by its shape and name."""
    if isinstance(item, Function):
        return f"{item.name} {facts_of(item).shapes} {item.roles} {_serial(item)}"
    return f"leaf {item.shape} {item.name}"


def _parents(item) -> list:
    if not isinstance(item, Function):
        return []
    return [e.node if isinstance(e, EngineEdge) else e for e in item.next if e is not None]


class _Builder:
    def __init__(self, keys: dict, names: dict):
        self.graph = Graph()
        self.keys = keys
        self.names = names
        self.ids = {}
        self.consts = {}
        self.cut_boxes = {}  # (id of a detach trace, step key) -> its "cut" node
        self.with_data = set()  # ops that compute on data (see _reads_data)
        self.sequences = {}     # name -> input sequence tensor (draw's inputs=)

    def node_id(self, item) -> str:
        return self.ids[id(item)]

    def new_id(self, item) -> str:
        return self.ids.setdefault(id(item), f"n{len(self.ids)}")

    def add_function(self, fn: Function) -> None:
        key = self.keys.get(id(fn))
        single = fn.n_outputs == 1
        facts = facts_of(fn)
        values = facts.grad_values
        self.graph.add(Node(
            id=self.new_id(fn), kind="op", op=fn.name, step=key,
            role=with_step(fn.role(0), key.step if key else None) if single else None,
            shape=tuple(facts.shapes[0]) if single else None,
            scope=facts.scope.path() if facts.scope is not None and key is None else (),
            value=_small(facts.small_value) if single else None,
            grad_norm=_total(facts.grad_norms),
            grad_value=_small_array(values[0]) if values and single else None,
            cell=facts.scope.tags().get("cell") if key is not None else None))
        if fn.name == "Where":  # the units its condition takes from the first operand
            self.graph.nodes[self.node_id(fn)].text = ticks(backend.to_numpy(fn.option_arrays()[0]))
        if _reads_data(fn):
            self.with_data.add(self.node_id(fn))

    def add_leaf(self, t: Tensor) -> None:
        is_param = id(t) in self.names or t.is_parameter
        self.graph.add(Node(
            id=self.new_id(t), kind="param" if is_param else "input",
            name=self.names.get(id(t), t.name), shape=tuple(t.shape), dtype=str(t.dtype),
            value=_small(unwrap(t)), grad_norm=_norm(t.grad),
            grad_value=_small(unwrap(t.grad)) if t.grad is not None else None))

    def edge_from(self, src, index: int, dst: str, dst_input: int | None = None) -> Edge:
        if isinstance(src, Function):
            key = self.keys.get(id(src))
            facts = facts_of(src)
            norms = facts.grad_norms
            return Edge(self.node_id(src), dst, tuple(facts.shapes[index]),
                        with_step(src.role(index), key.step if key else None),
                        norms[index] if norms else None, src_output=index,
                        tensor=(self.node_id(src), index), dst_input=dst_input)
        return Edge(self.node_id(src), dst, tuple(src.shape), None, _norm(src.grad),
                    tensor=(self.node_id(src), 0), dst_input=dst_input)

    def add_inputs(self, fn: Function) -> None:
        dst = self.node_id(fn)
        facts = facts_of(fn)
        cut, constants = facts.cuts or {}, facts.constants or {}
        for i, e in enumerate(fn.next):
            if e is not None:
                src, index = e if isinstance(e, EngineEdge) else (e, 0)
                self.graph.edges.append(self.edge_from(src, index, dst, dst_input=i))
            elif i in cut:
                self.add_cut(cut[i].cut, cut[i].shape, dst, self.keys.get(id(fn)))
            elif i in constants:
                self.add_constant(constants[i], dst, self.keys.get(id(fn)))

    def add_constant(self, x, dst: str, key) -> None:
        sequence = sequence_of(x, self.sequences) if key is not None and self.sequences else None
        if sequence is not None:  # a step's slice of a named input sequence: its stub
            node = self.consts.get((id(x), key))
            if node is None:
                node = self.consts[id(x), key] = self.graph.add(Node(
                    id=f"{dst}q{len(self.graph.nodes)}", kind="stub", step=key,
                    role=f"{sequence}_{key.step}", shape=tuple(x.shape)))
        elif backend.is_array(x):  # one node per array and step: the initial state is one
            node = self.consts.get((id(x), key))
            if node is None:
                node = self.consts[id(x), key] = self.graph.add(Node(
                    id=f"{dst}c{len(self.graph.nodes)}", kind="const", step=key,
                    shape=tuple(x.shape), dtype=str(x.dtype), value=_constant(x)))
        else:
            node = self.graph.add(Node(id=f"{dst}c{len(self.graph.nodes)}", kind="const",
                                       step=key, value=x))
        self.graph.edges.append(Edge(node.id, dst, node.shape, tensor=(node.id, 0)))

    def drawn(self, fn) -> bool:
        return fn is not None and self.ids.get(id(fn)) in self.graph.nodes

    def add_cut(self, cut, shape, dst: str, key=None) -> None:
        """Dashed edges from where an input was cut (``cut``: its ``Tensor.cut_from``). When
        that node is not drawn (the state was stacked into h_n, not among the outputs) the
        nearest drawn nodes above it stand for it (above the part of h_n the input took back:
        layer k's initial state was layer k's last, not every layer's); failing those (that
        graph is gone), a small "cut" box named after the state that was cut (``h_t`` is h),
        one per state and step (``key``) however many ops of the step read it."""
        src, index = cut.node, cut.index
        if self.drawn(src):
            edges = [self.edge_from(src, index, dst)]
        else:
            edges = [self.edge_from(fn, i, dst)
                     for fn, i in cuts.drawn_above(src, self.drawn, part=cut.part)]
        if not edges:
            box = self.cut_boxes.get((id(cut), key))
            if box is None:
                box = self.cut_boxes[id(cut), key] = self.graph.add(Node(
                    id=f"{dst}cut{len(self.graph.nodes)}", kind="cut", op=src.name if src else "",
                    role=role_base(cut.role),
                    shape=_shape_of(src, index, shape)))
            edges = [Edge(box.id, dst, box.shape, tensor=(box.id, 0))]
        for edge in edges:
            edge.kind = "detach"
            self.graph.edges.append(edge)


def _shape_of(src, index: int, shape: tuple) -> tuple:
    """The shape of output ``index`` of ``src``, the node a cut tensor came from, as recorded;
    ``shape`` (the cut tensor's) when that node is gone or was not recorded."""
    facts = recorded(src) if src is not None else None
    return tuple(facts.shapes[index]) if facts is not None else shape


def _reads_data(fn: Function) -> bool:
    """Whether ``fn`` computes on data, whatever else it reads: a product with an operand that
    needs no gradient (x W^T), or an op whose constants (operands, an index array, a condition)
    give its result a shape that none of its inputs that need a gradient has: they brought axes
    or lengths of their own, as data does (w * x with x of shape (T, N, I); an embedding's rows
    picked by (T, N) tokens). A constant that keeps such an input's shape masks or scales it
    (the clockwork RNN's M * W_hh): a parameter computation may do that."""
    constants = facts_of(fn).constants
    if constants is None and not fn.option_arrays():
        return False
    if fn.name in PRODUCTS:
        return constants is not None
    needing_grad = {facts_of(e.node).shapes[e.index] if isinstance(e, EngineEdge) else e.shape
                    for e in fn.next if e is not None}
    return any(shape not in needing_grad for shape in facts_of(fn).shapes)


def _mark_derived(graph: Graph, with_data: set) -> None:
    """Ops outside the steps computed from parameters and constants (W^T, b_ih + b_hh, the
    essay's concatenated W_f, a masked W) that the flow reads are ``derived``: drawn with the
    parameters, not as part of the flow. An op that computes on data (``with_data``, see
    :func:`_reads_data`) is flow, and so is what reaches the outputs through such candidates
    alone: a neuron written by hand, tanh(w * x + b) with x data of w's shape, is the
    computation itself, which param_mode="hide" would otherwise have hidden whole."""
    sources, consumers = defaultdict(list), defaultdict(list)
    for e in graph.edges:
        sources[e.dst].append(e.src)
        consumers[e.src].append(e.dst)
    candidates = []
    for node in graph.nodes.values():  # inputs come first, so one pass suffices
        kinds = [graph.nodes[s].kind for s in sources[node.id]]
        learned = any(k in LEARNED for k in kinds)
        if (node.kind == "op" and node.step is None and learned and node.id not in with_data
                and all(k in LEARNED + ("const",) for k in kinds)):
            node.kind = "derived"
            candidates.append(node)
    read = set()  # candidates whose value the flow reads, directly or through other candidates
    for node in reversed(candidates):  # consumers first
        if any(graph.nodes[c].kind != "derived" or c in read for c in consumers[node.id]):
            read.add(node.id)
    for node in candidates:
        if node.id not in read:
            node.kind = "op"


def _small(array):
    if array is None or not hasattr(array, "size") or array.size > SMALL:
        return None
    return backend.to_numpy(array)


def _small_array(value):
    return _small(unwrap(value))


def _constant(array):
    """Small constants are shown; a large one only when it is all zeros (an initial state)."""
    small = _small(array)
    if small is not None or not hasattr(array, "any"):
        return small
    return 0.0 if not array.any() else None


def _norm(t) -> float | None:
    if t is None:
        return None
    data = unwrap(t).astype(backend.float64)
    return float((data * data).sum()) ** 0.5


def _total(norms) -> float | None:
    if not norms or all(n is None for n in norms):
        return None
    return sum(n * n for n in norms if n is not None) ** 0.5
