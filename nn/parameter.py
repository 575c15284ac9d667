"""`Parameter`: a leaf Tensor that a Module registers as learnable."""
from __future__ import annotations

from minigrad import Tensor, backend
from minigrad.tensor import unwrap


class Parameter(Tensor):
    """A Tensor that requires grad and is found by ``Module.parameters()``.

    Wraps ``data`` (a Tensor, an array or Python data) without copying it; an array stays on
    its device.
    """

    __slots__ = ()
    is_parameter = True  # (the renderer draws it as a learned parameter)

    def __init__(self, data, requires_grad: bool = True):
        data = unwrap(data)  # (a Tensor's own array, not a view of it)
        super().__init__(data, device=backend.device_of(data) if backend.is_array(data) else None)
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)


def zero_grads(params, set_to_none: bool = True) -> None:
    """``p.grad = None`` for every parameter, or with ``set_to_none=False`` a new zero tensor
    where there was a gradient (never written into: gradients may be shared). Module.zero_grad
    and Optimizer.zero_grad both use it."""
    for p in params:
        if p.grad is None or set_to_none:
            p.grad = None
        else:
            p.grad = Tensor(backend.get_array_module(p.data).zeros_like(p.data), device=p.device)


__all__ = ["Parameter", "zero_grads"]
