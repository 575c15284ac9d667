"""sine_wave.py: one-step predictions beat "repeat the last value"; the sine keeps oscillating."""
from __future__ import annotations

from example_runner import assert_png, assert_resume_is_exact


def test_quick_run_learns(quick_run):
    result = quick_run("sine_wave")
    signals = result.summary()["signals"]
    assert set(signals) == {"sine", "two-frequency"}
    for name, r in signals.items():
        assert r["one_step_mse"] < 0.5 * r["repeat_last_mse"], (name, r)
    sine = signals["sine"]
    assert sine["generation_mse"] < 0.25 * sine["signal_std"] ** 2, sine   # a flat line scores ~1
    assert sine["generation_std"] > 0.5 * sine["signal_std"], sine         # it keeps oscillating
    for name in ("predictions", "learning_curves"):
        assert_png(result.out / f"{name}.png")


def test_resume_continues_exactly(tmp_path):
    args = ["--quick", "--signals", "sine", "--steps", "6", "--checkpoint-every", "4"]
    assert_resume_is_exact("sine_wave", args, stop_after=5, tmp_path=tmp_path)
