"""The plain recurrent cell: "a single tanh layer" repeated along the chain."""
from __future__ import annotations

from minigrad import Tensor, addmm

from .base import RecurrentCell, StepWeights

NONLINEARITIES = ("tanh", "relu")


class RNNCell(RecurrentCell):
    """h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)   (or relu)

    The essay's form is h_t = tanh(W . [h_{t-1}, x_t] + b) with W = [W_hh | W_ih] of shape
    (H, H + I) and b = b_ih + b_hh.

    Parameters (PyTorch's): ``weight_ih (H, I)``, ``weight_hh (H, H)``, ``bias_ih (H,)``,
    ``bias_hh (H,)``. Call with ``input`` (N, I) or (I,) and optional ``hx``; returns h'.
    """

    kind = "rnn"
    gates = "h"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: str | None = None, dtype=None):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def step(self, xw_t: Tensor, state: tuple, weights: StepWeights, steps_taken) -> tuple:
        """h_t = tanh(xw_t + h_{t-1} W_hh^T), with xw_t = x_t W_ih^T + b from ``project_inputs``."""
        (h_prev,) = state
        h_t = self.activation(addmm(xw_t, h_prev, weights.hh_T))
        return (h_t.label("h_t"),)

    def activation(self, a: Tensor) -> Tensor:
        """tanh(a), or relu(a) with ``nonlinearity="relu"``."""
        return a.tanh() if self.nonlinearity == "tanh" else a.relu()

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else text + f", nonlinearity={self.nonlinearity}"
