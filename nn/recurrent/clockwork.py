"""Clockwork RNN (Koutnik, Greff, Gomez & Schmidhuber 2014): modules that tick at different rates."""
from __future__ import annotations

import numbers
from dataclasses import dataclass

from minigrad import Tensor, addmm, backend, where

from .base import StepWeights, summed_bias
from .layers import RNNBase
from .rnn_cell import RNNCell


@dataclass(frozen=True)
class ClockworkWeights(StepWeights):
    """:class:`StepWeights` whose ``hh_T`` is the masked (M o W_hh)^T, plus ``period``: each
    hidden unit's period T_i, an (H,) integer array."""

    period: object


class ClockworkRNNCell(RNNCell):
    """A plain RNN whose hidden units form g equal modules with periods T_1 < ... < T_g::

        h~_t  = tanh(x_t W_ih^T + b_ih + h_{t-1} (M o W_hh)^T + b_hh)
        h_t,i = h~_t,i     if t mod T_i == 0         (module i ticks)
        h_t,i = h_{t-1},i  otherwise                 (module i copies its previous state)

    M is the block mask that lets a module read only modules at least as slow as itself
    ("faster modules are connected to slower ones", never the reverse): with modules sorted
    fast to slow, M o W_hh is block-upper-triangular. The mask is applied in every forward
    (entries outside it get no gradient) and the copy is a ``where``, so the graph shows both.
    Every unit is computed at every step and the idle ones discarded: clear, not frugal.

    ``periods``: one per module, e.g. (1, 2, 4, 8) (the paper's T_i = 2^(i-1)); ``hidden_size``
    must split evenly into them. Parameters are RNNCell's. The clock is the count of steps taken
    (t above), from 0, when every module ticks; called alone, pass it:
    ``cell(x, h, steps_taken=3)``.
    """

    kind = "clockwork_rnn"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: str | None = None, dtype=None, *,
                 periods=(1, 2, 4, 8)):
        periods = tuple(periods)
        if not periods or any(not isinstance(p, int) or isinstance(p, bool) or p < 1 for p in periods):
            raise ValueError(f"{type(self).__name__}: periods must be positive ints, got {periods!r}")
        if list(periods) != sorted(periods):
            raise ValueError(f"{type(self).__name__}: periods must be sorted fast to slow "
                             f"(non-decreasing), got {periods!r}")
        if hidden_size % len(periods):
            raise ValueError(f"{type(self).__name__}: hidden_size {hidden_size} does not split "
                             f"into {len(periods)} equal modules (periods {periods})")
        super().__init__(input_size, hidden_size, bias, nonlinearity, device, dtype)
        self.periods = periods
        self.zero_masked_weights()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.zero_masked_weights()

    def zero_masked_weights(self) -> None:
        """Zero the entries of weight_hh outside M: they never act and never get a gradient."""
        self.weight_hh.data *= self.connection_mask(self.weight_hh.data)

    def unit_periods(self, like):
        """The period of each hidden unit, shape (H,), on ``like``'s device."""
        xp = backend.get_array_module(like)
        size = self.hidden_size // len(self.periods)
        return xp.repeat(xp.asarray(self.periods), size)

    def connection_mask(self, like):
        """M[i, j] = 1 where unit i may read unit j: period_j >= period_i (block-upper-triangular)."""
        period = self.unit_periods(like)
        return (period[None, :] >= period[:, None]).astype(like.dtype)

    def prepare(self) -> ClockworkWeights:
        """W_hh masked, M o W_hh (transposed), the summed bias and each unit's period."""
        mask = Tensor(self.connection_mask(self.weight_hh.data), device=self.weight_hh.device)
        masked = (self.weight_hh * mask).label("M*W_hh")
        return ClockworkWeights(hh_T=masked.T, b=summed_bias(self),
                                period=self.unit_periods(self.weight_hh.data))

    def step(self, xw_t: Tensor, state: tuple, weights: ClockworkWeights, steps_taken) -> tuple:
        """xw_t = x_t W_ih^T + b was computed for all steps before the loop."""
        (h_prev,) = state
        h_tilde = self.activation(addmm(xw_t, h_prev, weights.hh_T)).label("h~_t")
        h_t = where(self.ticking(steps_taken, weights.period), h_tilde, h_prev)
        return (h_t.label("h_t"),)

    @staticmethod
    def ticking(steps_taken, period):
        """Which units update now: t mod T_i == 0 with t = ``steps_taken``, (H,) for an int,
        (N, H) for one count per sequence."""
        if isinstance(steps_taken, int):
            return steps_taken % period == 0
        xp = backend.get_array_module(period)
        return xp.asarray(steps_taken)[:, None] % period[None, :] == 0

    def forward(self, input: Tensor, hx=None, steps_taken: int = 0):
        """One step after ``steps_taken`` steps (modules with steps_taken mod T_i != 0 keep their
        state); any integer scalar: an int, a NumPy integer, a 0-d integer array or Tensor."""
        return self._single_step(input, hx, _step_count(type(self).__name__, steps_taken))

    def extra_repr(self) -> str:
        return super().extra_repr() + f", periods={self.periods}"


def _step_count(name: str, steps_taken) -> int:
    """``steps_taken`` as a Python int, the form ``ticking`` reads as one count for the batch."""
    value = steps_taken.data if isinstance(steps_taken, Tensor) else steps_taken
    if backend.is_array(value) and value.ndim == 0 and value.dtype.kind in "iu":
        return int(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    shape = f" of shape {value.shape} and dtype {value.dtype}" if backend.is_array(value) else ""
    raise TypeError(f"{name}: steps_taken must be an integer step count (an int, or a 0-d "
                    f"integer array or Tensor), got {type(steps_taken).__name__}{shape}")


class ClockworkRNN(RNNBase):
    """A clockwork RNN layer (stackable, bidirectional, like :class:`nn.RNN`) over
    :class:`ClockworkRNNCell`; the clock starts at 0 on each forward call (in reverse, at each
    sequence's own last step). Returns ``(output, h_n)``.
    """

    cell_class = ClockworkRNNCell

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 periods=(1, 2, 4, 8), nonlinearity: str = "tanh", bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: str | None = None, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype, periods=tuple(periods),
                         nonlinearity=nonlinearity)
        self.periods = tuple(periods)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", periods={self.periods}"
