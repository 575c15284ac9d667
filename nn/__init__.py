"""nn: modules, recurrent cells and layers, losses, optimizers and checkpoints, built on minigrad.

Nothing here writes a backward pass: every layer is composed of minigrad's primitive ops.
"""
from .module import Module
from .parameter import Parameter
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .containers import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .embedding import Embedding
from .linear import Identity, Linear
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .serialization import load, save
from . import data, functional, init, optim, utils
from .recurrent import (GRU, LSTM, RNN, ClockworkRNN, ClockworkRNNCell, CoupledLSTMCell,
                        DepthGatedLSTM, DepthGatedLSTMCell, GRUCell, LSTMCell, PeepholeLSTMCell,
                        RNNBase, RNNCell)

__all__ = [
    "Module", "Parameter", "ModuleDict", "ModuleList", "Sequential",
    "Dropout", "Embedding", "Identity", "Linear", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax",
    "BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "NLLLoss",
    "load", "save", "data", "functional", "init", "optim", "utils",
    "RNNCell", "LSTMCell", "GRUCell", "PeepholeLSTMCell", "CoupledLSTMCell", "DepthGatedLSTMCell",
    "ClockworkRNNCell", "RNNBase", "RNN", "LSTM", "GRU", "DepthGatedLSTM", "ClockworkRNN",
]
