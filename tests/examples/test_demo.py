"""demo.py: runs every part end to end and says where the pictures are."""
from __future__ import annotations

from example_runner import assert_png, ok, run_example


def test_demo_runs_and_points_at_its_outputs(tmp_path):
    result = ok(run_example("demo", "--steps", "12", out=tmp_path / "demo", timeout=240))
    out = result.out
    for part in ("adding_problem", "char_lstm", "draw_lstm"):
        assert str(out / part) in result.stdout
        assert (out / part / "summary.json").is_file()
    assert_png(out / "adding_problem" / "learning_curves.png")
    assert set(result.summary()) == {"adding_problem", "char_lstm", "draw_lstm"}
    assert result.stdout.strip().splitlines()[-1].startswith("demo finished")
