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


STATE_KEYS = ("model", "optimizer", "carry")
META_KEYS = ("config", "step", "losses", "metrics", "notes", "minigrad_rng", "data_rng")


def load(path: Path) -> tuple[dict, dict]:
    """``(state, meta)`` as :func:`save` wrote them; a UsageError (one line) for a file that is
    unreadable or was not written by :func:`save` (a key of ``state`` or ``meta`` missing)."""
    try:
        saved = nn.load(path)
    except ValueError as err:
        raise UsageError(f"cannot resume from {path}: {err}") from err
    state = saved.get("state") if isinstance(saved, dict) else None
    meta = saved.get("meta") if isinstance(saved, dict) else None
    if not isinstance(state, dict) or not isinstance(meta, dict):
        raise UsageError(f"cannot resume from {path}: it is not a checkpoint of these examples "
                         "(no 'state' and 'meta' dicts at its top level)")
    missing = ([f"state.{k}" for k in STATE_KEYS if k not in state]
               + [f"meta.{k}" for k in META_KEYS if k not in meta])
    if missing:
        raise UsageError(f"cannot resume from {path}: it lacks {', '.join(missing)} (not written "
                         "by these examples, or by an older version); run without --resume to "
                         "start over")
    return state, meta
