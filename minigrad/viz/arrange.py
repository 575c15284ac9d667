"""Arrange the records for drawing: where parameters go, how inputs enter each step, forks.

* Parameters (and tensors derived from them only, such as W^T): drawn ``once`` in their own
  cluster, ``repeat``-ed in every step that uses them as faint copies, or hidden (``hide``).
  Drawn once in a picture of one row, each parameter runs along one line under the steps, and
  each step that reads it taps the line once: Olah's copy.
* A tensor made outside the steps and sliced into them (the runner projects the whole input
  sequence at once, x W_ih^T + b, and unbinds it) enters each step as a small ``stub`` from
  below, ``x_3``. When it was made from the layer below's outputs, that layer's h_t feeds the
  stub of step t (at cell detail, the cell itself): the vertical edge of a stacked RNN. A state
  handed over from another model or call (layer k's slice of an encoder's h_n) is fed by layer
  k's last step there. At cell detail in a bidirectional stack, h_t of both directions meets at
  one dot below the layer above, which forks to its cells: Olah's merging lines, then his copy.
* A state that several ops of the next step read (h_{t-1} in four matmuls) crosses the step
  boundary once and forks inside: Olah's copy.
* A tensor collected from many steps (the stacked output sequence) leaves each step through
  a small ``exit`` ("↑ stack") instead of one long line per step: the picture stays readable,
  and Graphviz stays fast (long edges through hundreds of clusters cost it minutes).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace

from .records import LEARNED, PARAM_MODES, PRODUCTS, Edge, Graph, Node, carried_back, role_base

PASS_THROUGH = {"Unbind", "Reshape", "Add", *PRODUCTS, "GetItem", "Split", "Concat", "Stack",
                "Where", "Mul", "Transpose", "Cast", "ToDevice"}


def arrange(graph: Graph, param_mode: str) -> Graph:
    """Rewrite ``graph`` in place for drawing (see the module docstring); returns it."""
    if param_mode not in PARAM_MODES:
        raise ValueError(f"draw: param_mode must be one of {PARAM_MODES}, got {param_mode!r}")
    stepped = any(n.step is not None for n in graph.nodes.values())
    graph.params = param_mode if stepped else "once"
    if stepped:
        _stubs(graph)
        if graph.detail == "cell":
            _merge_directions(graph)
        _parameters(graph, graph.params)
        rows = {n.step.row for n in graph.nodes.values() if n.step is not None}
        if graph.params == "once" and len(rows) == 1:  # see layout._band
            _taps(graph)
        _fork_crossings(graph)
        if graph.detail == "gate":
            _fork_handed_up(graph)
        prune(graph)  # first: the stack of a layer's outputs that only fed the next layer goes
        _exits(graph)
    elif param_mode == "hide":
        _parameters(graph, "hide")
        prune(graph)
    return graph


def learned_name(graph: Graph, nid: str, depth: int = 3) -> str:
    """A short name for a parameter or a tensor derived from parameters (``weight_hh_l0ᵀ``)."""
    node = graph.nodes[nid]
    if node.kind == "param":
        return (node.name or "param").rsplit(".", 1)[-1]
    if node.role:
        return node.role
    ins = [e.src for e in graph.edges if e.dst == nid]
    if depth == 0 or not ins:
        return node.op
    parts = [learned_name(graph, s, depth - 1) for s in ins]
    if node.op == "Transpose":
        return _operand(parts[0]) + "ᵀ"
    if node.op == "Add":
        return " + ".join(parts)
    if node.op == "Concat":
        return "[" + " | ".join(parts) + "]"
    if node.op in ("Split", "Unbind", "GetItem"):
        return _operand(parts[0]) + "[·]"
    return f"{node.op}({', '.join(parts)})"


def _operand(name: str) -> str:
    """``name`` in parentheses when it is a sum: (b_ih + b_hh)[·], not b_ih + b_hh[·]."""
    return f"({name})" if " + " in name else name


def _parameters(graph: Graph, mode: str) -> None:
    """Mark the edges leaving parameters; with ``repeat`` give each step its own copies,
    with ``hide`` drop them."""
    learned = {nid for nid, n in graph.nodes.items() if n.kind in LEARNED}
    if mode == "hide":
        graph.edges[:] = [e for e in graph.edges if e.src not in learned and e.dst not in learned]
        for nid in learned:
            del graph.nodes[nid]
        return
    names = {}
    if mode == "repeat":  # a stub's text already names its projection's weights
        graph.edges[:] = [e for e in graph.edges
                          if not (e.src in learned and graph.nodes[e.dst].kind == "stub")]
    for e in graph.edges:
        if e.src not in learned:
            continue
        dst = graph.nodes[e.dst]
        e.kind = "param"
        if mode == "repeat" and dst.step is not None and dst.kind not in LEARNED:
            if e.src not in names:
                names[e.src] = learned_name(graph, e.src)
            ghost = f"{e.src}@{_key_id(dst.step)}"
            if ghost not in graph.nodes:
                src = graph.nodes[e.src]
                graph.add(Node(id=ghost, kind="ghost", name=names[e.src], shape=e.shape,
                               step=dst.step, grad_norm=src.grad_norm))
            e.src = ghost


def _taps(graph: Graph) -> None:
    """Each parameter reaches the steps along one line, left to right, with a ``tap`` (a point)
    in each step that reads it, however many of the step's ops read it."""
    nodes = graph.nodes
    reads = defaultdict(lambda: defaultdict(list))  # parameter -> step -> edges into the step
    for i, e in enumerate(graph.edges):
        dst = nodes[e.dst]
        if nodes[e.src].kind in LEARNED and dst.step is not None and dst.kind not in LEARNED:
            reads[e.src][dst.step].append(i)
    moved = set()
    for src, steps in reads.items():
        line = src
        for key in sorted(steps):
            first = graph.edges[steps[key][0]]
            tap = graph.add(Node(id=f"{src}tap@{_key_id(key)}", kind="tap", shape=first.shape,
                                 grad_norm=nodes[src].grad_norm))
            graph.edges.append(replace(first, src=line, dst=tap.id, dst_input=None))
            graph.edges += [replace(graph.edges[i], src=tap.id) for i in steps[key]]
            moved.update(steps[key])
            line = tap.id
    graph.edges[:] = [e for i, e in enumerate(graph.edges) if i not in moved]


def _key_id(key) -> str:
    return f"{key.group}:{key.call}:{key.layer}:{key.direction}:{key.step}"


def _stubs(graph: Graph) -> None:
    """Per-step entries for the tensors made outside the steps that enter them as a sequence
    (see :func:`_enters_per_step`): each step reads its slice from a stub."""
    nodes = graph.nodes
    reads = defaultdict(lambda: defaultdict(set))  # made outside -> output -> steps reading it
    for e in graph.edges:
        src, dst = nodes[e.src], nodes[e.dst]
        if (src.step is None and src.kind in ("op", "input") and dst.step is not None
                and dst.kind not in ("ellipsis",) and e.kind == "data"):
            reads[e.src][e.src_output].add(dst.step)
    row_steps = defaultdict(set)
    for node in nodes.values():
        if node.step is not None:
            row_steps[node.step.row].add(node.step.step)
    origins = {nid: _origin(graph, nid) for nid in reads}
    stubbed = {nid for nid, per_output in reads.items()
               if _enters_per_step(per_output, origins[nid], row_steps)}
    if not stubbed:
        return
    ins = defaultdict(list)
    for e in graph.edges:
        ins[e.dst].append(e)
    kept, made, linked = [], {}, set()
    for e in graph.edges:
        dst = nodes[e.dst]
        if e.src not in stubbed or dst.step is None or dst.kind == "ellipsis":
            kept.append(e)
            continue
        origin = origins[e.src]
        sources = _feeding(graph, origin, e, dst.step, ins)
        if graph.detail == "cell" and origin["sources"]:
            # the cell below feeds this cell once, however many projections of it it reads
            for s in sources:
                if (s.tensor, e.dst) not in linked:
                    linked.add((s.tensor, e.dst))
                    kept.append(replace(s, dst=e.dst))
            continue
        stub_id = f"{e.src}s{e.src_output}@{_key_id(dst.step)}"
        if stub_id not in made:
            made[stub_id] = _stub(graph, stub_id, e, dst.step, origin, sources, kept)
        kept.append(replace(e, src=stub_id, role=made[stub_id].role, src_output=0))
    graph.edges[:] = kept


def _enters_per_step(per_output: dict, origin: dict, row_steps: dict) -> bool:
    """Whether a tensor made outside the steps, whose outputs ``per_output`` steps read, is a
    sequence sliced into them, each step reading its own slice: a state made in steps and
    handed over (the layer below's h_t, an encoder's h_n), or the input sliced into the steps
    of one row. A tensor that several steps read whole (a context computed once) is none, nor
    is a leaf sliced straight into the first steps of several rows (a learned initial state,
    one slice per layer): they stay drawn as the ops that make them. One step is drawn like
    many, but a single step gives no sign of a sequence: there the input is known by the
    weights that projected it (x W_ih^T + b)."""
    if any(len(steps) > 1 for steps in per_output.values()):
        return False
    steps = set().union(*per_output.values())
    rows = {k.row for k in steps}
    if not origin["sources"] and len(rows) > 1:
        return False
    if len(steps) >= 2:
        return True
    only_step = all(len(row_steps[row]) == 1 for row in rows)
    return only_step and bool(origin["sources"] or origin["learned"])


def _merge_directions(graph: Graph) -> None:
    """At cell detail, the lines that carry one state of both directions below (h_t of a
    bidirectional stack) into a cell meet at one junction first, shared by every cell that reads
    them and placed with the lowest of these: the layer above reads [h_t→, h_t←]. What leaves
    the junction carries the norm of the joined gradient, sqrt(|dL/dh_t→|² + |dL/dh_t←|²)."""
    nodes = graph.nodes
    below = defaultdict(list)  # (reading cell, state) -> its edges from the cells below
    for e in graph.edges:
        a, b = nodes[e.src], nodes[e.dst]
        if a.kind == b.kind == "cell" and a.step.row != b.step.row and a.step.step == b.step.step:
            below[e.dst, role_base(e.role)].append(e)
    readers = defaultdict(list)  # the tensors that meet -> per reading cell, its edges
    for edges in below.values():
        if len({nodes[e.src].step.row for e in edges}) > 1:
            readers[tuple(sorted(e.tensor for e in edges))].append(edges)
    merged = set()
    for groups in readers.values():
        parts, cells = groups[0], [edges[0].dst for edges in groups]
        home = min(nodes[c].step for c in cells)
        junction = graph.add(Node(id=f"{parts[0].src}m@{_key_id(home)}", kind="junction",
                                  op="Concat", step=home, role=parts[0].role,
                                  layer=nodes[parts[0].src].step.layer))
        norms = [e.grad_norm for e in parts if e.grad_norm is not None]
        graph.edges += [replace(e, dst=junction.id) for e in parts]
        graph.edges += [Edge(junction.id, c, role=junction.role, tensor=(junction.id, 0),
                             grad_norm=math.hypot(*norms) if norms else None) for c in cells]
        merged.update(id(e) for edges in groups for e in edges)
    graph.edges[:] = [e for e in graph.edges if id(e) not in merged]


def _feeding(graph: Graph, origin: dict, e: Edge, step, ins: dict) -> list:
    """The edges from steps that slice ``e``, read at ``step``, was made from: layer k's last
    state when it is layer k's slice of a stacked state handed over from another model or call
    (h_n); otherwise those of the layer below at the same step (x_t of layer l is h_t of l - 1)."""
    return (_stacked_part(graph, e, ins)
            or [s for s in origin["sources"] if graph.nodes[s.src].step.step == step.step])


def _stacked_part(graph: Graph, e: Edge, ins: dict) -> list:
    """Output k of an unbind of a stack is the stack's input k, from a step (same shape)."""
    into = ins[e.src]
    if graph.nodes[e.src].op != "Unbind" or len(into) != 1 \
            or graph.nodes[into[0].src].op != "Stack":
        return []
    return [s for s in ins[into[0].src] if s.dst_input == e.src_output and s.shape == e.shape
            and graph.nodes[s.src].step is not None]


def _stub(graph: Graph, stub_id: str, e: Edge, step, origin: dict, sources: list,
          edges: list) -> Node:
    """The stub of slice ``e`` in ``step``, named after what feeds it (h_3 of the layer below,
    h_2 of an encoder's last step) or, fed by nothing drawn, the input (x_3)."""
    role, layer = f"{origin['name']}_{step.step}", None
    if sources and sources[0].role:
        role, layer = sources[0].role, graph.nodes[sources[0].src].step.layer
    stub = graph.add(Node(id=stub_id, kind="stub", op=origin["text"], role=role,
                          shape=e.shape, step=step, grad_norm=e.grad_norm, layer=layer))
    for s in sources:
        edges.append(replace(s, dst=stub_id))
    for s in origin["learned"]:  # the projection's weights, drawn with the parameters "once"
        edges.append(replace(s, dst=stub_id, kind="param"))
    return stub


def _origin(graph: Graph, nid: str) -> dict:
    """Walk back from a sliced tensor to where it came from: an input leaf (named), or the
    step outputs of the layer below; note whether a learned projection came in between."""
    ins = defaultdict(list)
    for e in graph.edges:
        ins[e.dst].append(e)
    sources, learned_in, name, projected, biased = [], [], None, False, False
    todo, seen = [nid], {nid}
    while todo:
        node = graph.nodes[todo.pop()]
        if node.kind == "input":
            name = name or node.name or "x"
            continue
        if node.kind != "op" or node.op not in PASS_THROUGH:
            continue
        learned = [e for e in ins[node.id] if graph.nodes[e.src].kind in LEARNED]
        learned_in += learned
        if node.op == "AddMM":  # c + a @ b: a learned c is a bias, a learned a or b a weight
            biased |= any(e.dst_input == 0 for e in learned)
            projected |= any(e.dst_input in (1, 2) for e in learned)
        else:
            projected |= node.op == "MatMul" and bool(learned)
            biased |= node.op == "Add" and bool(learned)
        for e in ins[node.id]:
            src = graph.nodes[e.src]
            if src.step is not None:
                sources.append(e)
            elif e.src not in seen and src.kind not in LEARNED + ("const",):
                seen.add(e.src)
                todo.append(e.src)
    text = ("·Wᵀ" if projected else "") + (" + b" if biased else "")
    return {"sources": sources, "name": name or "x", "text": text, "learned": learned_in}


def _fork_crossings(graph: Graph) -> None:
    """One edge per state per step boundary; it forks inside the step that reads it. So does a
    parameter drawn once in its cluster (a stack's), at a tap: with a line to every op that
    reads it, dot 2.43 failed on a bidirectional 3-layer depth-gated stack at gate detail
    ("trouble in init_rank")."""
    nodes = graph.nodes
    groups = defaultdict(list)
    for i, e in enumerate(graph.edges):
        src, dst = nodes[e.src], nodes[e.dst]
        state = (e.kind in ("data", "detach") and src.kind not in LEARNED + ("ghost", "stub")
                 and dst.kind != "stub")
        param = e.kind == "param" and graph.params == "once" and src.kind in LEARNED
        if dst.step is not None and src.step != dst.step and (state or param):
            groups[e.src, e.tensor, dst.step, e.kind].append(i)
    drop = set()
    for n, ((src, _, step, _), indices) in enumerate(groups.items()):
        if len(indices) < 2:
            continue
        first = graph.edges[indices[0]]
        kind = "tap" if first.kind == "param" else "junction"
        fork = graph.add(Node(id=f"{src}f{n}@{_key_id(step)}", kind=kind, op="copy",
                              step=step, role=first.role, shape=first.shape))
        norm, flow = carried_back([graph.edges[i] for i in indices])
        graph.edges.append(replace(first, dst=fork.id, grad_norm=norm, flow=flow))
        for i in indices:
            graph.edges.append(replace(graph.edges[i], src=fork.id, src_output=0))
            drop.add(i)
    graph.edges[:] = [e for i, e in enumerate(graph.edges) if i not in drop]


def _fork_handed_up(graph: Graph) -> None:
    """A cell state that goes on along its row and up to another row's step (the depth-gated
    LSTM's C_t^(0), into layer 1's depth gate) leaves the op that made it on one line and forks
    at the end of its step: Olah's copy, where the state leaves the step. With two lines from
    the + (up, and on to the next step's fork), dot drew layer 0's C line under its step,
    clear of the lines from h_t up to layer 1 that must cross it (37 points below the belt).
    Not in a bidirectional stack, whose layers stand in columns (layout.columns), not a
    staircase: there the fork let the C lines wander 139 points."""
    nodes = graph.nodes
    if any(n.step is not None and n.step.direction == "reverse" for n in nodes.values()):
        return
    leaving = defaultdict(list)
    for i, e in enumerate(graph.edges):
        a, b = nodes[e.src].step, nodes[e.dst].step
        if (a is not None and b is not None and a != b and e.kind == "data"
                and role_base(e.role) in ("C", "c")):
            leaving[e.src].append(i)
    for src, indices in leaving.items():
        step = nodes[src].step
        along = [i for i in indices if nodes[graph.edges[i].dst].step.row == step.row]
        up = [i for i in indices if nodes[graph.edges[i].dst].kind == "stub"
              and nodes[graph.edges[i].dst].step.row != step.row]
        if len(along) != 1 or not up:
            continue
        first = graph.edges[along[0]]
        fork = graph.add(Node(id=f"{src}u@{_key_id(step)}", kind="junction", op="copy",
                              step=step, role=first.role, shape=first.shape))
        norm, flow = carried_back([graph.edges[i] for i in along + up])
        for i in along + up:
            graph.edges[i] = replace(graph.edges[i], src=fork.id, src_output=0)
        graph.edges.append(replace(first, dst=fork.id, grad_norm=norm, flow=flow))


def _exits(graph: Graph) -> None:
    """Edges from more than two steps into one node outside the steps end at a per-step exit;
    an invisible edge from each row's last exit keeps that node to the right."""
    nodes = graph.nodes
    fan_in = defaultdict(set)
    for e in graph.edges:
        if nodes[e.dst].step is None and nodes[e.src].step is not None and e.kind == "data":
            fan_in[e.dst].add(nodes[e.src].step)
    collectors = {nid for nid, steps in fan_in.items() if len(steps) > 2}
    if not collectors:
        return
    kept, last = [], {}
    for e in graph.edges:
        src = nodes[e.src]
        if e.dst not in collectors or src.step is None or e.kind != "data":
            kept.append(e)
            continue
        if src.kind == "ellipsis":  # the elided steps' slots: elided with them (their line ran
            continue                # under the whole right half of the picture)
        exit_id = f"{e.dst}x{len(nodes)}"
        graph.add(Node(id=exit_id, kind="exit", op=nodes[e.dst].op, role=e.role, shape=e.shape,
                       step=src.step, grad_norm=e.grad_norm))
        kept.append(replace(e, dst=exit_id))
        row = (e.dst, src.step.row)
        if row not in last or src.step.step > nodes[last[row]].step.step:
            last[row] = exit_id
    for (collector, _), exit_id in last.items():
        kept.append(Edge(exit_id, collector, kind="invisible", tensor=(exit_id, 0)))
    graph.edges[:] = kept


def prune(graph: Graph) -> None:
    """Drop nodes that no longer lead anywhere (an unbind whose slices all became stubs)."""
    keep = set(graph.outputs)
    used = defaultdict(int)
    for e in graph.edges:
        used[e.src] += 1
    dead = [nid for nid in graph.nodes if used[nid] == 0 and nid not in keep
            and graph.nodes[nid].kind not in ("ellipsis", "exit")]
    ins = defaultdict(list)
    for e in graph.edges:
        ins[e.dst].append(e.src)
    gone = set()
    while dead:
        nid = dead.pop()
        if nid in gone:
            continue
        gone.add(nid)
        for s in ins[nid]:
            used[s] -= 1
            if used[s] == 0 and s not in keep:
                dead.append(s)
    if gone:
        graph.edges[:] = [e for e in graph.edges if e.src not in gone and e.dst not in gone]
        for nid in gone:
            del graph.nodes[nid]
