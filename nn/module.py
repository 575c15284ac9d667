"""`Module`: the base class of every layer. Parameters and sub-modules register themselves by
attribute assignment (``self.weight = Parameter(...)``, ``self.cell = LSTMCell(...)``), as in
PyTorch, so ``parameters()``, ``state_dict()`` and ``to()`` find them without bookkeeping.
Buffers, state that is not learned (a running statistic, a fixed mask), are registered with
``register_buffer``."""
from __future__ import annotations

import itertools
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
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # --- registration ------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        self._check_initialised(name)
        params, buffers, modules = self._registries()
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
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} to "
                                f"buffer {name!r} (a Tensor or None is expected)")
            buffers[name] = value
        else:
            _refuse_plain_container(type(self).__name__, name, value)
            object.__setattr__(self, name, value)

    def _check_initialised(self, name: str) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning {name!r}")

    def _registries(self) -> tuple:
        return self.__dict__["_parameters"], self.__dict__["_buffers"], self.__dict__["_modules"]

    def _forget(self, name: str, keep: dict) -> None:
        """Drop ``name`` from the other registries and the plain attributes. The registry in
        ``keep`` is left alone, so a replaced parameter, buffer or module keeps its place in
        ``state_dict()`` order, as in PyTorch."""
        for registry in self._registries():
            if registry is not keep:
                registry.pop(name, None)
        if keep is not self.__dict__["_buffers"]:
            self.__dict__["_non_persistent_buffers"].discard(name)
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in d.get(registry, {}):
                return d[registry][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for registry in self._registries():
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, a declared-but-absent parameter such as a missing bias)."""
        self._register("register_parameter", "_parameters", name, param, Parameter)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register ``tensor`` (or None) as state that is not learned: a running statistic, a
        fixed mask. ``buffers()`` and ``to()`` reach it and ``state_dict()`` holds it, unless
        ``persistent=False`` (or it is None); optimizers never see it. Assigning a Tensor to
        ``self.<name>`` afterwards replaces it."""
        self._register("register_buffer", "_buffers", name, tensor, Tensor)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register ``module`` under ``name`` (any string without dots, e.g. ``"0"``)."""
        self._register("add_module", "_modules", name, module, Module)

    def _register(self, op: str, kind: str, name, value, expected: type) -> None:
        """Store ``value`` (an ``expected`` or None) under ``name`` in the registry ``kind``,
        in place of whatever had that name."""
        if value is not None and not isinstance(value, expected):
            raise TypeError(f"{op}({name!r}): expected a {expected.__name__} or None, "
                            f"got {type(value).__name__}")
        self._check_name(name, kind)
        registry = self.__dict__[kind]
        self._forget(name, keep=registry)
        registry[name] = value

    def _check_name(self, name, kind: str) -> None:
        """PyTorch's rules for a name to register in ``kind`` ("_parameters", "_buffers" or
        "_modules"): a non-empty string without '.', not already another attribute, parameter,
        buffer or module (replacing one of the same kind is allowed)."""
        self._check_initialised(name)
        registry = self.__dict__[kind]
        owner = type(self).__name__
        if not isinstance(name, str):
            raise TypeError(f"{owner}: a parameter, buffer or module name must be a string, "
                            f"got {type(name).__name__} {name!r}")
        if not name or "." in name:
            raise KeyError(f"{owner}: a parameter, buffer or module name must be a non-empty "
                           f"string without '.', got {name!r}")
        taken = (name in self.__dict__ or hasattr(type(self), name)
                 or any(name in other for other in self._registries() if other is not registry))
        if name not in registry and taken:
            raise KeyError(f"{owner}: {name!r} is already an attribute")

    # --- calling -------------------------------------------------------------------------
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        hooks = self.__dict__.get("_forward_hooks")
        if not hooks:
            return self.forward(*args, **kwargs)
        for hook in list(hooks.get("pre", {}).values()):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        output = self.forward(*args, **kwargs)
        for hook in list(hooks.get("post", {}).values()):
            changed = hook(self, args, output)
            if changed is not None:
                output = changed
        return output

    def register_forward_hook(self, hook: Callable) -> "RemovableHandle":
        """Call ``hook(module, inputs, output)`` after each forward (``inputs``: the positional
        arguments, a tuple); a hook that returns something replaces the output, as in PyTorch.
        Returns a handle whose ``remove()`` stops the calls."""
        return self._add_forward_hook("post", hook)

    def register_forward_pre_hook(self, hook: Callable) -> "RemovableHandle":
        """Call ``hook(module, inputs)`` before each forward; what it returns (if anything)
        replaces the inputs."""
        return self._add_forward_hook("pre", hook)

    def _add_forward_hook(self, when: str, hook: Callable) -> "RemovableHandle":
        if "_forward_hooks" not in self.__dict__:
            object.__setattr__(self, "_forward_hooks", {})
        handle = RemovableHandle(self.__dict__["_forward_hooks"].setdefault(when, {}))
        handle.hooks[handle.id] = hook
        return handle

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
        """(name, module) for each direct sub-module, a module held under two names once (as
        in PyTorch, so ``apply`` and ``train`` reach it once)."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator["Module"]:
        for _, child in self.named_children():
            yield child

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter), e.g. ``("rnn.weight_ih_l0", p)``; a shared (tied) Parameter
        once, or with ``remove_duplicate=False`` under each of its names (as state_dict lists it)."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, Tensor) for every buffer, persistent or not (None ones left out);
        sharing as in :meth:`named_parameters`."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        seen = set()
        members = (self._walk(_registry_items(registry), remove_duplicate) if recurse
                   else _registry_items(registry)(self))
        for name, t in members:
            if id(t) not in seen:
                if remove_duplicate:
                    seen.add(id(t))
                yield (f"{prefix}.{name}" if prefix else name), t

    def _walk(self, own: Callable[["Module"], Iterator], remove_duplicate: bool,
              _seen: set | None = None) -> Iterator[tuple[str, Tensor]]:
        """``own(module)``'s (name, tensor) pairs for self and every descendant, each named as
        the modules above it name their children's members (:meth:`_member_name`); a module
        reached by two paths is walked once, or with ``remove_duplicate=False`` along each."""
        seen = set() if _seen is None else _seen
        if id(self) in seen:
            return
        seen.add(id(self))
        yield from own(self)
        for child_name, child in self._modules.items():
            if child is not None:
                for name, t in child._walk(own, remove_duplicate, seen):
                    yield self._member_name(child_name, name), t
        if not remove_duplicate:
            seen.discard(id(self))  # only the path's own ancestors stop a cycle

    def _member_name(self, child: str, name: str) -> str:
        """The name this module gives member ``name`` of its sub-module ``child``:
        ``child.name``. The recurrent layers override it to list their cells' parameters under
        PyTorch's flat names (``weight_ih`` of cell ``l0`` is ``weight_ih_l0``)."""
        return f"{child}.{name}"

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call ``fn`` on every sub-module, then on self (e.g. a custom initialisation)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes and gradients -------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active) for self and every sub-module."""
        if not isinstance(mode, bool):
            raise ValueError(f"{type(self).__name__}.train: training mode is expected to be "
                             f"boolean, got {type(mode).__name__} {mode!r}")
        object.__setattr__(self, "training", mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients: ``p.grad = None``, or with ``set_to_none=False`` a new
        zero tensor where there was a gradient (the old one is never written into)."""
        zero_grads(self.parameters(), set_to_none)

    # --- devices and dtypes --------------------------------------------------------------
    def to(self, device: str | None = None, dtype=None) -> "Module":
        """Move and/or cast every parameter and buffer in place (the Tensor objects stay the
        same, so an optimizer built before still holds them). ``dtype`` casts floating-point
        tensors only: an integer or bool buffer (a step count, a mask) keeps its dtype, as in
        PyTorch. ``to(minigrad.float64)`` also works."""
        if device is not None and not isinstance(device, str):
            device, dtype = None, device
        dtype = backend.as_dtype(dtype)
        if dtype is not None and not backend.is_floating(dtype):
            raise TypeError(f"{type(self).__name__}.to: parameters need a floating dtype, got {dtype}")
        device = backend.check_device(device) if device is not None else None
        for t in itertools.chain(self.parameters(), self.buffers()):
            data = t._data
            if dtype is not None and backend.is_floating(data.dtype):
                data = data.astype(dtype, copy=False)
            if device is not None:
                data = backend.to_device(data, device)
            t._data = data  # (past the .data setter, which keeps a tensor's dtype and device)
            if t.grad is not None:
                t.grad = t.grad.detach().to(device=device, dtype=data.dtype)
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
        """Name -> Tensor sharing the array of each parameter and persistent buffer (copy
        before changing it), in PyTorch's order: a module's parameters, its buffers, then its
        sub-modules'.

        A shared (tied) parameter is listed under each of its names, as in PyTorch, so a
        PyTorch state dict of a tied model loads here and ours loads there."""
        return OrderedDict((name, t.detach()) for name, t in self._named_state())

    def _named_state(self) -> Iterator[tuple[str, Tensor]]:
        """What state_dict holds, under every name that reaches it."""
        return self._walk(_state_items, remove_duplicate=False)

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values (minigrad Tensors, NumPy arrays or Python numbers) into the parameters
        and persistent buffers, cast to each one's dtype and device.

        Everything is checked and converted before anything changes: a missing or unexpected
        key (with ``strict``), a shape mismatch or a value that is not real numbers raises
        ``RuntimeError`` naming the keys (and both shapes, or the dtype), and leaves every
        parameter and buffer as it was. Returns the skipped keys.
        """
        own = dict(self._named_state())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        staged = {}
        for name, value in state_dict.items():
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
                               + " (nothing was changed)")
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


def _registry_items(registry: str) -> Callable[[Module], Iterator[tuple[str, Tensor]]]:
    """A module's own (name, tensor) pairs in ``registry`` ("_parameters", "_buffers"), None left out."""
    return lambda module: ((name, t) for name, t in module.__dict__[registry].items()
                           if t is not None)


def _state_items(module: Module) -> Iterator[tuple[str, Tensor]]:
    """A module's own state_dict entries: its parameters, then its persistent buffers."""
    buffers = [(name, b) for name, b in module._buffers.items()
               if name not in module._non_persistent_buffers]
    for name, t in itertools.chain(module._parameters.items(), buffers):
        if t is not None:
            yield name, t


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


class RemovableHandle:
    """What ``register_forward_hook`` returns: ``remove()`` takes the hook out again."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self.hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)
