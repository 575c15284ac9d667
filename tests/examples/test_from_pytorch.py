"""examples/from_pytorch.py: PyTorch's time_sequence_prediction tutorial, run on minigrad with
only its import block changed (and its data script likewise)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np

from example_runner import EXAMPLES, ROOT

BLOCK = ["import torchlike as torch", "import torchlike.nn as nn", "import torchlike.nn.functional as F",
         "import torchlike.optim as optim", "from torchlike.utils.data import DataLoader, TensorDataset"]


def _run(script, *args, cwd, timeout=300):
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def test_the_scripts_differ_from_the_tutorial_only_in_the_import_block():
    # the tutorial's three `import torch...` lines are the block's place; nothing in the code
    # below it mentions minigrad
    for path in (EXAMPLES / "from_pytorch.py", EXAMPLES / "pytorch_tutorial" / "generate_sine_wave.py"):
        code = path.read_text().split('"""\n', 2)[-1]  # after the docstring
        lines = code.splitlines()
        start = lines.index(BLOCK[0])
        assert lines[start:start + len(BLOCK)] == BLOCK
        rest = [line for line in lines[start + len(BLOCK):] if not line.startswith("#")]
        assert not any(re.search(r"minigrad|torchlike|^import nn|from nn", line) for line in rest)


def test_the_tutorial_trains_and_predicts(tmp_path):
    made = _run(EXAMPLES / "pytorch_tutorial" / "generate_sine_wave.py", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    full = _run_python("import nn; d = nn.load('traindata.pt'); print(d.shape, d.dtype)", tmp_path)
    assert full == "(100, 1000) float64"
    # a smaller data set of the same kind, so that one step takes seconds
    _run_python("import numpy as np, nn\n"
                "x = np.arange(30)[None, :] + np.array([0, 9, 17, 25, 33])[:, None]\n"
                "nn.save(np.sin(x / 20.0), 'traindata.pt')", tmp_path)
    result = _run(EXAMPLES / "from_pytorch.py", "--steps", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    losses = [float(v) for v in re.findall(r"^loss: (\S+)$", result.stdout, re.M)]
    assert len(losses) == 20  # L-BFGS's max_iter evaluations
    assert losses[-1] < losses[0] / 5
    assert re.search(r"^test loss: \d", result.stdout, re.M)
    assert (tmp_path / "predict0.pdf").read_bytes().startswith(b"%PDF")


def test_help_and_a_missing_data_file(tmp_path):
    help_ = _run(EXAMPLES / "from_pytorch.py", "--help", cwd=tmp_path)
    assert help_.returncode == 0 and "--steps" in help_.stdout
    missing = _run(EXAMPLES / "from_pytorch.py", cwd=tmp_path)
    assert missing.returncode != 0 and "no file 'traindata.pt'" in missing.stderr


def _run_python(code: str, cwd) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_script_gives_pytorchs_losses_when_both_start_from_the_same_weights():
    # the tutorial's own model and training step, once with the import block and once with
    # PyTorch's own imports: the same numbers, step for step
    import torch
    source = (EXAMPLES / "from_pytorch.py").read_text()
    original = source.replace("\n".join(BLOCK), "import torch\nimport torch.nn as nn\nimport torch.optim as optim")
    ours, theirs = {"__name__": "tutorial"}, {"__name__": "tutorial"}
    exec(compile(source, "from_pytorch.py", "exec"), ours)
    exec(compile(original, "train.py", "exec"), theirs)
    wave = np.sin((np.arange(25)[None, :] + np.array([0, 7, 19, 30])[:, None]) / 20.0)
    losses = {}
    for name, ns in (("ours", ours), ("theirs", theirs)):
        lib = ns["torch"]
        seq = ns["Sequence"]().double()
        if name == "theirs":
            seq.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        else:
            weights = {k: v.numpy().copy() for k, v in seq.state_dict().items()}
        x, y = lib.from_numpy(wave[:, :-1]), lib.from_numpy(wave[:, 1:])
        optimizer = ns["optim"].LBFGS(seq.parameters(), lr=0.8)
        run = losses[name] = []

        def closure():
            optimizer.zero_grad()
            loss = ns["nn"].MSELoss()(seq(x), y)
            run.append(loss.item())
            loss.backward()
            return loss

        optimizer.step(closure)
        with lib.no_grad():
            run.append(ns["nn"].MSELoss()(seq(x, future=5)[:, :-5], y).item())
    assert len(losses["ours"]) == 21
    np.testing.assert_allclose(losses["ours"], losses["theirs"], rtol=1e-9)
