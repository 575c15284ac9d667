"""Every implementation in the benchmarks does the same work: same loss and same gradients
(float64, small sizes), so the timings compare like with like."""
import numpy as np
import pytest

from benchmarks import bench_lstm, bench_ops, numpy_lstm

SHAPE = bench_lstm.Shape(T=4, B=3, I=5, H=6)


def to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):  # torch
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy"):  # minigrad
        return value.numpy()
    return np.asarray(value)


def test_every_implementation_is_benchmarked_on_the_cpu():
    names = set(bench_lstm.implementations("cpu"))
    assert names == {"numpy", "minigrad", "minigrad traced", "minigrad loop", "pytorch",
                     "pytorch loop"}
    assert [w.name for w in bench_ops.workloads("cpu")] == ["minigrad", "minigrad traced",
                                                             "pytorch", "numpy"]


@pytest.mark.parametrize("name", [n for n in bench_lstm.implementations("cpu") if n != "numpy"])
def test_lstm_implementations_agree_with_the_numpy_reference(name):
    make, _ = bench_lstm.implementations("cpu")[name]
    loss_ref, grads_ref = bench_lstm.numpy_step(SHAPE, np.float64)()
    step = make(SHAPE, np.float64, "cpu")
    step()  # a second step must not accumulate onto the first one's gradients
    loss, grads = step()
    np.testing.assert_allclose(float(to_numpy(loss)), loss_ref, rtol=1e-12)
    assert set(grads) == set(numpy_lstm.PARAMETERS)
    for k in numpy_lstm.PARAMETERS:
        np.testing.assert_allclose(to_numpy(grads[k]), grads_ref[k], rtol=0, atol=1e-10, err_msg=k)


def test_the_problem_is_the_same_for_everyone():
    a, b = bench_lstm.problem(SHAPE), bench_lstm.problem(SHAPE)
    assert a["x"].dtype == np.float32 and a["x"].shape == (4, 3, 5) and a["r"].shape == (4, 3, 6)
    np.testing.assert_array_equal(a["x"], b["x"])
    np.testing.assert_array_equal(a["params"]["weight_hh"], b["params"]["weight_hh"])


@pytest.mark.parametrize("n_ops", [4, 40, 400])
def test_op_chain_gradients_agree(n_ops):
    import torch

    import minigrad

    y_np, g_np = bench_ops.numpy_chain_grad(np.array([bench_ops.START]), n_ops)
    x_t = torch.tensor([bench_ops.START], dtype=torch.float64, requires_grad=True)
    y_t = bench_ops.chain(x_t, n_ops)
    y_t.sum().backward()
    step = bench_ops.minigrad_setup(n_ops, "cpu")()
    g_mg = step()
    traced = bench_ops.minigrad_traced_setup(n_ops, "cpu")()
    for _ in range(3):  # (the setup made the first two calls: these run compiled)
        np.testing.assert_array_equal(traced().numpy(), g_mg.numpy())

    np.testing.assert_allclose(y_np, y_t.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(g_np, x_t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(g_mg.numpy(), x_t.grad.numpy(), rtol=1e-12)
    assert isinstance(g_mg, minigrad.Tensor)


def test_op_chain_gradient_stays_a_normal_float_over_the_full_chain():
    y, g = bench_ops.numpy_chain_grad(np.array([bench_ops.START]))
    assert 1e-8 < abs(g[0]) < 1 and 0 < y[0] < bench_ops.START


def test_the_first_traced_call_is_timed_with_a_new_trace_each_time():
    result = bench_lstm.first_call_result(SHAPE, "cpu", repeats=2)
    assert result.name == "minigrad traced, first call" and len(result.times_s) == 2
    assert str(SHAPE) in result.group
