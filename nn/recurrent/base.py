"""`RecurrentCell`: what every recurrent cell shares (parameters, initialisation, checks).

A cell computes ONE time step. It is split in three so that the sequence runner
(:mod:`nn.recurrent.runner`) can hoist work out of the time loop:

* ``prepare()``: tensors derived from the parameters once per forward call (``W_hh^T``, the
  summed biases, masks...), so no step transposes a weight again;
* ``project_inputs(x, w)``: the part that depends on the input only, ``x W_ih^T + b``, for all
  time steps at once (one matmul for the whole sequence);
* ``step(xw_t, state, w, t)``: the recurrence, which reads like the essay's equations.

``forward(input, hx)`` chains the three for a single step, with PyTorch's checks and
unbatched ``(I,)`` inputs. States are tuples inside (``(h,)``, ``(h, c)``); ``forward`` returns
``h'`` or ``(h', c')`` as PyTorch does.
"""
from __future__ import annotations

import math
import numbers
from types import SimpleNamespace

import minigrad
from minigrad import Tensor

from .. import init
from ..module import Module
from ..parameter import Parameter


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
    def prepare(self) -> SimpleNamespace:
        """Tensors derived from the parameters once per call: ``ih_T`` = W_ih^T, ``hh_T`` = W_hh^T
        and ``b`` = b_ih + b_hh (None without bias). Cells add their own fields."""
        return SimpleNamespace(ih_T=self.weight_ih.T, hh_T=self.weight_hh.T, b=summed_bias(self))

    def project_inputs(self, x: Tensor, w: SimpleNamespace):
        """The input's contribution to every step at once: x W_ih^T + b, (..., I) -> (..., G*H)."""
        return affine(x, w.ih_T, w.b)

    def step(self, xw_t, state: tuple, w: SimpleNamespace, t) -> tuple:
        """One step of the recurrence: the new state tuple.

        ``xw_t`` is this step's slice of ``project_inputs`` (x_t W_ih^T + b); ``t`` counts the
        steps taken (an int, or one count per sequence, (N,), when a padded batch is run in
        reverse and sequences start at different steps); only clocked cells read it.
        """
        raise NotImplementedError

    # --- one step, as PyTorch's cells are called -------------------------------------------
    def forward(self, input: Tensor, hx=None):
        """One step: ``input`` (N, I) or (I,), ``hx`` the state (None: zeros); returns the new state."""
        return self._single_step(input, hx, 0)

    def _single_step(self, input: Tensor, hx, t, side: Tensor | None = None):
        """forward's work; ``side`` is an extra per-step input some cells read (depth-gated)."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got {x.shape[1]} "
                               f"expected {self.input_size}")
        check_dtype(name, "input", input, self.weight_ih)
        state = self._check_cell_state(hx, x, batched)
        if side is not None:
            x = (x, side if batched else side.unsqueeze(0))
        w = self.prepare()
        new = self.step(self.project_inputs(x, w), state, w, t)
        if not batched:
            new = tuple(s.squeeze(0) for s in new)
        return new if len(new) > 1 else new[0]

    def _check_cell_state(self, hx, x: Tensor, batched: bool) -> tuple:
        name = type(self).__name__
        n = x.shape[0]
        if hx is None:
            return self.zero_state(n, x)
        parts = (hx,) if isinstance(hx, Tensor) else tuple(hx)
        if len(parts) != len(self.state_names):
            raise ValueError(f"{name}: expected a state of {len(self.state_names)} tensors "
                             f"{self.state_names}, got {len(parts)}")
        state = []
        for i, (part, size) in enumerate(zip(parts, self.state_sizes)):
            what = "hidden" if len(parts) == 1 else f"hx[{i}]"
            if part.ndim not in (1, 2):
                raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {part.ndim}D instead")
            if (part.ndim == 2) != batched:
                raise RuntimeError(f"{name}: {what} is {part.ndim}D but the input is "
                                   f"{2 if batched else 1}D; both must be batched or both unbatched")
            check_dtype(name, what, part, self.weight_ih)
            part = part if batched else part.unsqueeze(0)
            if part.shape[0] != n:
                raise RuntimeError(f"{name}: Input batch size {n} doesn't match hidden{i} batch "
                                   f"size {part.shape[0]}")
            if part.shape[1] != size:
                raise RuntimeError(f"{name}: hidden{i} has inconsistent hidden_size: got "
                                   f"{part.shape[1]}, expected {size}")
            state.append(part)
        return tuple(state)

    def zero_state(self, n: int, like: Tensor) -> tuple:
        """The all-zeros state for a batch of ``n``, with ``like``'s dtype and device."""
        return tuple(minigrad.zeros((n, size), dtype=like.dtype, device=like.device)
                     for size in self.state_sizes)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        return text if self.bias else text + ", bias=False"


def check_dtype(name: str, what: str, tensor: Tensor, weight: Tensor) -> None:
    """An input or state must have the weights' dtype: checked before the first matmul, whose
    own error ("addmm: dtypes differ") names neither the layer nor the argument."""
    if tensor.dtype != weight.dtype:
        model = (f", or convert model: model.to(dtype='{tensor.dtype}')"  # (a model's dtype is a float)
                 if what == "input" and minigrad.backend.is_floating(tensor.dtype) else "")
        raise ValueError(f"{name}: {what} dtype ({tensor.dtype}) does not match weight dtype "
                         f"({weight.dtype}). Convert {what}: {what}.to(dtype='{weight.dtype}')"
                         + model)


def affine(x: Tensor, weight_T: Tensor, bias: Tensor | None) -> Tensor:
    """x W^T + b for x of any shape (..., I), as ONE 2-D matmul: (M, I) @ (I, G*H).

    A 3-D (T, N, I) @ (I, K) product would make the weight's gradient a batch of T matrices;
    flattening the leading axes keeps it one matmul forward and backward. With a bias it is
    ``addmm(b, x, W^T)``: the bias is added into the product's memory, no second (M, G*H) array.
    """
    lead = x.shape[:-1]
    flat = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
    y = flat @ weight_T if bias is None else minigrad.addmm(bias, flat, weight_T)
    return y if x.ndim == 2 else y.reshape(lead + (y.shape[-1],))


def summed_bias(cell: RecurrentCell) -> Tensor | None:
    """b_ih + b_hh: PyTorch keeps two bias vectors (cuDNN's layout); only their sum matters."""
    return None if cell.bias_ih is None else cell.bias_ih + cell.bias_hh


def check_sizes(name: str, input_size, hidden_size, bias, proj_size: int = 0) -> None:
    """PyTorch's constructor checks, with its messages."""
    if not isinstance(bias, bool):
        raise TypeError(f"{name}: bias should be of type bool, got: {type(bias).__name__}")
    for arg, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name}: {arg} should be of type int, got: {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name}: {arg} must be greater than zero, got {value}")
    if not isinstance(proj_size, int) or proj_size < 0:
        raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable "
                         f"projections, got {proj_size!r}")
    if proj_size >= hidden_size:
        raise ValueError(f"{name}: proj_size has to be smaller than hidden_size "
                         f"(got proj_size={proj_size}, hidden_size={hidden_size})")
