"""``torch.nn``: nn's modules, losses, ``init``, ``utils`` and ``functional``, as PyTorch names them."""
from nn import *  # noqa: F401,F403
from nn import __all__, data, init, optim  # noqa: F401

from . import functional, utils  # noqa: E402
