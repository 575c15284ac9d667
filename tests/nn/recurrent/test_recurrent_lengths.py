"""Padded batches: ``lengths=`` gives, for every sequence, what running it alone gives (outputs,
zeros past its end, final states at its own last step, gradients), for every layer kind."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import nn

T, N, I, H = 6, 3, 2, 4
LENGTHS = [6, 2, 4]
LAYERS = {
    "gru": lambda **kw: nn.GRU(I, H, **kw),
    "peephole": lambda **kw: nn.LSTM(I, H, cell=nn.PeepholeLSTMCell, **kw),
    "coupled": lambda **kw: nn.LSTM(I, H, cell=nn.CoupledLSTMCell, **kw),
    "clockwork": lambda **kw: nn.ClockworkRNN(I, H, periods=(1, 3), **kw),
    "depth_gated": lambda **kw: nn.DepthGatedLSTM(I, H, **kw),
}


def parts(state) -> tuple:
    return state if isinstance(state, tuple) else (state,)


def weighted_sum(tensors, weights):
    total = None
    for t, w in zip(tensors, weights):
        term = (t * mg.tensor(w)).sum()
        total = term if total is None else total + term
    return total


@pytest.mark.parametrize("batch_first", [False, True], ids=["time-major", "batch-first"])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_padded_batch_equals_each_sequence_alone(kind, batch_first):
    layer = LAYERS[kind](num_layers=2, bidirectional=True, batch_first=batch_first, dtype="float64")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, I))
    n_parts = 2 if kind != "gru" and kind != "clockwork" else 1
    h0 = [rng.standard_normal((4, N, H)) for _ in range(n_parts)]
    out_w = rng.standard_normal((T, N, 2 * H))
    last_w = [rng.standard_normal((4, N, H)) for _ in range(n_parts)]

    xt = mg.tensor(x.swapaxes(0, 1) if batch_first else x, requires_grad=True)
    out, last = layer(xt, tuple(mg.tensor(h) for h in h0) if n_parts == 2 else mg.tensor(h0[0]),
                      lengths=LENGTHS)
    out_tm = out.swapaxes(0, 1) if batch_first else out
    weighted_sum([out_tm, *parts(last)], [out_w, *last_w]).backward()
    batch_grads = {name: p.grad.numpy() for name, p in layer.named_parameters()}
    x_grad = xt.grad.numpy().swapaxes(0, 1) if batch_first else xt.grad.numpy()
    np.testing.assert_array_equal(out_tm.numpy()[LENGTHS[1]:, 1], 0.0)

    summed = {name: 0.0 for name in batch_grads}
    for n, length in enumerate(LENGTHS):
        layer.zero_grad()
        xn = mg.tensor(x[:length, n:n + 1], requires_grad=True)
        xn_in = xn.swapaxes(0, 1) if batch_first else xn
        state = tuple(mg.tensor(h[:, n:n + 1]) for h in h0)
        alone, alone_last = layer(xn_in, state if n_parts == 2 else state[0])
        alone_tm = alone.swapaxes(0, 1) if batch_first else alone
        np.testing.assert_allclose(out_tm.numpy()[:length, n:n + 1], alone_tm.numpy(), atol=1e-12)
        for got, expected in zip(parts(last), parts(alone_last)):
            np.testing.assert_allclose(got.numpy()[:, n:n + 1], expected.numpy(), atol=1e-12)
        weighted_sum([alone_tm, *parts(alone_last)],
                     [out_w[:length, n:n + 1], *(w[:, n:n + 1] for w in last_w)]).backward()
        np.testing.assert_allclose(x_grad[:length, n:n + 1], xn.grad.numpy(), atol=1e-12)
        np.testing.assert_array_equal(x_grad[length:, n], 0.0)
        for name, p in layer.named_parameters():
            summed[name] = summed[name] + p.grad.numpy()
    for name in batch_grads:
        np.testing.assert_allclose(batch_grads[name], summed[name], atol=1e-12, err_msg=name)


def test_lengths_are_checked():
    lstm = nn.LSTM(I, H)
    x = mg.zeros(T, N, I)
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 6\]"):
        lstm(x, lengths=[7, 1, 1])
    with pytest.raises(ValueError, match=r"one integer per sequence, shape \(3,\)"):
        lstm(x, lengths=[1, 2])
    with pytest.raises(ValueError, match="batched"):
        lstm(mg.zeros(T, I), lengths=[3])


def test_full_lengths_change_nothing():
    lstm = nn.LSTM(I, H, bidirectional=True, dtype="float64")
    x = mg.tensor(np.random.default_rng(1).standard_normal((T, N, I)))
    out_a, (h_a, _) = lstm(x)
    out_b, (h_b, _) = lstm(x, lengths=mg.tensor([T] * N, dtype="int64"))
    np.testing.assert_array_equal(out_a.numpy(), out_b.numpy())
    np.testing.assert_array_equal(h_a.numpy(), h_b.numpy())
