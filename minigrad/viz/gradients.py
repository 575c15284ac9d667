"""What each line carries back: the gradient a backward step sends along each of its inputs, and
the caption's ratio of gradients at the first and last steps.

A node's recorded gradient (``minigrad.viz.recording()``) is the gradient of its whole output; a line from
it to one consumer carries only what that consumer passed back (the output sequence's stack
passes nothing back to the steps the loss does not read). ``record_flows`` listens to the
backward walk through the engine's hook and keeps, per node and input, the sum of what it sent:

    with minigrad.viz.recording(), record_flows():
        loss.backward()
    draw(loss)                 # colours each line by what it carried to its consumer
"""
from __future__ import annotations

import math

from .. import backend
from ..hooks import listen
from ..tensor import unwrap
from .records import Graph, role_base

KEEP = 8  # recorders remembered: draw uses those that saw the graph it draws


class Flows:
    """A listener (``minigrad.listen``): per (node, input index), the sum of the gradients the
    node's backward sent along that input."""

    def __init__(self):
        self.sent = {}    # (id(node), input index) -> summed gradient (float64 array)
        self.nodes = {}   # id(node) -> node: kept alive, so that no id is reused meanwhile

    def on_backward(self, node, grad_outputs, grad_inputs) -> None:
        self.nodes[id(node)] = node
        for i, g in enumerate(grad_inputs):
            if g is None:
                continue
            g = backend.to_numpy(unwrap(g)).astype("float64")
            key = (id(node), i)
            self.sent[key] = g.copy() if key not in self.sent else self.sent[key] + g

    def norm(self, node_id: int, index: int) -> float | None:
        """The norm of what node ``node_id`` sent along input ``index``: 0.0 where its backward
        ran and sent nothing there, None where its backward never ran."""
        if node_id not in self.nodes:
            return None
        g = self.sent.get((node_id, index))
        return 0.0 if g is None else float(math.sqrt(float((g * g).sum())))


class recording(listen):
    """Listen with a recorder (it keeps ``.nodes``, the engine nodes it heard of) and remember
    it among the last KEEP of its class, for :func:`seen_by` (draw finds them there)."""

    recent: list  # per subclass

    def __enter__(self):
        self.recent[:] = [*self.recent[-(KEEP - 1):], self.listener]
        return super().__enter__()

    @classmethod
    def seen_by(cls, graph: Graph) -> list:
        """The remembered recorders that heard of some of ``graph``'s nodes (models drawn
        together may each have had a pass of their own)."""
        ids = set(graph.engine.values())
        return [r for r in cls.recent if not ids.isdisjoint(r.nodes)]


class record_flows(recording):
    """Context manager: record what every backward step inside sends along each input (see the
    module docstring); yields the :class:`Flows`, which ``draw(..., flows=)`` takes."""

    recent = []

    def __init__(self):
        super().__init__(Flows())


def latest(graph: Graph) -> list:
    """The recent flows recorders whose backward walked through ``graph``."""
    return record_flows.seen_by(graph)


def apply_flows(graph: Graph, recorders: list) -> None:
    """Each line from an op or leaf into an op carries what that op sent back along it (as the
    recorder that saw that op's backward says; a line into an op no backward reached keeps its
    tensor's gradient)."""
    for e in graph.edges:
        if e.dst_input is None or e.kind != "data" or e.dst not in graph.engine:
            continue
        node_id = graph.engine[e.dst]
        for flows in recorders:
            if node_id in flows.nodes:
                e.grad_norm = flows.norm(node_id, e.dst_input)
                e.flow = flows.sent.get((node_id, e.dst_input))
                break


def ratio_caption(graph: Graph) -> list:
    """Per row that carries a state, the ratio of its gradient at the first step to the last:
    ``|dL/dC_0| / |dL/dC_11| = 0.31`` (C where the cell has one, else h). Under 1 the gradient
    fades going back in time."""
    by_row = {}
    for node in graph.nodes.values():
        base = role_base(node.role)
        if node.kind != "op" or node.step is None or base not in ("C", "c", "h"):
            continue
        if node.grad_norm is None:
            continue
        by_row.setdefault(node.step.row, {}).setdefault(base, {})[node.step.step] = node.grad_norm
    lines = []
    for row, states in sorted(by_row.items()):
        base = next((b for b in ("C", "c") if b in states), "h")
        steps = states[base]
        first, last = min(steps), max(steps)
        if first == last or not steps[last]:
            continue
        group, _, layer, direction = row
        where = group + (f" layer {layer}" if layer else "") + (" reverse" if direction != "forward" else "")
        ratio = steps[first] / steps[last]
        lines.append(f"{where}: |dL/d{base}_{first}| / |dL/d{base}_{last}| = {ratio:.2g}")
    return lines
