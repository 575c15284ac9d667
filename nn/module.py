"""`Module`: the base class of every layer. Parameters and sub-modules register themselves by
attribute assignment (``self.weight = Parameter(...)``, ``self.cell = LSTMCell(...)``), as in
PyTorch, so ``parameters()``, ``state_dict()`` and ``to()`` find them without bookkeeping."""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Iterator, NamedTuple

import minigrad
from minigrad import Tensor, backend

from .parameter import Parameter, zero_grads


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list
    unexpected_keys: list


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
        if isinstance(value, Parameter):
            self._forget(name, keep=params)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep=modules)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} to "
                                f"parameter {name!r} (a Parameter or None is expected)")
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} to "
                                f"sub-module {name!r} (a Module or None is expected)")
            modules[name] = None
        else:
            _refuse_plain_container(type(self).__name__, name, value)
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: dict) -> None:
        """Drop ``name`` from the other registry and the plain attributes. The registry in
        ``keep`` is left alone, so a replaced parameter or module keeps its place in
        ``state_dict()`` order, as in PyTorch."""
        for registry in (self.__dict__["_parameters"], self.__dict__["_modules"]):
            if registry is not keep:
                registry.pop(name, None)
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
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}): expected a Parameter or None, "
                            f"got {type(param).__name__}")
        self._check_name(name, self._parameters)
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register ``module`` under ``name`` (any string without dots, e.g. ``"0"``)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): expected a Module or None, got {type(module).__name__}")
        self._check_name(name, self._modules)
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    def _check_name(self, name, registry: dict) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{type(self).__name__}: a parameter or module name must be a non-empty "
                           f"string without '.', got {name!r}")
        if name not in registry and (name in self.__dict__ or hasattr(type(self), name)):
            raise KeyError(f"{type(self).__name__}: {name!r} is already an attribute")

    # --- calling -------------------------------------------------------------------------
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- traversal -----------------------------------------------------------------------
    def named_modules(self, prefix: str = "", remove_duplicate: bool = True,
                      _seen: set | None = None) -> Iterator[tuple[str, "Module"]]:
        """(dotted path, module) for this module and every descendant: each module once, or
        with ``remove_duplicate=False`` under every path that reaches it (as in PyTorch)."""
        seen = set() if _seen is None else _seen
        if id(self) in seen:
            return
        seen.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate, seen)
        if not remove_duplicate:
            seen.discard(id(self))  # only the path's own ancestors stop a cycle

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

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter), e.g. ``("rnn.weight_ih_l0", p)``; a shared (tied) Parameter
        once, or with ``remove_duplicate=False`` under each of its names (as state_dict lists it)."""
        seen = set()
        modules = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    if remove_duplicate:
                        seen.add(id(p))
                    yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call ``fn`` on every sub-module, then on self (e.g. a custom initialisation)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes and gradients -------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active) for self and every sub-module."""
        object.__setattr__(self, "training", bool(mode))
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, flag: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(flag)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients: ``p.grad = None``, or with ``set_to_none=False`` a new
        zero tensor where there was a gradient (the old one is never written into)."""
        zero_grads(self.parameters(), set_to_none)

    # --- devices and dtypes --------------------------------------------------------------
    def to(self, device: str | None = None, dtype=None) -> "Module":
        """Move and/or cast every parameter in place (the Parameter objects stay the same,
        so an optimizer built before still holds them). ``to(minigrad.float64)`` also works."""
        if device is not None and not isinstance(device, str):
            device, dtype = None, device
        dtype = backend.as_dtype(dtype)
        if dtype is not None and not backend.is_floating(dtype):
            raise TypeError(f"{type(self).__name__}.to: parameters need a floating dtype, got {dtype}")
        device = backend.check_device(device) if device is not None else None
        for p in self.parameters():
            data = p.data
            if dtype is not None:
                data = data.astype(dtype, copy=False)
            if device is not None:
                data = backend.to_device(data, device)
            p.data = data
            if p.grad is not None:
                p.grad = p.grad.detach().to(device=device, dtype=dtype)
        return self

    def cpu(self) -> "Module":
        return self.to("cpu")

    def cuda(self) -> "Module":
        return self.to("cuda")

    def double(self) -> "Module":
        return self.to(dtype=minigrad.float64)

    def float(self) -> "Module":
        return self.to(dtype=minigrad.float32)

    # --- state ---------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, Tensor]":
        """Parameter name -> Tensor sharing the parameter's array (copy before changing it).

        A shared (tied) parameter is listed under each of its names, as in PyTorch, so a
        PyTorch state dict of a tied model loads here and ours loads there."""
        return OrderedDict((name, p.detach())
                           for name, p in self.named_parameters(remove_duplicate=False))

    def load_state_dict(self, state: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values (minigrad Tensors, NumPy arrays or Python numbers) into the parameters,
        cast to each parameter's dtype and device.

        Everything is checked and converted before anything changes: a missing or unexpected
        key (with ``strict``), a shape mismatch or a value that is not real numbers raises
        ``RuntimeError`` naming the keys (and both shapes, or the dtype), and leaves every
        parameter as it was. Returns the skipped keys.
        """
        own = dict(self.named_parameters(remove_duplicate=False))
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        staged = {}
        for name, value in state.items():
            if name not in own:
                continue
            p = own[name]
            array = _state_array(value)
            if array is None or array.dtype.kind not in "biuf":  # bool, int, uint, float
                got = type(value).__name__ if array is None else f"dtype {array.dtype}"
                problems.append(f"{name!r} is not an array of real numbers (got {got})")
            elif tuple(array.shape) != p.shape:
                problems.append(f"shape mismatch for {name!r}: {tuple(array.shape)} in the state, "
                                f"{p.shape} in the module")
            else:
                staged[name] = backend.to_device(array, p.device).astype(p.dtype, copy=True)
        if problems:
            raise RuntimeError(f"load_state_dict for {type(self).__name__}: " + "; ".join(problems)
                               + " (no parameter was changed)")
        for name, array in staged.items():
            own[name].data = array
        return IncompatibleKeys(missing, unexpected)

    # --- printing ------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The constructor arguments shown inside ``Name(...)``; layers override it."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {child_repr}")
        head = f"{type(self).__name__}("
        if not lines:
            return head + ")"
        if len(lines) == 1 and not self._modules:
            return head + lines[0] + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _state_array(value):
    """A state dict value as an array (Tensor, array or Python data); None if it is not one."""
    if isinstance(value, Tensor):
        return value.data
    if backend.is_array(value):
        return value
    try:
        return backend.to_numpy(value)  # Python floats stay float64: no float32 detour
    except (TypeError, ValueError):  # ragged lists
        return None


def _refuse_plain_container(owner: str, name: str, value) -> None:
    """A plain list/dict of modules would be invisible to parameters() and state_dict()."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    if any(isinstance(v, Module) for v in items):
        kind = "ModuleDict" if isinstance(value, dict) else "ModuleList"
        raise TypeError(f"{owner}.{name}: the modules in a plain {type(value).__name__} would not be "
                        f"registered (parameters() and state_dict() would miss them); wrap it in "
                        f"nn.{kind}(...)")
