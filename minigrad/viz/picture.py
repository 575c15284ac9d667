"""What ``draw`` returns: a ``graphviz.Digraph`` that keeps its records, shows inline in a
notebook no wider than a page, and saves itself (``.save("graph.html")`` and every format
:func:`files.save` knows).

A picture fits a width when its smallest text, shrunk with it, is still ``MIN_TEXT_PX`` tall:
:func:`measure` reads both from the SVG that dot made of it. :meth:`Picture.svg` makes that SVG
once per source, and ``pipe`` hands it back: fitting a picture costs no second layout."""
from __future__ import annotations

import re
from html import unescape

import graphviz

PAGE_WIDTH = 1000   # px: what a notebook cell or a page shows without scrolling
MIN_TEXT_PX = 9     # px: the smallest text a picture may show at its width
PX_PER_INCH = 96    # CSS pixels; Graphviz measures in points, 72 an inch
PX_PER_POINT = PX_PER_INCH / 72
PAD = 4             # points: Graphviz's default margin around the drawing


class Picture(graphviz.Digraph):
    """A drawn graph. ``records``: the plain records drawn; ``width``: the most pixels wide it
    shows inline (``draw(width=...)``)."""

    records = None
    width = PAGE_WIDTH
    _svg = None  # (source, bytes): the SVG dot made of that source

    def svg(self) -> str | None:
        """The picture as dot draws it, made once per source; None where dot is missing or
        fails (drawing does not: rendering says why)."""
        if self._svg is None or self._svg[0] != self.source:
            try:
                self._svg = (self.source, super().pipe(format="svg", quiet=True))
            except (graphviz.ExecutableNotFound, graphviz.CalledProcessError):
                return None
        return self._svg[1].decode("utf-8")

    def widen(self, width: int, svg: str) -> None:
        """Show the picture ``width`` px wide, wider than the page it was laid out for: Graphviz's
        ``size`` says so to dot (PNG, PDF), and ``svg``, dot's SVG of it at the page's width,
        scaled up to ``width`` by its header stands for dot's SVG at the new size. ``size``
        changes no layout, only the header's scale (the drawing keeps its viewBox), so a
        second layout would give the same picture."""
        self.width = width
        self.attr(size=size_attr(width))
        self._svg = (self.source, fit(svg, width, up=True).encode("utf-8"))

    def pipe(self, format=None, renderer=None, formatter=None, neato_no_op=None, quiet=False, *,
             engine=None, encoding=None):
        """As ``graphviz.Digraph.pipe``; the SVG :meth:`svg` made is not made again."""
        kept = self._svg
        if (kept is not None and kept[0] == self.source and (format or self.format) == "svg"
                and renderer is formatter is neato_no_op is engine is None):
            return kept[1].decode(encoding) if encoding else kept[1]
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


TEXT = re.compile(r'<text[^>]*font-size="([\d.]+)"[^>]*>([^<]*)</text>')
BACKGROUND = re.compile(r'class="graph"[^>]*>\s*<title>[^<]*</title>\s*<polygon[^>]*points="([^"]*)"')
FRAME = re.compile(r'<g id="clust\d+" class="cluster">\s*<title>([^<]*)</title>\s*'
                   r'<(?:path|polygon)([^>]*)>')


def measure(svg: str) -> tuple:
    """(natural width in px, smallest text in px at that width) of a picture's SVG: the width of
    its background, drawn before Graphviz's ``size`` scales it, and its fonts' sizes."""
    background = BACKGROUND.search(svg).group(1)
    width = max(float(x) for x in re.findall(r"(-?[\d.]+),", background))
    sizes = [float(size) for size, text in TEXT.findall(svg) if unescape(text).strip()]
    return width * PX_PER_POINT, min(sizes, default=14.0) * PX_PER_POINT


def text_px(svg: str, width: int) -> float:
    """The smallest text's height in px when the picture is shown at most ``width`` px wide."""
    natural, smallest = measure(svg)
    return smallest * min(1.0, width / natural)


def frames(svg: str, prefix: str) -> list:
    """(name after ``prefix``, left and right x in points, dashed) of each cluster frame so
    named."""
    found = []
    for title, attrs in FRAME.findall(svg):
        if title.startswith(prefix):
            points = re.search(r'(?:d|points)="([^"]*)"', attrs).group(1)
            xs = [float(x) for x in re.findall(r"(-?[\d.]+),", points)]
            found.append((title[len(prefix):], min(xs), max(xs), "stroke-dasharray" in attrs))
    return found


def drawn_right(svg: str) -> float:
    """The right edge in points of the graph a picture draws, its title and key left out: where
    the key is wider, the room beside the graph is the key's width less this."""
    body = re.search(r'<g id="(?:clust|node|edge)\d+"', svg)
    if body is None:
        return 0.0
    shapes = re.findall(r'(?:points|d)="([^"]*)"', svg[body.start():])
    xs = [float(x) for shape in shapes for x in re.findall(r"(-?[\d.]+),", shape)]
    xs += [float(cx) + float(rx) for cx, rx in
           re.findall(r'<ellipse[^>]*cx="([-\d.]+)"[^>]*rx="([\d.]+)"', svg[body.start():])]
    return max(xs, default=0.0)


def fit(svg: str, width: int, up: bool = False) -> str:
    """The SVG scaled down to ``width`` pixels wide where it is wider (``up``: also up where it
    is narrower): its width and height attributes set in px, its viewBox kept, so the drawing
    scales and stays sharp."""
    match = re.search(r'<svg width="([\d.]+)(?:pt|px)" height="([\d.]+)(pt|px)"', svg)
    if match is None:
        return svg
    unit = PX_PER_POINT if match.group(3) == "pt" else 1.0
    w_px, h_px = (float(v) * unit for v in match.groups()[:2])
    box = re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', svg)  # (the header rounds)
    if w_px > width or up:
        w_px, h_px = width, width * (float(box.group(2)) / float(box.group(1)) if box else
                                     h_px / w_px)
    return svg.replace(match.group(0), f'<svg width="{w_px:.0f}px" height="{h_px:.0f}px"', 1)


def size_attr(width: int) -> str:
    """Graphviz's ``size`` (inches) for a picture at most ``width`` pixels wide."""
    return f"{width / PX_PER_INCH:.3f},1000"
