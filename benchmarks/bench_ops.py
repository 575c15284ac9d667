"""Per-op overhead: a chain of N elementwise ops on a one-element tensor, forward and backward.

With one element, the arithmetic costs nothing and what is measured is what a framework does
around it: making a tensor, recording a node, walking the graph backward.

The chain repeats a block of four ops N/4 times, starting from y = 0.5 (float64)::

    y = y * 4;   y = sigmoid(y);   y = y - 0.5;   y = tanh(y)

Since sigmoid(4y) - 1/2 = tanh(2y)/2, one block is y -> tanh(tanh(2y)/2): its slope at 0 is
exactly 1, so y drifts slowly towards 0 and dy_N/dy_0 shrinks like a power of N instead of
vanishing geometrically. The gradient stays a normal float (no denormals, which would make the
arithmetic itself slow) and can be compared between implementations.

Implementations: minigrad, minigrad traced (the chain under ``minigrad.trace``, recorded at the
first, untimed, call), PyTorch eager (autograd), and plain NumPy calls with a hand-written
backward (the floor: the cost of the array calls alone).
"""
from __future__ import annotations

import numpy

from .devices import array_module, synchronizer, torch_on
from .harness import Workload

N_OPS = 10_000
START = 0.5


def chain(y, n_ops: int = N_OPS):
    """The forward chain, for minigrad and torch tensors alike (methods, not module functions:
    ``minigrad.tanh(y)`` is a wrapper around ``y.tanh()``, one Python call more)."""
    for _ in range(n_ops // 4):
        y = y * 4.0
        y = y.sigmoid()
        y = y - 0.5
        y = y.tanh()
    return y


def numpy_chain_grad(x, n_ops: int = N_OPS, xp=numpy):
    """y_N and dy_N/dx with NumPy calls: forward saving the sigmoid and tanh outputs, then the
    hand-written backward (d sigmoid = s(1 - s), d tanh = 1 - t², d(y * 4) = 4, d(y - 0.5) = 1)."""
    saved = []
    y = x
    for _ in range(n_ops // 4):
        y = y * 4.0
        s = 0.5 * (1.0 + xp.tanh(0.5 * y))
        y = s - 0.5
        y = xp.tanh(y)
        saved.append((s, y))
    grad = xp.ones_like(x)
    for s, t in reversed(saved):
        grad = grad * (1.0 - t * t)
        grad = grad * (s * (1.0 - s))
        grad = grad * 4.0
    return y, grad


def minigrad_setup(n_ops: int, device: str):
    import minigrad
    return _autograd_setup(
        lambda: minigrad.tensor(numpy.array([START]), device=device, requires_grad=True), n_ops)


def minigrad_traced_setup(n_ops: int, device: str):
    import minigrad

    def setup():
        x = minigrad.tensor(numpy.array([START]), device=device, requires_grad=True)
        traced = minigrad.trace(lambda x: chain(x, n_ops))

        def step():
            x.grad = None
            traced(x).sum().backward()
            return x.grad

        step()  # records
        step()  # compiles: what is timed is the replay
        return step

    return setup


def torch_setup(n_ops: int, device: str):
    import torch
    return _autograd_setup(
        lambda: torch.tensor([START], dtype=torch.float64, device=device, requires_grad=True),
        n_ops)


def _autograd_setup(make_x, n_ops: int):
    """The chain in a framework with ``.backward()``; ``make_x()`` makes the start tensor."""
    def setup():
        x = make_x()

        def step():
            x.grad = None
            chain(x, n_ops).sum().backward()
            return x.grad

        return step

    return setup


def numpy_setup(n_ops: int, device: str):
    def setup():
        xp = array_module(device)
        x = xp.array([START])
        return lambda: numpy_chain_grad(x, n_ops, xp)

    return setup


def workloads(device: str = "cpu", n_ops: int = N_OPS) -> list[Workload]:
    """The chain for each implementation available on ``device``."""
    group = f"chain of {n_ops} elementwise ops, 1 element, float64, {device}"
    sync = synchronizer(device)
    found = [Workload(group, "minigrad", minigrad_setup(n_ops, device), memory=None, sync=sync,
                      ops=n_ops),
             Workload(group, "minigrad traced", minigrad_traced_setup(n_ops, device), memory=None,
                      sync=sync, ops=n_ops)]
    if torch_on(device):
        found.append(Workload(group, "pytorch", torch_setup(n_ops, device), memory=None,
                              sync=sync, ops=n_ops))
    found.append(Workload(group, "numpy" if device == "cpu" else "cupy",
                          numpy_setup(n_ops, device), memory=None, sync=sync, ops=n_ops))
    return found


__all__ = ["N_OPS", "chain", "numpy_chain_grad", "workloads"]
