"""Gradient utilities: clipping by global norm or by value; and, for truncated BPTT,
``detach_state`` and the graph-growth warning (from :mod:`nn.recurrent.tbptt`).

The clipping functions replace ``p.grad`` with a new Tensor and never write into the old gradient's array
(gradient tensors may be shared between parameters).
"""
from __future__ import annotations

import math
from typing import Iterable

from minigrad import Tensor, backend

from ..recurrent.tbptt import GraphGrowthWarning, detach_state, set_graph_growth_warning


def _with_grads(parameters) -> list:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in params if p.grad is not None]


def _norm(g, q: float) -> float:
    """||g||_q as torch.linalg.vector_norm defines it: max |g_i| (q = inf), min |g_i| (-inf),
    the number of nonzero g_i (0), otherwise (sum_i |g_i|^q)^(1/q). A NaN in g gives NaN."""
    a = backend.get_array_module(g).abs(g)
    if q == math.inf:
        return float(a.max()) if a.size else 0.0
    if q == -math.inf:
        return float(a.min())
    if q == 0:
        return float((a != 0).sum())
    return float((a ** q).sum()) ** (1.0 / q)


def _new_grad(old: Tensor, array) -> Tensor:
    return Tensor(array, device=old.device)


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    ||g|| = || (||g_1||_q, ||g_2||_q, ...) ||_q over every parameter's gradient (q = ``norm_type``,
    any order PyTorch takes: ``float("inf")`` gives max |g|, 0 counts nonzeros, see ``_norm``);
    each g_p becomes g_p * min(1, max_norm / (||g|| + 1e-6)), NaN if ||g|| is NaN, as in
    PyTorch. Returns ||g|| (before clipping), as a 0-d Tensor.
    """
    params = _with_grads(parameters)
    q = float(norm_type)
    if not params:
        return Tensor(0.0)
    total = _norm(backend.numpy.array([_norm(p.grad.data, q) for p in params]), q)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients "
                           f"is {total}; set error_if_nonfinite=False to clip anyway")
    coef = max_norm / (total + 1e-6)
    scale = 1.0 if coef >= 1.0 else coef  # torch.clamp(max=1): a NaN stays NaN
    for p in params:
        p.grad = _new_grad(p.grad, p.grad.data * scale)
    first = params[0].grad
    return Tensor(total, dtype=first.dtype, device=first.device)


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clip every gradient element into [-clip_value, clip_value]."""
    for p in _with_grads(parameters):
        g = p.grad.data
        p.grad = _new_grad(p.grad, backend.get_array_module(g).clip(g, -clip_value, clip_value))


from . import rnn  # noqa: E402  (nn.utils.rnn, as torch.nn.utils.rnn)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "detach_state", "set_graph_growth_warning",
           "GraphGrowthWarning", "rnn"]
