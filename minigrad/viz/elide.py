"""Elide the middle steps of a long unrolled graph: keep the first and last few steps and draw
one "t = 3 ... t = 396" node per row in their place, with the edges that enter and leave it."""
from __future__ import annotations

from dataclasses import replace

from .records import Graph, Node, StepKey, role_base


def elide(graph: Graph, keep: int) -> Graph:
    """Keep the first ``keep`` and the last ``keep`` distinct steps (at least one of each)."""
    keep = max(1, keep)
    steps = sorted({n.step.step for n in graph.nodes.values() if n.step is not None})
    if len(steps) <= 2 * keep + 1:
        return graph
    gone = set(steps[keep:-keep])
    first, last = steps[keep], steps[-keep - 1]
    out = Graph(detail=graph.detail, params=graph.params, notes=list(graph.notes),
                grads=graph.grads, outputs=list(graph.outputs))
    home = {}
    for nid, node in graph.nodes.items():
        if node.step is None or node.step.step not in gone:
            out.add(node)
            home[nid] = nid
            continue
        k = node.step
        row_key = StepKey(k.group, k.call, k.layer, k.direction, first)
        ellipsis = f"elided:{k.group}:{k.call}:{k.layer}:{k.direction}"
        if ellipsis not in out.nodes:
            out.add(Node(id=ellipsis, kind="ellipsis", step=row_key, cell=node.cell,
                         text=f"t = {first} … t = {last}"))
        home[nid] = ellipsis
    seen = set()
    for e in graph.edges:
        src, dst = home[e.src], home[e.dst]
        if src == dst:
            continue
        if out.nodes[dst].kind == "ellipsis" and out.nodes[src].step is None \
                and out.nodes[src].kind != "ellipsis":
            continue  # per-step inputs of elided steps: the ellipsis stands for them
        key = (src, dst, role_base(e.role)) if dst != e.dst or src != e.src else None
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        out.edges.append(replace(e, src=src, dst=dst))
    n = len(gone)
    out.notes.append(f"{n} middle steps elided (t = {first} … t = {last})")
    out.outputs = [home[o] for o in graph.outputs]
    return out
