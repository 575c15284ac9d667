"""Elide the middle steps of a long unrolled graph: keep the first and last few steps of each row
and draw one "t = 3 ... t = 396" node per row in their place, with the edges that enter and leave
it. Below cell detail each state but one that runs along the row (C of an LSTM) passes the
elided steps through a "⋯" of its own, so its line runs on at its height instead of bending
into the one node."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from .records import Graph, Node, StepKey, crosses_steps, role_base


def elide(graph: Graph, head: int, tail: int) -> Graph:
    """Keep the first ``head`` and the last ``tail`` steps of every row (either may be 0, not
    both) and elide the rest. Each row leaves out only its own steps: drawn together, a 5-step
    model keeps its last steps beside a 400-step one, and no ellipsis claims steps a row never
    ran."""
    if not (isinstance(head, int) and isinstance(tail, int) and min(head, tail) >= 0
            and head + tail >= 1):
        raise ValueError(f"elide: head and tail must be counts of steps, at least one of them "
                         f"1 or more, got head={head!r}, tail={tail!r}")
    gone = _elided_steps(graph, head, tail)
    if not gone:
        return graph
    out = Graph(detail=graph.detail, params=graph.params, notes=list(graph.notes),
                grads=graph.grads, outputs=list(graph.outputs), engine=graph.engine)
    home = {}
    passing = _passing_states(graph, gone) if graph.detail != "cell" else {}  # a cell's lines
    # leave it side by side: there they all enter the one node
    for nid, node in graph.nodes.items():
        k = node.step
        if k is None or k.step not in gone.get(k.row, ()):
            out.add(node)
            home[nid] = nid
            continue
        first, last = min(gone[k.row]), max(gone[k.row])
        ellipsis = f"elided:{k.group}:{k.call}:{k.layer}:{k.direction}"
        if ellipsis not in out.nodes:
            key = StepKey(k.group, k.call, k.layer, k.direction, first)
            out.add(Node(id=ellipsis, kind="ellipsis", cell=node.cell, step=key,
                         text=span(first, last)))
            for state in passing.get(k.row, ()):
                out.add(Node(id=f"{ellipsis}:{state}", kind="ellipsis", cell=node.cell, step=key))
        home[nid] = ellipsis
    out.edges += _edges_onto(graph, out, home)
    out.notes += _notes(gone, len({n.step.row for n in graph.nodes.values() if n.step}),
                        middle=head > 0 and tail > 0)
    out.outputs = [home[o] for o in graph.outputs]
    return out


def _edges_onto(graph: Graph, out: Graph, home: dict) -> list:
    """Each line of ``graph`` between the nodes of ``out`` that stand for its ends (``home``:
    an elided step's node is its row's ellipsis, or the ellipsis of the state a line carries).
    Lines inside the elided steps and the per-step inputs of elided steps are left out (the
    ellipsis stands for them); the lines that land on one pair of nodes are drawn once."""
    stranded = _stranded(graph, home)
    seen, edges = set(), []
    for e in graph.edges:
        src, dst = home[e.src], home[e.dst]
        if src != dst and crosses_steps(graph.nodes[e.src].step, graph.nodes[e.dst].step):
            state = role_base(e.role)  # a state's line into or out of the elided steps
            src = f"{src}:{state}" if f"{src}:{state}" in out.nodes else src
            dst = f"{dst}:{state}" if f"{dst}:{state}" in out.nodes else dst
        per_step_input = (out.nodes[dst].kind == "ellipsis" and out.nodes[src].step is None
                          and out.nodes[src].kind != "ellipsis" and src not in stranded)
        if e.kind != "detach" and (src == dst or per_step_input):  # (a cut among the elided
            continue                               # steps is still drawn, a loop if inside)
        key = (src, dst, role_base(e.role)) if dst != e.dst or src != e.src else None
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        edges.append(replace(e, src=src, dst=dst))
    return edges


def _stranded(graph: Graph, home: dict) -> set:
    """The nodes outside the steps, computed from steps, that only elided steps read: an
    encoder's final state entering a decoder's elided first step. Their line into the ellipsis
    stays (else what computed them would hang in the air); a step's slice of the input
    sequence, computed from no step, is left to the ellipsis."""
    readers = defaultdict(list)
    for e in graph.edges:
        readers[e.src].append(e.dst)
    from_steps = set()
    todo = [dst for nid, node in graph.nodes.items() if node.step is not None
            for dst in readers[nid]]
    while todo:
        nid = todo.pop()
        if graph.nodes[nid].step is None and nid not in from_steps:
            from_steps.add(nid)
            todo.extend(readers[nid])
    kept_readers = {e.src for e in graph.edges if home[e.dst] == e.dst}
    return from_steps - kept_readers


def _passing_states(graph: Graph, gone: dict) -> dict:
    """{row: the states, but the last in name order (h after C), that a line carries into the
    row's elided steps}: each gets its own "⋯"; the last one enters the node with the text."""
    states = defaultdict(set)
    for e in graph.crossing_edges():
        dst = graph.nodes[e.dst].step
        if e.role and dst.step in gone.get(dst.row, ()):
            states[dst.row].add(role_base(e.role))
    return {row: sorted(names)[:-1] for row, names in states.items()}


def _elided_steps(graph: Graph, head: int, tail: int) -> dict:
    """{row: the steps it leaves out, all but its first ``head`` and last ``tail``}, for the
    rows longer than ``head + tail`` steps."""
    steps = defaultdict(set)
    for node in graph.nodes.values():
        if node.step is not None:
            steps[node.step.row].add(node.step.step)
    return {row: set(sorted(s)[head:len(s) - tail]) for row, s in steps.items()
            if len(s) > head + tail}


def _notes(gone: dict, rows: int, middle: bool = True) -> list:
    """One line per range of elided steps ("middle" where steps are kept on both sides); it
    names the models (scope groups) it applies to unless every row left out the same steps."""
    ranges = defaultdict(list)
    for row, steps in gone.items():
        ranges[min(steps), max(steps), len(steps)].append(row.group)
    notes = []
    for (first, last, count), groups in sorted(ranges.items()):
        what = "middle step" if middle else "step"
        note = f"{count} {what}{'s' if count > 1 else ''} elided ({span(first, last)})"
        if len(ranges) > 1 or len(gone) < rows:
            note += " in " + ", ".join(dict.fromkeys(groups))
        notes.append(note)
    return notes


def span(first: int, last: int) -> str:
    """The steps an ellipsis stands for: ``t = 3 … t = 396`` (or ``t = 1``)."""
    return f"t = {first}" if first == last else f"t = {first} … t = {last}"


def is_elision_note(note: str) -> bool:
    """Whether a picture's note is one that :func:`elide` wrote."""
    return " elided (t = " in note
