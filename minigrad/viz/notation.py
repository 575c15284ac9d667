"""What a learner reads off the picture without the code: the operands of a subtraction in their
order (``1 − z``, ``h − n``), which units a ``where`` lets tick (the clockwork RNN's modules),
where a per-step exit goes (``↑ out[2]``), and a key to the essay's notation."""
from __future__ import annotations

from collections import defaultdict
from html import escape

from . import style
from .records import Graph, role_base

TICK, STILL = "■", "□"
MAX_UNITS = 16  # a where's mask wider than this is told as a count


def operands(graph: Graph) -> dict:
    """Node id of each subtraction -> its text, ``"1 − f"``, where both operands have a name
    (a role or a constant's value): which side is subtracted matters, and a bare "−" hides it."""
    ins, consts = defaultdict(dict), defaultdict(list)
    for e in graph.edges:
        if e.dst_input is not None and e.kind != "param":
            ins[e.dst][e.dst_input] = e
        elif graph.nodes[e.src].kind == "const":  # a constant operand: the input left over
            consts[e.dst].append(e)
    for nid, edges in consts.items():
        if len(edges) == 1 and len(ins[nid]) == 1:
            ins[nid][1 - next(iter(ins[nid]))] = edges[0]
    into = {e.dst: e for e in graph.edges if graph.nodes[e.dst].kind == "junction"}
    found = {}
    for nid, node in graph.nodes.items():
        if node.kind != "op" or node.op != "Sub" or sorted(ins[nid]) != [0, 1]:
            continue
        names = [_name(graph, _through(ins[nid][k], graph, into)) for k in (0, 1)]
        if all(names):
            found[nid] = f"{names[0]} − {names[1]}"
    return found


def _through(edge, graph: Graph, into: dict):
    """The line into the junction ``edge`` leaves from (a copy point carries what reached it)."""
    seen = set()
    while graph.nodes[edge.src].kind == "junction" and edge.src in into and edge.src not in seen:
        seen.add(edge.src)
        edge = into[edge.src]
    return edge


def _name(graph: Graph, edge) -> str | None:
    src = graph.nodes[edge.src]
    if src.kind == "const" and src.value is not None and not hasattr(src.value, "shape"):
        return style.value_text(src.value)
    if src.kind == "const" and getattr(src.value, "size", 0) and (src.value == src.value.flat[0]).all():
        return style.value_text(src.value.flat[0].item())  # a constant filled with one value
    return role_base(edge.role or src.role)


def ticks(mask) -> str | None:
    """A where's condition as the units it takes from its first operand: ``■■□□`` (the
    clockwork RNN's modules that tick at this step), or ``2 of 64`` when wide."""
    if mask is None or not hasattr(mask, "shape") or mask.ndim == 0:
        return None
    rows = mask.reshape(-1, mask.shape[-1])
    if not (rows == rows[0]).all():
        return None  # differs along the batch: a padding mask, not a pattern of units
    units = [bool(u) for u in rows[0]]
    if len(units) > MAX_UNITS:
        return f"{sum(units)} of {len(units)}"
    return "".join(TICK if u else STILL for u in units)


KEY_COLUMNS = 2  # entries per line of the key


def legend_html(graph: Graph) -> str:
    """The key: the essay's shapes and lines, and the input stub's ``·Wᵀ + b`` explained once."""
    if graph.backward:
        rows = [("the backward pass: dh_t is dL/dh_t; gradients run right to left, a gate box "
                 "sends df_t back through σ′ and Wᵀ", "", "d"),
                ("× multiplies the gradient by its other operand (on an LSTM's belt: "
                 "dC_t−1 = dC_t × f_t)",
                 f'bgcolor="{style.POINTWISE}"', "×"),
                ("where lines met going forward, their gradients add going back", "", "⋗")]
        return _key(rows, columns=1)  # long entries: two to a line set the width (968 points)
    layer = ("learned layer: σ or tanh of W·[h, x] + b" if graph.detail == "gate"
             else "a product with learned weights (matmul)")
    rows = [(layer, f'bgcolor="{style.LAYER}"', "σ" if graph.detail == "gate" else "W"),
            ("pointwise op", f'bgcolor="{style.POINTWISE}"', "×"),
            ("lines merging: concatenation; a line forking: a copy", "", "⋗")]
    if any(n.kind == "stub" and n.op for n in graph.nodes.values()):
        rows.append(("x_t ·Wᵀ + b (N, k·H): the input projected for every step at once, "
                     "before the loop", "", "x"))
    if any(n.op == "Where" and n.text for n in graph.nodes.values()):
        rows.append((f"where {TICK}{STILL}: the units marked {TICK} take the new value at this "
                     "step (their module ticks), the others keep theirs", f'bgcolor="{style.POINTWISE}"', "w"))
    if any(n.kind == "exit" for n in graph.nodes.values()):
        rows.append(("↑ out[t]: h_t goes to slot t of the stacked output", "", "↑"))
    return _key(rows)


def _key(rows: list, columns: int = KEY_COLUMNS) -> str:
    """The key's entries ``columns`` to a line: in one line it set the picture's width (1100
    points, wider than three LSTM steps; a picture fits a page, see drawing.draw's ``width``)."""
    cells = [f'<td {attr} border="1" width="14">{escape(mark)}</td>'
             f'<td align="left"><font point-size="{style.SMALL}">{escape(text)}</font></td>'
             for text, attr, mark in rows]
    lines = "".join("<tr>" + "".join(cells[k:k + columns]) + "</tr>"
                    for k in range(0, len(cells), columns))
    return ('<table border="0" cellborder="0" cellspacing="3" cellpadding="1"><tr>'
            '<td align="left"><font point-size="9">how to read it:</font></td></tr><tr><td>'
            '<table border="0" cellborder="0" cellspacing="3" cellpadding="1">'
            f"{lines}</table></td></tr></table>")


def graph_label(lines: list, key: str | None, colours: str | None = None) -> str:
    """The picture's label: its lines (title, notes) left-justified and, when given, the key
    and the gradient colours' scale (``colours``, an HTML table) under them (an HTML label;
    with neither, plain lines ending in ``\\l``)."""
    if key is None and colours is None:
        return "".join(f"{line}\\l" for line in lines)
    rows = "".join(f'<tr><td align="left">{escape(line)}</td></tr>' for line in lines)
    rows += "".join(f'<tr><td align="left">{part}</td></tr>' for part in (key, colours) if part)
    return f'<<table border="0" cellborder="0" cellspacing="0">{rows}</table>>'
