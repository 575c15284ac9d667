"""The LSTM cell of Olah's "Understanding LSTM Networks", in two forms with the same parameters."""
from __future__ import annotations

from dataclasses import dataclass

from minigrad import Tensor, addmm, concat

from .base import RecurrentCell, StepWeights

FORMS = ("fused", "concat")


@dataclass(frozen=True)
class LSTMWeights(StepWeights):
    """:class:`StepWeights` plus the LSTM's own: ``hr_T`` = W_hr^T, (H, proj_size), the
    projection (None when proj_size == 0), and for ``form="concat"`` ``per_gate``: gate ->
    (W^T, b), the essay's matrices W_i, W_f, W_C, W_o (H, H+I), transposed, and their biases."""

    hr_T: Tensor | None
    per_gate: dict | None


class LSTMCell(RecurrentCell):
    """One LSTM step, the essay's six equations::

        f_t  = sigmoid(W_f . [h_{t-1}, x_t] + b_f)      forget gate
        i_t  = sigmoid(W_i . [h_{t-1}, x_t] + b_i)      input gate
        C~_t = tanh(W_C . [h_{t-1}, x_t] + b_C)         candidate values
        C_t  = f_t * C_{t-1} + i_t * C~_t               new cell state
        o_t  = sigmoid(W_o . [h_{t-1}, x_t] + b_o)      output gate
        h_t  = o_t * tanh(C_t)

    Parameters are PyTorch's, gate rows in PyTorch's order i, f, g (= C~), o:
    ``weight_ih (4H, I)``, ``weight_hh (4H, H)``, ``bias_ih (4H,)``, ``bias_hh (4H,)``. The essay's
    W_f (H x (H+I)) is ``[weight_hh[H:2H] | weight_ih[H:2H]]`` side by side (h first, as in
    [h_{t-1}, x_t]) and b_f = ``bias_ih[H:2H] + bias_hh[H:2H]``.

    ``form`` picks how the step is computed; both give the same numbers:

    * ``"fused"`` (default, fast): one matmul for all four gates, then one split::

          [i | f | g | o] = x_t W_ih^T + h_{t-1} W_hh^T + b_ih + b_hh

    * ``"concat"``: the essay letter for letter, one (H, H+I) matrix per gate applied to the
      concatenation [h_{t-1}, x_t]; the matrices are cut from weight_ih and weight_hh and glued
      with minigrad ops, so the drawn graph shows the concatenations.

    Only the gates' pre-activations differ between the forms (:meth:`gate_preactivations`);
    the six equations in :meth:`step` are shared.

    ``forget_bias``: None (PyTorch's uniform init) or a number for the forget gate's bias (see
    :meth:`set_forget_bias`). ``proj_size > 0`` adds PyTorch's projection
    h_t = (o_t * tanh(C_t)) W_hr^T with ``weight_hr (proj_size, H)``.

    Call with ``input`` (N, I) or (I,) and optional ``(h, c)``; returns ``(h', c')``.
    """

    kind = "lstm"
    gates = "ifgo"
    state_names = ("h", "c")

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: str | None = None, dtype=None, *, form: str = "fused",
                 forget_bias: float | None = None, proj_size: int = 0):
        if form not in FORMS:
            raise ValueError(f"{type(self).__name__}: form must be one of {FORMS}, got {form!r}")
        super().__init__(input_size, hidden_size, bias, device, dtype, proj_size=proj_size)
        self.form = form
        if proj_size:
            self.weight_hr = self.new_parameter((proj_size, hidden_size), device, dtype)
        self.set_forget_bias(forget_bias)

    # --- hoisted out of the time loop -----------------------------------------------------
    def prepare(self) -> LSTMWeights:
        weights = super().prepare()
        hr_T = self.weight_hr.T if self.proj_size else None
        per_gate = self.concatenated_weights(weights.b) if self.form == "concat" else None
        return LSTMWeights(**vars(weights), hr_T=hr_T, per_gate=per_gate)

    def concatenated_weights(self, b: Tensor | None) -> dict:
        """The essay's matrices, gate -> (W^T, b): W_f = [W_hf | W_if] of shape (H, H+I).
        Without bias, b is 0."""
        W_h = self.weight_hh.chunk(4, axis=0)
        W_x = self.weight_ih.chunk(4, axis=0)
        b = b.chunk(4, axis=0) if b is not None else (0.0,) * 4
        names = {"i": "W_i", "f": "W_f", "g": "W_C", "o": "W_o"}
        return {gate: (concat([W_h[k], W_x[k]], axis=1).label(names[gate]).T, b[k])
                for k, gate in enumerate(self.gates)}

    def project_inputs(self, x: Tensor, weights: LSTMWeights):
        """x W_ih^T + b for every step (fused); the concat form keeps x_t for [h_{t-1}, x_t]."""
        return x if self.form == "concat" else super().project_inputs(x, weights)

    # --- one step ---------------------------------------------------------------------------
    def step(self, xw_t: Tensor, state: tuple, weights: LSTMWeights, steps_taken) -> tuple:
        """The essay's six equations (class docstring), from h_{t-1}, C_{t-1} to h_t, C_t.

        xw_t = x_t W_ih^T + b was computed for all steps before the loop (``project_inputs``).
        """
        h_prev, C_prev = state
        i, f, g, o = self.gate_preactivations(xw_t, h_prev, weights)
        f_t = f.sigmoid().label("f_t")
        i_t = i.sigmoid().label("i_t")
        C_tilde = g.tanh().label("C~_t")
        C_t = (f_t * C_prev + i_t * C_tilde).label("C_t")
        o_t = o.sigmoid().label("o_t")
        h_t = o_t * C_t.tanh()
        return self.project(h_t, weights).label("h_t"), C_t

    def gate_preactivations(self, xw_t: Tensor, h_prev: Tensor, weights: LSTMWeights) -> tuple:
        """W . [h_{t-1}, x_t] + b for the gates i, f, g, o (the essay's yellow boxes before their
        nonlinearities), computed as ``form`` says."""
        if self.form == "fused":  # x_t W_ih^T + b + h_{t-1} W_hh^T for all four, then split
            return addmm(xw_t, h_prev, weights.hh_T).chunk(4, axis=1)
        hx = concat([h_prev, xw_t], axis=1)  # [h_{t-1}, x_t]: the concat form's xw_t is x_t
        per_gate = (weights.per_gate[gate] for gate in self.gates)  # (W^T, b) of i, f, g, o
        return tuple(addmm(b, hx, W_T) for W_T, b in per_gate)

    @staticmethod
    def project(h: Tensor, weights: LSTMWeights) -> Tensor:
        """PyTorch's LSTM projection h W_hr^T (identity when proj_size == 0)."""
        return h if weights.hr_T is None else h @ weights.hr_T

    def extra_repr(self) -> str:
        text = super().extra_repr()
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        if self.form != "fused":
            text += f", form={self.form!r}"
        if self.forget_bias is not None:
            text += f", forget_bias={self.forget_bias}"
        return text
