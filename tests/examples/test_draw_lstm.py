"""draw_lstm.py: a trained model drawn at three levels of detail, and truncated BPTT."""
from __future__ import annotations

import shutil

from example_runner import assert_png, assert_resume_is_exact


def test_quick_run_draws_a_trained_model(quick_run):
    result = quick_run("draw_lstm")
    summary = result.summary()
    assert summary["test_mse"] < 0.25 * summary["baseline"], summary
    assert summary["nodes"]["cell"] < summary["nodes"]["gate"]
    for name in ("cells", "gates", "ops", "tbptt"):
        if shutil.which("dot"):
            assert_png(result.out / f"{name}.png")
            svg = (result.out / f"{name}.svg").read_text()
            assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
        else:
            assert "digraph" in (result.out / f"{name}.dot").read_text()
    if shutil.which("dot"):
        gates = (result.out / "gates.svg").read_text().lower()
        assert "#f5ee9c" in gates                                 # the essay's yellow layers


def test_resume_continues_exactly(tmp_path):
    args = ["--quick", "--steps", "8", "--checkpoint-every", "3"]
    assert_resume_is_exact("draw_lstm", args, stop_after=4, tmp_path=tmp_path)
