"""The strong Wolfe line search of L-BFGS (``line_search_fn="strong_wolfe"``, as PyTorch's).

Along a descent direction d from θ, with φ(t) = loss(θ + t d) and φ'(t) = ∇loss(θ + t d)·d,
find a step t that satisfies the strong Wolfe conditions

    φ(t) <= φ(0) + c1 t φ'(0)       (the loss went down enough)
    |φ'(t)| <= -c2 φ'(0)            (the slope flattened enough)

in two phases (Nocedal & Wright, Numerical Optimization, algorithms 3.5 and 3.6): first grow t
until an interval [lo, hi] must hold such a step, then shrink the interval ("zoom") by the
minimum of the cubic through both ends' values and slopes, until a step satisfies both. Each
try costs one evaluation of the loss and its gradient: the first, then at most ``max_tries``
more (PyTorch's count).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

C1, C2 = 1e-4, 0.9


@dataclass(eq=False)
class Point:
    """A try along the line: the step t, φ(t), the gradient there and the slope φ'(t)."""
    t: float
    loss: float
    grad: object
    slope: float


def strong_wolfe(evaluate, d, start: Point, t: float, tolerance_change: float = 1e-9,
                 max_tries: int = 25) -> tuple[Point, int]:
    """The step found, as a Point, and how many evaluations it took. ``evaluate(t)`` gives
    (φ(t), the gradient at θ + t d) and leaves θ as it was."""
    def at(t: float) -> Point:
        loss, grad = evaluate(t)
        return Point(t, loss, grad, float(grad @ d))

    bracket, tries = _grow(at, start, t, max_tries)
    if len(bracket) == 1:  # the step already satisfies both conditions
        return bracket[0], tries + 1
    return _zoom(at, start, bracket, tries, max_tries, float(abs(d).max()), tolerance_change)


def _grow(at, start: Point, t: float, max_tries: int) -> tuple[list, int]:
    """Phase 1: try longer steps until [the previous try, this one] must hold a good step, or
    this one is good (a bracket of one Point). Also returns the tries past the first."""
    prev, new, tries = start, at(t), 0
    while tries < max_tries:
        going_down = _decreased_enough(new, start) and not (tries > 1 and new.loss >= prev.loss)
        if going_down and _flat_enough(new, start):
            return [new], tries
        if not going_down or new.slope >= 0:
            return [prev, new], tries
        t = cubic_minimum(prev, new, bounds=(new.t + 0.01 * (new.t - prev.t), new.t * 10))
        prev, new = new, at(t)
        tries += 1
    return [start, new], tries  # out of tries: the interval from the start to the last try


def _zoom(at, start: Point, bracket: list, tries: int, max_tries: int, d_size: float,
          tolerance_change: float) -> tuple[Point, int]:
    """Phase 2: shrink the interval ``bracket`` by the cubic's minimum until a try satisfies
    both conditions, or θ would move less than ``tolerance_change`` across it; the best
    Point, and the evaluations."""
    stalled = False
    while tries < max_tries and abs(bracket[1].t - bracket[0].t) * d_size >= tolerance_change:
        t, stalled = _not_at_an_end(cubic_minimum(*bracket), bracket, stalled)
        new = at(t)
        tries += 1
        low = _lower(bracket)
        if not _decreased_enough(new, start) or new.loss >= bracket[low].loss:
            bracket[1 - low] = new
            continue
        if _flat_enough(new, start):
            return new, tries + 1
        if new.slope * (bracket[1 - low].t - bracket[low].t) >= 0:
            bracket[1 - low] = bracket[low]
        bracket[low] = new
    return bracket[_lower(bracket)], tries + 1


def _lower(bracket: list) -> int:
    """Which end of the interval has the lower loss (the first on a tie)."""
    return 0 if bracket[0].loss <= bracket[-1].loss else 1


def _decreased_enough(new: Point, start: Point) -> bool:
    return new.loss <= start.loss + C1 * new.t * start.slope


def _flat_enough(new: Point, start: Point) -> bool:
    return abs(new.slope) <= -C2 * start.slope


def _not_at_an_end(t: float, bracket: list, stalled: bool) -> tuple[float, bool]:
    """``t`` moved to at least a tenth of the interval from its ends, where the last zoom
    already came that close (or t fell outside): a cubic's minimum can creep towards one end
    and make no progress."""
    lo, hi = min(p.t for p in bracket), max(p.t for p in bracket)
    margin = 0.1 * (hi - lo)
    if min(hi - t, t - lo) >= margin:
        return t, False
    if not (stalled or t >= hi or t <= lo):
        return t, True
    return (hi - margin if abs(t - hi) < abs(t - lo) else lo + margin), False


def cubic_minimum(a: Point, b: Point, bounds: tuple | None = None) -> float:
    """The minimiser of the cubic through (a.t, a.loss) and (b.t, b.loss) with slopes a.slope
    and b.slope (Nocedal & Wright, eq. 3.59), kept within ``bounds`` (by default between a.t
    and b.t); the middle of the bounds where the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else sorted((a.t, b.t))
    d1 = a.slope + b.slope - 3 * (a.loss - b.loss) / (a.t - b.t)
    square = d1 * d1 - a.slope * b.slope
    if square < 0:
        return (lo + hi) / 2
    d2 = math.sqrt(square)
    if a.t <= b.t:
        t = b.t - (b.t - a.t) * ((b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2))
    else:
        t = a.t - (a.t - b.t) * ((a.slope + d2 - d1) / (a.slope - b.slope + 2 * d2))
    return min(max(t, lo), hi)
