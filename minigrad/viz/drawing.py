"""`draw`: capture the graph, pick a detail level that fits, arrange and render it."""
from __future__ import annotations

import copy
import math
import warnings
from collections import defaultdict

import graphviz

from ..tensor import Tensor
from .arrange import arrange
from .capture import capture
from .detail import coarsen
from .elide import elide, is_elision_note
from . import gradients, values
from .files import save
from .gradients import Flows
from .picture import (MIN_TEXT_PX, PAD, PAGE_WIDTH, PX_PER_POINT, Picture, drawn_right, frames,
                      measure, size_attr, text_px)
from .sequences import names_of, stub_inputs
from .records import DETAILS, PARAM_MODES, Graph
from .render import render

MAX_NODES = 400
PROBE_STEPS = 4  # fitting a longer row to a width measures its first and last step first
AUTO_PARAMS = {"op": "repeat", "gate": "hide", "cell": "hide"}


def draw(*outputs: Tensor, params: dict | None = None, detail: str = "auto",
         param_mode: str = "auto", grads: bool | None = None, max_nodes: int = MAX_NODES,
         title: str | None = None, out: str | None = None, scale: tuple | None = None,
         flows: Flows | None = None, width: int | None = PAGE_WIDTH,
         backward: bool = False, inputs: dict | None = None) -> Picture:
    """Draw the graph that produced ``outputs``, unrolled over time.

    detail: ``"op"`` (every primitive op), ``"gate"`` (one yellow box per learned layer, the
        essay's figures), ``"cell"`` (one box per step), or ``"auto"``: the finest that fits
        in ``max_nodes`` nodes and, with ``width``, fits that width with at least the first
        and last step of each row. Past ``max_nodes`` the middle steps are elided ("t = 3 …
        t = 396"); both are said in the picture's label and in a warning.
    params: names for leaf tensors, e.g. ``dict(model.named_parameters())`` (or the
        ``(name, tensor)`` pairs ``model.named_parameters()`` yields).
    param_mode: ``"once"`` (one parameters cluster; in a picture of one row, a band under the
        steps whose lines every step taps), ``"repeat"`` (a faint copy in every step that uses
        them) or ``"hide"``; ``"auto"``: repeat at op detail, hide otherwise.
    grads: colour nodes and edges by the recorded gradient norm (log scale, with a legend);
        None: when ``backward`` ran inside ``minigrad.viz.recording()``. A line is coloured by
        what it carried back to its consumer when the backward also ran inside
        ``minigrad.viz.record_flows()`` (``flows``: that recorder; by default the last one, if
        it saw this graph), else by its tensor's whole gradient.
    scale: ``(lo, hi)``, the gradient norms at the two ends of the colour scale: pictures drawn
        with one scale can be compared (by default each picture spans its own norms).
    out: also write the picture there (``.dot``, ``.svg``, ``.png``, ``.pdf`` or ``.html``, the
        explorable page).
    backward: draw the backward pass: the same steps, gates and roles, each line carrying the
        gradient of what it carried forward (``dC_3``, ``dh_3``, ``df_3``), arrows right to
        left; coloured by the gradients when they were recorded.
    inputs: names for input sequences of a hand-written loop, ``{"x": x}``: each step's slice
        of ``x`` is drawn as a stub ``x_t`` entering the step, as for ``nn``'s layers.
    width: the most pixels wide the picture is shown (a notebook, ``out`` and ``.save``: Graphviz's
        ``size``), by default a page's 1000. Where all the steps would leave its smallest text
        under 9 px at that width, the middle steps are elided ("t = 3 … t = 396"), as many as
        that takes (the first and last step of each row stay); where those two do not fit, one
        step per row (the last; a backward picture's first); where nothing fits, the picture
        is drawn as wide as 9 px text needs, and a warning names that width. It needs
        Graphviz's ``dot`` to measure. ``None``: the natural size, every step (up to
        ``max_nodes``).

    Returns a :class:`Picture`, a ``graphviz.Digraph`` that Jupyter shows inline; ``.records``
    holds the records, ``.save(path)`` writes it.
    """
    if not outputs:
        raise TypeError("draw: give at least one output tensor")
    _check(detail, param_mode, max_nodes, width)
    _check_scale(scale)
    sequences = names_of(inputs)
    captured = capture(*outputs, params=params, inputs=inputs)
    values.apply_values(captured)
    gradients.apply_flows(captured, [flows] if flows is not None else gradients.latest(captured))
    caption = gradients.ratio_caption(captured) if captured.grads else []
    if grads and not any(n.kind == "op" and n.grad_norm is not None
                         for n in captured.nodes.values()):  # (leaves keep .grad anyway)
        warnings.warn("minigrad.viz.draw: grads=True, but the ops' gradients were not recorded: "
                      "run backward inside `with minigrad.viz.recording():`", stacklevel=2)
    finish = dict(sequences=sequences, backward=backward, grads=grads)
    coarse = {}  # detail level -> the captured graph at that level, made once
    records = _finished(build(captured, detail, param_mode, max_nodes, coarse), **finish)
    look = dict(title=title, scale=scale, caption=caption, width=width)
    dot = _picture(records, **look)
    if width is not None:
        fit = dict(graph=captured, param_mode=param_mode, width=width, finish=finish, look=look,
                   coarse=coarse)
        dot = _auto_fitted(dot, max_nodes, fit) if detail == "auto" else _fitted(dot, **fit)
    for note in dot.records.notes:
        warnings.warn(f"minigrad.viz.draw: {note}", stacklevel=2)
    if out is not None:
        save(dot, out)
    return dot


def _finished(records: Graph, sequences, backward: bool, grads: bool | None) -> Graph:
    stub_inputs(records, sequences)
    records.backward = bool(backward)
    if grads is not None:
        records.grads = bool(grads) and records.grads
    return records


def _picture(records: Graph, title, scale, caption, width) -> Picture:
    dot = render(records, title, scale=scale, caption=caption if records.grads else ())
    dot.records = records
    if width is not None:
        dot.width = width
        dot.attr(size=size_attr(width))
    return dot


def _auto_fitted(dot: Picture, max_nodes: int, fit: dict) -> Picture:
    """``detail="auto"``: the finest level, from the one ``max_nodes`` allows, that fits
    ``width`` with at least the first and last step of each row (``fit``: :func:`_fitted`'s
    arguments); at the coarsest, whatever :func:`_fitted` makes of it. Each level passed over
    is noted."""
    graph, param_mode, width = fit["graph"], fit["param_mode"], fit["width"]
    levels = DETAILS[DETAILS.index(dot.records.detail):]
    for level, coarser in zip(levels, levels[1:]):
        fitted = _fitted(dot, last_resort=False, **fit)
        if fitted is not None:
            return fitted
        records = build(graph, coarser, param_mode, max_nodes, fit["coarse"])
        ends = (" even with only the first and last step of each row"
                if _kept_steps(dot.records) > 2 else "")
        records.notes = [n for n in dot.records.notes if not is_elision_note(n)] + [
            f"at {level} detail its smallest text would be under {MIN_TEXT_PX} px at "
            f"width={width}{ends}: drawn at {coarser} detail"] + [
            n for n in records.notes if is_elision_note(n)]
        dot = _picture(_finished(records, **fit["finish"]), **fit["look"])
    return _fitted(dot, **fit)


def _fitted(dot: Picture, graph: Graph, param_mode: str, width: int, finish: dict,
            look: dict, coarse: dict, last_resort: bool = True) -> Picture | None:
    """The picture with as many steps as fit ``width`` px with every text at least
    ``MIN_TEXT_PX`` tall there: the first and last steps of each row are kept, the middle ones
    elided. Where not even those two fit: None unless ``last_resort`` (``detail="auto"`` tries
    a coarser level first); else one step per row (:func:`_one_step`), and where not even that
    fits, a try drawn wider than ``width``, as :func:`_widened` picks. Each try is laid out
    by dot once (its SVG is kept for pipe); without dot, or where dot fails, no fitting."""
    tries = _Tries(dot, graph, param_mode, width, finish, look, coarse)
    try:
        fitted = _most_steps(tries)
        if fitted is not None or not last_resort:
            return fitted
        if _kept_steps(dot.records) > 1:
            one = tries.elided(*_one_step(dot.records))
            if tries.fits(one):
                return one
        return _widened(tries.tried, width)
    except _NoLayout:
        return dot


class _NoLayout(Exception):
    """dot made no SVG of a try (it is missing, or failed): nothing can be measured."""


class _Tries:
    """The pictures :func:`_fitted` tries at one detail level: ``first`` (every step), the same
    with middle steps elided, and ``tried``, (picture, its SVG) of each that did not fit."""

    def __init__(self, first: Picture, graph: Graph, param_mode: str, width: int,
                 finish: dict, look: dict, coarse: dict):
        self.first, self.graph, self.param_mode, self.width = first, graph, param_mode, width
        self.finish, self.look, self.coarse = finish, look, coarse
        self.tried = []

    def elided(self, head: int, tail: int) -> Picture:
        """The first ``head`` and last ``tail`` steps of each row, the rest elided."""
        records = _arranged(self.graph, self.first.records.detail, self.param_mode,
                            (head, tail), self.coarse)
        records.notes = [n for n in self.first.records.notes  # the detail chosen, and the like
                         if not is_elision_note(n) and n not in records.notes] + records.notes
        return _picture(_finished(records, **self.finish), **self.look)

    def ends(self, steps: int) -> tuple:
        """(head, tail) that keep ``steps`` steps of a row: half at each end, an odd one at the
        end its pass starts from (a forward picture's t = 0, a backward one's last step)."""
        more = (steps + 1) // 2
        return (steps - more, more) if self.first.records.backward else (more, steps - more)

    def fits(self, picture: Picture) -> bool:
        """Whether ``picture`` fits; if not it joins ``tried``."""
        svg = picture.svg()
        if svg is None:
            raise _NoLayout
        if text_px(svg, self.width) >= MIN_TEXT_PX:
            return True
        self.tried.append((picture, svg))
        return False


def _most_steps(tries: _Tries) -> Picture | None:
    """The try with the most steps that fits, at least the first and last of each row; None
    where those do not fit. Each try's SVG says how many steps the next adds or leaves out
    (:func:`_more_steps`, :func:`_room`), until one more would not fit. A try that fits
    is measured again: its middle steps show how wide a step is (a row's two ends are wider).
    A row of more than PROBE_STEPS steps is first tried with only its two ends (a small
    layout, not a large one)."""
    total = max(1, _kept_steps(tries.first.records))  # (a flat graph: one "step")
    best, fit, over = None, 0, total + 1  # the most steps that fit; the fewest that did not
    steps = 2 if total > PROBE_STEPS else total
    while fit < steps < over:
        dot = tries.first if steps >= total else tries.elided(*tries.ends(steps))
        if tries.fits(dot):
            best, fit = dot, steps
            steps = min(steps + _more_steps(dot.svg(), tries.width, total - steps), over - 1)
        else:
            over, fewer = steps, max(1, math.ceil(-_room(tries.tried[-1][1], tries.width)))
            if best is None and steps == total and steps - fewer < 2:  # not even the first
                return None                                            # and last step would fit
            steps = max(fit + 1, 2, steps - fewer)
    return best


def _more_steps(svg: str, width: int, missing: int) -> int:
    """How many of the ``missing`` (elided) steps of a row would fit too: all of them where the
    elided run's box, gone, leaves them room."""
    if not missing or _room(svg, width, whole=True) >= missing:
        return missing
    return min(missing, max(0, math.floor(_room(svg, width))))


def _one_step(records: Graph) -> tuple:
    """(head, tail): the step of each row a picture keeps where only one fits, the one its pass
    reaches last, the last step of a forward picture and the first of a backward one.
    Everything that step receives comes from the elided steps (C_{t-1} and h_{t-1}; dC_t and
    dh_t), so it shows the recurrence in its general form, not its boundary (the initial
    state, the loss)."""
    return (1, 0) if records.backward else (0, 1)


def _widened(tried: list, width: int) -> Picture:
    """Of ``tried`` (pictures none of which fits ``width``), the one with the most steps that
    is at most twice as wide as the narrowest, each measured at the width where its smallest
    text is ``MIN_TEXT_PX``, drawn that wide, with a note naming the width: a page scrolls, a
    shrunk picture cannot be read. A picture that scrolls anyway keeps its steps (eliding one
    of three saves little), unless that would double its width (a long row keeps its ends)."""
    def needed(svg: str) -> int:
        natural, smallest = measure(svg)
        return math.ceil(natural * MIN_TEXT_PX / smallest)

    widths = [needed(svg) for _, svg in tried]
    narrowest = min(widths)
    (dot, svg), wide = max(((pair, w) for pair, w in zip(tried, widths) if w <= 2 * narrowest),
                           key=lambda found: (_drawn_steps(found[0][0].records), -found[1]))
    dot.records.notes.append(
        f"at width={width} its smallest text would be {text_px(svg, width):.1f} px"
        f"{_fewest(dot.records)} (under {MIN_TEXT_PX}): drawn {wide} px wide instead, for "
        f"{MIN_TEXT_PX} px text; draw it at a coarser detail to fit the page")
    dot.widen(wide, svg)
    return dot


def _fewest(records: Graph) -> str:
    """How few steps a picture too wide for its width draws, for its note."""
    if not any(n.kind == "ellipsis" for n in records.nodes.values()):
        return " with every step" if _kept_steps(records) > 1 else ""
    if _kept_steps(records) == 1:
        return " with one step of each row"
    return " with only the first and last steps of each row"


def _drawn_steps(records: Graph) -> int:
    """How many steps a picture draws, in all its rows."""
    return len({n.step for n in records.nodes.values()
                if n.step is not None and n.kind != "ellipsis"})


def _kept_steps(records: Graph) -> int:
    """The most steps a row of the picture draws (an elided run of steps counts as none)."""
    steps = defaultdict(set)
    for node in records.nodes.values():
        if node.step is not None and node.kind != "ellipsis":
            steps[node.step.row].add(node.step.step)
    return max((len(s) for s in steps.values()), default=0)


def _room(svg: str, width: int, whole: bool = False) -> float:
    """How many more steps would fit (negative: how many too many; ``whole``: with the room of
    its elided runs too): what 9 px text allows less the rows' width, counted in the narrowest
    step (its frame and the gap to the next: a first step is wider by its initial state's
    lines; an elided run, about half a step, added once). Where the key under the title is
    wider than the rows, the room beside them is theirs to fill."""
    natural, smallest = measure(svg)
    allowed = width * smallest / MIN_TEXT_PX  # px wide at which the smallest text is 9 px
    rows = defaultdict(list)
    steps = frames(svg, "cluster_step")
    for name, left, right, dashed in steps:
        rows[name.split("_")[0]].append((left, right, dashed))
    elided = [row for row in rows.values() if any(dashed for *_, dashed in row)]
    growing = elided or list(rows.values())  # (a row drawn whole gets no more steps)
    pitches = [_pitch(sorted(row)) for row in growing if len(row) > 1]
    if not pitches:
        return -1.0
    pitch = max(pitches)  # (rows stand in columns: the widest row that can grow sets them)
    beside = max(0.0, natural / PX_PER_POINT - PAD - drawn_right(svg))  # (the key's overhang)
    excess = (natural - allowed) / PX_PER_POINT - beside + (0 if elided else pitch / 2)
    if whole:
        excess -= min((_run(sorted(row)) for row in elided), default=0.0)
    return -excess / pitch


def _run(row: list) -> float:
    """The room a row's elided run takes ((left, right, dashed) of each frame, in order): its
    frame and the gap after it."""
    return sum(b[0] - a[0] for a, b in zip(row, row[1:]) if a[2])


def _pitch(row: list) -> float:
    """A row's narrowest step and the narrowest gap between its frames ((left, right, dashed)
    of each, in order): what one more step in its middle adds."""
    return (min(right - left for left, right, dashed in row if not dashed)
            + min(b[0] - a[1] for a, b in zip(row, row[1:])))


def build(graph: Graph, detail: str = "auto", param_mode: str = "auto",
          max_nodes: int = MAX_NODES, coarse: dict | None = None) -> Graph:
    """Detail, elision and arrangement of the captured records, within ``max_nodes``
    (``coarse``: a cache of the graph at each detail level)."""
    _check(detail, param_mode, max_nodes)
    levels = DETAILS if detail == "auto" else (detail,)
    sizes = []
    for level in levels:
        drawn = _arranged(graph, level, param_mode, coarse=coarse)
        sizes.append((level, len(drawn.nodes)))
        if len(drawn.nodes) <= max_nodes:
            break
    if level != levels[0]:
        tried = ", ".join(f"{n} nodes at {lv} detail" for lv, n in sizes[:-1])
        drawn.notes.append(f"{tried} exceed max_nodes={max_nodes}: drawn at {level} detail")
    if len(drawn.nodes) <= max_nodes:
        return drawn
    return _elided(graph, level, param_mode, max_nodes, drawn, coarse)


def _check(detail: str, param_mode: str, max_nodes: int, width: int | None = None) -> None:
    if detail != "auto" and detail not in DETAILS:
        raise ValueError(f"draw: detail must be 'auto' or one of {DETAILS}, got {detail!r}")
    if param_mode != "auto" and param_mode not in PARAM_MODES:
        raise ValueError(f"draw: param_mode must be 'auto' or one of {PARAM_MODES}, got {param_mode!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw: max_nodes must be a positive integer, got {max_nodes!r}")
    if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width < 1):
        raise ValueError(f"draw: width must be a positive number of pixels, got {width!r}")


def _check_scale(scale) -> None:
    if scale is None:
        return
    try:
        lo, hi = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise ValueError(f"draw: scale must be a (lo, hi) pair of gradient norms, got {scale!r}") from None
    if not 0 < lo < hi < float("inf"):
        raise ValueError(f"draw: scale must satisfy 0 < lo < hi < inf, got {scale!r}")


def _arranged(graph: Graph, level: str, param_mode: str, ends: tuple | None = None,
              coarse: dict | None = None) -> Graph:
    """``graph`` at ``level`` (taken from ``coarse`` when made before: a long graph takes a
    while), elided to the ``ends`` (head, tail) of each row, arranged."""
    mode = AUTO_PARAMS[level] if param_mode == "auto" else param_mode
    coarse = {} if coarse is None else coarse
    if level not in coarse:
        coarse[level] = coarsen(_copy(graph), level)
    detailed = coarse[level]
    if ends is not None:
        detailed = elide(detailed, *ends)
    return arrange(_copy(detailed), mode)


def _elided(graph: Graph, level: str, param_mode: str, max_nodes: int, full: Graph,
            coarse: dict | None) -> Graph:
    steps = len({n.step.step for n in full.nodes.values() if n.step is not None})
    if steps < 4:
        full.notes.append(f"{len(full.nodes)} nodes exceed max_nodes={max_nodes}; "
                          "nothing left to elide")
        return full
    # a parameter drawn once has a tap in every step: taps count with the steps
    loose = sum(1 for n in full.nodes.values() if n.step is None and n.kind != "tap")
    per_step = max(1.0, (len(full.nodes) - loose) / steps)
    keep = max(1, int((max_nodes - loose) / per_step) // 2)
    while True:
        drawn = _arranged(graph, level, param_mode, (keep, keep), coarse)
        if len(drawn.nodes) <= max_nodes or keep == 1:
            drawn.notes = full.notes + drawn.notes
            return drawn
        keep -= 1


def _copy(graph: Graph) -> Graph:
    """A copy whose node dict and edge records a pass may change (nodes themselves stay shared)."""
    out = copy.copy(graph)
    out.nodes = dict(graph.nodes)
    out.edges = [copy.copy(e) for e in graph.edges]
    out.notes = list(graph.notes)
    out.outputs = list(graph.outputs)
    return out
