"""Capture, detail and arrangement of the renderer, on records only (no Graphviz needed).

The graphs are built by hand (viz_graphs.py) with nn's conventions: scopes per step, role
labels, hoisted projections, one unbind, one stack.
"""
import re
from collections import Counter, defaultdict

import numpy as np
import pytest
import viz_graphs as vg

import minigrad as mg
from minigrad.viz import build, capture, render

STATES = {"rnn": {"h"}, "lstm": {"h", "C"}, "gru": {"h"}}
GATES = {"rnn": {"h"}, "lstm": {"i", "f", "C~", "o"}, "gru": {"r", "z", "n"}}


def records(kind="lstm", detail="gate", param_mode="auto", max_nodes=10_000, **model):
    out, params, _ = vg.model(kind, **model)
    return build(capture(out, params=params), detail, param_mode, max_nodes)


def base(role):
    return role.rsplit("_", 1)[0]


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
@pytest.mark.parametrize("kind,T,layers,bidirectional", [
    ("lstm", 3, 1, False), ("lstm", 4, 2, False), ("gru", 3, 2, True), ("rnn", 5, 1, True),
])
def test_one_step_cluster_per_step_layer_and_direction(kind, T, layers, bidirectional, detail):
    g = records(kind, detail, T=T, layers=layers, bidirectional=bidirectional)
    keys = g.steps()
    assert len(keys) == T * layers * (2 if bidirectional else 1)
    assert {(k.layer, k.direction) for k in keys} == {
        (layer, d) for layer in range(layers)
        for d in (["forward", "reverse"] if bidirectional else ["forward"])}
    assert sorted({k.step for k in keys}) == list(range(T))


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
@pytest.mark.parametrize("kind,form", [("rnn", "fused"), ("lstm", "fused"), ("lstm", "concat"),
                                       ("gru", "fused")])
def test_exactly_the_states_cross_step_boundaries(kind, form, detail):
    T = 4
    g = records(kind, detail, T=T, layers=2, bidirectional=True, form=form)
    crossing = Counter()
    for e in g.crossing_edges():
        a, b = g.nodes[e.src].step, g.nodes[e.dst].step
        step = int(e.role.rsplit("_", 1)[1])
        assert step == a.step, "the label carries the step that produced the state"
        assert b.step == (a.step + 1 if a.direction == "forward" else a.step - 1)
        crossing[a.layer, a.direction, base(e.role)] += 1
    expected = Counter({(layer, d, s): T - 1 for layer in range(2)
                        for d in ("forward", "reverse") for s in STATES[kind]})
    assert crossing == expected


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_in_a_padded_batch_the_kept_states_are_named_too(detail, bidirectional):
    """Past a sequence's end nn's runner keeps its state with ``where``: what crosses to the next
    step is still h_t and C_t, and is named so."""
    import nn

    mg.manual_seed(0)
    lstm = nn.LSTM(3, 4, bidirectional=bidirectional)
    out, _ = lstm(mg.randn(4, 2, 3), lengths=[4, 2])
    g = build(capture(out), detail)
    roles = [e.role for e in g.crossing_edges()]
    assert len(roles) == 2 * 3 * (2 if bidirectional else 1)
    assert {base(r) for r in roles if r is not None} == {"h", "C"} and None not in roles


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_gate_detail_draws_one_box_per_gate_labelled_with_its_step(kind):
    T = 3
    g = records(kind, "gate", T=T, layers=2)
    by_step = {}
    for node in g.nodes.values():
        if node.kind == "gate":
            by_step.setdefault(node.step, set()).add(node.role)
    assert len(by_step) == 2 * T
    for key, roles in by_step.items():
        assert roles == {f"{gate}_{key.step}" for gate in GATES[kind]}


def test_fused_and_concatenated_lstm_draw_the_same_gates():
    fused = records("lstm", "gate", T=2, form="fused")
    concat = records("lstm", "gate", T=2, form="concat")

    def gates(g):
        return sorted((n.step.step, n.role, n.op) for n in g.nodes.values() if n.kind == "gate")
    assert gates(fused) == gates(concat)
    for g in (fused, concat):  # [h_{t-1}, x_t] meet at one junction that feeds the four boxes
        for key in g.steps()[1:]:
            junctions = [n for n in g.nodes.values() if n.kind == "junction" and n.step == key
                         and n.op == "Concat"]
            assert len(junctions) == 1
            fed = {e.dst for e in g.edges if e.src == junctions[0].id}
            assert {g.nodes[d].role.rsplit("_", 1)[0] for d in fed} == GATES["lstm"]


def test_op_detail_keeps_every_primitive_op_of_a_step():
    g = records("lstm", "op", T=2)
    ops = Counter(n.op for n in g.nodes.values() if n.step is not None and n.step.step == 1
                  and n.kind == "op")
    # gates = addmm(xw_t, h, W^T); split; 3 sigmoids, 2 tanh; C = f*C + i*C~ ; h = o * tanh(C)
    assert ops == Counter({"AddMM": 1, "Add": 1, "Split": 1, "Sigmoid": 3, "Tanh": 2, "Mul": 3})


def test_cell_detail_edges_carry_h_and_c_with_their_shapes():
    g = records("lstm", "cell", T=3, hidden=5, batch=2)
    assert {n.kind for n in g.nodes.values() if n.step is not None} <= {"cell", "stub", "exit"}
    for e in g.crossing_edges():
        assert e.shape == (2, 5)
    cells = [n for n in g.nodes.values() if n.kind == "cell"]
    assert len(cells) == 3 and {c.cell for c in cells} == {"lstm"}


@pytest.mark.parametrize("mode", ["once", "repeat", "hide"])
def test_parameters_drawn_once_repeated_or_hidden(mode):
    T = 3
    g = records("lstm", "op", param_mode=mode, T=T)
    params = [n for n in g.nodes.values() if n.kind == "param"]
    ghosts = [n for n in g.nodes.values() if n.kind == "ghost"]
    if mode == "once":
        assert Counter(n.name for n in params) == Counter(
            {"weight_ih_l0": 1, "weight_hh_l0": 1, "bias_ih_l0": 1, "bias_hh_l0": 1})
        assert not ghosts
        assert all(e.kind == "param" for e in g.edges if g.nodes[e.src].kind == "param")
    elif mode == "repeat":
        # W_hh^T is used inside every step: one faint copy per step
        per_step = Counter(n.step.step for n in ghosts if n.name == "weight_hh_l0ᵀ")
        assert per_step == Counter({t: 1 for t in range(T)})
    else:
        assert not params and not ghosts
        assert not [n for n in g.nodes.values() if n.kind == "derived"]


def test_inputs_enter_each_step_from_a_stub_and_stacked_layers_connect_per_step():
    T = 3
    g = records("lstm", "gate", T=T, layers=2)
    stubs = {(n.step.layer, n.step.step): n for n in g.nodes.values() if n.kind == "stub"}
    assert set(stubs) == {(layer, t) for layer in range(2) for t in range(T)}
    for t in range(T):
        assert stubs[0, t].role == f"x_{t}"
        feeding = [g.nodes[e.src] for e in g.edges if e.dst == stubs[1, t].id]
        assert [(n.step.layer, n.step.step, n.role) for n in feeding] == [(0, t, f"h_{t}")]


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
def test_a_state_handed_to_another_model_comes_from_its_own_layer(detail):
    """A 2-layer encoder hands its final states (h_n, c_n, sliced per layer) to a 2-layer
    decoder, as nn does. The slices were drawn as the decoder's inputs, "x_0", fed by nothing
    (and the encoder, no longer reaching the outputs, not at all): each comes from the encoder's
    last step of its own layer, and says so."""
    x = mg.tensor(np.ones((3, 2, 3)))
    _, finals = vg.run("lstm", x, vg.make_params("lstm", 3, 4, layers=2), 4, layers=2,
                       name="encoder")
    per_layer = [part.unbind(0) for part in (mg.stack(list(s)) for s in zip(*finals))]
    state0 = [[tuple(p[layer] for p in per_layer)] for layer in range(2)]
    y, _ = vg.run("lstm", x[:2], vg.make_params("lstm", 3, 4, layers=2, seed=1), 4, layers=2,
                  name="decoder", state0=state0)
    g = build(capture(y), detail, "hide")
    handed = defaultdict(set)  # decoder layer -> (encoder layer, step, state) feeding it
    for e in g.edges:
        src, dst = g.nodes[e.src], g.nodes[e.dst]
        if src.step and src.step.group == "encoder" and dst.step.group == "decoder":
            handed[dst.step.layer].add((src.step.layer, src.step.step, base(e.role)))
            if dst.kind == "stub":
                assert dst.role == e.role and dst.layer == src.step.layer
    assert handed == {k: {(k, 2, "h"), (k, 2, "C")} for k in range(2)}
    assert not [n for n in g.nodes.values() if n.kind == "stub" and n.role.startswith("x")
                and n.op != "·Wᵀ + b"]


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
def test_an_initial_state_of_every_layer_is_not_called_x(detail):
    """A learned initial state (a leaf, unnamed), sliced per layer: its slices were drawn as
    stubs named like the input, "x_0", in both layers."""
    h0 = mg.tensor(np.zeros((2, 2, 4)), requires_grad=True)
    x = mg.tensor(np.ones((3, 2, 3)))
    out, _ = vg.run("gru", x, vg.make_params("gru", 3, 4, layers=2), 4, layers=2,
                    state0=[[(h,)] for h in h0.unbind(0)])
    g = build(capture(out), detail, "hide")
    assert not [n for n in g.nodes.values() if n.kind == "stub" and n.op != "·Wᵀ + b"]
    leaf, = [n.id for n in g.nodes.values() if n.kind == "input"]
    fed = {e.dst for e in g.edges if e.src in {leaf} | {d.dst for d in g.edges if d.src == leaf}}
    assert {g.nodes[d].step.layer for d in fed if g.nodes[d].step} == {0, 1}

@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_a_learned_initial_state_of_a_one_step_run_is_not_the_input(kind, detail):
    """One step, one layer, a learned initial state (leaves, unnamed, unbound per layer as nn
    does): its slices were drawn as the step's inputs, stubs named "x_0" beside the real x_0,
    and the leaves not at all. They are drawn as over two steps: each leaf, then its unbind
    into step 0; x_0 alone is a stub, the input projected by the layer's weights."""
    params = vg.make_params(kind, 3, 4)
    starts = [mg.tensor(np.zeros((1, 2, 4)), requires_grad=True) for _ in vg.STATE[kind]]
    state0 = [[tuple(s.unbind(0)[0] for s in starts)]]
    for T in (1, 2):
        out, _ = vg.run(kind, mg.tensor(np.ones((T, 2, 3))), params, 4, state0=state0)
        g = build(capture(out, params=params), detail, "hide")
        assert sorted((n.role, n.op) for n in g.nodes.values() if n.kind == "stub") == [
            (f"x_{t}", "·Wᵀ + b") for t in range(T)]
        leaves = [n.id for n in g.nodes.values() if n.kind == "input"]
        assert len(leaves) == len(starts)
        unbinds = {e.dst for e in g.edges if e.src in leaves}
        assert {g.nodes[u].op for u in unbinds} == {"Unbind"}
        assert {g.nodes[e.dst].step.step for e in g.edges if e.src in unbinds} == {0}



@pytest.mark.parametrize("projection, text", [
    (lambda flat, W, b: mg.addmm(b, flat, W.T), "·Wᵀ + b"),   # as nn computes it
    (lambda flat, W, b: flat @ W.T + b, "·Wᵀ + b"),
    (lambda flat, W, b: flat @ W.T, "·Wᵀ"),
    (lambda flat, W, b: mg.addmm(b, flat, W.detach().T), " + b"),  # W frozen: only a bias
])
def test_a_stub_says_how_its_input_was_projected(projection, text):
    rng = np.random.default_rng(0)
    W = mg.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    b = mg.tensor(rng.normal(size=4), requires_grad=True)
    x = mg.tensor(rng.normal(size=(2, 5, 3)))
    h = mg.zeros((5, 4), dtype=mg.float64)
    for t, xw_t in enumerate(projection(x.reshape(10, 3), W, b).reshape(2, 5, 4).unbind(0)):
        with mg.scope("rnn", layer=0, direction="forward", step=t, cell="rnn"):
            h = (xw_t + h).tanh().label("h_t")
    g = build(capture(h, params={"W": W, "b": b}), "gate", "auto", 10_000)
    stubs = [n for n in g.nodes.values() if n.kind == "stub"]
    assert len(stubs) == 2 and {n.op for n in stubs} == {text}


@pytest.mark.parametrize("after_backward", [False, True])
def test_every_constant_input_is_drawn_saved_or_not(after_backward):
    """addmm does not save c, Sub saves nothing, and backward frees what ops saved: the
    constants are drawn all the same, with their shapes and small values."""
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    y = 1.0 - mg.addmm(np.arange(4.0), x, mg.ones(3, 4, dtype=mg.float64))
    if after_backward:
        y.sum().backward()
    g = build(capture(y), "op", "auto", 10_000)
    consts = {n.shape: n for n in g.nodes.values() if n.kind == "const"}
    assert set(consts) == {None, (4,), (3, 4)}  # 1.0 (a number has no shape), c, b
    assert consts[None].value == 1.0
    into = {e.dst for e in g.edges if e.src == consts[None].id}
    assert [g.nodes[d].op for d in into] == ["Sub"]


def test_an_unscoped_graph_is_captured_flat_with_values_and_gradients():
    a = mg.tensor(2.0, requires_grad=True)
    b = mg.tensor(-3.0, requires_grad=True)
    a.name, b.name = "a", "b"
    with mg.viz.recording():
        e = (a * b + 10.0).tanh()
        e.backward()
    g = build(capture(e), "auto")
    assert g.detail == "op" and not g.steps()
    assert sorted(n.op for n in g.nodes.values() if n.kind == "op") == ["Add", "Mul", "Tanh"]
    leaves = {n.name: n for n in g.nodes.values() if n.kind == "input"}
    assert float(leaves["a"].value) == 2.0
    assert float(leaves["a"].grad_value) == pytest.approx(float(a.grad.item()))
    tanh = next(n for n in g.nodes.values() if n.op == "Tanh")
    assert float(tanh.value) == pytest.approx(np.tanh(4.0))
    assert tanh.grad_norm == pytest.approx(1.0)


@pytest.mark.parametrize("param_mode", ["once", "repeat", "hide"])
def test_a_computation_on_data_is_flow_even_when_only_parameters_need_gradients(param_mode):
    """A neuron written by hand, tanh(w * x + b) with x data (no gradient): every op is computed
    from parameters and constants, yet it is the computation, not a parameter. It was drawn as
    parameters, the output too, and with param_mode="hide" nothing at all was drawn. A
    transposed weight that a product with data reads stays with the parameters."""
    rng = np.random.default_rng(0)
    w, b, W = vg.param(rng, 3), vg.param(rng, 3), vg.param(rng, 2, 3)
    x = mg.tensor(rng.normal(size=3))
    g = build(capture((w * x + b).tanh().sum()), "op", param_mode)
    assert sorted(n.op for n in g.nodes.values() if n.kind == "op") == ["Add", "Mul", "Sum", "Tanh"]
    assert not [n for n in g.nodes.values() if n.kind == "derived"]
    g = build(capture((x @ W.T).sum()), "op", param_mode)
    assert sorted(n.op for n in g.nodes.values() if n.kind == "op") == ["MatMul", "Sum"]
    derived = [n.op for n in g.nodes.values() if n.kind == "derived"]
    assert derived == ([] if param_mode == "hide" else ["Transpose"])


@pytest.mark.parametrize("prepare, ops, on_data", [
    (lambda x, W, tokens: (W * 2.0).T, ["Mul", "Transpose"], False),          # scaled
    (lambda x, W, tokens: (W * mg.tensor(np.triu(np.ones((4, 4))))).T, ["Mul", "Transpose"],
     False),                                                                   # masked
    (lambda x, W, tokens: W[np.arange(4)[::-1]].T, ["GetItem", "Transpose"], False),
    (lambda x, W, tokens: (W * x[:, None]).T, ["Mul", "Transpose"], True),    # x (N, 4) data
    (lambda x, W, tokens: W[tokens].sum(axis=0).T, ["GetItem", "Sum", "Transpose"], True),
], ids=["scaled", "masked", "permuted", "times-data", "looked-up"])
def test_a_parameter_computation_never_computes_on_data(prepare, ops, on_data):
    """What the steps read, computed outside them from a parameter W (4, 4) and constants: a
    parameter computation when the constants scale, mask or permute W (the clockwork RNN's
    M * W_hh), drawn with the parameters; flow when they give it axes or lengths of their own,
    as data does (w * x, an embedding's rows picked by tokens of shape (3, 4)). Those were
    drawn as parameters, and param_mode="hide" hid them."""
    rng = np.random.default_rng(0)
    W = vg.param(rng, 4, 4)
    x = mg.tensor(rng.normal(size=(4, 4)))
    read = prepare(x, W, mg.tensor(rng.integers(0, 4, size=(3, 4))))
    h = mg.zeros((4, 4), dtype=mg.float64)
    for t in range(2):
        with mg.scope("rnn", layer=0, direction="forward", step=t, cell="rnn"):
            h = (h @ read).tanh().label("h_t")
    g = capture(h, params={"W": W})
    assert sorted(n.op for n in g.nodes.values() if n.kind == "derived") == ([] if on_data else ops)
    hidden = build(g, "op", "hide")
    assert sorted(n.op for n in hidden.nodes.values() if n.kind == "op" and n.step is None) == (
        ops if on_data else [])


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_recorded_gradient_norms_reach_the_records(kind):
    """The norm drawn on the edge h_t -> step t+1 is |dL/dh_t| (and C_t's for the LSTM)."""
    params = vg.make_params(kind, 3, 4)
    x = mg.tensor(np.random.default_rng(0).normal(size=(4, 2, 3)))
    states = []
    out, _ = vg.run(kind, x, params, 4, keep=states)
    loss = out[3].sum()
    with mg.viz.recording():
        loss.backward(retain_graph=True)
    expected = {}
    for t, state in enumerate(states[:-1]):
        for name, tensor in zip(sorted(STATES[kind], reverse=True), state):
            (grad,) = mg.grad(loss, [tensor], retain_graph=True)
            expected[f"{name}_{t}"] = float(np.linalg.norm(grad.numpy()))
    g = build(capture(out, params=params), "cell")
    drawn = {e.role: e.grad_norm for e in g.crossing_edges()}
    assert drawn.keys() == expected.keys()
    for role, norm in expected.items():
        assert drawn[role] == pytest.approx(norm, rel=1e-12)


def test_what_leaves_a_junction_carries_the_gradient_norm_of_its_joined_parts():
    params = vg.make_params("lstm", 3, 4)
    x = mg.tensor(np.random.default_rng(0).normal(size=(3, 2, 3)), requires_grad=True)
    out, _ = vg.run("lstm", x, params, 4)
    with mg.viz.recording():
        out[2].sum().backward()
    g = build(capture(out, params=params), "gate")
    junctions = [n.id for n in g.nodes.values() if n.kind == "junction"]
    assert junctions
    for j in junctions:
        parts = [e.grad_norm for e in g.edges if e.dst == j and e.grad_norm is not None]
        leaving = [e.grad_norm for e in g.edges if e.src == j]
        assert parts and len(leaving) == 4
        assert leaving == [pytest.approx(np.sqrt(sum(n * n for n in parts)))] * 4


def test_a_detached_state_becomes_a_dashed_detach_edge():
    params = vg.make_params("lstm", 3, 4)
    rng = np.random.default_rng(0)
    x1, x2 = (mg.tensor(rng.normal(size=(2, 2, 3))) for _ in range(2))
    first, finals = vg.run("lstm", x1, params, 4)
    h, c = finals[0]
    second, _ = vg.run("lstm", x2, params, 4, state0=[[(h.detach(), c.detach())]])
    g = build(capture(first, second), "cell")
    cuts = [e for e in g.edges if e.kind == "detach"]
    assert sorted(base(e.role) for e in cuts) == ["C", "h"]
    for e in cuts:
        src, dst = g.nodes[e.src], g.nodes[e.dst]
        assert src.step.step == 1 and dst.step.step == 2, "the second call continues the time axis"
        assert src.step.row == dst.step.row


def test_a_slice_of_a_detached_drawn_state_is_traced_to_it_whatever_the_output_order():
    """A layer slices its initial state (h_n of the last chunk, detached) per layer: the slice
    inherits the detach's trace. Drawn with h_n among the outputs, in either order, the second
    chunk continues the first one's time axis."""
    params = vg.make_params("rnn", 3, 4)
    x = mg.tensor(np.ones((2, 1, 3)))
    first, finals = vg.run("rnn", x, params, 4)
    h_n = mg.stack([finals[0][0]])
    sliced = h_n.detach().unbind(0)[0]
    second, _ = vg.run("rnn", x, params, 4, state0=[[(sliced,)]])
    for outputs in ((second, h_n), (h_n, second)):
        g = build(capture(*outputs), "cell")
        cuts = [e for e in g.edges if e.kind == "detach"]
        assert len(cuts) == 1 and g.nodes[cuts[0].src].op == "Stack"
        assert sorted(k.step for k in g.steps()) == [0, 1, 2, 3]
        assert {k.call for k in g.steps()} == {0}


def test_the_steps_of_one_run_do_not_depend_on_the_order_of_the_outputs():
    """Drawn with c_n before the output, the nodes of the last step that only the output
    reaches (o_2, h_2) were taken for a second call of the layer, and numbered on: t = 5."""
    x = mg.tensor(np.ones((3, 2, 3)))
    output, finals = vg.run("lstm", x, vg.make_params("lstm", 3, 4), 4)
    c_n = mg.stack([finals[0][1]])
    for outputs in ((output, c_n), (c_n, output)):
        g = capture(*outputs)
        assert [(k.call, k.step) for k in g.steps()] == [(0, 0), (0, 1), (0, 2)]
        assert {n.role for n in g.nodes.values() if n.step} >= {"o_2", "h_2", "C_2"}


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
def test_a_cut_among_elided_steps_is_still_drawn(detail):
    """Two chunks of 8 steps, the middle ones elided: the cut between them lies inside the
    ellipsis. Its dashed lines were dropped with the ellipsis' other inputs, and the row read as
    one unbroken graph."""
    params = vg.make_params("lstm", 3, 4)
    x = mg.tensor(np.ones((8, 1, 3)))
    first, finals = vg.run("lstm", x, params, 4)
    h, c = finals[0]
    second, _ = vg.run("lstm", x, params, 4, state0=[[(h.detach(), c.detach())]])
    g = build(capture(first, second), detail, "hide", max_nodes=40)
    ellipsis, = [n.id for n in g.nodes.values() if n.kind == "ellipsis" and n.text]  # not C's ⋯
    kept = {n.step.step for n in g.nodes.values() if n.step and n.kind != "ellipsis"}
    assert not {7, 8} & kept and {0, 15} <= kept  # the cut is among the elided steps
    assert {e.dst for e in g.edges if e.kind == "detach"} == {ellipsis}


def test_the_cut_is_drawn_after_a_plain_backward_too():
    """backward without retain_graph drops the inputs the ops saved; the cut survives it."""
    params = vg.make_params("lstm", 3, 4)
    x = mg.tensor(np.ones((2, 2, 3)))
    first, finals = vg.run("lstm", x, params, 4)
    h, c = finals[0]
    second, _ = vg.run("lstm", x, params, 4, state0=[[(h.detach(), c.detach())]])
    (second * second).sum().backward()
    g = build(capture(first, second), "cell")
    assert sorted(base(e.role) for e in g.edges if e.kind == "detach") == ["C", "h"]


def test_a_detach_whose_source_is_gone_still_shows_the_cut():
    params = vg.make_params("rnn", 3, 4)
    x = mg.tensor(np.ones((2, 1, 3)))
    _, finals = vg.run("rnn", x, params, 4)
    state = finals[0][0].detach()
    del finals  # nothing keeps the cut node alive: a "cut" node stands for it
    out, _ = vg.run("rnn", x, params, 4, state0=[[(state,)]])
    g = build(capture(out), "op")
    cuts = [e for e in g.edges if e.kind == "detach"]
    assert len(cuts) == 1 and g.nodes[cuts[0].src].kind == "cut"


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
@pytest.mark.parametrize("kind,bidirectional", [("lstm", False), ("gru", True)])
def test_each_layers_cut_state_comes_from_that_layers_last_step(kind, bidirectional, detail):
    """h_n stacks every layer's (and direction's) last state; each layer of the next chunk
    starts from its own slice. With h_n not drawn, the dashed line came from the last step of
    every layer, into every layer."""
    layers, directions = 2, 2 if bidirectional else 1
    params = vg.make_params(kind, 3, 4, layers=layers, directions=directions)
    x = mg.tensor(np.ones((2, 1, 3)))
    first, finals = vg.run(kind, x, params, 4, layers=layers, bidirectional=bidirectional)
    h_n = [mg.stack(list(states)) for states in zip(*finals)]  # (and c_n), kept but not drawn
    last = [s.detach() for s in h_n]
    rows = [[tuple(s[layer * directions + d] for s in last) for d in range(directions)]
            for layer in range(layers)]
    second, _ = vg.run(kind, x, params, 4, layers=layers, bidirectional=bidirectional,
                       state0=rows)
    g = build(capture(first, second), detail)
    cuts = [e for e in g.edges if e.kind == "detach"]
    assert cuts
    for e in cuts:
        src, dst = g.nodes[e.src], g.nodes[e.dst]
        assert src.step.row == dst.step.row, (src.step, dst.step)


def cut_earlier(kind, layers=2, T=2):
    """Truncated BPTT as nn hands the state over: h_n (and c_n) stack every layer's last state,
    detached, and the graph they were cut from is gone. Returns the second chunk's output."""
    params = vg.make_params(kind, 3, 4, layers=layers)
    x = mg.tensor(np.ones((T, 1, 3)))
    _, finals = vg.run(kind, x, params, 4, layers=layers)
    last = [mg.stack(list(states)).detach() for states in zip(*finals)]
    del finals
    out, _ = vg.run(kind, x, params, 4, layers=layers,
                    state0=[[tuple(s[layer] for s in last)] for layer in range(layers)])
    return out


def cut_labels(source: str) -> list:
    """The texts of the "cut" boxes in DOT source: what stands above "cut earlier"."""
    return re.findall(r"label=<([^<]*(?:<sup>[^<]*</sup>)?)<br/><font [^>]*>cut earlier</font>>",
                      source)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_a_cut_whose_graph_is_gone_says_which_state_it_cut(kind):
    """Once the earlier graph is gone, one "cut" box per state and layer stands for it, named h
    or C (the GRU's first step reads h twice: still one box)."""
    g = capture(cut_earlier(kind))
    boxes = [n for n in g.nodes.values() if n.kind == "cut"]
    assert Counter(n.role for n in boxes) == Counter(vg.STATE[kind] * 2)
    assert {g.nodes[e.src].kind for e in g.edges if e.kind == "detach"} == {"cut"}
    labels = cut_labels(render(build(g, "gate")).source)
    assert sorted(re.sub(r"<sup>.*", "", t) for t in labels) == sorted(vg.STATE[kind] * 2)


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_in_a_stack_each_cut_box_names_its_layer(kind, detail):
    """Two layers cut from their earlier graphs: each box names its layer as the rest of the
    picture does, h<sup>(0)</sup> and h<sup>(1)</sup> (they both read "h"); one layer: no
    superscript."""
    labels = cut_labels(render(build(capture(cut_earlier(kind)), detail)).source)
    assert sorted(labels) == sorted(f"{role}<sup>({layer})</sup>"
                                    for role in vg.STATE[kind] for layer in range(2))
    labels = cut_labels(render(build(capture(cut_earlier(kind, layers=1)), detail)).source)
    assert sorted(labels) == sorted(vg.STATE[kind])


@pytest.mark.parametrize("detail", ["op", "gate"])
def test_a_cut_state_read_by_several_ops_says_detach_once(detail):
    """The GRU's first step reads the cut h in two ops (three places at gate detail): one dashed
    line says "detach" and forks to them (each branch said it again)."""
    g = build(capture(cut_earlier("gru", layers=1)), detail)
    source = render(g).source
    box, = [n.id for n in g.nodes.values() if n.kind == "cut"]
    fork, = [e.dst for e in g.edges if e.src == box]
    assert g.nodes[fork].kind == "junction" and sum(e.src == fork for e in g.edges) >= 2
    assert len(re.findall(r"\[[^\]]*label=[<\"]?detach", source)) == 1


def test_a_hand_written_cell_with_a_leaf_weight_is_drawn_by_its_labels():
    W = mg.tensor(np.eye(3), requires_grad=True)
    h = mg.zeros((1, 3), dtype=mg.float64)
    for t in range(3):
        with mg.scope("mine", layer=0, direction="forward", step=t, cell="rnn"):
            h = (h @ W + 1.0).tanh().label("h_t")
    g = build(capture(h, params={"W": W}), "gate")
    assert [n.role for n in g.nodes.values() if n.kind == "gate"] == ["h_0", "h_1", "h_2"]
    assert [e.role for e in g.crossing_edges()] == ["h_0", "h_1"]


def test_capture_rejects_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="output 0 is a list"):
        capture([1, 2])
    out, _, _ = vg.model("rnn", T=2)
    with pytest.raises(ValueError, match="detail"):
        build(capture(out), "gates")
    with pytest.raises(ValueError, match="param_mode"):
        build(capture(out), "op", "twice")


def test_params_are_named_from_a_dict_or_from_named_parameters_itself():
    out, params, _ = vg.model("rnn", T=2)
    def names(given):
        return {n.name for n in capture(out, params=given).nodes.values() if n.kind == "param"}

    assert names(params) == set(params) == names(iter(params.items()))
    for wrong in (list(params.values()), [("weight", 1.0)], 3):
        with pytest.raises(TypeError, match=r"params must map names to tensors.*named_parameters"):
            capture(out, params=wrong)
