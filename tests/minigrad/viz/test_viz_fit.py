"""Fitting the page: by default a picture is at most 1000 px wide with every text at least 9 px
tall there, the middle steps elided as far as that takes; ``width=`` chooses another target,
``width=None`` the natural size. What draw returns saves itself and shows inline at that size."""
import json
import re
import warnings

import graphviz
import pytest
from drawn import needs_dot

from minigrad.viz import draw
from minigrad.viz.picture import PAGE_WIDTH, Picture, fit
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


@needs_dot
@pytest.mark.parametrize("stem", [
    pytest.param(f"{arch}-{detail}", marks=[pytest.mark.xfail(
        strict=True, reason="the depth-gated stack is a staircase at gate detail, 3500 px wide "
        "at 3 steps and too wide at 2 (layer l + 1 starts a step later)")]
        if (arch, detail) == ("depth-gated", "gate") else [])
    for arch in ARCHITECTURES for detail in ("gate", "cell")])
def test_every_gate_and_cell_picture_shows_its_smallest_text_at_least_9_px(stem):
    """Shrunk to a page, a 3-step gate picture's shapes were 4 to 6 px tall."""
    outputs, options = ENTRIES[stem]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = draw(*outputs, **options)
    assert svg_width_px(g._repr_svg_()) <= PAGE_WIDTH + 1
    assert smallest_text_px(g) >= 9.0


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
def test_three_steps_that_do_not_fit_leave_out_the_middle_one():
    """The GRU's three gate-detail steps are 1500 px wide, 8 px text at a page's width."""
    output, params = run_model("gru", 3)
    with pytest.warns(UserWarning, match=r"1 middle step elided \(t = 1\)"):
        g = draw(output, params=params, detail="gate")
    assert steps_drawn(g) == [0, 2]
    assert "t = 1" in g.source and smallest_text_px(g) >= 9.0


@needs_dot
def test_a_picture_no_elision_can_fit_keeps_its_steps_and_says_why():
    """At op detail not even two LSTM steps fit a page legibly: eliding would lose the middle
    step and gain nothing."""
    output, params = run_model("lstm", 3)
    with pytest.warns(UserWarning, match="under 9.*coarser detail"):
        g = draw(output, params=params, detail="op")
    assert steps_drawn(g) == [0, 1, 2]


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
    g = lstm(4)  # (three LSTM steps at gate detail are narrower than a page now)
    assert isinstance(g, Picture)
    assert svg_width_px(lstm(4, width=None).pipe(format="svg", encoding="utf-8")) > PAGE_WIDTH
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
    assert main(["draw", "lstm", "--width", "500", "--out", str(out)]) == 0
    assert svg_width_px(out.read_text()) <= 500 + 1


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
