"""The op table the engine's tests share.

A :class:`Case` pairs a minigrad callable with the PyTorch callable that computes the same thing,
plus its input shapes and the domain its inputs are drawn from. ``CASES`` lists named, fixed
cases (every primitive op and composite function at the shapes worth naming); ``FAMILIES``
holds one hypothesis strategy per op family that draws random cases: random shapes,
broadcasting, size-1 dimensions and 0-d scalars.

``check_against_torch`` compares forward values, gradients and second derivatives with PyTorch
in float64.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import operator
from typing import Callable

import numpy as np
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import minigrad as mg

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
RTOL, ATOL = 1e-10, 1e-12


@dataclasses.dataclass
class Case:
    """``mg(*tensors)`` and ``torch(*tensors)`` compute the same function (one output or a tuple).

    ``domain`` (one for all inputs, or one per input): ``"any"`` standard normal, ``"positive"``
    in [0.5, 2], ``"nonzero"`` |x| in [0.3, 2], ``"distinct"`` all values of all inputs at least
    0.1 apart and away from 0 and from the clip bounds ±0.5 (so no kink or tie is hit).
    """

    name: str
    mg: Callable
    torch: Callable
    shapes: tuple
    domain: str | tuple = "any"

    def __repr__(self) -> str:
        return f"{self.name} on {', '.join(map(str, self.shapes))}"


def make_arrays(case: Case, rng: np.random.Generator) -> list:
    """Float64 inputs for ``case`` from its domain."""
    shapes = [tuple(s) for s in case.shapes]
    domains = case.domain if isinstance(case.domain, tuple) else (case.domain,) * len(shapes)
    if "distinct" in domains:
        sizes = [math.prod(s) for s in shapes]
        n = sum(sizes)
        values = (rng.permutation(n) - n // 2 + 0.25) * 0.1
        cuts = np.cumsum(sizes)[:-1]
        return [v.reshape(s) for v, s in zip(np.split(values, cuts), shapes)]
    out = []
    for shape, domain in zip(shapes, domains):
        if domain == "any":
            out.append(rng.standard_normal(shape))
        elif domain == "positive":
            out.append(rng.uniform(0.5, 2.0, shape))
        elif domain == "nonzero":
            out.append(rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape))
        else:
            raise ValueError(domain)
    return out


def mg_inputs(arrays, device: str = "cpu") -> list:
    return [mg.tensor(a, device=device, requires_grad=True) for a in arrays]


def as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


# --- PyTorch spellings ---------------------------------------------------------------------
def torch_reduce(name: str, axis, keepdims: bool) -> Callable:
    """PyTorch's version of ``x.<name>(axis=axis, keepdims=keepdims)`` (NumPy-style axis)."""
    fn = {"sum": torch.sum, "mean": torch.mean, "amax": torch.amax, "amin": torch.amin,
          "logsumexp": torch.logsumexp}[name]
    return lambda x: fn(x, dim=tuple(range(x.ndim)) if axis is None else axis, keepdim=keepdims)


def torch_index(index):
    """An index for PyTorch: NumPy arrays become tensors."""
    if isinstance(index, tuple):
        return tuple(torch_index(i) for i in index)
    if isinstance(index, np.ndarray):
        return torch.from_numpy(index)
    return index


def _same(fn) -> tuple:
    """The same callable works for both libraries."""
    return fn, fn


# --- the ops, by family, with the domain their inputs come from -----------------------------
UNARY = {
    "-x": (lambda x: -x, "any"),
    "exp": (lambda x: x.exp(), "any"),
    "log": (lambda x: x.log(), "positive"),
    "sqrt": (lambda x: x.sqrt(), "positive"),
    "abs": (lambda x: x.abs(), "distinct"),
    "tanh": (lambda x: x.tanh(), "any"),
    "sigmoid": (lambda x: x.sigmoid(), "any"),
    "relu": (lambda x: x.relu(), "distinct"),
    "sin": (lambda x: x.sin(), "any"),
    "cos": (lambda x: x.cos(), "any"),
}
BINARY = {
    "+": (operator.add, "any"),
    "-": (operator.sub, "any"),
    "*": (operator.mul, "any"),
    "/": (operator.truediv, ("any", "nonzero")),
    "**": (operator.pow, ("positive", "any")),
    "maximum": ((lambda a, b: a.maximum(b), torch.maximum), "distinct"),
    "minimum": ((lambda a, b: a.minimum(b), torch.minimum), "distinct"),
}
WITH_SCALAR = {
    "x + 2.5": (lambda x: x + 2.5, "any"),
    "2.5 + x": (lambda x: 2.5 + x, "any"),
    "x - 1.5": (lambda x: x - 1.5, "any"),
    "1.5 - x": (lambda x: 1.5 - x, "any"),
    "x * -2.0": (lambda x: x * -2.0, "any"),
    "-2.0 * x": (lambda x: -2.0 * x, "any"),
    "x / 0.7": (lambda x: x / 0.7, "any"),
    "0.7 / x": (lambda x: 0.7 / x, "nonzero"),
    "x ** 2": (lambda x: x ** 2, "any"),
    "x ** 3.0": (lambda x: x ** 3.0, "any"),
    "x ** 0.5": (lambda x: x ** 0.5, "positive"),
    "x ** -1.5": (lambda x: x ** -1.5, "positive"),
    "2.0 ** x": (lambda x: 2.0 ** x, "any"),
    "x.clip(-0.5, 0.5)": (lambda x: x.clip(-0.5, 0.5), "distinct"),
    "x.clip(min=-0.5)": (lambda x: x.clip(min=-0.5), "distinct"),
    "x.clip(max=0.5)": (lambda x: x.clip(max=0.5), "distinct"),
}
BROADCAST_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 1), (1, 3)),
                    ((4, 1, 3), (2, 1)), ((), (2, 3)), ((2, 3), ()), ((1,), (1, 1))]
ADDMM_C_SHAPES = [(2, 4), (4,), (2, 1), (1, 4), ()]  # c of c + a @ b, broadcast to (2, 4)
MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((3,), (5, 3, 4)),
                 ((1, 2, 3), (4, 3, 2)), ((2, 1, 2, 3), (3, 3, 1))]
REDUCE_AXES = [None, 0, -1, (0, 2), (1,), (-1, 0)]
INDEXES = [
    1, -1, slice(1, None), (slice(None), 0), (Ellipsis, 1), (None, 0, slice(0, 2)),
    (slice(None, None, 2), None, Ellipsis), (1, slice(None), 2), np.array([0, 2, 0, 0]),
    (slice(None), np.array([[1, 1], [0, 2]])), (np.array([1, 0, 1]), slice(None), np.array([0, 2, 2])),
    np.array([True, False, True]), (slice(None), np.array([False, True, True, False])),
    np.array([[True, False, False, True], [False, False, True, False], [True, True, False, False]]),
]


def fixed_cases() -> list:
    """Every op at the shapes worth naming (broadcasting, 0-d, batches, repeated indices...)."""
    cases = []
    for name, (fn, domain) in UNARY.items():
        for shape in [(), (3,), (2, 3)]:
            cases.append(Case(name, *_same(fn), (shape,), domain))
    for name, (fn, domain) in BINARY.items():
        fns = fn if isinstance(fn, tuple) else _same(fn)
        for shapes in BROADCAST_SHAPES:
            cases.append(Case(name, *fns, shapes, domain))
    for name, (fn, domain) in WITH_SCALAR.items():
        for shape in [(), (2, 3)]:
            cases.append(Case(name, *_same(fn), (shape,), domain))
    for shapes in MATMUL_SHAPES:
        cases.append(Case("@", *_same(operator.matmul), shapes))
    for c in ADDMM_C_SHAPES:
        cases.append(Case("addmm", mg.addmm, torch.addmm, (c, (2, 3), (3, 4))))
    for name in ("sum", "mean", "amax", "amin"):
        domain = "distinct" if name in ("amax", "amin") else "any"
        for axis in REDUCE_AXES:
            for keepdims in (False, True):
                cases.append(Case(f"{name}(axis={axis}, keepdims={keepdims})",
                                  lambda x, n=name, a=axis, k=keepdims: getattr(x, n)(axis=a, keepdims=k),
                                  torch_reduce(name, axis, keepdims), ((2, 3, 4),), domain))
        cases.append(Case(f"{name}()", lambda x, n=name: getattr(x, n)(),
                          torch_reduce(name, None, False), ((),), domain))
    for shape, new in [((2, 3), (3, 2)), ((2, 3), (6,)), ((2, 3), (1, 6, 1)), ((2, 3), (-1, 2)),
                       ((1,), ()), ((), (1, 1))]:
        cases.append(Case(f"reshape{new}", *_same(lambda x, s=new: x.reshape(s)), (shape,)))
    for axes in [(1, 0, 2), (2, 0, 1), (-1, 0, 1)]:
        cases.append(Case(f"transpose{axes}", lambda x, a=axes: x.transpose(*a),
                          lambda x, a=axes: x.permute(*a), ((2, 3, 4),)))
    for shape, axes in [((2, 3), (0, 1)), ((2, 3), (-1, -2)), ((2, 3, 4), (1, 2)), ((2, 3, 4), (0, -1))]:
        cases.append(Case(f"transpose{axes} of {shape}", *_same(lambda x, a=axes: x.transpose(*a)),
                          (shape,)))  # two axes: swapped, as torch.transpose does
    for shape in [(2, 3), (2, 3, 4), (3,)]:
        cases.append(Case(".T", lambda x: x.T, lambda x: x.permute(*reversed(range(x.ndim))), (shape,)))
    for shape in [(2, 3), (2, 3, 4), (2, 1, 3, 4)]:
        cases.append(Case(".mT", *_same(lambda x: x.mT), (shape,)))
    for shape, target in [((3,), (2, 3)), ((2, 1), (2, 4)), ((1, 3, 1), (2, 2, 3, 5)), ((), (2, 2)),
                          ((3,), (2, -1)), ((2, 1), (-1, 4))]:  # -1: the axis keeps its size
        cases.append(Case(f"broadcast_to{target}", *_same(lambda x, t=target: x.broadcast_to(t)), (shape,)))
    for index in INDEXES:
        cases.append(Case(f"[{_show_index(index)}]", lambda x, i=index: x[i],
                          lambda x, i=index: x[torch_index(i)], ((3, 4, 3),)))
    for axis, shapes in [(0, ((2, 3), (1, 3), (4, 3))), (1, ((2, 3), (2, 1))), (-1, ((2, 2, 1), (2, 2, 3)))]:
        cases.append(Case(f"concat(axis={axis})", lambda *xs, a=axis: mg.concat(xs, axis=a),
                          lambda *xs, a=axis: torch.cat(xs, dim=a), shapes))
    for axis in (0, 1, -1):
        cases.append(Case(f"stack(axis={axis})", lambda *xs, a=axis: mg.stack(xs, axis=a),
                          lambda *xs, a=axis: torch.stack(xs, dim=a), ((2, 3),) * 3))
    for sizes, axis in [(2, 0), (3, 0), ([1, 4], 0), ([2, 0, 3], 0), (1, -1), (5, 0)]:
        cases.append(Case(f"split({sizes}, axis={axis})", lambda x, s=sizes, a=axis: x.split(s, axis=a),
                          lambda x, s=sizes, a=axis: torch.split(x, s, dim=a), ((5, 3),)))
    for chunks, axis in [(2, 0), (3, 0), (4, 1), (1, 1)]:
        cases.append(Case(f"chunk({chunks}, axis={axis})", lambda x, c=chunks, a=axis: x.chunk(c, axis=a),
                          lambda x, c=chunks, a=axis: torch.chunk(x, c, dim=a), ((5, 6),)))
    for axis in (0, 1, -1):
        cases.append(Case(f"unbind(axis={axis})", lambda x, a=axis: x.unbind(axis=a),
                          lambda x, a=axis: torch.unbind(x, dim=a), ((2, 3, 4),)))
    cond = np.array([[True, False, True], [False, False, True]])
    for shapes in [((2, 3), (2, 3)), ((2, 1), (3,)), ((), (2, 3))]:
        cases.append(Case("where", lambda a, b: mg.where(cond, a, b),
                          lambda a, b: torch.where(torch.from_numpy(cond), a, b), shapes))
    for axis in (0, -1):
        shape = (3, 4)
        cases.append(Case(f"softmax(axis={axis})", lambda x, a=axis: mg.softmax(x, a),
                          lambda x, a=axis: torch.softmax(x, dim=a), (shape,)))
        cases.append(Case(f"log_softmax(axis={axis})", lambda x, a=axis: mg.log_softmax(x, a),
                          lambda x, a=axis: torch.log_softmax(x, dim=a), (shape,)))
    for axis, keepdims in [(None, False), (None, True), (1, False), (1, True), ((0, 2), False)]:
        cases.append(Case(f"logsumexp(axis={axis}, keepdims={keepdims})",
                          lambda x, a=axis, k=keepdims: mg.logsumexp(x, axis=a, keepdims=k),
                          torch_reduce("logsumexp", axis, keepdims), ((2, 3, 2),)))
    return cases


def _show_index(index) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    shown = []
    for p in parts:
        if isinstance(p, slice):
            shown.append(":".join("" if v is None else str(v) for v in (p.start, p.stop, p.step)).rstrip(":")
                         or ":")
        elif p is Ellipsis:
            shown.append("...")
        elif isinstance(p, np.ndarray):
            shown.append(repr(p.tolist()))
        else:
            shown.append(repr(p))
    return ", ".join(shown)


CASES = fixed_cases()


# --- random cases (hypothesis) ------------------------------------------------------------------
def shapes(min_dims: int = 0, max_dims: int = 3):
    return array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=3)


def axes_for(ndim: int):
    """None, one axis (maybe negative), or a non-empty tuple of distinct axes."""
    if ndim == 0:
        return st.none()
    one = st.integers(-ndim, ndim - 1)
    many = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return st.none() | one | many


@st.composite
def unary_cases(draw):
    name = draw(st.sampled_from(sorted(UNARY)))
    fn, domain = UNARY[name]
    return Case(name, *_same(fn), (draw(shapes()),), domain)


@st.composite
def binary_cases(draw):
    name = draw(st.sampled_from(sorted(BINARY)))
    fn, domain = BINARY[name]
    fns = fn if isinstance(fn, tuple) else _same(fn)
    pair = draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    return Case(name, *fns, pair.input_shapes, domain)


@st.composite
def scalar_cases(draw):
    name = draw(st.sampled_from(sorted(WITH_SCALAR)))
    fn, domain = WITH_SCALAR[name]
    return Case(name, *_same(fn), (draw(shapes()),), domain)


@st.composite
def matmul_cases(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3))
    a = (k,) if draw(st.booleans()) else batch.input_shapes[0] + (n, k)
    b = (k,) if draw(st.booleans()) else batch.input_shapes[1] + (k, m)
    return Case("@", *_same(operator.matmul), (a, b))


@st.composite
def addmm_cases(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    c = draw(st.sampled_from([(n, m), (m,), (n, 1), (1, m), ()]))
    return Case("addmm", mg.addmm, torch.addmm, (c, (n, k), (k, m)))


@st.composite
def reduce_cases(draw):
    name = draw(st.sampled_from(["sum", "mean", "amax", "amin"]))
    shape = draw(shapes())
    axis = draw(axes_for(len(shape)))
    keepdims = draw(st.booleans())
    return Case(f"{name}(axis={axis}, keepdims={keepdims})",
                lambda x: getattr(x, name)(axis=axis, keepdims=keepdims),
                torch_reduce(name, axis, keepdims), (shape,),
                "distinct" if name in ("amax", "amin") else "any")


@st.composite
def reshape_cases(draw):
    shape = draw(shapes())
    target = list(draw(st.permutations(list(shape))))
    for _ in range(draw(st.integers(0, 2))):
        target.insert(draw(st.integers(0, len(target))), 1)
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    target = tuple(target)
    return Case(f"reshape{target}", *_same(lambda x: x.reshape(target)), (shape,))


@st.composite
def transpose_cases(draw):
    shape = draw(shapes(max_dims=4))
    if draw(st.booleans()):
        return Case(".T", lambda x: x.T, lambda x: x.permute(tuple(reversed(range(x.ndim)))), (shape,))
    if len(shape) >= 2 and draw(st.booleans()):
        return Case(".mT", *_same(lambda x: x.mT), (shape,))
    axes = draw(st.permutations(range(len(shape))))
    axes = tuple(a - len(shape) if draw(st.booleans()) else a for a in axes)
    if len(axes) == 2 and draw(st.booleans()):  # two axes: swapped, as torch.transpose does
        return Case(f"transpose{axes}", *_same(lambda x: x.transpose(*axes)), (shape,))
    return Case(f"permute{axes}", lambda x: x.permute(*axes), lambda x: x.permute(axes), (shape,))


@st.composite
def broadcast_to_cases(draw):
    shape = draw(shapes())
    target = tuple(draw(st.integers(1, 3)) if n == 1 else n for n in shape)
    target = tuple(draw(st.lists(st.integers(1, 3), max_size=2))) + target
    return Case(f"broadcast_to{target}", *_same(lambda x: x.broadcast_to(target)), (shape,))


@st.composite
def index_cases(draw, negative_steps: bool = True):
    """Basic indexes (ints, slices, None, Ellipsis), integer arrays with repeats, boolean masks."""
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    kind = draw(st.sampled_from(["basic", "integer array", "boolean mask"]))
    if kind == "basic":
        steps = [None, 1, 2, -1, -2] if negative_steps else [None, 1, 2]
        parts = []
        k = draw(st.integers(0, len(shape)))
        # an Ellipsis first makes the parts index the last k axes; last (or none), the first k
        ellipsis = draw(st.sampled_from(["none", "first", "last"]))
        for n in (shape[len(shape) - k:] if ellipsis == "first" else shape[:k]):
            choice = draw(st.sampled_from(["int", "slice", "new axis", "all"]))
            if choice == "int":
                parts.append(draw(st.integers(-n, n - 1)))
            elif choice == "slice":
                bound = st.none() | st.integers(-n, n)
                parts.append(slice(draw(bound), draw(bound), draw(st.sampled_from(steps))))
            elif choice == "new axis":
                parts.extend([None, slice(None)])
            else:
                parts.append(slice(None))
        index = ((Ellipsis,) if ellipsis == "first" else ()) + tuple(parts) + (
            (Ellipsis,) if ellipsis == "last" else ())
    elif kind == "integer array":
        axis = draw(st.integers(0, len(shape) - 1))
        n = shape[axis]
        picks = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5))
        index = (slice(None),) * axis + (np.array(picks),)
    else:
        lead = shape[:draw(st.integers(1, len(shape)))]
        bits = draw(st.lists(st.booleans(), min_size=math.prod(lead), max_size=math.prod(lead)))
        index = np.array(bits, dtype=bool).reshape(lead)
    return Case(f"[{_show_index(index)}]", lambda x: x[index],
                lambda x: x[torch_index(index)], (shape,))


@st.composite
def join_cases(draw):
    base = draw(shapes(min_dims=1))
    count = draw(st.integers(1, 3))
    if draw(st.booleans()):
        axis = draw(st.integers(-len(base) - 1, len(base)))
        return Case(f"stack(axis={axis})", lambda *xs: mg.stack(xs, axis=axis),
                    lambda *xs: torch.stack(xs, dim=axis), (base,) * count)
    axis = draw(st.integers(-len(base), len(base) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=count, max_size=count))
    pieces = []
    for size in sizes:
        shape = list(base)
        shape[axis] = size
        pieces.append(tuple(shape))
    return Case(f"concat(axis={axis})", lambda *xs: mg.concat(xs, axis=axis),
                lambda *xs: torch.cat(xs, dim=axis), tuple(pieces))


@st.composite
def split_cases(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    length = shape[axis]
    kind = draw(st.sampled_from(["split(int)", "split(list)", "chunk", "unbind"]))
    if kind == "split(int)":
        size = draw(st.integers(1, length + 1))
        return Case(f"split({size}, axis={axis})", lambda x: x.split(size, axis=axis),
                    lambda x: torch.split(x, size, dim=axis), (shape,))
    if kind == "split(list)":
        cuts = sorted(draw(st.lists(st.integers(0, length), max_size=3)))
        sizes = [b - a for a, b in zip([0] + cuts, cuts + [length])]
        return Case(f"split({sizes}, axis={axis})", lambda x: x.split(sizes, axis=axis),
                    lambda x: torch.split(x, sizes, dim=axis), (shape,))
    if kind == "chunk":
        chunks = draw(st.integers(1, length + 1))
        return Case(f"chunk({chunks}, axis={axis})", lambda x: x.chunk(chunks, axis=axis),
                    lambda x: torch.chunk(x, chunks, dim=axis), (shape,))
    return Case(f"unbind(axis={axis})", lambda x: x.unbind(axis=axis),
                lambda x: torch.unbind(x, dim=axis), (shape,))


@st.composite
def where_cases(draw):
    shapes3 = draw(mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3))
    cond_shape, a, b = shapes3.input_shapes
    bits = draw(st.lists(st.booleans(), min_size=math.prod(cond_shape), max_size=math.prod(cond_shape)))
    cond = np.array(bits, dtype=bool).reshape(cond_shape)
    return Case(f"where(cond {cond_shape})", lambda x, y: mg.where(cond, x, y),
                lambda x, y: torch.where(torch.from_numpy(cond), x, y), (a, b))


@st.composite
def clip_cases(draw):
    low, high = draw(st.sampled_from([(-0.5, 0.5), (None, 0.5), (-0.5, None)]))
    return Case(f"clip({low}, {high})", *_same(lambda x: x.clip(low, high)), (draw(shapes()),),
                "distinct")


@st.composite
def softmax_cases(draw):
    shape = draw(shapes(min_dims=1))
    name = draw(st.sampled_from(["softmax", "log_softmax", "logsumexp"]))
    if name == "logsumexp":
        axis = draw(axes_for(len(shape)))
        keepdims = draw(st.booleans())
        return Case(f"logsumexp(axis={axis}, keepdims={keepdims})",
                    lambda x: mg.logsumexp(x, axis=axis, keepdims=keepdims),
                    torch_reduce("logsumexp", axis, keepdims), (shape,))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    torch_fn = torch.softmax if name == "softmax" else torch.log_softmax
    return Case(f"{name}(axis={axis})", lambda x: getattr(mg, name)(x, axis),
                lambda x: torch_fn(x, dim=axis), (shape,))


FAMILIES = {
    "unary": unary_cases(),
    "binary": binary_cases(),
    "scalar": scalar_cases(),
    "matmul": matmul_cases(),
    "addmm": addmm_cases(),
    "reduce": reduce_cases(),
    "reshape": reshape_cases(),
    "transpose": transpose_cases(),
    "broadcast_to": broadcast_to_cases(),
    "getitem": index_cases(),
    "concat/stack": join_cases(),
    "split/chunk/unbind": split_cases(),
    "where": where_cases(),
    "clip": clip_cases(),
    "softmax": softmax_cases(),
}
TORCH_FAMILIES = {**FAMILIES, "getitem": index_cases(negative_steps=False)}


# --- comparison with PyTorch -------------------------------------------------------------------
def assert_close(actual, expected, what: str) -> None:
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=what)


def _total(terms):
    return functools.reduce(operator.add, terms)


def _numpy_or_zeros(g, like: np.ndarray):
    if g is None:
        return np.zeros_like(like)
    return g.numpy() if isinstance(g, mg.Tensor) else g.detach().numpy(force=True)


def check_against_torch(case: Case, device: str = "cpu", seed: int = 0, second_order: bool = True):
    """Forward values, gradients of sum(out * R) and of sum(grad * V), compared with PyTorch."""
    rng = np.random.default_rng(seed)
    arrays = make_arrays(case, rng)
    xs = mg_inputs(arrays, device)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs, touts = as_tuple(case.mg(*xs)), as_tuple(case.torch(*ts))
    assert len(outs) == len(touts), f"{case}: {len(outs)} outputs, PyTorch gives {len(touts)}"
    for k, (o, t) in enumerate(zip(outs, touts)):
        assert o.shape == tuple(t.shape), f"{case}: output {k} has shape {o.shape}, PyTorch {tuple(t.shape)}"
        assert o.dtype == mg.float64 and o.device == device
        assert_close(o.numpy(), t.detach().numpy(), f"{case}: forward, output {k}")

    weights = [rng.standard_normal(tuple(t.shape)) for t in touts]
    loss = _total((o * mg.tensor(w, device=device)).sum() for o, w in zip(outs, weights))
    tloss = _total((t * torch.from_numpy(w)).sum() for t, w in zip(touts, weights))
    grads = mg.grad(loss, xs, create_graph=second_order, allow_unused=True)
    tgrads = torch.autograd.grad(tloss, ts, create_graph=second_order, allow_unused=True)
    for i, (g, tg, a) in enumerate(zip(grads, tgrads, arrays)):
        if g is not None:
            assert g.shape == a.shape and g.dtype == mg.float64, f"{case}: gradient {i} is {g.shape} {g.dtype}"
        assert_close(_numpy_or_zeros(g, a), _numpy_or_zeros(tg, a), f"{case}: gradient of input {i}")
    if not second_order:
        return

    directions = [rng.standard_normal(a.shape) for a in arrays]
    terms = [(g * mg.tensor(v, device=device)).sum() for g, v in zip(grads, directions)
             if g is not None and g.requires_grad]
    tterms = [(g * torch.from_numpy(v)).sum() for g, v in zip(tgrads, directions)
              if g is not None and g.requires_grad]
    second = (mg.grad(_total(terms), xs, allow_unused=True) if terms else [None] * len(xs))
    tsecond = (torch.autograd.grad(_total(tterms), ts, allow_unused=True) if tterms else [None] * len(ts))
    for i, (g, tg, a) in enumerate(zip(second, tsecond, arrays)):
        assert_close(_numpy_or_zeros(g, a), _numpy_or_zeros(tg, a), f"{case}: second derivative, input {i}")
