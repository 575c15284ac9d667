"""Step keys: which layer, direction and step each recorded op belongs to, read from its scope.

The recurrent layers run every step inside
``minigrad.scope(name, layer=l, direction="forward"|"reverse", step=t, cell=kind)``; an op
recorded there gets ``StepKey(name, call, l, direction, t)``. Every step of every call enters a
scope of its own, so one scope is one step: all its ops share one key. When the drawn graph
holds the same layer run twice (truncated BPTT: one call per chunk), the calls' scopes carry the
same tags. Taken in the order they were entered (``Scope.serial``), a scope whose tags the
current call has already run starts the next call: nothing else, such as the order of the
outputs handed to ``draw``, decides it. Each later call gets its own index and, when it starts
from an earlier call's state (through a ``detach`` or directly), its steps continue that call's
time axis on the same row.
"""
from __future__ import annotations

from collections import defaultdict

from ..function import Function
from . import cuts
from .recorder import facts_of
from .records import StepKey

LINK_DEPTH = 4  # ops between a call's first step and the previous call (slices of the state)


def step_keys(order: list) -> dict:
    """{id(op): StepKey} for every op recorded inside a step scope."""
    step_of = {}  # id(op) -> the scope of its step
    for item in order:
        step = _innermost_step(facts_of(item).scope) if isinstance(item, Function) else None
        if step is not None:
            step_of[id(item)] = step
    tags = {step: _tags(step) for step in set(step_of.values())}
    calls = _calls(tags)
    keys = {i: StepKey(tags[step][0], calls[step], *tags[step][1:])
            for i, step in step_of.items()}
    return _continue_time(order, keys) if any(calls.values()) else keys


def _innermost_step(scope):
    """The innermost of ``scope`` and the scopes around it with a ``step`` tag (one step of
    one call), or None."""
    while scope is not None and "step" not in scope.own_tags:
        scope = scope.parent
    return scope


def _tags(step) -> tuple:
    """(group, layer, direction, step) of a step scope; the group is its path of names."""
    tags = step.tags()
    return (".".join(step.path()), int(tags.get("layer", 0)),
            str(tags.get("direction", "forward")), int(tags["step"]))


def _calls(tags: dict) -> dict:
    """{step scope: index of its call among its group's}. The scopes are taken in the order
    they were entered; one whose layer, direction and step the current call of its group has
    already run starts the next call."""
    calls, ran, index = {}, defaultdict(set), defaultdict(int)
    for step in sorted(tags, key=lambda s: s.serial):
        group, place = tags[step][0], tags[step][1:]
        if place in ran[group]:
            index[group] += 1
            ran[group] = set()
        ran[group].add(place)
        calls[step] = index[group]
    return calls


def _continue_time(order: list, keys: dict) -> dict:
    """``keys`` with each later call that starts from an earlier call's state moved onto that
    call's row, its steps numbered on from the earlier call's last."""
    fed_by = _fed_by(order, keys)
    last = defaultdict(int)
    for k in keys.values():
        last[k.group, k.call] = max(last[k.group, k.call], k.step)
    offset, row = {}, {}
    for group, call in sorted(last):  # an earlier call is placed before the calls it feeds
        earlier = fed_by.get((group, call))
        if earlier is None:
            offset[group, call], row[group, call] = 0, call
        else:
            offset[group, call] = offset[group, earlier] + last[group, earlier] + 1
            row[group, call] = row[group, earlier]
    rows = defaultdict(set)
    for (group, _), r in row.items():
        rows[group].add(r)
    rows = {group: sorted(used) for group, used in rows.items()}
    return {i: StepKey(k.group, rows[k.group].index(row[k.group, k.call]), k.layer, k.direction,
                       k.step + offset[k.group, k.call])
            for i, k in keys.items()}


def _fed_by(order: list, keys: dict) -> dict:
    """{(group, call): the latest earlier call of that group whose state it reads}, through at
    most ``LINK_DEPTH`` unscoped ops (the slicing of an initial state) or a ``detach``. Data only
    flows from what ran earlier, so that call has the smaller index."""
    fed_by = {}
    for item in order:
        mine = keys.get(id(item)) if isinstance(item, Function) else None
        if mine is None:
            continue
        frontier = cuts.links(item)
        for _ in range(LINK_DEPTH):
            further = []
            for src in frontier:
                theirs = keys.get(id(src))
                if theirs is None:
                    further += cuts.links(src)
                elif theirs.group == mine.group and theirs.call < mine.call:
                    fed_by[mine.group, mine.call] = max(theirs.call,
                                                        fed_by.get((mine.group, mine.call), 0))
            frontier = further
    return fed_by
