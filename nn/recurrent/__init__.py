"""Recurrent cells, the one sequence runner, and the layers built from them.

Cells (one time step each, equations in their docstrings): :class:`RNNCell`, :class:`LSTMCell`,
:class:`GRUCell`, and the essay's variants :class:`PeepholeLSTMCell`, :class:`CoupledLSTMCell`,
:class:`DepthGatedLSTMCell`, :class:`ClockworkRNNCell`. Layers (stacked, bidirectional, padded
batches): :class:`RNN`, :class:`LSTM`, :class:`GRU`, :class:`DepthGatedLSTM`,
:class:`ClockworkRNN`, or any cell through ``LSTM(..., cell=...)``.
"""
from .base import RecurrentCell
from .clockwork import ClockworkRNN, ClockworkRNNCell
from .coupled import CoupledLSTMCell
from .depth_gated import DepthGatedLSTM, DepthGatedLSTMCell
from .gru_cell import GRUCell
from .layers import GRU, LSTM, RNN, RNNBase
from .lstm_cell import LSTMCell
from .peephole import PeepholeLSTMCell
from .rnn_cell import RNNCell
from .runner import run
from .tbptt import (GraphGrowthWarning, detach_state, get_graph_growth_warning,
                    set_graph_growth_warning)

__all__ = [
    "RecurrentCell", "RNNCell", "LSTMCell", "GRUCell", "PeepholeLSTMCell", "CoupledLSTMCell",
    "DepthGatedLSTMCell", "ClockworkRNNCell", "RNNBase", "RNN", "LSTM", "GRU", "DepthGatedLSTM",
    "ClockworkRNN", "run", "GraphGrowthWarning", "detach_state", "set_graph_growth_warning",
    "get_graph_growth_warning",
]
