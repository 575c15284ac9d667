"""LSTM with coupled input and forget gates: only forget where something new comes in."""
from __future__ import annotations

from minigrad import Tensor, addmm

from .base import RecurrentCell, StepWeights


class CoupledLSTMCell(RecurrentCell):
    """The essay's coupled variant (CIFG): one gate decides both what to forget and what to add::

        f_t  = sigmoid(W_f . [h_{t-1}, x_t] + b_f)
        C~_t = tanh(W_C . [h_{t-1}, x_t] + b_C)
        C_t  = f_t * C_{t-1} + (1 - f_t) * C~_t          (the input gate is i_t = 1 - f_t)
        o_t  = sigmoid(W_o . [h_{t-1}, x_t] + b_o)
        h_t  = o_t * tanh(C_t)

    Three gate blocks, rows in the order f, g (= C~), o: ``weight_ih (3H, I)``,
    ``weight_hh (3H, H)``, ``bias_ih (3H,)``, ``bias_hh (3H,)``. ``forget_bias`` sets rows 0:H
    of bias_ih (see :meth:`set_forget_bias`). Greff et al.'s CIFG couples the other way round,
    f_t = 1 - i_t: the same family. Returns ``(h', c')``.
    """

    kind = "coupled_lstm"
    gates = "fgo"
    state_names = ("h", "c")

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: str | None = None, dtype=None, *, forget_bias: float | None = None):
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.set_forget_bias(forget_bias)

    def step(self, xw_t: Tensor, state: tuple, weights: StepWeights, steps_taken) -> tuple:
        """xw_t = x_t W_ih^T + b was computed for all steps before the loop."""
        h_prev, C_prev = state
        f, g, o = addmm(xw_t, h_prev, weights.hh_T).chunk(3, axis=1)  # + h_{t-1} W_hh^T
        f_t = f.sigmoid().label("f_t")
        i_t = (1.0 - f_t).label("i_t")
        C_tilde = g.tanh().label("C~_t")
        C_t = (f_t * C_prev + i_t * C_tilde).label("C_t")
        o_t = o.sigmoid().label("o_t")
        h_t = o_t * C_t.tanh()
        return h_t.label("h_t"), C_t
