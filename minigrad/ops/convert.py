"""Moving a tensor to another dtype or device; both are differentiable."""
from __future__ import annotations

from .. import backend
from ..function import Function


class Cast(Function):
    """z = x converted to ``dtype``;  the gradient is converted back"""

    def forward(self, x, dtype):
        self.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return Cast.apply(grad, dtype=self.in_dtype)


class ToDevice(Function):
    """z = x copied to ``device``;  the gradient is copied back"""

    def forward(self, x, device):
        self.in_device = backend.device_of(x)
        return backend.to_device(x, device)

    def backward(self, grad):
        return ToDevice.apply(grad, device=self.in_device)
