"""One training step (forward and backward) of a single-layer LSTM, float32.

The same problem for every implementation: the same parameters (PyTorch's initialisation, drawn
once with NumPy and copied into each), input x (T, B, I), zero initial state, and the loss

    L = Σ_{t,b,j} output[t, b, j] · R[t, b, j]        (R a fixed random (T, B, H) array)

so dL/d(output) = R. A step zeroes the gradients, runs forward, computes L, runs backward to
every parameter (not to x: it is data).

Implementations:

* ``numpy``: the hand-written forward and BPTT of :mod:`benchmarks.numpy_lstm` (the baseline);
  on ``--device cuda`` the same code on CuPy arrays (``cupy``);
* ``minigrad``: ``nn.LSTM``, whose backward comes from the engine;
* ``minigrad traced``: ``nn.LSTM`` under ``minigrad.trace``: recorded once, its backward derived
  once, both replayed as compiled programs (the first call, which records, is not timed: see
  :func:`first_call_workloads`);
* ``minigrad loop``: the step written out with minigrad ops in :func:`primitive_lstm` (what
  ``nn.LSTM`` costs on top of the bare ops);
* ``pytorch``: ``torch.nn.LSTM`` (a fused C++ kernel per step);
* ``pytorch loop``: :func:`primitive_lstm` with torch tensors, PyTorch eager autograd.

The two loops do what the reference does: the input projection hoisted out of the time loop,
and the first step's h_0 W_hh^T computed on the zero state like every other step.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy

from . import numpy_lstm
from .devices import array_module, synchronizer, torch_on
from .harness import CUPY_POOL, TORCH_CUDA, TRACEMALLOC, Workload


@dataclass(frozen=True)
class Shape:
    T: int
    B: int
    I: int
    H: int

    def __str__(self) -> str:
        return f"T={self.T} B={self.B} I={self.I} H={self.H}"


LARGE = Shape(64, 64, 128, 256)
SMALL = Shape(32, 16, 32, 64)


def problem(shape: Shape, dtype=numpy.float32, seed: int = 0) -> dict:
    """Parameters (PyTorch names, no layer suffix), x and R as NumPy arrays."""
    rng = numpy.random.default_rng(seed + 1)
    return {"params": numpy_lstm.init_params(shape.I, shape.H, dtype, seed),
            "x": rng.normal(size=(shape.T, shape.B, shape.I)).astype(dtype),
            "r": rng.normal(size=(shape.T, shape.B, shape.H)).astype(dtype)}


def primitive_lstm(x, w_ih, w_hh, b_ih, b_hh, h, c, stack, addmm):
    """The LSTM written with tensor ops (works for minigrad and torch tensors alike, given their
    ``stack`` and ``addmm``), from the initial state ``h``, ``c`` (B, H). Returns the output
    (T, B, H).

    The projected inputs are split with ``unbind``, whose backward stacks the T step gradients
    once; indexing ``xw[t]`` would make each step's backward write a full (T, B, 4H) gradient,
    O(T²) work. ``addmm(c, a, b)`` = c + a @ b in one op, as ``nn.LSTM`` computes it."""
    T, B, _ = x.shape
    H = w_hh.shape[1]
    xw = addmm(b_ih + b_hh, x.reshape(T * B, -1), w_ih.T).reshape(T, B, 4 * H).unbind(0)
    w_hh_t = w_hh.T
    outputs = []
    for t in range(T):
        i, f, g, o = addmm(xw[t], h, w_hh_t).chunk(4, 1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        outputs.append(h)
    return stack(outputs, 0)


# --- implementations: each returns a step -> (loss, {parameter name: gradient}) --------------
def numpy_step(shape: Shape, dtype=numpy.float32, device: str = "cpu"):
    p = problem(shape, dtype)
    xp = array_module(device)
    params = {k: xp.asarray(v) for k, v in p["params"].items()}
    x, r = xp.asarray(p["x"]), xp.asarray(p["r"])
    state = {}

    def step():
        state.clear()
        out, _, _, cache = numpy_lstm.lstm_forward(x, params)
        loss = (out * r).sum()
        state.update(numpy_lstm.lstm_backward(r, cache, input_grads=False))
        return loss, state

    return step


def training_step(params: dict, forward, r):
    """One timed step, the same for every autograd implementation: clear the gradients, run
    ``forward()``, take L = sum(output * R), backward; returns (L, {name: gradient})."""
    def step():
        for q in params.values():
            q.grad = None
        loss = (forward() * r).sum()
        loss.backward()
        return loss, {name: q.grad for name, q in params.items()}

    return step


def _layer_params(model) -> dict:
    """A one-layer model's parameters by their short names (``weight_ih_l0`` -> ``weight_ih``)."""
    return {name[:-3]: q for name, q in model.named_parameters()}


def minigrad_step(shape: Shape, dtype=numpy.float32, device: str = "cpu", traced: bool = False):
    import minigrad
    import nn

    p = problem(shape, dtype)
    model = nn.LSTM(shape.I, shape.H, device=device, dtype=dtype)
    params = _layer_params(model)
    for name, value in p["params"].items():
        params[name].data = minigrad.tensor(value, device=device).data
    x = minigrad.tensor(p["x"], device=device)
    forward = lambda x: model(x)[0]  # noqa: E731
    if traced:
        forward = minigrad.trace(forward)
    return training_step(params, lambda: forward(x), minigrad.tensor(p["r"], device=device))


def minigrad_traced_step(shape: Shape, dtype=numpy.float32, device: str = "cpu"):
    """``nn.LSTM`` under ``minigrad.trace`` (the step's first call records it)."""
    return minigrad_step(shape, dtype, device, traced=True)


def minigrad_traced_step_ready(shape: Shape, dtype=numpy.float32, device: str = "cpu"):
    """:func:`minigrad_traced_step` after two calls: the recording (which runs no program) and
    the compiling (the programs are compiled at their first run, the second call); what the
    timed rows measure."""
    step = minigrad_traced_step(shape, dtype, device)
    step()
    step()
    return step


def minigrad_loop_step(shape: Shape, dtype=numpy.float32, device: str = "cpu"):
    import minigrad

    p = problem(shape, dtype)
    params = {k: minigrad.tensor(v, device=device, requires_grad=True)
              for k, v in p["params"].items()}
    x = minigrad.tensor(p["x"], device=device)
    h0 = minigrad.zeros((shape.B, shape.H), dtype=dtype, device=device)
    return training_step(
        params, lambda: primitive_lstm(x, *params.values(), h0, h0, stack=minigrad.stack,
                                       addmm=minigrad.addmm),
        minigrad.tensor(p["r"], device=device))


def torch_step(shape: Shape, dtype=numpy.float32, device: str = "cpu"):
    import torch

    p = problem(shape, dtype)
    model = torch.nn.LSTM(shape.I, shape.H, dtype=_torch_dtype(dtype), device=device)
    params = _layer_params(model)
    with torch.no_grad():
        for name, value in p["params"].items():
            params[name].copy_(torch.from_numpy(value))
    x = torch.from_numpy(p["x"]).to(device)
    return training_step(params, lambda: model(x)[0], torch.from_numpy(p["r"]).to(device))


def torch_loop_step(shape: Shape, dtype=numpy.float32, device: str = "cpu"):
    import torch

    p = problem(shape, dtype)
    params = {k: torch.from_numpy(v).to(device).requires_grad_() for k, v in p["params"].items()}
    x = torch.from_numpy(p["x"]).to(device)
    h0 = torch.zeros(shape.B, shape.H, dtype=_torch_dtype(dtype), device=device)
    return training_step(
        params, lambda: primitive_lstm(x, *params.values(), h0, h0, stack=torch.stack,
                                       addmm=torch.addmm),
        torch.from_numpy(p["r"]).to(device))


def _torch_dtype(dtype):
    import torch
    return {numpy.dtype("float32"): torch.float32,
            numpy.dtype("float64"): torch.float64}[numpy.dtype(dtype)]


def implementations(device: str = "cpu") -> dict:
    """name -> (make_step(shape, dtype, device), how its peak memory is measured)."""
    found = {"numpy" if device == "cpu" else "cupy":
             (numpy_step, TRACEMALLOC if device == "cpu" else CUPY_POOL)}
    mg_memory = TRACEMALLOC if device == "cpu" else CUPY_POOL
    found["minigrad"] = (minigrad_step, mg_memory)
    found["minigrad traced"] = (minigrad_traced_step_ready, mg_memory)
    found["minigrad loop"] = (minigrad_loop_step, mg_memory)
    if torch_on(device):
        torch_memory = None if device == "cpu" else TORCH_CUDA
        found["pytorch"] = (torch_step, torch_memory)
        found["pytorch loop"] = (torch_loop_step, torch_memory)
    return found


def workloads(device: str = "cpu", shapes=(LARGE, SMALL), names=None) -> list[Workload]:
    sync = synchronizer(device)
    found = []
    for shape in shapes:
        group = f"LSTM training step {shape}, float32, {device}"
        for name, (make, memory) in implementations(device).items():
            if names is None or name in names:
                found.append(Workload(group, name, _bind(make, shape, device), memory=memory,
                                      sync=sync))
    return found


def _bind(make, shape: Shape, device: str):
    return lambda: make(shape, numpy.float32, device)


def first_call_result(shape: Shape, device: str = "cpu", repeats: int = 15):
    """The first call of a freshly traced step (recording the forward pass, deriving the
    backward pass, and the step itself), timed ``repeats`` times, each with a new trace: a
    :class:`~benchmarks.harness.Result` named "minigrad traced, first call" in its own group
    (compare it with the "minigrad" row of the step's table). One untimed first call comes
    before them: the first trace a process makes also imports what tracing needs (as the
    timed steps have their warm-up calls)."""
    import gc
    import statistics
    import time

    from .harness import Result

    sync = synchronizer(device) or (lambda: None)
    minigrad_traced_step(shape, numpy.float32, device)()
    sync()
    times = []
    for _ in range(repeats):
        step = minigrad_traced_step(shape, numpy.float32, device)
        gc.collect()
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return Result(f"first call of a traced LSTM step {shape}, float32, {device}",
                  "minigrad traced, first call", statistics.median(times), min(times), times)
