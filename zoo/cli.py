"""The ``minigrad`` command: draw a recurrent network's unrolled graph, or the whole gallery.

    minigrad draw lstm --steps 3 --detail gate --out lstm.svg
    minigrad draw gru --steps 20 --layers 2 --detail cell --grads --out gru.png
    minigrad gallery docs/gallery

``python -m zoo ...`` does the same. The models come from the zoo (``zoo/models.py``), built
with ``nn``: the command is an application over both packages, so it lives outside the engine
package (nothing under ``minigrad/`` may use ``nn``).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import warnings
from pathlib import Path

from minigrad.viz import MAX_NODES, draw, save
from minigrad.viz.picture import PAGE_WIDTH
from minigrad.viz.files import PAGE_FORMATS, RENDERED_FORMATS, SOURCE_FORMATS

from .models import ARCHITECTURES, gallery_entries, layers_of, run_model

DETAILS = ("op", "gate", "cell", "auto")
PARAM_MODES = ("once", "repeat", "hide", "auto")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _integer(text: str, low: int, what: str) -> int:
    """An integer argument of at least ``low``, or argparse's one-line error naming ``what``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _integer(text, 1, "a positive integer")


def _width(text: str) -> int | None:
    """--width: pixels, or 0 for the natural size (``draw(..., width=None)``)."""
    return _integer(text, 0, "a non-negative integer") or None


def seed(text: str) -> int:
    """A random seed: NumPy's generators take a non-negative integer."""
    return _integer(text, 0, "a non-negative integer")


def _picture(text: str) -> str:
    """A file name whose extension names a format ``save`` writes (checked before any work)."""
    known = SOURCE_FORMATS + RENDERED_FORMATS + PAGE_FORMATS
    if Path(text).suffix.lower() not in known:
        raise argparse.ArgumentTypeError(
            f"cannot tell the format of {text!r}; use one of {', '.join(known)}")
    try:
        is_dir = Path(text).is_dir()
    except OSError:  # a folder on the way that we may not enter: _cannot_write says so
        is_dir = False
    if is_dir:
        raise argparse.ArgumentTypeError(f"{text!r} is a directory; name a file in it")
    return text


def _cannot_write(path: Path) -> str | None:
    """Why the picture cannot be written to ``path``, found before any work; None if it can.
    Its folder must exist, as for ``torch.save`` and matplotlib's ``savefig``: a mistyped
    folder name is an error, not a new folder."""
    folder = path.parent
    try:
        if not folder.is_dir():
            return f"there is no folder {folder} (create it first: mkdir -p {folder})"
    except OSError as err:
        return f"{err.strerror} (looking for the folder {folder})"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"Permission denied (the folder {folder} is not writable)"
    return None


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="minigrad", description="Draw the graphs minigrad records.")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    draw = commands.add_parser(
        "draw", help="draw one architecture unrolled over time",
        description="Build a small model, run it on random input and draw the recorded graph, "
                    "unrolled over time, in the visual language of Olah's 'Understanding LSTM "
                    "Networks'. Without --out it prints the graph's DOT source (for piping into "
                    "Graphviz: `minigrad draw lstm | dot -Tsvg > lstm.svg`); --out lstm.svg writes "
                    "the picture. Architectures: "
                    + "; ".join(f"{k}: {v}" for k, v in ARCHITECTURES.items()))
    draw.add_argument("arch", metavar="ARCH", choices=list(ARCHITECTURES),
                      help="one of: " + ", ".join(ARCHITECTURES))
    draw.add_argument("--steps", type=positive_int, default=3, metavar="T",
                      help="time steps to unroll (default 3)")
    draw.add_argument("--layers", type=positive_int, default=None, metavar="L",
                      help="stacked layers (default 1; 2 for depth-gated, whose gate joins layers)")
    draw.add_argument("--bidirectional", action="store_true",
                      help="add a reverse-direction layer, drawn right to left")
    draw.add_argument("--detail", choices=DETAILS, default="gate",
                      help="op: every primitive op; gate: one yellow box per learned layer, as "
                           "in the essay; cell: one box per step; auto: the finest that fits "
                           "--max-nodes and --width (default gate)")
    draw.add_argument("--grads", action="store_true",
                      help="backpropagate the last step's output and colour the graph by "
                           "gradient norm (log scale)")
    draw.add_argument("--out", metavar="FILE", default=None, type=_picture,
                      help="write the picture here; the format follows the extension "
                           "(.dot, .svg, .png, .pdf; .html: an explorable page); without it the "
                           "DOT source is printed")
    draw.add_argument("--params", choices=PARAM_MODES, default="auto", dest="param_mode",
                      help="parameters drawn once in their own cluster, repeated faintly in "
                           "every step, or hidden (default auto: repeat at op detail, else hide)")
    draw.add_argument("--hidden", type=positive_int, default=4, metavar="H",
                      help="hidden size (default 4)")
    draw.add_argument("--input-size", type=positive_int, default=3, metavar="I",
                      help="input size (default 3)")
    draw.add_argument("--batch", type=positive_int, default=2, metavar="N",
                      help="batch size (default 2)")
    draw.add_argument("--forget-bias", type=float, default=None, metavar="B",
                      help="LSTM family: start the forget gate's bias at B (e.g. 3 keeps C's "
                           "gradient alive over many steps)")
    draw.add_argument("--max-nodes", type=positive_int, default=None, metavar="N",
                      help="past this many nodes, elide the middle steps (or coarsen, with "
                           "--detail auto); default 400")
    draw.add_argument("--backward", action="store_true",
                      help="draw the backward pass (implies --grads): the gradients dC_t, dh_t, "
                           "df_t in the same steps and gates, arrows right to left")
    draw.add_argument("--width", type=_width, default=PAGE_WIDTH, metavar="PX",
                      help="the picture at most PX pixels wide with its text at least 9 px: "
                           "steps elided, and with --detail auto a coarser detail, as far as that "
                           "takes; wider, with a warning, where nothing fits (default 1000, a "
                           "page; 0: every step at its natural size)")
    draw.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    draw.set_defaults(run=_draw_command)

    gallery = commands.add_parser(
        "gallery", help="draw every architecture at every detail level into a folder",
        description="Regenerate the gallery: every architecture at op, gate and cell detail, "
                    "plus stacked, bidirectional, gradient, truncated-BPTT, elided and plain "
                    "(non-recurrent) examples.")
    gallery.add_argument("folder", metavar="DIR", help="where to write the pictures")
    gallery.add_argument("--format", choices=("svg", "png", "pdf", "dot"), default="svg",
                         help="picture format (default svg)")
    gallery.set_defaults(run=_gallery_command)
    return top


def main(argv: list | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


# --- draw ---------------------------------------------------------------------------------
def _draw_command(args) -> int:
    problem = _cannot_write(Path(args.out)) if args.out else None
    if problem is not None:
        print(f"minigrad draw: error: cannot write {args.out}: {problem}", file=sys.stderr)
        return 1
    try:
        output, params = run_model(args.arch, args.steps, args.layers, args.bidirectional,
                                   args.grads or args.backward, args.input_size, args.hidden, args.batch,
                                   args.forget_bias, args.seed)
    except (ValueError, RuntimeError) as err:
        print(f"minigrad draw: error: {err}", file=sys.stderr)
        return 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = draw(output, params=params, detail=args.detail, param_mode=args.param_mode,
                     grads=args.grads or args.backward, max_nodes=args.max_nodes or MAX_NODES,
                     title=_title(args), width=args.width, backward=args.backward)
        try:
            written = save(graph, args.out) if args.out else None
        except WRITE_ERRORS as err:
            print(f"minigrad draw: error: cannot write {args.out}: {_reason(err)}", file=sys.stderr)
            return 1
    for w in caught:
        print(f"minigrad draw: {w.message}", file=sys.stderr)
    if written is None:
        sys.stdout.write(graph.source)
        if sys.stdout.isatty():  # a newcomer expected a picture: say how to get one
            print(f"minigrad draw: that was the DOT source; for a picture add --out "
                  f"{args.arch}.svg (or .png, .pdf)", file=sys.stderr)
        return 0
    print(written)
    return 0 if Path(written).suffix == Path(args.out).suffix else 1


WRITE_ERRORS = (OSError, subprocess.CalledProcessError)  # graphviz's dot failing is the latter


def _reason(err: Exception) -> str:
    """What went wrong writing a picture, in one line (the stderr of a failed ``dot``)."""
    if isinstance(err, FileExistsError):  # from making the folder: a file has its name
        return f"{err.filename} is a file, not a folder"
    if isinstance(err, OSError):
        return err.strerror or str(err)
    stderr = getattr(err, "stderr", None) or b""
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else str(stderr)
    return f"Graphviz's dot failed ({' '.join(text.split()) or f'exit status {err.returncode}'})"


def _title(args) -> str:
    layers = layers_of(args.arch, args.layers)
    parts = [args.arch, _count(args.steps, "step"), _count(layers, "layer")]
    if args.bidirectional:
        parts.append("bidirectional")
    parts.append(f"{args.detail} detail")
    if args.backward:
        parts.append("backward pass")
    return " · ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def make_gallery(folder, fmt: str = "svg") -> list:
    """Draw every gallery entry into ``folder``; returns the paths written. Each at its natural
    size, every step (``width=None``): the docs describe them step by step ("the backward pass
    of a 3-step LSTM", the cut between two chunks), and a file opened in a browser scrolls and
    zooms; fitting a page is for ``draw``'s default, in a notebook."""
    folder = Path(folder)
    written = []
    for stem, caption, build in gallery_entries():
        outputs, options = build()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # elision is the point of one entry
            graph = draw(*outputs, title=caption, width=None, **options)
        written.append(save(graph, folder / f"{stem}.{fmt}"))
    return written


def _gallery_command(args) -> int:
    try:
        written = make_gallery(args.folder, args.format)
    except WRITE_ERRORS as err:
        print(f"minigrad gallery: error: cannot write into {args.folder}: {_reason(err)}",
              file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0
