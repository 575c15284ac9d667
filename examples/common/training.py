"""The training loop every example shares: progress bar, checkpoints, exact resume.

    trainer = Trainer(args, config={"hidden": 32, "lr": 1e-2})
    history = trainer.fit("lstm-T100", step, steps=2000, model=model, optimizer=opt,
                          data_rng=rng, evaluate=evaluate, eval_every=100)

``step(i)`` runs training step ``i`` and returns its loss (a float); it usually ends with
``return update(loss, model, optimizer, max_norm=1.0)``. ``evaluate(i)`` returns
``{metric: value}`` and runs every ``eval_every`` steps and after the last one.

A checkpoint holds everything the next step depends on: the model's and the optimizer's
state, minigrad's random generator, the example's NumPy generator for data, any ``carry``
(for example a hidden state passed between truncated-BPTT chunks), the step counter and the
history. So ``--resume`` continues exactly where a run stopped: the numbers that come out are
the ones an uninterrupted run with the same seed gives.
"""
from __future__ import annotations

import json
import math
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

import minigrad
import nn
from minigrad import backend

from . import checkpoint
from .cli import Stopped, UsageError
from .progress import ProgressBar


def update(loss, model, optimizer, max_norm: float | None = None) -> float:
    """One optimizer update from ``loss``: clear the gradients, backpropagate, clip the global
    gradient norm to ``max_norm`` (if given), step. Returns the loss as a float."""
    optimizer.zero_grad()
    loss.backward()
    if max_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item()


def forward_of(model, args):
    """The model itself, or under ``--trace`` the model traced (``minigrad.trace``): called the
    same way, with the same numbers, its forward and backward replayed as NumPy programs."""
    return minigrad.trace(model) if getattr(args, "trace", False) else model


def derived_seed(seed: int, *parts) -> int:
    """A seed for one part of a run ("init", "data", a model name...), so that each part's
    random numbers depend only on ``--seed`` and its own name, not on what ran before it."""
    words = [seed] + [zlib.crc32(str(p).encode()) for p in parts]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


def divergence(losses: list) -> str | None:
    """A line saying that training diverged, or None: the mean loss over the last tenth of the
    steps is over 100 times that over the first tenth (a run that learns goes down, and noise
    does not multiply the loss by 100). A finite loss can still be useless (an MSE of 1e13)."""
    n = max(1, len(losses) // 10)
    first, last = sum(losses[:n]) / n, sum(losses[-n:]) / n
    if len(losses) < 2 or not first > 0 or not last > 100 * first:
        return None
    return (f"training diverged: the loss rose from {first:.3g} to {last:.3g} (means over the "
            f"first and the last {n} of {len(losses)} steps); try a smaller learning rate")


@dataclass
class History:
    """What a run produced so far: the step counter, per-step losses, evaluated metrics."""

    step: int = 0
    losses: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)    # name -> [[step, value], ...]
    notes: dict = field(default_factory=dict)      # anything JSON-able the example keeps

    def last(self, metric: str) -> float:
        return self.metrics[metric][-1][1]

    def series(self, metric: str) -> tuple[list, list]:
        pairs = self.metrics.get(metric, [])
        return [s for s, _ in pairs], [v for _, v in pairs]


class Trainer:
    """Runs training loops for one example invocation; knows the common flags."""

    def __init__(self, args, config: dict):
        self.directory = Path(args.out) / "checkpoints"
        self.every = args.checkpoint_every
        self.resume = args.resume
        self.stop_after = args.stop_after
        self.show_progress = not args.no_progress
        self.config = json.loads(json.dumps(config))   # as read back: tuples become lists
        self.steps_taken = 0

    def path(self, name: str) -> Path:
        return self.directory / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".ckpt")

    def fit(self, name: str, step: Callable[[int], float], steps: int, model, optimizer,
            data_rng: np.random.Generator | None = None, carry=None,
            evaluate: Callable[[int], dict] | None = None, eval_every: int | None = None,
            history: History | None = None) -> History:
        """Train ``model`` for ``steps`` steps (continuing from a checkpoint with --resume)."""
        history = history or History()
        if self.resume and self.path(name).exists():
            self._load(name, history, model, optimizer, data_rng, carry)
        elif self.resume:
            self.write(f"--resume: no checkpoint {self.path(name)}; training {name} from step 0")
        if history.step >= steps:
            return history
        if self.stop_after is not None and self.steps_taken >= self.stop_after:
            raise self._stopped()                  # the models before this one used them all
        bar = ProgressBar(name, total=steps, initial=history.step, enabled=self.show_progress,
                          losses=history.losses)
        try:
            while history.step < steps:
                loss = float(step(history.step))
                if not math.isfinite(loss):
                    raise FloatingPointError(f"{name}: the loss became {loss} at step "
                                             f"{history.step}; try a smaller learning rate")
                history.losses.append(loss)
                history.step += 1
                self.steps_taken += 1
                bar.update(loss)
                due = history.step % (eval_every or steps) == 0 or history.step == steps
                if evaluate and due:
                    for metric, value in evaluate(history.step).items():
                        history.metrics.setdefault(metric, []).append([history.step, float(value)])
                    bar.show_metrics(history.metrics)
                stopping = self.stop_after is not None and self.steps_taken >= self.stop_after
                if history.step % self.every == 0 or history.step == steps or stopping:
                    self._save(name, history, model, optimizer, data_rng, carry)
                if stopping and history.step < steps:
                    raise self._stopped()
        finally:
            bar.close()
        warning = divergence(history.losses)
        if warning is not None:
            self.write(f"{name}: {warning}")
        return history

    def _stopped(self) -> Stopped:
        return Stopped(f"stopped after {self.steps_taken} steps (--stop-after); "
                       f"continue with --resume")

    def write(self, text: str) -> None:
        """Print a line without breaking the progress bars."""
        ProgressBar.write(text)

    # --- checkpoints ---------------------------------------------------------------------
    def _save(self, name, history, model, optimizer, data_rng, carry) -> None:
        meta = {
            "config": self.config,
            "step": history.step,
            "losses": history.losses,
            "metrics": history.metrics,
            "notes": history.notes,
            "minigrad_rng": backend.rng_state(),
            "data_rng": None if data_rng is None else data_rng.bit_generator.state,
        }
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "carry": {} if carry is None else carry.state_dict()}
        checkpoint.save(self.path(name), state, meta)

    def _load(self, name, history, model, optimizer, data_rng, carry) -> None:
        path = self.path(name)
        state, meta = checkpoint.load(path)
        if meta["config"] != self.config:
            changed = sorted(k for k in set(meta["config"]) | set(self.config)
                             if meta["config"].get(k) != self.config.get(k))
            raise UsageError(f"{path} was made with different settings ({', '.join(changed)}); "
                             f"use the same flags, or run without --resume to start over")
        try:  # the same settings, yet other shapes: a checkpoint of another version of the code
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            if carry is not None:
                carry.load_state_dict(state["carry"])
        except (RuntimeError, ValueError, TypeError, KeyError) as err:
            raise UsageError(f"cannot resume from {path}: {err}; run without --resume to start "
                             "over") from err
        backend.set_rng_state(meta["minigrad_rng"])
        if data_rng is not None:
            data_rng.bit_generator.state = meta["data_rng"]
        history.step = meta["step"]
        history.losses = meta["losses"]
        history.metrics = meta["metrics"]
        history.notes = meta["notes"]
