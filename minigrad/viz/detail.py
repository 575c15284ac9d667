"""Detail levels: collapse the op-level records into gates or whole cells.

* ``op``: every primitive op, as recorded.
* ``gate``: one yellow box per learned layer, as in the essay's figures. A node labelled with a
  role whose op is a nonlinearity (``f_t = sigmoid(...)``) absorbs the linear ops in its step
  that feed it (matmuls, bias adds, transposes, the chunk of a fused matmul, the concatenation
  ``[h_{t-1}, x_t]``), so the fused form (one matmul, then a split) and the concatenated form
  draw the same four boxes. Pointwise ops (the pink circles) stay. Inputs that several boxes
  share meet at one junction first: Olah's merging lines.
* ``cell``: one box per step; the edges between boxes carry h and C with their shapes.
"""
from __future__ import annotations

import math
from dataclasses import replace

from .records import LEARNED, PRODUCTS, Edge, Graph, Node, carried_back, role_base

ACTIVATIONS = {"Sigmoid", "Tanh", "Relu"}
LINEAR = {*PRODUCTS, "Add", "Transpose", "Reshape", "BroadcastTo", "Split", "Unbind", "GetItem",
          "Concat"}


def coarsen(graph: Graph, detail: str) -> Graph:
    """``graph`` at ``detail`` (see the module docstring): a new graph, or ``graph`` at op detail."""
    if detail == "op":
        return graph
    if detail == "gate":
        return _gates(graph)
    if detail == "cell":
        return _cells(graph)
    raise ValueError(f"draw: detail must be 'op', 'gate' or 'cell', got {detail!r}")


def _inputs(graph: Graph) -> dict:
    ins = {n: [] for n in graph.nodes}
    for e in graph.edges:
        ins[e.dst].append(e)
    return ins


def _absorbable(graph: Graph, node: Node, ins: dict) -> bool:
    """A linear piece of a learned layer: it has no role, and is a linear op or a product
    with a parameter (a diagonal peephole weight)."""
    if node.role is not None or node.step is None or node.kind != "op":
        return False
    if node.op in LINEAR:
        return True
    return node.op == "Mul" and any(graph.nodes[e.src].kind in LEARNED for e in ins[node.id])


def _blocks(graph: Graph, ins: dict) -> dict:
    """{exit: member ids}. An exit is (labelled nonlinearity, None), a gate box that absorbs
    the linear ops of its step feeding it; or (node, output) for a linear result that leaks to
    a pointwise op (the GRU's W_hn h + b_hn, scaled by r_t before its tanh). Members may be
    shared: the fused matmul and its split belong to all four gates of an LSTM step."""
    nodes = graph.nodes
    consumers = {n: [] for n in nodes}
    for e in graph.edges:
        consumers[e.src].append(e)
    absorbable = {n for n, node in nodes.items() if _absorbable(graph, node, ins)}

    def closure(start: str, entry_edges) -> set:
        members, todo = {start}, list(entry_edges)
        while todo:
            e = todo.pop()
            src = nodes[e.src]
            if e.src in absorbable and src.step == nodes[start].step and e.src not in members:
                members.add(e.src)
                todo.extend(ins[e.src])
        return members

    blocks = {}  # exit (node id, output or None for all) -> member set
    for nid, node in nodes.items():
        if node.kind == "op" and node.role is not None and node.op in ACTIVATIONS and node.step:
            blocks[nid, None] = closure(nid, ins[nid])
    in_block = _membership(blocks)
    for exit_ in list(blocks):
        for m in blocks[exit_] - {exit_[0]}:
            for e in consumers[m]:
                if e.dst not in blocks[exit_] and not any(e.dst in blocks[x] for x in in_block[m]):
                    leak = (m, e.src_output)
                    if leak not in blocks:
                        blocks[leak] = closure(m, ins[m]) | {m}
    return blocks


def _membership(blocks: dict) -> dict:
    """{member id: the exits of every block it belongs to}."""
    in_block = {}
    for exit_, members in blocks.items():
        for m in members:
            in_block.setdefault(m, []).append(exit_)
    return in_block


def _gates(graph: Graph) -> Graph:
    """One node per block of :func:`_blocks`; edges inside a block vanish."""
    nodes, ins = graph.nodes, _inputs(graph)
    blocks = _blocks(graph, ins)
    in_block = _membership(blocks)

    out = Graph(detail="gate", params=graph.params, notes=list(graph.notes), grads=graph.grads,
                engine=graph.engine)
    exits, carried = {}, {}
    for exit_ in blocks:
        exits.setdefault(exit_[0], []).append(exit_)
    for e in graph.edges:
        carried.setdefault((e.src, e.src_output), e)
    block_id = {}
    for nid, node in nodes.items():
        for exit_ in exits.get(nid, ()):
            block_id[exit_] = out.add(_block_node(graph, exit_, blocks[exit_], carried)).id
        if nid not in in_block:
            out.add(node)

    def rep(src: str, output: int) -> str:
        for key in ((src, None), (src, output)):
            if key in block_id:
                return block_id[key]
        return src

    def homes(nid: str) -> list:
        return [block_id[x] for x in in_block[nid]] if nid in in_block else [nid]

    seen = set()
    for e in graph.edges:
        src_blocks = set(in_block.get(e.src, ()))
        for exit_ in in_block.get(e.dst, [None]):
            if exit_ is not None and exit_ in src_blocks:
                continue
            dst = block_id[exit_] if exit_ is not None else e.dst
            src = rep(e.src, e.src_output)
            if src == dst or (src, e.tensor, dst) in seen:
                continue
            seen.add((src, e.tensor, dst))
            out.edges.append(replace(e, src=src, dst=dst,
                                     src_output=0 if src != e.src else e.src_output))
    _merge_shared_inputs(out)
    out.outputs = [h for o in graph.outputs for h in homes(o)]  # each box an output is inside
    return out


def _block_node(graph: Graph, exit_: tuple, members: set, carried: dict) -> Node:
    nid, output = exit_
    anchor = graph.nodes[nid]
    learned = any(graph.nodes[m].op in PRODUCTS for m in members)
    if output is None:
        kind, op, block = "gate", anchor.op, f"{nid}g"
        role, shape = anchor.role, anchor.shape
    else:
        kind, op = ("linear", "Linear") if learned else ("op", anchor.op)
        block = f"{nid}o{output}"
        role, shape = carried[nid, output].role, carried[nid, output].shape
    return Node(id=block, kind=kind, op=op, role=role, shape=shape, step=anchor.step,
                grad_norm=anchor.grad_norm if output is None else None, cell=anchor.cell,
                members=tuple(sorted(members)), stats=anchor.stats if output is None else None)


def _merge_shared_inputs(graph: Graph) -> None:
    """The inputs that all gate boxes of a step share ([h_{t-1}, x_t]; where they share fewer,
    those that most of them read, see _most_shared) meet at one junction first; any other
    input (a peephole's C) goes to its box directly."""
    ins = _inputs(graph)
    per_step = {}
    for nid, node in graph.nodes.items():
        if node.kind != "gate":
            continue
        data = {(e.src, e.src_output) for e in ins[nid]
                if graph.nodes[e.src].kind not in LEARNED}
        if len(data) >= 2:
            per_step.setdefault(node.step, []).append((nid, data))
    by_set = {}
    for step, gates in per_step.items():
        shared = _most_shared(gates)
        sharing = [nid for nid, data in gates if shared <= data]
        if len(shared) >= 2 and len(sharing) >= 2:
            by_set[step, tuple(sorted(shared))] = sharing
        for nid, data in gates:
            if nid not in sharing or len(shared) < 2:
                by_set.setdefault((step, tuple(sorted(data))), []).append(nid)
    via = {}
    for (step, data), gates in by_set.items():
        junction = graph.add(Node(id=f"{gates[0]}j", kind="junction", op="Concat", step=step))
        for g in gates:
            for source in data:
                via[g, source] = junction.id
    keep, lines = [], {}  # a line drawn -> (its place in keep, the lines it stands for)
    for e in graph.edges:
        junction = via.get((e.dst, (e.src, e.src_output)))
        if junction is None:
            keep.append(e)
            continue
        out = Edge(junction, e.dst, tensor=(junction, 0))
        for line, drawn in ((("in", junction, e.src, e.src_output), replace(e, dst=junction)),
                            (("out", junction, e.dst), out)):
            if line not in lines:
                lines[line] = (len(keep), [])
                keep.append(drawn)
            lines[line][1].append(e)
    for line, (at, parts) in lines.items():
        keep[at] = replace(keep[at], **_carried(parts, into_gate=line[0] == "out"))
    graph.edges[:] = keep


def _carried(parts: list, into_gate: bool) -> dict:
    """The gradient a junction's line carries back: out to a gate, what the gate sent back
    along the parts that meet there, sqrt(|dL/dh|² + |dL/dx|²) (None when no part has one);
    in from one source, the sum of what the gates sent back along it (records.carried_back)."""
    if into_gate:
        norms = [e.grad_norm for e in parts if e.grad_norm is not None]
        return {"grad_norm": math.hypot(*norms) if norms else None}
    norm, flow = carried_back(parts)
    return {"grad_norm": norm, "flow": flow}


def _most_shared(gates: list) -> set:
    """The inputs that all gates share; where they share fewer than two, those that the most
    gates read (a depth-gated LSTM's layer above: [h_t below, h_{t-1}] into four of its five
    gates; its depth gate reads C_t below instead): each gate with its own junction, their
    lines crossed 3 times a step."""
    shared = set.intersection(*(data for _, data in gates))
    if len(shared) >= 2:
        return shared
    readers = {}
    for _, data in gates:
        for source in data:
            readers[source] = readers.get(source, 0) + 1
    most = max(readers.values())
    return {source for source, n in readers.items() if n == most} if most > 1 else set()


def _cells(graph: Graph) -> Graph:
    """One node per step (and per other scope); edges carry what crosses between them."""
    out = Graph(detail="cell", params=graph.params, notes=list(graph.notes), grads=graph.grads,
                engine=graph.engine)
    home, members = {}, {}
    for nid, node in graph.nodes.items():
        if node.step is not None:
            key = ("step", node.step)
        elif node.scope and node.kind == "op":
            key = ("scope", node.scope)
        else:
            home[nid] = nid
            continue
        members.setdefault(key, []).append(nid)
        home[nid] = members[key][0] + "c"
    for nid, node in graph.nodes.items():
        if home[nid] == nid:
            out.add(node)
        elif home[nid] not in out.nodes:
            key = ("step", node.step) if node.step is not None else ("scope", node.scope)
            out.add(_cell_node(graph, home[nid], key, members[key]))
    seen = set()
    for e in graph.edges:
        src, dst = home[e.src], home[e.dst]
        if src == dst or (e.tensor, dst) in seen:
            continue
        seen.add((e.tensor, dst))
        out.edges.append(replace(e, src=src, dst=dst, role=e.role or graph.nodes[e.src].name))
    out.outputs = [home[o] for o in graph.outputs]
    return out


def _cell_node(graph: Graph, nid: str, key: tuple, member_ids: list) -> Node:
    nodes = [graph.nodes[m] for m in member_ids]
    if key[0] == "scope":
        return Node(id=nid, kind="block", op=key[1][-1], scope=key[1], members=tuple(member_ids))
    roles = {role_base(n.role) for n in nodes if n.role}
    cell = next((n.cell for n in nodes if n.cell), None) or _guess_cell(roles)
    h = next((n for n in nodes if n.role and n.role.startswith("h_")), None)
    return Node(id=nid, kind="cell", op=cell, step=key[1], cell=cell, members=tuple(member_ids),
                grad_norm=h.grad_norm if h else None, shape=h.shape if h else None)


def _guess_cell(roles: set) -> str:
    if {"i", "f", "o"} <= roles:
        return "lstm"
    if {"r", "z"} <= roles:
        return "gru"
    return "rnn" if roles == {"h"} else "cell"

