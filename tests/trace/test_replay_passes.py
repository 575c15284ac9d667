"""The passes that run before a program is compiled for the replay: program.reuse_buffers (an
elementwise call writes its result into an operand's dead array) and
program.contiguous_operands (a transposed right operand of large products copied to C order).
They change where arrays live, never the numbers: each test replays (the first call runs no
program) and compares with eager, bitwise."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import nn
from minigrad.trace import program as prog


@pytest.fixture
def reuse_all(monkeypatch):
    """Let every array be reused, however small (the tests' arrays are small)."""
    monkeypatch.setattr(prog, "REUSE_BYTES", 0)


def _replayed_source(traced) -> str:
    trace = traced.latest
    return trace.run_forward.compiled().source + trace.run_backward.compiled().source


def _step(fn, args, params, seed):
    for p in params:
        p.grad = None
    out = fn(*args)
    (out * seed).sum().backward()
    return [out.numpy().copy()] + [p.grad.numpy().copy() for p in params]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer", [nn.LSTM, nn.GRU, nn.RNN])
@pytest.mark.parametrize("sizes", [(5, 3, 4, 6), (6, 32, 2, 32)])  # T, N, input, hidden
def test_replayed_recurrent_step_is_bitwise_equal_to_eager(reuse_all, dtype, layer, sizes):
    T, N, I, H = sizes
    mg.manual_seed(1)
    model = layer(I, H, dtype=dtype)
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(T, N, I)).astype(dtype))
    seed = mg.tensor(rng.normal(size=(T, N, H)).astype(dtype))
    params = list(model.parameters())
    eager = lambda x: model(x)[0]  # noqa: E731
    traced = mg.trace(eager)
    for call in range(3):  # the first call is the recording's; the next ones replay
        got, want = _step(traced, (x,), params, seed), _step(eager, (x,), params, seed)
        for a, b in zip(got, want):
            assert a.dtype == b.dtype and np.array_equal(a, b), f"call {call}"
        for p in params:
            p.data = p.data * 0.9
    assert "out=" in _replayed_source(traced)  # (the pass wrote into dead arrays)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_products_read_a_c_order_copy_with_the_same_bits(dtype):
    """(64, 256) x (256, 1024): m * n * k above program.BLAS_PACKED, the copy is made (with
    OpenBLAS); the small steps above (the (32, 32) RNN) are below it, and fail when it is not
    checked."""
    if not prog.numpy_uses_openblas():
        pytest.skip("the layout pass runs with OpenBLAS only")
    mg.manual_seed(1)
    model = nn.LSTM(8, 256, dtype=dtype)
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(3, 64, 8)).astype(dtype))
    seed = mg.tensor(rng.normal(size=(3, 64, 256)).astype(dtype))
    params = list(model.parameters())
    eager = lambda x: model(x)[0]  # noqa: E731
    traced = mg.trace(eager)
    for call in range(2):
        got, want = _step(traced, (x,), params, seed), _step(eager, (x,), params, seed)
        for a, b in zip(got, want):
            assert np.array_equal(a, b), f"call {call}"
    forward = traced.latest.run_forward.compiled().source
    assert forward.count("f_c_order(") == 1


def _compare(fn, *shapes):
    rng = np.random.default_rng(0)
    args = [mg.tensor(rng.normal(size=s), requires_grad=True) for s in shapes]
    traced = mg.trace(fn)
    results = []
    for f in (traced, traced, fn):  # recording, replay, eager
        for a in args:
            a.grad = None
        outs = f(*args)
        outs = outs if isinstance(outs, tuple) else (outs,)
        sum(o.sum() for o in outs).backward()
        results.append([o.numpy().copy() for o in outs] + [a.grad.numpy().copy() for a in args])
    for replayed, eager in zip(results[1], results[2]):
        np.testing.assert_array_equal(replayed, eager)
    return _replayed_source(traced)


def test_an_array_whose_view_is_read_later_is_not_written_into(reuse_all):
    """y dies at tanh's call, but a view of it (a row) is read after: writing tanh's result
    into y would change that row."""
    def fn(x):
        y = x * 2.0
        row = y[0]
        z = y.tanh()
        return z * 3.0 + row

    source = _compare(fn, (4, 5))
    assert "out=" in source  # other arrays were written into


def test_an_output_is_not_written_into(reuse_all):
    def fn(x):
        y = x * 2.0
        return y, y.exp()

    _compare(fn, (4, 5))


def test_a_dead_array_is_written_into(reuse_all):
    """The sigmoid's four calls make one array: -x is new, exp, + 1 and 1 / write into it."""
    source = _compare(lambda x: (x * 1.5).sigmoid(), (4, 5))
    forward = source.split("def backward")[0]
    assert "f_exp(" in forward and "out=" in forward.split("f_exp(")[1].split("\n")[0]


def test_small_arrays_are_not_written_into():
    source = _compare(lambda x: (x * 1.5).sigmoid(), (2, 3))
    assert "out=" not in source


def test_a_dead_array_of_another_layout_is_not_written_into(reuse_all):
    """a = x.T * 2 is in F order (NumPy keeps its operand's layout); a + y, with y in C order,
    is made in C order. Written into a, it would be F order, and the column sums after it
    would add in another order: other last bits (float32)."""
    def fn(x, y):
        a = x.T * 2.0
        c = a + y
        return c.sum(axis=0)

    rng = np.random.default_rng(0)
    args = [mg.tensor(rng.normal(size=s).astype(np.float32), requires_grad=True)
            for s in ((48, 64), (64, 48))]
    traced = mg.trace(fn)
    want = fn(*args).numpy()
    for _ in range(3):  # the recording, then replays
        np.testing.assert_array_equal(traced(*args).numpy(), want)
