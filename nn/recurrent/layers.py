"""Sequence layers: ``RNN``, ``LSTM``, ``GRU`` with PyTorch's arguments, parameter names, shapes and
return values, for any cell (``LSTM(..., cell=PeepholeLSTMCell)``).

One cell per layer and direction does the arithmetic; the runner (:func:`nn.recurrent.runner.run`)
loops over time. The cells are the layer's sub-modules, ``l0``, ``l0_reverse``, ``l1``..., and
own the parameters; the layer lists them under PyTorch's flat names (``weight_ih_l0``,
``bias_hh_l1_reverse``, then a variant's extras such as ``weight_ci_l0``) in PyTorch's order,
so a PyTorch ``state_dict()`` converted to NumPy loads directly (see :class:`RNNBase`).
"""
from __future__ import annotations

from minigrad import Tensor, concat, stack

from ..functional import dropout as apply_dropout
from ..module import Module
from .base import RecurrentCell
from .checks import check_layer_args, check_layer_input, initial_states
from .gru_cell import GRUCell
from .lstm_cell import LSTMCell
from .packed import PackedSequence
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

    Cells and parameters: each layer and direction has its cell, an ordinary sub-module named
    as PyTorch suffixes its parameters, ``l0``, ``l0_reverse``, ``l1``... (``h_n``'s order);
    the cell owns its parameters and forward reads them there. The layer names its cells'
    parameters PyTorch's way, the parameter's name then the cell's (:meth:`_member_name`):
    ``weight_ih`` of cell ``l1_reverse`` is ``weight_ih_l1_reverse``. So ``parameters()`` lists
    each Parameter once, ``state_dict()`` and ``load_state_dict()`` speak PyTorch's names (a
    PyTorch state dict loads as it is), and ``lstm.weight_ih_l0`` reads, and assigning to it
    replaces, ``lstm.l0.weight_ih``. Nothing is copied between layer and cells.
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
        check_layer_args(name, input_size, hidden_size, num_layers, bias, batch_first, dropout,
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
        self._add_cells(device, dtype)

    def _add_cells(self, device, dtype) -> None:
        """One cell per layer and direction, registered in h_n order as ``l0``, ``l0_reverse``..."""
        directions = 2 if self.bidirectional else 1
        width = self.proj_size or self.hidden_size
        names = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else directions * width
            for direction in range(directions):
                names.append(f"l{layer}" + ("_reverse" if direction else ""))
                self.add_module(names[-1], self.make_cell(layer, layer_input, device, dtype))
        self.cell_names = tuple(names)

    def make_cell(self, layer: int, input_size: int, device, dtype) -> RecurrentCell:
        """The cell of ``layer`` (both directions get one each)."""
        return self.cell_class(input_size, self.hidden_size, self.bias, device=device, dtype=dtype,
                               **self.cell_kwargs)

    def cells(self) -> list:
        """The cells in ``h_n`` order (l0 forward, l0 reverse, l1 forward...)."""
        return [self._modules[name] for name in self.cell_names]

    # --- PyTorch's parameter names ------------------------------------------------------------
    def _member_name(self, child: str, name: str) -> str:
        """``weight_ih`` of cell ``l0`` is ``weight_ih_l0``, as PyTorch names it."""
        if child in self.cell_names:
            return f"{name}_{child}"
        return super()._member_name(child, name)

    def _cell_parameter(self, name: str):
        """(cell, its name for it) of the parameter PyTorch calls ``name``: ``weight_ih_l0`` ->
        (``self.l0``, ``"weight_ih"``); None if no cell has one of that name."""
        for child in self.__dict__.get("cell_names", ()):  # none yet while __init__ runs
            cell = self._modules[child]
            for own, p in cell._parameters.items():
                if p is not None and self._member_name(child, own) == name:
                    return cell, own
        return None

    def __getattr__(self, name: str):
        found = self._cell_parameter(name)
        if found is None:
            return super().__getattr__(name)
        cell, own = found
        return getattr(cell, own)

    def __setattr__(self, name: str, value) -> None:
        found = self._cell_parameter(name)
        if found is None:
            super().__setattr__(name, value)
        else:
            cell, own = found
            setattr(cell, own, value)

    def __repr__(self) -> str:
        """PyTorch's: ``LSTM(3, 4, num_layers=2)``, the cells left out (PyTorch's layers have none)."""
        return f"{type(self).__name__}({self.extra_repr()})"

    def reset_parameters(self) -> None:
        for cell in self.cells():
            cell.reset_parameters()

    # --- forward ----------------------------------------------------------------------------
    def forward(self, input: Tensor, hx=None, lengths=None):
        if isinstance(input, PackedSequence):  # (nn.utils.rnn): the padded batch and its lengths
            output, last = self.forward(input.padded(self.batch_first), hx, input.lengths)
            return PackedSequence(output.swapaxes(0, 1) if self.batch_first else output,
                                  input.lengths), last
        name = type(self).__name__
        check_layer_input(name, input, self)
        batched = input.ndim == 3
        x = (input.swapaxes(0, 1) if self.batch_first else input) if batched else input.unsqueeze(1)
        cells = self.cells()
        states = initial_states(name, hx, cells[0], x.shape[1], batched, x, stacked=len(cells))
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
