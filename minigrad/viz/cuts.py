"""Where the graph was cut: the source of a tensor that ``detach()`` (or any copy of the data)
took out of the graph, for the dashed "detach" edges of truncated BPTT.

Two traces lead back: ``Tensor._detached_from``, a weak reference to the node the tensor was
cut from (dead once nothing holds that node), and shared memory: a slice of a detached h_n
(what a recurrent layer does with its initial state) is a view of the array of a tensor that
may be among the drawn outputs. Only inputs that an op saved, or leaves, can be traced.
"""
from __future__ import annotations

from ..function import Function
from ..tensor import Tensor


class Cuts:
    """Finds the (node, output index) a tensor outside the graph was cut from."""

    def __init__(self, outputs):
        self.shared = {}
        for out in outputs:
            if out.grad_fn is not None:
                self.shared[id(_owner(out.data))] = (out.grad_fn, out._output_index)

    def source(self, x) -> tuple | None:
        """(node, output index), or None when ``x`` was not cut from anything still known."""
        if not isinstance(x, Tensor):
            return None
        if x._detached_from is not None:
            node = x._detached_from[0]()
            if node is not None:
                return node, x._detached_from[1]
        return self.shared.get(id(_owner(x.data)))

    def links(self, item) -> list:
        """The nodes ``item`` was computed from, and those its saved inputs were cut from."""
        if not isinstance(item, Function):
            found = self.source(item)
            return [found[0]] if found else []
        nodes = [e[0] if type(e) is tuple else e for e in item.next if e is not None]
        for x in item.inputs or ():
            found = self.source(x) if isinstance(x, Tensor) and not x.requires_grad else None
            if found:
                nodes.append(found[0])
        return nodes


def was_detached(x) -> bool:
    return isinstance(x, Tensor) and x._detached_from is not None


def drawn_above(fn, drawn, depth: int = 3) -> list:
    """(node, output) pairs that ``drawn`` accepts, found walking back from ``fn`` at most
    ``depth`` nodes (through the stack that made h_n, a slice, a reshape)."""
    found, frontier = [], [fn] if fn is not None else []
    for _ in range(depth):
        further = []
        for node in frontier:
            for e in node.next:
                if type(e) is not tuple:
                    continue
                if drawn(e[0]):
                    found.append(e)
                else:
                    further.append(e[0])
        if found:
            return list(dict.fromkeys(found))
        frontier = further
    return []


def _owner(array):
    """The array that owns ``array``'s memory (NumPy and CuPy views keep it in ``.base``)."""
    while getattr(array, "base", None) is not None:
        array = array.base
    return array
