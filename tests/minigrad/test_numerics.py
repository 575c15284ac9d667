"""Numerics at the edges, against PyTorch in float64: infinite and NaN gradients through masks,
NaN inputs, sigmoid far from 0, and tensors with a 0-length axis (issue 16)."""
import warnings

import numpy as np
import pytest
import torch

import minigrad as mg

INF, NAN = np.inf, np.nan


def grads(fn, values, upstream, library):
    """Value and gradient of fn at ``values`` with seed gradient ``upstream``, in minigrad
    (library "mg") or PyTorch ("torch"), float64; NumPy's warnings about inf and NaN silenced."""
    values, upstream = np.asarray(values, dtype=np.float64), np.asarray(upstream, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if library == "mg":
            x = mg.tensor(values, requires_grad=True)
            y = fn(x, mg)
            y.backward(mg.tensor(upstream))
            return y.numpy(), x.grad.numpy()
        x = torch.tensor(values, requires_grad=True)
        y = fn(x, torch)
        y.backward(torch.tensor(upstream))
        return y.detach().numpy(), x.grad.numpy()


def const(values, lib):
    values = np.asarray(values, dtype=np.float64)
    return mg.tensor(values) if lib is mg else torch.tensor(values)


X = [-1.0, 0.0, NAN, 2.0, 0.5, INF, -INF]
CASES = {  # name: (fn(x, library), the seed gradient)
    # 1. a zero-derivative branch must not turn an infinite gradient into NaN
    "relu().sqrt()": (lambda x, lib: x.relu().sqrt(), [1.0] * 7),
    "relu, inf gradient": (lambda x, lib: x.relu(), [INF] * 7),
    "clip(min=0).sqrt()": (lambda x, lib: x.clip(0.0, None) if lib is mg else x.clamp(0.0, None),
                           [INF, INF, INF, 1.0, 1.0, 1.0, INF]),
    "clip(-1, 1), inf gradient": (lambda x, lib: x.clip(-1.0, 1.0) if lib is mg else x.clamp(-1.0, 1.0),
                                  [INF] * 7),
    "maximum(x, 0), inf gradient": (lambda x, lib: x.maximum(const(np.zeros(7), lib)), [INF] * 7),
    "minimum(x, 1), inf gradient": (lambda x, lib: x.minimum(const(np.ones(7), lib)), [INF] * 7),
    "x ** 0, inf gradient": (lambda x, lib: x ** 0, [INF] * 7),
    "x ** 0.0, NaN gradient": (lambda x, lib: x ** 0.0, [NAN] * 7),
    "x ** tensor(0), inf gradient": (lambda x, lib: x ** const(np.zeros(7), lib), [INF] * 7),
    # 3. NaN (and inf) inputs
    "abs": (lambda x, lib: x.abs(), [1.0] * 7),
    "maximum(x, 1)": (lambda x, lib: x.maximum(const(np.ones(7), lib)), [1.0] * 7),
    "maximum(1, x)": (lambda x, lib: const(np.ones(7), lib).maximum(x), [1.0] * 7),
    "minimum(x, NaN)": (lambda x, lib: x.minimum(const(np.full(7, NAN), lib)), [1.0] * 7),
    "maximum(x, x) (ties)": (lambda x, lib: x.maximum(x * 1.0), [1.0] * 7),
    "x ** 0.5": (lambda x, lib: x ** 0.5, [1.0] * 7),
    "x ** -0.5": (lambda x, lib: x ** -0.5, [1.0] * 7),
    "x ** 2": (lambda x, lib: x ** 2, [1.0] * 7),
    "x ** tensor": (lambda x, lib: x ** const([0.0, -1.0, 2.0, 0.5, 0.0, -2.0, 3.0], lib), [1.0] * 7),
    "0 ** x": (lambda x, lib: 0.0 ** x, [1.0, INF, 1.0, 1.0, 1.0, 1.0, 1.0]),
    "tensor ** x": (lambda x, lib: const([0.0, 0.0, 2.0, -2.0, 0.0, 0.5, 3.0], lib) ** x, [INF] + [1.0] * 6),
    "sigmoid": (lambda x, lib: x.sigmoid(), [1.0] * 7),
}


@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_at_inf_and_nan_are_pytorchs(name):
    fn, upstream = CASES[name]
    value, grad = grads(fn, X, upstream, "mg")
    torch_value, torch_grad = grads(fn, X, upstream, "torch")
    np.testing.assert_allclose(value, torch_value, rtol=1e-12, atol=0)  # (NaN equals NaN)
    np.testing.assert_allclose(grad, torch_grad, rtol=1e-12, atol=0)


def test_relu_then_sqrt_sends_zero_not_nan_below_zero():
    # the reproducer: x.grad was [nan, 0.25]
    x = mg.tensor(np.array([-1.0, 4.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # sqrt'(0) = inf
        x.relu().sqrt().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.25])


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_sigmoid_keeps_full_relative_precision_on_both_sides(dtype):
    # through tanh, sigmoid was exactly 0 from x = -20 in float32 (-38 in float64) and off by more
    # than 1% from -14.3; the reference is PyTorch in float64, rounded to the dtype
    x = {"float16": np.linspace(-9.5, 12, 401), "float32": np.linspace(-87, 30, 4001),
         "float64": np.linspace(-708, 60, 4001)}[dtype].astype(dtype)
    z = mg.tensor(x).sigmoid().numpy()
    reference = torch.sigmoid(torch.tensor(x.astype(np.float64))).numpy().astype(dtype)
    ulp = np.spacing(reference.astype(dtype))
    assert z.dtype == np.dtype(dtype)
    assert np.all(np.abs(z.astype(np.float64) - reference.astype(np.float64)) <= 2 * ulp), dtype


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_sigmoid_far_from_zero_warns_of_nothing_and_saturates(dtype):
    # pytest turns RuntimeWarning into an error: exp(-x) overflowing must not warn
    x = mg.tensor(np.array([-1e4, -1000.0, -INF, INF, 1000.0, NAN]).astype(dtype), requires_grad=True)
    z = x.sigmoid()
    z.sum().backward()
    np.testing.assert_array_equal(z.numpy(), np.array([0.0, 0.0, 0.0, 1.0, 1.0, NAN], dtype=dtype))
    np.testing.assert_array_equal(x.grad.numpy(), np.array([0.0, 0.0, 0.0, 0.0, 0.0, NAN], dtype=dtype))


def test_log_sigmoid_at_minus_20_in_float32_is_minus_20_with_gradient_1():
    # the reproducer: -inf and a NaN gradient
    x = mg.tensor([-20.0], requires_grad=True)
    y = x.sigmoid().log()
    y.sum().backward()
    t = torch.tensor([-20.0], requires_grad=True)
    torch.sigmoid(t).log().sum().backward()
    np.testing.assert_allclose(y.numpy(), [-20.0], rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)


def test_sigmoid_second_derivative_is_checked():
    x = mg.tensor(np.array([-30.0, -3.0, 0.0, 2.5, 30.0]), requires_grad=True)
    assert mg.gradcheck(lambda x: x.sigmoid(), x)
    assert mg.gradgradcheck(lambda x: x.sigmoid(), x)


# --- tensors with a 0-length axis: every op forward and backward, as PyTorch ---------------------
def _empty_cases() -> list:
    from op_cases import Case, torch_reduce

    same = lambda fn: (fn, fn)  # noqa: E731
    cases = []
    for name, fn in [("-x", lambda x: -x), ("exp", lambda x: x.exp()), ("log", lambda x: x.log()),
                     ("sqrt", lambda x: x.sqrt()), ("abs", lambda x: x.abs()), ("tanh", lambda x: x.tanh()),
                     ("sigmoid", lambda x: x.sigmoid()), ("relu", lambda x: x.relu()),
                     ("x ** 2", lambda x: x ** 2), ("2 ** x", lambda x: 2.0 ** x)]:
        for shape in [(0,), (2, 0)]:
            cases.append(Case(name, *same(fn), (shape,)))
    cases.append(Case("clip", lambda x: x.clip(-0.5, 0.5), lambda x: x.clamp(-0.5, 0.5), ((0, 3),)))
    for name, fns in [("+", same(lambda a, b: a + b)), ("-", same(lambda a, b: a - b)),
                      ("*", same(lambda a, b: a * b)), ("/", same(lambda a, b: a / b)),
                      ("**", same(lambda a, b: a ** b)),
                      ("maximum", (lambda a, b: a.maximum(b), torch.maximum)),
                      ("minimum", (lambda a, b: a.minimum(b), torch.minimum))]:
        for shapes in [((2, 0), (0,)), ((0, 3), (1, 3)), ((2, 0), ()), ((0, 1), (1, 4))]:
            cases.append(Case(name, *fns, shapes))
    for shapes in [((2, 3, 0), (0, 4)), ((2, 3, 4), (4, 0)), ((0, 3), (3, 4)), ((3, 0), (0, 4)),
                   ((0,), (0,)), ((0,), (0, 2)), ((2, 0, 3), (3,)), ((2, 1, 3, 0), (5, 0, 2)),
                   ((0, 2, 3), (3, 4)), ((3,), (0, 3, 2))]:
        cases.append(Case("@", *same(lambda a, b: a @ b), shapes))
    cases.append(Case("addmm", mg.addmm, torch.addmm, ((2, 4), (2, 0), (0, 4))))
    cases.append(Case("addmm", mg.addmm, torch.addmm, ((0, 4), (0, 3), (3, 4))))
    for name in ("sum", "mean"):
        for axis in (None, 0, 1):
            cases.append(Case(f"{name}(axis={axis})", lambda x, n=name, a=axis: getattr(x, n)(axis=a),
                              torch_reduce(name, axis, False), ((2, 0),)))
    for name in ("amax", "amin"):  # over the axis that is not empty (an empty one has no max)
        cases.append(Case(f"{name}(axis=0)", lambda x, n=name: getattr(x, n)(axis=0),
                          torch_reduce(name, 0, False), ((3, 0),)))
    for axis in (0, 1, -1):
        cases.append(Case(f"softmax({axis})", lambda x, a=axis: mg.softmax(x, a),
                          lambda x, a=axis: torch.softmax(x, a), ((2, 0),)))
        cases.append(Case(f"log_softmax({axis})", lambda x, a=axis: mg.log_softmax(x, a),
                          lambda x, a=axis: torch.log_softmax(x, a), ((2, 0),)))
    # an empty result (the -inf of a full one would make the test's loss NaN: a test of its own)
    cases.append(Case("logsumexp(1)", lambda x: mg.logsumexp(x, axis=1, keepdims=True),
                      torch_reduce("logsumexp", 1, True), ((0, 2),)))
    cases += [
        Case("reshape", lambda x: x.reshape(0, 3, 1), lambda x: x.reshape(0, 3, 1), ((3, 0),)),
        Case("transpose", lambda x: x.transpose(1, 0, 2), lambda x: x.permute(1, 0, 2), ((2, 0, 3),)),
        Case("broadcast_to", *same(lambda x: x.broadcast_to((0, 3))), ((1, 3),)),
        Case("[1:1]", *same(lambda x: x[1:1]), ((3, 2),)),
        Case("[:, idx]", lambda x: x[:, np.array([], dtype=np.int64)],
             lambda x: x[:, torch.tensor([], dtype=torch.int64)], ((3, 2),)),
        Case("concat", lambda a, b: mg.concat([a, b], axis=0), lambda a, b: torch.cat([a, b], 0),
             ((0, 3), (2, 3))),
        Case("stack", lambda a, b: mg.stack([a, b], axis=1), lambda a, b: torch.stack([a, b], 1),
             ((0, 3), (0, 3))),
        Case("split", lambda x: x.split(2, axis=1), lambda x: torch.split(x, 2, 1), ((0, 5),)),
        Case("unbind", lambda x: x.unbind(axis=1), lambda x: torch.unbind(x, 1), ((0, 3),)),
        Case("where", lambda a, b: mg.where(a > b, a, b), lambda a, b: torch.where(a > b, a, b),
             ((2, 0), (0,))),
    ]
    return cases


EMPTY_CASES = _empty_cases()


@pytest.mark.parametrize("case", EMPTY_CASES, ids=repr)
def test_every_op_on_an_empty_axis_matches_pytorch(case):
    # (2,3,0) @ (0,4) and (2,3,4) @ (4,0) raised NumPy's reshape error in backward; softmax and
    # log_softmax over an empty axis raised an error naming max
    from op_cases import check_against_torch

    check_against_torch(case)  # (pytest makes a RuntimeWarning an error: NumPy's mean of nothing)


def test_logsumexp_over_an_empty_axis_is_minus_inf_without_a_warning():
    x = mg.tensor(np.zeros((2, 0)), requires_grad=True)
    y = mg.logsumexp(x, axis=1)
    y.backward(mg.tensor(np.ones(2)))
    np.testing.assert_array_equal(y.numpy(), torch.logsumexp(torch.zeros(2, 0), 1).numpy())
    assert x.grad.shape == (2, 0)


@pytest.mark.parametrize("shape", [(), (2,)])
def test_second_derivative_of_a_power_whose_base_is_a_0d_result(shape):
    # found by the fuzzer: NumPy hands a 0-d op's result over as a float64 scalar, which Pow took
    # for a Python number, so d(a^b)/db = a^b log a kept log a as a constant: d²/dx² of
    # (x * 1) ** x was 0.029 where it is 2.35
    x0 = np.full(shape, 0.3)
    x, t = mg.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    g, = mg.grad(((x * 1.0) ** x).sum(), [x], create_graph=True)
    tg, = torch.autograd.grad(((t * 1.0) ** t).sum(), [t], create_graph=True)
    h, = mg.grad(g.sum(), [x])
    th, = torch.autograd.grad(tg.sum(), [t])
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["maximum", "minimum", "relu"])
def test_a_tie_between_minus_zero_and_zero_picks_pytorchs_zero(name):
    # found by the fuzzer: NumPy returns the second argument on a tie, PyTorch the first, so
    # 1 / maximum(-0., 0.) was inf where PyTorch gives -inf
    a, b = np.array([-0.0, 0.0]), np.array([0.0, -0.0])
    ours = mg.tensor(a).relu() if name == "relu" else getattr(mg.tensor(a), name)(mg.tensor(b))
    theirs = torch.relu(torch.tensor(a)) if name == "relu" else getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    np.testing.assert_array_equal(np.signbit(ours.numpy()), np.signbit(theirs.numpy()))


@pytest.mark.parametrize("exponent", [0.5, -0.5, 1.5])
def test_a_0d_value_to_a_half_power_is_pytorchs_at_minus_inf_and_minus_zero(exponent):
    # found by the fuzzer: x[()] hands NumPy a float64 scalar, whose ** uses C's pow:
    # (-inf) ** 0.5 was inf (PyTorch NaN, as for arrays) and (-0.) ** 0.5 was 0. (PyTorch -0.)
    for value in (-np.inf, -0.0, 4.0):
        x = mg.tensor(np.array(value), requires_grad=True)
        t = torch.tensor(value, dtype=torch.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            y = x[()] ** exponent
            y.backward()
        z = t[()] ** exponent
        z.backward()
        np.testing.assert_array_equal(y.numpy(), z.detach().numpy())
        if not np.isnan(y.numpy()):  # (a NaN's sign bit means nothing)
            assert np.signbit(y.numpy()) == np.signbit(z.detach().numpy())
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
