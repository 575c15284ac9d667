"""minigrad.trace: a traced call gives the eager call's values and gradients."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import nn


def _grads(params):
    return [None if p.grad is None else p.grad.numpy().copy() for p in params]


def _run(fn, args, params, seed_grad):
    for p in params:
        p.grad = None
    out = fn(*args)
    (out * seed_grad).sum().backward()
    return out.numpy().copy(), _grads(params)


def _lstm(dtype, form="fused", **kw):
    mg.manual_seed(1)
    model = nn.LSTM(4, 6, dtype=dtype, **kw)
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(5, 3, 4)).astype(dtype))
    r = mg.tensor(rng.normal(size=(5, 3, 6 * (2 if kw.get("bidirectional") else 1))).astype(dtype))
    return model, x, r


@pytest.mark.parametrize("kw", [{}, {"num_layers": 2}, {"bidirectional": True}])
def test_lstm_float64_gradients_equal_eager(kw):
    model, x, r = _lstm(np.float64, **kw)
    eager = lambda x: model(x)[0]
    traced = mg.trace(eager)
    params = list(model.parameters())
    for _ in range(3):  # the parameters change between calls: the trace reads them afresh
        out_t, g_t = _run(traced, (x,), params, r)
        out_e, g_e = _run(eager, (x,), params, r)
        np.testing.assert_allclose(out_t, out_e, rtol=1e-12, atol=0)
        for a, b in zip(g_t, g_e):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)
        for p in params:
            p.data = p.data * 0.9
    assert len(traced.traces) == 1


def test_lstm_float32_is_bitwise_equal_on_numpy():
    model, x, r = _lstm(np.float32)
    eager = lambda x: model(x)[0]
    traced = mg.trace(eager)
    params = list(model.parameters())
    out_t, g_t = _run(traced, (x,), params, r)
    out_e, g_e = _run(eager, (x,), params, r)
    assert np.array_equal(out_t, out_e)
    for a, b in zip(g_t, g_e):
        assert np.array_equal(a, b)


def test_argument_gradients_and_closed_over_tensor():
    rng = np.random.default_rng(0)
    w = mg.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    x = mg.tensor(rng.normal(size=(5, 3)), requires_grad=True)

    def f(x):
        return ((x @ w).tanh().sigmoid() * 2.0).sum()

    traced = mg.trace(f)
    for _ in range(2):
        x.grad = w.grad = None
        loss = traced(x)
        loss.backward()
        got = x.grad.numpy(), w.grad.numpy(), loss.item()
        x.grad = w.grad = None
        loss = f(x)
        loss.backward()
        assert got[2] == loss.item()
        np.testing.assert_array_equal(got[0], x.grad.numpy())
        np.testing.assert_array_equal(got[1], w.grad.numpy())
        w.data = w.data - 0.1  # an optimizer's update is seen at the next call


def test_the_traced_call_is_one_node():
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    traced = mg.trace(lambda x: (x * x).exp().sum(axis=1))
    y = traced(x)
    assert type(y.grad_fn).__name__ == "TracedCall"
    assert all(e is x for e in y.grad_fn.next)


def test_tuple_and_dict_results_and_non_tensor_arguments():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)

    def f(x, scale, parts):
        a, b = parts
        return {"sum": (x * scale + a).sum(), "pair": (x * b, (x.max(),))}

    a = mg.tensor(np.ones((2, 3)))
    b = mg.tensor(np.full((2, 3), 2.0), requires_grad=True)
    traced = mg.trace(f)
    got = traced(x, 3.0, (a, b))
    want = f(x, 3.0, (a, b))
    assert got["sum"].item() == want["sum"].item()
    np.testing.assert_array_equal(got["pair"][0].numpy(), want["pair"][0].numpy())
    (got["sum"] + got["pair"][0].sum()).backward()
    gx, gb = x.grad.numpy().copy(), b.grad.numpy().copy()
    x.grad = b.grad = None
    (want["sum"] + want["pair"][0].sum()).backward()
    np.testing.assert_array_equal(gx, x.grad.numpy())
    np.testing.assert_array_equal(gb, b.grad.numpy())
    traced(x, 4.0, (a, b))  # another constant: another trace
    assert len(traced.traces) == 2


def test_no_grad_call_runs_the_forward_program_only():
    x = mg.tensor(np.ones((2, 2)), requires_grad=True)
    traced = mg.trace(lambda x: (x * 3.0).sum())
    with mg.no_grad():
        y = traced(x)
    assert y.item() == 12.0 and not y.requires_grad


def test_dropout_draws_like_eager_with_the_same_seed():
    mg.manual_seed(0)
    layer = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.5), nn.Linear(16, 2)).to(dtype=mg.float64)
    x = mg.tensor(np.random.default_rng(0).normal(size=(4, 8)))
    traced = mg.trace(lambda x: layer(x))
    mg.manual_seed(5)
    t1, t2 = traced(x).numpy(), traced(x).numpy()
    mg.manual_seed(5)
    e1, e2 = layer(x).numpy(), layer(x).numpy()
    np.testing.assert_array_equal(t1, e1)
    np.testing.assert_array_equal(t2, e2)
    assert not np.array_equal(t1, t2)  # a fresh mask at every call


def test_backward_twice_needs_retain_graph_as_eager():
    x = mg.tensor(np.ones(3), requires_grad=True)
    y = mg.trace(lambda x: (x * x).sum())(x)
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_walks_the_traced_call_twice():
    x = mg.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    traced = mg.trace(lambda x: (x.tanh() * x.sigmoid()).sum())
    y = traced(x)
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)


def test_the_first_call_runs_no_program():
    """The recording computed the first call's forward values, and deriving the backward
    program, seeded with that call's own gradients, computed its gradients: no program runs
    (nor is compiled) until the second call."""
    import sys
    replay = sys.modules["minigrad.trace.program"].Replay
    runs = []
    original = replay.__call__
    replay.__call__ = lambda self, *args: runs.append(self.name) or original(self, *args)
    try:
        model, x, r = _lstm(np.float32)
        traced = mg.trace(lambda x: model(x)[0])
        params = list(model.parameters())
        out_t, g_t = _run(traced, (x,), params, r)
        assert runs == []
        out_e, g_e = _run(lambda x: model(x)[0], (x,), params, r)
        assert np.array_equal(out_t, out_e)
        assert all(np.array_equal(a, b) for a, b in zip(g_t, g_e))
        _run(traced, (x,), params, r)
        assert runs == ["forward", "backward"]
    finally:
        replay.__call__ = original


def test_a_second_call_before_the_first_backward():
    """The backward program is then derived at the second call (seeded with ones), and the
    first call's backward runs it on the recording's arrays."""
    model, x, r = _lstm(np.float64)
    params = list(model.parameters())
    eager = lambda x: model(x)[0]
    traced = mg.trace(eager)
    grads = []
    for fn in (traced, eager):
        for p in params:
            p.grad = None
        first, second = fn(x), fn(x * 0.5)
        ((first * r).sum() + (second * r * r).sum()).backward()
        grads.append(_grads(params))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("before", ["source", "draw"])
def test_the_first_backward_after_the_source_or_a_drawing(before):
    """source() and drawing derive the backward program (seeded with ones) before the first
    call's backward, which then runs it on the recording's saved arrays."""
    from minigrad.viz import draw
    model, x, r = _lstm(np.float64)
    params = list(model.parameters())
    traced = mg.trace(lambda x: model(x)[0])
    out = traced(x)
    traced.source() if before == "source" else draw(out)
    _, got = _run(lambda x: out, (x,), params, r)
    _, want = _run(lambda x: model(x)[0], (x,), params, r)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


def test_the_first_backward_inside_record_grads():
    """Deriving the backward program inside ``minigrad.record_grads()`` (which notes gradient
    norms for drawings) records the formulas' calls without reading their values."""
    model, x, r = _lstm(np.float64)
    params = list(model.parameters())
    traced = mg.trace(lambda x: model(x)[0])
    with mg.record_grads():
        out_t, g_t = _run(traced, (x,), params, r)
    out_e, g_e = _run(lambda x: model(x)[0], (x,), params, r)
    for a, b in zip(g_t, g_e):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


def test_a_tensor_hook_hears_only_the_traced_calls_gradients():
    """The recording's backward walk is not the user's: a parameter's hook hears the gradient
    the traced call gives it, once per backward, never a stand-in."""
    w = mg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    heard = []
    w.register_hook(lambda g: heard.append(g.numpy().copy()))
    x = mg.tensor(np.array([0.5, -1.0, 2.0]))
    traced = mg.trace(lambda x: (x * w).tanh().sum())
    for _ in range(2):
        w.grad = None
        traced(x).backward()
    assert len(heard) == 2
    for g in heard:
        np.testing.assert_array_equal(g, w.grad.numpy())


def test_retain_graph_on_the_first_call_with_dropout():
    """With a random draw the first call keeps the recording's saved arrays for a second walk."""
    mg.manual_seed(0)
    layer = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.5), nn.Linear(16, 2)).to(dtype=mg.float64)
    x = mg.tensor(np.random.default_rng(0).normal(size=(4, 8)))
    params = list(layer.parameters())
    grads = []
    for fn in (mg.trace(lambda x: layer(x)), layer):
        for p in params:
            p.grad = None
        mg.manual_seed(5)
        y = (fn(x) ** 2).sum()
        y.backward(retain_graph=True)
        once = _grads(params)
        y.backward()
        for a, b in zip(_grads(params), once):
            np.testing.assert_array_equal(a, 2 * b)
        grads.append(once)
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def test_lstm_on_each_device_gives_eager_gradients(device):
    """On CuPy the programs call cupy's functions: the same kernels as the eager run."""
    mg.manual_seed(1)
    model = nn.LSTM(4, 6, dtype=np.float64, device=device)
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(5, 3, 4)), device=device)
    r = mg.tensor(rng.normal(size=(5, 3, 6)), device=device)
    eager = lambda x: model(x)[0]
    traced = mg.trace(eager)
    params = list(model.parameters())
    for _ in range(3):  # the recording's values (the backward derived), then compiled
        out_t, g_t = _run(traced, (x,), params, r)
        out_e, g_e = _run(eager, (x,), params, r)
        np.testing.assert_allclose(out_t, out_e, rtol=1e-12, atol=0)
        for a, b in zip(g_t, g_e):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)
    assert traced(x).device == device


def test_drawing_a_traced_output_draws_the_recorded_graph():
    from minigrad.viz import draw

    model, x, r = _lstm(np.float64)
    params = dict(model.named_parameters())
    traced = mg.trace(lambda x: model(x)[0])
    first = traced(x)  # the first call records (its backward program not derived yet)
    for out in (first, traced(x)):
        for detail in ("op", "gate", "cell"):
            got = draw(out, params=params, detail=detail)
            want = draw(model(x)[0], params=params, detail=detail)
            assert got.source == want.source
    # drawing the first call's output derived the backward program: its gradients are eager's
    _, got = _run(lambda x: first, (x,), list(params.values()), r)
    _, want = _run(lambda x: model(x)[0], (x,), list(params.values()), r)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


def _layers():
    from nn.recurrent.clockwork import ClockworkRNNCell
    from nn.recurrent.peephole import PeepholeLSTMCell
    return {
        "gru": lambda: nn.GRU(4, 6, dtype=np.float64),
        "rnn relu, 2 layers": lambda: nn.RNN(4, 6, num_layers=2, nonlinearity="relu",
                                             dtype=np.float64),
        "lstm concat form, projection": lambda: nn.LSTM(4, 6, form="concat", proj_size=3,
                                                        dtype=np.float64),
        "peephole": lambda: nn.LSTM(4, 6, cell=PeepholeLSTMCell, dtype=np.float64),
        "clockwork": lambda: nn.RNN(4, 6, cell=ClockworkRNNCell, periods=(1, 2),
                                    dtype=np.float64),
    }


@pytest.mark.parametrize("name", list(_layers()))
def test_recurrent_layers_with_padding_give_eager_gradients(name):
    """Other cells, and a padded batch (the runner's where with a constant mask)."""
    mg.manual_seed(2)
    model = _layers()[name]()
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(5, 3, 4)), requires_grad=True)
    lengths = [5, 3, 2]
    eager = lambda x: model(x, lengths=lengths)[0]
    traced = mg.trace(eager)
    params = list(model.parameters()) + [x]
    r = mg.tensor(rng.normal(size=eager(x).shape))
    for _ in range(3):
        out_t, g_t = _run(traced, (x,), params, r)
        out_e, g_e = _run(eager, (x,), params, r)
        np.testing.assert_allclose(out_t, out_e, rtol=1e-12, atol=0)
        for a, b in zip(g_t, g_e):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


def test_a_whole_loss_traced_trains_like_eager():
    """Cross-entropy (log-softmax, picking by integer targets, whose backward adds at
    indices) and Adam, three steps: the same parameters to the last bit."""
    def train(traced: bool):
        mg.manual_seed(3)
        first, second = nn.Linear(5, 8), nn.Linear(8, 4)
        params = list(first.parameters()) + list(second.parameters())
        optimizer = nn.optim.Adam(params, lr=0.1)
        rng = np.random.default_rng(0)
        x = mg.tensor(rng.normal(size=(6, 5)).astype(np.float32))
        y = mg.tensor(np.array([0, 3, 1, 1, 2, 0]))
        # (y's values are checked by cross_entropy: a constant the traced function closes over)
        loss_of = lambda x: nn.functional.cross_entropy(second(first(x).tanh()), y)
        step = mg.trace(loss_of) if traced else loss_of
        losses = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = step(x)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses, [p.numpy() for p in params]

    (lt, pt), (le, pe) = train(True), train(False)
    assert lt == le
    for a, b in zip(pt, pe):
        np.testing.assert_array_equal(a, b)


def test_keyword_arguments_and_a_module_traced_directly():
    mg.manual_seed(0)
    model = nn.LSTM(3, 4, dtype=np.float64)
    traced = mg.trace(model)
    x = mg.tensor(np.random.default_rng(0).normal(size=(2, 1, 3)))
    h0 = (mg.zeros(1, 1, 4, dtype=mg.float64), mg.zeros(1, 1, 4, dtype=mg.float64))
    got, (h, c) = traced(x, hx=h0)
    want, (h_e, c_e) = model(x, hx=h0)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(c.numpy(), c_e.numpy())
    assert "def forward(input, hx_0, hx_1, weight_ih_l0" in traced.source()
