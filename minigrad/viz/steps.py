"""Step keys: which layer, direction and step each recorded op belongs to, read from its scope.

The recurrent layers run every step inside
``minigrad.scope(name, layer=l, direction="forward"|"reverse", step=t, cell=kind)``; an op
recorded there gets ``StepKey(name, call, l, direction, t)``. When the drawn graph holds the
same layer run twice (truncated BPTT: one call per chunk), the calls would share keys: each
later call gets its own index and, when it starts from an earlier call's state (through a
``detach`` or directly), its steps continue that call's time axis on the same row.
"""
from __future__ import annotations

from collections import defaultdict

from ..function import Function
from . import cuts
from .records import StepKey

LINK_DEPTH = 4  # ops between a call's first step and the previous call (slices of the state)


def step_keys(order: list, call_of: dict) -> dict:
    """{id(op): StepKey} for every op recorded inside a step scope."""
    raw, by_scope = {}, {}
    for item in order:
        if isinstance(item, Function) and item.scope is not None:
            if item.scope not in by_scope:
                by_scope[item.scope] = scope_tags(item.scope)
            if by_scope[item.scope] is not None:
                raw[id(item)] = (by_scope[item.scope], call_of[id(item)])
    calls = defaultdict(lambda: defaultdict(set))
    for tagged, call in raw.values():
        calls[tagged[0]][call].add(tagged[1:])
    separate = {}
    for group, per_call in calls.items():
        seen, index = set(), 0
        for call in sorted(per_call):
            if seen & per_call[call]:
                index += 1
            separate[group, call] = index
            seen |= per_call[call]
    keys = {i: StepKey(t[0], separate[t[0], call], *t[1:]) for i, (t, call) in raw.items()}
    return _continue_time(order, keys) if any(k.call for k in keys.values()) else keys


def scope_tags(scope) -> tuple | None:
    """(group, layer, direction, step) from the innermost scope with a ``step`` tag."""
    chain = scope.chain()
    for i in range(len(chain) - 1, -1, -1):
        if "step" in chain[i].own_tags:
            tags = scope.tags()
            group = ".".join(s.name for s in chain[: i + 1])
            return (group, int(tags.get("layer", 0)), str(tags.get("direction", "forward")),
                    int(tags["step"]))
    return None


def _continue_time(order: list, keys: dict) -> dict:
    """``keys`` with each later call that starts from an earlier call's state moved onto that
    call's row, its steps numbered on from the earlier call's last."""
    fed_by = {}
    for item in order:
        mine = keys.get(id(item)) if isinstance(item, Function) else None
        if mine is None:
            continue
        frontier = cuts.links(item)
        for _ in range(LINK_DEPTH):  # through the unscoped slicing of an initial state
            further = []
            for src in frontier:
                theirs = keys.get(id(src))
                if theirs is None:
                    further += cuts.links(src)
                elif theirs.group == mine.group and theirs.call != mine.call:
                    fed_by[mine.group, mine.call] = theirs.call
            frontier = further
    last = defaultdict(int)
    for k in keys.values():
        last[k.group, k.call] = max(last[k.group, k.call], k.step)
    offset, row = {}, {}

    def place(group, call, visiting=()):
        if (group, call) not in row:
            earlier = fed_by.get((group, call))
            if earlier is None or earlier in visiting:
                offset[group, call], row[group, call] = 0, call
            else:
                place(group, earlier, visiting + (call,))
                offset[group, call] = offset[group, earlier] + last[group, earlier] + 1
                row[group, call] = row[group, earlier]
    for group, call in last:
        place(group, call)
    rows = {}
    for (group, _), r in row.items():
        rows.setdefault(group, set()).add(r)
    rows = {group: sorted(used) for group, used in rows.items()}
    return {i: StepKey(k.group, rows[k.group].index(row[k.group, k.call]), k.layer, k.direction,
                       k.step + offset[k.group, k.call])
            for i, k in keys.items()}
