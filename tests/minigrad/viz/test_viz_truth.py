"""The drawings tell the truth: every architecture, detail and parameter mode, stacks, both
directions, truncated BPTT, elision, hand-written graphs, checked against the engine's own
graph by an independent checker (truth.py), whatever the order of the outputs."""
from itertools import permutations

import numpy as np
import pytest
import viz_graphs as vg
from truth import falsehoods

import minigrad as mg
import nn
from zoo.models import ARCHITECTURES, run_model

MODES = ["once", "repeat", "hide"]


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_every_architecture_is_drawn_truly(arch, detail):
    for layers, bidirectional, mode in ((1, False, MODES[0]), (2, True, MODES[1]),
                                        (2, False, MODES[2])):
        output, params = run_model(arch, 2, layers, bidirectional, grads=True)
        assert falsehoods([output], params, detail, mode) == []


def two_chunks(T=2, layers=2, draw_h_n=True):
    """Truncated BPTT as nn hands the state over: h_n and c_n, detached, sliced per layer. The
    outputs to draw: the first chunk, h_n and c_n (or not: alive, not drawn), the loss."""
    params = vg.make_params("lstm", 3, 4, layers=layers)
    x = mg.tensor(np.ones((T, 1, 3)))
    first, finals = vg.run("lstm", x, params, 4, layers=layers)
    h_n = [mg.stack(list(states)) for states in zip(*finals)]
    per_layer = [part.detach().unbind(0) for part in h_n]
    second, _ = vg.run("lstm", x, params, 4, layers=layers,
                       state0=[[tuple(p[k] for p in per_layer)] for k in range(layers)])
    loss = second[-1].sum()
    with mg.viz.recording():
        loss.backward(retain_graph=True)
    two_chunks.alive = h_n
    return [first, *(h_n if draw_h_n else []), loss]


def encoder_decoder():
    x = mg.tensor(np.ones((3, 2, 3)))
    _, finals = vg.run("gru", x, vg.make_params("gru", 3, 4, layers=2), 4, layers=2,
                       name="encoder")
    per_layer = [mg.stack(list(s)).unbind(0) for s in zip(*finals)]
    y, _ = vg.run("gru", x[:2], vg.make_params("gru", 3, 4, layers=2, seed=1), 4, layers=2,
                  name="decoder", state0=[[tuple(p[k] for p in per_layer)] for k in range(2)])
    return [y]


def called_twice():
    """One model run twice on different inputs, neither run reading the other's state: two
    rows. Drawn in the reverse order, the second run took the first row."""
    params = vg.make_params("lstm", 3, 4)
    x = mg.tensor(np.ones((2, 1, 3)))
    return [vg.run("lstm", x * scale, params, 4)[0] for scale in (1.0, 2.0)]


def step_by_step():
    """A decoder's loop: a model run one step at a time, each call from the last one's state
    (not detached), so the calls continue one time axis. Drawn with the last output first (it
    reaches all three calls), the three were taken for one call, and their steps, each tagged
    t = 0, were drawn as one."""
    params = vg.make_params("gru", 3, 4)
    x = mg.tensor(np.ones((1, 1, 3)))
    outputs, state = [], None
    for _ in range(3):
        y, finals = vg.run("gru", x, params, 4, state0=state)
        outputs.append(y)
        state = [[finals[0]]]
    return outputs


def neuron():
    w, b = (vg.param(np.random.default_rng(0), 3) for _ in range(2))
    with mg.viz.recording():
        y = (w * mg.tensor(np.ones(3)) + b).tanh().sum()
        y.backward()
    return [y]


def shared_output():
    """An LSTM step's pre-activation (one addmm, split into the four gates) drawn as an output
    beside the last h, and a GRU beside them: the pre-activation is inside four gate boxes."""
    _, steps = vg.lstm_with_preactivations(T=2)
    pre, _, h = steps[-1]
    return [h, pre, vg.model("gru", T=3)[0]]


def two_lengths():
    return [vg.model("rnn", T=12)[0], vg.model("lstm", T=3)[0]]


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
@pytest.mark.parametrize("graph, max_nodes", [
    (lambda: [vg.model("lstm", form="concat", layers=2)[0]], 100_000),
    (two_chunks, 100_000),
    (lambda: two_chunks(draw_h_n=False), 100_000),
    (lambda: two_chunks(T=8, layers=1), 40),
    (encoder_decoder, 100_000),
    (called_twice, 100_000),
    (step_by_step, 100_000),
    (neuron, 100_000),
    (two_lengths, 40),
    (shared_output, 100_000),
], ids=["concat", "tbptt-h_n", "tbptt", "tbptt-elided", "encoder-decoder", "called-twice",
        "step-by-step", "neuron", "lengths", "shared-output"])
def test_hand_built_graphs_are_drawn_truly(graph, max_nodes, detail):
    outputs = graph()
    for mode in MODES:
        assert falsehoods(outputs, None, detail, mode, max_nodes) == []


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
@pytest.mark.parametrize("layer, layers, bidirectional", [
    (nn.LSTM, 1, False), (nn.LSTM, 2, True), (nn.GRU, 2, False), (nn.GRU, 1, True),
], ids=["lstm", "lstm-2-bidirectional", "gru-2", "gru-bidirectional"])
def test_the_order_of_the_outputs_changes_nothing(layer, layers, bidirectional, detail):
    """The outputs of one run (output, h_n, c_n, a loss) drawn in every order: the same steps,
    the same DOT. Drawn with c_n before the output, the nodes of the last step that only the
    output reaches (o_2, h_2) were taken for a second call of the layer and numbered on from
    the first: t = 0, 1, 2 and 5."""
    mg.manual_seed(0)
    model = layer(3, 4, num_layers=layers, bidirectional=bidirectional)
    output, state = model(mg.randn(3, 2, 3, requires_grad=True))
    outputs = [output, *(state if isinstance(state, tuple) else (state,)), output[-1].sum()]
    orders = list(permutations(range(len(outputs))))[1:]
    assert falsehoods(outputs, dict(model.named_parameters()), detail, orders=orders) == []


def preprocessed():
    """An RNN over tanh(w * x + b), x the data (no gradient): the preprocessing was drawn as
    parameters, and the RNN's whole input with it (hidden, with param_mode="hide")."""
    mg.manual_seed(0)
    w, b = nn.Parameter(mg.randn(3).data), nn.Parameter(mg.randn(3).data)
    x = mg.randn(3, 2, 3)
    output, _ = nn.RNN(3, 4)((w * x + b).tanh())
    return [output], (x,)


def embedded():
    """An LSTM over an embedding of tokens, as the char-LSTM example runs: the lookup, the
    projection and the unbind into steps were drawn as parameters."""
    mg.manual_seed(0)
    tokens = mg.tensor(np.array([[1, 2], [3, 4], [5, 1]]))
    output, _ = nn.LSTM(3, 4)(nn.Embedding(10, 3)(tokens))
    return [output], (tokens,)


def with_context():
    """A context c = tanh(w * ctx + b) of the data ctx, computed once and read whole by every
    step: drawn as parameters (and, read by several steps, it is no sequence: no x_t stubs)."""
    rng = np.random.default_rng(0)
    W, w, b = vg.param(rng, 4, 4), vg.param(rng, 4), vg.param(rng, 4)
    ctx = mg.tensor(rng.normal(size=(2, 4)))
    c = (w * ctx + b).tanh()
    h = mg.zeros((2, 4), dtype=mg.float64)
    for t in range(3):
        with mg.scope("rnn", layer=0, direction="forward", step=t, cell="rnn"):
            h = (h @ W + c).tanh().label("h_t")
    return [h], (ctx,)


def clockwork():
    """The clockwork RNN's masked weight M * W_hh is a parameter computation: M is no data."""
    mg.manual_seed(0)
    x = mg.randn(3, 2, 3)
    output, _ = nn.ClockworkRNN(3, 4, periods=(1, 2))(x)
    return [output], (x,)


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
@pytest.mark.parametrize("graph", [preprocessed, embedded, with_context, clockwork])
def test_nothing_computed_from_data_is_drawn_as_a_parameter(graph, detail):
    outputs, data = graph()
    for mode in MODES:
        assert falsehoods(outputs, None, detail, mode, data=data) == []
