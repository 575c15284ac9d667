"""nn.functional's PyTorch names, forward hooks, and .safetensors files that PyTorch reads
(and writes) for LSTM and GRU stacks."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from safetensors.torch import load_file, save_file

import minigrad as mg
import nn
import nn.functional as F

RNG = np.random.default_rng(11)
A = RNG.standard_normal((4, 5))
LABELS = np.array([1, 0, 4, 2])

FUNCTIONS = {
    "softmax": lambda f, x: f.softmax(x, dim=1), "log_softmax": lambda f, x: f.log_softmax(x, dim=0),
    "relu": lambda f, x: f.relu(x), "tanh": lambda f, x: f.tanh(x), "sigmoid": lambda f, x: f.sigmoid(x),
    "cross_entropy": lambda f, x: f.cross_entropy(x, _labels(f)),
    "nll_loss": lambda f, x: f.nll_loss(f.log_softmax(x, dim=1), _labels(f)),
    "mse_loss": lambda f, x: f.mse_loss(x, x * 0.5 + 1),
    "linear": lambda f, x: f.linear(x, x[:3] * 2, x[0, :3]),
    "dropout (eval)": lambda f, x: f.dropout(x, 0.5, training=False),
    "embedding": lambda f, x: f.embedding(_labels(f), x.T),
    "nn.ReLU": lambda f, x: _module(f, "ReLU")(x), "nn.Tanh": lambda f, x: _module(f, "Tanh")(x),
    "nn.Sigmoid": lambda f, x: _module(f, "Sigmoid")(x),
    "nn.Softmax": lambda f, x: _module(f, "Softmax", 1)(x),
    "nn.LogSoftmax": lambda f, x: _module(f, "LogSoftmax", 0)(x),
}


def _module(f, name, *args):
    """The activation module ``name`` of the library whose functional module ``f`` is."""
    return getattr(torch.nn if f is TF else nn, name)(*args)


def _labels(f):
    return torch.tensor(LABELS) if f is TF else mg.tensor(LABELS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functional_matches_torch(name):
    x, t = mg.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    y, ty = FUNCTIONS[name](F, x), FUNCTIONS[name](TF, t)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    w = RNG.standard_normal(ty.shape)
    (y * mg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("classes", [-1, 6])
def test_one_hot_matches_torch(classes):
    got = F.one_hot(mg.tensor(LABELS), classes)
    want = TF.one_hot(torch.tensor(LABELS), classes)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert str(got.dtype) == "int64"
    with pytest.raises(ValueError, match="one_hot: class values must lie in \\[0, 3\\)"):
        F.one_hot(mg.tensor(LABELS), 3)


def test_forward_hooks_see_and_replace_what_torchs_do():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)).double()
    mine = nn.Sequential(nn.Linear(5, 3), nn.Tanh(), nn.Linear(3, 2)).double()
    mine.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    seen = {}
    for name, model, make in (("mine", mine, mg.tensor), ("torch", ref, torch.tensor)):
        log = seen[name] = []
        handle = model[0].register_forward_hook(lambda m, inputs, out: log.append(out.detach().numpy()))
        model[2].register_forward_pre_hook(lambda m, inputs: (inputs[0] * 2,))
        model[2].register_forward_hook(lambda m, inputs, out: out + 1)
        log.append(model(make(A)).detach().numpy())
        handle.remove()
        log.append(model(make(A)).detach().numpy())
    assert len(seen["mine"]) == len(seen["torch"]) == 3
    for got, want in zip(seen["mine"], seen["torch"]):
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("name, args", [("ReLU", ()), ("Softmax", (1,)), ("LogSoftmax", (0,))])
def test_activation_modules_print_as_torchs(name, args):
    assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_a_safetensors_file_written_here_loads_into_torch_and_back(kind, tmp_path):
    mine = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    nn.save(mine.state_dict(), tmp_path / "model.safetensors")
    ref = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    ref.load_state_dict(load_file(tmp_path / "model.safetensors"))
    x = RNG.standard_normal((6, 2, 3))
    np.testing.assert_allclose(mine(mg.tensor(x))[0].numpy(), ref(torch.tensor(x))[0].detach().numpy(),
                               atol=1e-14)
    # and the other way: trained in PyTorch, continued here
    other = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    save_file(other.state_dict(), tmp_path / "torch.safetensors")
    loaded = nn.load(tmp_path / "torch.safetensors")
    assert all(isinstance(v, mg.Tensor) for v in loaded.values())
    mine.load_state_dict(loaded)
    np.testing.assert_allclose(mine(mg.tensor(x))[0].numpy(), other(torch.tensor(x))[0].detach().numpy(),
                               atol=1e-14)


def test_safetensors_holds_a_flat_state_dict_only_and_a_bad_file_changes_nothing(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match="maps names to tensors, got dict at key 'model'"):
        nn.save({"model": {"w": mg.ones(2)}}, path)
    assert not path.exists()
    path.write_bytes(b"\x00" * 40)
    with pytest.raises(ValueError, match="is damaged or not a safetensors file"):
        nn.load(path)


def test_saving_into_an_open_file_and_loading_it_back(tmp_path):
    data = np.sin(np.arange(6.0)).reshape(2, 3)
    with open(tmp_path / "data.pt", "wb") as f:
        nn.save(data, f)
    np.testing.assert_array_equal(nn.load(tmp_path / "data.pt"), data)
