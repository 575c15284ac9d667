"""``torch.optim.lr_scheduler``: nn.optim.lr_scheduler."""
from nn.optim.lr_scheduler import *  # noqa: F401,F403
from nn.optim.lr_scheduler import __all__  # noqa: F401
