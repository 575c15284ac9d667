"""What ``draw`` returns: a ``graphviz.Digraph`` that keeps its records, shows inline in a
notebook no wider than a page, and saves itself (``.save("graph.html")`` and every format
:func:`files.save` knows).

A picture fits a width when its smallest text, shrunk with it, is still ``MIN_TEXT_PX`` tall:
:func:`measure` reads both from what Graphviz drew. ``layout`` runs ``dot`` once for that
account and the SVG together, and ``pipe`` hands that SVG back while the source is unchanged:
fitting a picture costs no second layout."""
from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

import graphviz

PAGE_WIDTH = 1000   # px: what a notebook cell or a page shows without scrolling
MIN_TEXT_PX = 9     # px: the smallest text a picture may show at its width
PX_PER_INCH = 96    # CSS pixels; Graphviz measures in points, 72 an inch
PX_PER_POINT = PX_PER_INCH / 72


class Picture(graphviz.Digraph):
    """A drawn graph. ``records``: the plain records drawn; ``width``: the most pixels wide it
    shows inline (``draw(width=...)``)."""

    records = None
    width = PAGE_WIDTH
    _laid_out = None  # (source, {format: bytes}): what one run of dot made of that source

    def layout(self) -> dict | None:
        """Graphviz's account of the drawing (``dot -Tjson``: where each node, line and text
        went, y upwards), or None where ``dot`` is missing."""
        if self._laid_out is None or self._laid_out[0] != self.source:
            try:
                self._laid_out = (self.source, _run_dot(self.source, ("json", "svg")))
            except FileNotFoundError:
                return None
        return json.loads(self._laid_out[1]["json"])

    def pipe(self, format=None, renderer=None, formatter=None, neato_no_op=None, quiet=False, *,
             engine=None, encoding=None):
        """As ``graphviz.Digraph.pipe``; what :meth:`layout` already made is not made again."""
        kept = self._laid_out
        if (kept is not None and kept[0] == self.source and (format or self.format) in kept[1]
                and renderer is formatter is neato_no_op is engine is None):
            data = kept[1][format or self.format]
            return data.decode(encoding) if encoding else data
        return super().pipe(format, renderer=renderer, formatter=formatter,
                            neato_no_op=neato_no_op, quiet=quiet, engine=engine,
                            encoding=encoding)

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


def _run_dot(source: str, formats: tuple) -> dict:
    """One layout by ``dot``, written out in each of ``formats``: {format: bytes}."""
    with tempfile.TemporaryDirectory() as folder:
        outputs = {f: Path(folder) / f"picture.{f}" for f in formats}
        command = ["dot"] + [arg for f, path in outputs.items() for arg in (f"-T{f}", f"-o{path}")]
        subprocess.run(command, input=source.encode("utf-8"), check=True, capture_output=True)
        return {f: path.read_bytes() for f, path in outputs.items()}


def measure(drawn: dict) -> tuple:
    """(natural width in px, smallest text in px at that width) of a drawing (``layout()``)."""
    width = float(drawn["bb"].split(",")[2]) * PX_PER_POINT
    sizes = [size for ops in _text_ops(drawn) for size in _text_sizes(ops)]
    return width, min(sizes, default=14.0) * PX_PER_POINT


def text_px(drawn: dict, width: int) -> float:
    """The smallest text's height in px when the drawing is shown at most ``width`` px wide."""
    natural, smallest = measure(drawn)
    return smallest * min(1.0, width / natural)


def _text_ops(drawn: dict):
    yield drawn.get("_ldraw_", [])
    for item in drawn.get("objects", []) + drawn.get("edges", []):
        for key in ("_ldraw_", "_hldraw_", "_tldraw_"):
            yield item.get(key, [])


def _text_sizes(ops: list):
    """The font size of each visible piece of text in a list of xdot drawing operations."""
    size = 14.0
    for op in ops:
        if op["op"] == "F":
            size = op["size"]
        elif op["op"] == "T" and op["text"].strip():
            yield size


def fit(svg: str, width: int) -> str:
    """The SVG scaled down (never up) to at most ``width`` pixels wide: its width and height
    attributes set in px, its viewBox kept, so the drawing scales and stays sharp."""
    match = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if match is None:
        return svg
    w_px, h_px = (float(v) * PX_PER_POINT for v in match.groups())
    if w_px > width:
        w_px, h_px = width, h_px * width / w_px
    return svg.replace(match.group(0), f'<svg width="{w_px:.0f}px" height="{h_px:.0f}px"', 1)


def size_attr(width: int) -> str:
    """Graphviz's ``size`` (inches) for a picture at most ``width`` pixels wide."""
    return f"{width / PX_PER_INCH:.3f},1000"
