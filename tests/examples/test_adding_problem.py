"""adding_problem.py: the LSTM and GRU learn what the vanilla RNN cannot, and say so."""
from __future__ import annotations

from example_runner import assert_png, assert_resume_is_exact, ok, run_example


def test_quick_run_learns_and_draws(quick_run):
    result = quick_run("adding_problem")
    summary = result.summary()
    T = summary["lengths"][0]
    mse = summary["test_mse"][f"T{T}"]
    baseline = summary["baseline"]
    assert abs(baseline - 1 / 6) < 1e-12
    assert mse["lstm"] < 0.1 * baseline, mse
    assert mse["gru"] < 0.1 * baseline, mse
    assert mse["rnn"] > 0.5 * baseline, mse          # the vanilla RNN stays near the baseline
    ratio = summary["grad_norm_ratio_first_last"]      # ||dL/dh_1|| / ||dL/dh_T|| after training
    assert ratio[f"T{T}-rnn"] < 1e-3 < ratio[f"T{T}-lstm"], ratio
    for name in ("learning_curves", "gradient_norms", "lstm_gates"):
        assert_png(result.out / f"{name}.png")
    assert "| lstm |" in (result.out / "results.md").read_text()
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.startswith("adding problem") and str(result.out) in last_line


def test_resume_continues_exactly(tmp_path):
    args = ["--quick", "--models", "rnn", "lstm", "--lengths", "8", "--steps", "12",
            "--checkpoint-every", "5"]
    assert_resume_is_exact("adding_problem", args, stop_after=15, tmp_path=tmp_path)


def test_resume_with_other_settings_is_refused(tmp_path):
    args = ["--quick", "--models", "lstm", "--lengths", "8", "--steps", "4"]
    ok(run_example("adding_problem", *args, "--stop-after", "2", out=tmp_path / "out"))
    result = run_example("adding_problem", *args, "--resume", "--hidden", "7", out=tmp_path / "out")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "different settings (hidden)" in result.stderr


def test_diverging_run_draws_its_gates_without_warnings(tmp_path):
    """A learning rate far too large saturates every gate: the gate picture is still drawn, with
    no NumPy overflow or divide-by-zero warnings (the gates are recomputed overflow-free, and a
    constant unit correlates with nothing)."""
    args = ["--quick", "--models", "lstm", "--lengths", "8", "--steps", "5", "--lr", "1e6"]
    result = ok(run_example("adding_problem", *args, out=tmp_path / "out"))
    assert "Warning" not in result.stderr, result.stderr
    assert "T8-lstm: training diverged: the loss rose from" in result.stdout  # (it said nothing)
    assert_png(result.out / "lstm_gates.png")


def test_irnn_starts_at_the_identity_and_carries_its_state():
    """`--models irnn` (Le et al. 2015): ReLU units, weight_hh = I, biases 0, so with a zero
    input the state passes through a step unchanged (a tanh RNN's would shrink)."""
    import sys

    import numpy as np

    import minigrad
    from example_runner import EXAMPLES

    sys.path.insert(0, str(EXAMPLES))
    import adding_problem

    layer = adding_problem.LAYERS["irnn"](2, 5, 2)
    assert layer.nonlinearity == "relu"
    for name, p in layer.named_parameters():
        if name.startswith("weight_hh"):
            assert np.array_equal(p.numpy(), np.eye(5)), name
        elif name.startswith("bias"):
            assert not p.numpy().any(), name
    assert "irnn" not in adding_problem.FULL["models"]     # the default run is unchanged
    one_layer = adding_problem.LAYERS["irnn"](2, 5)
    h0 = minigrad.rand(1, 3, 5)                            # non-negative, as ReLU states are
    _, h_n = one_layer(minigrad.zeros(1, 3, 2), h0)
    assert np.allclose(h_n.numpy(), h0.numpy())


def test_irnn_runs_from_the_command_line(tmp_path):
    result = ok(run_example("adding_problem", "--quick", "--models", "rnn", "irnn",
                            "--lengths", "8", "--steps", "3", out=tmp_path / "out"))
    assert set(result.summary()["test_mse"]["T8"]) == {"rnn", "irnn"}
