"""`Module`: the base class of every layer. Parameters and sub-modules register themselves by
attribute assignment (``self.weight = Parameter(...)``, ``self.cell = LSTMCell(...)``), as in
PyTorch, so ``parameters()``, ``state_dict()`` and ``to()`` find them without bookkeeping."""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

import minigrad
from minigrad import Tensor, backend

from .parameter import Parameter


class Module:
    """Base class for layers. Subclasses set attributes in ``__init__`` and write ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # --- registration ------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning {name!r}")
        params, modules = self.__dict__["_parameters"], self.__dict__["_modules"]
        params.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Parameter) or (value is None and name in params):
            params[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str):
        d = self.__dict__
        if name in d.get("_parameters", {}):
            return d["_parameters"][name]
        if name in d.get("_modules", {}):
            return d["_modules"][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, a declared-but-absent parameter such as a missing bias)."""
        self._parameters[name] = param

    def add_module(self, name: str, module: "Module | None") -> None:
        self._modules[name] = module

    # --- calling -------------------------------------------------------------------------
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- traversal -----------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator["Module"]:
        for _, child in self.named_children():
            yield child

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    # --- modes and gradients -------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    # --- devices and dtypes --------------------------------------------------------------
    def to(self, device: str | None = None, dtype=None) -> "Module":
        """Move every parameter in place (the Parameter objects stay the same)."""
        dtype = backend.as_dtype(dtype)
        device = backend.check_device(device) if device is not None else None
        for p in self.parameters():
            data = p.data
            if dtype is not None:
                data = data.astype(dtype, copy=False)
            if device is not None:
                data = backend.to_device(data, device)
            p.data = data
            p.grad = None if p.grad is None else p.grad.to(device=device, dtype=dtype)
        return self

    def double(self) -> "Module":
        return self.to(dtype=minigrad.float64)

    def float(self) -> "Module":
        return self.to(dtype=minigrad.float32)

    # --- state ---------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, Tensor]":
        """Parameter name -> Tensor (shared with the module; copy before changing)."""
        return OrderedDict((name, p.detach()) for name, p in self.named_parameters())

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy values (minigrad Tensors or NumPy arrays) into the parameters.

        Everything is checked before anything is changed: a missing or unexpected key (with
        ``strict``) or a shape mismatch raises and leaves every parameter as it was.
        """
        own = dict(self.named_parameters())
        if strict:
            missing = [k for k in own if k not in state]
            unexpected = [k for k in state if k not in own]
            if missing or unexpected:
                raise KeyError(f"load_state_dict for {type(self).__name__}: missing keys {missing}, "
                               f"unexpected keys {unexpected}")
        staged = {}
        for name, value in state.items():
            if name not in own:
                continue
            p = own[name]
            array = value.data if isinstance(value, Tensor) else value
            shape = tuple(getattr(array, "shape", ()))
            if shape != p.shape:
                raise ValueError(f"load_state_dict: {name!r} has shape {shape} in the state but "
                                 f"{p.shape} in the module")
            staged[name] = backend.asarray(array, dtype=p.dtype, device=p.device)
        for name, array in staged.items():
            own[name].data = array.copy()

    # --- printing ------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, child in self.named_children():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"
