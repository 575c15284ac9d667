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


def test_without_dot_the_note_comes_once_and_the_last_line_names_the_dot_files(tmp_path):
    import os
    import subprocess
    import sys

    from example_runner import EXAMPLES, ROOT
    env = dict(os.environ, PATH=str(tmp_path / "no-bin"), MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(EXAMPLES / "draw_lstm.py"), "--quick", "--device", "cpu",
                           "--out", str(tmp_path / "out"), "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert output.count("`dot` program was not found") == 1, output
    assert "wrote cells.dot, gates.dot, ops.dot, tbptt.dot" in output.splitlines()[-1]
