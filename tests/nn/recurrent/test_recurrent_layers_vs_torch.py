"""nn.RNN / nn.LSTM / nn.GRU against PyTorch in float64 with copied weights: outputs, final
states and the gradients of the input, the initial states and every parameter."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from recurrent_helpers import assert_same_run, copy_weights, run_minigrad, run_torch

import nn

T, N, I, H = 4, 3, 3, 5
KINDS = {  # name: (minigrad class, torch class, extra constructor arguments)
    "rnn_tanh": (nn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, torch.nn.LSTM, {}),
    "gru": (nn.GRU, torch.nn.GRU, {}),
}


def make_pair(kind: str, device: str, **options):
    mine_class, ref_class, extra = KINDS[kind]
    torch.manual_seed(0)
    ref = ref_class(I, H, dtype=torch.float64, **extra, **options)
    mine = mine_class(I, H, dtype="float64", device=device, **extra, **options)
    copy_weights(mine, ref)
    return mine, ref


def initial_state(kind: str, layers: int, directions: int, batch: tuple, seed: int = 1):
    rng = np.random.default_rng(seed)
    parts = 2 if kind == "lstm" else 1
    return tuple(rng.standard_normal((layers * directions,) + batch + (H,)) for _ in range(parts))


@pytest.mark.parametrize("with_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["time-major", "batch-first"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("kind", list(KINDS))
def test_layer_matches_torch(kind, num_layers, bidirectional, batch_first, with_state, device):
    mine, ref = make_pair(kind, device, num_layers=num_layers, bidirectional=bidirectional,
                          batch_first=batch_first)
    x = np.random.default_rng(2).standard_normal((N, T, I) if batch_first else (T, N, I))
    state = initial_state(kind, num_layers, 2 if bidirectional else 1, (N,)) if with_state else None
    assert_same_run(run_minigrad(mine, x, state, device), run_torch(ref, x, state))


@pytest.mark.parametrize("with_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_unbatched_layer_matches_torch(kind, bidirectional, with_state, device):
    mine, ref = make_pair(kind, device, num_layers=2, bidirectional=bidirectional)
    x = np.random.default_rng(3).standard_normal((T, I))
    state = initial_state(kind, 2, 2 if bidirectional else 1, ()) if with_state else None
    mine_run = run_minigrad(mine, x, state, device)
    assert [y.shape for y in mine_run[0]][0] == (T, (2 if bidirectional else 1) * H)
    assert_same_run(mine_run, run_torch(ref, x, state))


@pytest.mark.parametrize("kind", list(KINDS))
def test_layer_without_bias_matches_torch(kind):
    mine, ref = make_pair(kind, "cpu", num_layers=2, bias=False)
    assert not any("bias" in name for name, _ in mine.named_parameters())
    x = np.random.default_rng(4).standard_normal((T, N, I))
    assert_same_run(run_minigrad(mine, x, None), run_torch(ref, x, None))


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_lstm_projection_matches_torch(bidirectional):
    mine, ref = make_pair("lstm", "cpu", num_layers=2, bidirectional=bidirectional, proj_size=2)
    x = np.random.default_rng(5).standard_normal((T, N, I))
    D = 2 if bidirectional else 1
    rng = np.random.default_rng(6)
    state = (rng.standard_normal((2 * D, N, 2)), rng.standard_normal((2 * D, N, H)))
    assert_same_run(run_minigrad(mine, x, state), run_torch(ref, x, state))


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_padded_lengths_match_torch_packed_sequences(kind, bidirectional):
    """lengths= gives what PyTorch's pack_padded_sequence / pad_packed_sequence give."""
    mine, ref = make_pair(kind, "cpu", num_layers=2, bidirectional=bidirectional)
    lengths = [4, 1, 3]
    x = np.random.default_rng(7).standard_normal((T, N, I))
    state = initial_state(kind, 2, 2 if bidirectional else 1, (N,))

    def torch_packed(xt, hx):
        packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths),
                                                         enforce_sorted=False)
        out, last = ref(packed, hx)
        return torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)[0], last

    ref_run = run_torch(ref, x, state, call=torch_packed)
    assert_same_run(run_minigrad(mine, x, state, lengths=lengths), ref_run)


def test_state_dict_names_and_order_match_torch():
    for kind in KINDS:
        mine, ref = make_pair(kind, "cpu", num_layers=3, bidirectional=True)
        assert [n for n, _ in mine.named_parameters()] == list(ref.state_dict())
        for (name, p), q in zip(mine.named_parameters(), ref.parameters()):
            assert p.shape == tuple(q.shape), name
