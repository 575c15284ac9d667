"""Draw the graph a trained LSTM builds, unrolled over time, coloured by its gradients.

The essay's figures show one LSTM step, drawn by hand. This script draws what minigrad actually
recorded while a trained model read a short sequence, in the essay's visual language (yellow
boxes are learned layers, pink circles pointwise operations, one green cluster per time step,
the cell state C_t the straight line along the top):

1. train a small model on a short adding problem (see adding_problem.py), so that the
   gradients we colour by are those of a model that works;
2. run one batch forward and backward inside ``minigrad.record_grads()``: backward notes the
   gradient norm ||dL/dv|| at every node v;
3. draw the graph three times, from coarse to fine:
   cells.svg  one box per step (the essay's unrolled-chain figure),
   gates.svg  one box per gate (the essay's step-by-step figures),
   ops.svg    every primitive op the engine recorded (the first steps only);
4. draw truncated backpropagation through time (tbptt.svg): the sequence is read in two
   chunks and the state between them is detached; the dashed edge is the cut, and the first
   chunk receives no gradient (it stays grey).

Darker, thicker edges carry larger gradients: watch them fade (or not) going back in time.

    python examples/draw_lstm.py --quick
    python examples/draw_lstm.py --model gru --length 8
"""
from __future__ import annotations

import common  # noqa: F401  (first: before NumPy loads; see common/__init__.py)

import sys
import warnings

import numpy as np

import minigrad
import nn
from adding_problem import BASELINE, LAYERS, Regressor, adding_batch
from common import cli
from common.summary import finish
from common.training import Trainer, derived_seed, update
from minigrad import viz

FULL = dict(hidden=8, length=6, layers=1, batch=32, lr=1e-2, steps=1500, eval_every=250)
QUICK = dict(hidden=6, length=5, layers=1, batch=32, lr=2e-2, steps=300, eval_every=100)
FORMATS = ("svg", "png")


def train(cfg: dict, args, trainer: Trainer) -> tuple[Regressor, float]:
    """A model trained on adding problems of length ``cfg["length"]``; its test MSE."""
    T = cfg["length"]
    minigrad.manual_seed(derived_seed(args.seed, "init", args.model))
    model = Regressor(args.model, cfg["hidden"], cfg["layers"])
    optimizer = nn.optim.Adam(model.parameters(), lr=cfg["lr"])
    data_rng = np.random.default_rng(derived_seed(args.seed, "data"))
    test_rng = np.random.default_rng(derived_seed(args.seed, "test"))
    x_test, y_test = map(minigrad.tensor, adding_batch(test_rng, T, 500))

    def step(i: int) -> float:
        x, y = map(minigrad.tensor, adding_batch(data_rng, T, cfg["batch"]))
        loss = nn.functional.mse_loss(model(x), y)
        return update(loss, model, optimizer)

    def evaluate(i: int) -> dict:
        with minigrad.no_grad():
            return {"test_mse": nn.functional.mse_loss(model(x_test), y_test).item()}

    history = trainer.fit(f"{args.model}-T{T}", step, cfg["steps"], model, optimizer,
                          data_rng=data_rng, evaluate=evaluate, eval_every=cfg["eval_every"])
    return model, history.last("test_mse")


def loss_with_gradients(model: Regressor, x, y, chunks: int = 1):
    """Forward ``x`` (in ``chunks`` truncated-BPTT pieces), then backward while recording the
    gradient norm at every node. Returns the loss and each earlier chunk's final state (the
    loss's graph does not reach them: pass them to ``draw`` to see those chunks too)."""
    state, earlier = None, []
    for piece in np.array_split(np.arange(x.shape[0]), chunks):
        if state is not None:
            earlier += list(state) if isinstance(state, tuple) else [state]
        state = nn.utils.detach_state(state)        # the cut between chunks
        outputs, state = model.rnn(x[int(piece[0]):int(piece[-1]) + 1], state)
    loss = nn.functional.mse_loss(model.head(outputs[-1]).reshape(-1), y)
    model.zero_grad()
    with minigrad.record_grads():
        loss.backward()
    return loss, earlier


def save_all(graph, out, name: str) -> list[str]:
    """Write ``name.svg`` and ``name.png``: only ``name.dot`` if Graphviz's ``dot`` is missing
    (``viz.save`` then warns each time; ``main`` says it once)."""
    written = []
    for fmt in FORMATS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            written.append(viz.save(graph, out / f"{name}.{fmt}").name)
        for w in caught:
            if not issubclass(w.category, viz.GraphvizMissingWarning):
                print(f"note: {w.message}")
    return sorted(set(written))


def draw_pictures(model: Regressor, x, y, title: str, out) -> tuple[dict, list[str]]:
    """The four pictures (cells, gates, ops, tbptt: see the top of this file); returns each
    graph's number of nodes and the files written."""
    params = dict(model.named_parameters())
    nodes, files = {}, []

    def picture(file_name: str, key: str, loss, *earlier_chunks, detail: str, title: str):
        graph = viz.draw(loss, *earlier_chunks, params=params, detail=detail, grads=True,
                         title=title)
        nodes[key] = len(graph.records.nodes)
        files.extend(save_all(graph, out, file_name))

    loss, _ = loss_with_gradients(model, x, y)
    picture("cells", "cell", loss, detail="cell", title=title)
    picture("gates", "gate", loss, detail="gate", title=title)

    x_few = x[:3]
    loss, _ = loss_with_gradients(model, x_few, y)
    picture("ops", "op", loss, detail="op",
            title=f"every op of the first {x_few.shape[0]} steps; colour: ||dL/dv||")

    loss, first_chunk = loss_with_gradients(model, x, y, chunks=2)
    picture("tbptt", "tbptt", loss, *first_chunk, detail="gate",
            title="truncated BPTT: two chunks, state detached between them")
    return nodes, sorted(files)


def main(argv: list[str] | None = None) -> dict:
    parser = cli.parser("draw_lstm", __doc__)
    parser.add_argument("--model", choices=list(LAYERS), default="lstm",
                        help=f"which cell to draw, from {', '.join(LAYERS)} (default lstm)")
    parser.add_argument("--length", type=cli.positive_int, help="sequence length T (default 6)")
    parser.add_argument("--layers", type=cli.positive_int, help="stacked layers (default 1)")
    parser.add_argument("--hidden", type=cli.positive_int, help="units per layer (default 8)")
    args = cli.parse(parser, argv)
    cfg = dict(QUICK if args.quick else FULL)
    cfg.update({k: v for k, v in (("length", args.length), ("layers", args.layers),
                                  ("hidden", args.hidden), ("steps", args.steps)) if v is not None})
    if cfg["length"] < 4:
        raise cli.UsageError(f"--length: T must be at least 4 (two chunks of two), "
                             f"got {cfg['length']}")
    trainer = Trainer(args, config={k: v for k, v in cfg.items() if k != "steps"}
                      | {"seed": args.seed, "model": args.model})
    model, test_mse = train(cfg, args, trainer)

    drawn_rng = np.random.default_rng(derived_seed(args.seed, "drawn batch"))
    x, y = map(minigrad.tensor, adding_batch(drawn_rng, cfg["length"], 4))
    name = args.model.upper() if args.model in ("rnn", "lstm", "gru") else f"{args.model} LSTM"
    title = (f"trained {name}, {cfg['layers']} layer(s) x {cfg['hidden']} units, adding problem "
             f"T = {cfg['length']} (test MSE {test_mse:.4f}); colour: ||dL/dv||")
    nodes, files = draw_pictures(model, x, y, title, args.out)
    if any(f.endswith(".dot") for f in files):
        print("note: Graphviz's `dot` program was not found, so each picture was written as its "
              "DOT source (.dot), not as .svg and .png; install Graphviz to render them "
              "(`sudo apt-get install graphviz`, `brew install graphviz` or `conda install graphviz`)")

    summary = {"model": args.model, "test_mse": test_mse, "baseline": BASELINE,
               "length": cfg["length"], "layers": cfg["layers"], "hidden": cfg["hidden"],
               "nodes": nodes, "files": files, "seed": args.seed}
    finish(args.out, summary, f"draw_lstm: drew a trained {args.model} (test MSE {test_mse:.4f}) "
           f"at four levels (cells, gates, ops, tbptt); wrote {', '.join(files)}")
    return summary


if __name__ == "__main__":
    sys.exit(cli.run(main))
