"""The copy (memory) task: remember 10 symbols across a gap of T blanks, then write them out.

    input:   a1 ... a10   0 ... 0 (T - 1 blanks)   9 (go!)   0 ... 0 (10 blanks)
    target:  0 ... 0 (T + 10 blanks)                          a1 ... a10

Symbols a_i are drawn from {1, ..., 8}; 0 is the blank; 9 tells the network to start writing.
The loss is the cross-entropy over all T + 20 steps. A network without memory can still learn
to output blanks and then guess uniformly among 8 symbols, which costs

    baseline = 10 ln 8 / (T + 20)   nats per step,

so "learned" means clearly below that line, and "solved" means the 10 recalled symbols are
right. Unlike the adding problem, the network has to hold 10 x 3 bits, not one number, and
the gate that protects them must stay shut for T steps. We train an LSTM and a GRU at several
gaps T and report where each one gets below the baseline.

    python examples/copy_memory.py --quick
    python examples/copy_memory.py --models gru --gaps 10 50
"""
from __future__ import annotations

import common  # noqa: F401  (first: before NumPy loads; see common/__init__.py)

import math
import sys

import numpy as np

import minigrad
import nn
from common import cli, plotting
from common.summary import finish, write_text
from common.training import Trainer, derived_seed, forward_of, update

SYMBOLS, BLANK, GO = 8, 0, 9      # inputs and targets are ids: 0 blank, 1..8 symbols, 9 go
COPY = 10                         # how many symbols to remember
INPUTS = SYMBOLS + 2              # one-hot input size: blank, the symbols, go
LAYERS = {"lstm": lambda i, h: nn.LSTM(i, h, forget_bias=1.0),   # forget gate starts open
          "gru": lambda i, h: nn.GRU(i, h)}
FULL = dict(models=["lstm", "gru"], gaps=[5, 10, 20], hidden=128, batch=32, lr=1e-2,
            steps=3000, eval_every=100, test_size=500)
QUICK = dict(models=["lstm", "gru"], gaps=[5], hidden=128, batch=32, lr=1e-2,
             steps=500, eval_every=100, test_size=200)


def baseline(T: int) -> float:
    """Nats per step of a network without memory: blanks right, the symbols guessed."""
    return COPY * math.log(SYMBOLS) / (T + 2 * COPY)


def copy_batch(rng: np.random.Generator, T: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs one-hot (T + 20, n, 10) float32 and integer targets (T + 20, n)."""
    symbols = rng.integers(1, SYMBOLS + 1, size=(COPY, n))
    x = np.full((T + 2 * COPY, n), BLANK)
    x[:COPY] = symbols
    x[T + COPY - 1] = GO
    y = np.full((T + 2 * COPY, n), BLANK)
    y[T + COPY:] = symbols
    return np.eye(INPUTS, dtype=np.float32)[x], y


class Copier(nn.Module):
    """A recurrent layer and a linear read-out to 9 classes (blank and the 8 symbols)."""

    def __init__(self, kind: str, hidden: int):
        super().__init__()
        self.rnn = LAYERS[kind](INPUTS, hidden)
        self.head = nn.Linear(hidden, SYMBOLS + 1)

    def forward(self, x):
        outputs, _ = self.rnn(x)
        return self.head(outputs)          # (T + 20, N, 9) logits


def cross_entropy(logits, y):
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                       minigrad.tensor(y.reshape(-1)))


def train_model(kind: str, T: int, cfg: dict, args, trainer: Trainer) -> dict:
    """Train one model at gap T; return its history, test loss and recall accuracy."""
    minigrad.manual_seed(derived_seed(args.seed, "init", kind, T))
    model = Copier(kind, cfg["hidden"])
    optimizer = nn.optim.Adam(model.parameters(), lr=cfg["lr"])
    data_rng = np.random.default_rng(derived_seed(args.seed, "data", T))
    test_rng = np.random.default_rng(derived_seed(args.seed, "test", T))
    x_test, y_test = copy_batch(test_rng, T, cfg["test_size"])

    forward = forward_of(model, args)  # the model, or traced (--trace)

    def step(i: int) -> float:
        x, y = copy_batch(data_rng, T, cfg["batch"])
        loss = cross_entropy(forward(minigrad.tensor(x)), y)
        return update(loss, model, optimizer, max_norm=1.0)

    def evaluate(i: int) -> dict:
        with minigrad.no_grad():
            logits = model(minigrad.tensor(x_test))
            recalled = logits.numpy()[T + COPY:].argmax(axis=-1)
            return {"test_loss": cross_entropy(logits, y_test).item(),
                    "recall_accuracy": float((recalled == y_test[T + COPY:]).mean())}

    history = trainer.fit(f"T{T}-{kind}", step, cfg["steps"], model, optimizer, data_rng=data_rng,
                          evaluate=evaluate, eval_every=cfg["eval_every"])
    return {"history": history, "test_loss": history.last("test_loss"),
            "recall_accuracy": history.last("recall_accuracy"), "baseline": baseline(T)}


def plot_results(results: dict, gaps: list, out):
    fig, axes = plotting.figure(ncols=len(gaps), width=4.5)
    for ax, T in zip(axes[0], gaps):
        for (t, kind), r in results.items():
            if t == T:
                plotting.learning_curve(ax, r["history"].losses, kind, plotting.COLORS[kind])
        plotting.baseline(ax, baseline(T), f"memoryless ({baseline(T):.3f})")
        ax.set(title=f"copy task, gap T = {T}", xlabel="training step",
               ylabel="cross-entropy (nats/step)", yscale="log")
        ax.legend(fontsize=8)
    return plotting.save(fig, out / "learning_curves.png")


def results_table(results: dict, models: list, gaps: list) -> str:
    lines = ["| gap T | baseline | " + " | ".join(f"{m} loss | {m} recall" for m in models) + " |",
             "|---|---|" + "---|---|" * len(models)]
    for T in gaps:
        cells = [f"{results[(T, m)]['test_loss']:.4f} | {results[(T, m)]['recall_accuracy']:.0%}"
                 for m in models]
        lines.append(f"| {T} | {baseline(T):.4f} | " + " | ".join(cells) + " |")
    return ("\n".join(lines) + f"\n\nrecall: fraction of the {COPY} symbols written back "
            f"correctly (chance {1 / SYMBOLS:.1%})\n")


def main(argv: list[str] | None = None) -> dict:
    parser = cli.parser("copy_memory", __doc__, traced=True)
    parser.add_argument("--models", nargs="+", choices=list(LAYERS), metavar="MODEL",
                        help="lstm and/or gru")
    parser.add_argument("--gaps", nargs="+", type=cli.positive_int, metavar="T",
                        help="numbers of blanks between the symbols and the go signal")
    parser.add_argument("--hidden", type=cli.positive_int, help="hidden units (default 128)")
    args = cli.parse(parser, argv)
    cfg = dict(QUICK if args.quick else FULL)
    cfg.update({k: v for k, v in (("models", args.models), ("gaps", args.gaps),
                                  ("hidden", args.hidden), ("steps", args.steps)) if v is not None})
    trainer = Trainer(args, config={k: cfg[k] for k in ("hidden", "batch", "lr", "eval_every",
                                                         "test_size")} | {"seed": args.seed})
    results = {(T, kind): train_model(kind, T, cfg, args, trainer)
               for T in cfg["gaps"] for kind in cfg["models"]}
    plot_results(results, cfg["gaps"], args.out)

    table = results_table(results, cfg["models"], cfg["gaps"])
    write_text(args.out / "results.md", "# Copy task: test cross-entropy and recall\n\n" + table)
    print("\n" + table)
    if args.quick:
        print(f"note: --quick trains {cfg['steps']} steps, where a recall near chance "
              f"({1 / SYMBOLS:.1%}) is expected, the LSTM's especially: it learns the copy later. "
              f"Run without --quick ({FULL['steps']} steps) to see both models learn it.\n")
    summary = {"steps": cfg["steps"], "seed": args.seed, "gaps": cfg["gaps"],
               "models": cfg["models"],
               "results": {f"T{T}-{k}": {key: r[key] for key in ("test_loss", "recall_accuracy",
                                                                 "baseline")}
                           for (T, k), r in results.items()}}
    finish(args.out, summary, "copy task: " + "; ".join(
        f"T={T} {k} loss {r['test_loss']:.3f} vs baseline {r['baseline']:.3f}, recall "
        f"{r['recall_accuracy']:.0%}" for (T, k), r in results.items()))
    return summary


if __name__ == "__main__":
    sys.exit(cli.run(main))
