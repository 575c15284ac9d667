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
    """(left, bottom, right, top) around each text of a node or cluster that starts with
    ``prefix`` (a point's label is a line's: see line_labels)."""
    return [box for obj in drawn.get("objects", []) if "xlabel" not in obj
            for text, box in _texts(obj.get("_ldraw_", [])) if text.startswith(prefix)]


def _texts(ops: list) -> list:
    """(text, box) for each piece of text in a list of xdot drawing operations."""
    found, size = [], 14.0
    for op in ops:
        if op["op"] == "F":
            size = op["size"]
        elif op["op"] == "T":
            (x, y), width = op["pt"], op["width"]
            left = x - {"l": 0, "c": width / 2, "r": width}[op["align"]]
            found.append((op["text"], (left, y - 0.2 * size, left + width, y + 0.8 * size)))
    return found


def line_labels(drawn: dict) -> list:
    """(box, own) for each label of a line: an edge's label (own: that edge's index in
    ``drawn["edges"]``) or a point's (own: the edges that meet there); the box spans all its
    pieces (a subscript is a piece)."""
    edges = drawn.get("edges", [])
    found = []
    for i, edge in enumerate(edges):
        for key in ("_ldraw_", "_hldraw_", "_tldraw_"):
            found.append((_span(edge.get(key, [])), {i}))
    for obj in drawn.get("objects", []):
        if "xlabel" in obj:
            own = {i for i, e in enumerate(edges) if obj["_gvid"] in (e["tail"], e["head"])}
            found.append((_span(obj["_ldraw_"]), own))
    return [(box, own) for box, own in found if box]


def node_boxes(drawn: dict) -> list:
    """(left, bottom, right, top) of each node that is drawn (not invisible)."""
    boxes = []
    for obj in drawn.get("objects", []):
        if "pos" in obj and "width" in obj and "invis" not in obj.get("style", ""):
            x, y = map(float, obj["pos"].split(","))
            half_w, half_h = float(obj["width"]) * 36, float(obj["height"]) * 36
            boxes.append((x - half_w, y - half_h, x + half_w, y + half_h))
    return boxes


def _span(ops: list) -> tuple | None:
    boxes = [box for _, box in _texts(ops)]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def overlap(a: tuple, b: tuple) -> bool:
    """Whether two (left, bottom, right, top) boxes overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def cluster_boxes(drawn: dict, prefix: str) -> dict:
    """Cluster name (what follows ``prefix``) -> (left, bottom, right, top) of its frame."""
    return {obj["name"][len(prefix):]: tuple(map(float, obj["bb"].split(",")))
            for obj in drawn.get("objects", []) if obj.get("name", "").startswith(prefix)}


def line_points(drawn: dict, samples: int = 20, colour: str | None = None) -> list:
    """Points along every drawn edge (its cubic Bézier pieces, sampled); with ``colour``, only
    along the edges drawn in it."""
    return [point for path in line_paths(drawn, samples, colour) for point in path]


def line_paths(drawn: dict, samples: int = 20, colour: str | None = None) -> list:
    """Per drawn edge (of ``colour``, if given), in the order of ``drawn["edges"]``, points
    along it."""
    paths = []
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
        paths.append(points)
    return paths


def blocked_labels(drawn: dict) -> list:
    """The boxes of the labels of lines (see line_labels) that a line other than their own
    runs through, or that overlap another text."""
    labels, paths = line_labels(drawn), line_paths(drawn)
    texts = text_boxes(drawn, "")
    blocked = []
    for k, (box, own) in enumerate(labels):
        left, bottom, right, top = box
        crossed = any(i not in own and any(left <= x <= right and bottom <= y <= top for x, y in path)
                      for i, path in enumerate(paths))
        others = [b for j, (b, _) in enumerate(labels) if j != k] + texts
        if crossed or any(overlap(box, b) for b in others):
            blocked.append(box)
    return blocked


def cross(path: list, other: list) -> bool:
    """Whether two lines (lists of points) cross."""
    return any(_segments_cross(p, q, r, s)
               for p, q in zip(path, path[1:]) for r, s in zip(other, other[1:]))


def _segments_cross(p, q, r, s) -> bool:
    def side(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return side(p, q, r) * side(p, q, s) < 0 and side(r, s, p) * side(r, s, q) < 0
