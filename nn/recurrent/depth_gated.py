"""Depth-gated LSTM (Yao, Cohn, Vylomova, Duh & Dyer 2015): a gated highway between the memory
cells of stacked layers."""
from __future__ import annotations

from minigrad import Tensor

from ..functional import linear
from .checks import check_dtype
from .layers import RNNBase
from .peephole import PEEPHOLE_GATES, PeepholeLSTMCell, PeepholeWeights


class DepthGatedLSTMCell(PeepholeLSTMCell):
    """A peephole LSTM step in layer l > 0 that also reads the layer below's cell state
    C^{l-1}_t at the same step, through a depth gate d_t::

        d_t = sigmoid(x_t W_id^T + b_d + w_cd * C_{t-1} + w_ld * C^{l-1}_t)    depth gate
        C_t = d_t * C^{l-1}_t + f_t * C_{t-1} + i_t * C~_t

    (x_t = h^{l-1}_t is the layer's input; i_t, f_t, C~_t, o_t, h_t as in
    :class:`PeepholeLSTMCell`.) Parameters: PeepholeLSTMCell's plus ``weight_id (H, I)``,
    ``weight_cd (H,)``, ``weight_ld (H,)`` and ``bias_d (H,)``.
    Called alone: ``cell(x, lower_c, (h, c))`` returns ``(h', c')``.
    """

    kind = "depth_gated_lstm"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: str | None = None, dtype=None, *, peepholes=PEEPHOLE_GATES,
                 forget_bias: float | None = None):
        super().__init__(input_size, hidden_size, bias, device, dtype, peepholes=peepholes,
                         forget_bias=forget_bias)
        self.weight_id = self.new_parameter((hidden_size, input_size), device, dtype)
        self.weight_cd = self.new_parameter((hidden_size,), device, dtype)
        self.weight_ld = self.new_parameter((hidden_size,), device, dtype)
        if bias:
            self.bias_d = self.new_parameter((hidden_size,), device, dtype)
        else:
            self.register_parameter("bias_d", None)

    def forward(self, input: Tensor, lower_c: Tensor, hx=None):
        """One step: ``input`` (N, I) or (I,), ``lower_c`` the layer below's C_t, (N, H) or (H,)."""
        expected = tuple(input.shape[:-1]) + (self.hidden_size,)
        if input.ndim in (1, 2) and tuple(lower_c.shape) != expected:
            raise RuntimeError(f"{type(self).__name__}: lower_c must have shape {expected} (the "
                               f"input's batch, hidden_size), got {tuple(lower_c.shape)}")
        check_dtype(type(self).__name__, "lower_c", lower_c, self.weight_ih)
        return self._single_step(input, hx, 0, side=lower_c)

    def project_inputs(self, inputs: tuple, weights: PeepholeWeights) -> tuple:
        """(x, C^{l-1}) -> (the gates' input part, the depth gate's, C^{l-1}) for every step."""
        if not isinstance(inputs, tuple):
            raise TypeError(f"{type(self).__name__} reads the layer below's C_t at every step, "
                            "which only nn.DepthGatedLSTM passes; use it rather than "
                            "LSTM(cell=DepthGatedLSTMCell)")
        x, lower_c = inputs
        return super().project_inputs(x, weights), linear(x, self.weight_id, self.bias_d), lower_c

    def step(self, xw_t: tuple, state: tuple, weights: PeepholeWeights, steps_taken) -> tuple:
        """xw_t holds x_t W_ih^T + b and x_t W_id^T + b_d, computed for all steps before the loop,
        and the layer below's C_t."""
        gates_x, depth_x, lower_C = xw_t
        h_prev, C_prev = state
        i, f, g, o = self.gate_preactivations(gates_x, h_prev, weights)
        d_t = (depth_x + self.weight_cd * C_prev + self.weight_ld * lower_C).sigmoid().label("d_t")
        C_t = (d_t * lower_C + self.forget_and_add(i, f, g, C_prev, weights)).label("C_t")
        return self.output(o, C_t, weights), C_t


class DepthGatedLSTM(RNNBase):
    """Stacked depth-gated LSTM: layer 0 is a :class:`PeepholeLSTMCell` layer, every layer above
    a :class:`DepthGatedLSTMCell` layer that reads the layer below's C_t at each step (the same
    direction's, when bidirectional). Parameters follow the LSTM's names per layer and
    direction (``weight_ih_l1``, ``weight_ci_l0``, ``weight_id_l1``, ``bias_d_l1_reverse``...).
    Returns ``(output, (h_n, c_n))``.
    """

    cell_class = DepthGatedLSTMCell
    collect = (0, 1)  # the layer above reads h and C

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 2, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: str | None = None, dtype=None, *, peepholes=PEEPHOLE_GATES,
                 forget_bias: float | None = None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype, peepholes=tuple(peepholes),
                         forget_bias=forget_bias)

    def make_cell(self, layer: int, input_size: int, device, dtype):
        cell_class = PeepholeLSTMCell if layer == 0 else DepthGatedLSTMCell
        return cell_class(input_size, self.hidden_size, self.bias, device=device, dtype=dtype,
                          **self.cell_kwargs)

    def direction_inputs(self, layer: int, direction: int, layer_input: Tensor, below):
        if layer == 0:
            return layer_input
        return layer_input, below[direction][1]
