"""The hand-written NumPy LSTM that the benchmarks measure against must itself be right:
forward and every gradient match PyTorch's nn.LSTM in float64."""
import numpy as np
import pytest
import torch

from benchmarks import numpy_lstm

T, B, I, H = 5, 3, 4, 6


def torch_lstm(params: dict) -> torch.nn.LSTM:
    lstm = torch.nn.LSTM(I, H, dtype=torch.float64)
    with torch.no_grad():
        for name, value in params.items():
            getattr(lstm, name + "_l0").copy_(torch.from_numpy(value))
    return lstm


@pytest.fixture
def problem():
    rng = np.random.default_rng(7)
    params = numpy_lstm.init_params(I, H, dtype=np.float64, seed=3)
    arrays = {"x": rng.normal(size=(T, B, I)), "h0": rng.normal(size=(B, H)),
              "c0": rng.normal(size=(B, H)), "r_out": rng.normal(size=(T, B, H)),
              "r_h": rng.normal(size=(B, H)), "r_c": rng.normal(size=(B, H))}
    return params, arrays


def test_forward_and_all_gradients_match_pytorch(problem):
    params, a = problem
    out, h_n, c_n, cache = numpy_lstm.lstm_forward(a["x"], params, a["h0"], a["c0"])
    grads = numpy_lstm.lstm_backward(a["r_out"], cache, a["r_h"], a["r_c"])

    lstm = torch_lstm(params)
    x, h0, c0 = (torch.tensor(a[k], requires_grad=True) for k in ("x", "h0", "c0"))
    out_t, (h_n_t, c_n_t) = lstm(x, (h0[None], c0[None]))
    loss = ((out_t * torch.from_numpy(a["r_out"])).sum() + (h_n_t[0] * torch.from_numpy(a["r_h"])).sum()
            + (c_n_t[0] * torch.from_numpy(a["r_c"])).sum())
    loss.backward()

    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_n, h_n_t[0].detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_n, c_n_t[0].detach().numpy(), rtol=0, atol=1e-12)
    expected = {name: getattr(lstm, name + "_l0").grad.numpy() for name in numpy_lstm.PARAMETERS}
    expected.update(x=x.grad.numpy(), h0=h0.grad.numpy(), c0=c0.grad.numpy())
    assert set(grads) == set(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(grads[name], value, rtol=0, atol=1e-10, err_msg=name)


def test_zero_initial_state_and_parameter_gradients_only(problem):
    params, a = problem
    out, _, _, cache = numpy_lstm.lstm_forward(a["x"], params)
    grads = numpy_lstm.lstm_backward(a["r_out"], cache, input_grads=False)

    lstm = torch_lstm(params)
    out_t, _ = lstm(torch.from_numpy(a["x"]))
    (out_t * torch.from_numpy(a["r_out"])).sum().backward()

    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=0, atol=1e-12)
    assert set(grads) == set(numpy_lstm.PARAMETERS)
    for name in numpy_lstm.PARAMETERS:
        np.testing.assert_allclose(grads[name], getattr(lstm, name + "_l0").grad.numpy(),
                                   rtol=0, atol=1e-10, err_msg=name)


def test_float32_stays_float32(problem):
    params, a = problem
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    x = a["x"].astype(np.float32)
    out, h_n, c_n, cache = numpy_lstm.lstm_forward(x, params32)
    grads = numpy_lstm.lstm_backward(a["r_out"].astype(np.float32), cache)
    assert out.dtype == h_n.dtype == c_n.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    out64, _, _, _ = numpy_lstm.lstm_forward(a["x"], params)
    np.testing.assert_allclose(out, out64, rtol=0, atol=1e-5)
