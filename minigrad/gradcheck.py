"""Finite-difference checks of the analytic gradients, in float64.

``gradcheck(fn, inputs)`` compares d/dx of ``sum(fn(*inputs) * R)`` (R a fixed random weight for
each output) with central differences, element by element. ``gradgradcheck`` does the same for
the gradient itself, i.e. checks second derivatives through ``create_graph=True``.
On a mismatch both raise ``GradcheckError`` naming the input, the element and the two values.
"""
from __future__ import annotations

from . import backend
from .autograd import grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    pass


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _weights(outputs, seed: int):
    rng = backend.numpy.random.default_rng(seed)
    return [Tensor(rng.standard_normal(o.shape), dtype=o.dtype, device=o.device) for o in outputs]


def _projected(fn, inputs, weights):
    """The scalar sum_k sum(fn(inputs)_k * R_k)."""
    outputs = _as_tuple(fn(*inputs))
    total = None
    for out, w in zip(outputs, weights):
        if out.requires_grad or total is None:
            term = (out * w).sum()
            total = term if total is None else total + term
    return total


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0, raise_exception: bool = True) -> bool:
    """Check the first derivatives of ``fn`` at ``inputs`` (Tensors; float64 ones are checked).

    Returns True, or raises GradcheckError (returns False when ``raise_exception=False``).
    """
    inputs = _as_tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for i in checked:
        if inputs[i].dtype != backend.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; use float64 inputs")
    weights = _weights(_as_tuple(fn(*inputs)), seed)
    analytic = grad(_projected(fn, inputs, weights), [inputs[i] for i in checked], allow_unused=True)
    for i, a in zip(checked, analytic):
        x = inputs[i]
        a = backend.numpy.zeros(x.shape) if a is None else backend.to_numpy(a.data)
        mismatch = _first_mismatch(fn, inputs, weights, i, a.reshape(-1), eps, atol, rtol)
        if mismatch is not None:
            if raise_exception:
                raise GradcheckError(mismatch)
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
            if abs(analytic[k] - numeric) > atol + rtol * abs(numeric):
                element = tuple(int(e) for e in backend.numpy.unravel_index(k, x.shape))
                return (f"gradcheck: input {i} (shape {x.shape}), element {element}: "
                        f"analytic {analytic[k]:.10g} vs numeric {numeric:.10g}")
    finally:
        x.data = original_data
    return None


def gradgradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  seed: int = 0, raise_exception: bool = True) -> bool:
    """Check second derivatives: gradcheck of x -> sum(d<fn(x), R>/dx * V)."""
    inputs = _as_tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    weights = _weights(_as_tuple(fn(*inputs)), seed)
    rng = backend.numpy.random.default_rng(seed + 1)
    directions = [Tensor(rng.standard_normal(inputs[i].shape), dtype=backend.float64,
                         device=inputs[i].device) for i in checked]

    def first_derivative(*xs):
        grads = grad(_projected(fn, xs, weights), [xs[i] for i in checked],
                     create_graph=True, allow_unused=True)
        total = None
        for g, v in zip(grads, directions):
            if g is not None and g.requires_grad:
                term = (g * v).sum()
                total = term if total is None else total + term
        if total is None:  # linear function: the second derivative is zero everywhere
            total = (xs[checked[0]] * 0.0).sum()
        return total

    return gradcheck(first_derivative, inputs, eps, atol, rtol, seed, raise_exception)
