"""nn.RNNCell / nn.LSTMCell / nn.GRUCell against PyTorch's cells (float64, copied weights), the
LSTM's two forms, forget-bias initialisation, PyTorch's initialisation and checks."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from recurrent_helpers import assert_same_run, copy_weights, run_minigrad, run_torch

import minigrad as mg
import nn

I, H, N = 3, 4, 2
CELLS = {  # name: (minigrad class, torch class, extra constructor arguments, state parts)
    "rnn_tanh": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}, 1),
    "rnn_relu": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}, 1),
    "lstm": (nn.LSTMCell, torch.nn.LSTMCell, {}, 2),
    "gru": (nn.GRUCell, torch.nn.GRUCell, {}, 1),
}


def make_pair(kind: str, device: str = "cpu", bias: bool = True):
    mine_class, ref_class, extra, _ = CELLS[kind]
    torch.manual_seed(0)
    ref = ref_class(I, H, bias=bias, dtype=torch.float64, **extra)
    mine = mine_class(I, H, bias=bias, dtype="float64", device=device, **extra)
    copy_weights(mine, ref)
    return mine, ref


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_matches_torch(kind, batched, with_state, bias, device):
    mine, ref = make_pair(kind, device, bias)
    rng = np.random.default_rng(1)
    batch = (N,) if batched else ()
    x = rng.standard_normal(batch + (I,))
    parts = CELLS[kind][3]
    state = tuple(rng.standard_normal(batch + (H,)) for _ in range(parts)) if with_state else None
    mine_run = run_minigrad(mine, x, state, device)
    assert all(y.shape == batch + (H,) for y in mine_run[0])
    assert_same_run(mine_run, run_torch(ref, x, state))


def test_cell_parameters_match_torch_names_shapes_and_init_bounds():
    for kind, (mine_class, ref_class, extra, _) in CELLS.items():
        mine = mine_class(I, 16, **extra)
        ref = ref_class(I, 16, **extra)
        assert [(n, p.shape) for n, p in mine.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in ref.named_parameters()]
        for name, p in mine.named_parameters():
            values = p.numpy()
            assert p.dtype == mg.float32
            assert np.abs(values).max() <= 1 / math.sqrt(16), name
            assert values.std() > 0.5 * (1 / math.sqrt(16)) / math.sqrt(3), name  # U(-b, b)


@pytest.mark.parametrize("proj_size", [0, 2])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_lstm_concat_form_equals_fused_form(bias, proj_size):
    """Olah's one (H, H+I) matrix per gate on [h, x] == one fused matmul then a split."""
    fused = nn.LSTMCell(I, H, bias=bias, dtype="float64", proj_size=proj_size)
    concat = nn.LSTMCell(I, H, bias=bias, dtype="float64", proj_size=proj_size, form="concat")
    concat.load_state_dict(fused.state_dict())
    rng = np.random.default_rng(2)
    x = rng.standard_normal((N, I))
    state = (rng.standard_normal((N, proj_size or H)), rng.standard_normal((N, H)))
    assert_same_run(run_minigrad(concat, x, state), run_minigrad(fused, x, state), tol=1e-12)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_lstm_layer_concat_form_equals_fused_form(bias):
    fused = nn.LSTM(I, H, num_layers=2, bidirectional=True, bias=bias, dtype="float64")
    concat = nn.LSTM(I, H, num_layers=2, bidirectional=True, bias=bias, dtype="float64",
                     form="concat")
    concat.load_state_dict(fused.state_dict())
    x = np.random.default_rng(3).standard_normal((5, N, I))
    assert_same_run(run_minigrad(concat, x, None), run_minigrad(fused, x, None), tol=1e-12)


def test_concat_form_builds_the_essays_matrices():
    cell = nn.LSTMCell(I, H, dtype="float64", form="concat")
    per_gate = cell.prepare().per_gate
    W_f = per_gate["f"][0].T.numpy()
    assert W_f.shape == (H, H + I)
    expected = np.concatenate([cell.weight_hh.numpy()[H:2 * H], cell.weight_ih.numpy()[H:2 * H]], axis=1)
    np.testing.assert_array_equal(W_f, expected)
    np.testing.assert_array_equal(per_gate["f"][1].numpy(),
                                  cell.bias_ih.numpy()[H:2 * H] + cell.bias_hh.numpy()[H:2 * H])


@pytest.mark.parametrize("cell_class,rows", [(nn.LSTMCell, slice(H, 2 * H)),
                                             (nn.PeepholeLSTMCell, slice(H, 2 * H)),
                                             (nn.CoupledLSTMCell, slice(0, H))])
def test_forget_bias_sets_forget_rows_only(cell_class, rows):
    plain = cell_class(I, H)
    mg.manual_seed(5)
    opened = cell_class(I, H, forget_bias=1.0)
    mg.manual_seed(5)
    reference = cell_class(I, H)
    b_ih, b_hh = opened.bias_ih.numpy(), opened.bias_hh.numpy()
    np.testing.assert_array_equal(b_ih[rows], 1.0)
    np.testing.assert_array_equal(b_hh[rows], 0.0)
    others = np.ones(b_ih.shape, bool)
    others[rows] = False
    np.testing.assert_array_equal(b_ih[others], reference.bias_ih.numpy()[others])
    assert plain.forget_bias is None and opened.forget_bias == 1.0
    opened.reset_parameters()
    np.testing.assert_array_equal(opened.bias_ih.numpy()[rows], 1.0)


def test_forget_bias_in_a_layer_and_its_effect():
    lstm = nn.LSTM(I, H, num_layers=2, forget_bias=2.0)
    for name in ("bias_ih_l0", "bias_ih_l1"):
        np.testing.assert_array_equal(getattr(lstm, name).numpy()[H:2 * H], 2.0)
    with pytest.raises(ValueError, match="bias=True"):
        nn.LSTMCell(I, H, bias=False, forget_bias=1.0)
    for bad in (float("nan"), float("inf"), "1", True):
        with pytest.raises(ValueError, match="forget_bias must be a finite number"):
            nn.LSTM(I, H, forget_bias=bad)


def test_cell_errors_name_the_problem():
    cell = nn.LSTMCell(I, H)
    with pytest.raises(ValueError, match="Expected input to be 1D or 2D, got 3D"):
        cell(mg.zeros(1, N, I))
    with pytest.raises(RuntimeError, match="inconsistent input_size: got 5 expected 3"):
        cell(mg.zeros(N, 5))
    with pytest.raises(RuntimeError, match="hidden1 has inconsistent hidden_size: got 7, expected 4"):
        cell(mg.zeros(N, I), (mg.zeros(N, H), mg.zeros(N, 7)))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        cell(mg.zeros(N, I), (mg.zeros(3, H), mg.zeros(3, H)))
    with pytest.raises(ValueError, match="form must be one of"):
        nn.LSTMCell(I, H, form="stacked")
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNNCell(I, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.GRUCell(I, 0)
    with pytest.raises(TypeError, match="bias should be of type bool"):
        nn.GRUCell(I, H, bias=1)
    with pytest.raises(TypeError, match="proj_size"):
        nn.GRUCell(I, H, proj_size=2)


@pytest.mark.parametrize("module, x, h", [
    (nn.LSTMCell(I, H), mg.zeros(N, I), mg.zeros(N, H)),
    (nn.LSTM(I, H), mg.zeros(5, N, I), mg.zeros(1, N, H)),
    (nn.LSTM(I, H), mg.zeros(5, I), mg.zeros(1, H)),
])
def test_cells_and_layers_check_the_initial_state_in_one_place(module, x, h):
    name = type(module).__name__
    message = rf"{name}: expected the initial state as 2 tensor\(s\) \('h', 'c'\), got 1"
    with pytest.raises(ValueError, match=message):
        module(x, (h,))
    with pytest.raises(ValueError, match=rf"{name}: hx\[1\] dtype \(float64\) does not match"):
        module(x, (h, h.to(dtype="float64")))
    with pytest.raises(TypeError, match=rf"{name}: hx must be a tuple of 2 Tensors \('h', 'c'\), "
                                        r"got ndarray, Tensor; make one with minigrad.tensor"):
        module(x, (h.numpy(), h))


@pytest.mark.parametrize("cell_class", [nn.RNNCell, nn.LSTMCell, nn.GRUCell, nn.PeepholeLSTMCell,
                                        nn.CoupledLSTMCell, nn.ClockworkRNNCell])
def test_cell_dtype_mismatch_names_the_cell_and_argument(cell_class):
    """Checked like the layers check (PyTorch refuses too), not left to addmm's 'dtypes differ'."""
    cell = cell_class(I, 8)
    parts = len(cell.state_names)
    x64, x32 = mg.zeros(N, I, dtype="float64"), mg.zeros(N, I)
    with pytest.raises(ValueError, match=f"{cell_class.__name__}: input dtype \\(float64\\) does "
                                         f"not match weight dtype \\(float32\\)"):
        cell(x64)
    state = [mg.zeros(N, size) for size in cell.state_sizes]
    state[-1] = state[-1].to(dtype="float64")
    what = "hidden" if parts == 1 else f"hx\\[{parts - 1}\\]"
    with pytest.raises(ValueError, match=f"{what} dtype \\(float64\\) does not match weight dtype"):
        cell(x32, state[0] if parts == 1 else tuple(state))


def test_depth_gated_cell_checks_the_lower_cells_dtype():
    with pytest.raises(ValueError, match=r"DepthGatedLSTMCell: lower_c dtype \(float64\)"):
        nn.DepthGatedLSTMCell(I, H)(mg.zeros(N, I), mg.zeros(N, H, dtype="float64"))


def test_cells_label_their_nodes_with_the_essays_roles():
    x = mg.randn(N, I, requires_grad=True)
    roles = {
        nn.LSTMCell(I, H): {"i_t", "f_t", "C~_t", "o_t", "C_t", "h_t"},
        nn.LSTMCell(I, H, form="concat"): {"i_t", "f_t", "C~_t", "o_t", "C_t", "h_t", "W_f", "W_C"},
        nn.GRUCell(I, H): {"r_t", "z_t", "n_t", "h_t"},
        nn.RNNCell(I, H): {"h_t"},
    }
    for cell, expected in roles.items():
        out = cell(x)
        assert expected <= _roles_in_graph(out[0] if isinstance(out, tuple) else out), cell


def _roles_in_graph(t) -> set:
    seen, stack, roles = set(), [t.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        roles.update(node.role(i) for i in range(node.n_outputs) if node.role(i))
        stack.extend(e[0] for e in node.next if type(e) is tuple)
    return roles

