"""The end of every example: a machine-readable ``summary.json`` and one line for the reader.

Every output file is written atomically (:func:`minigrad.files.write_atomic`): a run stopped
with Ctrl-C while writing leaves the previous file, or none, never half of one.
"""
from __future__ import annotations

import json
from pathlib import Path

from minigrad.files import write_atomic


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` as UTF-8, atomically."""
    write_atomic(path, lambda f: f.write(text.encode("utf-8")))
    return Path(path)


def finish(out: Path, summary: dict, line: str) -> Path:
    """Write ``out/summary.json`` and print ``line`` plus where the outputs are."""
    text = json.dumps(summary, indent=2, sort_keys=True) + "\n"
    path = write_text(Path(out) / "summary.json", text)
    print(f"{line}  [outputs: {out}/]", flush=True)
    return path
