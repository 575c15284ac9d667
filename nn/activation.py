"""Activation functions as modules, for ``nn.Sequential`` (PyTorch's ``nn.ReLU()``...): each
holds no parameters and calls one function."""
from __future__ import annotations

import minigrad
from minigrad import Tensor

from .module import Module


class ReLU(Module):
    """max(0, x)"""

    def forward(self, input: Tensor) -> Tensor:
        return input.relu()


class Tanh(Module):
    """tanh(x)"""

    def forward(self, input: Tensor) -> Tensor:
        return input.tanh()


class Sigmoid(Module):
    """1 / (1 + e^-x)"""

    def forward(self, input: Tensor) -> Tensor:
        return input.sigmoid()


class Softmax(Module):
    """exp(x_i) / sum_j exp(x_j) along ``dim``."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return minigrad.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """x_i - log sum_j exp(x_j) along ``dim`` (what ``NLLLoss`` expects)."""

    def forward(self, input: Tensor) -> Tensor:
        return minigrad.log_softmax(input, self.dim)
