"""Dtype rules: no silent float promotion, constants take the tensor's dtype, gradients keep the
dtype of their input, only floating-point tensors take gradients."""
import operator

import numpy as np
import pytest
import torch

import minigrad as mg

BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "pow": operator.pow,
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "where": lambda a, b: mg.where(np.array([True, False]), a, b),
    "matmul": operator.matmul,
    "concat": lambda a, b: mg.concat([a, b]),
    "stack": lambda a, b: mg.stack([a, b]),
}
SCALAR_FORMS = {
    "x + c": lambda x, c: x + c, "c + x": lambda x, c: c + x,
    "x - c": lambda x, c: x - c, "c - x": lambda x, c: c - x,
    "x * c": lambda x, c: x * c, "c * x": lambda x, c: c * x,
    "x / c": lambda x, c: x / c, "c / x": lambda x, c: c / x,
    "x ** c": lambda x, c: x ** c, "c ** x": lambda x, c: c ** x,
    "maximum": lambda x, c: x.maximum(c), "minimum": lambda x, c: x.minimum(c),
    "where(x, c)": lambda x, c: mg.where(np.array([True, False]), x, c),
    "where(c, x)": lambda x, c: mg.where(np.array([True, False]), c, x),
}
CONSTANTS = {
    "python float": 1.5, "python int": 2, "numpy float64": np.float64(1.5),
    "numpy float64 array": np.array([1.5, 0.5]), "numpy int array": np.array([2, 3]),
}


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("first, second", [("float32", "float64"), ("float64", "float32"),
                                           ("float16", "float32")])
def test_two_float_dtypes_are_an_error_naming_both(op, first, second):
    a = mg.tensor(np.array([1.0, 2.0], dtype=first), requires_grad=True)
    b = mg.tensor(np.array([3.0, 4.0], dtype=second))
    with pytest.raises(TypeError, match=rf"^{op}:(?=.*{first})(?=.*{second})"):
        BINARY[op](a, b)


@pytest.mark.parametrize("form", sorted(SCALAR_FORMS))
@pytest.mark.parametrize("constant", sorted(CONSTANTS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_constants_take_the_tensors_dtype(form, constant, dtype):
    x = mg.tensor(np.array([0.5, 2.0], dtype=dtype), requires_grad=True)
    y = SCALAR_FORMS[form](x, CONSTANTS[constant])
    assert y.dtype == np.dtype(dtype)
    y.sum().backward()
    assert x.grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize("bounds", [(np.array([0.5, 0.5]), None), (None, np.float64(1.5)),
                                    (mg.tensor(np.array([0.5, 0.5])), np.array([1.5, 1.5]))],
                         ids=["float64 array min", "numpy float64 max", "float64 tensor and array"])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_clip_bounds_take_the_tensors_dtype(bounds, dtype):
    x = mg.tensor(np.array([0.25, 2.0], dtype=dtype), requires_grad=True)
    y = x.clip(*bounds)
    assert y.dtype == np.dtype(dtype)
    low, high = (None if b is None else (b.numpy() if isinstance(b, mg.Tensor) else b) for b in bounds)
    np.testing.assert_array_equal(y.numpy(), np.clip(x.numpy(), low, high).astype(dtype))
    y.sum().backward()
    assert x.grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize("bound", [[0.0, 1.0], (0.0, 1.0), 1j, np.array([1j, 0.0])],
                         ids=["list", "tuple", "python complex", "complex array"])
@pytest.mark.parametrize("side", ["min", "max"])
def test_a_list_or_complex_clip_bound_is_a_type_error_naming_it(bound, side):
    # a list made the result float64, a complex bound a complex result or a lost imaginary part
    x = mg.tensor([0.5, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=rf"^clip: the {side} bound .*{type(bound).__name__}"):
        x.clip(**{side: bound})


NUMPY_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                "maximum": np.maximum, "minimum": np.minimum,
                "where": lambda a, b: np.where(np.array([True, False]), a, b)}


@pytest.mark.parametrize("op", sorted(NUMPY_BINARY))
@pytest.mark.parametrize("int_dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("swap", [False, True])
def test_an_integer_or_bool_tensor_is_cast_to_the_float_dtype(op, int_dtype, swap):
    x = mg.tensor(np.array([0.5, 2.0], dtype=np.float32), requires_grad=True)
    n = mg.tensor(np.array([1, 3]).astype(int_dtype))
    operands = (n, x) if swap else (x, n)
    y = BINARY[op](*operands)
    assert y.dtype == mg.float32
    expected = NUMPY_BINARY[op](*(t.numpy().astype(np.float32) for t in operands))
    np.testing.assert_array_equal(y.numpy(), expected)
    y.sum().backward()
    assert x.grad.dtype == mg.float32


def test_numpy_array_on_the_left_still_gives_a_tensor_of_the_tensors_dtype():
    x = mg.tensor([1.0, 2.0])
    y = np.array([2.0, 3.0]) * x
    assert isinstance(y, mg.Tensor) and y.dtype == mg.float32
    np.testing.assert_array_equal(y.numpy(), [2.0, 6.0])


def test_python_floats_default_to_float32_and_float64_arrays_stay_float64():
    assert mg.tensor([1.0, 2.0]).dtype == mg.float32
    assert mg.tensor(1.5).dtype == mg.float32
    assert mg.tensor(np.array([1.0])).dtype == mg.float64
    assert mg.tensor(np.array([1.0]), dtype="float32").dtype == mg.float32
    assert mg.tensor([1, 2]).dtype.kind == "i"
    assert mg.ones(2).dtype == mg.zeros(2).dtype == mg.randn(2).dtype == mg.float32


def test_gradients_keep_their_inputs_dtype_through_a_graph(device):
    x = mg.tensor(np.linspace(0.1, 1.0, 6, dtype=np.float32).reshape(2, 3), requires_grad=True,
                  device=device)
    w = mg.tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True, device=device)
    y = ((x @ w).tanh() * 2.0 + x.sum(axis=1, keepdims=True).exp() / 3.0) ** 2
    y = y + (x @ w).sigmoid() * (1.0 - y.sigmoid())
    loss = y.softmax(axis=-1).log().mean() + np.float64(0.5) * y.max()
    assert loss.dtype == mg.float32
    loss.backward()
    assert x.grad.dtype == w.grad.dtype == mg.float32


def test_cast_is_differentiable_and_sends_the_gradient_back_in_the_inputs_dtype():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(dtype=mg.float64) * mg.tensor(np.array([3.0, 4.0]))
    assert y.dtype == mg.float64
    y.sum().backward()
    assert x.grad.dtype == mg.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    assert x.double().dtype == mg.float64 and x.double().float().dtype == mg.float32
    assert x.to(dtype="float32") is x


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_only_floating_point_tensors_can_require_grad(dtype):
    with pytest.raises(TypeError, match=rf"floating-point.*{dtype}.*\(2,\)"):
        mg.tensor(np.array([1, 0]).astype(dtype), requires_grad=True)
    with pytest.raises(TypeError, match=dtype):
        mg.tensor(np.array([1, 0]).astype(dtype)).requires_grad_()


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_setting_the_requires_grad_attribute_of_an_integer_tensor_is_refused_too(dtype):
    n = mg.tensor(np.array([1, 0]).astype(dtype))
    with pytest.raises(TypeError, match=rf"floating-point.*{dtype}.*\(2,\)"):
        n.requires_grad = True
    assert n.requires_grad is False


def test_the_requires_grad_attribute_follows_the_rules_of_requires_grad_():
    x = mg.tensor([1.0, 2.0])
    x.requires_grad = True
    assert x.requires_grad is True and (x * x).grad_fn is not None
    x.requires_grad = False
    assert x.requires_grad is False and (x * x).grad_fn is None
    y = mg.tensor([1.0], requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match="non-leaf.*detach"):
        y.requires_grad = False  # PyTorch refuses too: it would cut the graph silently
    assert y.requires_grad is True


def test_comparisons_return_tensors_without_gradient():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x < 2.0, x <= 2.0, x > x * 0.5, x >= 2.0, x == 2.0, x != 2.0):
        assert isinstance(result, mg.Tensor)
        assert result.dtype == mg.bool_ and not result.requires_grad and result.grad_fn is None
    np.testing.assert_array_equal((x > 1.5).numpy(), [False, True, True])
    np.testing.assert_array_equal((x == mg.tensor([1.0, 0.0, 3.0])).numpy(), [True, False, True])


NOT_ARRAYS = {"None": None, "str": "a", "list": [1.0, 2.0], "tuple": (1.0, 2.0), "object": object()}


@pytest.mark.parametrize("other", sorted(NOT_ARRAYS))
def test_eq_and_ne_with_what_is_not_an_array_or_number_are_python_bools_as_in_pytorch(other):
    other = NOT_ARRAYS[other]
    x = mg.tensor([1.0, 2.0])
    t = torch.tensor([1.0, 2.0])
    for a, b in ((x, other), (other, x)):
        assert (a == b) is (t == other) is False  # Python's fallback: the same object?
        assert (a != b) is (t != other) is True
    assert (x == x).tolist() == [True, True]


ORDERINGS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@pytest.mark.parametrize("other", sorted(NOT_ARRAYS))
@pytest.mark.parametrize("compare", sorted(ORDERINGS))
def test_ordering_with_what_is_not_an_array_or_number_is_pythons_type_error(other, compare):
    kind = type(NOT_ARRAYS[other]).__name__
    with pytest.raises(TypeError, match=rf"'{compare}' not supported between instances of "
                                        rf"'Tensor' and '{kind}'"):  # PyTorch's message too
        ORDERINGS[compare](mg.tensor([1.0, 2.0]), NOT_ARRAYS[other])


def test_asking_for_the_gradient_of_an_integer_tensor_is_refused():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    n = mg.tensor(np.array([1, 2]))
    loss = (x * n).sum()
    with pytest.raises(ValueError, match=r"^grad: input 1 .*int64.*not require grad"):
        mg.grad(loss, [x, n])


SYMBOLS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}


def op_of(form: str) -> str:
    """The op a form of SCALAR_FORMS calls, as error messages name it: "x + c" -> "add"."""
    words = form.split()
    return SYMBOLS[words[1]] if len(words) == 3 else form.split("(")[0]


@pytest.mark.parametrize("form", sorted(SCALAR_FORMS))
@pytest.mark.parametrize("sequence", [[1.5, 0.5], (1.5, 0.5)], ids=["list", "tuple"])
def test_a_list_operand_is_a_type_error_naming_the_op_and_the_type(form, sequence):
    # PyTorch refuses it too; NumPy would quietly make it a float64 array
    x = mg.tensor([0.5, 2.0], requires_grad=True)
    kind = type(sequence).__name__
    with pytest.raises(TypeError, match=rf"^{op_of(form)}: .*got a {kind} .*float32"):
        SCALAR_FORMS[form](x, sequence)


COMPLEX = {"python complex": 1j, "numpy complex64": np.complex64(1j),
           "complex128 array": np.array([1j, 2.0])}


@pytest.mark.parametrize("form", sorted(SCALAR_FORMS))
@pytest.mark.parametrize("constant", sorted(COMPLEX))
def test_a_complex_operand_is_a_type_error_naming_the_op(form, constant):
    # a Python complex made a complex tensor (with a complex gradient for a float leaf), a NumPy
    # one lost its imaginary part in the cast to the tensor's dtype; minigrad has no complex
    # dtypes (minigrad.tensor refuses them), so both are refused where they enter
    x = mg.tensor([0.5, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=rf"^{op_of(form)}: .*complex"):
        SCALAR_FORMS[form](x, COMPLEX[constant])
