"""The flags every example shares, and one-line errors for bad arguments.

    parser = common.cli.parser("adding_problem", __doc__)
    parser.add_argument("--models", ...)          # the example's own flags
    args = common.cli.parse(parser, argv)         # checks the device, makes --out

Every example accepts ``--device``, ``--seed``, ``--quick``, ``--steps``, ``--out``,
``--checkpoint-every``, ``--resume``, ``--stop-after`` and ``--no-progress``; the examples
that train take ``--trace`` / ``--eager`` too.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import minigrad
from zoo.cli import positive_int, seed  # noqa: F401  (argument types shared with the minigrad command)


class UsageError(Exception):
    """A bad argument or input found after parsing (a missing file, an unreadable checkpoint)."""


class Stopped(Exception):
    """Training stopped early on purpose (``--stop-after``), after writing a checkpoint."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line (``prog: error: ...``) instead of usage + error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parser(name: str, description: str | None, traced: bool | None = None) -> OneLineParser:
    """A parser with the common flags; the example adds its own. ``traced``: the example's
    default for ``--trace``/``--eager`` (None: the example has no training step to trace),
    whichever ran its training faster when measured."""
    p = OneLineParser(prog=f"{name}.py", description=description,
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(example=name, trace=traced)
    common = p.add_argument_group("common options")
    if traced is not None:
        default = "traced" if traced else "eager"
        mode = common.add_mutually_exclusive_group()
        mode.add_argument("--trace", dest="trace", action="store_true",
                          help="train with the model's forward pass under minigrad.trace "
                               "(recorded once, replayed; see docs/trace.md)"
                               + (" (the default here: measured faster)" if traced else ""))
        mode.add_argument("--eager", dest="trace", action="store_false",
                          help="train with the eager engine"
                               + ("" if traced else " (the default here: measured faster)")
                               + f"; both give the same numbers (default: {default})")
    common.add_argument("--device", default=None,
                        help="cpu or cuda (default: MINIGRAD_DEVICE, else cpu)")
    common.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    common.add_argument("--quick", action="store_true",
                        help="a small run: at most about 15 s of CPU time (the tests use it)")
    common.add_argument("--steps", type=positive_int, default=None,
                        help="training steps per model (default: the example's choice)")
    common.add_argument("--out", type=Path, default=None,
                        help=f"output directory (default outputs/{name})")
    common.add_argument("--checkpoint-every", type=positive_int, default=100, metavar="N",
                        help="save a checkpoint every N steps (default 100)")
    common.add_argument("--resume", action="store_true",
                        help="continue from the checkpoints in the output directory")
    common.add_argument("--stop-after", type=positive_int, default=None, metavar="N",
                        help="stop (with a checkpoint) after N training steps in this run")
    common.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def parse(p: OneLineParser, argv: list[str] | None = None) -> argparse.Namespace:
    """Parse, select the device and create the output directory. A value given twice to a
    list flag (``--lengths 100 100``) counts once: training the same model twice shows nothing."""
    args = p.parse_args(argv)
    for name, value in vars(args).items():
        if isinstance(value, list):
            setattr(args, name, list(dict.fromkeys(value)))
    try:
        minigrad.set_default_device(args.device or minigrad.get_default_device())
    except (ValueError, RuntimeError) as err:
        p.error(f"argument --device: {err}")
    args.device = minigrad.get_default_device()
    args.out = args.out or Path("outputs") / args.example
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        p.error(f"argument --out: cannot create {str(args.out)!r}: {err.strerror}")
    return args


def run(main, argv: list[str] | None = None) -> int:
    """Call ``main(argv)``; a UsageError becomes a one-line message and exit status 2, a
    diverged loss one line and status 1, ``--stop-after`` a message and status 0."""
    prog = Path(sys.argv[0]).name
    try:
        main(argv)
    except UsageError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except FloatingPointError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    except Stopped as stop:
        print(stop, flush=True)
        return 0
    except KeyboardInterrupt:
        print("interrupted (the last checkpoint is kept: continue with --resume)", file=sys.stderr)
        return 130
    return 0
