"""torchlike: PyTorch's names over minigrad and nn, each compared with torch's."""
import numpy as np
import pytest
import torch as real

import minigrad as mg
import torchlike as torch
import torchlike.nn as nn
import torchlike.nn.functional as F
import torchlike.optim as optim
from torchlike.utils.data import DataLoader, TensorDataset

RNG = np.random.default_rng(5)
A, B = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4, 5))


def test_the_import_block_gives_pytorchs_names():
    import torchlike.nn.utils.rnn as rnn_utils
    import torchlike.optim.lr_scheduler as lr_scheduler
    names = {
        torch: ["Tensor", "tensor", "zeros", "ones", "randn", "cat", "stack", "no_grad", "manual_seed",
                "from_numpy", "long", "float", "double", "device", "cuda", "save", "load", "autograd"],
        nn: ["Module", "Linear", "LSTM", "GRU", "LSTMCell", "Embedding", "Dropout", "CrossEntropyLoss",
             "MSELoss", "Parameter", "init", "utils", "functional"],
        F: ["softmax", "log_softmax", "relu", "tanh", "sigmoid", "dropout", "cross_entropy", "nll_loss",
            "mse_loss", "one_hot", "linear", "embedding"],
        optim: ["SGD", "Adam", "LBFGS", "lr_scheduler"],
        lr_scheduler: ["StepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau", "LambdaLR"],
        rnn_utils: ["pad_sequence", "pack_padded_sequence", "pad_packed_sequence"],
    }
    missing = {m.__name__: [n for n in ns if not hasattr(m, n)] for m, ns in names.items()}
    assert {k: v for k, v in missing.items() if v} == {}
    assert nn.utils.clip_grad_value_ and nn.utils.clip_grad_norm_ and DataLoader and TensorDataset


SAME = {
    "cat": lambda t, a, b: t.cat([a, a * 2], dim=1), "stack": lambda t, a, b: t.stack([a, a], dim=2),
    "bmm": lambda t, a, b: t.bmm(a, b), "max(x, dim)": lambda t, a, b: t.max(a, 1)[0],
    "argmax": lambda t, a, b: t.argmax(a, dim=2), "topk": lambda t, a, b: t.topk(a, 2)[0],
    "zeros_like": lambda t, a, b: t.zeros_like(a), "ones_like": lambda t, a, b: t.ones_like(a),
    "full": lambda t, a, b: t.full((2, 3), 1.5), "arange": lambda t, a, b: t.arange(0, 5, 2),
    "linspace": lambda t, a, b: t.linspace(-1, 1, 7), "from_numpy": lambda t, a, b: t.from_numpy(np.arange(3)),
    "as_tensor": lambda t, a, b: t.as_tensor([1, 2], dtype=t.long), "dtype long": lambda t, a, b: a.to(t.long),
    "exp": lambda t, a, b: t.exp(a), "sin": lambda t, a, b: t.sin(a), "transpose": lambda t, a, b: t.transpose(a, 0, 2),
    "squeeze": lambda t, a, b: t.squeeze(a[:, :1], 1), "unsqueeze": lambda t, a, b: t.unsqueeze(a, 0),
    "flatten": lambda t, a, b: t.flatten(a, 1), "clamp": lambda t, a, b: t.clamp(a, -0.5, 0.5),
    "where": lambda t, a, b: t.where(a > 0, a, a * 0.1), "numel": lambda t, a, b: t.tensor(t.numel(a)),
}


@pytest.mark.parametrize("name", sorted(SAME))
def test_functions_match_torch(name):
    got = SAME[name](torch, torch.tensor(A), torch.tensor(B))
    want = SAME[name](real, real.tensor(A), real.tensor(B))
    # (PyTorch's float32 linspace is computed in float32; ours is rounded once from float64)
    atol = 1e-7 if got.dtype == torch.float32 else 0.0
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=atol)
    assert str(got.dtype) == str(want.dtype).replace("torch.", "")


def test_multinomial_draws_by_the_weights_and_repeats_with_the_seed():
    weights = torch.tensor([[0.0, 1.0, 3.0], [5.0, 0.0, 0.0]])
    torch.manual_seed(1)
    draws = torch.multinomial(weights, 2000, replacement=True)
    assert draws.shape == (2, 2000) and draws.dtype == torch.long
    counts = np.bincount(draws.numpy()[0], minlength=3)
    assert counts[0] == 0 and abs(counts[2] / 2000 - 0.75) < 0.04
    assert (draws.numpy()[1] == 0).all()
    torch.manual_seed(1)
    assert (torch.multinomial(weights, 2000, replacement=True).numpy() == draws.numpy()).all()
    without = torch.multinomial(torch.tensor([1.0, 1.0, 1.0, 0.0]), 3)
    assert sorted(without.tolist()) == [0, 1, 2]


def test_set_grad_enabled_switches_recording_by_a_flag():
    x = torch.ones(2, requires_grad=True)
    with torch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with torch.set_grad_enabled(True):
            assert (x * 2).requires_grad
    assert torch.is_grad_enabled()


def test_devices_and_cuda():
    d = torch.device("cuda:0")
    assert (d.type, d.index, str(d)) == ("cuda", 0, "cuda:0")
    assert torch.device("cpu") == "cpu" and torch.ones(2).to(torch.device("cpu")).device == "cpu"
    assert torch.cuda.is_available() == mg.cuda_available()


def test_saving_a_whole_module_is_refused_and_a_state_dict_round_trips(tmp_path):
    model = nn.LSTM(2, 3)
    with pytest.raises(TypeError, match="save: saving a whole LSTM would pickle its code"):
        torch.save(model, tmp_path / "model.pt")
    torch.save(model.state_dict(), tmp_path / "model.pt")
    other = nn.LSTM(2, 3)
    other.load_state_dict(torch.load(tmp_path / "model.pt"))
    assert all((a.numpy() == b.numpy()).all() for a, b in zip(model.parameters(), other.parameters()))


def test_a_pickled_pytorch_file_is_refused_not_run(tmp_path):
    real.save({"w": real.ones(2)}, tmp_path / "torch.pt")
    with pytest.raises(ValueError, match="not a minigrad checkpoint|cannot read"):
        torch.load(tmp_path / "torch.pt")


def test_a_pytorch_style_training_loop_matches_torch():
    # a script written for PyTorch, run with each library: same weights, same losses
    x, y = RNG.standard_normal((12, 3)), RNG.integers(0, 4, 12)
    losses = {}
    for lib, lnn, lF, loptim in ((real, real.nn, real.nn.functional, real.optim), (torch, nn, F, optim)):
        lib.manual_seed(0)
        model = lnn.Linear(3, 4).double()
        if lib is torch:
            model.load_state_dict(initial)
        else:
            initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        opt = loptim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        sched = loptim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        run = losses.setdefault(lib.__name__, [])
        for _ in range(6):
            opt.zero_grad()
            out = model(lib.tensor(x))
            loss = lF.cross_entropy(out, lib.tensor(y))
            loss.backward()
            opt.step()
            sched.step()
            _, pred = out.max(1)
            run.append((loss.item(), int((pred == lib.tensor(y)).sum().item())))
    mine, ref = losses["torchlike"], losses["torch"]
    np.testing.assert_allclose([l for l, _ in mine], [l for l, _ in ref], rtol=1e-12)
    assert [c for _, c in mine] == [c for _, c in ref]


def test_one_import_block_in_the_docs_the_example_and_the_package():
    from pathlib import Path
    import re
    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "pytorch.md").read_text()
    opening = re.match(r"# [^\n]+\n\n<!-- pytorch-imports -->\n```python\n(.*?)```", doc, re.S)
    assert opening, "docs/pytorch.md must open with the marked import block"
    block = opening.group(1)
    assert block in (root / "examples" / "from_pytorch.py").read_text()
    assert "\n".join("    " + line for line in block.splitlines()) in torch.__doc__


def test_importing_it_first_limits_blas_to_one_thread_unless_told_otherwise():
    import os
    import subprocess
    import sys
    from pathlib import Path
    code = "import torchlike, os; print(os.environ['OPENBLAS_NUM_THREADS'])"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    for given, want in ((None, "1"), ("3", "3")):
        run_env = env if given is None else dict(env, OPENBLAS_NUM_THREADS=given)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=run_env)
        assert done.stdout.strip() == want, done.stderr
