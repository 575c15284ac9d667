"""The ``minigrad`` command: draw a recurrent network's unrolled graph, or the whole gallery.

    minigrad draw lstm --steps 3 --detail gate --out lstm.svg
    minigrad draw gru --steps 20 --layers 2 --detail cell --grads --out gru.png
    minigrad gallery docs/gallery

``python -m minigrad ...`` does the same. The models come from ``nn``: this module is an
application on top of both packages, so it imports ``nn`` inside the functions that build
models and never at import time (``minigrad`` itself must not depend on ``nn``).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import warnings
from pathlib import Path

ARCHITECTURES = {
    "rnn": "Elman RNN: one tanh layer per step (nn.RNN)",
    "lstm": "LSTM, fused gates as PyTorch computes them (nn.LSTM)",
    "lstm-concat": "LSTM in the essay's form, one W per gate on [h_{t-1}, x_t] (form='concat')",
    "peephole": "LSTM whose gates peek at the cell state (nn.PeepholeLSTMCell)",
    "coupled": "LSTM with coupled forget and input gates, i = 1 - f (nn.CoupledLSTMCell)",
    "gru": "gated recurrent unit (nn.GRU)",
    "depth-gated": "depth-gated LSTM: a gate between the cells of stacked layers (nn.DepthGatedLSTM)",
    "clockwork": "clockwork RNN: modules that tick at different rates (nn.ClockworkRNN)",
}
DETAILS = ("op", "gate", "cell", "auto")
PARAM_MODES = ("once", "repeat", "hide", "auto")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _picture(text: str) -> str:
    """A file name whose extension names a format ``save`` writes (checked before any work)."""
    from .viz.files import RENDERED_FORMATS, SOURCE_FORMATS

    known = SOURCE_FORMATS + RENDERED_FORMATS
    if Path(text).suffix.lower() not in known:
        raise argparse.ArgumentTypeError(
            f"cannot tell the format of {text!r}; use one of {', '.join(known)}")
    if Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory; name a file in it")
    return text


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="minigrad", description="Draw the graphs minigrad records.")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    draw = commands.add_parser(
        "draw", help="draw one architecture unrolled over time",
        description="Build a small model, run it on random input and draw the recorded graph, "
                    "unrolled over time, in the visual language of Olah's 'Understanding LSTM "
                    "Networks'. Architectures: " + "; ".join(f"{k}: {v}" for k, v in ARCHITECTURES.items()))
    draw.add_argument("arch", metavar="ARCH", choices=list(ARCHITECTURES),
                      help="one of: " + ", ".join(ARCHITECTURES))
    draw.add_argument("--steps", type=_positive, default=3, metavar="T",
                      help="time steps to unroll (default 3)")
    draw.add_argument("--layers", type=_positive, default=None, metavar="L",
                      help="stacked layers (default 1; 2 for depth-gated, whose gate joins layers)")
    draw.add_argument("--bidirectional", action="store_true",
                      help="add a reverse-direction layer, drawn right to left")
    draw.add_argument("--detail", choices=DETAILS, default="gate",
                      help="op: every primitive op; gate: one yellow box per learned layer, as "
                           "in the essay; cell: one box per step; auto: the finest that fits "
                           "--max-nodes (default gate)")
    draw.add_argument("--grads", action="store_true",
                      help="backpropagate the last step's output and colour the graph by "
                           "gradient norm (log scale)")
    draw.add_argument("--out", metavar="FILE", default=None, type=_picture,
                      help="write the picture here; the format follows the extension "
                           "(.dot, .svg, .png, .pdf); default: print the DOT source")
    draw.add_argument("--params", choices=PARAM_MODES, default="auto", dest="param_mode",
                      help="parameters drawn once in their own cluster, repeated faintly in "
                           "every step, or hidden (default auto: repeat at op detail, else hide)")
    draw.add_argument("--hidden", type=_positive, default=4, metavar="H",
                      help="hidden size (default 4)")
    draw.add_argument("--input-size", type=_positive, default=3, metavar="I",
                      help="input size (default 3)")
    draw.add_argument("--batch", type=_positive, default=2, metavar="N",
                      help="batch size (default 2)")
    draw.add_argument("--forget-bias", type=float, default=None, metavar="B",
                      help="LSTM family: start the forget gate's bias at B (e.g. 3 keeps C's "
                           "gradient alive over many steps)")
    draw.add_argument("--max-nodes", type=_positive, default=None, metavar="N",
                      help="past this many nodes, elide the middle steps (or coarsen, with "
                           "--detail auto); default 400")
    draw.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
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
def build_model(arch: str, input_size: int, hidden: int, layers: int, bidirectional: bool,
                forget_bias: float | None = None):
    """The ``nn`` model for ``arch`` (see ARCHITECTURES)."""
    import nn  # the CLI is an application layer: minigrad itself never imports nn

    lstm_options = {} if forget_bias is None else {"forget_bias": forget_bias}
    shape = dict(input_size=input_size, hidden_size=hidden, num_layers=layers,
                 bidirectional=bidirectional)
    if forget_bias is not None and arch in ("rnn", "gru", "clockwork"):
        raise ValueError(f"--forget-bias: the {arch} has no forget gate")
    if arch == "rnn":
        return nn.RNN(**shape)
    if arch == "lstm":
        return nn.LSTM(**shape, **lstm_options)
    if arch == "lstm-concat":
        return nn.LSTM(**shape, form="concat", **lstm_options)
    if arch == "peephole":
        return nn.LSTM(**shape, cell=nn.PeepholeLSTMCell, **lstm_options)
    if arch == "coupled":
        return nn.LSTM(**shape, cell=nn.CoupledLSTMCell, **lstm_options)
    if arch == "gru":
        return nn.GRU(**shape)
    if arch == "depth-gated":
        return nn.DepthGatedLSTM(**shape, **lstm_options)
    if arch == "clockwork":
        return nn.ClockworkRNN(**shape, periods=_clock_periods(hidden))
    raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")


def _clock_periods(hidden: int) -> tuple:
    """The paper's periods 1, 2, 4, ... for as many modules as split the hidden units evenly
    (at most four)."""
    for modules in (4, 3, 2, 1):
        if hidden % modules == 0:
            return tuple(2 ** k for k in range(modules))
    return (1,)


def run_model(arch: str, steps: int, layers: int | None = None, bidirectional: bool = False,
              grads: bool = False, input_size: int = 3, hidden: int = 4, batch: int = 2,
              forget_bias: float | None = None, seed: int = 0):
    """Build the model, run it on random input; returns (output, params); with ``grads``, the
    last step's output summed is backpropagated inside ``minigrad.record_grads()``."""
    import minigrad

    minigrad.manual_seed(seed)
    model = build_model(arch, input_size, hidden, _layers(arch, layers), bidirectional,
                        forget_bias)
    x = minigrad.randn(steps, batch, input_size, requires_grad=True)
    x.name = "x"
    output, _ = model(x)
    if grads:
        with minigrad.record_grads():
            output[steps - 1].sum().backward()
    return output, dict(model.named_parameters())


def _layers(arch: str, layers: int | None) -> int:
    """The default is one layer, two for depth-gated (whose gate joins two layers)."""
    return layers or (2 if arch == "depth-gated" else 1)


def _draw_command(args) -> int:
    from .viz import MAX_NODES, draw, save

    try:
        output, params = run_model(args.arch, args.steps, args.layers, args.bidirectional,
                                   args.grads, args.input_size, args.hidden, args.batch,
                                   args.forget_bias, args.seed)
    except (ValueError, RuntimeError) as err:
        print(f"minigrad draw: error: {err}", file=sys.stderr)
        return 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = draw(output, params=params, detail=args.detail, param_mode=args.param_mode,
                     grads=args.grads, max_nodes=args.max_nodes or MAX_NODES,
                     title=_title(args))
        try:
            written = save(graph, args.out) if args.out else None
        except WRITE_ERRORS as err:
            print(f"minigrad draw: error: cannot write {args.out}: {_reason(err)}", file=sys.stderr)
            return 1
    for w in caught:
        print(f"minigrad draw: {w.message}", file=sys.stderr)
    if written is None:
        sys.stdout.write(graph.source)
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
    layers = _layers(args.arch, args.layers)
    parts = [args.arch, _count(args.steps, "step"), _count(layers, "layer")]
    if args.bidirectional:
        parts.append("bidirectional")
    parts.append(f"{args.detail} detail")
    return " · ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


# --- gallery --------------------------------------------------------------------------------
def gallery_entries() -> list:
    """(file stem, what it shows, function returning (outputs, draw keywords))."""
    entries = []
    for arch in ARCHITECTURES:
        for detail in ("op", "gate", "cell"):
            entries.append((f"{arch}-{detail}", f"{arch}, 3 steps, {detail} detail",
                            _simple(arch, detail)))
    entries += [
        ("lstm-2layers-gate", "a 2-layer LSTM: layer 0 feeds layer 1 at every step",
         _simple("lstm", "gate", layers=2)),
        ("lstm-2layers-cell", "a 2-layer LSTM, one box per step", _simple("lstm", "cell", layers=2)),
        ("lstm-bidirectional-cell", "a bidirectional 2-layer LSTM: reverse rows run right to left",
         _simple("lstm", "cell", layers=2, bidirectional=True)),
        ("lstm-params-once-op", "every op, the parameters drawn once, under the steps: each step "
         "taps their lines",
         _simple("lstm", "op", param_mode="once")),
        ("gradients-rnn-vs-lstm", "gradient norms after backward from the last step: the RNN's "
         "fade, the LSTM's cell state keeps them", _gradients),
        ("tbptt-lstm", "truncated BPTT: the second chunk starts from the first one's detached "
         "state", _tbptt),
        ("lstm-400-steps", "a 400-step 2-layer LSTM at cell detail: the middle steps are elided",
         _long),
        ("mlp", "any graph works: an MLP, drawn flat with values and gradients", _mlp),
    ]
    return entries


def _simple(arch: str, detail: str, layers: int | None = None, bidirectional: bool = False,
            param_mode: str = "auto"):
    def build():
        output, params = run_model(arch, 3, layers, bidirectional)
        return (output,), dict(params=params, detail=detail, param_mode=param_mode)
    return build


def _gradients():
    steps = 12
    rnn, _ = run_model("rnn", steps, grads=True, seed=1)
    lstm, _ = run_model("lstm", steps, grads=True, forget_bias=3.0, seed=1)
    return (rnn, lstm), dict(detail="cell")


def _tbptt():
    """Two chunks of 4 steps; the state between them is detached (and made a leaf that
    requires grad, to show the gradient arriving at the cut)."""
    import minigrad
    import nn  # application layer, see the module docstring

    minigrad.manual_seed(0)
    model = nn.LSTM(3, 4)
    with minigrad.record_grads():
        first, final = model(minigrad.randn(4, 2, 3))
        first[-1].sum().backward()
        state = tuple(s.detach().requires_grad_() for s in final)
        second, _ = model(minigrad.randn(4, 2, 3), state)
        loss = second[-1].sum()
        loss.backward(retain_graph=True)
    # h_n and c_n are drawn too: the dashed edges leave from them
    return (first, *final, loss), dict(params=dict(model.named_parameters()), detail="cell")


def _long():
    output, params = run_model("lstm", 400, layers=2)
    return (output,), dict(params=params, detail="cell", max_nodes=80)


def _mlp():
    import minigrad
    import nn  # application layer, see the module docstring

    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    x = minigrad.tensor([[0.5, -1.0]])
    with minigrad.record_grads():
        loss = (model(x).tanh() ** 2).sum()
        loss.backward()
    return (loss,), dict(params=dict(model.named_parameters()))


def make_gallery(folder, fmt: str = "svg") -> list:
    """Draw every gallery entry into ``folder``; returns the paths written."""
    from .viz import draw, save

    folder = Path(folder)
    written = []
    for stem, caption, build in gallery_entries():
        outputs, options = build()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # elision is the point of one entry
            graph = draw(*outputs, title=caption, **options)
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
