"""The Gated Recurrent Unit (Cho et al. 2014), as PyTorch and cuDNN compute it."""
from __future__ import annotations

from dataclasses import dataclass

from minigrad import Tensor, addmm

from .base import RecurrentCell, StepWeights


@dataclass(frozen=True)
class GRUWeights(StepWeights):
    """:class:`StepWeights` whose ``b`` is b_ih alone, plus ``b_hh``: it stays inside
    r_t * (h W_hn^T + b_hn), so it cannot join the input projection (0 without bias)."""

    b_hh: Tensor | float


class GRUCell(RecurrentCell):
    """One GRU step, PyTorch's equations (gate rows r, z, n)::

        r_t = sigmoid(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)         reset gate
        z_t = sigmoid(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)         update gate
        n_t = tanh(x_t W_in^T + b_in + r_t * (h_{t-1} W_hn^T + b_hn))    candidate
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}   (computed as n_t + z_t * (h_{t-1} - n_t))

    How this maps to the essay's GRU figure,
    ``z = sigmoid(W_z.[h, x])``, ``r = sigmoid(W_r.[h, x])``, ``h~ = tanh(W.[r * h, x])``,
    ``h_t = (1 - z) * h_{t-1} + z * h~``:

    * z is swapped: here z_t weighs the OLD state (Cho et al., PyTorch, Keras); the essay's z
      weighs the new candidate (Chung et al.). The essay's z is our 1 - z_t; same family of models.
    * the reset gate acts AFTER the hidden matmul, r * (W_hn h + b_hn), not before it,
      W (r * h), as PyTorch and cuDNN do (one matmul for all three gates per step).
    * PyTorch has two biases per gate; the essay's figure has none.

    Parameters: ``weight_ih (3H, I)``, ``weight_hh (3H, H)``, ``bias_ih (3H,)``, ``bias_hh (3H,)``.
    Call with ``input`` (N, I) or (I,) and optional ``hx``; returns h'.
    """

    kind = "gru"
    gates = "rzn"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: str | None = None, dtype=None):
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def prepare(self) -> GRUWeights:
        """Only b_ih joins the input projection: b_hn has to stay inside r_t * (h W_hn^T + b_hn)."""
        b_hh = self.bias_hh if self.bias else 0.0
        return GRUWeights(hh_T=self.weight_hh.T, b=self.bias_ih, b_hh=b_hh)

    def step(self, xw_t: Tensor, state: tuple, weights: GRUWeights, steps_taken) -> tuple:
        """xw_t = x_t W_ih^T + b_ih was computed for all steps before the loop."""
        (h_prev,) = state
        x_r, x_z, x_n = xw_t.chunk(3, axis=1)
        h_r, h_z, h_n = addmm(weights.b_hh, h_prev, weights.hh_T).chunk(3, axis=1)
        r_t = (x_r + h_r).sigmoid().label("r_t")
        z_t = (x_z + h_z).sigmoid().label("z_t")
        n_t = (x_n + r_t * h_n).tanh().label("n_t")
        h_t = n_t + z_t * (h_prev - n_t)
        return (h_t.label("h_t"),)
