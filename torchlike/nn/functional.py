"""``torch.nn.functional``: nn.functional."""
from nn.functional import *  # noqa: F401,F403
from nn.functional import __all__  # noqa: F401
