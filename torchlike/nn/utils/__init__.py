"""``torch.nn.utils``: gradient clipping, and ``rnn`` (padding and packing)."""
from nn.utils import *  # noqa: F401,F403
from nn.utils import __all__  # noqa: F401

from . import rnn  # noqa: E402,F811
