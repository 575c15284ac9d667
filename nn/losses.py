"""Loss functions, composed of minigrad ops (no hand-written backward), and their modules.

Every loss takes ``reduction``: ``"mean"`` (default), ``"sum"`` or ``"none"`` (one value per
element or per sample), as in PyTorch.
"""
from __future__ import annotations

import minigrad
from minigrad import Tensor, backend

from .module import Module

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _check_label_smoothing(op: str, label_smoothing: float) -> None:
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _as_tensor(value, like: Tensor, name: str, op: str) -> Tensor:
    """A target given as a Tensor, or as an array or Python data (floats take ``like``'s dtype).

    A float Tensor must already have ``like``'s dtype: minigrad ops never mix float dtypes, and
    the error is clearer here, naming the loss and the argument, than inside a ``mul``."""
    if isinstance(value, Tensor):
        if value.device != like.device:
            raise RuntimeError(f"{op}: {name} is on {value.device} but input is on {like.device}")
        if backend.is_floating(value.dtype) and value.dtype != like.dtype:
            raise TypeError(f"{op}: {name} is {value.dtype} {value.shape} but input is {like.dtype} "
                            f"{like.shape}; convert it with {name}.to(dtype=input.dtype)")
        return value
    array = backend.asarray(value, device=like.device)
    if backend.is_floating(array.dtype) and array.dtype != like.dtype:
        array = backend.asarray(value, dtype=like.dtype, device=like.device)
    return Tensor(array, device=like.device)


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """l_i = (x_i - y_i)^2.  Shapes must match (no silent broadcasting)."""
    _check_reduction("mse_loss", reduction)
    target = _as_tensor(target, input, "target", "mse_loss")
    if target.shape != input.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} and target shape {target.shape} differ")
    diff = input - target
    return _reduce(diff * diff, reduction)


def _check_class_target(op: str, input_shape: tuple, target, ignore_index: int) -> None:
    """Integer targets of shape input_shape without the class axis (axis 1; axis 0 if 1-d)."""
    expected = input_shape[:1] + input_shape[2:] if len(input_shape) > 1 else ()
    if backend.is_floating(target.dtype) or target.dtype == backend.bool_:
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {target.dtype}")
    if target.shape != expected:
        raise ValueError(f"{op}: input of shape {input_shape} needs a target of shape {expected} "
                         f"(input without its class axis), got {target.shape}")
    n_classes = input_shape[1] if len(input_shape) > 1 else input_shape[0]
    valid = target[target != ignore_index]
    bad = valid[(valid < 0) | (valid >= n_classes)]
    if bad.size:
        raise IndexError(f"{op}: target {int(bad.reshape(-1)[0])} is out of range for "
                         f"{n_classes} classes (ignore_index={ignore_index})")


def _classes_last(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N*d1*..., C);  (N, C) and (C,) -> (rows, C)."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim > 2:
        x = x.transpose((0,) + tuple(range(2, x.ndim)) + (1,))
    return x.reshape(-1, x.shape[-1])


def _class_weight(op: str, weight, input: Tensor, n_classes: int) -> Tensor:
    """``weight`` as a Tensor of shape (C,): one factor per class."""
    weight = _as_tensor(weight, input, "weight", op)
    if weight.shape != (n_classes,):
        raise ValueError(f"{op}: weight must have shape ({n_classes},), one value per class of the "
                         f"input {input.shape}, got {weight.shape}")
    return weight


def _broadcast_argument(op: str, name: str, value, input: Tensor) -> Tensor:
    """``value`` as a Tensor that broadcasts to ``input``'s shape without enlarging it."""
    value = _as_tensor(value, input, name, op)
    shape, full = value.shape, input.shape
    if len(shape) > len(full) or any(a not in (1, b) for a, b in zip(shape[::-1], full[::-1])):
        raise ValueError(f"{op}: {name} of shape {shape} does not broadcast to the input's "
                         f"shape {full}")
    return value


def nll_loss(input: Tensor, target, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input``: l_n = -w_{y_n} x_{n, y_n}.

    ``input`` is (N, C), (N, C, d1, ...) or (C,); ``target`` holds class indices with the class
    axis removed. Targets equal to ``ignore_index`` contribute 0 (whatever their row holds, even
    -inf or NaN) and are left out of the mean, which is sum_n l_n / sum_n w_{y_n} over the
    targets kept.
    """
    _check_reduction("nll_loss", reduction)
    target = _as_tensor(target, input, "target", "nll_loss").data
    _check_class_target("nll_loss", input.shape, target, ignore_index)
    return _nll("nll_loss", input, target, weight, ignore_index, reduction)


def _nll(op: str, input: Tensor, target, weight, ignore_index: int, reduction: str,
         label_smoothing: float = 0.0) -> Tensor:
    """nll_loss's arithmetic, for a checked target array.

    With ``label_smoothing`` ε (cross_entropy's), PyTorch's definition: over C classes,
    (1 - ε) nll + ε/C smooth, where smooth_n = -sum_c w_c x_{n,c} (0 for ignored targets) is
    reduced as nll is, so that the mean divides it by sum_n w_{y_n} too.
    """
    xp = backend.get_array_module(target)
    rows = _classes_last(input)
    flat = target.reshape(-1)
    keep = flat != ignore_index
    safe = xp.where(keep, flat, 0)
    w = keep.astype(input.dtype)
    class_weight = None
    if weight is not None:
        class_weight = _class_weight(op, weight, input, rows.shape[1]).data
        w = w * class_weight[safe]
    w = Tensor(w.astype(input.dtype, copy=False), device=input.device)

    def reduce(losses: Tensor) -> Tensor:
        if reduction == "mean":
            return losses.sum() / w.sum()
        if reduction == "sum":
            return losses.sum()
        return losses.reshape(target.shape)

    # select, not multiply by w = 0: an ignored row may hold -inf or NaN, and -inf * 0 is NaN
    loss = reduce(minigrad.where(keep, -rows[xp.arange(rows.shape[0]), safe], 0.0) * w)
    if not label_smoothing:
        return loss
    weighted = rows if class_weight is None else rows * class_weight
    smooth = reduce(minigrad.where(keep, -weighted.sum(axis=1), 0.0))
    return (1.0 - label_smoothing) * loss + (label_smoothing / rows.shape[1]) * smooth


def cross_entropy(input: Tensor, target, weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits: l_n = -log softmax(x_n)_{y_n} = logsumexp(x_n) - x_{n, y_n}.

    ``input`` holds logits with classes on axis 1 ((N, C) or (N, C, d1, ...)) or axis 0 ((C,)).
    ``target`` holds integer class indices (see :func:`nll_loss`), or class probabilities of
    the same shape as ``input`` (then l_n = -sum_c w_c y_{n,c} log softmax(x_n)_c).

    ``label_smoothing`` ε in [0, 1] mixes the target with the uniform distribution, as in
    PyTorch: probabilities become (1 - ε) y + ε/C; a class index gives
    l_n = (1 - ε) w_{y_n} (-log p_{n,y_n}) + ε/C sum_c w_c (-log p_{n,c}), and the mean
    divides by sum_n w_{y_n} over the targets kept.
    """
    op = "cross_entropy"
    _check_reduction(op, reduction)
    _check_label_smoothing(op, label_smoothing)
    target = _as_tensor(target, input, "target", op)
    axis = 1 if input.ndim > 1 else 0
    if not backend.is_floating(target.dtype):
        _check_class_target(op, input.shape, target.data, ignore_index)
        ignored = target.data == ignore_index
        if ignored.any():
            # an ignored row may be fully masked (all -inf) or NaN: its log_softmax, and so its
            # gradient, would be NaN. Zero logits there add nothing and get a zero gradient.
            kept = backend.get_array_module(ignored).expand_dims(~ignored, axis)
            input = minigrad.where(kept, input, 0.0)
        return _nll(op, minigrad.log_softmax(input, axis=axis), target.data, weight, ignore_index,
                    reduction, label_smoothing)
    if target.shape != input.shape:
        raise ValueError(f"cross_entropy: probability targets must have the input's shape "
                         f"{input.shape}, got {target.shape}")
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / input.shape[axis]
    log_probs = minigrad.log_softmax(input, axis=axis)
    if weight is not None:
        weight = _class_weight(op, weight, input, input.shape[axis])
        shape = [1] * input.ndim
        shape[axis] = -1
        log_probs = log_probs * weight.reshape(tuple(shape))
    return _reduce(-(target * log_probs).sum(axis=axis), reduction)


def _softplus(z: Tensor) -> Tensor:
    """log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): never overflows; exact gradient sigmoid(z)
    everywhere (at z = 0 the tie in max gives 1/2)."""
    return z.maximum(0.0) + (1.0 + (-z.abs()).exp()).log()


def binary_cross_entropy_with_logits(input: Tensor, target, weight: Tensor | None = None,
                                     reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """l = -w [p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]
         = w [(1 - y) x + (1 + (p - 1) y) softplus(-x)],

    the second form stable for any logit x (p = ``pos_weight``, broadcast along the last axis).
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(op, reduction)
    target = _as_tensor(target, input, "target", op)
    if target.shape != input.shape:
        raise ValueError(f"{op}: input shape {input.shape} and target shape {target.shape} differ")
    target = target.to(dtype=input.dtype)
    log_weight = 1.0
    if pos_weight is not None:
        pos_weight = _broadcast_argument(op, "pos_weight", pos_weight, input)
        log_weight = 1.0 + (pos_weight - 1.0) * target
    loss = (1.0 - target) * input + log_weight * _softplus(-input)
    if weight is not None:
        loss = loss * _broadcast_argument(op, "weight", weight, input)
    return _reduce(loss, reduction)


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""

    def _keep(self, name: str, value) -> None:
        """A Tensor option (``weight``, ``pos_weight``) is a buffer, as in PyTorch: saved by
        state_dict(), cast and moved by to(). An array or list stays a plain attribute, which
        the loss function converts to the input's dtype at each call."""
        if value is None or isinstance(value, Tensor):
            self.register_buffer(name, value)
        else:
            setattr(self, name, value)


class MSELoss(_Loss):
    """Mean squared error; see :func:`mse_loss`."""

    def forward(self, input: Tensor, target) -> Tensor:
        return mse_loss(input, target, self.reduction)


class _WeightedClassLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean"):
        super().__init__(reduction)
        self._keep("weight", weight)
        self.ignore_index = ignore_index


class NLLLoss(_WeightedClassLoss):
    """Negative log-likelihood of log-probabilities; see :func:`nll_loss`."""

    def forward(self, input: Tensor, target) -> Tensor:
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(_WeightedClassLoss):
    """Softmax cross-entropy of logits; see :func:`cross_entropy`."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, ignore_index, reduction)
        _check_label_smoothing(type(self).__name__, label_smoothing)
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target) -> Tensor:
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                             self.label_smoothing)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable step; see :func:`binary_cross_entropy_with_logits`."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None):
        super().__init__(reduction)
        self._keep("weight", weight)
        self._keep("pos_weight", pos_weight)

    def forward(self, input: Tensor, target) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                self.pos_weight)
