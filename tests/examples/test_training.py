"""examples/common/training.py in-process: every source of randomness survives a resume."""
from __future__ import annotations

import sys
from argparse import Namespace
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest

import minigrad
import nn
from example_runner import EXAMPLES

sys.path.insert(0, str(EXAMPLES))
from common import cli, plotting  # noqa: E402
from common.cli import Stopped, UsageError  # noqa: E402
from common.training import Trainer, derived_seed  # noqa: E402


def flags(out, **overrides) -> Namespace:
    values = dict(out=out, checkpoint_every=3, resume=False, stop_after=None, no_progress=True)
    return Namespace(**(values | overrides))


def train(out, steps: int = 10, config: dict | None = None, **overrides):
    """A noisy regression whose every step draws from minigrad's generator (the noise) and
    from a NumPy generator (the data)."""
    minigrad.manual_seed(1)
    model = nn.Linear(3, 1)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    data_rng = np.random.default_rng(2)

    def step(i: int) -> float:
        x = minigrad.tensor(data_rng.normal(size=(8, 3)).astype(np.float32))
        noise = minigrad.randn(8, 1) * 0.1
        loss = nn.functional.mse_loss(model(x) + noise, x.sum(axis=1, keepdims=True))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    trainer = Trainer(flags(out, **overrides), config or {"lr": 0.05})
    history = trainer.fit("run", step, steps, model, optimizer, data_rng=data_rng,
                          evaluate=lambda i: {"w0": model.weight.numpy()[0, 0]}, eval_every=4)
    return history, model.weight.numpy().copy()


def test_resume_is_exact_in_process(tmp_path):
    full, weight = train(tmp_path / "full")
    with pytest.raises(Stopped):
        train(tmp_path / "cut", stop_after=5)
    resumed, resumed_weight = train(tmp_path / "cut", resume=True)
    assert resumed.losses == full.losses
    assert resumed.metrics == full.metrics and resumed.step == full.step == 10
    assert (resumed_weight == weight).all()


@pytest.mark.parametrize("forget", ["minigrad", "numpy"])
def test_each_generator_matters(tmp_path, forget, monkeypatch):
    """Leave one generator's state out of the checkpoint: the resumed run must then differ
    (so the exactness above is not an accident)."""
    import common.training as training

    full, _ = train(tmp_path / "full")
    if forget == "minigrad":
        monkeypatch.setattr(training.backend, "set_rng_state", lambda state: None)
    with pytest.raises(Stopped):
        train(tmp_path / "cut", stop_after=5)
    if forget == "numpy":
        original = training.checkpoint.load

        def without_numpy_state(path):
            state, meta = original(path)
            return state, meta | {"data_rng": np.random.default_rng(9).bit_generator.state}

        monkeypatch.setattr(training.checkpoint, "load", without_numpy_state)
    resumed, _ = train(tmp_path / "cut", resume=True)
    assert resumed.losses[:5] == full.losses[:5]
    assert resumed.losses[5:] != full.losses[5:]


def test_checkpoints_every_n_steps_and_at_the_end(tmp_path):
    train(tmp_path, steps=7)
    saved = nn.load(tmp_path / "checkpoints" / "run.ckpt")
    assert saved["meta"]["step"] == 7 and len(saved["meta"]["losses"]) == 7


def test_other_settings_are_refused(tmp_path):
    with pytest.raises(Stopped):
        train(tmp_path, stop_after=2)
    with pytest.raises(UsageError, match=r"different settings \(lr\)"):
        train(tmp_path, resume=True, config={"lr": 0.1})


def test_resume_without_a_checkpoint_says_it_starts_over(tmp_path, capsys):
    history, _ = train(tmp_path, steps=4, resume=True)
    assert history.step == 4
    assert "--resume: no checkpoint" in capsys.readouterr().out


def test_a_value_given_twice_to_a_list_flag_counts_once(tmp_path):
    p = cli.parser("example", None)
    p.add_argument("--lengths", nargs="+", type=int)
    args = cli.parse(p, ["--lengths", "100", "50", "100", "--out", str(tmp_path)])
    assert args.lengths == [100, 50]


def test_a_diverging_loss_is_a_one_line_error(tmp_path, capsys):
    model = nn.Linear(1, 1)
    optimizer = nn.optim.Adam(model.parameters())
    losses = [1.0, 0.5, float("nan"), 0.25]

    def main(argv):
        Trainer(flags(tmp_path), {}).fit("run", lambda i: losses[i], 4, model, optimizer)

    assert cli.run(main) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "error: run: the loss became nan at step 2" in lines[0], lines


def test_derived_seeds_depend_on_every_part():
    seeds = {derived_seed(0, "init", "lstm", 100), derived_seed(0, "init", "gru", 100),
             derived_seed(0, "init", "lstm", 50), derived_seed(1, "init", "lstm", 100),
             derived_seed(0, "data", 100)}
    assert len(seeds) == 5
    assert derived_seed(0, "init", "lstm", 100) == derived_seed(0, "init", "lstm", 100)


def test_a_picture_interrupted_while_being_written_leaves_the_old_one(tmp_path):
    """Ctrl-C while matplotlib writes a PNG: the previous picture stays whole, no stray file."""
    path = tmp_path / "loss.png"
    path.write_bytes(b"the previous picture")
    fig, _ = plotting.figure()

    def interrupted(target, **options):
        with open(target, "wb") if isinstance(target, (str, Path)) else nullcontext(target) as f:
            f.write(b"\x89PNG half a picture")
        raise KeyboardInterrupt

    fig.savefig = interrupted
    with pytest.raises(KeyboardInterrupt):
        plotting.save(fig, path)
    assert path.read_bytes() == b"the previous picture"
    assert list(tmp_path.iterdir()) == [path]


def test_stop_after_the_last_step_of_one_model_takes_no_step_of_the_next(tmp_path):
    """An example trains several models in one run: --stop-after N, with N the first model's
    steps, stops after exactly N steps, before the second model starts."""
    model = nn.Linear(1, 1)
    optimizer = nn.optim.Adam(model.parameters())
    trainer = Trainer(flags(tmp_path, stop_after=4), {})
    taken = []
    trainer.fit("first", lambda i: taken.append(("first", i)) or 1.0, 4, model, optimizer)
    with pytest.raises(Stopped, match="stopped after 4 steps"):
        trainer.fit("second", lambda i: taken.append(("second", i)) or 1.0, 4, model, optimizer)
    assert taken == [("first", i) for i in range(4)]
    assert not (tmp_path / "checkpoints" / "second.ckpt").exists()


def _checkpoint(tmp_path) -> Path:
    with pytest.raises(Stopped):
        train(tmp_path, stop_after=2)
    return tmp_path / "checkpoints" / "run.ckpt"


@pytest.mark.parametrize("damage, words", [
    (lambda saved: saved["meta"].pop("config"), "it lacks meta.config (not written by these examples"),
    (lambda saved: saved["state"].pop("optimizer"), "it lacks state.optimizer"),
    (lambda saved: saved.pop("meta"), "it is not a checkpoint of these examples (no 'state' and 'meta'"),
])
def test_resume_from_a_checkpoint_missing_an_entry_is_a_one_line_error(tmp_path, capsys, damage, words):
    # a checkpoint without meta.config ended in a KeyError traceback
    path = _checkpoint(tmp_path)
    saved = nn.load(path)
    damage(saved)
    nn.save(saved, path)
    assert cli.run(lambda argv: train(tmp_path, resume=True)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and f"error: cannot resume from {path}: {words}" in lines[0], lines


def test_resume_with_the_same_settings_and_other_shapes_is_a_one_line_error(tmp_path, capsys):
    # the same config, but the model's weight has another shape (a checkpoint of other code)
    path = _checkpoint(tmp_path)
    saved = nn.load(path)
    saved["state"]["model"]["weight"] = minigrad.zeros(2, 3)
    nn.save(saved, path)
    assert cli.run(lambda argv: train(tmp_path, resume=True)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"cannot resume from {path}: load_state_dict for Linear: shape mismatch for 'weight'" in lines[0]


def test_a_run_whose_loss_grew_a_hundredfold_says_that_training_diverged(tmp_path, capsys):
    # adding_problem --lr 1e6 finished with an MSE of 2.6e13 without a word
    model = nn.Linear(1, 1)
    optimizer = nn.optim.Adam(model.parameters())
    grown = [1.0, 3.0, 1e4, 2.6e13]
    Trainer(flags(tmp_path / "a"), {}).fit("run", lambda i: grown[i], 4, model, optimizer)
    out = capsys.readouterr().out
    assert ("run: training diverged: the loss rose from 1 to 2.6e+13 (means over the first and the "
            "last 1 of 4 steps); try a smaller learning rate") in out
    learned = [1.0, 0.5, 2.0, 0.1, 0.05]  # noisy, but down
    Trainer(flags(tmp_path / "b"), {}).fit("run", lambda i: learned[i], 5, model, optimizer)
    assert "diverged" not in capsys.readouterr().out
