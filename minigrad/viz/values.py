"""What each tensor held: ``record_values()`` listens to the forward pass through the engine's
hook and keeps, per node and output, the statistics of its value (mean, standard deviation, min,
max), for the explorable page's hover (only small tensors keep their values themselves):

    with record_values():
        output, _ = model(x)
    draw(output).save("graph.html")
"""
from __future__ import annotations

from .. import backend
from ..tensor import unwrap
from .gradients import recording
from .records import Graph



class Values:
    """A listener (``minigrad.listen``): (mean, std, min, max) of each output of each node."""

    def __init__(self):
        self.stats = {}   # id(node) -> per output, (mean, std, min, max) or None
        self.nodes = {}   # id(node) -> node: kept alive, so that no id is reused meanwhile

    def on_node(self, node, inputs, outputs) -> None:
        self.nodes[id(node)] = node
        self.stats[id(node)] = tuple(_stats(out) for out in outputs)


def _stats(tensor) -> tuple | None:
    data = backend.to_numpy(unwrap(tensor))
    if data.size == 0 or data.dtype.kind not in "fiub":
        return None
    data = data.astype("float64")
    return (float(data.mean()), float(data.std()), float(data.min()), float(data.max()))


class record_values(recording):
    """Context manager: note the statistics of every value the forward pass inside computes."""

    recent = []

    def __init__(self):
        super().__init__(Values())


def apply_values(graph: Graph) -> None:
    """Each op node of ``graph`` gets the statistics a recent recorder noted for its output (its
    first output, for an op with several: ``split`` is drawn as one box)."""
    recorders = record_values.seen_by(graph)
    if not recorders:
        return
    for nid, key in graph.engine.items():
        node = graph.nodes.get(nid)
        if node is None:
            continue
        for values in recorders:
            found = values.stats.get(key)
            if found:
                node.stats = found[0]
                break
