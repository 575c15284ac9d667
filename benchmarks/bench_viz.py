"""Rendering time of the pictures, old against new, interleaved in one session (issue 19: the
400-step cell picture and the whole gallery stay within 1.2x).

    python benchmarks/bench_viz.py OLD_CHECKOUT [NEW_CHECKOUT] [--rounds 3] [--as gallery|page|plain]

Each measurement runs in a fresh Python in that checkout (``python -c`` puts the working folder
first on the path: run elsewhere, it would time whichever checkout it started in): the model is
built and run (untimed), then ``draw`` and Graphviz's SVG (``pipe``) are timed, for the
``lstm-400-steps`` gallery entry and for every gallery entry both checkouts have, drawn as
``minigrad gallery`` draws them: at the natural size, every step (``width=None``; a checkout
from before ``draw`` had ``width`` draws so anyway). ``--as page``: with ``draw``'s default
width instead, each picture fitted to a page (a picture that does not fit costs one more
layout); ``--as plain``: ``draw(*outputs)``, every keyword left at its default (the detail
level too), as a user's first call draws. Rounds alternate old, new, old, new...; the medians
are printed with their ratio.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import inspect, json, sys, time, warnings
warnings.simplefilter("ignore")
from minigrad.viz import draw
from zoo.models import gallery_entries
wanted, how = set(json.loads(sys.argv[1])), sys.argv[2]
natural = {"width": None} if how == "gallery" and "width" in inspect.signature(draw).parameters \
    else {}
times = {}
for stem, _, build in gallery_entries():
    if stem not in wanted:
        continue
    outputs, options = build()
    options = {} if how == "plain" else {**options, **natural}
    start = time.perf_counter()
    draw(*outputs, **options).pipe(format="svg")
    times[stem] = time.perf_counter() - start
print(json.dumps(times))
"""


def stems(root: Path) -> set:
    code = "import json; from zoo.models import gallery_entries; print(json.dumps([s for s, _, _ in gallery_entries()]))"
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(root)},
                         cwd=root, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def measure(root: Path, wanted: list, how: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(wanted), how],
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                         cwd=root, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new", nargs="?", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--as", dest="how", choices=("gallery", "page", "plain"),
                        default="gallery", help="draw as the gallery does (natural size), "
                        "fitted to a page, or with every keyword at its default")
    args = parser.parse_args(argv)
    old, new = Path(args.old).resolve(), Path(args.new).resolve()
    common = sorted(stems(old) & stems(new))
    results = {"old": [], "new": []}
    for _ in range(args.rounds):
        for label, root in (("old", old), ("new", new)):
            results[label].append(measure(root, common, args.how))
    for what, keys in (("lstm-400-steps", ["lstm-400-steps"]),
                       (f"gallery ({len(common)} pictures)", common)):
        old_s = statistics.median(sum(r[k] for k in keys) for r in results["old"])
        new_s = statistics.median(sum(r[k] for k in keys) for r in results["new"])
        print(f"{what:28s} old {old_s:7.2f} s   new {new_s:7.2f} s   new/old {new_s / old_s:.2f}")


if __name__ == "__main__":
    main()
