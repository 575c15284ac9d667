"""One checkpoint file per training run, written with ``nn.save`` (atomically: a crash while
saving leaves the previous checkpoint whole) and read with ``nn.load``."""
from __future__ import annotations

from pathlib import Path

import nn

from .cli import UsageError


def save(path: Path, state: dict, meta: dict) -> None:
    """``state``: state dicts (arrays); ``meta``: numbers, lists, strings (step, history, RNGs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nn.save({"state": state, "meta": meta}, path)


def load(path: Path) -> tuple[dict, dict]:
    try:
        saved = nn.load(path)
        return saved["state"], saved["meta"]
    except (ValueError, KeyError, TypeError) as err:
        raise UsageError(f"cannot resume from {path}: {err}") from err
