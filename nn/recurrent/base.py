"""`RecurrentCell`: what every recurrent cell shares (parameters, initialisation), and
`StepWeights`, the parameters in the form its steps read them.

A cell computes ONE time step. It is split in three so that the sequence runner
(:mod:`nn.recurrent.runner`) can hoist work out of the time loop:

* ``prepare()``: a :class:`StepWeights` of tensors derived from the parameters once per forward
  call (``W_hh^T``, the summed biases, masks...), so no step transposes a weight again;
* ``project_inputs(x, weights)``: the part that depends on the input only, ``x W_ih^T + b``,
  for all time steps at once (one matmul for the whole sequence);
* ``step(xw_t, state, weights, steps_taken)``: the recurrence, which reads like the essay's
  equations.

``forward(input, hx)`` chains the three for a single step, with PyTorch's checks and
unbatched ``(I,)`` inputs. States are tuples inside (``(h,)``, ``(h, c)``); ``forward`` returns
``h'`` or ``(h', c')`` as PyTorch does.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import minigrad
from minigrad import Tensor

from .. import init
from ..functional import linear
from ..module import Module
from ..parameter import Parameter
from .checks import check_cell_input, check_sizes, initial_states


@dataclass(frozen=True)
class StepWeights:
    """The parameters as every step reads them, made once per forward call by ``prepare()``.

    ``hh_T``: W_hh^T, (H_out, G*H), the recurrent matrix of all G gates (the clockwork cell's is
    masked). ``b``: the bias folded into the input projection, b_ih + b_hh (the GRU's: b_ih
    alone); None without bias. A cell that needs more declares a subclass beside it
    (``LSTMWeights``, ``PeepholeWeights``...).
    """

    hh_T: Tensor
    b: Tensor | None


class RecurrentCell(Module):
    """Base class: ``weight_ih (G*H, I)``, ``weight_hh (G*H, H)``, ``bias_ih``, ``bias_hh (G*H,)``.

    ``gates`` names the G row blocks of the weights in order (``"ifgo"`` for the LSTM, PyTorch's
    order). Every parameter starts as U(-1/sqrt(H), 1/sqrt(H)), PyTorch's initialisation.
    """

    kind = "cell"              # the scope tag the runner gives each step (``cell="lstm"``)
    gates = "h"                # one letter per row block of weight_ih / weight_hh
    state_names = ("h",)       # the state tuple's parts
    forget_bias = None         # LSTM family: the forget gate's initial bias (see set_forget_bias)

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: str | None = None, dtype=None, *, proj_size: int = 0):
        super().__init__()
        check_sizes(type(self).__name__, input_size, hidden_size, bias, proj_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.proj_size = proj_size
        rows = len(self.gates) * hidden_size
        self.weight_ih = self.new_parameter((rows, input_size), device, dtype)
        self.weight_hh = self.new_parameter((rows, self.output_size), device, dtype)
        if bias:
            self.bias_ih = self.new_parameter((rows,), device, dtype)
            self.bias_hh = self.new_parameter((rows,), device, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    # --- parameters -----------------------------------------------------------------------
    @property
    def output_size(self) -> int:
        """Width of h: hidden_size, or proj_size when the LSTM projects h."""
        return self.proj_size or self.hidden_size

    @property
    def state_sizes(self) -> tuple:
        """Width of each part of the state, in ``state_names`` order."""
        return (self.output_size,) + (self.hidden_size,) * (len(self.state_names) - 1)

    def new_parameter(self, shape: tuple, device, dtype) -> Parameter:
        """A parameter drawn from U(-1/sqrt(H), 1/sqrt(H))."""
        return Parameter(self._draw(minigrad.zeros(shape, dtype=dtype, device=device)))

    def _draw(self, t: Tensor) -> Tensor:
        bound = 1.0 / math.sqrt(self.hidden_size)
        return init.uniform_(t, -bound, bound)

    def reset_parameters(self) -> None:
        """Draw every parameter again from U(-1/sqrt(H), 1/sqrt(H)) (then the forget bias, if set)."""
        for p in self.parameters():
            self._draw(p)
        self.set_forget_bias(self.forget_bias)

    def set_forget_bias(self, value: float | None) -> None:
        """Start the forget gate open: its rows of bias_ih become ``value``, of bias_hh 0.

        The gate sees the sum b_if + b_hf, so f_t = sigmoid(... + value): with value = 1 the
        cell remembers by default early in training (Gers et al. 2000; Jozefowicz et al. 2015;
        Keras' ``unit_forget_bias``). ``None`` keeps PyTorch's plain uniform draw.
        """
        if value is None:
            return
        if (not isinstance(value, numbers.Real) or isinstance(value, bool)
                or not math.isfinite(value)):
            raise ValueError(f"{type(self).__name__}: forget_bias must be a finite number or None, "
                             f"got {value!r}")
        if not self.bias:
            raise ValueError(f"{type(self).__name__}: forget_bias={value} needs bias=True")
        rows = self.gate_rows("f")
        self.bias_ih.data[rows] = value
        self.bias_hh.data[rows] = 0
        self.forget_bias = float(value)

    def gate_rows(self, gate: str) -> slice:
        """The rows of weight_ih/weight_hh/biases that belong to ``gate`` (``"f"`` -> H:2H)."""
        if gate not in self.gates:
            raise ValueError(f"{type(self).__name__}: no gate {gate!r}; its gates are {tuple(self.gates)}")
        k = self.gates.index(gate)
        return slice(k * self.hidden_size, (k + 1) * self.hidden_size)

    # --- the three parts of a step ---------------------------------------------------------
    def prepare(self) -> StepWeights:
        """The parameters as the steps read them, once per call: W_hh^T and b = b_ih + b_hh."""
        return StepWeights(hh_T=self.weight_hh.T, b=summed_bias(self))

    def project_inputs(self, x: Tensor, weights: StepWeights):
        """The input's contribution to every step at once: x W_ih^T + b, (..., I) -> (..., G*H)."""
        return linear(x, self.weight_ih, weights.b)

    def step(self, xw_t, state: tuple, weights: StepWeights, steps_taken) -> tuple:
        """One step of the recurrence: the new state tuple.

        ``xw_t`` is this step's slice of ``project_inputs`` (x_t W_ih^T + b); ``steps_taken``
        counts the steps taken before this one (an int, or one count per sequence, (N,), when a
        padded batch runs in reverse and its sequences start at different steps); only clocked
        cells read it.
        """
        raise NotImplementedError

    # --- one step, as PyTorch's cells are called -------------------------------------------
    def forward(self, input: Tensor, hx=None):
        """One step: ``input`` (N, I) or (I,), ``hx`` the state (None: zeros); returns the new state."""
        return self._single_step(input, hx, 0)

    def _single_step(self, input: Tensor, hx, steps_taken, side: Tensor | None = None):
        """forward's work; ``side`` is an extra per-step input some cells read (depth-gated)."""
        name = type(self).__name__
        check_cell_input(name, input, self)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        (state,) = initial_states(name, hx, self, x.shape[0], batched, x)
        if side is not None:
            x = (x, side if batched else side.unsqueeze(0))
        weights = self.prepare()
        new = self.step(self.project_inputs(x, weights), state, weights, steps_taken)
        if not batched:
            new = tuple(s.squeeze(0) for s in new)
        return new if len(new) > 1 else new[0]

    def zero_state(self, n: int, like: Tensor) -> tuple:
        """The all-zeros state for a batch of ``n``, with ``like``'s dtype and device."""
        return tuple(minigrad.zeros((n, size), dtype=like.dtype, device=like.device)
                     for size in self.state_sizes)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        return text if self.bias else text + ", bias=False"


def summed_bias(cell: RecurrentCell) -> Tensor | None:
    """b_ih + b_hh: PyTorch keeps two bias vectors (cuDNN's layout); only their sum matters."""
    return None if cell.bias_ih is None else cell.bias_ih + cell.bias_hh
