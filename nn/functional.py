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


def softmax(input: Tensor, dim: int = -1) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (minigrad.softmax)."""
    return minigrad.softmax(input, dim)


def log_softmax(input: Tensor, dim: int = -1) -> Tensor:
    """x_i - log sum_j exp(x_j) along ``dim`` (minigrad.log_softmax)."""
    return minigrad.log_softmax(input, dim)


def relu(input: Tensor) -> Tensor:
    return input.relu()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """out[..., k] = 1 where tensor[...] == k, else 0: int64, one more axis of ``num_classes``
    (default: the largest index + 1), as PyTorch."""
    index = tensor.data if isinstance(tensor, Tensor) else backend.asarray(tensor)
    if backend.is_floating(index.dtype) or index.dtype == backend.bool_:
        raise TypeError(f"one_hot: expects an integer tensor, got dtype {index.dtype}")
    if num_classes == -1:
        num_classes = int(index.max()) + 1 if index.size else 0
    if index.size and (int(index.min()) < 0 or int(index.max()) >= num_classes):
        raise ValueError(f"one_hot: class values must lie in [0, {num_classes}), got values in "
                         f"[{int(index.min())}, {int(index.max())}]")
    xp = backend.get_array_module(index)
    return Tensor._make((index[..., None] == xp.arange(num_classes)).astype(backend.int64))


__all__ = ["linear", "dropout", "embedding", "mse_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy_with_logits", "softmax", "log_softmax", "relu", "tanh",
           "sigmoid", "one_hot"]
