"""LSTM with peephole connections (Gers & Schmidhuber 2000): the gates look at the cell state."""
from __future__ import annotations

from dataclasses import dataclass

from minigrad import Tensor

from .lstm_cell import LSTMCell, LSTMWeights

PEEPHOLE_GATES = ("i", "f", "o")


@dataclass(frozen=True)
class PeepholeWeights(LSTMWeights):
    """:class:`LSTMWeights` plus ``peepholes``: gate ("i", "f", "o") -> its peephole vector w_c
    (H,), or None for a gate without one."""

    peepholes: dict


class PeepholeLSTMCell(LSTMCell):
    """An LSTM step whose gates also see the cell state through diagonal peepholes::

        i_t  = sigmoid(W_i . [h_{t-1}, x_t] + b_i + w_ci * C_{t-1})
        f_t  = sigmoid(W_f . [h_{t-1}, x_t] + b_f + w_cf * C_{t-1})
        C~_t = tanh(W_C . [h_{t-1}, x_t] + b_C)
        C_t  = f_t * C_{t-1} + i_t * C~_t
        o_t  = sigmoid(W_o . [h_{t-1}, x_t] + b_o + w_co * C_t)     (the NEW cell state)
        h_t  = o_t * tanh(C_t)

    The essay draws the peephole as part of the concatenation, W_f . [C_{t-1}, h_{t-1}, x_t];
    here, as in Gers et al., Greff et al., ONNX and TensorFlow, each peephole is a vector
    (a diagonal matrix): 3H extra parameters, not 3H^2.

    ``peepholes`` picks the gates that get one ("many papers will give some peepholes and not
    others"): any of ``("i", "f", "o")``. Parameters: LSTMCell's plus ``weight_ci``,
    ``weight_cf``, ``weight_co`` (H,) for the chosen gates, drawn from U(-1/sqrt(H), 1/sqrt(H))
    like the rest. With every peephole at zero this is exactly :class:`LSTMCell`.

    The step is cut at C_t into :meth:`forget_and_add` and :meth:`output`, so that the
    depth-gated cell can add its own term to C_t in between.
    """

    kind = "peephole_lstm"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: str | None = None, dtype=None, *, peepholes=PEEPHOLE_GATES,
                 forget_bias: float | None = None, proj_size: int = 0):
        unknown = [g for g in peepholes if g not in PEEPHOLE_GATES]
        if isinstance(peepholes, str) or unknown:
            raise ValueError(f"{type(self).__name__}: peepholes must be a tuple of gates from "
                             f"{PEEPHOLE_GATES}, got {peepholes!r}")
        super().__init__(input_size, hidden_size, bias, device, dtype, forget_bias=forget_bias,
                         proj_size=proj_size)
        self.peepholes = tuple(g for g in PEEPHOLE_GATES if g in peepholes)
        for gate in self.peepholes:
            setattr(self, f"weight_c{gate}", self.new_parameter((hidden_size,), device, dtype))

    def prepare(self) -> PeepholeWeights:
        peepholes = {gate: getattr(self, f"weight_c{gate}", None) for gate in PEEPHOLE_GATES}
        return PeepholeWeights(**vars(super().prepare()), peepholes=peepholes)

    def step(self, xw_t: Tensor, state: tuple, weights: PeepholeWeights, steps_taken) -> tuple:
        """xw_t = x_t W_ih^T + b was computed for all steps before the loop."""
        h_prev, C_prev = state
        i, f, g, o = self.gate_preactivations(xw_t, h_prev, weights)
        C_t = self.forget_and_add(i, f, g, C_prev, weights).label("C_t")
        return self.output(o, C_t, weights), C_t

    def forget_and_add(self, i: Tensor, f: Tensor, g: Tensor, C_prev: Tensor,
                       weights: PeepholeWeights) -> Tensor:
        """f_t * C_{t-1} + i_t * C~_t, the input and forget gates peeking at C_{t-1}."""
        f_t = peek(f, weights.peepholes["f"], C_prev).sigmoid().label("f_t")
        i_t = peek(i, weights.peepholes["i"], C_prev).sigmoid().label("i_t")
        C_tilde = g.tanh().label("C~_t")
        return f_t * C_prev + i_t * C_tilde

    def output(self, o: Tensor, C_t: Tensor, weights: PeepholeWeights) -> Tensor:
        """h_t = o_t * tanh(C_t), the output gate peeking at the new C_t."""
        o_t = peek(o, weights.peepholes["o"], C_t).sigmoid().label("o_t")
        return self.project(o_t * C_t.tanh(), weights).label("h_t")

    def extra_repr(self) -> str:
        return super().extra_repr() + f", peepholes={self.peepholes}"


def peek(preactivation: Tensor, w_c: Tensor | None, C: Tensor) -> Tensor:
    """A gate's pre-activation plus its peephole term w_c * C (unchanged without a peephole)."""
    return preactivation if w_c is None else preactivation + w_c * C
