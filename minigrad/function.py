"""The engine: recording the graph (``Function.apply``) and walking it back (``backward``).

Forward: each primitive op is a ``Function`` subclass; ``Op.apply(a, b)`` runs its forward on
the inputs' arrays and, if an input needs a gradient, records a node: an instance of the op that
remembers where each input came from (``node.next``) and what its backward will read.

Backward: ``backward(loss)`` walks the nodes from the loss back to the leaves, once each, in
reverse topological order (Kahn's algorithm, no recursion); each node's ``backward`` turns the
gradients of its outputs into gradients of its inputs, sent along ``node.next``.

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

from typing import NamedTuple

from . import backend, checks
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
    __slots__ = ("next", "_inputs", "_output", "__weakref__")
    freed = False        # True once the backward pass has dropped what forward saved
    n_outputs = 1        # multi-output ops (split, unbind) set their own count
    moves = False        # True for the ops that only move elements (ops/shape.py)
    roles = None         # per output, its role label such as "f_t" (see Tensor.label)

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs, **options):
        """Run forward on the inputs' arrays; record a node if an input needs a gradient."""
        arrays, edges = operands(cls, inputs)
        node = cls.__new__(cls)
        try:  # (an empty **options would still cost a dict per op)
            out = node.forward(*arrays, **options) if options else node.forward(*arrays)
        except (ValueError, TypeError, IndexError) as err:  # say which op, which inputs
            raise checks.input_error(cls.__name__, err, inputs) from err
        if edges is None:                      # no Tensor in (a backward formula): an array out
            return out
        if not (edges and STATE.grad_enabled):  # nothing needs a gradient: no node
            return untracked(node, out, inputs)
        node.next = edges
        saves = cls.saves_inputs  # what backward will read: True, or which inputs, or none
        node._inputs = arrays if saves is True else _only(arrays, saves) if saves else None
        node._output = out if cls.saves_output else None
        outputs = node.make_outputs(out) if type(out) is tuple else Tensor._make(out, node, 0)
        if STATE.listeners:
            hooks.tell_node(node, inputs, outputs)
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
        """The saved inputs: arrays, or Tensors of the graph under ``create_graph=True``."""
        if not STATE.grad_enabled:
            return self._inputs
        return tuple(_linked(edge, x) for edge, x in zip(self.next, self._inputs))

    def output(self, index: int = 0):
        """Saved output ``index``: the array, or, while the backward pass is recorded, a Tensor
        of this node (so that higher-order gradients flow through it)."""
        out = self._output if self.n_outputs == 1 else self._output[index]
        return Tensor._make(out, self, index) if STATE.grad_enabled else out

    def make_outputs(self, arrays: tuple) -> tuple:
        """Tensors of this node for each array a multi-output op (split, unbind) returned."""
        self.n_outputs = len(arrays)
        return tuple([Tensor._make(a, self, i) for i, a in enumerate(arrays)])

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
    """(the arrays forward reads, per input where its gradient goes: an Edge, a leaf or None),
    checked; the edges are () if no input needs a gradient, None if no input is a Tensor."""
    arrays, edges, needs_grad = [], [], None  # (None until a Tensor comes)
    for x in inputs:
        if isinstance(x, Tensor):
            arrays.append(x._data)
            needs_grad = needs_grad or x._requires_grad
            edges.append(None if not x._requires_grad       # no gradient wanted
                         else x if x.grad_fn is None          # a leaf: into its .grad
                         else _edge(Edge, (x.grad_fn, x._output_index)))  # the op that made it
        elif type(x) in checks.NOT_OPERANDS:  # (NumPy would make a float64 array of a list)
            raise checks.operand_error(cls.__name__, x, inputs)
        else:
            arrays.append(x)
            edges.append(None)
    if cls.broadcasts:  # (a number takes the tensor's dtype; two float dtypes must agree)
        dtype_a = getattr(arrays[0], "dtype", None)
        if dtype_a is not None and dtype_a is not getattr(arrays[1], "dtype", dtype_a):
            checks.reconcile_dtypes(cls.__name__, inputs, arrays)
    if _CHECK_DEVICES and needs_grad is not None:
        checks.check_same_device(cls.__name__, inputs)
    return arrays, None if needs_grad is None else tuple(edges) if needs_grad else ()


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


_CHECK_DEVICES = backend.cupy is not None  # (one device only: nothing to check)
_edge = tuple.__new__  # Edge(node, index), built without NamedTuple's Python-level __new__


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


# --- the backward walk -------------------------------------------------------------------------
def add_to_leaf(leaf: Tensor, g) -> None:
    """A gradient that reached a leaf is added into its ``.grad`` (a Tensor)."""
    g = g if isinstance(g, Tensor) else Tensor._make(g)
    leaf.grad = g if leaf.grad is None else leaf.grad + g


def backward(tensor: Tensor, grad=None, retain_graph: bool = False, create_graph: bool = False):
    """Add d(tensor)/d(leaf) into ``leaf.grad`` for every leaf that requires grad; ``grad`` is
    d(loss)/d(tensor), 1 when omitted for a one-element tensor. Frees the graph's saved values
    unless ``retain_graph``."""
    seed = checks.seed(tensor, grad, "backward")
    run_backward([tensor], [seed], retain_graph or create_graph, create_graph)


def run_backward(outputs, seeds, retain_graph, create_graph, to_leaf=add_to_leaf) -> None:
    """Kahn's algorithm: each node runs once all of its consumers have sent their gradient. A
    leaf's gradients go to ``to_leaf(leaf, g)`` (by default, added into ``leaf.grad``)."""
    roots = [o if o.grad_fn is None else Edge(o.grad_fn, o._output_index) for o in outputs]
    pending = count_consumers(roots)  # node -> how many consumers have yet to send
    buffers = Buffers(create_graph)   # node -> the gradients its outputs received so far
    ready = []                        # nodes whose consumers have all sent theirs
    previous, STATE.grad_enabled = STATE.grad_enabled, create_graph
    try:
        send(roots, [g if create_graph else g._data for g in seeds], pending, buffers, ready, to_leaf)
        while ready:
            node = ready.pop()
            if node.freed:
                raise checks.freed_error(node)
            grads_out = buffers.pop(node, None)  # None: nothing arrived, nothing to send on
            if grads_out is None:
                grads_in = (None,) * len(node.next)
            else:
                grads_in = node.backward(*grads_out)
                grads_in = grads_in if type(grads_in) is tuple else (grads_in,)
            if STATE.listeners:
                hooks.tell_backward(node, grads_out or [None] * node.n_outputs, grads_in)
            if not retain_graph:
                node.release()
            send(node.next, grads_in, pending, buffers, ready, to_leaf)
    except AttributeError as err:  # (a backward formula written for Tensors only: say so)
        raise checks.array_hint(err)
    finally:
        STATE.grad_enabled = previous


def count_consumers(roots) -> dict:
    """For each node reachable from ``roots``, how many edges point at it (no recursion)."""
    pending, todo = {}, [roots]  # todo: the lists of edges still to count
    while todo:
        for edge in todo.pop():
            if type(edge) is Edge:
                if edge.node not in pending:
                    todo.append(edge.node.next)
                pending[edge.node] = pending.get(edge.node, 0) + 1
    return pending


def send(edges, grads, pending: dict, buffers: "Buffers", ready: list, to_leaf) -> None:
    """Each gradient along its edge: to the node that made that input, or to a leaf."""
    for edge, g in zip(edges, grads):
        if type(edge) is Edge:
            node, index = edge
            if g is not None:  # (None: nothing flows, but this consumer is done)
                grads_of = buffers.setdefault(node, [None] * node.n_outputs)
                grads_of[index] = g if grads_of[index] is None else buffers.accumulate(edge, g)
            pending[node] -= 1
            if not pending[node]:
                ready.append(node)
        elif edge is not None and g is not None:
            to_leaf(edge, g)


class Buffers(dict):
    """node -> the gradients its outputs received, summed. An arriving gradient is never changed
    in place (it may be shared): the first sum is a new array, later ones add into it."""

    def __init__(self, create_graph: bool):
        super().__init__()
        self.sums = set()  # the Edges whose buffer holds a sum the engine made
        self.create_graph = create_graph  # (then sums are Tensors of the new graph: kept as is)

    def accumulate(self, edge: Edge, g):
        """The gradient buffered for output ``edge.index`` of ``edge.node``, plus ``g``."""
        total = self[edge.node][edge.index]
        if edge in self.sums:
            total += g
            return total
        if not self.create_graph:
            self.sums.add(edge)
        return total + g


from . import hooks  # noqa: E402  (hooks reads STATE, defined above)
