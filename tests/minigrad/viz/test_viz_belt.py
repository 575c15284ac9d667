"""The layout's invariants over every gallery picture (every architecture at every detail level,
stacks, a bidirectional stack, elided steps): measured by belt.py on what Graphviz drew, none
may get worse than layout_baseline.json records (regenerate it with ``python belt.py --json``
only when a change makes a number smaller); the LSTM's essay pictures keep both belts level."""
import json
import warnings
from pathlib import Path

import pytest
from belt import frame_spread, measure, state_lines
from drawn import cluster_boxes, layout, line_labels, needs_dot, node_boxes, overlap
import viz_graphs as vg

import minigrad as mg
from minigrad.viz import draw
from minigrad.viz.layout import plan
from zoo.models import gallery_entries, run_model

BASELINE = json.loads((Path(__file__).parent / "layout_baseline.json").read_text())
ENTRIES = {stem: build for stem, _, build in gallery_entries()}
TOLERANCE = 1.0  # points: dot rounds positions to whole points


def drawn_entry(stem: str, width: int | None = None):
    """The gallery picture ``stem``, by default at its natural size, every step drawn
    (``width=None``): fitted to a page, a picture may leave out its middle steps
    (test_viz_fit.py), and that is another picture."""
    outputs, options = ENTRIES[stem]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return draw(*outputs, **{"width": width, **options})


def measured(stem: str) -> dict:
    return measure(drawn_entry(stem))


def test_the_baseline_covers_every_gallery_picture():
    assert set(BASELINE) == set(ENTRIES)


@needs_dot
@pytest.mark.parametrize("stem", sorted(ENTRIES))
def test_no_invariant_gets_worse(stem):
    """Cells of a row at one height (frames), the C and h lines level (their spread), and the
    number of lines that cross: none grows."""
    now, before = measured(stem), BASELINE[stem]
    assert now["crossings"] <= before["crossings"], (now, before)
    for key in ("frames", "C", "h"):
        assert now[key] <= before[key] + TOLERANCE, (key, now, before)


ONE_ROW = ["lstm", "lstm-concat", "peephole", "coupled", "gru", "rnn", "clockwork"]
LEVEL = ([f"{arch}-{detail}" for arch in ONE_ROW for detail in ("op", "gate", "backward")]
         + ["lstm-params-once-op", "lstm-2layers-gate", "depth-gated-op", "depth-gated-gate",
            "depth-gated-backward"])


@needs_dot
@pytest.mark.parametrize("stem", LEVEL)
def test_the_belts_run_level_across_the_steps(stem):
    """In one row, the cells at one height, C along the top and h along the bottom at one
    height in every step. Before: the first and last cells of a row, whose belt no line from
    another step held, stood higher or lower (rnn-gate's by 34 points, clockwork's 47, gru-op's
    45, lstm-concat-op's 50), and in lstm-gate the C line dropped 15.6 points into t = 2."""
    now = measured(stem)
    assert now["frames"] <= TOLERANCE, now
    assert now["C"] <= TOLERANCE, now
    assert now["h"] <= TOLERANCE, now


@needs_dot
@pytest.mark.parametrize("stem", sorted(ENTRIES))
def test_the_cells_of_a_row_share_a_height(stem):
    """Every step frame of a row spans the same heights. Before: a row's first and last cells
    stood off (above), and the first chunk of tbptt-lstm, whose outputs are not drawn, had no
    exits above its cells: its steps stood 37 points lower, their "t = k" too; the depth-gated
    stack's layer 1 at gate detail and backward, 62 points apart (its first step read the stubs
    from the layer below at its top left, the others at their bottom left), at op detail 110
    points (so, and the ops reading C_{t-1} stood over the C line in some steps, under it in
    others), its layer 0 there 30 (its first step's parameter copies, tied to the row's first
    nodes, left the ops that read them)."""
    assert measured(stem)["frames"] <= TOLERANCE


@needs_dot
@pytest.mark.parametrize("stem", ["depth-gated-op", "depth-gated-gate", "depth-gated-backward",
                                  "lstm-2layers-gate"])
def test_every_layer_carries_its_cell_state_above_h(stem):
    """Every row the right way up, as layer 0 is: C along the top, h along the bottom, each at
    one height. The depth-gated stack's layer 1 was drawn upside down (h entered at the top,
    C_t left from the bottom), its steps stacked down the page (C spread over 255 points at
    gate detail), and its C line crossed h's."""
    drawn = layout(drawn_entry(stem, width=1000))  # (fitted to a page, as the gallery shows it)
    lines = state_lines(drawn)
    rows = {row for row, _ in lines}
    assert len(rows) == 2
    for row in rows:
        c_ys = [y for path in lines[row, "C"] for _, y in path]
        h_ys = [y for path in lines[row, "h"] for _, y in path]
        assert min(c_ys) > max(h_ys), (row, min(c_ys), max(h_ys))  # -Tjson: y grows upwards


@needs_dot
def test_the_elided_400_step_picture_has_no_crossing():
    """The elided steps' line into the output stack ran under the whole right half of the
    picture (9 crossings): the elided steps' slots go with them."""
    assert measured("lstm-400-steps")["crossings"] == 0


@needs_dot
def test_in_a_bidirectional_cell_picture_the_end_columns_climb_outside():
    """The line up to a row in the first column climbs left of it, in the last column right of
    it, where no state line runs (8 crossings in the 2-layer, 3-step picture, now 5: in the
    middle column a line up must cross the h and C between the cells it passes)."""
    assert measured("lstm-bidirectional-cell")["crossings"] <= 5


@needs_dot
@pytest.mark.parametrize("stem,most", [("gru-gate", 3), ("gru-op", 9)])
def test_the_gru_update_gate_stands_next_to_its_h(stem, most):
    """dot draws the GRU's h along the bottom of its cells: z_t, stacked above r_t, sent its
    line down to z * (h - n) across two others in every step (6 crossings at gate detail, 12
    at op detail); next to h, it crosses only n_t's line into h - n."""
    assert measured(stem)["crossings"] <= most


@needs_dot
@pytest.mark.parametrize("stem", ["lstm-gate", "lstm-concat-gate", "coupled-gate",
                                  "lstm-backward"])
def test_tanh_of_the_cell_state_hangs_under_its_plus(stem):
    """As in the essay, tanh(C_t) hangs right under the + that made C_t, in its rank, above the
    h line: in a rank of its own it made every step 27 points wider (lstm-gate's 269 -> 242
    from one step's frame to the next)."""
    picture = drawn_entry(stem)
    records = picture.records
    ids = {nid: f"n{i}" for i, nid in enumerate(records.nodes)}
    at = {o["name"]: tuple(map(float, o["pos"].split(","))) for o in layout(picture)["objects"]
          if "pos" in o}
    ins = {e.dst: e.src for e in records.edges}
    hanging = [(ins[nid], nid) for nid, n in records.nodes.items()
               if n.kind == "op" and n.op == "Tanh" and records.nodes[ins[nid]].op == "Add"]
    assert len(hanging) == 3
    for plus, tanh in hanging:
        (x_plus, y_plus), (x_tanh, y_tanh) = at[ids[plus]], at[ids[tanh]]
        h_out = next(e.dst for e in records.edges if e.src == tanh)  # o_t * tanh(C_t): on h
        assert abs(x_plus - x_tanh) <= TOLERANCE and at[ids[h_out]][1] < y_tanh < y_plus


@needs_dot
@pytest.mark.parametrize("stem", ["rnn-backward", "lstm-backward", "gru-backward",
                                  "clockwork-backward"])
def test_the_colour_scale_widens_no_step(stem):
    """The first step is at most its initial state's entries (50 points) wider than the next.
    The gradient colours' scale was a node of the first rank, 210 points wide: lstm-backward's
    first step was 138 points wider than its second, rnn-backward's 138."""
    drawn = layout(drawn_entry(stem))
    widths = {}
    for obj in drawn["objects"]:
        if obj.get("name", "").startswith("cluster_step0_"):
            left, _, right, _ = map(float, obj["bb"].split(","))
            widths[int(obj["name"].rsplit("_", 1)[1])] = right - left
    assert widths[0] - widths[1] <= 50, widths


def pitch(stem: str, row: int = 0) -> float:
    """Points from the second step's frame to the third's, in the bottom row or ``row`` (the
    first step is wider by its initial state's entries)."""
    drawn = layout(drawn_entry(stem))
    left = {obj["name"]: float(obj["bb"].split(",")[0]) for obj in drawn["objects"]
            if obj.get("name", "").startswith(f"cluster_step{row}_")}
    return left[f"cluster_step{row}_2"] - left[f"cluster_step{row}_1"]


@needs_dot
@pytest.mark.parametrize("stem", ["depth-gated-gate", "depth-gated-backward"])
def test_a_depth_gated_step_is_narrow(stem):
    """From step to step each layer of the depth-gated stack takes at most 240 points. Before:
    424 and 541 (layers 0 and 1) at gate detail, 461 and 633 in the backward picture: its
    lines' labels doubled every rank, tanh C̃_t stood on one line, and the products f_t * C_{t-1},
    i_t * C̃_t, d_t * C_t^(0), σ o_t and tanh(C_t) each took a rank of their own."""
    assert pitch(stem, 0) <= 240 and pitch(stem, 1) <= 240


@needs_dot
def test_a_stacks_staircase_is_drawn_as_tight_as_one_row():
    """From step to step, the 2-layer LSTM at gate detail takes at most 1.1 times the room of
    one layer (it took 1.78: its look was the roomy one of op detail, and the labels on its
    lines made dot double its ranks and keep one between steps; now 1.01)."""
    assert pitch("lstm-2layers-gate") <= 1.1 * pitch("lstm-gate")


@needs_dot
@pytest.mark.parametrize("stem,most", [("lstm-gate", 150), ("lstm-backward", 165),
                                       ("coupled-gate", 150), ("peephole-gate", 215),
                                       ("gru-gate", 290)])
def test_a_gate_detail_step_is_narrow(stem, most):
    """From one step's frame to the next, at most ``most`` points (at 150 an LSTM's six steps
    about fill a page at 9 px text). Before: lstm-gate 205, lstm-backward 222, coupled-gate
    278, peephole-gate 258, gru-gate 342: the gate's word beside its role ("tanh C̃_t"),
    tanh(C_t) in an ellipse, "out[t]" on one line, a rank between the steps for the state's
    name, and the coupled LSTM's 1 − f_t and its product with C̃_t in ranks of their own."""
    assert pitch(stem) <= most


GATE_AND_BACKWARD = sorted(stem for stem in ENTRIES if stem.endswith(("-gate", "-backward")))
# Left out: the depth-gated stack, whose layer 0's C_t is named after the layout (render's
# xlabels, on the line from its fork, arrange._fork_handed_up): C₀⁽⁰⁾ and C₁⁽⁰⁾ (2, 4) run
# over the right edge of the step they leave (dC in the backward picture). Named inside the
# steps as elsewhere, its ranks changed and the lines up from layer 0 looped under its
# steps. And the
# plain RNN: its tanh h_t (2, 4) box names the line it starts (render.edge_text), which has no
# name of its own to test (test_an_rnns_state_is_named_by_its_box).
NAMED_STATES = [stem for stem in GATE_AND_BACKWARD
                if not stem.startswith(("depth-gated", "rnn-"))]


@needs_dot
@pytest.mark.parametrize("stem", NAMED_STATES)
def test_a_states_name_is_clear_of_the_nodes_and_frames(stem):
    """The name of a state's line between two steps (h_1 (2, 4), C_1 (2, 4)) stands inside the
    step that made it, under h's op (clear of the peephole LSTM's σ o_t right before it, above
    the GRU's frame's lower edge), or over the C belt, above the frames: it overlaps no node
    and no step's frame runs through it. Beside the line between the steps, every name ran
    into the op it leaves or across a frame; in the 2-layer staircase, placed by dot after the
    layout (xlabels), h₁⁽⁰⁾ stood behind its ×, C₀⁽¹⁾ on the next step's × and h₀⁽¹⁾ on
    σ o₁⁽¹⁾."""
    drawn = layout(drawn_entry(stem))
    steps = cluster_boxes(drawn, "cluster_step").values()
    nodes = node_boxes(drawn)
    states = {i for i, e in enumerate(drawn["edges"]) if "state" in e.get("class", "")}
    names = [box for box, own in line_labels(drawn) if own <= states]
    assert len(names) >= 2
    for box in names:
        assert not [node for node in nodes if overlap(box, node)], box
        assert all(not overlap(box, f) or (f[0] <= box[0] and box[2] <= f[2]
                                           and f[1] <= box[1] and box[3] <= f[3])
                   for f in steps), box


@needs_dot
@pytest.mark.parametrize("stem", ["rnn-gate", "rnn-backward"])
def test_an_rnns_state_is_named_by_its_box(stem):
    """A plain RNN's state line leaves a gate box that names it (tanh h_t (2, 4); dh_t going
    back) and carries no name: beside the box, h_0 (2, 4) stood on the next step's box."""
    graph = drawn_entry(stem)
    drawn = layout(graph)
    states = [e for e in drawn["edges"] if "role-h" in e.get("class", "")]
    assert len(states) == 2
    assert not [e for e in states if {"label", "taillabel", "headlabel", "xlabel"} & e.keys()]
    boxes = "".join(obj.get("label", "") for obj in drawn["objects"])
    prefix = "dh" if stem.endswith("backward") else "h"
    assert all(f"{prefix}<sub>{t}</sub>" in boxes for t in (0, 1))


@needs_dot
@pytest.mark.parametrize("stem", GATE_AND_BACKWARD)
def test_no_line_label_hides_under_a_node(stem):
    """Every label of a line (a state's name, i_t, dC_t) overlaps no drawn node. Before: the
    coupled LSTM's i_t, beside its × at the end of the short line down from 1 − f_t, stood
    inside the 1 − f_t pill (di_t in its backward picture); an RNN's h_0 (2, 4) stood on the
    next step's tanh h_1 box; the 2-layer staircase's C₀⁽¹⁾ on the next step's ×."""
    drawn = layout(drawn_entry(stem))
    nodes = node_boxes(drawn)
    hidden = [box for box, _ in line_labels(drawn) if any(overlap(box, n) for n in nodes)]
    assert not hidden


FIT = ["rnn-backward", "lstm-backward", "lstm-concat-backward", "peephole-backward",
       "coupled-backward", "gru-backward", "clockwork-backward", "lstm-2layers-gate",
       "depth-gated-gate", "depth-gated-backward"]


@needs_dot
@pytest.mark.parametrize("stem", FIT)
def test_the_backward_pictures_and_a_stack_fit_a_page(stem):
    """Fitted to 1000 px (its middle steps left out as need be), the smallest text is 9 px.
    Before, with the first and last step only: lstm-backward 7.4 px, gru-backward 6.2,
    coupled-backward 6.7, peephole-backward 7.0, lstm-2layers-gate 4.0, depth-gated-gate 5.2
    and depth-gated-backward 4.7 (2.5 at first; drawn wider than the page, every step, 4.7
    and 4.2 px at 1000 px; now 10.2 px with t = 1 elided, and 9.3 px with every step)."""
    from minigrad.viz.picture import text_px
    svg = drawn_entry(stem, width=1000).svg()
    assert text_px(svg, 1000) >= 9


@needs_dot
@pytest.mark.parametrize("stem", ["depth-gated-gate", "depth-gated-backward"])
def test_a_fitted_depth_gated_stack_keeps_its_belts(stem):
    """Fitted to 900 px (t = 0, the elided run's box, t = 2; at 1000 px the backward picture
    keeps all three steps), each layer's cells share a height and carry C above h. With two
    ranks into the box, as one row has, layer 0's first step stood 31 points off its last,
    squashed under its belts, which ran into the box close together."""
    picture = drawn_entry(stem, width=900)
    assert "ellipsis" in {n.kind for n in picture.records.nodes.values()}
    drawn = layout(picture)
    assert frame_spread(drawn) <= TOLERANCE
    lines = state_lines(drawn)
    for row in {row for row, _ in lines}:
        c_ys = [y for path in lines[row, "C"] for _, y in path]
        h_ys = [y for path in lines[row, "h"] for _, y in path]
        assert min(c_ys) > max(h_ys), row


@needs_dot
@pytest.mark.parametrize("stem", ["lstm-gate", "lstm-concat-gate", "lstm-backward"])
def test_the_lstm_gates_products_stand_in_their_column(stem):
    """f_t * C_{t-1} right above σ f_t, on the belt, and i_t * C̃_t between σ i_t and tanh C̃_t,
    in the gates' rank: in a rank of their own they made every step 26 points wider
    (lstm-gate 231 -> 205 points from frame to frame)."""
    picture = drawn_entry(stem)
    records = picture.records
    ids = {nid: f"n{i}" for i, nid in enumerate(records.nodes)}
    at = {o["name"]: tuple(map(float, o["pos"].split(","))) for o in layout(picture)["objects"]
          if "pos" in o}
    ins = {}
    for e in records.edges:
        ins.setdefault(e.dst, set()).add(e.src)
    for t in range(3):
        gate = {role_base: next(nid for nid, n in records.nodes.items() if n.kind == "gate"
                                and n.role == f"{role_base}_{t}") for role_base in ("f", "i", "C~")}
        products = {frozenset(ins[nid]): nid for nid, n in records.nodes.items()
                    if n.op == "Mul" and n.step is not None and n.step.step == t}
        times_i = at[ids[products[frozenset((gate["i"], gate["C~"]))]]]
        times_f = at[ids[next(p for reads, p in products.items() if gate["f"] in reads)]]
        f, i, c = (at[ids[gate[r]]] for r in ("f", "i", "C~"))
        assert abs(times_i[0] - i[0]) <= TOLERANCE and c[1] < times_i[1] < i[1]
        assert abs(times_f[0] - f[0]) <= TOLERANCE and times_f[1] > f[1]


@needs_dot
@pytest.mark.parametrize("stem", ["lstm-gate", "gru-backward", "lstm-2layers-gate"])
def test_the_stacked_output_stands_over_the_last_step(stem):
    """The output the exits go to (``stack``; ``unbind`` going back) stands above the top row,
    over its last step, where the exits' arrows point. Right of the row it took a rank of its
    own: six LSTM steps at gate detail were 1007 points wide, over 1000 for 9 px text."""
    drawn = layout(drawn_entry(stem))
    rows = cluster_boxes(drawn, "cluster_row")
    top = max(rows.values(), key=lambda box: box[3])
    last = max((box for name, box in cluster_boxes(drawn, "cluster_step").items()
                if name.startswith(f"{len(rows) - 1}_")), key=lambda box: box[0])
    outputs = [obj for obj in drawn["objects"] if obj.get("peripheries") == "2"]
    assert len(outputs) == 1
    x, y = map(float, outputs[0]["pos"].split(","))
    assert y > top[3] and last[0] <= x <= top[2], (x, y, top, last)


def test_the_depth_gated_rules_are_for_a_layer_that_reads_c_of_the_layer_below():
    """The depth-gated stack's layer 1 reads C_t of layer 0: its rules apply (lay.hands_c). A
    decoder that starts from an encoder's final c_n reads no layer below: before, it counted,
    and the decoder's first step drew its gates out of the essay's order (σ f, tanh C̃, σ i)."""
    with mg.viz.recording():
        out = vg.encoder_decoder("lstm", layers=2, T=3, decoder_steps=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        decoder = draw(out, detail="gate", width=None)
        output, params = run_model("depth-gated", 3)
        stack = draw(output, params=params, detail="gate", width=None)
    assert not plan(decoder.records).hands_c and plan(stack.records).hands_c
