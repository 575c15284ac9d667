"""What ``draw`` returns: a ``graphviz.Digraph`` that keeps its records, shows inline in a
notebook no wider than a page, and saves itself (``.save("graph.html")`` and every format
:func:`files.save` knows)."""
from __future__ import annotations

import re

import graphviz

PAGE_WIDTH = 1000   # px: what a notebook cell or a page shows without scrolling
PX_PER_INCH = 96    # CSS pixels; Graphviz measures in points, 72 an inch


class Picture(graphviz.Digraph):
    """A drawn graph. ``records``: the plain records drawn; ``width``: the most pixels wide it
    shows inline (``draw(width=...)``)."""

    records = None
    width = PAGE_WIDTH

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        bundle = super()._repr_mimebundle_(include, exclude)
        if "image/svg+xml" in bundle:
            bundle["image/svg+xml"] = fit(bundle["image/svg+xml"], self.width)
        return bundle

    def _repr_svg_(self) -> str:
        return fit(self.pipe(format="svg", encoding="utf-8"), self.width)

    def save(self, path):
        """Write the picture to ``path``, in the format its extension names (``.html``: the
        explorable page)."""
        from .files import save
        return save(self, path)


def fit(svg: str, width: int) -> str:
    """The SVG scaled down (never up) to at most ``width`` pixels wide: its width and height
    attributes set in px, its viewBox kept, so the drawing scales and stays sharp."""
    match = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if match is None:
        return svg
    w_px, h_px = (float(v) * PX_PER_INCH / 72 for v in match.groups())
    if w_px > width:
        w_px, h_px = width, h_px * width / w_px
    return svg.replace(match.group(0), f'<svg width="{w_px:.0f}px" height="{h_px:.0f}px"', 1)


def size_attr(width: int) -> str:
    """Graphviz's ``size`` (inches) for a picture at most ``width`` pixels wide."""
    return f"{width / PX_PER_INCH:.3f},1000"
