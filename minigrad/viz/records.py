"""The plain records the renderer works on: nodes, edges, step keys and the graph holding them.

Capture fills them from the engine's graph; the detail and arrange passes rewrite them; render
turns them into DOT. None of them knows about Graphviz, so every pass is testable without it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

DETAILS = ("op", "gate", "cell")
PARAM_MODES = ("once", "repeat", "hide")
LEARNED = ("param", "derived")  # node kinds drawn as parameters
PRODUCTS = ("MatMul", "AddMM")   # ops that multiply by a weight: a @ b, and c + a @ b


def role_base(role: str | None) -> str | None:
    """The role without its step: ``C_3`` is ``C``, ``h~_t`` is ``h~``."""
    return role.rsplit("_", 1)[0] if role else None


class Row(NamedTuple):
    """A row of the picture: one per layer and direction of one call of a recurrent layer."""

    group: str
    call: int
    layer: int
    direction: str


@dataclass(frozen=True, order=True)
class StepKey:
    """Which cell step a node belongs to: the recurrent layer's scope name, the call of that
    layer (0 unless the same layer ran twice in the drawn graph), layer index, direction, step."""

    group: str
    call: int
    layer: int
    direction: str
    step: int

    @property
    def row(self) -> Row:
        """The row of the picture: one per layer and direction, steps left to right."""
        return Row(self.group, self.call, self.layer, self.direction)


@dataclass
class Node:
    """One drawn box, circle or point.

    kind: ``op`` (a primitive op), ``param`` (a learned leaf), ``derived`` (computed from
    parameters and constants, never data, e.g. W^T), ``input`` (any other leaf), ``const`` (an
    input that needs no gradient), ``gate`` (a learned layer and its nonlinearity), ``linear``
    (a learned layer without one), ``cell`` (a whole step), ``block`` (a whole non-step scope),
    ``stub`` (a step's slice of a sequence made outside the steps), ``ghost`` (a per-step faint
    copy of a parameter), ``junction`` (where lines merge or fork), ``tap`` (where a step reads
    a parameter drawn once), ``cut`` (the far end of a detach), ``ellipsis`` (elided steps).
    ``layer`` overrides the layer shown with the role (a stub of layer 1 carries h of layer 0).
    """

    id: str
    kind: str
    op: str = ""
    role: str | None = None
    shape: tuple | None = None
    dtype: str | None = None
    step: StepKey | None = None
    scope: tuple = ()
    name: str | None = None
    value: object = None
    grad_norm: float | None = None
    grad_value: object = None
    members: tuple = ()
    cell: str | None = None
    text: str | None = None
    layer: int | None = None
    stats: tuple | None = None  # (mean, std, min, max) of its value, when record_values ran


@dataclass
class Edge:
    """A vector moving from one node to another (Olah's "vector transfer").

    ``role`` names what it carries (``"h_3"``) when the producing op was labelled; ``grad_norm``
    is the norm of the gradient at the producing output, or, where a recorder saw the consumer's
    backward, of what it sent back along the line (``flow``, that array); kind ``detach`` marks
    a cut graph.
    ``tensor`` identifies the tensor carried, (op node id, output index), through collapsing;
    ``dst_input`` is which input of the receiving op it is, where that matters (``addmm``).
    """

    src: str
    dst: str
    shape: tuple | None = None
    role: str | None = None
    grad_norm: float | None = None
    kind: str = "data"
    src_output: int = 0
    tensor: tuple | None = None
    dst_input: int | None = None
    flow: object = field(default=None, compare=False, repr=False)


@dataclass
class Graph:
    """Nodes in drawing order (inputs first), edges, and what was done to fit the picture."""

    nodes: dict = field(default_factory=dict)
    edges: list = field(default_factory=list)
    detail: str = "op"
    params: str = "once"
    notes: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    grads: bool = False
    engine: dict = field(default_factory=dict)
    backward: bool = False  # drawn as the backward pass: gradients, arrows right to left  # node id -> id() of the engine node it stands for

    def add(self, node: Node) -> Node:
        self.nodes[node.id] = node
        return node

    def steps(self) -> list:
        """The distinct step keys, sorted."""
        return sorted({n.step for n in self.nodes.values() if n.step is not None})

    def crossing_edges(self) -> list:
        """Edges from one step to another step of the same row: the recurrence (h, C)."""
        return [e for e in self.edges
                if crosses_steps(self.nodes[e.src].step, self.nodes[e.dst].step)]


def crosses_steps(a: StepKey | None, b: StepKey | None) -> bool:
    """Whether an edge from step ``a`` to step ``b`` carries a state along a row."""
    return a is not None and b is not None and a.row == b.row and a.step != b.step


def carried_back(edges: list) -> tuple:
    """(norm, array) of what one line that stands for ``edges`` carries back: a copy's line in
    carries the sum of what its lines out carried (a concat junction's line from one source,
    the sum over the gates it feeds). Where a line's flow was not recorded, each line carries
    its tensor's whole gradient, and so does the one line: the first one's. A flow is counted
    once, however many lines it stands behind (a fused op's input, one line per gate)."""
    sent = list({id(e.flow): e.flow for e in edges if e.flow is not None}.values())
    unknown = [e for e in edges if e.flow is None and e.grad_norm]
    if not sent or unknown:
        return edges[0].grad_norm, None
    total = sent[0].copy()
    for flow in sent[1:]:
        total = total + flow
    return float((total * total).sum()) ** 0.5, total
