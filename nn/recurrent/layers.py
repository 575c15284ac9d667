"""Sequence layers: ``RNN``, ``LSTM``, ``GRU`` with PyTorch's arguments, parameter names, shapes and
return values, for any cell (``LSTM(..., cell=PeepholeLSTMCell)``).

One cell per layer and direction does the arithmetic; the runner (:func:`nn.recurrent.runner.run`)
loops over time. The layer owns the parameters under PyTorch's flat names (``weight_ih_l0``,
``bias_hh_l1_reverse``, then a variant's extras such as ``weight_ci_l0``) in PyTorch's
registration order, so a PyTorch ``state_dict()`` converted to NumPy loads directly; its cells
use the very same Parameter objects (why the cells are not sub-modules: see :class:`RNNBase`).
"""
from __future__ import annotations

import numbers
import warnings

from minigrad import Tensor, concat, stack

from ..functional import dropout as apply_dropout
from ..module import Module
from .base import RecurrentCell, check_dtype, check_sizes
from .gru_cell import GRUCell
from .lstm_cell import LSTMCell
from .rnn_cell import RNNCell
from .runner import Lengths, run
from .tbptt import GrowthTracker


class RNNBase(Module):
    """A stack of ``num_layers`` recurrent layers, each run forward (and in reverse when
    ``bidirectional``), layer l > 0 reading layer l-1's outputs (both directions concatenated),
    with dropout between layers in training mode.

    ``cell`` picks the cell class (default: the layer's own); any extra keyword argument goes
    to every cell's constructor (``form="concat"``, ``forget_bias=1.0``, ``peepholes=("f",)``).

    ``forward(input, hx=None, lengths=None)``:

    * ``input``: (T, N, I), (N, T, I) with ``batch_first``, or unbatched (T, I);
    * ``hx``: the initial state, (D*num_layers, N, H) per part (``(h_0, c_0)`` for LSTMs);
      ``batch_first`` does not apply to it; None means zeros;
    * ``lengths``: optional (N,) true lengths of a padded batch: outputs past a sequence's end are
      zeros and its final state is the one at its own last step (the reverse direction starts
      there), as PyTorch's packed sequences give.

    Returns ``(output, h_n)`` or ``(output, (h_n, c_n))``: output (T, N, D*H_out) holds the last
    layer's h_t for every t; h_n stacks every layer's final state as
    ``[l0 forward, l0 reverse, l1 forward, ...]``.

    Parameters and cells: the layer registers each cell's Parameters as its own, under
    PyTorch's flat names (``weight_ih_l0``, ``bias_hh_l1_reverse``...). The cells themselves are
    kept out of the module tree (``_cells``, set with ``object.__setattr__``, which bypasses
    Module's refusal of a plain list of modules): as sub-modules their parameters would be
    named ``cells.0.weight_ih`` and a PyTorch state dict would no longer load. Like PyTorch's
    ``_flat_weights``, :meth:`cells` re-reads the layer's parameters into the cells, so a
    parameter replaced on the layer is the one the cells use; :meth:`train` reaches the cells.
    """

    cell_class: type = RNNCell
    collect = (0,)  # the state parts the next layer reads, 0 = h
    supports_projection = True  # accepts proj_size; PyTorch's RNN and GRU do not

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: str | None = None, dtype=None, *,
                 cell: type | None = None, **cell_options):
        super().__init__()
        name = type(self).__name__
        if proj_size and not self.supports_projection:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        _check_layer_args(name, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                          bidirectional, proj_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        self.cell_class = cell or self.cell_class
        self.cell_kwargs = dict(cell_options)
        if proj_size:
            self.cell_kwargs["proj_size"] = proj_size
        self.scope_name = name.lower()
        self._growth = GrowthTracker(name)
        self._register_cells(device, dtype)

    def _register_cells(self, device, dtype) -> None:
        """One cell per layer and direction, in h_n order; their parameters become the layer's."""
        directions = 2 if self.bidirectional else 1
        width = self.proj_size or self.hidden_size
        cells, names = [], []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else directions * width
            for direction in range(directions):
                cell = self.make_cell(layer, layer_input, device, dtype)
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                own = [(p, p + suffix) for p, v in cell._parameters.items() if v is not None]
                for cell_name, layer_name in own:
                    self.register_parameter(layer_name, cell._parameters[cell_name])
                cells.append(cell)
                names.append(own)
        object.__setattr__(self, "_cells", cells)  # not sub-modules: see the class docstring
        self._cell_parameter_names = names

    def make_cell(self, layer: int, input_size: int, device, dtype) -> RecurrentCell:
        """The cell of ``layer`` (both directions get one each)."""
        return self.cell_class(input_size, self.hidden_size, self.bias, device=device, dtype=dtype,
                               **self.cell_kwargs)

    def cells(self) -> list:
        """The cells in ``h_n`` order (l0 forward, l0 reverse, l1 forward...), using the layer's
        current parameters."""
        for cell, names in zip(self._cells, self._cell_parameter_names):
            for cell_name, layer_name in names:
                cell._parameters[cell_name] = self._parameters[layer_name]
        return self._cells

    def reset_parameters(self) -> None:
        for cell in self.cells():
            cell.reset_parameters()

    def train(self, mode: bool = True) -> "RNNBase":
        """Training mode for the layer and its cells (a custom cell may read ``self.training``)."""
        for cell in self._cells:
            cell.train(mode)
        return super().train(mode)

    # --- forward ----------------------------------------------------------------------------
    def forward(self, input: Tensor, hx=None, lengths=None):
        x, batched = self._check_input(input)
        cells = self.cells()
        states = self._initial_states(hx, x, batched, cells)
        if lengths is not None:
            if not batched:
                raise ValueError(f"{type(self).__name__}: lengths needs a batched (3-D) input")
            lengths = Lengths(lengths, x.shape[0], x.shape[1], x)
        self._growth.check(hx)
        output, finals = self._run_layers(x, cells, states, lengths)

        output = output.swapaxes(0, 1) if self.batch_first and batched else output
        last = tuple(stack([f[i] for f in finals], axis=0) for i in range(len(finals[0])))
        if not batched:
            output = output.squeeze(1)
            last = tuple(s.squeeze(1) for s in last)
        self._growth.remember(last)
        return output, (last if len(last) > 1 else last[0])

    def _run_layers(self, x: Tensor, cells: list, states: list, lengths) -> tuple:
        """Run every layer and direction over time-major ``x``: the last layer's output
        sequence (T, N, D*H_out), and each cell's final state in h_n order."""
        directions = 2 if self.bidirectional else 1
        layer_input, below, finals = x, None, []
        for layer in range(self.num_layers):
            outputs, sequences = [], []
            for direction in range(directions):
                k = layer * directions + direction
                inputs = self.direction_inputs(layer, direction, layer_input, below)
                seqs, final = run(cells[k], inputs, states[k], reverse=direction == 1,
                                  lengths=lengths, collect=self.collect, name=self.scope_name,
                                  layer=layer)
                outputs.append(seqs[0])
                sequences.append(seqs)
                finals.append(final)
            layer_input = outputs[0] if directions == 1 else concat(outputs, axis=2)
            below = sequences
            if self.training and self.dropout and layer < self.num_layers - 1:
                layer_input = apply_dropout(layer_input, self.dropout, True)
        return layer_input, finals

    def direction_inputs(self, layer: int, direction: int, layer_input: Tensor, below):
        """What the cell of (layer, direction) reads per step: the layer's input sequence."""
        return layer_input

    # --- checks -----------------------------------------------------------------------------
    def _check_input(self, input: Tensor) -> tuple:
        name = type(self).__name__
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead")
        check_dtype(name, "input", input, self.weight_ih_l0)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        batched = input.ndim == 3
        x = (input.swapaxes(0, 1) if self.batch_first else input) if batched else input.unsqueeze(1)
        if x.shape[0] == 0:
            raise RuntimeError(f"{name}: Expected sequence length to be larger than 0, got an "
                               f"input of shape {input.shape} with no time steps")
        return x, batched

    def _initial_states(self, hx, x: Tensor, batched: bool, cells: list) -> list:
        """hx -> one state tuple per (layer, direction), in h_n order."""
        batch = x.shape[1]
        if hx is None:
            return [cell.zero_state(batch, x) for cell in cells]
        name = type(self).__name__
        template = cells[0]
        n_parts = len(template.state_names)
        parts = (hx,) if isinstance(hx, Tensor) else tuple(hx) if isinstance(hx, (tuple, list)) else ()
        if not parts or not all(isinstance(p, Tensor) for p in parts):
            wanted = "a Tensor" if n_parts == 1 else f"a tuple of {n_parts} Tensors {template.state_names}"
            got = ", ".join(type(p).__name__ for p in parts) if parts else type(hx).__name__
            raise TypeError(f"{name}: hx must be {wanted}, got {got}; make one with "
                            "minigrad.tensor(array)")
        if len(parts) != n_parts:
            raise ValueError(f"{name}: expected the initial state as {n_parts} tensor(s) "
                             f"{template.state_names}, got {len(parts)}")
        dims = 3 if batched else 2
        if any(p.ndim != dims for p in parts):
            got = ", ".join(f"{p.ndim}-D" for p in parts)
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise RuntimeError(f"{name}: For {kind} input, hx should also be {dims}-D but got "
                               f"({got}) tensor(s)")
        per_cell = []
        for i, (part, size) in enumerate(zip(parts, template.state_sizes)):
            part = part if batched else part.unsqueeze(1)
            expected = (len(cells), batch, size)
            if tuple(part.shape) != expected:
                what = "hidden" if n_parts == 1 else f"hidden[{i}]"
                raise RuntimeError(f"{name}: Expected {what} size {expected}, got {list(part.shape)}")
            check_dtype(name, f"hx[{i}]", part, self.weight_ih_l0)
            per_cell.append(part.unbind(0))
        return [tuple(p[k] for p in per_cell) for k in range(len(cells))]

    def flatten_parameters(self) -> None:
        """Does nothing. PyTorch packs the weights into one cuDNN buffer here (code written for
        it calls this after moving a model); minigrad keeps every parameter where it is."""

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = {"proj_size": 0, "num_layers": 1, "bias": True, "batch_first": False,
                    "dropout": 0.0, "bidirectional": False}  # PyTorch's order
        for key, default in defaults.items():
            value = getattr(self, key)
            if value != default:
                text += f", {key}={value}"
        if self.cell_class is not type(self).cell_class:
            text += f", cell={self.cell_class.__name__}"
        return text


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked.

    PyTorch's ``nn.RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None)``; extra
    keyword arguments go to the cell. Returns ``(output, h_n)``.
    """

    cell_class = RNNCell
    supports_projection = False

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: str | None = None,
                 dtype=None, *, cell: type | None = None, **cell_options):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype, cell=cell,
                         nonlinearity=nonlinearity, **cell_options)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, stacked: each layer runs :class:`LSTMCell` (or ``cell=``) over time.

    PyTorch's ``nn.LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None)``. Extra keyword
    arguments go to every cell: ``form="concat"``, ``forget_bias=1.0``, or a variant's own
    (``cell=PeepholeLSTMCell, peepholes=("i", "f")``).
    Returns ``(output, (h_n, c_n))``.
    """

    cell_class = LSTMCell


class GRU(RNNBase):
    """Gated recurrent unit, stacked: each layer runs :class:`GRUCell` over time.

    PyTorch's ``nn.GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, device=None, dtype=None)``. Returns ``(output, h_n)``.
    """

    cell_class = GRUCell
    supports_projection = False

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: str | None = None, dtype=None, *, cell: type | None = None,
                 **cell_options):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype, cell=cell, **cell_options)


def _check_layer_args(name, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                      bidirectional, proj_size) -> None:
    """PyTorch's RNNBase checks, with its messages."""
    if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
            or not 0 <= dropout <= 1):
        raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the "
                         f"probability of an element being zeroed, got {dropout!r}")
    if dropout > 0 and num_layers == 1:
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero "
                      f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                      f"num_layers={num_layers}", stacklevel=3)
    for arg, value in (("batch_first", batch_first), ("bidirectional", bidirectional)):
        if not isinstance(value, bool):
            raise TypeError(f"{name}: {arg} should be of type bool, got: {type(value).__name__}")
    check_sizes(name, input_size, hidden_size, bias, proj_size)
    if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers <= 0:
        raise ValueError(f"{name}: num_layers must be greater than zero, got {num_layers!r}")
