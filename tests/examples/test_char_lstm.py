"""char_lstm.py: the loss falls well below ln(vocabulary), and the model writes samples."""
from __future__ import annotations

import math

from example_runner import assert_png, assert_resume_is_exact, ok, run_example


def test_quick_run_learns(quick_run):
    result = quick_run("char_lstm")
    summary = result.summary()
    assert abs(summary["ln_vocabulary"] - math.log(summary["vocabulary"])) < 1e-12
    assert summary["val_loss"] < summary["ln_vocabulary"] - 1.5, summary
    assert summary["val_loss"] < summary["unigram_entropy"] - 0.5, summary  # beyond letter counts
    values = [v for _, v in summary["val_history"]]
    assert values == sorted(values, reverse=True)      # validation loss falls at every evaluation
    assert_png(result.out / "loss.png")
    assert len((result.out / "sample.txt").read_text()) > 100
    assert "a sample" in result.stdout


def pattern_text(path):
    lines = [f"line {i}: the quick brown fox jumps over the lazy dog {i % 7}\n" for i in range(120)]
    path.write_text("".join(lines))
    return path


def test_text_file_and_exact_resume(tmp_path):
    text = pattern_text(tmp_path / "fox.txt")
    args = ["--quick", "--text", str(text), "--steps", "6", "--checkpoint-every", "2"]
    assert_resume_is_exact("char_lstm", args, stop_after=3, tmp_path=tmp_path)
    summary = ok(run_example("char_lstm", *args, "--resume", out=tmp_path / "resumed")).summary()
    assert summary["corpus"] == str(text)
    assert summary["vocabulary"] == len(set(text.read_text()))
