"""nn: modules, recurrent cells and layers, losses, optimizers and checkpoints, built on minigrad.

Nothing here writes a backward pass: every layer is composed of minigrad's primitive ops.
"""
from .module import Module
from .parameter import Parameter

__all__ = ["Module", "Parameter"]
