"""gradcheck and gradgradcheck catch wrong Functions and say where they are wrong."""
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import Function
from minigrad.tensor import unwrap


class DotWrongInB(Function):
    """z = sum(a * b), with the gradient for b wrong by +1 at element (1, 0)."""

    saves_inputs = True

    def forward(self, a, b):
        return (a * b).sum()

    def backward(self, grad):
        a, b = self.inputs()
        bump = np.zeros(b.shape)
        bump[1, 0] = 1.0
        return grad * b, grad * (a + bump)


class CubeWithDetachedBackward(Function):
    """z = x^3 with dz/dx = 3x^2 computed from the saved array (a constant of the backward
    graph): right values, no second derivative."""

    saves_inputs = True

    def forward(self, x):
        return x ** 3

    def backward(self, grad):
        x = unwrap(self.inputs()[0])  # its data: a constant of the backward graph
        return grad * (3.0 * x ** 2)


class Cube(Function):
    """z = x^3;  dz/dx = 3x^2 (with Tensor ops, so it has a second derivative)"""

    saves_inputs = True

    def forward(self, x):
        return x ** 3

    def backward(self, grad):
        x = self.inputs()[0]
        return grad * 3.0 * x * x


def inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [mg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


def test_a_wrong_gradient_is_caught_and_located():
    a, b = inputs((3, 2), (3, 2))
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(DotWrongInB.apply, [a, b])
    message = str(info.value)
    assert "input 1" in message and "element (1, 0)" in message
    found = re.search(r"analytic (\S+) vs numeric (\S+)", message)
    analytic, numeric = float(found.group(1)), float(found.group(2))
    # d/db_10 of r * sum(a * b) is r * a_10; the wrong backward adds r.
    a10 = a.data[1, 0]
    np.testing.assert_allclose(analytic, numeric * (a10 + 1.0) / a10, rtol=1e-6)


def test_the_correct_input_passes_and_raise_exception_false_returns_false():
    a, b = inputs((3, 2), (3, 2))
    b.requires_grad = False
    assert mg.gradcheck(DotWrongInB.apply, [a, b]) is True
    b.requires_grad = True
    assert mg.gradcheck(DotWrongInB.apply, [a, b], raise_exception=False) is False


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    (x,) = inputs((4,))
    assert mg.gradcheck(CubeWithDetachedBackward.apply, [x])
    with pytest.raises(mg.GradcheckError, match=r"input 0 \(shape \(4,\)\), element \(\d,\)"):
        mg.gradgradcheck(CubeWithDetachedBackward.apply, [x])


def test_gradgradcheck_passes_a_differentiable_backward():
    (x,) = inputs((2, 3))
    assert mg.gradcheck(Cube.apply, [x])
    assert mg.gradgradcheck(Cube.apply, [x])


def test_gradgradcheck_of_a_linear_function():
    a, b = inputs((2, 3), (3,))
    assert mg.gradgradcheck(lambda x, y: 2.0 * x - y, [a, b])


def test_gradcheck_handles_several_outputs_and_constants():
    a, b = inputs((2, 3), (2, 3))
    constant = mg.tensor(np.arange(6.0).reshape(2, 3))
    assert mg.gradcheck(lambda x, y, c: ((x * c).tanh(), y.split(1, axis=1)[2]), [a, b, constant])


def test_gradcheck_restores_its_inputs_including_0d_and_non_contiguous_ones():
    scalar = mg.tensor(np.float64(0.5), requires_grad=True)
    transposed = mg.tensor(np.arange(6.0).reshape(2, 3).T, requires_grad=True)
    before = [scalar.numpy().copy(), transposed.numpy().copy()]
    assert mg.gradcheck(lambda s, t: s * t.tanh(), [scalar, transposed])
    assert scalar.shape == () and transposed.shape == (3, 2)
    np.testing.assert_array_equal(scalar.numpy(), before[0])
    np.testing.assert_array_equal(transposed.numpy(), before[1])


def test_gradcheck_wants_float64_inputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="input 0 has dtype float32"):
        mg.gradcheck(lambda t: t * 2.0, [x])


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="nothing to check"):
        mg.gradcheck(lambda t: t * 2.0, [mg.tensor(np.ones(2))])


class TimesNaNBackward(Function):
    """z = 2x with a backward that returns g * NaN: abs(a - n) > tol is False for NaN."""

    def forward(self, x):
        return 2.0 * x

    def backward(self, grad):
        return grad * float("nan")


def test_a_nan_analytic_gradient_fails_and_says_so():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(mg.GradcheckError, match=r"input 0 .*element \(0,\): the analytic gradient is nan"):
        mg.gradcheck(TimesNaNBackward.apply, x)
    assert mg.gradcheck(TimesNaNBackward.apply, x, raise_exception=False) is False


def test_a_function_whose_outputs_are_nan_fails_and_says_which_output():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(mg.GradcheckError, match=r"output 1 of fn \(shape \(2,\)\) is nan at element \(0,\)"):
        mg.gradcheck(lambda x: (x * 2.0, x * float("nan")), x)
    with pytest.raises(mg.GradcheckError, match=r"output 0 of fn .* is inf"):
        mg.gradcheck(lambda x: x * float("inf"), x)


def test_an_infinite_numeric_gradient_fails_and_says_so():
    # 1 / (x - c) with c = x + eps: finite at x, infinite at x + eps, so only the numeric
    # gradient is not finite
    x = mg.tensor(np.array([1.0]), requires_grad=True)
    with np.errstate(divide="ignore"):
        with pytest.raises(mg.GradcheckError, match=r"element \(0,\): the numeric gradient is -?inf"):
            mg.gradcheck(lambda x: 1.0 / (x - (1.0 + 1e-6)), x, eps=1e-6)
