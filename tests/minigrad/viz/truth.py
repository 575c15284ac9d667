"""An independent check that a drawing tells the truth about the graph the engine recorded.

``falsehoods(outputs, params, detail, param_mode, max_nodes, data)`` draws the outputs and
compares the records with the engine's own graph (``Function.next``, roles, and the shapes,
scopes and gradient norms the recorder kept):

* capture: every engine node is drawn once with its op, role and step; every input is an edge
  with the real shape, role and gradient norm;
* steps: each drawn step is one step that ran: the nodes recorded in one step scope (one
  ``with minigrad.scope(..., step=t)``) are drawn in one step, and no other scope's with them;
* outputs: each is drawn, and every node that stands for it is marked as an output;
* the quotient: a drawn node stands for a set of engine nodes (an op for itself, a gate or cell
  for its members, a parameter copy for its parameter, a stub for its step's slice of a
  sequence, which no other step reads, an ellipsis for the steps it elides); following lines
  through points (junctions, taps, exits), every line joins two nodes that the engine joins
  through nodes not drawn, and every such dependency is drawn; slice t of a stacked sequence
  depends on part t only;
* labels: what a line says it carries (role, shape, gradient norm) is the tensor it carries;
* elision: each ellipsis names the steps its row left out, and so does the note;
* cuts: a dashed line into a step comes from its own row's state (or h_n, or a "cut" box);
* parameters: nothing classed as computed from parameters (drawn with them, or hidden with
  them) is computed from ``data``, the tensors fed to the model that need no gradient;
* the order of the outputs: drawn with them in other ``orders`` (by default, reversed), each
  engine node is drawn at the same step, and the DOT is the same up to the order of its lines.

It returns the falsehoods found, as lines of text (none for a true picture).
"""
from __future__ import annotations

import copy
import dataclasses
import math
import re
import warnings
from collections import Counter, defaultdict

import numpy as np

from minigrad.function import Edge, Function
from minigrad.viz import capture, draw, facts_of
from minigrad.viz.records import StepKey

POINTS = ("junction", "tap", "exit")  # lines pass through them


def falsehoods(outputs, params=None, detail="gate", param_mode="auto", max_nodes=100_000,
               data=(), orders=None):
    """``orders``: other orders to draw the outputs in, as tuples of their indices."""
    found = []
    cap = capture(*outputs, params=params)
    of = _match(outputs, cap, found)
    _steps(cap, of, found)
    _parameters(cap, of, data, found)
    options = dict(params=params, detail=detail, param_mode=param_mode, max_nodes=max_nodes)
    picture = _draw(outputs, options)
    drawn = _one_ellipsis_per_row(picture.records)
    if not drawn.nodes or any(o not in drawn.nodes for o in drawn.outputs):
        found.append("an output is not drawn")
    stands, leaves = _stands_for(drawn, cap)
    _outputs(drawn, cap, stands, found)
    _grouping(drawn, cap, stands, found)
    _slices(drawn, cap, leaves, found)
    _dependencies(drawn, cap, stands, leaves, found)
    _labels(drawn, cap, of, found)
    _elision(drawn, cap, found)
    _cuts(drawn, cap, stands, found)
    if orders is None:
        orders = [tuple(reversed(range(len(outputs))))] if len(outputs) > 1 else []
    _order(outputs, orders, cap, of, picture, options, found)
    return found


def _one_ellipsis_per_row(drawn):
    """The records with each row's elided steps one node, as they are to the engine: a state's
    own "⋯" (its line passes the elided steps at its height) merged into the one that says
    which steps they are."""
    named = {n.step: nid for nid, n in drawn.nodes.items() if n.kind == "ellipsis" and n.text}
    alias = {nid: named[n.step] for nid, n in drawn.nodes.items()
             if n.kind == "ellipsis" and not n.text and n.step in named}
    if not alias:
        return drawn
    merged = copy.copy(drawn)
    merged.nodes = {nid: n for nid, n in drawn.nodes.items() if nid not in alias}
    merged.edges = [dataclasses.replace(e, src=alias.get(e.src, e.src), dst=alias.get(e.dst, e.dst))
                    for e in drawn.edges]
    return merged


def _draw(outputs, options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return draw(*outputs, **options)


# --- capture against the engine ------------------------------------------------------------
def _stepped(role, key):
    return re.sub(r"_t$", f"_{key.step}", role) if role and key else role


def _norm(fn_or_leaf, index=0):
    if isinstance(fn_or_leaf, Function):
        norms = facts_of(fn_or_leaf).grad_norms
        return norms[index] if norms else None
    grad = fn_or_leaf.grad
    return None if grad is None else float(np.linalg.norm(grad.numpy().astype(np.float64)))


def _close(a, b):
    return a is b if a is None or b is None else math.isclose(a, b, rel_tol=1e-9)


def _match(outputs, cap, found) -> dict:
    """{capture id: engine node or leaf}, walking both graphs from the outputs in step."""
    ins = defaultdict(list)
    for e in cap.edges:
        if e.dst_input is not None and e.kind != "detach":
            ins[e.dst, e.dst_input].append(e)
    of, todo = {}, []
    for k, out in enumerate(outputs):
        of[cap.outputs[k]] = out.grad_fn if out.grad_fn is not None else out
        todo.append(cap.outputs[k])
    seen, engine_edges = set(), 0
    while todo:
        cid = todo.pop()
        if cid in seen:
            continue
        seen.add(cid)
        obj, node = of[cid], cap.nodes[cid]
        if not isinstance(obj, Function):
            if node.kind not in ("param", "input") or node.shape != tuple(obj.shape):
                found.append(f"capture: leaf {cid} drawn as {node.kind} {node.shape}")
            continue
        shapes = facts_of(obj).shapes
        if node.op != obj.name or (obj.n_outputs == 1 and node.shape != tuple(shapes[0])):
            found.append(f"capture: {cid} is {obj.name} {shapes}, drawn {node.op} {node.shape}")
        if obj.n_outputs == 1 and node.role != _stepped(obj.role(0), node.step):
            found.append(f"capture: {cid} role {node.role}, really {obj.role(0)}")
        scope = facts_of(obj).scope
        tags = scope.tags() if scope is not None else {}
        if (node.step is None) != ("step" not in tags) or node.step and (
                node.step.layer, node.step.direction) != (tags.get("layer", 0),
                                                          tags.get("direction", "forward")):
            found.append(f"capture: {cid} {obj.name} in scope {tags}, drawn at {node.step}")
        for i, e in enumerate(obj.next):
            if e is None:
                continue
            engine_edges += 1
            src, index = e if isinstance(e, Edge) else (e, 0)
            edges = ins[cid, i]
            if len(edges) != 1:
                found.append(f"capture: input {i} of {cid} {obj.name} drawn {len(edges)} times")
                continue
            edge = edges[0]
            if of.setdefault(edge.src, src) is not src:
                found.append(f"capture: {edge.src} stands for two engine nodes")
            todo.append(edge.src)
            shape = tuple(facts_of(src).shapes[index] if isinstance(src, Function) else src.shape)
            role = _stepped(src.role(index), cap.nodes[edge.src].step) \
                if isinstance(src, Function) else None
            if (edge.shape, edge.src_output, edge.role) != (shape, index, role):
                found.append(f"capture: input {i} of {cid} is {shape} {role}, drawn "
                             f"{edge.shape} {edge.role}")
            if not _close(edge.grad_norm, _norm(src, index)):
                found.append(f"capture: input {i} of {cid} grad {edge.grad_norm}")
    drawn = {c for c, n in cap.nodes.items() if n.kind in ("op", "derived", "param", "input")}
    if drawn != set(of) or len(ins) != engine_edges:
        found.append(f"capture: {len(drawn)} nodes, {len(of)} in the engine; "
                     f"{len(ins)} edges, {engine_edges} in the engine")
    return of


def _steps(cap, of, found):
    """Each drawn step is one step scope: what one ``with minigrad.scope(..., step=t)`` recorded
    is drawn in one step, and nothing any other scope recorded is drawn there."""
    drawn_at, ran_in = defaultdict(set), defaultdict(set)
    for cid, obj in of.items():
        step, key = _step_scope(obj), cap.nodes[cid].step
        if step is not None and key is not None:
            drawn_at[step].add(key)
            ran_in[key].add(step)
    for step, keys in drawn_at.items():
        if len(keys) > 1:
            found.append(f"steps: what step {step.own_tags['step']} of {step.name} recorded is "
                         f"drawn in {len(keys)} steps: {sorted(keys)}")
    for key, steps in ran_in.items():
        if len(steps) > 1:
            found.append(f"steps: {len(steps)} step scopes are drawn as one, {key}")


def _step_scope(obj):
    """The innermost scope around an engine node that has a ``step`` tag, or None."""
    scope = facts_of(obj).scope if isinstance(obj, Function) else None
    while scope is not None and "step" not in scope.own_tags:
        scope = scope.parent
    return scope


def _parameters(cap, of, data, found):
    """No node classed ``derived`` (drawn once or repeated with the parameters, or hidden with
    them) is computed from ``data``: no engine node on its way back to the leaves holds one of
    their arrays, as a constant input or as an array of its own (an index, a condition)."""
    arrays = [d.data for d in data]
    for cid, node in cap.nodes.items():
        if node.kind == "derived" and _from_data(of.get(cid), arrays):
            found.append(f"{node.op} {cid} is classed with the parameters, but computed from data")


def _from_data(fn, arrays) -> bool:
    todo, seen = [fn], set()
    while todo:
        fn = todo.pop()
        if not isinstance(fn, Function) or id(fn) in seen:
            continue
        seen.add(id(fn))
        held = [*(facts_of(fn).constants or {}).values(), *vars(fn).values()]
        held += [part for h in held if isinstance(h, tuple) for part in h]  # an index tuple
        if any(isinstance(h, np.ndarray) and np.shares_memory(h, a) for h in held for a in arrays):
            return True
        todo += [e.node for e in fn.next if isinstance(e, Edge)]
    return False


# --- the order of the outputs ------------------------------------------------------------------
def _order(outputs, orders, cap, of, picture, options, found):
    """Drawn with the outputs in each of ``orders``, every engine node is at the same step and
    the DOT has the same statements."""
    steps = _engine_steps(cap, of)
    for order in orders:
        reordered = [outputs[i] for i in order]
        other = capture(*reordered, params=options["params"])
        moved = {obj: (steps.get(obj), key)
                 for obj, key in _engine_steps(other, _match(reordered, other, [])).items()
                 if steps.get(obj) != key}
        if moved:
            obj, (before, after) = next(iter(moved.items()))
            found.append(f"order {order}: {len(moved)} nodes change step, {obj.name} "
                         f"{obj.role(0) or ''} from {before} to {after}")
        changed = dot_changes(picture.source, _draw(reordered, options).source)
        if changed:
            found.append(f"order {order}: {len(changed)} DOT statements differ, {changed[0]}")


def _engine_steps(cap, of) -> dict:
    """{engine node: the step it is captured at}."""
    return {obj: cap.nodes[cid].step for cid, obj in of.items() if isinstance(obj, Function)}


def dot_changes(source: str, other: str) -> list:
    """The lines of one DOT source that the other lacks, in either direction: none when the two
    differ only in the order of their statements."""
    a, b = Counter(source.splitlines()), Counter(other.splitlines())
    return sorted((a - b) + (b - a))


# --- the quotient ----------------------------------------------------------------------------
def _stands_for(drawn, cap) -> tuple:
    """({drawn id: capture ids it stands for}, {drawn id: tensors that leave it})."""
    kept = {n.step for n in drawn.nodes.values() if n.step and n.kind != "ellipsis"}
    outputs = defaultdict(set)
    for e in cap.edges:
        outputs[e.src].add((e.src, e.src_output))
    stands, leaves = {}, {}
    for nid, n in drawn.nodes.items():
        if n.kind in POINTS:
            continue
        if n.kind in ("gate", "linear", "cell", "block") or n.members:
            stands[nid] = set(n.members)
        elif n.kind == "ghost":
            stands[nid] = {nid.split("@")[0]}
        elif n.kind == "ellipsis":
            stands[nid] = {c for c, m in cap.nodes.items() if m.step and m.step.row == n.step.row
                           and m.step not in kept}
        else:
            stands[nid] = {nid} & set(cap.nodes)
        if n.kind == "gate":
            leaves[nid] = {(m, 0) for m in n.members if cap.nodes[m].role == n.role}
        elif n.kind == "linear" or (n.kind == "op" and n.members):
            member, output = re.fullmatch(r"(.*)o(\d+)", nid).groups()
            leaves[nid] = {(member, int(output))}
        elif n.kind == "stub":
            leaves[nid] = {e.tensor for e in drawn.edges if e.src == nid}
        else:
            leaves[nid] = {t for c in stands[nid] for t in outputs[c]}
    return stands, leaves


def _outputs(drawn, cap, stands, found):
    """Every output is drawn, and every drawn node that stands for it is marked as an output."""
    for cid in cap.outputs:
        homes = {nid for nid, members in stands.items() if cid in members}
        if not homes or homes - set(drawn.outputs):
            found.append(f"output {cap.nodes[cid].op} {cap.nodes[cid].role or ''} is drawn in "
                         f"{len(homes)} nodes, {len(homes - set(drawn.outputs))} not marked")


def _grouping(drawn, cap, stands, found):
    """A cell stands for exactly its step's nodes, and every node of a step is drawn."""
    by_step = defaultdict(set)
    for c, n in cap.nodes.items():
        if n.step is not None:
            by_step[n.step].add(c)
    for nid, n in drawn.nodes.items():
        if n.kind == "cell" and stands[nid] != by_step[n.step]:
            found.append(f"the cell of {n.step} stands for {len(stands[nid])} of its "
                         f"{len(by_step[n.step])} nodes")
    shown = set().union(*stands.values()) if stands else set()
    for key, members in by_step.items():
        if members - shown:
            found.append(f"{len(members - shown)} nodes of {key} are not drawn")


def _slices(drawn, cap, leaves, found):
    """A stub is its step's own slice of a sequence: no other step reads what it carries."""
    for nid, n in drawn.nodes.items():
        if n.kind == "stub":
            readers = {cap.nodes[e.dst].step for e in cap.edges if (e.src, e.src_output)
                       in leaves[nid]} - {None}
            if readers != {n.step}:
                found.append(f"stub {n.role} of step {n.step.step} carries what "
                             f"{len(readers)} steps read")


def _drawn_lines(drawn) -> dict:
    """{(drawn node, drawn node): kinds of the lines between them through points}; an exit
    leads to its collector."""
    out = defaultdict(list)
    for e in drawn.edges:
        if e.kind != "invisible":
            out[e.src].append(e)
    lines = defaultdict(set)
    for nid, n in drawn.nodes.items():
        if n.kind in POINTS:
            continue
        todo, seen = [(e, e.kind) for e in out[nid]], set()
        while todo:
            e, kind = todo.pop()
            end = drawn.nodes[e.dst]
            if end.kind not in POINTS:
                lines[_alias(drawn, nid), _alias(drawn, e.dst)].add(kind)
            elif (e.dst, kind) not in seen:
                seen.add((e.dst, kind))
                if end.kind == "exit":
                    lines[_alias(drawn, nid), re.fullmatch(r"(.*)x\d+", e.dst).group(1)].add(kind)
                todo += [(f, "detach" if "detach" in (kind, f.kind) else f.kind)
                         for f in out[e.dst]]
    return lines


def _carried(drawn) -> set:
    """(tensor, drawn node) for each tensor a line carries to a node, through points (an exit
    leads to its collector)."""
    out = defaultdict(list)
    for e in drawn.edges:
        if e.kind != "invisible":
            out[e.src].append(e.dst)
    for nid, n in drawn.nodes.items():
        if n.kind == "exit":
            out[nid].append(re.fullmatch(r"(.*)x\d+", nid).group(1))
    carried = set()
    for e in drawn.edges:
        todo, seen = [e.dst], set()
        while todo:
            nid = todo.pop()
            if drawn.nodes[nid].kind not in POINTS:
                carried.add((e.tensor, _alias(drawn, nid)))
            elif nid not in seen:
                seen.add(nid)
                todo += out[nid]
    return carried


def _alias(drawn, nid):
    """A parameter's faint copy stands for the parameter."""
    return nid.split("@")[0] if drawn.nodes[nid].kind == "ghost" else nid


def _reached(cap, tensors, visible) -> set:
    """(capture node, last unbind output passed, stack part on arrival) for the visible nodes
    that ``tensors`` reach through nodes not drawn. Input k of a stack comes back out of an
    unbind of it only as output k."""
    out, outputs = defaultdict(list), defaultdict(set)
    for e in cap.edges:
        if e.kind != "detach":
            out[e.src, e.src_output].append(e)
            outputs[e.src].add(e.src_output)
    found, seen, todo = set(), set(), [(t, t, None) for t in tensors]
    while todo:
        tensor, via, part = todo.pop()
        for e in out[tensor]:
            op = cap.nodes[e.dst].op
            if e.dst in visible:
                found.add((e.dst, via, part))
                continue
            part_next = e.dst_input if op == "Stack" else part
            if (e.dst, part_next, via) in seen:
                continue
            seen.add((e.dst, part_next, via))
            for o in outputs[e.dst]:
                if op != "Unbind":
                    todo.append(((e.dst, o), via, part_next))
                elif part_next in (None, o):
                    todo.append(((e.dst, o), (e.dst, o), None))
    return found


def _dependencies(drawn, cap, stands, leaves, found):
    lines = _drawn_lines(drawn)
    home = defaultdict(set)
    for nid, members in stands.items():
        for m in members:
            home[m].add(_alias(drawn, nid))
    visible = set(home)
    stubs = {(t, n.step): nid for nid, n in drawn.nodes.items() if n.kind == "stub"
             for t in leaves[nid]}
    required = set()
    for nid, tensors in leaves.items():
        a = _alias(drawn, nid)
        if drawn.nodes[nid].kind == "stub":
            for c, _, _ in _reached(cap, tensors, visible):
                required |= {(a, b) for b in home[c] if drawn.nodes[b].step == drawn.nodes[nid].step}
            continue
        for c, via, _ in _reached(cap, tensors, visible):
            for b in home[c] - {a}:
                if a not in home[c]:
                    step = drawn.nodes[b].step if b in drawn.nodes else None
                    required.add((a, stubs.get((via, step), b)))
    elided = any(n.kind == "ellipsis" for n in drawn.nodes.values())
    carried = _carried(drawn)
    for e in cap.edges:  # between two drawn nodes, each tensor is drawn (h and C both)
        if e.kind == "detach" or elided or not home[e.src] or home[e.src] & home[e.dst]:
            continue
        for b in home[e.dst]:
            if ((e.src, e.src_output), b) not in carried:
                found.append(f"{e.role or 'a tensor'} from {_name(drawn, min(home[e.src]))} "
                             f"to {_name(drawn, b)} is not drawn")
    collected = {e.dst for e in drawn.edges if drawn.nodes[e.src].kind == "exit"}
    for a, b in required - set(lines):
        na, nb = drawn.nodes.get(a), drawn.nodes.get(b)
        if na is None or nb is None or elided and nb.kind == "ellipsis":
            continue
        if na.kind == "ellipsis" and b in collected:
            continue  # the elided steps' slots of a stacked output go with them
        if drawn.params == "repeat" and nb.kind == "stub":
            continue  # the stub's text names the weights of its projection
        found.append(f"missing line {_name(drawn, a)} -> {_name(drawn, b)}")
    for (a, b), kinds in lines.items():
        if (a, b) in required or "detach" in kinds:
            continue
        nb = drawn.nodes.get(b)
        if nb is not None and nb.kind == "stub" and _made_from(cap, leaves.get(a, {(a, 0)}),
                                                                leaves[b], visible):
            continue
        found.append(f"invented line {_name(drawn, a)} -> {_name(drawn, b)}")


def _made_from(cap, starts, slices, visible) -> bool:
    """Whether one of ``slices`` (unbind outputs, what a stub stands for) is computed from
    ``starts`` through nodes not drawn."""
    unbinds = {u for u, _ in slices}
    return any(u in unbinds and (part is None or (u, part) in slices)
               for u, _, part in _reached(cap, starts, visible | unbinds))


def _name(drawn, nid):
    n = drawn.nodes.get(nid)
    if n is None:
        return nid
    where = f" {n.step.group}/{n.step.layer}{n.step.direction[0]}/t={n.step.step}" if n.step else ""
    return f"{n.kind} {n.op or n.name or ''} {n.role or ''}{where}"


# --- what the lines and boxes say -------------------------------------------------------------
def _labels(drawn, cap, of, found):
    # A line carries what its consumer sent back (record_flows; test_viz_gradients checks those
    # values); only where the tensor has one consumer is that its whole gradient.
    consumers = defaultdict(int)
    for e in cap.edges:
        if e.dst_input is not None:
            consumers[e.tensor] += 1
    for e in drawn.edges:
        if e.kind == "invisible" or not e.tensor or e.tensor[0] not in of:
            continue
        obj, index = of[e.tensor[0]], e.tensor[1]
        real = tuple(facts_of(obj).shapes[index] if isinstance(obj, Function) else obj.shape)
        roles = {_stepped(obj.role(index), cap.nodes[e.tensor[0]].step)} \
            if isinstance(obj, Function) else {None, cap.nodes[e.tensor[0]].name}
        src = drawn.nodes[e.src]
        where = f"{_name(drawn, e.src)} -> {_name(drawn, e.dst)}"
        if e.shape is not None and e.shape != real:
            found.append(f"{where} says shape {e.shape}, carries {real}")
        if src.kind not in ("stub", "junction") and e.role not in roles:
            found.append(f"{where} says {e.role}, carries {roles}")
        if (src.kind != "junction" and consumers[e.tensor] <= 1
                and not _close(e.grad_norm, _norm(obj, index))):
            found.append(f"{where} says |grad| {e.grad_norm}, really {_norm(obj, index)}")
    for nid, n in drawn.nodes.items():
        if n.kind == "gate":
            anchor = [of[m] for m in n.members if cap.nodes[m].role == n.role]
            if len(anchor) != 1 or n.shape != tuple(facts_of(anchor[0]).shapes[0]):
                found.append(f"gate {n.role} stands for {anchor}")
        elif n.kind == "stub":
            fed = [e.role for e in drawn.edges if e.dst == nid and e.kind == "data" and e.role]
            if n.role != (fed[0] if fed else n.role.rsplit("_", 1)[0] + f"_{n.step.step}"):
                found.append(f"stub {n.role} in step {n.step.step}, fed by {fed}")


def _elision(drawn, cap, found):
    kept = {n.step for n in drawn.nodes.values() if n.step and n.kind != "ellipsis"}
    steps = defaultdict(set)
    for n in cap.nodes.values():
        if n.step is not None:
            steps[n.step.row].add(n.step.step)
    gone = {row: sorted(t for t in ts if StepKey(*row, t) not in kept) for row, ts in steps.items()}
    said = {n.step.row: n.text for n in drawn.nodes.values() if n.kind == "ellipsis" and n.text}
    for row, left_out in gone.items():
        text = None if not left_out else f"t = {left_out[0]}" if len(left_out) == 1 \
            else f"t = {left_out[0]} … t = {left_out[-1]}"
        if said.get(row) != text or left_out and left_out[-1] - left_out[0] + 1 != len(left_out):
            found.append(f"row {row} left out {left_out}, its ellipsis says {said.get(row)}")
    claimed = set()  # (group or None for every row, first, last, count) the notes state
    for note in drawn.notes:
        m = re.fullmatch(r"(\d+) (?:middle )?steps? elided \(t = (\d+)(?: … t = (\d+))?\)(?: in (.*))?",
                         note)
        if m:
            count, first = map(int, m.groups()[:2])
            last = int(m.group(3) or first)
            claimed |= {(g, first, last, count) for g in (m.group(4) or "").split(", ") or [""]}
    actual = {(row[0], ts[0], ts[-1], len(ts)) for row, ts in gone.items() if ts}
    every = {("", *rest) for _, *rest in actual} if len({r[1:] for r in actual}) == 1 \
        and all(gone.values()) else set()
    if claimed != actual and claimed != every:
        found.append(f"the notes say {sorted(claimed)}, the rows left out {sorted(actual)}")


def _cuts(drawn, cap, stands, found):
    """Every cut input is drawn: a dashed line into what stands for the op that reads it. It
    starts at a state of the same row, outside the steps (h_n drawn) or at a "cut" box."""
    lines = _drawn_lines(drawn)
    dashed_into = {b for (_, b), kinds in lines.items() if "detach" in kinds}
    for e in cap.edges:
        if e.kind == "detach" and not {d for d, cs in stands.items() if e.dst in cs} & dashed_into:
            found.append(f"the cut into {cap.nodes[e.dst].op} {cap.nodes[e.dst].step} is not drawn")
    for (a, b), kinds in lines.items():
        src, dst = drawn.nodes.get(a), drawn.nodes.get(b)
        if "detach" in kinds and src is not None and dst is not None and src.step and dst.step \
                and src.step.row != dst.step.row:
            found.append(f"cut from {_name(drawn, a)} into {_name(drawn, b)}")
