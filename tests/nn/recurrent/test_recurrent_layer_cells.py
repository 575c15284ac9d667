"""A layer holds its cells as ordinary sub-modules and lists their parameters under PyTorch's
names: one Parameter per name, no copies, so optimizers, state dicts, replacement, deepcopy and
modes all reach what forward computes with. And each cell's hoisted weights are a declared type."""
from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch

import minigrad as mg
import nn
from nn.recurrent import RecurrentCell

T, N, I, H = 3, 2, 3, 4

LAYERS = [  # (minigrad layer, PyTorch twin or None, constructor options)
    (nn.RNN, torch.nn.RNN, dict(num_layers=2, nonlinearity="relu")),
    (nn.LSTM, torch.nn.LSTM, dict(num_layers=2, bidirectional=True)),
    (nn.LSTM, torch.nn.LSTM, dict(num_layers=3, proj_size=2)),
    (nn.GRU, torch.nn.GRU, dict(num_layers=2, bidirectional=True, bias=False)),
    (nn.LSTM, None, dict(num_layers=2, bidirectional=True, cell=nn.PeepholeLSTMCell)),
    (nn.DepthGatedLSTM, None, dict(num_layers=2)),
    (nn.ClockworkRNN, None, dict(num_layers=2, periods=(1, 2))),
]


def layer_id(case) -> str:
    layer, _, options = case
    return f"{layer.__name__}-" + "-".join(f"{k}={getattr(v, '__name__', v)}"
                                           for k, v in options.items())


@pytest.fixture(params=LAYERS, ids=layer_id)
def case(request):
    return request.param


def test_cells_are_ordinary_children_named_like_pytorchs_suffixes(case):
    layer_class, _, options = case
    layer = layer_class(I, H, **options)
    directions = 2 if options.get("bidirectional") else 1
    expected = [f"l{k}" + suffix for k in range(options["num_layers"])
                for suffix in ("", "_reverse")[:directions]]
    assert [name for name, _ in layer.named_children()] == expected
    assert list(layer.children()) == layer.cells()
    assert all(isinstance(cell, RecurrentCell) for cell in layer.cells())
    assert [name for name, _ in layer.named_modules()] == [""] + expected
    assert layer.l0 is layer.cells()[0]


def test_each_parameter_is_listed_once_under_pytorchs_name(case):
    layer_class, torch_class, options = case
    layer = layer_class(I, H, **options)
    named = list(layer.named_parameters())
    assert len({id(p) for _, p in named}) == len(named) == len(list(layer.parameters()))
    assert list(layer.state_dict()) == [name for name, _ in named]
    cell_parameters = [p for cell in layer.cells() for p in cell.parameters()]
    assert [id(p) for _, p in named] == [id(p) for p in cell_parameters]  # the cells' own, in order
    for name, p in named:
        cell_name = next(c for c in layer.cell_names if name.endswith("_" + c))
        assert getattr(layer, name) is p is getattr(getattr(layer, cell_name), name[:-len(cell_name) - 1])
    if torch_class is not None:
        ref = torch_class(I, H, **{k: v for k, v in options.items()})
        assert [name for name, _ in named] == [name for name, _ in ref.named_parameters()]


def test_a_pytorch_state_dict_loads_into_the_cells_parameters():
    torch.manual_seed(0)
    ref = torch.nn.LSTM(I, H, num_layers=2, bidirectional=True, dtype=torch.float64)
    lstm = nn.LSTM(I, H, num_layers=2, bidirectional=True, dtype="float64")
    parameters = list(lstm.parameters())
    lstm.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    assert all(a is b for a, b in zip(parameters, lstm.parameters()))
    np.testing.assert_array_equal(lstm.l1_reverse.bias_hh.numpy(), ref.bias_hh_l1_reverse.detach().numpy())
    x = np.random.default_rng(0).standard_normal((T, N, I))
    np.testing.assert_allclose(lstm(mg.tensor(x))[0].numpy(),
                               ref(torch.tensor(x))[0].detach().numpy(), atol=1e-12)


def test_forward_sees_what_the_optimizer_updates():
    mg.manual_seed(0)
    lstm = nn.LSTM(I, H, num_layers=2, bidirectional=True, dtype="float64")
    x = mg.randn(T, N, I, dtype="float64")
    opt = nn.optim.SGD(lstm.parameters(), lr=0.5)
    before, _ = lstm(x)
    (before * before).sum().backward()
    expected = {name: (p.numpy() - 0.5 * p.grad.numpy()) for name, p in lstm.named_parameters()}
    opt.step()
    for name, p in lstm.named_parameters():
        np.testing.assert_array_equal(p.numpy(), expected[name], err_msg=name)
    fresh = nn.LSTM(I, H, num_layers=2, bidirectional=True, dtype="float64")
    fresh.load_state_dict(expected)
    after, _ = lstm(x)
    assert np.abs(after.numpy() - before.numpy()).max() > 1e-3
    np.testing.assert_array_equal(after.numpy(), fresh(x)[0].numpy())


def test_nested_layer_keeps_pytorchs_names_and_cells_follow_train_and_eval():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(I, H, num_layers=2)
            self.head = nn.Linear(H, 1)

    model, ref = Model(), torch.nn.Module()
    ref.rnn, ref.head = torch.nn.GRU(I, H, num_layers=2), torch.nn.Linear(H, 1)
    assert list(model.state_dict()) == list(ref.state_dict())
    model.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    np.testing.assert_array_equal(model.rnn.l1.weight_hh.numpy(), ref.rnn.weight_hh_l1.detach().numpy())
    assert not any(cell.training for cell in model.eval().rnn.cells())
    assert all(cell.training for cell in model.train().rnn.cells())


def test_a_deep_copy_is_independent_and_computes_the_same():
    lstm = nn.LSTM(I, H, num_layers=2, dtype="float64")
    twin = copy.deepcopy(lstm)
    x = mg.randn(T, N, I, dtype="float64")
    np.testing.assert_array_equal(lstm(x)[0].numpy(), twin(x)[0].numpy())
    assert not {id(p) for p in twin.parameters()} & {id(p) for p in lstm.parameters()}
    twin.weight_ih_l1.data *= 0
    assert np.abs(lstm.weight_ih_l1.numpy()).max() > 0


def test_an_unknown_attribute_still_raises_attribute_error():
    lstm = nn.LSTM(I, H, bias=False)
    with pytest.raises(AttributeError, match="bias_ih_l0"):
        lstm.bias_ih_l0  # noqa: B018 - no bias: PyTorch has no such attribute either
    with pytest.raises(AttributeError, match="weight_ih_l1"):
        lstm.weight_ih_l1  # noqa: B018


@pytest.mark.parametrize("cell_class, options", [
    (nn.RNNCell, {}), (nn.LSTMCell, {}), (nn.LSTMCell, dict(form="concat", proj_size=2)),
    (nn.GRUCell, {}), (nn.CoupledLSTMCell, {}), (nn.PeepholeLSTMCell, {}),
    (nn.DepthGatedLSTMCell, {}), (nn.ClockworkRNNCell, dict(periods=(1, 2))),
])
def test_hoisted_weights_are_a_declared_type(cell_class, options):
    from nn.recurrent.base import StepWeights
    weights = cell_class(I, H, **options).prepare()
    assert isinstance(weights, StepWeights) and dataclasses.is_dataclass(weights)
    assert set(vars(weights)) == {f.name for f in dataclasses.fields(weights)}
    with pytest.raises(dataclasses.FrozenInstanceError):
        weights.hh_T = None
