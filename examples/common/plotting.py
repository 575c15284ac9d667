"""Matplotlib helpers (Agg backend: PNG files, no window): learning curves with a baseline.

Matplotlib is imported on first use, so that ``--help`` and argument errors stay instant.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from minigrad.files import write_atomic

COLORS = {"rnn": "tab:gray", "lstm": "tab:blue", "gru": "tab:orange",
          "peephole": "tab:green", "coupled": "tab:purple", "irnn": "tab:red"}


def pyplot():
    """matplotlib.pyplot, drawing to files only (the Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure(ncols: int = 1, nrows: int = 1, width: float = 6.0, height: float = 4.0, **kw):
    """A new figure with ``nrows x ncols`` axes, each ``width x height`` inches."""
    return pyplot().subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             squeeze=False, layout="constrained", **kw)


def smooth(values, window: int) -> np.ndarray:
    """Moving average over ``window`` steps (shorter at the start)."""
    values = np.asarray(values, dtype=float)
    if window <= 1 or len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(0, idx - window)
    return (cumsum[idx] - cumsum[lo]) / (idx - lo)


def learning_curve(ax, losses, label: str, color: str | None = None, window: int | None = None):
    """Plot per-step training losses, smoothed over ``window`` steps (default: 2% of the run)."""
    window = window or max(1, len(losses) // 50)
    ax.plot(np.arange(1, len(losses) + 1), smooth(losses, window), label=label, color=color, lw=1.4)


def baseline(ax, value: float, label: str) -> None:
    """A dashed horizontal line: what a model that learned nothing useful scores."""
    ax.axhline(value, color="black", ls="--", lw=1, label=label)


def save(fig, path: Path) -> Path:
    """Write ``fig`` as a PNG (atomically, see summary.py) and close it."""
    path = Path(path)
    try:
        write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=110))
    finally:
        pyplot().close(fig)
    return path
