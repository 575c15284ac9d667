"""Render and files: the DOT the renderer writes, the SVG Graphviz makes of it, the gradient
colours, elision of long graphs, and saving. Only the tests that run Graphviz's ``dot`` need it.
"""
import os
import re
from collections import Counter, defaultdict
from itertools import combinations
import shutil
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import viz_graphs as vg
from drawn import (blocked_labels, cluster_boxes, cross, frames, in_order, layout, line_labels,
                   line_paths, line_points, needs_dot, positions, row_bottoms, svg_root, svg_texts,
                   text_boxes)

import minigrad as mg
from zoo.models import run_model
from minigrad.viz import GraphvizMissingWarning, draw, save, style
from minigrad.viz.layout import plan
from minigrad.files import write_atomic

OLAH = {"layer": "#f5ee9c", "pointwise": "#f9d1d1", "cell": "#e1f7d0", "border": "#6d8759"}


def lstm_graph(**options):
    """A 2-layer LSTM over 3 steps, every step drawn (fitted to a page, its gate picture leaves
    out t = 1)."""
    out, params, _ = vg.model("lstm", T=3, layers=2)
    return draw(out, params=params, **{"width": None, **options})


def step_clusters(source: str) -> list:
    return re.findall(r"subgraph (cluster_step\d+_\d+)", source)


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
def test_dot_has_one_cluster_per_step_and_the_essays_colours(detail):
    g = lstm_graph(detail=detail)
    assert len(step_clusters(g.source)) == 3 * 2
    assert OLAH["pointwise"] in g.source or detail == "cell"
    assert OLAH["cell"] in g.source and OLAH["border"] in g.source
    if detail != "cell":
        assert OLAH["layer"] in g.source
    labels = 3 if detail == "cell" else 6  # at cell detail, one per column of steps
    assert len(re.findall(r"label=\"t = \d\"", g.source)) == labels


@needs_dot
@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
def test_dot_renders_svg_that_parses_and_shows_the_steps(detail):
    root = svg_root(lstm_graph(detail=detail))
    texts = svg_texts(root)
    for t in range(3):
        assert texts.count(f"t = {t}") == (1 if detail == "cell" else 2)  # per layer below cell
    assert "lstm · layer 0" in texts and "lstm · layer 1" in texts
    clusters = [el for el in root.iter() if el.get("class") == "cluster"]
    assert len(clusters) >= 2 + 6


@needs_dot
def test_gate_detail_shows_the_gates_with_their_steps():
    out, params, _ = vg.model("lstm", T=3)
    texts = " ".join(svg_texts(svg_root(draw(out, params=params, detail="gate"))))
    for t in range(3):
        for gate in ("f", "i", "o"):
            assert re.search(rf"σ\s+{gate}\s*{t}", texts), (gate, t)
        assert re.search(rf"tanh\s+C̃\s*{t}", texts)



def test_an_output_inside_shared_gate_boxes_borders_every_box_and_every_other_output():
    """The pre-activation of an LSTM step, x W^T + h U (one addmm, split into the four gates),
    drawn as an output: at gate detail it is inside all four boxes of its step, and each is
    drawn as an output (doubly bordered). Only one was, and the outputs after it lost their
    border (C_0), or vanished: a GRU drawn beside it, nothing but an output leading to it."""
    U, steps = vg.lstm_with_preactivations(T=2)
    (_, c0, _), (pre, _, h1) = steps

    def bordered(*outputs) -> set:
        source = draw(*outputs, params={"U": U}, detail="gate").source
        return set(re.findall(r'peripheries=2 .*tooltip="(\w+ \w+ \S+)', source))

    boxes = {f"gate {op} {role}_1" for op, role in
             (("Sigmoid", "f"), ("Sigmoid", "i"), ("Tanh", "C~"), ("Sigmoid", "o"))}
    assert bordered(h1, pre) == boxes | {"op Mul h_1"}
    assert bordered(h1, pre, c0) == boxes | {"op Mul h_1", "op Add C_0"}
    gru, _, _ = vg.model("gru", T=3)
    drawn = draw(h1, pre, gru, detail="gate").records
    assert {k.group for k in drawn.steps()} == {"lstm", "gru"}

def rank_groups(source: str) -> list:
    """The node names of every ``rank=same`` group in the DOT source."""
    return [re.findall(r"^\s*(\w+)", body, re.MULTILINE)
            for body in re.findall(r"\{\s*rank=same\n(.*?)\}", source, re.DOTALL)]


def test_at_cell_detail_layers_stack_bottom_to_top_and_steps_line_up():
    """Every step of every row ranks together, and a spine keeps the rows in layer order."""
    g = lstm_graph(detail="cell")
    groups = rank_groups(g.source)
    assert [names for names in groups if names[0].startswith("row")] == [["row0", "row1"]]
    assert re.search(r"row1 -> row0 \[style=invis\]", g.source)  # tail above head
    records = g.records
    ids = {f"n{i}": nid for i, nid in enumerate(records.nodes)}
    steps = []
    for names in groups:
        if names[0].startswith("n"):
            keys = [records.nodes[ids[n]].step for n in names]
            assert sorted(k.layer for k in keys) == [0, 1]
            steps.append({k.step for k in keys})
    assert steps == [{0}, {1}, {2}]


def test_below_cell_detail_a_stack_is_a_staircase():
    """Layer 1's step t starts after layer 0 computed h_t: no rank is shared across layers,
    and the edges between layers keep their rank constraint (they run forward in time)."""
    g = lstm_graph(detail="gate")
    lay = plan(g.records)
    assert lay.staircase and lay.aligned == []
    ids = {nid: f"n{i}" for i, nid in enumerate(g.records.nodes)}
    between = [e for e in g.records.edges if e.kind == "data" and g.records.nodes[e.src].step
               and g.records.nodes[e.dst].step
               and g.records.nodes[e.src].step.layer != g.records.nodes[e.dst].step.layer]
    assert len(between) == 3  # h_t of layer 0 into layer 1, one per step
    for e in between:
        line = re.search(rf"{ids[e.src]} -> {ids[e.dst]}( \[.*\])?$", g.source, re.MULTILINE)
        assert "constraint" not in (line.group(1) or "")


def test_a_bidirectional_stack_stays_lined_up_layer_by_layer():
    out, params, _ = vg.model("lstm", T=3, layers=2, bidirectional=True)
    lay = plan(draw(out, params=params, detail="gate").records)
    assert not lay.staircase
    assert [(row[2], row[3]) for row in lay.rows] == [
        (0, "forward"), (0, "reverse"), (1, "forward"), (1, "reverse")]


@pytest.mark.parametrize("form", ["fused", "concat"])
@pytest.mark.parametrize("detail", ["op", "gate"])
def test_every_step_keeps_the_essays_gate_order(form, detail):
    """o, C~, i, f from the bottom up in every step, also where each gate has its own matmul
    (the concatenated form at op detail)."""
    out, params, _ = vg.model("lstm", T=3, form=form)
    g = draw(out, params=params, detail=detail, width=None).records
    stacks = [[g.nodes[i].role.rsplit("_", 1)[0] for i in ids if g.nodes[i].role]  # (the gates;
              for ids in plan(g).stacked]  # at gate detail their products stand with them)
    assert stacks == [["o", "C~", "i", "f"]] * 3


@needs_dot
def test_the_gate_picture_has_the_essays_geometry():
    """Time left to right, the C belt above the gates, f on top and o at the bottom of the
    gates, x entering from below, h leaving below the belt."""
    out, params, _ = vg.model("lstm", T=3)
    g = draw(out, params=params, detail="gate")
    at = positions(g)
    nodes = g.records.nodes.values()

    def find(kind=None, role=None, step=None):
        return next(at[n.id] for n in nodes if (kind is None or n.kind == kind)
                    and n.role == role and (step is None or n.step.step == step))
    for t in range(3):
        C, h = find(role=f"C_{t}"), find(role=f"h_{t}")
        f, i, g_, o = (find("gate", f"{r}_{t}") for r in ("f", "i", "C~", "o"))
        x = find("stub", f"x_{t}")
        assert C[1] < f[1] < i[1] < g_[1] < o[1], "belt, then f, i, C~, o from top to bottom"
        assert C[1] < h[1] and x[1] > f[1]
        if t:
            assert find(role=f"C_{t - 1}")[0] < C[0] and find(role=f"h_{t - 1}")[0] < h[0]


@needs_dot
def test_stacked_layers_are_drawn_bottom_to_top_with_steps_aligned():
    out, params, _ = vg.model("lstm", T=3, layers=3)
    g = draw(out, params=params, detail="cell")
    at = positions(g)
    cells = {(n.step.layer, n.step.step): at[n.id] for n in g.records.nodes.values()
             if n.kind == "cell"}
    for t in range(3):
        assert cells[0, t][1] > cells[1, t][1] > cells[2, t][1]
        assert cells[0, t][0] == pytest.approx(cells[2, t][0], abs=1.0)


@needs_dot
@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
@pytest.mark.parametrize("kind,layers,bidirectional", [
    ("lstm", 1, True), ("lstm", 2, True), ("lstm", 3, False), ("gru", 2, False),
])
def test_rows_are_drawn_in_their_order_at_every_detail(kind, layers, bidirectional, detail):
    """Bottom to top: layer 0 forward, layer 0 reverse, layer 1 forward... (y grows down)."""
    out, params, _ = vg.model(kind, T=3, layers=layers, bidirectional=bidirectional)
    bottoms = row_bottoms(draw(out, params=params, detail=detail))
    assert len(bottoms) == layers * (2 if bidirectional else 1)
    assert in_order(bottoms), bottoms


@needs_dot
@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind,layers,T", [("lstm", 2, 3), ("rnn", 2, 2), ("gru", 3, 2)])
def test_no_line_crosses_a_rows_label(kind, layers, T, detail, bidirectional):
    """At cell detail the line from layer 0's first cell rose through the top left corner of
    its row, where the label was; so did lines between the layers of a bidirectional stack at
    every detail. Nor does a label stand in a step."""
    out, params, _ = vg.model(kind, T=T, layers=layers, bidirectional=bidirectional)
    drawn = layout(draw(out, params=params, detail=detail))
    labels = text_boxes(drawn, f"{kind} · layer")
    assert len(labels) == layers * (2 if bidirectional else 1)
    points, steps = line_points(drawn), cluster_boxes(drawn, "cluster_step").values()
    for left, bottom, right, top in labels:
        assert not [(x, y) for x, y in points
                    if left <= x <= right and bottom <= y <= top], (left, bottom, right, top)
        assert not [s for s in steps if left < s[2] and s[0] < right
                    and bottom < s[3] and s[1] < top], (left, bottom, right, top)


@needs_dot
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind,layers", [("lstm", 2), ("gru", 3)])
def test_at_cell_detail_no_line_rises_through_a_steps_label(kind, layers, bidirectional):
    """Steps line up in columns there, and each column says "t = k" once, at the top. In every
    row each step said it, centred over a cell as narrow as "LSTM", and the line from the cell
    up to the next row rose through it (in 56 of 192 pictures of every architecture)."""
    out, params, _ = vg.model(kind, T=3, layers=layers, bidirectional=bidirectional)
    drawn = layout(draw(out, params=params, detail="cell"))
    labels = text_boxes(drawn, "t = ")
    assert len(labels) == 3
    points = line_points(drawn)
    for left, bottom, right, top in labels:
        assert not [(x, y) for x, y in points
                    if left <= x <= right and bottom <= y <= top], (left, bottom, right, top)


def test_at_cell_detail_each_model_drawn_says_its_steps():
    """Two models drawn together are two stacks: each labels its own columns, at its top."""
    rnn, _, _ = vg.model("rnn", T=3, layers=2)
    lstm, _, _ = vg.model("lstm", T=3)
    source = draw(rnn, lstm, detail="cell").source
    assert len(re.findall(r"label=\"t = \d\"", source)) == 2 * 3


@needs_dot
@pytest.mark.parametrize("kind,layers", [("lstm", 2), ("gru", 3)])
def test_in_a_bidirectional_cell_picture_no_label_is_crossed_or_covered(kind, layers):
    """Four lines per step rose from the cells of one layer to those of the next, each
    labelled h_t: the labels piled up on each other and on the lines."""
    out, params, _ = vg.model(kind, T=3, layers=layers, bidirectional=True)
    drawn = layout(draw(out, params=params, detail="cell"))
    assert len(line_labels(drawn)) >= 2 * 3 * layers
    assert blocked_labels(drawn) == []


def test_a_line_that_climbs_past_a_row_takes_the_side_of_the_row_it_enters():
    """Up a column of a bidirectional cell picture, a line into a forward row that passes
    another row leaves its cell on the right (tailport e), one into a reverse row from the top;
    both are labelled under the cell they enter (headlabel). A line to the next node up stays
    straight, top to bottom, labelled beside it."""
    output, params = run_model("depth-gated", 3, 2, bidirectional=True)
    g = draw(output, params=params, detail="cell")
    nodes, rows = g.records.nodes, plan(g.records).rows
    names = {f"n{i}": nid for i, nid in enumerate(nodes)}
    sides = Counter()
    for tail, head, attrs in re.findall(r"^\s*(n\d+) -> (n\d+) \[(.*headport.*)\]$", g.source,
                                         re.MULTILINE):
        a, b = nodes[names[tail]].step, nodes[names[head]].step
        ports = dict(re.findall(r"(\w+)=(\w+)", attrs))
        passes = rows.index(b.row) - rows.index(a.row) > 1 or nodes[names[tail]].kind == "junction"
        sides[b.direction, passes, ports["tailport"], ports["headport"]] += 1
        assert ("xlabel=" not in attrs) if passes else ("headlabel=" not in attrs)
    assert sides == {("forward", True, "e", "s"): 2 * 3,    # h into the dot, C: layer 0 on
                     ("reverse", True, "n", "s"): 2 * 3,    # the dot's h, C: on to layer 1
                     ("forward", False, "n", "s"): 3}       # h of the reverse row into the dot


@needs_dot
@pytest.mark.parametrize("layers,steps", [(2, 3), (3, 2), (3, 5)])
def test_in_a_bidirectional_depth_gated_cell_picture_the_lines_up_a_column_keep_apart(layers,
                                                                                      steps):
    """In each column the forward row above reads h_t where both directions meet and C_t of
    the forward row below; the reverse row above reads that h_t and C_t of the reverse row
    below: four lines that pass another row on their way up. dot took them all round the left
    of the column, where they crossed each other (50 times at 3 layers and 5 steps) and the
    labels C_t lay on the crossings (20 of 78 labels crossed). Lines into a forward row now
    climb on the right, and are labelled under the cell they enter."""
    output, params = run_model("depth-gated", steps, layers, bidirectional=True)
    drawn = layout(draw(output, params=params, detail="cell", width=None))
    climbing = [(e, path) for e, path in zip(drawn["edges"], line_paths(drawn))
                if "headport" in e]
    assert len(climbing) == 5 * (layers - 1) * steps  # h: 2 into the dot, 1 on; C: 2
    crossed = [(a["_gvid"], b["_gvid"]) for (a, p), (b, q) in combinations(climbing, 2)
               if not {a["tail"], a["head"]} & {b["tail"], b["head"]} and cross(p, q)]
    assert crossed == []
    assert blocked_labels(drawn) == []


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
@pytest.mark.parametrize("kind,layers", [("lstm", 2), ("gru", 3)])
def test_a_decoder_goes_on_after_its_encoder(kind, layers, detail):
    """An encoder hands its final states to a decoder. Drawn in the same columns, the line from
    the encoder's last step ran back to the decoder's first, and dot put each decoder layer
    next to the encoder layer that hands it its state (at cell detail: encoder 0, decoder 0,
    encoder 1, decoder 1). The decoder goes on after the encoder's last step: no rank holds
    steps of both, the lines that hand the state over place their ends (they run forward),
    and the decoder's rows have a spine of their own."""
    g = draw(vg.encoder_decoder(kind, layers), detail=detail)
    lay, nodes = plan(g.records), g.records.nodes
    names = {f"n{i}": nid for i, nid in enumerate(nodes)}
    assert [row[0] for row in lay.rows] == ["encoder"] * layers + ["decoder"] * layers
    encoder_end = max(lay.time(key) for key in lay.members if key.group == "encoder")
    assert min(lay.time(key) for key in lay.members if key.group == "decoder") > encoder_end
    for names_in_rank in rank_groups(g.source):
        models = {nodes[names[n]].step.group for n in names_in_rank if n in names}
        assert len(models) <= 1, models
    handed = [(e.src, e.dst) for e in g.records.edges if nodes[e.src].step and nodes[e.dst].step
              and nodes[e.src].step.group != nodes[e.dst].step.group]
    assert len(handed) >= layers
    for src, dst in handed:
        line = re.search(rf"^\s*{lay_id(g, src)} -> {lay_id(g, dst)}( \[.*\])?$", g.source,
                         re.MULTILINE)
        assert "constraint" not in (line.group(1) or "")
    assert re.search(r"stage1row1 -> stage1row0 \[style=invis\]", g.source)


@needs_dot
@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
def test_an_encoder_and_its_decoder_each_keep_their_layers_in_order(detail):
    """Each model's rows bottom to top in layer order, and every step of a decoder layer
    starts right of where the last step of the encoder layer that hands it its state starts
    (the state is computed before that step ends, as in a staircase)."""
    layers = 3
    g = draw(vg.encoder_decoder("lstm", layers), detail=detail)
    lay, bottoms = plan(g.records), row_bottoms(g)
    for model in ("encoder", "decoder"):
        assert in_order([b for b, row in zip(bottoms, lay.rows) if row[0] == model]), model
    steps = defaultdict(list)  # (model, layer) -> frames of its steps
    for name, box in frames(g, "cluster_step").items():
        model, _, layer, _ = lay.rows[int(name.split("_")[0])]
        steps[model, layer].append(box)
    for layer in range(layers):
        last_start = max(left for left, _, _, _ in steps["encoder", layer])
        assert min(left for left, _, _, _ in steps["decoder", layer]) > last_start, layer


def lay_id(g, nid: str) -> str:
    """The DOT name of record node ``nid``."""
    return f"n{list(g.records.nodes).index(nid)}"


@needs_dot
@pytest.mark.parametrize("kind,detail", [("lstm", "op"), ("gru", "gate")])
def test_parameters_drawn_once_reach_the_steps_from_under_the_row(kind, detail):
    """Drawn once, the parameters of a one-row picture and their lines stay inside the row's
    frame, and a line enters no step but the one it ends in. The parameters used to stand at
    the top left, outside the row, and their lines looped under the whole row, through the
    steps on their way."""
    out, params, _ = vg.model(kind, T=3)
    drawn = layout(draw(out, params=params, detail=detail, param_mode="once", width=None))
    (left, bottom, right, top), = cluster_boxes(drawn, "cluster_row").values()
    steps = list(cluster_boxes(drawn, "cluster_step").values())

    def inside(point, box, margin=1.0):
        return (box[0] - margin <= point[0] <= box[2] + margin
                and box[1] - margin <= point[1] <= box[3] + margin)
    param_lines = line_paths(drawn, colour=style.PARAM_EDGE["color"])
    assert param_lines
    for line in param_lines:
        assert all(inside(p, (left, bottom, right, top)) for p in line)
        ends = [s for s in steps if inside(line[0], s, 0) or inside(line[-1], s, 0)]
        assert not [s for s in steps if s not in ends and any(inside(p, s, -1.0) for p in line)]


def test_a_stack_with_its_parameters_drawn_once_bounds_dots_placement_search():
    """Drawn once in their cluster, a stack's parameters send a line through every rank to each
    step that reads them, and placing those lines took dot up to 15 s (depth-gated LSTM, 3
    layers, gate detail, 5 steps): nslimit bounds that search. Pictures without that cluster
    keep dot's own limit."""
    out, params, _ = vg.model("lstm", T=3, layers=2)
    assert re.search(r"^\s*nslimit=1$", draw(out, params=params, param_mode="once").source,
                     re.MULTILINE)
    assert "nslimit" not in draw(out, params=params, param_mode="repeat").source
    one_row, one_rows_params, _ = vg.model("lstm", T=3)
    assert "nslimit" not in draw(one_row, params=one_rows_params, param_mode="once").source


@needs_dot
def test_in_a_staircase_every_line_between_layers_runs_forward_in_time():
    at = positions(lstm_graph(detail="gate"))
    g = lstm_graph(detail="gate").records
    between = [e for e in g.edges if g.nodes[e.src].step and g.nodes[e.dst].step
               and g.nodes[e.src].step.layer != g.nodes[e.dst].step.layer]
    assert between and all(at[e.src][0] < at[e.dst][0] for e in between)


@needs_dot
@pytest.mark.parametrize("kind,detail", [("lstm", "gate"), ("gru", "op")])
def test_in_a_bidirectional_stack_no_line_runs_into_an_earlier_step(kind, detail):
    """Lined up, the lines into a forward row of the layer above run back inside the column of
    their step, from its end below to its start above, but never into an earlier step."""
    out, params, _ = vg.model(kind, T=3, layers=2, bidirectional=True)
    g = draw(out, params=params, detail=detail, width=None)  # every step
    lay, nodes, steps = plan(g.records), g.records.nodes, frames(g, "cluster_step")

    def frame(key):
        return steps[f"{lay.rows.index(key.row)}_{lay.steps[key.row].index(key)}"]
    between = [(nodes[e.src].step, nodes[e.dst].step) for e in g.records.edges
               if nodes[e.src].step and nodes[e.dst].step
               and nodes[e.src].step.layer != nodes[e.dst].step.layer]
    assert len(between) == 3 * 2 * 2
    assert all(frame(b)[2] >= frame(a)[0] for a, b in between)


@needs_dot
@pytest.mark.parametrize("kind,layers,detail", [("lstm", 2, "gate"), ("rnn", 1, "gate"),
                                                ("gru", 2, "op")])
def test_in_a_bidirectional_stack_step_t_of_every_row_is_one_column(kind, layers, detail):
    """Step t of every row starts and ends about where the others' do (an input in the first
    or last rank of a step widens its frame a little), and before step t + 1 of any row. Lined
    up by one node of each step, the reverse rows stood shifted right by up to a whole step:
    their inputs enter from the right."""
    out, params, _ = vg.model(kind, T=3, layers=layers, bidirectional=True)
    picture = draw(out, params=params, detail=detail, width=None)  # every step
    steps = cluster_boxes(layout(picture), "cluster_step")
    columns = [[box for name, box in steps.items() if name.endswith(f"_{t}")] for t in range(3)]
    assert [len(frames) for frames in columns] == [2 * layers] * 3
    for frames in columns:
        width = min(right - left for left, _, right, _ in frames)
        most = max(width / 5, 20)  # (an initial state's entry, "0 (2, 4)", widens the first
        for side in (0, 2):        # step's frame by 19 points: a third of a narrow RNN step)
            assert max(f[side] for f in frames) - min(f[side] for f in frames) < most, frames
    for column, following in zip(columns, columns[1:]):
        assert max(f[2] for f in column) < min(f[0] for f in following)


def test_gradient_level_and_colour_are_monotone():
    rng = np.random.default_rng(0)
    norms = np.sort(10 ** rng.uniform(-9, 2, 200))
    scale = style.grad_range(norms.tolist())
    levels = [style.grad_level(float(n), scale) for n in norms]
    assert levels[0] == 0.0 and levels[-1] == 1.0
    assert all(a <= b for a, b in zip(levels, levels[1:]))
    lightness = [style.luminance(style.grad_colour(x)) for x in np.linspace(0, 1, 101)]
    assert all(a > b for a, b in zip(lightness, lightness[1:]))


def test_the_faintest_gradient_is_still_a_line_on_white():
    """Contrast ratio against the white background at least 2:1 (#f0f0f0 was 1.14:1)."""
    assert 1.05 / (style.luminance(style.grad_colour(0.0)) + 0.05) >= 2.0
    assert style.luminance(style.grad_colour(0.0)) < style.luminance(style.NO_GRAD)


def test_the_legend_labels_read_on_every_cell():
    legend = style.legend_html((1e-3, 1e2))
    cells = re.findall(r'bgcolor="(#[0-9a-f]{6})"[^>]*><font [^>]*color="(\w+)"', legend)
    assert len(cells) == 5
    for background, text in cells:
        pair = sorted([0.0 if text == "black" else 1.0, style.luminance(background)])
        assert (pair[1] + 0.05) / (pair[0] + 0.05) >= 4.5, (background, text)
    assert "‖" not in legend


def test_edges_darken_with_the_gradient_and_a_legend_explains_it():
    """A vanilla RNN's gradient from the last step fades going back in time: the drawn state
    edges get lighter in the same order as their recorded norms."""
    params = vg.make_params("rnn", 3, 4)
    x = mg.tensor(np.random.default_rng(0).normal(size=(6, 2, 3)), requires_grad=True)
    out, _ = vg.run("rnn", x, params, 4)
    with mg.viz.recording():
        out[5].sum().backward()
    g = draw(out, detail="cell", width=None)
    ids = {nid: f"n{i}" for i, nid in enumerate(g.records.nodes)}
    colours = {}
    for e in g.records.crossing_edges():
        line = re.search(rf"{ids[e.src]} -> {ids[e.dst]} \[[^\n]*[ \[]color=\"(#[0-9a-f]{{6}})\"",
                         g.source)
        colours[e.grad_norm] = style.luminance(line.group(1))
    by_norm = [colours[n] for n in sorted(colours)]
    assert len(by_norm) == 5
    assert all(a >= b for a, b in zip(by_norm, by_norm[1:]))
    assert by_norm[0] > by_norm[-1]
    assert "log scale" in g.source
    assert "log scale" not in draw(out, detail="cell", grads=False).source


def test_a_nan_gradient_is_drawn_off_the_scale_and_the_legend_says_so():
    """NaN is not the largest gradient: it gets a colour of its own and a cell in the legend."""
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.viz.recording():
        loss = (a * float("nan") + a * a).sum()
        loss.backward()
    source = draw(loss).source
    assert f'color="{style.NAN_GRAD}"' in source and ">NaN<" in source
    assert style.NAN_GRAD not in style.PALETTE
    b = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.viz.recording():
        finite = (b * b).sum()
        finite.backward()
    assert "log scale" in draw(finite).source and ">NaN<" not in draw(finite).source


def test_asking_for_gradients_that_were_not_recorded_warns():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (a * a).sum()
    loss.backward()
    with pytest.warns(UserWarning, match="recording"):
        draw(loss, grads=True)


def test_long_graphs_elide_middle_steps_keep_both_ends_and_say_so():
    out, params, _ = vg.model("lstm", T=40, layers=2)
    with pytest.warns(UserWarning, match="middle steps elided"):
        g = draw(out, params=params, detail="cell", max_nodes=60)
    steps = sorted({n.step.step for n in g.records.nodes.values()
                    if n.step is not None and n.kind != "ellipsis"})
    assert steps[0] == 0 and steps[-1] == 39 and len(steps) < 40
    ellipses = [n for n in g.records.nodes.values() if n.kind == "ellipsis"]
    assert len(ellipses) == 2  # one per layer
    assert f"t = {steps[len(steps) // 2 - 1] + 1} … t = {steps[len(steps) // 2] - 1}" in ellipses[0].text
    assert "middle steps elided" in g.source  # the picture's own label says so
    assert len(g.records.nodes) <= 60


def test_each_row_elides_and_names_only_its_own_steps():
    """Two models of different lengths drawn together: each row leaves out only its own middle
    steps. The 5-step LSTM kept neither its last steps nor the truth: its ellipsis said
    "t = 2 … t = 27", the 30-step RNN's range."""
    rnn, _, _ = vg.model("rnn", T=30)
    lstm, _, _ = vg.model("lstm", T=5)
    with pytest.warns(UserWarning, match="middle steps elided"):
        g = draw(rnn, lstm, detail="cell", max_nodes=30).records
    ellipses = {n.step.group: n for n in g.nodes.values() if n.kind == "ellipsis"}
    notes = []
    for group, T in (("rnn", 30), ("lstm", 5)):
        kept = {n.step.step for n in g.nodes.values() if n.step is not None
                and n.step.group == group and n.kind != "ellipsis"}
        assert {0, T - 1} <= kept
        gone = sorted(set(range(T)) - kept)
        if gone:
            span = f"t = {gone[0]}" + (f" … t = {gone[-1]}" if len(gone) > 1 else "")
            assert ellipses[group].text == span
            plural = "s" if len(gone) > 1 else ""
            notes.append(f"{len(gone)} middle step{plural} elided ({span}) in {group}")
    assert "rnn" in ellipses and sorted(g.notes) == sorted(notes)


def test_eliding_counts_the_taps_of_parameters_drawn_once_with_the_steps():
    """A parameter drawn once has a tap in every step of a one-row picture: counted as nodes
    outside the steps, 40 steps' taps left no room and only one step at each end was kept."""
    out, params, _ = vg.model("lstm", T=40)
    with pytest.warns(UserWarning, match="middle steps elided"):
        g = draw(out, params=params, detail="op", param_mode="once", max_nodes=150, width=None)
    steps = {n.step.step for n in g.records.nodes.values()
             if n.step is not None and n.kind != "ellipsis"}
    assert len(steps) >= 6 and len(g.records.nodes) <= 150


def test_the_title_and_its_notes_are_left_justified_lines():
    out, params, _ = vg.model("lstm", T=40)
    with pytest.warns(UserWarning):
        g = draw(out, params=params, detail="cell", max_nodes=60, title="a title")
    label = re.search(r'^\tlabel="(.*)"$', g.source, re.MULTILINE).group(1)
    assert re.fullmatch(r"a title\\l\d+ middle steps elided \(t = \d+ … t = \d+\)\\l", label)
    assert "\\n" not in label


def test_a_stub_keeps_its_subscript_off_the_line_below():
    out, params, _ = vg.model("lstm", T=2)
    g = draw(out, params=params, detail="gate")
    for t in range(2):
        assert f"label=<x<sub>{t}</sub><br/>{style.GAP}<br/>" in g.source


def test_auto_detail_coarsens_before_it_elides():
    out, params, _ = vg.model("lstm", T=6)
    with pytest.warns(UserWarning, match="drawn at cell detail"):
        g = draw(out, params=params, max_nodes=40, width=None)  # max_nodes alone
    assert g.records.detail == "cell"
    assert not [n for n in g.records.nodes.values() if n.kind == "ellipsis"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert draw(out, params=params, width=None).records.detail == "op"


def test_a_400_step_two_layer_lstm_draws_at_cell_detail():
    out, params, _ = vg.model("lstm", T=400, layers=2, hidden=3, inputs=2, batch=1)
    with pytest.warns(UserWarning, match="elided"):
        g = draw(out, params=params, detail="cell")
    assert g.records.detail == "cell"
    steps = {n.step.step for n in g.records.nodes.values() if n.step is not None}
    assert {0, 399} <= steps
    assert g.source.startswith("digraph")


def test_detach_is_a_dashed_edge_labelled_detach():
    params = vg.make_params("lstm", 3, 4)
    x = mg.tensor(np.ones((2, 2, 3)))
    first, finals = vg.run("lstm", x, params, 4)
    h, c = finals[0]
    second, _ = vg.run("lstm", x, params, 4, state0=[[(h.detach(), c.detach())]])
    source = draw(first, second, detail="gate").source
    dashed = [line for line in source.splitlines() if "style=dashed" in line and "->" in line]
    assert len(dashed) == 2 and all("detach" in line for line in dashed)


def test_flat_graphs_show_values_and_gradients():
    a = mg.tensor(2.0, requires_grad=True)
    a.name = "a"
    with mg.viz.recording():
        y = (a * 3.0).tanh()
        y.backward()
    source = draw(y).source
    assert "cluster" not in source
    assert "data 2" in source and f"grad {float(a.grad.item()):.4g}" in source


def test_the_returned_graph_displays_in_jupyter():
    g = lstm_graph(detail="cell")
    assert callable(getattr(g, "_repr_mimebundle_", None))


@needs_dot
def test_jupyter_gets_svg():
    bundle = lstm_graph(detail="cell")._repr_mimebundle_()
    assert "image/svg+xml" in bundle
    ET.fromstring(bundle["image/svg+xml"])


@pytest.mark.parametrize("suffix", [".dot", ".gv"])
def test_save_writes_dot_source_without_graphviz(tmp_path, suffix):
    g = lstm_graph(detail="cell")
    path = save(g, tmp_path / f"lstm{suffix}")
    assert path.read_text(encoding="utf-8") == g.source
    assert [p.name for p in tmp_path.iterdir()] == [f"lstm{suffix}"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_save_without_dot_writes_the_source_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    g = lstm_graph(detail="cell")
    with pytest.warns(GraphvizMissingWarning, match="apt-get install graphviz"):
        path = save(g, tmp_path / "lstm.svg")
    assert path == tmp_path / "lstm.dot" and path.read_text(encoding="utf-8") == g.source
    assert not (tmp_path / "lstm.svg").exists()


@needs_dot
@pytest.mark.parametrize("suffix,magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_save_renders_the_format_of_the_extension(tmp_path, suffix, magic):
    path = save(lstm_graph(detail="cell"), tmp_path / f"lstm{suffix}")
    assert path.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"lstm{suffix}"]


@needs_dot
def test_draw_out_writes_the_file(tmp_path):
    out, _, _ = vg.model("rnn", T=2)
    draw(out, out=tmp_path / "rnn.svg")
    ET.parse(tmp_path / "rnn.svg")


def test_save_refuses_an_unknown_extension(tmp_path):
    with pytest.raises(ValueError, match=r"\.svg"):
        save(lstm_graph(detail="cell"), tmp_path / "lstm.jpg")


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "picture.dot"
    path.write_text("old")

    with pytest.raises(TypeError):
        write_atomic(path, lambda f: f.write("not bytes"))
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["picture.dot"]


@needs_dot
@pytest.mark.parametrize("backward", [False, True])
def test_a_reverse_row_is_drawn_as_its_forward_row_mirrored(backward):
    """In both rows of a bidirectional LSTM at gate detail: f, i, C~, o from the top down, and
    tanh(C_t) right under the + that made C_t, above o_t * tanh(C_t). The lines written turned
    inside a rank were turned back by the reverse row's mirroring: its gates stood o, i, C~ and
    its tanh above its +."""
    out, params, _ = vg.model("lstm", T=3, bidirectional=True)
    if backward:
        out.sum().backward()
    g = draw(out, params=params, detail="gate", width=None, backward=backward)
    at, nodes, edges = positions(g), g.records.nodes, g.records.edges
    checked = 0
    for plus in (n for n in nodes.values() if n.op == "Add" and n.role and n.role.startswith("C_")):
        row, t = plus.step.row, plus.step.step
        gates = {n.role.rsplit("_", 1)[0]: at[n.id] for n in nodes.values()
                 if n.kind == "gate" and n.step is not None and n.step == plus.step}
        ys = [gates[r][1] for r in ("f", "i", "C~", "o")]
        assert ys == sorted(ys), (row, t, gates)
        tanh = next(nodes[e.dst] for e in edges if e.src == plus.id and nodes[e.dst].op == "Tanh")
        product = next(e.dst for e in edges if e.src == tanh.id)
        (x_plus, y_plus), (x_tanh, y_tanh) = at[plus.id], at[tanh.id]
        assert abs(x_plus - x_tanh) <= 2 and y_plus < y_tanh < at[product][1], (row, t)
        checked += 1
    assert checked == 6
