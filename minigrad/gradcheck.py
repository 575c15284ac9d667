"""Finite-difference checks of the analytic gradients, in float64.

``gradcheck(fn, inputs)`` compares d/dx of ``sum_k sum(fn(*inputs)_k * R_k)`` (R_k a fixed random
weight for each output) with central differences, element by element:

    d/dx_j  ~  (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)

``gradgradcheck`` does the same for the gradient itself, i.e. checks second derivatives through
``create_graph=True``. On a mismatch both raise ``GradcheckError`` naming the input, the element
and the two values. A NaN or infinite value is a failure too, never a match (``abs(a - n) > tol``
is False for NaN): in an output of ``fn``, in the analytic gradient or in the numeric one, each
named as such.
"""
from __future__ import annotations

import math

from . import backend
from .autograd import grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    pass


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _float_outputs(fn, inputs) -> list:
    return [o for o in _as_tuple(fn(*inputs)) if backend.is_floating(o.dtype)]


def _first_not_finite(array):
    """The index of the first NaN or infinite element of a NumPy array, or None."""
    bad = backend.numpy.flatnonzero(~backend.numpy.isfinite(array))
    if bad.size == 0:
        return None
    return tuple(int(e) for e in backend.numpy.unravel_index(bad[0], array.shape))


def _not_finite_outputs(outputs) -> str | None:
    """Describe the first output of ``fn`` that holds a NaN or inf, if any."""
    for k, out in enumerate(outputs):
        values = out.numpy()
        element = _first_not_finite(values)
        if element is not None:
            return (f"gradcheck: output {k} of fn (shape {out.shape}) is {values[element]} at "
                    f"element {element}: a gradient cannot be checked where the function is not "
                    "finite")
    return None


def _weights(outputs, seed: int) -> list:
    rng = backend.numpy.random.default_rng(seed)
    return [Tensor(rng.standard_normal(o.shape), dtype=o.dtype, device=o.device) for o in outputs]


def _projected(fn, inputs, weights) -> Tensor:
    """The scalar sum_k sum(fn(inputs)_k * R_k) over the floating-point outputs."""
    total = None
    for out, w in zip(_float_outputs(fn, inputs), weights):
        term = (out * w).sum()
        total = term if total is None else total + term
    return total


def _gradients(total: Tensor, xs: list, create_graph: bool = False) -> tuple:
    """d total / d xs, with None for an input ``total`` does not depend on (in the graph)."""
    if not total.requires_grad:
        return (None,) * len(xs)
    return grad(total, xs, create_graph=create_graph, allow_unused=True)


def _checked(inputs) -> list:
    """Indices of the inputs to check: the Tensors that require grad, which must be float64."""
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for i in checked:
        if inputs[i].dtype != backend.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; use float64 inputs")
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    return checked


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0, raise_exception: bool = True) -> bool:
    """Check the first derivatives of ``fn`` at ``inputs`` (the float64 Tensors that require grad).

    Returns True, or raises GradcheckError (returns False when ``raise_exception=False``).
    """
    inputs = _as_tuple(inputs)
    checked = _checked(inputs)
    outputs = _float_outputs(fn, inputs)
    failure = _not_finite_outputs(outputs)
    weights = _weights(outputs, seed)
    analytic = [] if failure else _gradients(_projected(fn, inputs, weights),
                                             [inputs[i] for i in checked])
    for i, a in zip(checked, analytic):
        if failure is not None:
            break
        a = backend.numpy.zeros(inputs[i].shape) if a is None else backend.to_numpy(a.data)
        element = _first_not_finite(a)
        if element is not None:
            failure = (f"gradcheck: input {i} (shape {inputs[i].shape}), element {element}: the "
                       f"analytic gradient is {a[element]}")
        else:
            failure = _first_mismatch(fn, inputs, weights, i, a.reshape(-1), eps, atol, rtol)
    if failure is not None:
        if raise_exception:
            raise GradcheckError(failure)
        return False
    return True


def _first_mismatch(fn, inputs, weights, i: int, analytic, eps, atol, rtol) -> str | None:
    """Perturb each element of input ``i`` in turn; describe the first disagreement, if any."""
    x = inputs[i]
    original_data = x.data
    x.data = original_data.copy()  # C-ordered (a flat view writes through), same shape, even 0-d
    flat = x.data.reshape(-1)
    try:
        for k in range(flat.size):
            original = flat[k].item()
            flat[k] = original + eps
            plus = _projected(fn, inputs, weights).item()
            flat[k] = original - eps
            minus = _projected(fn, inputs, weights).item()
            flat[k] = original
            numeric = (plus - minus) / (2 * eps)
            element = tuple(int(e) for e in backend.numpy.unravel_index(k, x.shape))
            if not math.isfinite(numeric):
                return (f"gradcheck: input {i} (shape {x.shape}), element {element}: the numeric "
                        f"gradient is {numeric} (f(x + eps) = {plus}, f(x - eps) = {minus}; "
                        f"analytic {analytic[k]:.10g})")
            if not abs(analytic[k] - numeric) <= atol + rtol * abs(numeric):
                return (f"gradcheck: input {i} (shape {x.shape}), element {element}: "
                        f"analytic {analytic[k]:.10g} vs numeric {numeric:.10g}")
    finally:
        x.data = original_data
    return None


def gradgradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  seed: int = 0, raise_exception: bool = True) -> bool:
    """Check second derivatives: gradcheck of x -> sum_i sum(d<fn(x), R>/dx_i * V_i)."""
    inputs = _as_tuple(inputs)
    checked = _checked(inputs)
    weights = _weights(_float_outputs(fn, inputs), seed)
    rng = backend.numpy.random.default_rng(seed + 1)
    directions = [Tensor(rng.standard_normal(inputs[i].shape), dtype=backend.float64,
                         device=inputs[i].device) for i in checked]

    def first_derivative(*xs):
        grads = _gradients(_projected(fn, xs, weights), [xs[i] for i in checked], create_graph=True)
        # x * 0 keeps the result in the graph even where the gradient is constant or (wrongly)
        # detached: its analytic derivative is then 0, and the numeric one shows any dependence.
        total = (xs[checked[0]] * 0.0).sum()
        for g, v in zip(grads, directions):
            if g is not None:
                total = total + (g * v).sum()
        return total

    return gradcheck(first_derivative, inputs, eps, atol, rtol, seed, raise_exception)
