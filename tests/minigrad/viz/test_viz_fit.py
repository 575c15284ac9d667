"""Fitting the page: draw(width=) scales files down to a width, a notebook shows the picture at
most a page wide, and what draw returns saves itself."""
import re
import warnings

import pytest
from drawn import needs_dot

from minigrad.viz import draw
from minigrad.viz.picture import PAGE_WIDTH, Picture, fit
from zoo.cli import main
from zoo.models import run_model


def lstm(**options):
    output, params = run_model("lstm", 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return draw(output, params=params, detail="gate", **options)


def svg_width_px(svg: str) -> float:
    width = re.search(r'<svg width="([\d.]+)(pt|px)"', svg)
    return float(width.group(1)) * (96 / 72 if width.group(2) == "pt" else 1)


@needs_dot
def test_a_notebook_shows_the_picture_at_most_a_page_wide_and_sharp():
    g = lstm()
    assert isinstance(g, Picture)
    natural = svg_width_px(g.pipe(format="svg", encoding="utf-8"))
    assert natural > PAGE_WIDTH  # the 3-step gate picture is wider than a page
    for svg in (g._repr_svg_(), g._repr_mimebundle_()["image/svg+xml"]):
        assert svg_width_px(svg) == pytest.approx(PAGE_WIDTH)
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
def test_what_draw_returns_saves_itself(tmp_path):
    path = lstm().save(tmp_path / "lstm.svg")
    assert path.read_text().lstrip().startswith("<?xml")
