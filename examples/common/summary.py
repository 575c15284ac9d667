"""The end of every example: a machine-readable ``summary.json`` and one line for the reader."""
from __future__ import annotations

import json
from pathlib import Path


def finish(out: Path, summary: dict, line: str) -> Path:
    """Write ``out/summary.json`` and print ``line`` plus where the outputs are."""
    path = Path(out) / "summary.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    print(f"{line}  [outputs: {out}/]", flush=True)
    return path
