"""Linear, Embedding, Dropout, Identity and Sequential against PyTorch (float64, copied weights)."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

import minigrad
import nn
import nn.functional as F

RNG = np.random.default_rng(1234)


def _copy_weights(ours: nn.Module, theirs: torch.nn.Module) -> None:
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _grads(module) -> dict:
    """Parameter name -> gradient as NumPy, for a minigrad or a PyTorch module."""
    return {name: p.grad.numpy() for name, p in module.named_parameters()}


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias):
    theirs = torch.nn.Linear(3, 2, bias=bias, dtype=torch.float64)
    ours = nn.Linear(3, 2, bias=bias, dtype=minigrad.float64)
    _copy_weights(ours, theirs)
    x_np = RNG.standard_normal(shape)
    seed = RNG.standard_normal(shape[:-1] + (2,))
    x = minigrad.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-13, atol=1e-14)
    (y * minigrad.tensor(seed)).sum().backward()
    (ty * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-13, atol=1e-14)
    ours_grads = _grads(ours)
    for name, g in _grads(theirs).items():
        np.testing.assert_allclose(ours_grads[name], g, rtol=1e-13, atol=1e-14, err_msg=name)


def test_linear_parameter_names_shapes_and_init_bound():
    minigrad.manual_seed(0)
    lin = nn.Linear(50, 30)
    assert {k: v.shape for k, v in lin.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in torch.nn.Linear(50, 30).state_dict().items()}
    k = 1 / math.sqrt(50)
    w = lin.weight.numpy()
    assert np.abs(w).max() <= k and np.abs(lin.bias.numpy()).max() <= k
    # U(-k, k) has standard deviation k / sqrt(3): 1500 draws land within 10%
    assert abs(w.std() - k / math.sqrt(3)) < 0.1 * k / math.sqrt(3)
    assert lin.weight.dtype == minigrad.float32


def test_linear_init_is_seeded():
    minigrad.manual_seed(7)
    a = nn.Linear(4, 3)
    minigrad.manual_seed(7)
    b = nn.Linear(4, 3)
    c = nn.Linear(4, 3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    assert not np.array_equal(b.weight.numpy(), c.weight.numpy())


def test_linear_rejects_wrong_feature_count():
    with pytest.raises(ValueError, match=r"input has 4 features.*weight expects 3"):
        nn.Linear(3, 2)(minigrad.tensor(np.ones((2, 4), dtype=np.float32)))


def test_linear_errors_name_the_argument_and_shapes():
    with pytest.raises(ValueError, match=r"linear: input must be at least 1-D.*in_features=2.*"
                                         r"0-d.*\(3, 2\)"):
        nn.Linear(2, 3)(minigrad.tensor(1.0))
    with pytest.raises(TypeError, match="Linear: in_features must be an int, got float 2.5"):
        nn.Linear(2.5, 3)
    with pytest.raises(ValueError, match="Linear: out_features must be >= 0, got -1"):
        nn.Linear(2, -1)
    assert nn.Linear(np.int64(2), 3).weight.shape == (3, 2)
    assert nn.Linear(2, 3)(minigrad.tensor(np.ones(2, dtype=np.float32))).shape == (3,)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx):
    theirs = torch.nn.Embedding(6, 4, padding_idx=padding_idx, dtype=torch.float64)
    ours = nn.Embedding(6, 4, padding_idx=padding_idx, dtype=minigrad.float64)
    assert ours.padding_idx == theirs.padding_idx
    if padding_idx is not None:
        np.testing.assert_array_equal(ours.weight.numpy()[padding_idx], np.zeros(4))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(RNG.standard_normal((6, 4))))  # padding row nonzero too
    _copy_weights(ours, theirs)
    ids = np.array([[0, 2, 2, 5], [1, 5, 5, 3]])  # repeated ids accumulate gradient
    seed = RNG.standard_normal((2, 4, 4))
    y, ty = ours(ids), theirs(torch.tensor(ids))
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    (y * minigrad.tensor(seed)).sum().backward()
    (ty * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("padding_idx", [-1, -6, 2])
def test_functional_embedding_padding_idx_counts_from_the_end_like_torch(padding_idx):
    weight = RNG.standard_normal((6, 3))
    ours, theirs = nn.Parameter(weight.copy()), torch.tensor(weight, requires_grad=True)
    ids = np.array([[0, 5, 5], [2, 1, 0]])
    F.embedding(ids, ours, padding_idx=padding_idx).sum().backward()
    torch.nn.functional.embedding(torch.tensor(ids), theirs, padding_idx=padding_idx).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    with pytest.raises(ValueError, match="padding_idx -7 is out of range for a table of 6 rows"):
        F.embedding(ids, ours, padding_idx=-7)


def test_embedding_accepts_tensor_ids_and_checks_range_and_dtype():
    emb = nn.Embedding(5, 2)
    assert emb(minigrad.tensor(np.array([4, 0]))).shape == (2, 2)
    with pytest.raises(IndexError, match=r"\[0, 5\).*\[0, 5\]"):
        emb(np.array([0, 5]))
    with pytest.raises(IndexError, match="-1"):
        emb(np.array([-1]))
    with pytest.raises(TypeError, match="integers"):
        emb(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="padding_idx 5"):
        nn.Embedding(5, 2, padding_idx=5)


@pytest.mark.parametrize("freeze", [True, False])
@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_from_pretrained_matches_torch(freeze, padding_idx):
    table = RNG.standard_normal((5, 3))
    ours = nn.Embedding.from_pretrained(table, freeze=freeze, padding_idx=padding_idx)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=freeze,
                                                padding_idx=padding_idx)
    assert repr(ours) == repr(theirs) and ours.padding_idx == theirs.padding_idx
    assert ours.weight._data is table  # wrapped, not copied, as torch shares the storage
    np.testing.assert_array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())  # padding row kept
    assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ids = np.array([[0, 1, 1], [4, 1, 2]])
    y, ty = ours(ids), theirs(torch.tensor(ids))
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    assert y.requires_grad == ty.requires_grad
    if not freeze:
        seed = RNG.standard_normal((2, 3, 3))
        (y * minigrad.tensor(seed)).sum().backward()
        (ty * torch.tensor(seed)).sum().backward()
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-14)


def test_embedding_from_pretrained_takes_a_tensor_and_draws_no_random_numbers():
    table = minigrad.tensor(np.ones((4, 2), dtype=np.float32))
    minigrad.manual_seed(0)
    emb = nn.Embedding.from_pretrained(table)
    drawn = minigrad.randn(3).numpy()
    minigrad.manual_seed(0)
    np.testing.assert_array_equal(drawn, minigrad.randn(3).numpy())
    assert emb.weight._data is table._data and emb.weight.dtype == minigrad.float32
    assert (emb.num_embeddings, emb.embedding_dim) == (4, 2)


def test_embedding_from_pretrained_refuses_what_is_not_a_float_table():
    for shape in [(3,), (2, 3, 4), ()]:
        with pytest.raises(ValueError, match=rf"^Embedding.from_pretrained: embeddings must be 2-D "
                                             rf"\(num_embeddings, embedding_dim\), got shape "
                                             rf"{re.escape(str(shape))}$"):
            nn.Embedding.from_pretrained(np.zeros(shape))
    for freeze in (True, False):
        with pytest.raises(TypeError, match="^Embedding.from_pretrained: embeddings must be "
                                            "floating point, got dtype int64$"):
            nn.Embedding.from_pretrained(np.arange(6).reshape(3, 2), freeze=freeze)
    with pytest.raises(ValueError, match="padding_idx 3 is out of range for 3 embeddings"):
        nn.Embedding.from_pretrained(np.zeros((3, 2)), padding_idx=3)


def test_embedding_init_is_standard_normal():
    minigrad.manual_seed(3)
    w = nn.Embedding(400, 10).weight.numpy()
    assert abs(w.mean()) < 0.05 and abs(w.std() - 1) < 0.05


def test_dropout_eval_is_identity_and_train_scales_kept_elements():
    drop = nn.Dropout(0.25)
    x_np = RNG.standard_normal((200, 50))
    x = minigrad.tensor(x_np, requires_grad=True)
    assert drop.eval()(x) is x
    minigrad.manual_seed(5)
    y = drop.train()(x).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], x_np[kept] / 0.75, rtol=1e-15)
    assert abs(kept.mean() - 0.75) < 0.01  # 10,000 draws: the kept fraction is 1 - p
    minigrad.manual_seed(5)
    y2 = drop(x)
    np.testing.assert_array_equal(y2.numpy(), y)  # same seed, same mask
    y2.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75, rtol=1e-15)


def test_dropout_edge_probabilities_and_errors():
    x = minigrad.tensor(np.ones((3, 3)))
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="-0.1"):
        F.dropout(x, -0.1)


def test_dropout_keeps_dtype(device):
    x = minigrad.tensor(np.ones((4, 4), dtype=np.float32), device=device)
    y = F.dropout(x, 0.5)
    assert y.dtype == minigrad.float32 and y.device == device


def test_identity_and_sequential_match_torch():
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Identity(), torch.nn.Linear(5, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 5), nn.Identity(7, unused=True), nn.Linear(5, 2)).double()
    _copy_weights(ours, theirs)
    x_np = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(ours(minigrad.tensor(x_np)).numpy(),
                               theirs(torch.tensor(x_np)).detach().numpy(), rtol=1e-13)
    assert isinstance(ours[0], nn.Linear) and isinstance(ours[-1], nn.Linear)
    assert len(ours[1:]) == 2 and isinstance(ours[1:], nn.Sequential)


def test_sequential_from_ordered_dict_uses_names():
    from collections import OrderedDict
    seq = nn.Sequential(OrderedDict([("enc", nn.Linear(2, 3)), ("dec", nn.Linear(3, 2))]))
    assert [n for n, _ in seq.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    assert seq[1] is seq.dec
