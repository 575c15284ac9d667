"""A hand-written single-layer LSTM in NumPy (or CuPy), forward and backward through time.

This is the reference the benchmarks compare minigrad's ``nn.LSTM`` against: the backward pass
is derived by hand and written to be cheap, with every matrix product that does not depend on
the recurrence taken out of the time loop. ``tests/benchmarks/test_numpy_lstm.py`` checks it
against PyTorch.

Shapes: x (T, B, I), h and c (B, H); parameters as in PyTorch, gates stacked in the order
i, f, g, o: ``weight_ih`` (4H, I), ``weight_hh`` (4H, H), ``bias_ih`` and ``bias_hh`` (4H,).

Forward, for t = 1..T (σ the logistic function, ⊙ the elementwise product)::

    P       = x W_ih^T + b_ih + b_hh                  all T steps in one matmul
    a_t     = P_t + h_{t-1} W_hh^T                    = [a_i, a_f, a_g, a_o]
    i, f, o = σ(a_i), σ(a_f), σ(a_o);   g = tanh(a_g)
    c_t     = f ⊙ c_{t-1} + i ⊙ g
    h_t     = o ⊙ tanh(c_t)

Backward, for t = T..1, with dh_t = dL/dh_t (the output's gradient at t plus what step t+1
sent back) and dc_t = what step t+1 sent back to c_t::

    do = dh_t ⊙ tanh(c_t)
    dc = dc_t + dh_t ⊙ o ⊙ (1 - tanh²(c_t))
    di, df, dg = dc ⊙ g, dc ⊙ c_{t-1}, dc ⊙ i
    da_t = [di ⊙ i(1-i), df ⊙ f(1-f), dg ⊙ (1-g²), do ⊙ o(1-o)]
    sent back to step t-1:  da_t W_hh to h_{t-1},  dc ⊙ f to c_{t-1}

and after the loop, over all steps at once::

    dW_ih = Σ_t da_t^T x_t     dW_hh = Σ_t da_t^T h_{t-1}     db_ih = db_hh = Σ_t Σ_batch da_t
    dx_t  = da_t W_ih
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy

PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def array_module(array):
    """numpy, or cupy for a CuPy array."""
    if type(array).__module__.startswith("cupy"):
        import cupy
        return cupy
    return numpy


def init_params(input_size: int, hidden_size: int, dtype=numpy.float32, seed: int = 0) -> dict:
    """PyTorch's initialisation: every parameter ~ U(-1/sqrt(H), 1/sqrt(H)). NumPy arrays."""
    rng = numpy.random.default_rng(seed)
    k = 1.0 / numpy.sqrt(hidden_size)
    shapes = {"weight_ih": (4 * hidden_size, input_size),
              "weight_hh": (4 * hidden_size, hidden_size),
              "bias_ih": (4 * hidden_size,), "bias_hh": (4 * hidden_size,)}
    return {name: rng.uniform(-k, k, size=shape).astype(dtype) for name, shape in shapes.items()}


def sigmoid(x, xp=numpy):
    """σ(x) = (1 + tanh(x/2)) / 2: the same function as 1 / (1 + e^-x), without overflow."""
    return 0.5 * (1.0 + xp.tanh(0.5 * x))


@dataclass
class Cache:
    """What the forward pass keeps for the backward pass."""

    x: object          # (T, B, I)
    h: object          # (T + 1, B, H): h_0 .. h_T
    c: object          # (T + 1, B, H): c_0 .. c_T
    tanh_c: object     # (T, B, H)
    gates: object      # (T, B, 4H): i, f, g, o after their nonlinearities
    params: dict


def lstm_forward(x, params: dict, h0=None, c0=None):
    """Run the LSTM over ``x`` (T, B, I). Returns ``(output, h_n, c_n, cache)``, output (T, B, H).

    ``h0`` and ``c0`` default to zeros."""
    xp = array_module(x)
    T, B, _ = x.shape
    H = params["weight_hh"].shape[1]
    h = xp.empty((T + 1, B, H), dtype=x.dtype)
    c = xp.empty((T + 1, B, H), dtype=x.dtype)
    h[0] = 0.0 if h0 is None else h0
    c[0] = 0.0 if c0 is None else c0
    tanh_c = xp.empty((T, B, H), dtype=x.dtype)
    gates = (x.reshape(T * B, -1) @ params["weight_ih"].T).reshape(T, B, 4 * H)
    gates += params["bias_ih"] + params["bias_hh"]
    w_hh_t = params["weight_hh"].T
    for t in range(T):
        a = gates[t]
        a += h[t] @ w_hh_t
        a[:, :2 * H] = sigmoid(a[:, :2 * H], xp)
        a[:, 2 * H:3 * H] = xp.tanh(a[:, 2 * H:3 * H])
        a[:, 3 * H:] = sigmoid(a[:, 3 * H:], xp)
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        c[t + 1] = f * c[t] + i * g
        tanh_c[t] = xp.tanh(c[t + 1])
        h[t + 1] = o * tanh_c[t]
    return h[1:], h[T], c[T], Cache(x, h, c, tanh_c, gates, params)


def lstm_backward(d_output, cache: Cache, d_h_n=None, d_c_n=None, input_grads: bool = True) -> dict:
    """Gradients of the loss, given dL/d(output) (T, B, H) and optionally dL/dh_n, dL/dc_n.

    Returns a dict with one entry per parameter, and ``x``, ``h0``, ``c0`` when ``input_grads``.
    """
    xp = array_module(d_output)
    T, B, H = d_output.shape
    dh = xp.zeros((B, H), dtype=d_output.dtype) if d_h_n is None else d_h_n.copy()
    dc = xp.zeros((B, H), dtype=d_output.dtype) if d_c_n is None else d_c_n.copy()
    da = xp.empty_like(cache.gates)
    w_hh = cache.params["weight_hh"]
    for t in range(T - 1, -1, -1):
        dh += d_output[t]
        z = cache.gates[t]
        i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
        tanh_c = cache.tanh_c[t]
        dc += dh * o * (1.0 - tanh_c * tanh_c)
        da[t, :, :H] = dc * g * i * (1.0 - i)
        da[t, :, H:2 * H] = dc * cache.c[t] * f * (1.0 - f)
        da[t, :, 2 * H:3 * H] = dc * i * (1.0 - g * g)
        da[t, :, 3 * H:] = dh * tanh_c * o * (1.0 - o)
        dc *= f
        dh = da[t] @ w_hh
    da_flat = da.reshape(T * B, 4 * H)
    db = da_flat.sum(axis=0)
    grads = {
        "weight_ih": da_flat.T @ cache.x.reshape(T * B, -1),
        "weight_hh": da_flat.T @ cache.h[:T].reshape(T * B, H),
        "bias_ih": db,
        "bias_hh": db.copy(),
    }
    if input_grads:
        grads["x"] = (da_flat @ cache.params["weight_ih"]).reshape(cache.x.shape)
        grads["h0"] = dh
        grads["c0"] = dc
    return grads
