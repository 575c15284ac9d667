"""Sine and cosine: what sequence tutorials feed their recurrent nets (a sine wave to predict)."""
from __future__ import annotations

from .. import backend
from ..function import Function


class Sin(Function):
    """z = sin(x);  dz/dx = cos(x)"""

    saves_inputs = True

    def forward(self, x):
        return backend.get_array_module(x).sin(x)

    def backward(self, grad):
        return grad * Cos.apply(self.inputs()[0])


class Cos(Function):
    """z = cos(x);  dz/dx = -sin(x)"""

    saves_inputs = True

    def forward(self, x):
        return backend.get_array_module(x).cos(x)

    def backward(self, grad):
        return -(grad * Sin.apply(self.inputs()[0]))
