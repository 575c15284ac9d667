"""Which implementations a device offers, and how to wait for it before reading the clock."""
from __future__ import annotations

from typing import Callable


def torch_on(device: str) -> bool:
    """PyTorch is installed and can run on ``device``."""
    try:
        import torch
    except ImportError:
        return False
    return device == "cpu" or torch.cuda.is_available()


def array_module(device: str):
    """numpy for "cpu", cupy for "cuda"."""
    if device == "cuda":
        import cupy
        return cupy
    import numpy
    return numpy


def synchronizer(device: str) -> Callable[[], None] | None:
    """A function that waits for all queued GPU work (CuPy's and PyTorch's); None on the CPU."""
    if device != "cuda":
        return None
    import cupy
    use_torch = torch_on("cuda")

    def sync() -> None:
        cupy.cuda.Device().synchronize()
        if use_torch:
            import torch
            torch.cuda.synchronize()

    return sync
