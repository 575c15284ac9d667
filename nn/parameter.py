"""`Parameter`: a leaf Tensor that a Module registers as learnable."""
from __future__ import annotations

from minigrad import Tensor, backend


class Parameter(Tensor):
    """A Tensor that requires grad and is found by ``Module.parameters()``.

    Wraps ``data`` (a Tensor, an array or Python data) without copying it; an array stays on
    its device.
    """

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        data = data.data if isinstance(data, Tensor) else data
        super().__init__(data, device=backend.device_of(data) if backend.is_array(data) else None)
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)


__all__ = ["Parameter"]
