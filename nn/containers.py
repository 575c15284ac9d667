"""Containers that register the modules they hold: `Sequential`, `ModuleList`, `ModuleDict`.

A plain Python list of layers would be invisible to ``parameters()`` and ``state_dict()``;
these give each held module a name ("0", "1", ... or the dict key) in the state dict.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterable, Iterator, Mapping

from .module import Module


def _index(i: int, n: int, owner: str) -> int:
    if not -n <= i < n:
        raise IndexError(f"{owner}: index {i} is out of range for {n} modules")
    return i % n


class ModuleList(Module):
    """A list of modules, indexed like a Python list; their parameters are named ``"0.weight"``..."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, i):
        if isinstance(i, slice):
            return type(self)(list(self._modules.values())[i])
        return self._modules[str(_index(i, len(self), type(self).__name__))]

    def __setitem__(self, i: int, module: Module) -> None:
        self.add_module(str(_index(i, len(self), type(self).__name__)), module)

    def __delitem__(self, i) -> None:
        """``del ml[i]`` or ``del ml[i:j]``; the modules after it are renumbered, as in PyTorch."""
        modules = list(self._modules.values())
        del modules[i if isinstance(i, slice) else _index(i, len(self), type(self).__name__)]
        self._modules.clear()
        self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> "ModuleList":
        """A new ModuleList holding this one's modules, then ``other``'s."""
        return ModuleList([*self, *other])

    def append(self, module: Module) -> "ModuleList":
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        self.extend(modules)


class Sequential(ModuleList):
    """Chains modules: ``Sequential(a, b, c)(x) == c(b(a(x)))``. Also accepts one OrderedDict
    of name -> module, as in PyTorch."""

    def __init__(self, *modules):
        Module.__init__(self)
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            self.extend(modules)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(OrderedDict(list(self._modules.items())[i]))
        return list(self._modules.values())[_index(i, len(self), "Sequential")]

    def __setitem__(self, i: int, module: Module) -> None:
        self.add_module(list(self._modules)[_index(i, len(self), "Sequential")], module)

    def __add__(self, other: "Sequential") -> "Sequential":
        """A new Sequential running this one's modules, then ``other``'s (renumbered)."""
        return Sequential(*self, *other)

    def forward(self, x):
        for module in self:
            x = module(x)
        return x


class ModuleDict(Module):
    """A dict of modules (insertion order kept); parameters are named ``"<key>.weight"``..."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)

    def update(self, modules) -> None:
        items = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in items:
            self[key] = module
