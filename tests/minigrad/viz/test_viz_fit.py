"""Fitting the page: by default a picture is at most 1000 px wide with every text at least 9 px
tall there, the middle steps elided as far as that takes; ``width=`` chooses another target,
``width=None`` the natural size. What draw returns saves itself and shows inline at that size."""
import json
import re
import warnings

import graphviz
import pytest
import viz_graphs as vg
from drawn import needs_dot

import minigrad as mg
from minigrad.viz import capture, draw
from minigrad.viz.arrange import arrange
from minigrad.viz.elide import elide, is_elision_note
from minigrad.viz.picture import PAGE_WIDTH, Picture, fit, measure
from zoo.cli import main
from zoo.models import ARCHITECTURES, gallery_entries, run_model

ENTRIES = {stem: build for stem, _, build in gallery_entries()}
PX_PER_PT = 96 / 72


def lstm(steps=3, **options):
    output, params = run_model("lstm", steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return draw(output, params=params, detail="gate", **options)


def svg_width_px(svg: str) -> float:
    width = re.search(r'<svg width="([\d.]+)(pt|px)"', svg)
    return float(width.group(1)) * (PX_PER_PT if width.group(2) == "pt" else 1)


def smallest_text_px(g) -> float:
    """The smallest text's height in px as the picture is shown (a notebook, its SVG file):
    its font size in Graphviz's own account of the drawing, scaled as the SVG is."""
    drawn = json.loads(graphviz.Source(g.source).pipe(format="json", encoding="utf-8"))
    sizes, size = [], 14.0
    items = [drawn] + drawn.get("objects", []) + drawn.get("edges", [])
    for ops in (item.get(key, []) for item in items for key in ("_ldraw_", "_hldraw_", "_tldraw_")):
        for op in ops:
            if op["op"] == "F":
                size = op["size"]
            elif op["op"] == "T" and op["text"].strip():
                sizes.append(size)
    natural = float(drawn["bb"].split(",")[2]) * PX_PER_PT
    shown = min(svg_width_px(g._repr_svg_()), svg_width_px(g.pipe(format="svg", encoding="utf-8")))
    return min(sizes) * PX_PER_PT * shown / natural


def steps_drawn(g) -> list:
    return sorted({n.step.step for n in g.records.nodes.values()
                   if n.step is not None and n.kind != "ellipsis"})


def drawn_quietly(*outputs, **options):
    """The picture and the notes draw warned of."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = draw(*outputs, **options)
    return g, [str(w.message).removeprefix("minigrad.viz.draw: ") for w in caught]


def widened_to(notes: list) -> int | None:
    """The width a note says the picture needed to show its text at 9 px; None if none does."""
    found = [int(m.group(1)) for note in notes for m in [re.search(r"drawn (\d+) px wide", note)]
             if m]
    return found[0] if found else None


@needs_dot
@pytest.mark.parametrize("stem", sorted(ENTRIES))
def test_every_gallery_picture_fits_a_page_or_says_how_wide_it_had_to_be(stem):
    """With draw's defaults, every picture's smallest text is at least 9 px as it is shown,
    and it is at most a page wide unless a note names the width it needed. Before: every op
    detail picture but the RNN's, the depth-gated and 2-layer stacks at gate detail, five
    backward pictures, the truncated-BPTT one and the MLP were shrunk to 1.8 to 8.4 px text."""
    outputs, options = ENTRIES[stem]()
    if stem == "mlp":  # (drawn at draw's default detail)
        options.pop("detail", None)
    g, notes = drawn_quietly(*outputs, **options)
    shown = svg_width_px(g._repr_svg_())
    needed = widened_to(notes)
    if needed is None:
        assert shown <= PAGE_WIDTH + 1
    else:
        assert needed > PAGE_WIDTH and shown == pytest.approx(needed, abs=2) and g.width == needed
    assert svg_width_px(g.pipe(format="svg", encoding="utf-8")) <= shown + 1
    assert smallest_text_px(g) >= 9.0 - 0.05


@needs_dot
def test_auto_detail_is_the_finest_that_fits_the_width():
    """Three LSTM steps at op detail are 2300 px wide: at a page's width "auto" draws gate
    detail (before: op detail, every step, 4 px text), and says why; 3000 px hold op detail;
    at the natural size only max_nodes counts."""
    output, params = run_model("lstm", 3)
    page, notes = drawn_quietly(output, params=params)
    assert page.records.detail == "gate" and steps_drawn(page) == [0, 1, 2]
    assert any("at op detail" in n and "drawn at gate detail" in n for n in notes)
    assert "drawn at gate detail" in page.source  # the label says so too
    assert smallest_text_px(page) >= 9.0
    assert drawn_quietly(output, params=params, width=3000)[0].records.detail == "op"
    assert drawn_quietly(output, params=params, width=None)[0].records.detail == "op"


def first_width_where(holds, outputs, **options):
    """The widest of 1400, 1350, ... 300 px at which the picture draw makes ``holds`` (called
    with it and its notes), and that picture: which width does it depends on the layout, what
    fitting makes there does not."""
    for width in range(1400, 250, -50):
        g, notes = drawn_quietly(*outputs, width=width, **options)
        if holds(g, notes):
            return width, g, notes
    pytest.fail("at no width from 1400 to 300 px does the picture come to that")


@needs_dot
def test_auto_detail_passes_over_gate_detail_too_where_it_cannot_fit():
    """A 2-layer stack: its staircase at gate detail is wider than cell detail's steps, so at
    some width only cell detail fits, every step kept."""
    output, params = run_model("lstm", 3, layers=2)
    width, g, notes = first_width_where(lambda g, _: g.records.detail == "cell", [output],
                                        params=params)
    assert steps_drawn(g) == [0, 1, 2] and smallest_text_px(g) >= 9.0
    assert [n.split(" at width=")[0] for n in notes if "drawn at" in n] == [
        "at op detail its smallest text would be under 9 px",
        "at gate detail its smallest text would be under 9 px"]
    assert all(n.endswith(("drawn at gate detail", "drawn at cell detail")) for n in notes
               if "drawn at" in n)


def one_step(g, notes) -> bool:
    """The picture keeps one step of its row and is not drawn wider than asked."""
    return len(steps_drawn(g)) == 1 and not any("px wide instead" in n for n in notes)


@needs_dot
def test_where_the_first_and_last_step_do_not_fit_a_forward_picture_keeps_its_last():
    """At op detail one LSTM step is about 1280 px wide at 9 px text, two 1800: in between the
    last step is drawn (C_1 and h_1 arrive from the elided steps), the marker stands for t = 0
    and t = 1."""
    output, params = run_model("lstm", 3)
    width, g, notes = first_width_where(one_step, [output], params=params, detail="op")
    assert steps_drawn(g) == [2]
    marker = [n for n in g.records.nodes.values() if n.kind == "ellipsis" and n.text]
    assert [n.text for n in marker] == ["t = 0 … t = 1"]
    assert "2 steps elided (t = 0 … t = 1)" in notes and "t = 0 … t = 1" in g.source
    assert smallest_text_px(g) >= 9.0 and svg_width_px(g._repr_svg_()) <= width + 1


@needs_dot
def test_where_the_first_and_last_step_do_not_fit_a_backward_picture_keeps_its_first():
    """The GRU's backward pass at gate detail, where one step fits and two do not: it keeps
    t = 0, where dh_0 arrives from the elided steps (at t = 2 only the loss's dh_2 arrives).
    (The LSTM's first and last step, 205 points apart, fit wherever its one step does.)"""
    output, params = run_model("gru", 3, grads=True)
    width, g, notes = first_width_where(one_step, [output], params=params, detail="gate",
                                        backward=True)
    assert steps_drawn(g) == [0]
    assert [n.text for n in g.records.nodes.values() if n.kind == "ellipsis" and n.text] == [
        "t = 1 … t = 2"]
    assert "2 steps elided (t = 1 … t = 2)" in notes and smallest_text_px(g) >= 9.0
    assert svg_width_px(g._repr_svg_()) <= width + 1


def test_one_step_per_row_keeps_what_enters_the_elided_first_step_from_another_model():
    """An encoder's final state enters the decoder's first step; kept to its last step, the
    decoder's marker receives that line. Before, the line was dropped as a per-step input and
    the whole encoder, reaching no output, vanished from the picture."""
    with mg.viz.recording():
        output = vg.encoder_decoder("gru", layers=1, T=3, decoder_steps=2)
    kept = arrange(elide(capture(output), 0, 1), "hide")
    drawn = {(n.step.group, n.step.step, n.kind == "ellipsis") for n in kept.nodes.values()
             if n.step}
    assert drawn == {("encoder", 0, True), ("encoder", 2, False), ("decoder", 0, True),
                     ("decoder", 1, False)}
    assert "2 steps elided (t = 0 … t = 1) in encoder" in kept.notes
    with pytest.raises(ValueError, match="elide: head and tail .* head=0, tail=0"):
        elide(capture(output), 0, 0)


@needs_dot
def test_a_picture_that_cannot_fit_is_drawn_wider_with_9_px_text_and_a_note_of_its_width():
    """Not even one op-detail LSTM step fits a page at 9 px: the picture is drawn as wide as
    that takes (a page scrolls; a shrunk picture cannot be read), every step kept (one step
    would still scroll, and be only half as wide). Before: shrunk to 4 px text."""
    output, params = run_model("lstm", 3)
    g, notes = drawn_quietly(output, params=params, detail="op")
    needed = widened_to(notes)
    assert 2000 < needed < 2500 and g.width == needed and steps_drawn(g) == [0, 1, 2]
    assert any("with every step" in n and "coarser detail" in n for n in notes)
    assert svg_width_px(g.pipe(format="svg", encoding="utf-8")) == pytest.approx(needed, abs=2)
    assert smallest_text_px(g) == pytest.approx(9.0, abs=0.05)


@needs_dot
def test_a_picture_drawn_wider_is_dots_drawing_at_that_size_without_a_second_layout(
        monkeypatch):
    """Graphviz's size changes only the SVG's header (width, height, viewBox and the drawing's
    scale): the page-wide SVG, its header scaled, is what dot makes at the wider size."""
    output, params = run_model("lstm", 3)
    g, notes = drawn_quietly(output, params=params, detail="op")
    dots = graphviz.Source(g.source).pipe(format="svg", encoding="utf-8")
    monkeypatch.setattr(graphviz.Digraph, "pipe", lambda *a, **k: pytest.fail("laid out again"))
    ours = g.pipe(format="svg", encoding="utf-8")
    assert svg_width_px(ours) == pytest.approx(svg_width_px(dots), abs=1) == widened_to(notes)
    height = re.compile(r'<svg width="[\d.]+p[tx]" height="([\d.]+)(p[tx])"')
    heights = [float(m.group(1)) * (PX_PER_PT if m.group(2) == "pt" else 1)
               for m in (height.search(ours), height.search(dots))]
    assert heights[0] == pytest.approx(heights[1], abs=1)

    def drawing(svg):  # what follows the drawing's scale
        return svg.split('class="graph"', 1)[1].split("\n", 1)[1]
    assert drawing(ours) == drawing(dots)


@needs_dot
def test_a_picture_that_cannot_fit_keeps_one_step_where_every_step_is_twice_as_wide():
    """The GRU at op detail: every step needs 2800 px at 9 px text, one step 1300 px."""
    output, params = run_model("gru", 3)
    g, notes = drawn_quietly(output, params=params, detail="op")
    needed = widened_to(notes)
    assert 1100 < needed < 1500 and steps_drawn(g) == [2]
    assert any("with one step of each row" in n for n in notes)
    assert "2 steps elided (t = 0 … t = 1)" in notes
    assert smallest_text_px(g) == pytest.approx(9.0, abs=0.05)


@needs_dot
def test_a_flat_graph_too_wide_for_a_page_is_drawn_wider_at_the_detail_asked_for():
    """The MLP at op detail (its weights' values and gradients shown) is 1070 px wide at 9 px."""
    outputs, options = ENTRIES["mlp"]()
    g, notes = drawn_quietly(*outputs, **options, detail="op")
    needed = widened_to(notes)
    assert g.records.detail == "op" and PAGE_WIDTH < needed < 1200
    assert "step" not in next(n for n in notes if "px wide" in n)
    assert smallest_text_px(g) >= 9.0 - 0.05


@needs_dot
def test_a_long_sequence_keeps_as_many_steps_as_fit_and_elides_the_rest():
    """20 steps at gate detail are 7000 px wide: by default the middle ones are elided, the first
    and last kept, and the text stays legible; a wider target keeps more, None keeps all."""
    g = lstm(20)
    kept = steps_drawn(g)
    assert kept[0] == 0 and kept[-1] == 19 and 2 <= len(kept) < 20
    assert any("middle step" in note for note in g.records.notes)
    assert smallest_text_px(g) >= 9.0
    wider = steps_drawn(lstm(20, width=3000))
    assert len(kept) < len(wider) < 20
    assert steps_drawn(lstm(20, width=None)) == list(range(20))


@needs_dot
def test_the_room_beside_the_steps_is_theirs_to_fill():
    """Five LSTM steps at gate detail fit a page whole (827 points, the key above them 673
    wide); eight keep five and the elided run's box (979 points; four, 864 points, while the
    stacked output stood right of the row). Before, the room was measured against the whole
    picture, key included, in steps as wide as the first one (an initial state's lines widen
    it): three of the five were drawn, three of the eight."""
    five = lstm(5)
    assert steps_drawn(five) == [0, 1, 2, 3, 4] and smallest_text_px(five) >= 9.0
    eight = lstm(8)
    assert steps_drawn(eight) == [0, 1, 2, 6, 7] and smallest_text_px(eight) >= 9.0


@needs_dot
def test_six_lstm_steps_at_gate_detail_fit_a_page_whole():
    """Six LSTM steps at gate detail (974 points at natural size) are drawn whole on a 1000 px
    page with 9 px text: the stacked output stands over the last step, not in a rank of its
    own right of the row (1007 points, 8.9 px text: five were kept)."""
    six = lstm(6)
    assert steps_drawn(six) == list(range(6)) and smallest_text_px(six) >= 9.0
    assert not any(is_elision_note(note) for note in six.records.notes)
    natural, smallest = measure(lstm(6, width=None).svg())
    assert natural / PX_PER_PT <= 1000 and smallest * PAGE_WIDTH / natural >= 9.0


@needs_dot
def test_a_row_keeps_an_odd_number_of_steps_where_that_many_fit():
    """Widening the page adds steps one at a time, each picture fitting: an odd one more at
    the start of a forward row (t = 0, t = 1, ..., t = 19). Before, a row kept as many steps at
    its start as at its end, so three steps that fit were drawn as two."""
    counts = []
    for width in range(1000, 2700, 200):
        g = lstm(20, width=width)
        kept = steps_drawn(g)
        head = [t for t in kept if t < 10]
        assert len(head) - (len(kept) - len(head)) in (0, 1), (width, kept)
        assert smallest_text_px(g) >= 9.0, width
        counts.append(len(kept))
    assert counts == sorted(counts) and any(n % 2 for n in counts), counts


@needs_dot
def test_three_steps_that_do_not_fit_leave_out_the_middle_one():
    """The GRU's three gate-detail steps are 1187 px wide, 8.6 px text at 850 px (at 900 px
    they fit now: 1231 px wide before the stacked output stood over the last step, 1500 px
    before their gate boxes and exits were made narrower)."""
    output, params = run_model("gru", 3)
    with pytest.warns(UserWarning, match=r"1 middle step elided \(t = 1\)"):
        g = draw(output, params=params, detail="gate", width=850)
    assert steps_drawn(g) == [0, 2]
    assert "t = 1" in g.source and smallest_text_px(g) >= 9.0


def test_without_graphviz_a_picture_is_drawn_whole(monkeypatch):
    monkeypatch.setenv("PATH", "")  # no dot to measure with
    g = lstm(20)
    assert steps_drawn(g) == list(range(20)) and g.svg() is None


def test_where_dot_fails_drawing_does_not(monkeypatch):
    """dot can fail on a layout ("triangulation failed"); that is for rendering to report."""
    def failing(*args, **kwargs):
        raise graphviz.CalledProcessError(1, ["dot"], stderr=b"triangulation failed")
    monkeypatch.setattr(graphviz.Digraph, "pipe", failing)
    g = lstm(20)
    assert steps_drawn(g) == list(range(20)) and g.svg() is None


@needs_dot
def test_the_svg_made_while_fitting_is_what_graphviz_makes():
    """svg() keeps what dot made; pipe hands it back until the source changes."""
    g = lstm()
    assert g.pipe(format="svg") == graphviz.Source(g.source).pipe(format="svg")
    g.attr(bgcolor="yellow")
    assert b'fill="yellow"' in g.pipe(format="svg")


@needs_dot
def test_a_notebook_and_the_files_show_the_picture_at_most_a_page_wide_and_sharp():
    g = lstm(5)  # (four LSTM steps at gate detail are narrower than a page now)
    assert isinstance(g, Picture)
    assert svg_width_px(lstm(5, width=None).pipe(format="svg", encoding="utf-8")) > PAGE_WIDTH
    for svg in (g.pipe(format="svg", encoding="utf-8"), g._repr_svg_(),
                g._repr_mimebundle_()["image/svg+xml"]):
        assert svg_width_px(svg) <= PAGE_WIDTH + 1
        assert "viewBox" in svg


@needs_dot
def test_width_scales_the_files_down():
    g = lstm(width=600)
    assert svg_width_px(g.pipe(format="svg", encoding="utf-8")) <= 600 + 1
    assert svg_width_px(g._repr_svg_()) <= 600 + 1


def test_fit_never_scales_up():
    small = '<svg width="75pt" height="30pt" viewBox="0 0 75 30">'
    assert fit(small, 1000) == '<svg width="100px" height="40px" viewBox="0 0 75 30">'


@pytest.mark.parametrize("width", [0, -5, 2.5, True, "wide"])
def test_a_bad_width_is_refused_with_its_value(width):
    with pytest.raises(ValueError, match="width"):
        lstm(width=width)


@needs_dot
def test_the_command_takes_a_width(tmp_path, capsys):
    out = tmp_path / "lstm.svg"
    assert main(["draw", "lstm", "--width", "800", "--out", str(out)]) == 0
    assert svg_width_px(out.read_text()) <= 800 + 1


@needs_dot
def test_the_command_fits_a_long_sequence_to_a_page_by_default(tmp_path, capsys):
    out = tmp_path / "lstm.svg"
    assert main(["draw", "lstm", "--steps", "30", "--detail", "gate", "--out", str(out)]) == 0
    assert svg_width_px(out.read_text()) <= PAGE_WIDTH + 1
    assert "middle steps elided" in out.read_text()


@needs_dot
def test_what_draw_returns_saves_itself(tmp_path):
    path = lstm().save(tmp_path / "lstm.svg")
    assert path.read_text().lstrip().startswith("<?xml")


@needs_dot
def test_the_command_draws_every_step_at_width_0(tmp_path, capsys):
    """--width 0 is draw(..., width=None): the 30 steps at their natural size, none elided."""
    out = tmp_path / "lstm.svg"
    assert main(["draw", "lstm", "--steps", "30", "--detail", "gate", "--width", "0",
                 "--out", str(out)]) == 0
    assert svg_width_px(out.read_text()) > PAGE_WIDTH
    assert "elided" not in out.read_text()


def test_the_gallery_draws_every_step_at_its_natural_size(tmp_path, capsys):
    """The docs describe the gallery's pictures step by step ("the backward pass of a 3-step
    LSTM"): fitted to a page, it would keep one step of the three."""
    assert main(["gallery", str(tmp_path), "--format", "dot"]) == 0
    backward = (tmp_path / "lstm-backward.dot").read_text(encoding="utf-8")
    assert len(re.findall(r"subgraph cluster_step", backward)) == 3
    assert not re.search(r"^\tsize=", backward, re.MULTILINE) and "elided" not in backward
