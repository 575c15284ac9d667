"""A hand-written loop's input, named (its first axis is time): ``draw(..., inputs={"x": x})`` draws each step's read of
``x`` as a small stub ``x_t`` entering that step from below, as for the ``nn`` layers, instead
of one node with a line into every step (``x[t]`` inside the steps), ops floating outside them
(``x[t]`` before the step's scope) or, where ``x`` needs no gradient, number literals."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from ..tensor import Tensor, unwrap
from .records import Graph, Node

SLICING = ("GetItem", "Unbind", "Squeeze", "Reshape")  # ops that take a step's slice


def names_of(inputs) -> dict:
    """{id(tensor): name} from ``{"x": x}``; a clear error for anything else."""
    if inputs is None:
        return {}
    if not isinstance(inputs, dict) or not all(isinstance(t, Tensor) for t in inputs.values()):
        raise TypeError(f"draw: inputs must map names to tensors, like {{'x': x}}; "
                        f"got a {type(inputs).__name__}")
    return {id(t): str(name) for name, t in inputs.items()}


def stub_inputs(graph: Graph, names: dict) -> None:
    """Each line from a named input (or from an op outside the steps that slices it) into a step
    leaves from a stub ``name_t`` of that step instead; what no longer leads anywhere goes."""
    named = {nid: names[key] for nid, key in graph.engine.items()
             if key in names and nid in graph.nodes and graph.nodes[nid].step is None}
    if not named:
        return
    out = defaultdict(list)
    for e in graph.edges:
        out[e.src].append(e)
    slicers = {}  # op outside the steps that slices a named input -> the input's name
    for nid, name in named.items():
        for e in out[nid]:
            node = graph.nodes[e.dst]
            if (node.step is None and node.kind == "op" and node.op in SLICING and out[e.dst]
                    and all(graph.nodes[c.dst].step is not None for c in out[e.dst])):
                slicers[e.dst] = name
    sources = {**named, **slicers}
    stubs, kept, gone = {}, [], set(slicers)
    for e in graph.edges:
        dst = graph.nodes[e.dst]
        if e.src not in sources or dst.step is None or e.kind != "data":
            kept.append(e)
            continue
        key = (sources[e.src], dst.step)
        # the sequence itself, its time first: a step reads one slice (its x[t] drawn inside)
        shape = e.shape[1:] if e.src in named and e.shape else e.shape
        if key not in stubs:
            stubs[key] = graph.add(Node(id=f"{e.src}q@{len(graph.nodes)}", kind="stub",
                                        role=f"{key[0]}_{dst.step.step}", shape=shape,
                                        step=dst.step, grad_norm=e.grad_norm))
        kept.append(replace(e, src=stubs[key].id, src_output=0, role=stubs[key].role))
    kept = [e for e in kept if e.src not in gone and e.dst not in gone]
    used = {e.src for e in kept} | {e.dst for e in kept}
    gone |= {nid for nid in named if nid not in used and nid not in graph.outputs}
    for nid in gone:
        del graph.nodes[nid]
    graph.edges[:] = [e for e in kept if e.src not in gone and e.dst not in gone]


def sequence_of(array, inputs: dict) -> str | None:
    """The name of the named input whose data ``array`` is a view of (a step's ``x[t]`` where
    ``x`` needs no gradient reaches the step's op as a plain array)."""
    base = array
    while base is not None:
        for name, t in inputs.items():
            if base is unwrap(t):
                return name
        base = getattr(base, "base", None)
    return None
