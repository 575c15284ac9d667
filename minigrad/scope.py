"""Scopes: name the part of a model that is running, so the renderer can group its nodes.

``with minigrad.scope("lstm.l0", layer=0, direction="forward", step=3):`` tags every node
recorded inside with that scope (one attribute store per node: free when nobody draws).
Scopes nest; ``Scope.path()`` lists the names from the outside in, ``Scope.tags()`` merges the
tags, inner ones winning; ``Scope.serial`` says which of two scopes was entered first. Role
labels (``f_t``, ``C_t``) are set with ``Tensor.label``.
"""
from __future__ import annotations

from itertools import count

from .function import STATE

_serials = count()


class Scope:
    """One entered scope: a name, its tags, the scope around it, and a serial number that
    grows with every scope made. A loop that enters ``scope("lstm", step=t)`` twice over makes
    two scopes with the same tags; the serials tell the renderer which ran first."""

    __slots__ = ("name", "own_tags", "parent", "serial")

    def __init__(self, name: str, tags: dict, parent: "Scope | None"):
        self.name = name
        self.own_tags = tags
        self.parent = parent
        self.serial = next(_serials)

    def chain(self) -> list:
        """This scope and its parents, outermost first."""
        scopes, s = [], self
        while s is not None:
            scopes.append(s)
            s = s.parent
        return scopes[::-1]

    def path(self) -> tuple:
        return tuple(s.name for s in self.chain())

    def tags(self) -> dict:
        merged = {}
        for s in self.chain():
            merged.update(s.own_tags)
        return merged

    def __repr__(self) -> str:
        return f"Scope({'/'.join(self.path())}, {self.tags()})"


class scope:
    """Context manager: tag every node recorded inside with ``name`` and ``tags``."""

    __slots__ = ("_scope", "_previous")

    def __init__(self, name: str, **tags):
        self._scope = Scope(name, tags, None)

    def __enter__(self) -> Scope:
        self._previous = STATE.scope
        self._scope.parent = self._previous
        STATE.scope = self._scope
        return self._scope

    def __exit__(self, *exc):
        STATE.scope = self._previous


def current_scope() -> "Scope | None":
    return STATE.scope
