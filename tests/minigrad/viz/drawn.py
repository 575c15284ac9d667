"""Where Graphviz drew things: the renderer's tests read node centres, row frames, texts and
lines back from what ``dot`` makes of a drawing, SVG or JSON (they need Graphviz's ``dot``: mark
them ``needs_dot``)."""
from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
SVG = "{http://www.w3.org/2000/svg}"


def svg_root(graph):
    return ET.fromstring(graph.pipe(format="svg", encoding="utf-8"))


def svg_texts(root) -> list:
    return ["".join(el.itertext()) for el in root.iter() if el.tag.endswith("}text")]


def positions(graph) -> dict:
    """Record id -> (x, y) of each node's centre in the rendered SVG (y grows downwards)."""
    ids = {f"n{i}": nid for i, nid in enumerate(graph.records.nodes)}
    found = {}
    for group in svg_root(graph).iter(f"{SVG}g"):
        if group.get("class") != "node":
            continue
        name = group.find(f"{SVG}title").text
        shape = next(el for el in group.iter() if el.tag.rsplit("}", 1)[-1] in
                     ("ellipse", "polygon", "path", "text"))
        kind = shape.tag.rsplit("}", 1)[-1]
        if kind == "ellipse":
            xy = [(float(shape.get("cx")), float(shape.get("cy")))]
        elif kind == "text":
            xy = [(float(shape.get("x")), float(shape.get("y")))]
        else:
            numbers = list(map(float, re.findall(r"-?\d+\.?\d*", shape.get("points") or shape.get("d"))))
            xy = list(zip(numbers[::2], numbers[1::2]))
        found[ids.get(name, name)] = (sum(p[0] for p in xy) / len(xy), sum(p[1] for p in xy) / len(xy))
    return found


def frames(graph, prefix: str) -> dict:
    """Cluster name (what follows ``prefix``) -> (left, top, right, bottom) of its frame in the
    SVG."""
    found = {}
    for group in svg_root(graph).iter(f"{SVG}g"):
        title = group.findtext(f"{SVG}title", "")
        if group.get("class") == "cluster" and title.startswith(prefix):
            outline = group.find(f"{SVG}path")
            outline = outline if outline is not None else group.find(f"{SVG}polygon")
            xy = list(map(float, re.findall(r"-?\d+\.?\d*",
                                            outline.get("d") or outline.get("points"))))
            found[title[len(prefix):]] = (min(xy[::2]), min(xy[1::2]), max(xy[::2]), max(xy[1::2]))
    return found


def row_bottoms(graph) -> list:
    """Per row of the plan (bottom to top), the lower edge of its cluster in the SVG."""
    rows = frames(graph, "cluster_row")
    return [rows[k][3] for k in sorted(rows, key=int)]


def in_order(bottoms: list) -> bool:
    """Whether the rows stack bottom to top in the plan's order (y grows downwards)."""
    return all(lower > upper for lower, upper in zip(bottoms, bottoms[1:]))



def layout(graph) -> dict:
    """Graphviz's own account of the drawing (``-Tjson``): where each text and line went, text
    widths included (y grows upwards)."""
    return json.loads(graph.pipe(format="json", encoding="utf-8"))


def text_boxes(drawn: dict, prefix: str) -> list:
    """(left, bottom, right, top) around each drawn text that starts with ``prefix``."""
    boxes = []
    for obj in drawn.get("objects", []):
        size = 14.0
        for op in obj.get("_ldraw_", []):
            if op["op"] == "F":
                size = op["size"]
            elif op["op"] == "T" and op["text"].startswith(prefix):
                (x, y), width = op["pt"], op["width"]
                left = x - {"l": 0, "c": width / 2, "r": width}[op["align"]]
                boxes.append((left, y - 0.2 * size, left + width, y + 0.8 * size))
    return boxes


def line_points(drawn: dict, samples: int = 20, colour: str | None = None) -> list:
    """Points along every drawn edge (its cubic Bézier pieces, sampled); with ``colour``, only
    along the edges drawn in it."""
    return [point for line in lines(drawn, samples, colour) for point in line]


def lines(drawn: dict, samples: int = 20, colour: str | None = None) -> list:
    """Per drawn edge (of ``colour``, if given), points along it."""
    found = []
    for edge in drawn.get("edges", []):
        if colour is not None and edge.get("color") != colour:
            continue
        points = []
        for op in edge.get("_draw_", []):
            if op["op"] not in ("b", "B"):
                continue
            p = op["points"]
            for k in range(0, len(p) - 3, 3):
                for i in range(samples + 1):
                    t = i / samples
                    w = ((1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t ** 3)
                    points.append(tuple(sum(wi * q[axis] for wi, q in zip(w, p[k:k + 4]))
                                        for axis in (0, 1)))
        found.append(points)
    return found


def boxes(drawn: dict, prefix: str) -> dict:
    """Cluster name (what follows ``prefix``) -> (left, bottom, right, top) of its frame in
    ``-Tjson`` (y grows upwards)."""
    return {obj["name"][len(prefix):]: tuple(map(float, obj["bb"].split(",")))
            for obj in drawn.get("objects", []) if obj.get("name", "").startswith(prefix)}
