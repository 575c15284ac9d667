"""The differential fuzzer: random expression graphs, evaluated by minigrad and by PyTorch in
float64; every node's value and every leaf's gradient must agree (NaN equal to NaN, inf to inf).

A program is a list of steps; each applies one op to earlier nodes (the leaves first), so nodes
are reused (fan-out) and gradients meet (fan-in). Every op the engine has is drawn: elementwise
ops with broadcasting and with Python numbers, reductions (with and without ``keepdims``),
softmax and friends, the ops that move elements (reshape, transpose, broadcast_to, indexing,
concat, stack, split, chunk, unbind, squeeze), matmul, addmm and dtype casts. Leaves have 0 to 3
axes, of length 0 to 3, and may hold NaN, inf, -inf, 0 and -0.

Gradients are taken from every node at once (each seeded with its own random weights), so a node
that is NaN poisons only the gradients that really flow through it, in both libraries alike.

The default run draws a bounded number of programs (a few seconds). For a long run:

    pytest tests/minigrad/test_random_graphs.py --hypothesis-profile=long

(the ``long`` profile is registered in ``tests/conftest.py``: 20,000 programs per test, no
deadline; ``MINIGRAD_FUZZ_EXAMPLES=N`` sets the count of either profile). Where minigrad differs
from PyTorch on purpose (docs/autograd.md), the program is excluded explicitly, with the reason,
in ``DELIBERATE`` (and ``DELIBERATE_SECOND_ORDER``); nothing else is filtered out (the second-order test takes finite
values below 1e6 only).
"""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minigrad as mg

_DEFAULT_EXAMPLES = 120
EXAMPLES = int(os.environ.get("MINIGRAD_FUZZ_EXAMPLES", "0")) or None


def fuzz_settings(default: int):
    """``default`` programs in the ordinary run; a loaded profile that asks for more than
    hypothesis' standard 100 (``--hypothesis-profile=long``) sets the count, and so does
    ``MINIGRAD_FUZZ_EXAMPLES``."""
    wanted = settings.default.max_examples
    count = EXAMPLES or (wanted if wanted > 100 else default)
    return settings(max_examples=count, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0])
CONSTANTS = [2.0, 3.0, 0.5, -1.0, -0.5, 0.0, 1.5, -2.0]


# --- the ops: name -> (applies to these shapes?, minigrad, PyTorch) --------------------------
# Each function takes the library module ``lib`` (minigrad or torch), the operand nodes and the
# drawn parameters ``p``; it returns one node or a tuple of nodes.
def _swap(x, lib):
    return x.mT


def _permute(x, lib, perm):
    return x.permute(*perm) if lib is mg else x.permute(perm)


def _reduce(name):
    def run(lib, x, p):
        axis, keepdims = p["axis"], p["keepdims"]
        torch_name = {"max": "amax", "min": "amin"}.get(name, name)  # (x.max(dim) gives indices too)
        if lib is mg:
            return getattr(x, torch_name)(axis=axis, keepdims=keepdims)
        dim = tuple(range(x.ndim)) if axis is None else axis
        if name in ("sum", "mean") and axis is None and not keepdims:
            return getattr(x, name)()
        return getattr(x, torch_name)(dim=dim, keepdim=keepdims)
    return run


def _index(lib, x, p):
    index = p["index"]
    if lib is torch and isinstance(index, np.ndarray):
        index = torch.from_numpy(index)
    return x[index]


def _split(kind):
    def run(lib, x, p):
        axis, n = p["axis"], p["n"]
        if lib is mg:
            return tuple(getattr(x, kind)(n, axis=axis))
        return tuple(getattr(torch, kind)(x, n, dim=axis))
    return run


UNARY = {
    "neg": lambda lib, x, p: -x,
    "exp": lambda lib, x, p: x.exp(),
    "log": lambda lib, x, p: x.log(),
    "sqrt": lambda lib, x, p: x.sqrt(),
    "abs": lambda lib, x, p: x.abs(),
    "tanh": lambda lib, x, p: x.tanh(),
    "sin": lambda lib, x, p: x.sin(),
    "cos": lambda lib, x, p: x.cos(),
    "sigmoid": lambda lib, x, p: x.sigmoid(),
    "relu": lambda lib, x, p: x.relu(),
    "clip": lambda lib, x, p: x.clip(p["low"], p["high"]) if lib is mg else x.clamp(p["low"], p["high"]),
    "x + c": lambda lib, x, p: x + p["c"],
    "c - x": lambda lib, x, p: p["c"] - x,
    "x * c": lambda lib, x, p: x * p["c"],
    "c / x": lambda lib, x, p: p["c"] / x,
    "x ** c": lambda lib, x, p: x ** p["c"],
    "c ** x": lambda lib, x, p: abs(p["c"]) ** x,
    "to float32 and back": lambda lib, x, p: (x.to(dtype=mg.float32).to(dtype=mg.float64) if lib is mg
                                              else x.float().double()),
}
BINARY = {
    "+": lambda lib, a, b, p: a + b,
    "-": lambda lib, a, b, p: a - b,
    "*": lambda lib, a, b, p: a * b,
    "/": lambda lib, a, b, p: a / b,
    "**": lambda lib, a, b, p: a ** b,
    "maximum": lambda lib, a, b, p: a.maximum(b),
    "minimum": lambda lib, a, b, p: a.minimum(b),
    "where(a > b, a, b)": lambda lib, a, b, p: lib.where(a > b, a, b),
    "where(a < b, a * 2, 0)": lambda lib, a, b, p: (mg.where(a < b, a * 2.0, 0.0) if lib is mg
                                                    else torch.where(a < b, a * 2.0, 0.0)),
}
AXIS = {  # ops over one axis (ndim >= 1)
    "sum": _reduce("sum"),
    "mean": _reduce("mean"),
    "max": _reduce("max"),
    "min": _reduce("min"),
    "logsumexp": lambda lib, x, p: (mg.logsumexp(x, axis=p["axis"], keepdims=p["keepdims"]) if lib is mg
                                    else torch.logsumexp(x, dim=p["axis"], keepdim=p["keepdims"])),
    "softmax": lambda lib, x, p: (mg.softmax(x, p["axis"]) if lib is mg else torch.softmax(x, p["axis"])),
    "log_softmax": lambda lib, x, p: (mg.log_softmax(x, p["axis"]) if lib is mg
                                      else torch.log_softmax(x, p["axis"])),
    "split": _split("split"),
    "chunk": _split("chunk"),
    "unbind": lambda lib, x, p: tuple(x.unbind(axis=p["axis"]) if lib is mg else torch.unbind(x, p["axis"])),
    "concat with itself": lambda lib, x, p: (mg.concat([x, x * 2.0], axis=p["axis"]) if lib is mg
                                            else torch.cat([x, x * 2.0], dim=p["axis"])),
    "stack with itself": lambda lib, x, p: (mg.stack([x, -x], axis=p["axis"]) if lib is mg
                                           else torch.stack([x, -x], dim=p["axis"])),
}
SHAPE = {
    "reshape": lambda lib, x, p: x.reshape(p["shape"]),
    "transpose": lambda lib, x, p: _permute(x, lib, p["perm"]),
    "broadcast_to": lambda lib, x, p: x.broadcast_to(p["shape"]) if lib is mg else x.expand(p["shape"]),
    "getitem": _index,
    "squeeze": lambda lib, x, p: x.squeeze(p["axis"]),
    "sum all": lambda lib, x, p: x.sum(),
    "mean all": lambda lib, x, p: x.mean(),
    "logsumexp all": lambda lib, x, p: (mg.logsumexp(x) if lib is mg
                                        else torch.logsumexp(x, dim=tuple(range(x.ndim)))),
    "x @ x.mT": lambda lib, x, p: x @ x.mT,
    "x.mT @ x": lambda lib, x, p: x.mT @ x,
    "x @ x (vectors)": lambda lib, x, p: x @ x,
    "addmm": lambda lib, x, p: (mg.addmm(x.sum(axis=1, keepdims=True), x, x.T) if lib is mg
                                else torch.addmm(x.sum(dim=1, keepdim=True), x, x.T)),
}


# --- drawing a program ------------------------------------------------------------------------
def _shape_of(step, shapes):
    """The output shape(s) of ``step`` on operands of these shapes, found by running minigrad on
    zeros (None when the op does not apply, e.g. a max over an empty axis)."""
    kind, name, args, p = step
    xs = [mg.zeros(*shapes[i], dtype="float64") for i in args]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = {"unary": UNARY, "binary": BINARY, "axis": AXIS, "shape": SHAPE}[kind][name](mg, *xs, p)
    except (ValueError, TypeError, IndexError):
        return None
    return [o.shape for o in out] if isinstance(out, tuple) else [out.shape]


@st.composite
def _step(draw, shapes):
    """One op on earlier nodes, with its parameters."""
    n = len(shapes)
    first = draw(st.integers(0, n - 1))
    shape = shapes[first]
    ndim = len(shape)
    kind = draw(st.sampled_from(["unary", "unary", "binary", "binary", "axis", "shape"]))
    if kind == "unary":
        name = draw(st.sampled_from(sorted(UNARY)))
        low = draw(st.sampled_from([-1.0, -0.5, 0.0, None]))
        high = draw(st.sampled_from([0.5, 1.0, None] if low is not None else [0.5, 1.0]))
        return ("unary", name, (first,), {"c": draw(st.sampled_from(CONSTANTS)), "low": low, "high": high})
    if kind == "binary":
        partners = [i for i, s in enumerate(shapes) if _broadcasts(s, shape)]
        second = draw(st.sampled_from(partners))
        order = draw(st.booleans())
        return ("binary", draw(st.sampled_from(sorted(BINARY))), (first, second) if order else (second, first), {})
    if kind == "axis" and ndim >= 1:
        name = draw(st.sampled_from(sorted(AXIS)))
        axis = draw(st.integers(-ndim, ndim - 1))
        size = shape[axis]
        return ("axis", name, (first,), {"axis": axis, "keepdims": draw(st.booleans()),
                                         "n": draw(st.integers(1, max(1, size + 1)))})
    name = draw(st.sampled_from(sorted(SHAPE)))
    p = {}
    if name == "reshape":
        choices = [shape[::-1], (int(np.prod(shape)),), shape + (1,), (1,) + shape]
        p["shape"] = tuple(draw(st.sampled_from(choices)))
    elif name == "transpose":
        p["perm"] = tuple(draw(st.permutations(range(ndim))))
    elif name == "broadcast_to":
        p["shape"] = (draw(st.integers(0, 2)),) + tuple(2 if s == 1 else s for s in shape)
    elif name == "getitem":
        p["index"] = draw(_indexes(shape))
    elif name == "squeeze":
        ones = [i for i, s in enumerate(shape) if s == 1]
        p["axis"] = draw(st.sampled_from(ones)) if ones else 0
    return ("shape", name, (first,), p)


def _broadcasts(a, b) -> bool:
    return all(x == y or x == 1 or y == 1 for x, y in zip(a[::-1], b[::-1]))


@st.composite
def _indexes(draw, shape):
    if not shape:
        return ()
    n = shape[0]
    kind = draw(st.sampled_from(["slice", "int", "array", "mask", "ellipsis"]))
    if kind == "slice":
        return slice(draw(st.integers(0, n)), draw(st.integers(0, n)), draw(st.integers(1, 2)))
    if kind == "int" and n > 0:
        return draw(st.integers(-n, n - 1))
    if kind == "array" and n > 0:
        return np.array(draw(st.lists(st.integers(0, n - 1), max_size=4)), dtype=np.int64)
    if kind == "mask":
        return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    return (Ellipsis, slice(None, None, 2))


@st.composite
def programs(draw, min_ops: int = 20, max_ops: int = 50, specials: bool = True):
    """(leaf shapes, steps, seed, special-value rate)."""
    shapes = list(draw(mutually_broadcastable_shapes(num_shapes=draw(st.integers(1, 3)), min_dims=0,
                                                     max_dims=3, min_side=1, max_side=3)).input_shapes)
    if draw(st.booleans()) and draw(st.booleans()):  # a quarter of the programs: an empty leaf
        shapes.append(draw(st.sampled_from([(0,), (2, 0), (0, 3), (1, 0), (3, 0, 2)])))
    leaves = len(shapes)
    steps = []
    wanted = draw(st.integers(min_ops, max_ops))
    for _ in range(3 * wanted):  # (a drawn op that does not apply to its operands is skipped)
        step = draw(_step(shapes))
        out = _shape_of(step, shapes)
        if out is None:
            continue
        steps.append(step)
        shapes.extend(out)
        if len(steps) == wanted:
            break
    rate = draw(st.sampled_from([0.0, 0.05, 0.2])) if specials else 0.0
    return shapes[:leaves], steps, draw(st.integers(0, 2**32 - 1)), rate


def leaf_arrays(shapes, seed: int, rate: float) -> list:
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        a = rng.standard_normal(shape)
        special = rng.random(shape) < rate
        a[special] = rng.choice(SPECIALS, size=int(special.sum()))
        arrays.append(a)
    return arrays


def run(steps, leaves, lib) -> list:
    """Every node, leaves first; a multi-output op adds all of its outputs."""
    return run_described(steps, leaves, lib)[0]


def run_described(steps, leaves, lib) -> tuple[list, list]:
    """The nodes, and for each the step that made it (for messages)."""
    nodes, made_by = list(leaves), ["a leaf"] * len(leaves)
    for kind, name, args, p in steps:
        fn = {"unary": UNARY, "binary": BINARY, "axis": AXIS, "shape": SHAPE}[kind][name]
        out = fn(lib, *[nodes[i] for i in args], p)
        out = out if isinstance(out, tuple) else (out,)
        nodes.extend(out)
        made_by.extend([f"{name} of nodes {list(args)} {p}"] * len(out))
    return nodes, made_by


# --- deliberate differences (docs/autograd.md), each excluded by name with its reason ---------
def _zero_base_of_a_power(steps, values) -> bool:
    """Whether some ``a ** b`` in the program has a == 0 somewhere."""
    for kind, name, args, p in steps:
        base = values[args[0]] if name == "**" else abs(p["c"]) if name == "c ** x" else None
        if base is not None and np.any(np.asarray(base) == 0):
            return True
    return False


def _signed_zeros_in_a_max_or_min_reduction(steps, values) -> bool:
    """Whether a max or min reduction (or one over everything) sees both -0. and 0."""
    for kind, name, args, p in steps:
        if name in ("max", "min"):
            x = values[args[0]]
            zeros = x[x == 0]
            if np.signbit(zeros).any() and not np.signbit(zeros).all():
                return True
    return False


def _sin_or_cos_of_a_large_argument(steps, values) -> bool:
    """Whether sin or cos gets a finite |x| > 1e4."""
    for kind, name, args, p in steps:
        if name in ("sin", "cos"):
            x = np.abs(values[args[0]])
            if np.any(np.isfinite(x) & (x > 1e4)):
                return True
    return False


DELIBERATE = {
    "sin or cos of |x| > 1e4 (not a difference: ill-conditioned)": (
        _sin_or_cos_of_a_large_argument,
        "an input that agrees to a few units in the last place (x ** x of 5.9e18 computed by "
        "two libms) gives unrelated outputs; both libraries' sin and cos agree on equal inputs"),
    "the zero a max/min reduction returns when -0. and 0. tie": (
        _signed_zeros_in_a_max_or_min_reduction,
        "NumPy's reduction returns one of them, PyTorch's another (the sign shows only through "
        "1/x or a sign-taking op); matching it would mean a reduction of our own. "
        "docs/autograd.md, Ties."),
}
"""{what: (predicate on (steps, node values), reason)}: programs that show a documented
difference (or compare an ill-conditioned op), excluded by name. Every other difference the
fuzzer found was a bug, and is fixed."""

DELIBERATE_SECOND_ORDER = DELIBERATE | {
    "d²(a ** b)/db² where a == 0": (
        _zero_base_of_a_power,
        "minigrad takes a^b log a as 0 where a == 0 and b >= 0 (its limit) without forming "
        "log 0, so every derivative is finite; PyTorch's second derivative is NaN (its where's "
        "backward multiplies a zero gradient by log 0 = -inf). docs/autograd.md, NaN inputs."),
}
"""The same for second derivatives."""


def _deliberate(table: dict, steps, values) -> bool:
    for what, (applies, reason) in table.items():
        if applies(steps, values):
            note(f"excluded: {what}: {reason}")
            return True
    return False


@pytest.fixture(autouse=True)
def _quiet():
    """NumPy's warnings of inf and NaN are expected here (PyTorch gives none)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


# --- the comparisons ---------------------------------------------------------------------------
def tolerance(steps) -> float:
    """Relative tolerance: float64 rounding through a few dozen ops, or float32's where a value
    or gradient went through float32 (the two libraries sum in float64 in their own orders, a
    few units in the last place apart, and rounding to float32 may then differ by one of its
    units: a gradient of 491.2034 against 491.2024)."""
    return 1e-4 if any(name == "to float32 and back" for _, name, _, _ in steps) else 1e-6


def assert_same(actual: np.ndarray, expected: np.ndarray, what: str, rtol: float = 1e-6) -> None:
    """Equal to within ``rtol`` (and that much of the largest value, absolutely); NaN where
    PyTorch has NaN, inf where it has inf (of the same sign)."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, PyTorch {expected.shape}"
    nan, tnan = np.isnan(actual), np.isnan(expected)
    assert (nan == tnan).all(), (f"{what}: NaN at {np.argwhere(nan != tnan)[:3].tolist()}: "
                                 f"{actual} vs {expected}")
    scale = np.abs(expected[np.isfinite(expected)]).max(initial=1.0)
    np.testing.assert_allclose(actual[~nan], expected[~tnan], rtol=rtol, atol=rtol * 1e-3 * scale,
                               err_msg=what)


def _evaluate(steps, arrays):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        leaves = [mg.tensor(a, requires_grad=True) for a in arrays]
        tleaves = [torch.tensor(a, requires_grad=True) for a in arrays]
        (nodes, made_by), tnodes = run_described(steps, leaves, mg), run(steps, tleaves, torch)
    return leaves, tleaves, nodes, tnodes, made_by


@given(case=programs())
@fuzz_settings(_DEFAULT_EXAMPLES)
def test_random_graphs_match_torch_values_and_gradients(case):
    shapes, steps, seed, rate = case
    arrays = leaf_arrays(shapes, seed, rate)
    note(f"leaves {[a.tolist() for a in arrays]}")
    leaves, tleaves, nodes, tnodes, made_by = _evaluate(steps, arrays)
    assume(not _deliberate(DELIBERATE, steps, [n.numpy() for n in nodes]))
    assert len(nodes) == len(tnodes)
    for k, (n, t) in enumerate(zip(nodes, tnodes)):
        assert_same(n.numpy(), t.detach().numpy(), f"node {k} ({made_by[k]})", tolerance(steps))

    rng = np.random.default_rng(seed + 1)
    seeds = [rng.standard_normal(t.shape) for t in tnodes[len(leaves):]]
    outs = nodes[len(leaves):]
    touts = tnodes[len(leaves):]
    if not outs:
        return
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grads = mg.grad(outs, leaves, grad_outputs=[mg.tensor(s) for s in seeds], allow_unused=True)
        tgrads = torch.autograd.grad(touts, tleaves, grad_outputs=[torch.from_numpy(s) for s in seeds],
                                     allow_unused=True)
    for i, (g, tg, a) in enumerate(zip(grads, tgrads, arrays)):
        actual = np.zeros_like(a) if g is None else g.numpy()
        expected = np.zeros_like(a) if tg is None else tg.numpy()
        assert_same(actual, expected, f"gradient of leaf {i}", tolerance(steps))


@given(case=programs(min_ops=5, max_ops=15, specials=False))
@fuzz_settings(40)
def test_random_graphs_match_torch_second_derivatives(case):
    """Finite inputs: the gradient of <gradient, V> (Hessian-vector products) through
    ``create_graph=True`` agrees too."""
    shapes, steps, seed, _ = case
    arrays = leaf_arrays(shapes, seed, 0.0)
    leaves, tleaves, nodes, tnodes, _ = _evaluate(steps, arrays)
    assume(not _deliberate(DELIBERATE_SECOND_ORDER, steps, [n.numpy() for n in nodes]))
    assume(all(torch.isfinite(t).all() and t.abs().max() < 1e6 for t in tnodes if t.numel()))
    rng = np.random.default_rng(seed + 1)
    seeds = [rng.standard_normal(t.shape) for t in tnodes]
    loss = sum(((n * mg.tensor(s)).sum() for n, s in zip(nodes, seeds)), start=mg.tensor(np.float64(0.0)))
    tloss = sum((t * torch.from_numpy(s)).sum() for t, s in zip(tnodes, seeds))
    grads = mg.grad(loss, leaves, create_graph=True)
    tgrads = torch.autograd.grad(tloss, tleaves, create_graph=True)
    directions = [rng.standard_normal(a.shape) for a in arrays]
    second = sum(((g * mg.tensor(v)).sum() for g, v in zip(grads, directions)), start=0.0)
    tsecond = sum((g * torch.from_numpy(v)).sum() for g, v in zip(tgrads, directions))
    # a gradient that is constant (a linear graph, or only kinks) records no graph
    hv = mg.grad(second, leaves, allow_unused=True) if second.requires_grad else [None] * len(leaves)
    thv = (torch.autograd.grad(tsecond, tleaves, allow_unused=True) if tsecond.requires_grad
           else [None] * len(leaves))
    for i, (h, th, a) in enumerate(zip(hv, thv, arrays)):
        actual = np.zeros_like(a) if h is None else h.numpy()
        expected = np.zeros_like(a) if th is None else th.numpy(force=True)
        assert_same(actual, expected, f"second derivative of leaf {i}", tolerance(steps))


@given(case=programs(min_ops=5, max_ops=20, specials=False))
@fuzz_settings(10)
def test_random_graphs_backward_equals_grad(case):
    """Tensor.backward and minigrad.grad walk the same graph to the same numbers."""
    shapes, steps, seed, _ = case
    arrays = leaf_arrays(shapes, seed, 0.0)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        leaves = [mg.tensor(a, requires_grad=True) for a in arrays]
        loss = run(steps, leaves, mg)[-1].sum() * 1.0
        expected = mg.grad(loss, leaves, retain_graph=True, allow_unused=True)
        loss.backward()
    for leaf, g in zip(leaves, expected):
        if g is None:
            assert leaf.grad is None
        else:
            np.testing.assert_array_equal(leaf.grad.numpy(), g.numpy())
