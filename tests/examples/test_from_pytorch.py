"""examples/from_pytorch.py, a script in the form of PyTorch's recurrent tutorials: it runs on
minigrad with minigrad's import block, and on PyTorch with PyTorch's import lines in its place
(its data script likewise)."""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

import numpy as np

from example_runner import EXAMPLES, PNG_MAGIC, ROOT

BLOCK = ["import torchlike as torch", "import torchlike.nn as nn", "import torchlike.nn.functional as F",
         "import torchlike.optim as optim", "from torchlike.utils.data import DataLoader, TensorDataset"]
PYTORCH_BLOCK = ["import torch", "import torch.nn as nn", "import torch.nn.functional as F",
                 "import torch.optim as optim", "from torch.utils.data import DataLoader, TensorDataset"]


def _run(script, *args, cwd, timeout=300):
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def test_below_the_import_block_nothing_is_minigrads():
    # PyTorch's five import lines go where the block is; nothing in the code below it mentions
    # minigrad
    for path in (EXAMPLES / "from_pytorch.py", EXAMPLES / "pytorch_tutorial" / "generate_sine_wave.py"):
        source = path.read_text()
        docstring = ast.parse(source).body[0]
        assert isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant)
        lines = source.splitlines()[docstring.end_lineno:]
        start = lines.index(BLOCK[0])
        assert lines[start:start + len(BLOCK)] == BLOCK
        rest = [line for line in lines[start + len(BLOCK):] if not line.startswith("#")]
        assert not any(re.search(r"minigrad|torchlike|^import nn|from nn", line) for line in rest)


def test_the_tutorial_trains_and_predicts(tmp_path):
    made = _run(EXAMPLES / "pytorch_tutorial" / "generate_sine_wave.py", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    full = _run_python("import nn; d = nn.load('traindata.pt'); print(type(d).__name__, d.shape, "
                       "d.dtype, float(abs(d.numpy()).max()))", tmp_path)
    assert re.fullmatch(r"Tensor \(100, 1000\) float64 0\.99\d*", full), full
    # a smaller data set of the same kind, so that one step takes seconds
    small = _run(EXAMPLES / "pytorch_tutorial" / "generate_sine_wave.py", "--waves", "5",
                 "--length", "30", cwd=tmp_path)
    assert small.returncode == 0, small.stderr
    result = _run(EXAMPLES / "from_pytorch.py", "--steps", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    losses = [float(v) for v in re.findall(r"^loss: (\S+)$", result.stdout, re.M)]
    assert len(losses) == 20  # L-BFGS's max_iter evaluations
    assert losses[-1] < losses[0] / 5
    assert re.search(r"^test loss: \d", result.stdout, re.M)
    assert (tmp_path / "forecast0.png").read_bytes().startswith(PNG_MAGIC)


def test_help_and_a_missing_data_file(tmp_path):
    help_ = _run(EXAMPLES / "from_pytorch.py", "--help", cwd=tmp_path)
    assert help_.returncode == 0 and "--steps" in help_.stdout
    missing = _run(EXAMPLES / "from_pytorch.py", cwd=tmp_path)
    assert missing.returncode != 0 and "no file 'traindata.pt'" in missing.stderr
    assert "generate_sine_wave.py" in missing.stderr


def _run_python(code: str, cwd) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_script_gives_pytorchs_losses_when_both_start_from_the_same_weights():
    # the script's model and training step, once with minigrad's import block and once with
    # PyTorch's own import lines: the same numbers, L-BFGS evaluation by evaluation
    import torch
    source = (EXAMPLES / "from_pytorch.py").read_text()
    assert "\n".join(BLOCK) in source
    on_pytorch = source.replace("\n".join(BLOCK), "\n".join(PYTORCH_BLOCK))
    ours, theirs = {"__name__": "tutorial"}, {"__name__": "tutorial"}
    exec(compile(source, "from_pytorch.py", "exec"), ours)
    exec(compile(on_pytorch, "from_pytorch_on_pytorch.py", "exec"), theirs)
    assert theirs["torch"] is torch
    wave = np.sin((np.arange(25)[None, :] + np.array([0, 7, 19, 30])[:, None]) / 20.0)
    losses = {}
    for name, ns in (("ours", ours), ("theirs", theirs)):
        lib = ns["torch"]
        model = ns["WaveForecaster"]().double()
        if name == "theirs":
            model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        else:
            weights = {k: v.numpy().copy() for k, v in model.state_dict().items()}
        x, y = lib.from_numpy(wave[:, :-1]), lib.from_numpy(wave[:, 1:])
        optimizer = ns["optim"].LBFGS(model.parameters(), lr=0.8)
        run = losses[name] = []

        def closure():
            optimizer.zero_grad()
            loss = ns["nn"].MSELoss()(model(x), y)
            run.append(loss.item())
            loss.backward()
            return loss

        optimizer.step(closure)
        with lib.no_grad():
            forecast = model(x, extra_steps=5)
            assert tuple(forecast.shape) == (4, 24 + 5)
            run.append(ns["nn"].MSELoss()(forecast[:, :-5], y).item())
            run.extend(forecast[:, -5:].numpy().ravel().tolist())
    assert len(losses["ours"]) == 21 + 4 * 5
    np.testing.assert_allclose(losses["ours"], losses["theirs"], rtol=1e-9)


def test_both_scripts_run_on_pytorch_with_pytorchs_import_lines(tmp_path):
    # the whole command line, data file and picture included, with nothing but the import
    # block swapped
    for name in ("from_pytorch.py", "generate_sine_wave.py"):
        path = EXAMPLES / name if name == "from_pytorch.py" else EXAMPLES / "pytorch_tutorial" / name
        source = path.read_text()
        assert "\n".join(BLOCK) in source
        (tmp_path / name).write_text(source.replace("\n".join(BLOCK), "\n".join(PYTORCH_BLOCK)))
    made = _run(tmp_path / "generate_sine_wave.py", "--waves", "5", "--length", "30", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    result = _run(tmp_path / "from_pytorch.py", "--steps", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    losses = [float(v) for v in re.findall(r"^loss: (\S+)$", result.stdout, re.M)]
    assert len(losses) == 20 and losses[-1] < losses[0] / 5
    assert (tmp_path / "forecast0.png").read_bytes().startswith(PNG_MAGIC)
