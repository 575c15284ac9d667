"""The layout's invariants, measured on what Graphviz drew (``-Tjson``; y grows upwards):

* ``frame_spread``: per row, how far apart the step frames' tops and bottoms are (points): the
  cells of one row share a height when it is 0 (the dashed frame of elided steps is no cell);
* ``line_spread``: per row and state (``C``, ``h``), how far apart in height the points of the
  thick lines carrying that state from step to step are: the belt runs straight when it is 0;
* ``crossings``: how many pairs of drawn lines cross (lines that share an end are not counted:
  they meet).

``python tests/minigrad/viz/belt.py`` prints them for every architecture at every detail level.
"""
from __future__ import annotations

from collections import defaultdict
from itertools import combinations

from drawn import cross, line_paths


def frame_spread(drawn: dict) -> float:
    """The largest spread, over the rows, of the step frames' tops or bottoms."""
    rows = defaultdict(list)
    for obj in drawn.get("objects", []):
        name = obj.get("name", "")
        if name.startswith("cluster_step") and "bb" in obj and "dashed" not in obj.get("style", ""):
            row = name[len("cluster_step"):].split("_")[0]
            _, bottom, _, top = map(float, obj["bb"].split(","))
            rows[row].append((bottom, top))
    spread = 0.0
    for frames in rows.values():
        for k in (0, 1):
            values = [f[k] for f in frames]
            spread = max(spread, max(values) - min(values))
    return spread


def state_lines(drawn: dict) -> dict:
    """(row, state) -> the points of the lines between steps that carry that state."""
    paths = line_paths(drawn, samples=8)
    found = defaultdict(list)
    for edge, path in zip(drawn.get("edges", []), paths):
        words = edge.get("class", "").split()
        if "state" in words and path:
            state = next(w[len("role-"):] for w in words if w.startswith("role-"))
            row = next(w[len("row-"):] for w in words if w.startswith("row-"))
            found[row, state].append(path)
    return found


def line_spread(drawn: dict, state: str) -> float:
    """The largest spread in height, over the rows, of the points on ``state``'s line (only the
    parts between the steps' frames: inside a step the line turns into its cell)."""
    frames = [tuple(map(float, o["bb"].split(","))) for o in drawn.get("objects", [])
              if o.get("name", "").startswith("cluster_step") and "bb" in o]
    spread = 0.0
    for (_, name), paths in state_lines(drawn).items():
        if name != state:
            continue
        ys = [y for path in paths for x, y in path
              if not any(f[0] <= x <= f[2] and f[1] <= y <= f[3] for f in frames)]
        if ys:
            spread = max(spread, max(ys) - min(ys))
    return spread


def crossings(drawn: dict) -> int:
    """Pairs of visible lines that cross, lines that share an end left out."""
    edges = drawn.get("edges", [])
    paths = line_paths(drawn, samples=6)
    boxes = [(min(x for x, _ in p), min(y for _, y in p), max(x for x, _ in p),
              max(y for _, y in p)) if p else None for p in paths]
    count = 0
    for i, j in combinations(range(len(edges)), 2):
        a, b = boxes[i], boxes[j]
        if a is None or b is None or a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1]:
            continue
        if {edges[i]["tail"], edges[i]["head"]} & {edges[j]["tail"], edges[j]["head"]}:
            continue
        if cross(paths[i], paths[j]):
            count += 1
    return count


def measure(graph) -> dict:
    from drawn import layout
    drawn = layout(graph)
    return {"frames": round(frame_spread(drawn), 1), "C": round(line_spread(drawn, "C"), 1),
            "h": round(line_spread(drawn, "h"), 1), "crossings": crossings(drawn)}


if __name__ == "__main__":
    import json
    import sys
    import warnings

    from minigrad.viz import draw
    from zoo.models import gallery_entries

    warnings.simplefilter("ignore")
    found = {}
    for stem, _, build in gallery_entries():
        if stem == "lstm-400-steps" and "--quick" in sys.argv:
            continue
        outputs, options = build()
        found[stem] = measure(draw(*outputs, **{"width": None, **options}))  # as the tests do
        print(stem, found[stem], flush=True)
    if "--json" in sys.argv:
        print(json.dumps(found, indent=1, sort_keys=True))
