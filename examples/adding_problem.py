"""The adding problem: the essay's central claim, measured.

Olah's essay says a plain RNN cannot carry information across long gaps, and an LSTM can.
Here is a task that needs exactly that. Each input step carries two numbers: a value drawn
from U[0, 1] and a marker (0 or 1). Exactly two steps are marked, one in each half of the
sequence. After reading all T steps the network must output the sum of the two marked values:

    x_t = (v_t, m_t),   v_t ~ U[0, 1],   target = sum_t v_t m_t

Predicting 1 (the mean of the sum) whatever the input scores MSE = Var(v_1 + v_2) = 2/12
= 0.167: that is the baseline a network that learned nothing useful sits at. The first
marker is at least T/2 steps before the answer, so the gradient that would teach the
network to remember it has to flow back through T/2 or more steps of the recurrence.

This script trains a vanilla (tanh) RNN, an LSTM, a GRU and two LSTM variants (peephole,
coupled input-forget gates) for T in {50, 100, 200} (`--models irnn` adds Le et al.'s IRNN,
a ReLU RNN started at the identity) and writes:

* learning_curves.png  training loss per model, per T, with the 0.167 baseline;
* results.md           final test MSE, models x T;
* gradient_norms.png   ||dL/dh_t|| against t: the vanishing gradient, seen;
* lstm_gates.png       the trained LSTM's input and forget gates over one sequence.

    python examples/adding_problem.py --quick
    python examples/adding_problem.py --models lstm gru --lengths 100
"""
from __future__ import annotations

import common  # noqa: F401  (first: before NumPy loads; see common/__init__.py)

import sys
from pathlib import Path

import numpy as np

import minigrad
import nn
from common import cli, plotting
from common.summary import finish, write_text
from common.training import History, Trainer, derived_seed, forward_of, update

BASELINE = 2.0 / 12.0


def irnn(input_size: int, hidden_size: int, num_layers: int = 1) -> nn.RNN:
    """Le, Jaitly & Hinton's IRNN (2015): ReLU units whose recurrent matrices start as the
    identity and biases at zero, so that at first h_t = relu(h_{t-1} + x_t W_ih^T) carries the
    state, and its gradient, through time unchanged."""
    layer = nn.RNN(input_size, hidden_size, num_layers=num_layers, nonlinearity="relu")
    for name, p in layer.named_parameters():
        if name.startswith("weight_hh"):
            p.data[...] = np.eye(hidden_size)
        elif name.startswith("bias"):
            nn.init.zeros_(p)
    return layer


LAYERS = {  # the LSTMs start with their forget gates open (bias 1): remember by default
    "rnn": lambda i, h, n=1: nn.RNN(i, h, num_layers=n, nonlinearity="tanh"),
    "lstm": lambda i, h, n=1: nn.LSTM(i, h, num_layers=n, forget_bias=1.0),
    "gru": lambda i, h, n=1: nn.GRU(i, h, num_layers=n),
    "peephole": lambda i, h, n=1: nn.LSTM(i, h, num_layers=n, cell=nn.PeepholeLSTMCell,
                                          forget_bias=1.0),
    "coupled": lambda i, h, n=1: nn.LSTM(i, h, num_layers=n, cell=nn.CoupledLSTMCell,
                                         forget_bias=1.0),
    "irnn": irnn,   # not in the default run: `--models rnn irnn lstm` (docs/faq.md, IRNNs)
}
FULL = dict(models=["rnn", "lstm", "gru", "peephole", "coupled"], lengths=[50, 100, 200],
            hidden=32, batch=32, lr=1e-2, steps=2000, test_size=1000, eval_every=100)
QUICK = dict(models=["rnn", "lstm", "gru"], lengths=[30], hidden=32, batch=32, lr=1e-2,
             steps=600, test_size=500, eval_every=100)


# --- the task -------------------------------------------------------------------------------
def adding_batch(rng: np.random.Generator, T: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of length ``T``: inputs (T, n, 2) and targets (n,)."""
    values = rng.uniform(0.0, 1.0, size=(T, n))
    markers = np.zeros((T, n))
    first = rng.integers(0, T // 2, size=n)
    second = rng.integers(T // 2, T, size=n)
    markers[first, np.arange(n)] = 1.0
    markers[second, np.arange(n)] = 1.0
    x = np.stack([values, markers], axis=-1).astype(np.float32)
    y = (values * markers).sum(axis=0).astype(np.float32)
    return x, y


# --- the model ------------------------------------------------------------------------------
class Regressor(nn.Module):
    """A recurrent layer reads the sequence; a linear layer turns its last output into a number."""

    def __init__(self, kind: str, hidden: int, layers: int = 1):
        super().__init__()
        self.rnn = LAYERS[kind](2, hidden, layers)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        outputs, _ = self.rnn(x)              # (T, N, hidden): h_t for every t
        return self.head(outputs[-1]).reshape(-1)


def hidden_gradient_norms(model: Regressor, x, y) -> list[float]:
    """||dL/dh_t|| for t = 1..T (mean over the batch).

    The layer is stepped one time step per call, so each h_t is a tensor we can hold; the
    gradient minigrad.grad returns for it is the total one: everything that h_t influenced later.
    """
    state, hs = None, []
    warn_after = nn.utils.set_graph_growth_warning(None)   # the chain of T calls is the point here
    try:
        for t in range(x.shape[0]):
            _, state = model.rnn(x[t:t + 1], state)
            hs.append(state[0] if isinstance(state, tuple) else state)   # LSTM state is (h, c)
    finally:
        nn.utils.set_graph_growth_warning(warn_after)
    loss = nn.functional.mse_loss(model.head(hs[-1][-1]).reshape(-1), y)
    grads = minigrad.grad(loss, hs)
    return [float(np.linalg.norm(g.numpy()[-1], axis=-1).mean()) for g in grads]


def lstm_gates(lstm, x) -> dict[str, np.ndarray]:
    """Recompute a one-layer LSTM's gates and cell state from its weights, the essay's equations
    in PyTorch's layout (rows of weight_ih_l0 and weight_hh_l0 are the i, f, g, o blocks):

        [a_i; a_f; a_g; a_o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
        i_t = sigmoid(a_i),  f_t = sigmoid(a_f),  g_t = tanh(a_g)
        C_t = f_t * C_{t-1} + i_t * g_t

    Returns arrays of shape (T, N, hidden): "input" (i_t), "forget" (f_t) and "cell" (C_t).
    """
    with minigrad.no_grad():
        outputs, _ = lstm(x)
        h_prev = minigrad.concat([minigrad.zeros_like(outputs[:1]), outputs[:-1]], axis=0)
        pre = (x @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h_prev @ lstm.weight_hh_l0.T
               + lstm.bias_hh_l0)
        a_i, a_f, a_g, _ = pre.chunk(4, axis=-1)
        i, f, g = a_i.sigmoid().numpy(), a_f.sigmoid().numpy(), a_g.tanh().numpy()
    cell = np.zeros_like(i)
    for t in range(len(i)):
        cell[t] = f[t] * (cell[t - 1] if t else 0.0) + i[t] * g[t]
    return {"input": i, "forget": f, "cell": cell}


# --- training ----------------------------------------------------------------------------------
def train_model(kind: str, T: int, cfg: dict, args, trainer: Trainer) -> dict:
    """Train one model on sequences of length T; return its history and final test MSE."""
    minigrad.manual_seed(derived_seed(args.seed, "init", kind, T))
    model = Regressor(kind, cfg["hidden"])
    optimizer = nn.optim.Adam(model.parameters(), lr=cfg["lr"])
    data_rng = np.random.default_rng(derived_seed(args.seed, "data", T))   # same for every kind
    test_rng = np.random.default_rng(derived_seed(args.seed, "test", T))
    x_test, y_test = map(minigrad.tensor, adding_batch(test_rng, T, cfg["test_size"]))
    x_probe, y_probe = x_test[:, :64], y_test[:64]

    forward = forward_of(model, args)  # the model, or traced (--trace)

    def step(i: int) -> float:
        x, y = map(minigrad.tensor, adding_batch(data_rng, T, cfg["batch"]))
        loss = nn.functional.mse_loss(forward(x), y)
        return update(loss, model, optimizer, max_norm=1.0)

    def evaluate(i: int) -> dict:
        with minigrad.no_grad():
            return {"test_mse": nn.functional.mse_loss(model(x_test), y_test).item()}

    history = History(notes={"grad_norms_init": hidden_gradient_norms(model, x_probe, y_probe)})
    history = trainer.fit(f"T{T}-{kind}", step, cfg["steps"], model, optimizer, data_rng=data_rng,
                          evaluate=evaluate, eval_every=cfg["eval_every"], history=history)
    return {"model": model, "history": history, "test_mse": history.last("test_mse"),
            "grad_norms_init": history.notes["grad_norms_init"],
            "grad_norms_trained": hidden_gradient_norms(model, x_probe, y_probe),
            "x_test": x_test, "y_test": y_test}


# --- pictures ----------------------------------------------------------------------------------
def plot_learning_curves(results: dict, out: Path) -> Path:
    lengths = sorted({T for T, _ in results})
    fig, axes = plotting.figure(ncols=len(lengths), width=5.0)
    for ax, T in zip(axes[0], lengths):
        for (t, kind), r in results.items():
            if t == T:
                plotting.learning_curve(ax, r["history"].losses, kind, plotting.COLORS.get(kind))
        plotting.baseline(ax, BASELINE, "predict 1 (0.167)")
        ax.set(title=f"adding problem, T = {T}", xlabel="training step", ylabel="MSE", yscale="log")
        ax.legend(fontsize=8)
    return plotting.save(fig, out / "learning_curves.png")


def plot_gradient_norms(results: dict, T: int, out: Path) -> Path:
    fig, axes = plotting.figure(ncols=2, width=5.5)
    for ax, key, title in zip(axes[0], ("grad_norms_init", "grad_norms_trained"),
                              ("at initialisation", "after training")):
        for (t, kind), r in results.items():
            if t == T:
                ax.plot(np.arange(1, T + 1), r[key], label=kind, color=plotting.COLORS.get(kind))
        ax.set(title=f"||dL/dh_t||, T = {T}, {title}", xlabel="time step t", yscale="log")
        ax.legend(fontsize=8)
    return plotting.save(fig, out / "gradient_norms.png")


def plot_lstm_gates(r: dict, out: Path) -> Path:
    """Gates of the trained LSTM over one test sequence. Units are sorted by how well their
    final cell state C_T predicts the target (over the whole test set): the top rows are the
    units that do the remembering."""
    gates = lstm_gates(r["model"].rnn, r["x_test"])
    final_cells, targets = gates["cell"][-1], r["y_test"].numpy()
    with np.errstate(divide="ignore", invalid="ignore"):  # a saturated unit is constant: NaN -> 0
        relevance = np.nan_to_num([abs(np.corrcoef(final_cells[:, j], targets)[0, 1])
                                   for j in range(final_cells.shape[1])])
    order = np.argsort(-relevance)
    best = order[0]
    x = r["x_test"].numpy()[:, 0]
    values, marked = x[:, 0], np.flatnonzero(x[:, 1])
    steps = np.arange(len(values))

    fig, axes = plotting.figure(nrows=4, width=9.0, height=2.3, sharex=True)
    ax = axes[0, 0]
    ax.bar(steps, values, color="lightgray", label="value v_t")
    ax.bar(marked, values[marked], color="crimson", label="marked values")
    ax.set(title=f"one test sequence: target {values[marked].sum():.3f}", ylabel="v_t")
    ax.legend(fontsize=8, loc="upper right")
    for ax, name in zip(axes[1:3, 0], ("input", "forget")):
        image = ax.imshow(gates[name][:, 0, order].T, aspect="auto", cmap="viridis", vmin=0,
                          vmax=1, interpolation="nearest")
        ax.plot(marked, [-0.5] * len(marked), "v", color="crimson", ms=7, clip_on=False)
        ax.set(ylabel=f"{name} gate\nunit (sorted)")
    fig.colorbar(image, ax=axes[1:3, 0].tolist(), pad=0.01, fraction=0.03, label="gate value")
    ax = axes[3, 0]
    ax.plot(steps, gates["input"][:, 0, best], color="tab:green", label="input gate i_t")
    ax.plot(steps, gates["forget"][:, 0, best], color="tab:blue", label="forget gate f_t")
    ax.plot(steps, gates["cell"][:, 0, best], color="black", label="cell state C_t")
    for m in marked:
        ax.axvline(m, color="crimson", lw=0.8, ls=":")
    ax.set(title=f"unit {best}, the one whose C_T tracks the target best "
                 f"(|correlation| {relevance[best]:.2f})", xlabel="time step t (red: marked steps)")
    ax.legend(fontsize=8, loc="center left")
    return plotting.save(fig, out / "lstm_gates.png")


def results_table(results: dict, models: list, lengths: list) -> str:
    lines = ["| model | " + " | ".join(f"T = {T}" for T in lengths) + " |",
             "|---|" + "---|" * len(lengths)]
    for kind in models:
        cells = [f"{results[(T, kind)]['test_mse']:.4f}" for T in lengths]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + f"\n\nBaseline (always predict 1): {BASELINE:.4f}\n"


# --- main --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict:
    parser = cli.parser("adding_problem", __doc__, traced=True)
    parser.add_argument("--models", nargs="+", choices=list(LAYERS), metavar="MODEL",
                        help=f"which models to train, from {', '.join(LAYERS)}")
    parser.add_argument("--lengths", nargs="+", type=cli.positive_int, metavar="T",
                        help="sequence lengths (default 50 100 200)")
    parser.add_argument("--hidden", type=cli.positive_int, help="hidden units (default 32)")
    parser.add_argument("--lr", type=cli.positive_float, help="Adam learning rate (default 0.01)")
    args = cli.parse(parser, argv)
    cfg = dict(QUICK if args.quick else FULL)
    cfg.update({k: v for k, v in (("models", args.models), ("lengths", args.lengths),
                                  ("hidden", args.hidden), ("lr", args.lr),
                                  ("steps", args.steps)) if v is not None})
    if any(T < 4 for T in cfg["lengths"]):
        raise cli.UsageError(f"--lengths: each T must be at least 4, got {cfg['lengths']}")
    trainer = Trainer(args, config={k: cfg[k] for k in ("hidden", "batch", "lr", "test_size",
                                                         "eval_every")} | {"seed": args.seed})

    results = {}
    for T in cfg["lengths"]:
        for kind in cfg["models"]:
            results[(T, kind)] = train_model(kind, T, cfg, args, trainer)

    out = args.out
    plot_learning_curves(results, out)
    T_focus = 100 if 100 in cfg["lengths"] else max(cfg["lengths"])
    plot_gradient_norms(results, T_focus, out)
    if (T_focus, "lstm") in results:
        plot_lstm_gates(results[(T_focus, "lstm")], out)
    table = results_table(results, cfg["models"], cfg["lengths"])
    write_text(out / "results.md", "# Adding problem: final test MSE\n\n" + table)
    print("\n" + table)

    summary = {"baseline": BASELINE, "lengths": cfg["lengths"], "models": cfg["models"],
               "steps": cfg["steps"], "seed": args.seed,
               "test_mse": {f"T{T}": {k: results[(T, k)]["test_mse"] for k in cfg["models"]}
                            for T in cfg["lengths"]},
               "final_train_loss": {f"T{T}-{k}": r["history"].losses[-1]
                                    for (T, k), r in results.items()},
               "grad_norm_ratio_first_last": {
                   f"T{T}-{k}": r["grad_norms_trained"][0] / r["grad_norms_trained"][-1]
                   for (T, k), r in results.items()}}
    focus = summary["test_mse"][f"T{T_focus}"]
    finish(out, summary, f"adding problem, T={T_focus}: test MSE "
           + ", ".join(f"{k} {v:.4f}" for k, v in focus.items()) + f" (baseline {BASELINE:.3f})")
    return summary


if __name__ == "__main__":
    sys.exit(cli.run(main))
