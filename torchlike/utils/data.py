"""``torch.utils.data``: nn.data's datasets and loader."""
from nn.data import *  # noqa: F401,F403
from nn.data import __all__  # noqa: F401
