"""What PyTorch's numerics cost the eager engine: the array formulas minigrad chose, timed
against the cheaper ones they replaced, interleaved in one process (docs/autograd.md quotes the
numbers, under "Masks select", "NaN inputs" and "Sigmoid").

    python -m benchmarks.numerics_forms             # (16, 64) and (64, 256) float32 arrays
    python -m benchmarks.numerics_forms --repeats 50

Each row is the median time of one call, in µs, of each form on the same array, the forms
called in turn (A, B, A, B...) so that a busy machine slows them alike.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy

SHAPES = [(16, 64), (64, 256)]


def _sigmoid_tanh(x):
    half = numpy.asarray(0.5, dtype=x.dtype)
    return numpy.tanh(x * half) * half + half


def _sigmoid_reciprocal(x):  # minigrad's (ops/elementwise.py, Sigmoid)
    with numpy.errstate(over="ignore"):
        return 1 / (1 + numpy.exp(-x))


def _sigmoid_two_sided(x):
    e = numpy.exp(numpy.copysign(x, -1))
    return numpy.where(x >= 0, 1, e) / (1 + e)


def _sigmoid_logaddexp(x):
    return numpy.exp(-numpy.logaddexp(0, -x))


def _relu_product(g, x, y):
    return g * (numpy.maximum(x, 0) != 0).astype(x.dtype)


def _relu_select(g, x, y):  # minigrad's
    return numpy.where(numpy.maximum(0, x) <= 0, 0.0, g)


def _maximum_product(g, a, b):
    w = numpy.where(a == b, 0.5, a > b).astype(g.dtype)
    return g * w, g * (1.0 - w)


def _maximum_select(g, a, b):  # minigrad's
    shared = numpy.where(a == b, g * 0.5, g)
    return numpy.where(a < b, 0.0, shared), numpy.where(b < a, 0.0, shared)


def _clip_product(g, x, y):
    inside = numpy.ones(x.shape, dtype=bool)
    inside &= x >= -1
    inside &= x <= 1
    return g * inside.astype(x.dtype)


def _clip_select(g, x, y):  # minigrad's
    return numpy.where((x >= -1) & (x <= 1), g, 0.0)


def _abs_sign(g, x, y):
    return g * numpy.sign(x)


def _abs_comparisons(g, x, y):  # minigrad's: 0 at NaN, as PyTorch
    return g * ((x > 0).astype(x.dtype) - (x < 0).astype(x.dtype))


COMPARISONS = {  # what: (the form replaced, minigrad's form, alternatives...)
    "sigmoid forward": (_sigmoid_tanh, _sigmoid_reciprocal, _sigmoid_two_sided, _sigmoid_logaddexp),
    "relu backward": (_relu_product, _relu_select),
    "maximum backward": (_maximum_product, _maximum_select),
    "clip backward": (_clip_product, _clip_select),
    "abs backward": (_abs_sign, _abs_comparisons),
}


def measure(repeats: int = 300, shapes=SHAPES) -> list:
    """Rows (what, shape, {form name: median µs})."""
    rng = numpy.random.default_rng(0)
    rows = []
    for shape in shapes:
        g, x, y = (3 * rng.standard_normal(shape).astype(numpy.float32) for _ in range(3))
        for what, forms in COMPARISONS.items():
            args = (x,) if what.startswith("sigmoid") else (g, x, y)
            times = {f.__name__.lstrip("_"): [] for f in forms}
            for _ in range(repeats):
                for f in forms:
                    start = time.perf_counter()
                    f(*args)
                    f(*args)
                    times[f.__name__.lstrip("_")].append((time.perf_counter() - start) / 2)
            rows.append((what, shape, {k: statistics.median(v) * 1e6 for k, v in times.items()}))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args(argv)
    for what, shape, medians in measure(args.repeats):
        shown = ", ".join(f"{name} {us:.1f}" for name, us in medians.items())
        print(f"{what:17s} {str(shape):10s} µs: {shown}")


if __name__ == "__main__":
    main()
