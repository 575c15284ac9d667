"""The essay's LSTM variants (PyTorch has none of them): forward against a plain NumPy
transcription of their equations, backward by finite differences, and the identities that tie
them to the plain cells."""
from __future__ import annotations

import numpy as np
import pytest
from recurrent_helpers import sigmoid

import minigrad as mg
import nn

T, N, I, H = 5, 2, 3, 4


def params_of(module) -> dict:
    return {name: p.numpy() for name, p in module.named_parameters()}


def bias_sum(p: dict, suffix: str = "") -> np.ndarray | float:
    return p[f"bias_ih{suffix}"] + p[f"bias_hh{suffix}"] if f"bias_ih{suffix}" in p else 0.0


# --- NumPy transcriptions of the equations ---------------------------------------------------
def np_peephole(xs, h, c, p, sfx="", lower_cs=None):
    """Peephole LSTM over xs (T, N, I); with lower_cs, the depth-gated LSTM of Yao et al."""
    zero = np.zeros(H)
    w_ci, w_cf, w_co = (p.get(f"weight_c{g}{sfx}", zero) for g in "ifo")
    hs, cs = [], []
    for t, x in enumerate(xs):
        a = x @ p[f"weight_ih{sfx}"].T + h @ p[f"weight_hh{sfx}"].T + bias_sum(p, sfx)
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
        i = sigmoid(a_i + w_ci * c)
        f = sigmoid(a_f + w_cf * c)
        g = np.tanh(a_g)
        if lower_cs is None:
            c = f * c + i * g
        else:
            d = sigmoid(x @ p[f"weight_id{sfx}"].T + p.get(f"bias_d{sfx}", 0.0)
                        + p[f"weight_cd{sfx}"] * c + p[f"weight_ld{sfx}"] * lower_cs[t])
            c = d * lower_cs[t] + f * c + i * g
        o = sigmoid(a_o + w_co * c)
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)


def np_coupled(xs, h, c, p):
    hs = []
    for x in xs:
        a = x @ p["weight_ih"].T + h @ p["weight_hh"].T + bias_sum(p)
        a_f, a_g, a_o = np.split(a, 3, axis=1)
        f = sigmoid(a_f)
        c = f * c + (1 - f) * np.tanh(a_g)
        h = sigmoid(a_o) * np.tanh(c)
        hs.append(h)
    return np.stack(hs), c


def np_clockwork(xs, h, p, periods):
    period = np.repeat(periods, h.shape[1] // len(periods))
    mask = period[None, :] >= period[:, None]
    hs = []
    for t, x in enumerate(xs):
        candidate = np.tanh(x @ p["weight_ih"].T + h @ (p["weight_hh"] * mask).T + bias_sum(p))
        h = np.where(t % period == 0, candidate, h)
        hs.append(h)
    return np.stack(hs)


def data(seed=0, steps=T):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((steps, N, I)), rng.standard_normal((N, H)),
            rng.standard_normal((N, H)))


# --- peepholes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("peepholes", [("i", "f", "o"), ("f",), ("i", "o"), ()])
def test_peephole_layer_matches_numpy(peepholes, device):
    lstm = nn.LSTM(I, H, cell=nn.PeepholeLSTMCell, peepholes=peepholes, dtype="float64",
                   device=device)
    names = [n for n, _ in lstm.named_parameters()]
    assert names == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"] + \
        [f"weight_c{g}_l0" for g in peepholes]
    xs, h0, c0 = data()
    out, (h_n, c_n) = lstm(mg.tensor(xs, device=device),
                           (mg.tensor(h0[None], device=device), mg.tensor(c0[None], device=device)))
    hs, cs = np_peephole(xs, h0, c0, params_of(lstm), "_l0")
    np.testing.assert_allclose(out.numpy(), hs, atol=1e-12)
    np.testing.assert_allclose(c_n.numpy()[0], cs[-1], atol=1e-12)


def test_peephole_cell_gradcheck():
    cell = nn.PeepholeLSTMCell(2, 2, dtype="float64")
    xs, h0, c0 = (mg.tensor(a[:, :, :2] if a.ndim == 3 else a[:, :2], requires_grad=True)
                  for a in data(1))

    def two_steps(x, h, c, *params):
        state = (h, c)
        for x_t in x[:2]:
            state = cell(x_t, state)
        return state

    assert mg.gradcheck(two_steps, (xs, h0, c0, *cell.parameters()))


def test_zero_peepholes_equal_the_plain_lstm():
    peephole = nn.LSTM(I, H, num_layers=2, bidirectional=True, cell=nn.PeepholeLSTMCell,
                       dtype="float64")
    plain = nn.LSTM(I, H, num_layers=2, bidirectional=True, dtype="float64")
    state = {k: (np.zeros(v.shape) if "weight_c" in k else v.numpy())
             for k, v in peephole.state_dict().items()}
    peephole.load_state_dict(state)
    plain.load_state_dict({k: v for k, v in state.items() if "weight_c" not in k})
    xs = mg.tensor(data(2)[0])
    (out_a, (h_a, c_a)), (out_b, (h_b, c_b)) = peephole(xs), plain(xs)
    for a, b in ((out_a, out_b), (h_a, h_b), (c_a, c_b)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_peepholes_change_the_result():
    cell = nn.PeepholeLSTMCell(I, H, dtype="float64", peepholes=("o",))
    plain = nn.LSTMCell(I, H, dtype="float64")
    plain.load_state_dict({k: v for k, v in cell.state_dict().items() if k != "weight_co"})
    x, h, c = (mg.tensor(a) for a in (data()[0][0], data()[1], data()[2]))
    assert np.abs(cell(x, (h, c))[0].numpy() - plain(x, (h, c))[0].numpy()).max() > 1e-3


def test_peephole_rejects_unknown_gates():
    with pytest.raises(ValueError, match="peepholes must be a tuple of gates"):
        nn.PeepholeLSTMCell(I, H, peepholes=("g",))


# --- coupled input and forget gates ------------------------------------------------------------
def test_coupled_layer_matches_numpy_stacked_bidirectional():
    lstm = nn.LSTM(I, H, num_layers=2, bidirectional=True, cell=nn.CoupledLSTMCell, dtype="float64")
    assert lstm.weight_ih_l1_reverse.shape == (3 * H, 2 * H)
    xs, h0, c0 = data(3)
    out, (h_n, c_n) = lstm(mg.tensor(xs))
    p = params_of(lstm)
    zeros = np.zeros((N, H))
    layer_input = xs
    for layer in range(2):
        runs = []
        for sfx in (f"_l{layer}", f"_l{layer}_reverse"):
            own = {k[:-len(sfx)]: v for k, v in p.items() if k.endswith(sfx)}
            reverse = sfx.endswith("reverse")
            hs, c = np_coupled(layer_input[::-1] if reverse else layer_input, zeros, zeros, own)
            runs.append((hs[::-1] if reverse else hs, c))
        layer_input = np.concatenate([runs[0][0], runs[1][0]], axis=2)
    np.testing.assert_allclose(out.numpy(), layer_input, atol=1e-12)
    np.testing.assert_allclose(c_n.numpy()[3], runs[1][1], atol=1e-12)


def test_coupled_cell_gradcheck_and_labels():
    cell = nn.CoupledLSTMCell(2, 2, dtype="float64")
    x, h, c = (mg.tensor(np.random.default_rng(4).standard_normal((N, 2)), requires_grad=True)
               for _ in range(3))
    assert mg.gradcheck(lambda x, h, c, *ps: cell(x, (h, c)), (x, h, c, *cell.parameters()))
    h_t, C_t = cell(x, (h, c))
    assert C_t.grad_fn.role(0) == "C_t"
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]


# --- clockwork RNN -----------------------------------------------------------------------------
def test_clockwork_layer_matches_numpy():
    periods = (1, 2, 4, 8)
    rnn = nn.ClockworkRNN(I, 8, periods=periods, dtype="float64")
    rng = np.random.default_rng(5)
    xs, h0 = rng.standard_normal((11, N, I)), rng.standard_normal((N, 8))
    out, h_n = rnn(mg.tensor(xs), mg.tensor(h0[None]))
    p = {k[:-3]: v for k, v in params_of(rnn).items()}
    expected = np_clockwork(xs, h0, p, periods)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy()[0], expected[-1], atol=1e-12)


def test_clockwork_idle_modules_copy_their_state():
    cell = nn.ClockworkRNNCell(I, 4, periods=(1, 2), dtype="float64")
    x, h = mg.tensor(data()[0][0]), mg.tensor(data()[1])
    stepped = cell(x, h, steps_taken=3).numpy()
    np.testing.assert_array_equal(stepped[:, 2:], h.numpy()[:, 2:])   # period 2 idles at t=3
    assert np.abs(stepped[:, :2] - h.numpy()[:, :2]).min() > 0          # period 1 ticks
    assert np.abs(cell(x, h, steps_taken=4).numpy()[:, 2:] - h.numpy()[:, 2:]).min() > 0


def test_clockwork_cell_takes_any_integer_scalar_as_steps_taken():
    cell = nn.ClockworkRNNCell(I, 4, periods=(1, 2), dtype="float64")
    x, h = mg.tensor(data()[0][0]), mg.tensor(data()[1])
    expected = cell(x, h, steps_taken=3).numpy()
    for t in (np.int64(3), np.int32(3), np.array(3), mg.tensor(3), mg.tensor(np.uint8(3))):
        np.testing.assert_array_equal(cell(x, h, steps_taken=t).numpy(), expected, err_msg=repr(t))
    for t in (1.5, np.array([3]), mg.tensor(3.0), True, "3"):
        with pytest.raises(TypeError,
                           match="ClockworkRNNCell: steps_taken must be an integer step count"):
            cell(x, h, steps_taken=t)


def test_clockwork_weights_are_block_upper_triangular_and_masked_entries_get_no_gradient():
    cell = nn.ClockworkRNNCell(I, 6, periods=(1, 2, 4), dtype="float64")
    W = cell.weight_hh.numpy()
    assert np.all(W[2:, :2] == 0) and np.all(W[4:, :4] == 0) and np.all(W[:2, :] != 0)
    cell.weight_hh.data = np.random.default_rng(6).standard_normal((6, 6))  # fill the zeros
    h = cell(mg.randn(N, I, dtype="float64"), mg.randn(N, 6, dtype="float64"))
    h.sum().backward()
    grad = cell.weight_hh.grad.numpy()
    assert np.all(grad[2:, :2] == 0) and np.all(grad[4:, :4] == 0)
    assert np.all(grad[:2, :] != 0)


def test_clockwork_with_all_periods_one_equals_a_plain_rnn():
    clockwork = nn.ClockworkRNN(I, H, num_layers=2, bidirectional=True, periods=(1, 1),
                                dtype="float64")
    plain = nn.RNN(I, H, num_layers=2, bidirectional=True, dtype="float64")
    plain.load_state_dict(clockwork.state_dict())
    xs = mg.tensor(data(7)[0])
    (out_a, h_a), (out_b, h_b) = clockwork(xs), plain(xs)
    np.testing.assert_allclose(out_a.numpy(), out_b.numpy(), atol=1e-15)
    np.testing.assert_allclose(h_a.numpy(), h_b.numpy(), atol=1e-15)


def test_clockwork_block_structured_plain_rnn_equals_clockwork_when_every_module_ticks():
    """With periods (1, 2) and a single step (t = 0, all modules tick) the clockwork cell is a plain
    RNN cell whose recurrent matrix is the block-upper-triangular one."""
    cell = nn.ClockworkRNNCell(I, 4, periods=(1, 2), dtype="float64")
    plain = nn.RNNCell(I, 4, dtype="float64")
    plain.load_state_dict(cell.state_dict())
    x, h = mg.tensor(data()[0][0]), mg.tensor(data()[1])
    np.testing.assert_allclose(cell(x, h, steps_taken=0).numpy(), plain(x, h).numpy(), atol=1e-15)


def test_clockwork_gradcheck_over_steps():
    rnn = nn.ClockworkRNN(2, 4, periods=(1, 2), dtype="float64")
    x = mg.tensor(np.random.default_rng(8).standard_normal((4, 1, 2)), requires_grad=True)
    h = mg.tensor(np.random.default_rng(9).standard_normal((1, 1, 4)), requires_grad=True)
    assert mg.gradcheck(lambda x, h, *ps: rnn(x, h), (x, h, *rnn.parameters()))


def test_clockwork_rejects_bad_periods():
    with pytest.raises(ValueError, match="does not split"):
        nn.ClockworkRNNCell(I, 6, periods=(1, 2, 4, 8))
    with pytest.raises(ValueError, match="sorted"):
        nn.ClockworkRNNCell(I, 4, periods=(2, 1))


# --- depth-gated LSTM --------------------------------------------------------------------------
def test_depth_gated_lstm_matches_numpy():
    dg = nn.DepthGatedLSTM(I, H, num_layers=3, dtype="float64")
    names = [n for n, _ in dg.named_parameters()]
    assert "weight_id_l1" in names and "weight_ld_l2" in names and "bias_d_l1" in names
    assert not any(n.endswith("_l0") and ("_d" in n or "_id" in n) for n in names)
    xs = data(10)[0]
    out, (h_n, c_n) = dg(mg.tensor(xs))
    p = params_of(dg)
    zeros = np.zeros((N, H))
    hs, cs = np_peephole(xs, zeros, zeros, p, "_l0")
    for layer in (1, 2):
        hs, cs = np_peephole(hs, zeros, zeros, p, f"_l{layer}", lower_cs=cs)
    np.testing.assert_allclose(out.numpy(), hs, atol=1e-12)
    np.testing.assert_allclose(c_n.numpy()[2], cs[-1], atol=1e-12)


def test_depth_gated_bidirectional_reads_the_same_directions_cells():
    dg = nn.DepthGatedLSTM(I, H, num_layers=2, bidirectional=True, dtype="float64")
    xs = data(11)[0]
    out, _ = dg(mg.tensor(xs))
    p = params_of(dg)
    zeros = np.zeros((N, H))
    fwd = np_peephole(xs, zeros, zeros, p, "_l0")
    rev = [a[::-1] for a in np_peephole(xs[::-1], zeros, zeros, p, "_l0_reverse")]
    below = np.concatenate([fwd[0], rev[0]], axis=2)
    top_fwd, _ = np_peephole(below, zeros, zeros, p, "_l1", lower_cs=fwd[1])
    top_rev, _ = np_peephole(below[::-1], zeros, zeros, p, "_l1_reverse", lower_cs=rev[1][::-1])
    np.testing.assert_allclose(out.numpy(), np.concatenate([top_fwd, top_rev[::-1]], axis=2),
                               atol=1e-12)


def test_depth_gated_cell_gradcheck_and_depth_gate_label():
    cell = nn.DepthGatedLSTMCell(2, 2, dtype="float64")
    rng = np.random.default_rng(12)
    x, lower, h, c = (mg.tensor(rng.standard_normal((N, 2)), requires_grad=True) for _ in range(4))
    assert mg.gradcheck(lambda x, lower, h, c, *ps: cell(x, lower, (h, c)),
                        (x, lower, h, c, *cell.parameters()))
    h_t, C_t = cell(x, lower, (h, c))
    roles = set()
    stack = [C_t.grad_fn]
    while stack:
        node = stack.pop()
        roles.update(node.role(i) for i in range(node.n_outputs) if node.role(i))
        stack.extend(e[0] for e in node.next if type(e) is tuple)
    assert {"d_t", "f_t", "i_t", "C~_t"} <= roles
    with pytest.raises(RuntimeError, match=r"lower_c must have shape \(2, 2\).*got \(2, 3\)"):
        cell(x, mg.zeros(N, 3, dtype="float64"), (h, c))


def test_depth_gated_cell_outside_its_layer_is_refused():
    with pytest.raises(TypeError, match="use it rather than LSTM\\(cell=DepthGatedLSTMCell\\)"):
        nn.LSTM(I, H, cell=nn.DepthGatedLSTMCell)(mg.zeros(T, N, I))


def test_depth_gated_lstm_gradcheck():
    dg = nn.DepthGatedLSTM(2, 2, num_layers=2, dtype="float64")
    x = mg.tensor(np.random.default_rng(13).standard_normal((3, 1, 2)), requires_grad=True)
    def flat(x, *params):
        out, (h_n, c_n) = dg(x)
        return out, h_n, c_n

    assert mg.gradcheck(flat, (x, *dg.parameters()))
