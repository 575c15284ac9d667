"""Layer features around the arithmetic: dropout between layers, scope tags and role labels for
the renderer, truncated BPTT (detach_state and the graph-growth warning), checks and errors,
parameter sharing between a layer and its cells."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

import minigrad as mg
import nn
from nn.recurrent import GraphGrowthWarning
from minigrad.viz import facts_of, recording

T, N, I, H = 3, 2, 3, 4


def graph_nodes(*outputs) -> list:
    seen, stack, nodes = set(), [o.grad_fn for o in outputs], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(e.node for e in node.next if isinstance(e, mg.Edge))
    return nodes


# --- dropout between layers ----------------------------------------------------------------------
def test_dropout_only_between_layers_in_training_and_reproducible():
    lstm = nn.LSTM(I, H, num_layers=3, dropout=0.5, dtype="float64")
    x = mg.tensor(np.random.default_rng(0).standard_normal((T, N, I)))
    lstm.eval()
    out_eval, _ = lstm(x)
    np.testing.assert_array_equal(out_eval.numpy(), lstm(x)[0].numpy())
    no_dropout = nn.LSTM(I, H, num_layers=3, dtype="float64")
    no_dropout.load_state_dict(lstm.state_dict())
    np.testing.assert_array_equal(out_eval.numpy(), no_dropout(x)[0].numpy())

    lstm.train()
    mg.manual_seed(7)
    out_a, _ = lstm(x)
    mg.manual_seed(7)
    out_b, _ = lstm(x)
    out_c, _ = lstm(x)
    np.testing.assert_array_equal(out_a.numpy(), out_b.numpy())
    assert np.abs(out_a.numpy() - out_eval.numpy()).max() > 1e-6
    assert np.abs(out_a.numpy() - out_c.numpy()).max() > 1e-6


def test_dropout_never_touches_a_single_layer_and_warns_like_pytorch():
    with pytest.warns(UserWarning, match="dropout option adds dropout after all but last"):
        gru = nn.GRU(I, H, dropout=0.5, dtype="float64")
    x = mg.tensor(np.random.default_rng(1).standard_normal((T, N, I)))
    out_train, _ = gru(x)
    np.testing.assert_array_equal(out_train.numpy(), gru.eval()(x)[0].numpy())
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.GRU(I, H, dropout=1.5)


# --- renderer support: scopes and roles ------------------------------------------------------------
def test_every_step_is_scoped_by_layer_direction_and_step():
    lstm = nn.LSTM(I, H, num_layers=2, bidirectional=True)
    with recording():
        out, (h_n, c_n) = lstm(mg.randn(T, N, I, requires_grad=True))
    tagged = set()
    for node in graph_nodes(out, h_n, c_n):
        scope = facts_of(node).scope
        if scope is not None:
            tags = scope.tags()
            assert scope.path() == ("lstm",)
            assert tags["cell"] == "lstm"
            tagged.add((tags["layer"], tags["direction"], tags["step"]))
    assert tagged == {(l, d, t) for l in (0, 1) for d in ("forward", "reverse") for t in range(T)}


def test_steps_carry_role_labels_and_a_custom_scope_name():
    gru = nn.GRU(I, H, num_layers=2)
    gru.scope_name = "encoder"
    with recording():
        out, h_n = gru(mg.randn(T, N, I))
    by_step = {}
    for node in graph_nodes(out, h_n):
        scope = facts_of(node).scope
        if scope is not None and node.roles:
            assert scope.path() == ("encoder",)
            key = (scope.tags()["layer"], scope.tags()["step"])
            by_step.setdefault(key, set()).update(filter(None, node.roles))
    assert len(by_step) == 2 * T
    assert all(roles == {"r_t", "z_t", "n_t", "h_t"} for roles in by_step.values())


def test_scope_tags_of_a_variant_name_the_cell():
    lstm = nn.LSTM(I, H, cell=nn.PeepholeLSTMCell)
    with recording():
        out, _ = lstm(mg.randn(T, N, I))
    scopes = [facts_of(n).scope for n in graph_nodes(out)]
    kinds = {s.tags()["cell"] for s in scopes if s is not None}
    assert kinds == {"peephole_lstm"}


# --- truncated BPTT ------------------------------------------------------------------------------
def test_detach_state_keeps_values_and_nesting():
    h = mg.randn(N, H, requires_grad=True) * 2.0
    state = (h, [h * 3.0, None])
    detached = nn.utils.detach_state(state)
    assert isinstance(detached, tuple) and isinstance(detached[1], list) and detached[1][1] is None
    assert detached[0].grad_fn is None and not detached[0].requires_grad
    np.testing.assert_array_equal(detached[1][0].numpy(), state[1][0].numpy())
    with pytest.raises(TypeError, match="detach_state"):
        nn.utils.detach_state({"h": h})


@pytest.fixture
def growth_threshold():
    """``nn.utils.set_graph_growth_warning``, with the previous threshold restored afterwards."""
    previous = nn.recurrent.get_graph_growth_warning()
    yield nn.utils.set_graph_growth_warning
    nn.utils.set_graph_growth_warning(previous)


def test_graph_growth_warning_fires_without_detach_and_not_with_it(growth_threshold):
    chunks = [mg.randn(T, N, I) for _ in range(5)]
    growth_threshold(3)
    lstm, state = nn.LSTM(I, H), None
    with pytest.warns(GraphGrowthWarning, match="detach_state") as record:
        for x in chunks:
            _, state = lstm(x, state)
    assert sum(w.category is GraphGrowthWarning for w in record) == 1  # once, not every call
    with warnings.catch_warnings():
        warnings.simplefilter("error", GraphGrowthWarning)
        lstm, state = nn.LSTM(I, H), None
        for x in chunks:
            _, state = lstm(x, state)
            state = nn.utils.detach_state(state)
        lstm, state = nn.LSTM(I, H), None
        for x in chunks[:3]:
            out, state = lstm(x, state)
        (out.sum() + state[0].sum() + state[1].sum()).backward()  # frees the state's graph
        lstm(chunks[3], state)


def test_graph_growth_warning_sees_a_half_detached_state_and_can_be_disabled(growth_threshold):
    lstm = nn.LSTM(I, H)
    chunks = [mg.randn(T, N, I) for _ in range(4)]
    growth_threshold(2)
    state = None
    with pytest.warns(GraphGrowthWarning):
        for x in chunks:
            _, state = lstm(x, None if state is None else (state[0].detach(), state[1]))
    growth_threshold(None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GraphGrowthWarning)
        for x in chunks:
            _, state = lstm(x, state)
    with pytest.raises(ValueError, match="positive int or None"):
        growth_threshold(0)


def test_graph_growth_warning_sees_the_state_through_the_ops_made_from_it(growth_threshold):
    """The previous state reached through an op on it (here a scaling): the search walks the
    engine's edges back from hx (it found nothing when it looked for plain tuples, not Edges)."""
    lstm = nn.LSTM(I, H)
    chunks = [mg.randn(T, N, I) for _ in range(4)]
    growth_threshold(2)
    state = None
    with pytest.warns(GraphGrowthWarning, match="detach_state"):
        for x in chunks:
            _, state = lstm(x, None if state is None else tuple(s * 0.5 for s in state))


# --- checks --------------------------------------------------------------------------------------
def test_layer_errors_match_pytorchs():
    lstm = nn.LSTM(I, H)
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        lstm(mg.zeros(1, T, N, I))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        lstm(mg.zeros(T, N, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(1, 2, 4\), got \[1, 3, 4\]"):
        lstm(mg.zeros(T, N, I), (mg.zeros(1, N, H), mg.zeros(1, 3, H)))
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D"):
        lstm(mg.zeros(T, N, I), (mg.zeros(N, H), mg.zeros(N, H)))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D"):
        lstm(mg.zeros(T, I), (mg.zeros(1, 1, H), mg.zeros(1, 1, H)))
    with pytest.raises(ValueError, match="input dtype \\(float64\\) does not match weight dtype \\(float32\\)"):
        lstm(mg.zeros(T, N, I, dtype="float64"))
    with pytest.raises(ValueError, match=r"LSTM: hx\[1\] dtype \(float64\) does not match weight"):
        lstm(mg.zeros(T, N, I), (mg.zeros(1, N, H), mg.zeros(1, N, H, dtype="float64")))
    gru = nn.GRU(I, H, num_layers=2)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 2, 4\), got \[1, 2, 4\]"):
        gru(mg.zeros(T, N, I), mg.zeros(1, N, H))
    for layer in (nn.GRU, nn.RNN):
        with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
            layer(I, H, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(I, H, proj_size=H)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNN(I, H, nonlinearity="gelu")
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        nn.RNN(I, H, num_layers=0)
    with pytest.raises(TypeError, match="batch_first should be of type bool"):
        nn.RNN(I, H, batch_first=1)


@pytest.mark.parametrize("layer", [nn.RNN, nn.LSTM, nn.GRU, nn.ClockworkRNN, nn.DepthGatedLSTM])
@pytest.mark.parametrize("batch_first", [False, True])
def test_empty_sequence_is_refused_like_pytorch(layer, batch_first):
    shape = (N, 0, I) if batch_first else (0, N, I)
    message = (f"{layer.__name__}: Expected sequence length to be larger than 0, got an input "
               f"of shape {shape}")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        layer(I, 8, batch_first=batch_first)(mg.zeros(*shape))
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0"):
        torch.nn.LSTM(I, 8, batch_first=batch_first)(torch.zeros(*shape))
    with pytest.raises(RuntimeError, match=r"shape \(0, 3\)"):
        layer(I, 8)(mg.zeros(0, I))


# --- parameters: shared with the cells, replaceable, movable -----------------------------------------
def test_layer_and_cells_share_parameters_even_after_replacement():
    rnn = nn.RNN(I, H, num_layers=2, dtype="float64")
    x = mg.tensor(np.random.default_rng(2).standard_normal((T, N, I)))
    before, _ = rnn(x)
    rnn.weight_hh_l1 = nn.Parameter(mg.zeros(H, H, dtype="float64"))
    after, _ = rnn(x)
    assert rnn.cells()[1].weight_hh is rnn.weight_hh_l1
    assert list(rnn.state_dict()) == list(torch.nn.RNN(I, H, num_layers=2).state_dict())
    assert np.abs(before.numpy() - after.numpy()).max() > 1e-6
    rnn.to(dtype="float32")
    out, _ = rnn(x.to(dtype="float32"))
    assert out.dtype == mg.float32


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_flatten_parameters_is_there_for_pytorch_code_and_changes_nothing(kind):
    layer = getattr(nn, kind)(I, H, num_layers=2)
    before = {name: p.numpy().copy() for name, p in layer.named_parameters()}
    params = list(layer.parameters())
    assert layer.flatten_parameters() is None
    assert all(a is b for a, b in zip(params, layer.parameters()))
    assert all(np.array_equal(before[name], p.numpy()) for name, p in layer.named_parameters())


def test_train_and_eval_reach_the_cells():
    lstm = nn.LSTM(I, H, num_layers=2, bidirectional=True)
    assert lstm.eval() is lstm and not any(cell.training for cell in lstm.cells())
    lstm.train()
    assert all(cell.training for cell in lstm.cells())


def test_state_dict_round_trip_and_repr():
    lstm = nn.LSTM(I, H, num_layers=2, bidirectional=True, cell=nn.PeepholeLSTMCell,
                   peepholes=("f",))
    copy = nn.LSTM(I, H, num_layers=2, bidirectional=True, cell=nn.PeepholeLSTMCell,
                   peepholes=("f",))
    copy.load_state_dict(lstm.state_dict())
    x = mg.randn(T, N, I)
    np.testing.assert_array_equal(lstm(x)[0].numpy(), copy(x)[0].numpy())
    assert "weight_cf_l1_reverse" in dict(lstm.named_parameters())
    assert "weight_ci_l0" not in dict(lstm.named_parameters())
    text = repr(lstm)
    assert "LSTM(3, 4" in text and "bidirectional=True" in text and "PeepholeLSTMCell" in text


def test_reset_parameters_draws_within_pytorchs_bound():
    gru = nn.GRU(I, 9, num_layers=2)
    for p in gru.parameters():
        p.data = p.data * 0 + 5
    gru.reset_parameters()
    for name, p in gru.named_parameters():
        assert np.abs(p.numpy()).max() <= 1 / 3, name


@pytest.mark.parametrize("kind, options", [
    ("LSTM", dict(proj_size=2, num_layers=3)),
    ("GRU", dict(num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)),
    ("RNN", dict(nonlinearity="relu", num_layers=2)),
    ("RNNCell", dict(nonlinearity="relu")),
    ("GRUCell", dict(bias=False)),
])
def test_repr_matches_pytorch(kind, options):
    assert repr(getattr(nn, kind)(3, 4, **options)) == repr(getattr(torch.nn, kind)(3, 4, **options))
