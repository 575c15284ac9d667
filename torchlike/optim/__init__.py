"""``torch.optim``: nn.optim's optimizers, and ``lr_scheduler``."""
from nn.optim import *  # noqa: F401,F403
from nn.optim import __all__  # noqa: F401

from . import lr_scheduler  # noqa: E402,F811
