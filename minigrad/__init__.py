"""minigrad: a small reverse-mode automatic-differentiation engine on NumPy or CuPy.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()          # x.grad == [2., 4.]
"""
from . import backend
from .tensor import Cut, Tensor, tensor  # first: the other modules build on it
from .autograd import backward, enable_grad, grad, is_grad_enabled, no_grad
from .backend import (bool_, cuda_available, float16, float32, float64, get_default_device, int32,
                      int64, manual_seed, set_default_device)
from .creation import (arange, full, ones, ones_like, rand, randn, uniform, zeros, zeros_like)
from .function import Edge, Function
from .functional import log_softmax, logsumexp, softmax
from .hooks import listen
from .anomaly import AnomalyError, detect_anomaly
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from . import ops
from .ops import concat, stack, where
from .scope import Scope, current_scope, scope
from .trace import TraceError, trace

__version__ = "0.1.0"


def _unary(method):
    def function(x, *args, **kwargs):
        return getattr(x, method)(*args, **kwargs)

    function.__name__ = method
    function.__doc__ = f"Same as ``Tensor.{method}``."
    return function


def _elementwise(op):
    def function(x):
        return op.apply(x)

    function.__name__ = op.__name__.lower()
    function.__doc__ = (f"Same as ``Tensor.{function.__name__}``; on a plain array (inside a "
                        "backward formula) it returns the plain array.")
    return function


exp, log, sqrt, abs, tanh, sigmoid, relu, sin, cos = map(
    _elementwise, (ops.Exp, ops.Log, ops.Sqrt, ops.Abs, ops.Tanh, ops.Sigmoid, ops.Relu, ops.Sin,
                   ops.Cos))
sum, mean, max, min, amax, amin, reshape, transpose = map(
    _unary, ("sum", "mean", "max", "min", "amax", "amin", "reshape", "transpose"))
clip, split, chunk, unbind, broadcast_to, maximum, minimum = map(
    _unary, ("clip", "split", "chunk", "unbind", "broadcast_to", "maximum", "minimum"))


def matmul(a, b):
    """``a @ b``."""
    return a @ b


def addmm(c, a, b):
    """``c + a @ b`` as one op (PyTorch's ``addmm``): a and b matrices, c broadcast to their
    product and of its dtype."""
    return ops.AddMM.apply(c, a, b)
