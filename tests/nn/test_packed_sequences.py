"""nn.utils.rnn (torch.nn.utils.rnn): padding and packing, and recurrent layers fed a
PackedSequence, against PyTorch with the same weights."""
import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as trnn

import minigrad as mg
import nn
from nn.utils import rnn

RNG = np.random.default_rng(3)
LENGTHS = [5, 3, 3, 1]
SEQS = [RNG.standard_normal((n, 2)) for n in LENGTHS]


@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_equals_torchs(batch_first):
    got = rnn.pad_sequence([mg.tensor(s) for s in SEQS], batch_first=batch_first, padding_value=-1.0)
    want = trnn.pad_sequence([torch.tensor(s) for s in SEQS], batch_first=batch_first, padding_value=-1.0)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("enforce_sorted, order", [(True, [0, 1, 2, 3]), (False, [2, 0, 3, 1])])
def test_packed_data_and_batch_sizes_equal_torchs(enforce_sorted, order):
    seqs = [SEQS[i] for i in order]
    lengths = [LENGTHS[i] for i in order]
    padded = rnn.pad_sequence([mg.tensor(s) for s in seqs])
    tpadded = trnn.pad_sequence([torch.tensor(s) for s in seqs])
    got = rnn.pack_padded_sequence(padded, lengths, enforce_sorted=enforce_sorted)
    want = trnn.pack_padded_sequence(tpadded, lengths, enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(got.data.numpy(), want.data.numpy())
    np.testing.assert_array_equal(got.batch_sizes.numpy(), want.batch_sizes.numpy())


def test_unsorted_lengths_are_refused_when_sorting_is_enforced_as_in_torch():
    padded = rnn.pad_sequence([mg.tensor(s) for s in SEQS[::-1]])
    with pytest.raises(RuntimeError, match="not sorted in decreasing order"):
        rnn.pack_padded_sequence(padded, LENGTHS[::-1])
    with pytest.raises(RuntimeError, match="sorted"):
        trnn.pack_padded_sequence(trnn.pad_sequence([torch.tensor(s) for s in SEQS[::-1]]), LENGTHS[::-1])


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_a_layer_fed_a_packed_batch_matches_torch(kind, batch_first):
    torch.manual_seed(0)
    ref = getattr(torch.nn, kind)(2, 4, num_layers=2, bidirectional=True, batch_first=batch_first).double()
    mine = getattr(nn, kind)(2, 4, num_layers=2, bidirectional=True, batch_first=batch_first).double()
    mine.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    order = [1, 0, 3, 2]
    seqs, lengths = [SEQS[i] for i in order], [LENGTHS[i] for i in order]
    x = [mg.tensor(s, requires_grad=True) for s in seqs]
    tx = [torch.tensor(s, requires_grad=True) for s in seqs]
    packed = rnn.pack_padded_sequence(rnn.pad_sequence(x, batch_first), lengths, batch_first, enforce_sorted=False)
    tpacked = trnn.pack_padded_sequence(trnn.pad_sequence(tx, batch_first), lengths, batch_first,
                                        enforce_sorted=False)
    out, state = mine(packed)
    tout, tstate = ref(tpacked)
    np.testing.assert_allclose(out.data.numpy(), tout.data.detach().numpy(), atol=1e-12)
    padded, got_lengths = rnn.pad_packed_sequence(out, batch_first=batch_first, total_length=6)
    tpadded, want_lengths = trnn.pad_packed_sequence(tout, batch_first=batch_first, total_length=6)
    np.testing.assert_allclose(padded.numpy(), tpadded.detach().numpy(), atol=1e-12)
    np.testing.assert_array_equal(got_lengths.numpy(), want_lengths.numpy())
    h, th = (state[0], tstate[0]) if kind == "LSTM" else (state, tstate)
    np.testing.assert_allclose(h.numpy(), th.detach().numpy(), atol=1e-12)
    w = RNG.standard_normal(tpadded.shape)
    (padded * mg.tensor(w)).sum().backward()
    (tpadded * torch.tensor(w)).sum().backward()
    for a, b in zip(x, tx):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)
