"""``minigrad.trace``: record a function once, derive its backward pass once, replay both as
flat programs of array calls, and print them as Python. See docs/trace.md."""
from .tracer import TraceError
from .traced import Trace, Traced, trace

__all__ = ["Trace", "TraceError", "Traced", "trace"]
