"""`Dropout`: zero each element with probability p while training (inverted dropout)."""
from __future__ import annotations

from minigrad import Tensor

from . import functional as F
from .module import Module


class Dropout(Module):
    """y = x * m / (1 - p), m_i ~ Bernoulli(1 - p) in training mode; y = x in eval mode."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
