"""Every example: --help works, and bad arguments give a one-line error and a non-zero exit."""
from __future__ import annotations

import re

import pytest

from example_runner import EXAMPLES, run_example

NAMES = ["adding_problem", "char_lstm", "sine_wave", "copy_memory", "draw_lstm", "demo"]
TUTORIALS = ["from_pytorch"]  # a PyTorch tutorial's own command line (tests/examples/test_from_pytorch.py)
TRAINING = ["adding_problem", "char_lstm", "sine_wave", "copy_memory"]


def test_every_example_is_tested():
    scripts = {p.stem for p in EXAMPLES.glob("*.py")}
    assert scripts == set(NAMES + TUTORIALS)


@pytest.mark.parametrize("name, option, default", [
    ("char_lstm", "--lr", "(default 0.003; 0.01 with --quick)"),
    ("char_lstm", "--hidden", "(default 256; 96 with --quick)"),
    ("sine_wave", "--hidden", "(default 32; 24 with --quick)"),
])
def test_help_gives_the_defaults(name, option, default, tmp_path):
    text = " ".join(run_example(name, "--help", out=tmp_path / "out").stdout.split())
    assert re.search(re.escape(option) + r" \S+ [^-]*" + re.escape(default), text), text


@pytest.mark.parametrize("name", NAMES)
def test_help(name, tmp_path):
    result = run_example(name, "--help", out=tmp_path / "out")
    assert result.returncode == 0, result.stderr
    for flag in ("--device", "--seed", "--quick", "--out"):
        assert flag in result.stdout


def assert_one_line_error(result, *words: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "error" in lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    assert not (result.out / "summary.json").exists()


@pytest.mark.parametrize("name", TRAINING + ["draw_lstm"])
def test_bad_steps(name, tmp_path):
    assert_one_line_error(run_example(name, "--steps", "0", out=tmp_path / "out"),
                          "--steps", "positive")


@pytest.mark.parametrize("args, words", [
    (["--seed", "one"], ["--seed"]),
    (["--seed", "-5"], ["--seed", "non-negative integer, got -5"]),  # NumPy's error named no flag
    (["--checkpoint-every", "-3"], ["--checkpoint-every"]),
    (["--no-such-flag"], ["--no-such-flag"]),
    (["--device", "tpu"], ["--device", "tpu"]),
], ids=["seed-not-int", "negative-seed", "negative-checkpoint", "unknown-flag", "unknown-device"])
def test_bad_common_arguments(args, words, tmp_path):
    assert_one_line_error(run_example("sine_wave", *args, out=tmp_path / "out"), *words)


@pytest.mark.parametrize("name, args, words", [
    ("adding_problem", ["--models", "transformer"], ["--models", "transformer"]),
    ("adding_problem", ["--lengths", "2"], ["--lengths"]),
    ("copy_memory", ["--models", "rnn"], ["--models", "rnn"]),
    ("sine_wave", ["--signals", "square"], ["square"]),
    ("char_lstm", ["--text", "no/such/file.txt"], ["--text", "no/such/file.txt"]),
    ("char_lstm", ["--text", "."], ["--text", "is a folder"]),
    ("char_lstm", ["--corpus", "klingon"], ["--corpus", "klingon"]),
    ("char_lstm", ["--temperature", "0"], ["--temperature"]),
    ("draw_lstm", ["--model", "transformer"], ["--model", "transformer"]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_example_arguments(name, args, words, tmp_path):
    assert_one_line_error(run_example(name, *args, out=tmp_path / "out"), *words)


def test_short_text_file_is_refused(tmp_path):
    text = tmp_path / "tiny.txt"
    text.write_text("to be or not to be\n")
    result = run_example("char_lstm", "--text", str(text), out=tmp_path / "out")
    assert_one_line_error(result, "tiny.txt", "characters")


def test_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    import minigrad

    if minigrad.cuda_available():
        pytest.skip("this machine has a GPU")
    assert_one_line_error(run_example("copy_memory", "--device", "cuda", out=tmp_path / "out"),
                          "--device", "cuda")


def test_progress_bar_shows_the_running_loss(tmp_path):
    result = run_example("adding_problem", "--quick", "--models", "lstm", "--lengths", "5",
                         "--steps", "3", out=tmp_path / "out", progress=True)
    assert result.returncode == 0, result.stderr
    assert "T5-lstm" in result.stderr and "3/3" in result.stderr and "loss" in result.stderr


def test_the_finished_progress_bar_shows_the_last_evaluation(tmp_path):
    result = run_example("sine_wave", "--quick", "--signals", "sine", "--steps", "2",
                         out=tmp_path / "out", progress=True)
    assert result.returncode == 0, result.stderr
    final_mse = result.summary()["signals"]["sine"]["one_step_mse"]
    last_bar = result.stderr.replace("\r", "\n").strip().splitlines()[-1]
    assert "2/2" in last_bar and f"test_mse {final_mse:.4g}" in last_bar, last_bar
