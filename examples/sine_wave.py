"""Next-step prediction of a noisy sine wave and of a two-frequency signal.

An LSTM reads a signal one value at a time and, at every step, predicts the next value:

    sine:           s_n = sin(2 pi n / 40)                          + noise
    two-frequency:  s_n = sin(2 pi n / 40) + 0.5 sin(2 pi n / 13.7)  + noise,  noise ~ N(0, 0.05^2)

Two ways to read the result:

* one step ahead (teacher forcing): the model always sees the true past. Its error cannot go
  below the noise variance (0.0025); "repeat the last value" is the baseline to beat.
* closed loop (generation): after a warm-up on the true signal the model's own prediction is
  fed back as the next input. Errors now compound; a model that learned the dynamics keeps
  the oscillation going, one that learned "copy the input" flattens out.

    python examples/sine_wave.py --quick
"""
from __future__ import annotations

import common  # noqa: F401  (first: before NumPy loads; see common/__init__.py)

import sys

import numpy as np

import minigrad
import nn
from common import cli, plotting
from common.summary import finish
from common.training import Trainer, derived_seed, forward_of, update

NOISE = 0.05
SIGNALS = {
    "sine": lambda n: np.sin(2 * np.pi * n / 40),
    "two-frequency": lambda n: np.sin(2 * np.pi * n / 40) + 0.5 * np.sin(2 * np.pi * n / 13.7),
}
FULL = dict(signals=list(SIGNALS), hidden=32, batch=32, window=80, lr=1e-2, steps=800,
            eval_every=100, train_length=4000, warmup=80, generate=200)
QUICK = dict(signals=list(SIGNALS), hidden=24, batch=16, window=60, lr=2e-2, steps=120,
             eval_every=40, train_length=2000, warmup=60, generate=100)


def make_series(signal: str, start: int, length: int, rng: np.random.Generator):
    """(clean, noisy) float32 arrays of ``length`` samples from index ``start`` on."""
    clean = SIGNALS[signal](np.arange(start, start + length)).astype(np.float32)
    return clean, (clean + rng.normal(0.0, NOISE, length)).astype(np.float32)


class Forecaster(nn.Module):
    """x (T, N, 1) -> predictions of x_{t+1} (T, N, 1): an LSTM and a linear read-out."""

    def __init__(self, hidden: int):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x, state=None):
        outputs, state = self.lstm(x, state)
        return self.head(outputs), state


def as_input(values: np.ndarray):
    """A 1-d series as a (T, 1, 1) tensor: one sequence, one feature."""
    return minigrad.tensor(np.asarray(values, dtype=np.float32).reshape(-1, 1, 1))


def one_step_predictions(model: Forecaster, series: np.ndarray) -> np.ndarray:
    """Prediction of series[t + 1] after reading series[:t + 1], for every t."""
    with minigrad.no_grad():
        predictions, _ = model(as_input(series))
    return predictions.numpy().reshape(-1)


def generate(model: Forecaster, warmup: np.ndarray, n: int) -> np.ndarray:
    """Read ``warmup``, then feed each prediction back in as the next input, ``n`` times."""
    with minigrad.no_grad():
        prediction, state = model(as_input(warmup))
        values = []
        for _ in range(n):
            value = prediction[-1:]
            values.append(value.item())
            prediction, state = model(value, state)
    return np.array(values)


def train_signal(signal: str, cfg: dict, args, trainer: Trainer) -> dict:
    """Train on random windows of one signal; evaluate one step ahead and in closed loop."""
    minigrad.manual_seed(derived_seed(args.seed, "init", signal))
    model = Forecaster(cfg["hidden"])
    optimizer = nn.optim.Adam(model.parameters(), lr=cfg["lr"])
    data_rng = np.random.default_rng(derived_seed(args.seed, "data", signal))
    train_rng = np.random.default_rng(derived_seed(args.seed, "train series", signal))
    test_rng = np.random.default_rng(derived_seed(args.seed, "test series", signal))
    _, train = make_series(signal, 0, cfg["train_length"], train_rng)
    test_clean, test = make_series(signal, cfg["train_length"], 1000, test_rng)
    W = cfg["window"]

    forward = forward_of(model, args)  # the model, or traced (--trace)

    def step(i: int) -> float:
        starts = data_rng.integers(0, len(train) - W - 1, size=cfg["batch"])
        windows = np.stack([train[s:s + W + 1] for s in starts], axis=1)[..., None]  # (W+1, N, 1)
        predictions, _ = forward(minigrad.tensor(windows[:-1]))
        loss = nn.functional.mse_loss(predictions, minigrad.tensor(windows[1:]))
        return update(loss, model, optimizer, max_norm=1.0)

    def evaluate(i: int) -> dict:
        errors = one_step_predictions(model, test)[:-1] - test[1:]
        return {"test_mse": float(np.mean(errors ** 2))}

    history = trainer.fit(signal, step, cfg["steps"], model, optimizer, data_rng=data_rng,
                          evaluate=evaluate, eval_every=cfg["eval_every"])
    predicted = one_step_predictions(model, test)[:-1]
    warm, n = cfg["warmup"], cfg["generate"]
    generated = generate(model, test[:warm], n)
    return {"history": history, "test": test, "test_clean": test_clean, "predicted": predicted,
            "generated": generated,
            "one_step_mse": float(np.mean((predicted - test[1:]) ** 2)),
            "repeat_last_mse": float(np.mean((test[:-1] - test[1:]) ** 2)),
            "generation_mse": float(np.mean((generated - test_clean[warm:warm + n]) ** 2)),
            "generation_std": float(np.std(generated)),
            "signal_std": float(np.std(test_clean[warm:warm + n]))}


def plot_signals(results: dict, cfg: dict, out):
    fig, axes = plotting.figure(ncols=2, nrows=len(results), width=6.5, height=3.0)
    warm, n = cfg["warmup"], cfg["generate"]
    for row, (signal, r) in zip(axes, results.items()):
        t = np.arange(1, 161)
        row[0].plot(t, r["test"][1:161], ".", color="gray", ms=3, label="noisy truth")
        row[0].plot(t, r["predicted"][:160], color="tab:blue", label="one-step prediction")
        row[0].set(title=f"{signal}: one step ahead (MSE {r['one_step_mse']:.4f})", xlabel="t")
        t_warm, t_gen = np.arange(warm), np.arange(warm, warm + n)
        row[1].plot(t_warm, r["test"][:warm], color="gray", label="warm-up (true input)")
        row[1].plot(t_gen, r["test_clean"][warm:warm + n], color="black", lw=1, label="clean truth")
        row[1].plot(t_gen, r["generated"], color="tab:red", label="closed-loop generation")
        row[1].axvline(warm, color="black", ls=":", lw=1)
        row[1].set(title=f"{signal}: closed loop (MSE {r['generation_mse']:.3f})", xlabel="t")
        for ax in row:
            ax.legend(fontsize=7, loc="upper right")
    return plotting.save(fig, out / "predictions.png")


def plot_learning_curves(results: dict, out):
    fig, axes = plotting.figure(width=6.0)
    ax = axes[0, 0]
    for signal, r in results.items():
        plotting.learning_curve(ax, r["history"].losses, signal)
    ax.axhline(NOISE ** 2, color="black", ls="--", lw=1, label="noise variance")
    ax.set(title="next-step prediction: training MSE", xlabel="training step", ylabel="MSE",
           yscale="log")
    ax.legend(fontsize=8)
    return plotting.save(fig, out / "learning_curves.png")


def main(argv: list[str] | None = None) -> dict:
    parser = cli.parser("sine_wave", __doc__, traced=True)
    parser.add_argument("--signals", nargs="+", choices=list(SIGNALS), metavar="SIGNAL",
                        help=f"which signals, from {', '.join(SIGNALS)}")
    parser.add_argument("--hidden", type=cli.positive_int,
                        help=f"LSTM units (default {FULL['hidden']}; {QUICK['hidden']} with --quick)")
    args = cli.parse(parser, argv)
    cfg = dict(QUICK if args.quick else FULL)
    cfg.update({k: v for k, v in (("signals", args.signals), ("hidden", args.hidden),
                                  ("steps", args.steps)) if v is not None})
    trainer = Trainer(args, config={k: v for k, v in cfg.items() if k not in ("signals", "steps")}
                      | {"seed": args.seed})
    results = {s: train_signal(s, cfg, args, trainer) for s in cfg["signals"]}
    plot_signals(results, cfg, args.out)
    plot_learning_curves(results, args.out)
    keys = ("one_step_mse", "repeat_last_mse", "generation_mse", "generation_std", "signal_std")
    summary = {"noise_variance": NOISE ** 2, "steps": cfg["steps"], "seed": args.seed,
               "signals": {s: {k: r[k] for k in keys} for s, r in results.items()}}
    finish(args.out, summary, "sine wave: one-step MSE " + ", ".join(
        f"{s} {r['one_step_mse']:.4f} (repeat-last {r['repeat_last_mse']:.4f})"
        for s, r in results.items()) + f"; noise variance {NOISE ** 2:.4f}")
    return summary


if __name__ == "__main__":
    sys.exit(cli.run(main))
