"""Run the example scripts as a learner would: ``python examples/NAME.py ...`` in a subprocess,
and check what they leave behind."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    out: Path

    def summary(self) -> dict:
        return json.loads((self.out / "summary.json").read_text())


def run_example(name: str, *args: str, out: Path, timeout: float = 120, cwd: Path | None = None,
                progress: bool = False) -> Result:
    """Run ``examples/{name}.py`` on the CPU, writing into ``out``."""
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("MINIGRAD_DEVICE", None)
    command = [sys.executable, str(EXAMPLES / f"{name}.py"), "--device", "cpu", "--out", str(out),
               *([] if progress else ["--no-progress"]), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          cwd=cwd or out.parent, env=env)
    return Result(done.returncode, done.stdout, done.stderr, out)


def ok(result: Result) -> Result:
    """The run succeeded; otherwise fail showing what it printed."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def assert_png(path: Path) -> None:
    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_MAGIC, f"{path} is not a PNG file"


def checkpoint_params(out: Path) -> dict:
    """{checkpoint file: {parameter name: array}} for every checkpoint a run left."""
    import nn

    found = {}
    for path in sorted((out / "checkpoints").glob("*.ckpt")):
        saved = nn.load(path, device="cpu")
        found[path.name] = {k: v.numpy() for k, v in saved["state"]["model"].items()}
        found[path.name]["step"] = saved["meta"]["step"]
    return found


def assert_resume_is_exact(name: str, args: list[str], stop_after: int, tmp_path: Path) -> None:
    """Stop with --stop-after, continue with --resume: the summary and every parameter are
    exactly those of an uninterrupted run with the same seed."""
    full = ok(run_example(name, *args, out=tmp_path / "uninterrupted"))
    first = ok(run_example(name, *args, "--stop-after", str(stop_after), out=tmp_path / "resumed"))
    assert "--resume" in first.stdout, first.stdout
    assert not (tmp_path / "resumed" / "summary.json").exists()
    resumed = ok(run_example(name, *args, "--resume", out=tmp_path / "resumed"))
    assert resumed.summary() == full.summary()
    expected, got = checkpoint_params(full.out), checkpoint_params(resumed.out)
    assert got.keys() == expected.keys() and expected
    for file, params in expected.items():
        assert got[file].keys() == params.keys()
        for key, value in params.items():
            assert np.array_equal(got[file][key], value), f"{file}: {key} differs after resuming"
