"""`Linear` (y = x W^T + b) and `Identity`."""
from __future__ import annotations

import math
import numbers

import minigrad
from minigrad import Tensor

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features) and b of shape (out_features,).

    PyTorch's initialisation: W and b ~ U(-k, k) with k = 1/sqrt(in_features).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: str | None = None, dtype=None):
        super().__init__()
        self.in_features = _feature_count("in_features", in_features)
        self.out_features = _feature_count("out_features", out_features)
        self.weight = Parameter(minigrad.zeros(self.out_features, self.in_features, dtype=dtype,
                                               device=device))
        if bias:
            self.bias = Parameter(minigrad.zeros(self.out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        k = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
        init.uniform_(self.weight, -k, k)
        if self.bias is not None:
            init.uniform_(self.bias, -k, k)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


def _feature_count(name: str, value) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"Linear: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"Linear: {name} must be >= 0, got {value}")
    return int(value)


class Identity(Module):
    """y = x (a placeholder; constructor arguments are accepted and ignored, as in PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x
