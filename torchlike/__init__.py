"""torchlike: PyTorch's namespace over minigrad and nn, so that a PyTorch script runs with
only its imports changed (docs/pytorch.md):

    import torchlike as torch
    import torchlike.nn as nn
    import torchlike.nn.functional as F
    import torchlike.optim as optim
    from torchlike.utils.data import DataLoader, TensorDataset

It sits above both packages, beside the model zoo (the engine never imports it), and holds no
machinery of its own: the names below are minigrad's and nn's, under PyTorch's spelling where
the two differ (``torch.cat``, ``torch.long``, ``torch.device``...).

Imported before NumPy (as a script's ``import torch`` usually is), it limits the BLAS library
to one thread unless ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` is
set, as the examples do (examples/common/__init__.py): a tutorial's small matrix products,
called between bits of Python, run many times slower when a second BLAS thread is woken for
each (the LSTMCell tutorial's step: 17 times, on two shared cores).
"""
import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from minigrad import (  # noqa: E402  (after the BLAS setting above)
    Tensor, abs, addmm, amax, amin, arange, autograd, bool_, cos, enable_grad, exp, float16,
    float32, float64, full, int32, int64, is_grad_enabled, log, log_softmax, logsumexp,
    manual_seed, matmul, max, mean, min, no_grad, ones, ones_like, rand, randn, relu, sigmoid, sin,
    softmax, sqrt, sum, tanh, tensor, where, zeros, zeros_like)

from . import cuda, nn, optim, utils  # noqa: E402
from .functions import (  # noqa: E402
    as_tensor, bmm, cat, device, from_numpy, full_like, is_tensor, linspace, load, multinomial,
    numel, rand_like, randint, randn_like, save, stack)

# PyTorch's dtype names (they shadow the builtins inside this module only)
float = float32
double = float64
half = float16
long = int64
int = int32
bool = bool_


def _method(name: str):
    def function(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = name
    function.__doc__ = f"``torch.{name}(x, ...)`` is ``x.{name}(...)``."
    return function


(argmax, argmin, argsort, chunk, clamp, flatten, gather, index_select, masked_fill, narrow, norm,
 permute, reshape, sort, split, squeeze, t, topk, transpose, unbind, unsqueeze, eq, ne, lt, le, gt,
 ge, add, sub, mul, div, pow, neg, mm) = map(_method, (
    "argmax", "argmin", "argsort", "chunk", "clamp", "flatten", "gather", "index_select",
    "masked_fill", "narrow", "norm", "permute", "reshape", "sort", "split", "squeeze", "t", "topk",
    "transpose", "unbind", "unsqueeze", "eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "mul",
    "div", "pow", "neg", "mm"))
clip = clamp
concat = cat


class set_grad_enabled:
    """``with torch.set_grad_enabled(training):``: record gradients or not, by a flag."""

    def __init__(self, mode: bool):
        self._inner = enable_grad() if mode else no_grad()

    def __enter__(self):
        return self._inner.__enter__()

    def __exit__(self, *exc):
        return self._inner.__exit__(*exc)
