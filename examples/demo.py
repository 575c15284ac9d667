"""The one-minute tour: the essay's claim measured, a model writing text, a graph drawn.

1. adding_problem.py --quick: a vanilla RNN, an LSTM and a GRU must remember two numbers
   across 30 steps. The RNN stays at the "predict the mean" baseline; the LSTM and GRU learn.
2. char_lstm.py --quick: a 2-layer LSTM starts learning Shakespeare's spelling.
3. draw_lstm.py --quick: the trained LSTM's unrolled graph, coloured by gradient size.

    python examples/demo.py                 (what `python3 scripts/dev.py demo` runs)

Each part is one of the examples run with --quick; run them yourself without --quick for the
full experiments (see docs/examples.md).
"""
from __future__ import annotations

import common  # noqa: F401  (first: before NumPy loads; see common/__init__.py)

import sys
import time
from pathlib import Path

import adding_problem
import char_lstm
import draw_lstm
from common import cli
from common.summary import finish

PARTS = [
    ("adding_problem", adding_problem.main,
     "learning_curves.png, gradient_norms.png, lstm_gates.png"),
    ("char_lstm", char_lstm.main, "loss.png, sample.txt"),
    ("draw_lstm", draw_lstm.main,
     "gates.svg (open it in a browser), cells.svg, ops.svg, tbptt.svg"),
]


def passed_on(args) -> list[str]:
    """The common flags, to hand to each part."""
    flags = ["--device", args.device, "--seed", str(args.seed), "--quick",
             "--checkpoint-every", str(args.checkpoint_every)]
    for flag, value in (("--steps", args.steps), ("--stop-after", args.stop_after)):
        if value is not None:
            flags += [flag, str(value)]
    flags += ["--resume"] * args.resume + ["--no-progress"] * args.no_progress
    return flags


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser("demo", __doc__)
    args = cli.parse(parser, argv)
    start, summaries = time.time(), {}
    for number, (name, run, _) in enumerate(PARTS, 1):
        print(f"\n=== {number}/{len(PARTS)}: {name} ===", flush=True)
        summaries[name] = run(passed_on(args) + ["--out", str(Path(args.out) / name)])
    print("\nLook at:")
    for name, _, pictures in PARTS:
        print(f"  {Path(args.out) / name}/  {pictures}")
    print("Next: docs/examples.md explains each example and its full (non --quick) run.")
    finish(args.out, summaries, f"demo finished in {time.time() - start:.0f} s")


if __name__ == "__main__":
    sys.exit(cli.run(main))
