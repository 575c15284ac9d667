"""copy_memory.py: below the memoryless baseline, and recalling far more than chance."""
from __future__ import annotations

import math

from example_runner import assert_png, assert_resume_is_exact


def test_quick_run_learns(quick_run):
    result = quick_run("copy_memory")
    summary = result.summary()
    T = summary["gaps"][0]
    runs = {k: summary["results"][f"T{T}-{k}"] for k in summary["models"]}
    assert abs(runs["gru"]["baseline"] - 10 * math.log(8) / (T + 20)) < 1e-12
    best = min(runs.values(), key=lambda r: r["test_loss"])
    assert best["test_loss"] < 0.8 * best["baseline"], runs
    assert best["recall_accuracy"] > 0.3, runs              # chance is 1/8
    assert_png(result.out / "learning_curves.png")
    assert "| gap T |" in (result.out / "results.md").read_text()
    assert "note: --quick trains 500 steps, where a recall near chance (12.5%) is expected" in result.stdout


def test_resume_continues_exactly(tmp_path):
    args = ["--quick", "--gaps", "3", "--hidden", "16", "--steps", "5", "--checkpoint-every", "2"]
    assert_resume_is_exact("copy_memory", args, stop_after=7, tmp_path=tmp_path)
