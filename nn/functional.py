"""Stateless layer functions and losses, composed of minigrad ops (their gradients come free).

The module classes in ``nn`` (``Linear``, ``Dropout``, ``CrossEntropyLoss``...) hold the
parameters and options and call these.
"""
from __future__ import annotations

import minigrad
from minigrad import Tensor, backend

from .losses import (binary_cross_entropy_with_logits, cross_entropy, mse_loss,  # noqa: F401
                     nll_loss)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, with W of shape (out_features, in_features) as in PyTorch; x is (..., in).

    The leading axes of x are flattened so that it is ONE 2-D matmul, (M, in) @ (in, out): a
    (T, N, in) @ (in, out) product would make the weight's gradient a batch of T matrices. With
    a bias it is ``addmm(b, x, W^T)``: b is added into the product's memory, one node and one
    (M, out) array fewer than ``x @ W.T + b``.
    """
    if x.ndim == 0:
        raise ValueError(f"linear: input must be at least 1-D with its last dimension of size "
                         f"in_features={weight.shape[-1]}, got a 0-d tensor (weight shape "
                         f"{weight.shape})")
    if x.shape[-1] != weight.shape[-1]:
        raise ValueError(f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the "
                         f"weight expects {weight.shape[-1]} (weight shape {weight.shape})")
    flat = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
    y = flat @ weight.T if bias is None else minigrad.addmm(bias, flat, weight.T)
    return y if x.ndim == 2 else y.reshape(x.shape[:-1] + (y.shape[-1],))


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: y = x * m / (1 - p), m_i ~ Bernoulli(1 - p); identity when not training.

    Scaling by 1/(1-p) at training time keeps E[y] = x, so evaluation needs no rescaling.
    The mask comes from minigrad's generator: ``minigrad.manual_seed`` makes it reproducible.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = backend.random_bernoulli(1.0 - p, x.shape, x.dtype, x.device)
    return x * Tensor(keep / (1.0 - p), device=x.device)


def embedding(indices, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` picked by integer ``indices``: out[..., :] = weight[indices[...], :].

    The gradient adds up into the picked rows (repeated indices accumulate); the row
    ``padding_idx``, if given, is looked up but gets no gradient (negative: counted from the
    end, as in PyTorch).
    """
    index = indices.data if isinstance(indices, Tensor) else backend.asarray(indices, device=weight.device)
    if backend.is_floating(index.dtype) or index.dtype == backend.bool_:
        raise TypeError(f"embedding: indices must be integers, got dtype {index.dtype}")
    n = weight.shape[0]
    if index.size and (int(index.min()) < 0 or int(index.max()) >= n):
        raise IndexError(f"embedding: indices must lie in [0, {n}) for a table of {n} rows, "
                         f"got values in [{int(index.min())}, {int(index.max())}]")
    rows = weight[index]
    if padding_idx is None:
        return rows
    if not -n <= padding_idx < n:
        raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for a table of "
                         f"{n} rows")
    is_pad = Tensor((index == padding_idx % n)[..., None], device=weight.device)
    return minigrad.where(is_pad, rows.detach(), rows)


__all__ = ["linear", "dropout", "embedding", "mse_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy_with_logits"]
