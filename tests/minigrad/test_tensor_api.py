"""The Tensor's plain API and the creation functions."""
import re

import numpy as np
import pytest
import torch

import minigrad as mg


def test_creation_functions(device):
    assert mg.zeros(2, 3, device=device).tolist() == [[0.0] * 3] * 2
    assert mg.ones((2,), dtype=mg.float64, device=device).dtype == mg.float64
    assert mg.full((2, 2), 7.0, device=device).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert mg.full(3, 1.5).shape == (3,)
    like = mg.tensor(np.ones((2, 1)), device=device)
    assert mg.zeros_like(like).dtype == mg.float64 and mg.ones_like(like).shape == (2, 1)
    assert mg.zeros_like(like).device == device
    assert mg.arange(4).tolist() == [0, 1, 2, 3]
    assert mg.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert mg.arange(0.0, 1.0, 0.5).dtype == mg.float32
    assert mg.arange(3, dtype=mg.float64).dtype == mg.float64
    assert mg.randn(2, 3).shape == (2, 3) and mg.rand((4,)).shape == (4,)
    w = mg.zeros(3, requires_grad=True)
    assert w.requires_grad and w.is_leaf


@pytest.mark.parametrize("value", [3, -1, True, 1.5, np.int32(2), np.float64(0.5)])
def test_full_takes_its_dtype_from_the_value_as_torch(value):
    # full((2,), -1) was float32, so an index tensor made with it could not index
    want = torch.full((2,), torch.tensor(value).item() if isinstance(value, np.generic) else value)
    got = mg.full((2,), value)
    assert got.dtype == {torch.int64: mg.int64, torch.bool: mg.bool_, torch.float32: mg.float32}[want.dtype]
    assert got.tolist() == want.tolist()


def test_facts_and_conversions():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    assert (x.shape, x.ndim, x.size(), x.size(1), x.numel(), len(x)) == ((2, 3), 2, (2, 3), 3, 6, 2)
    assert mg.tensor(3.5).item() == 3.5 and float(mg.tensor([2.0])) == 2.0 and int(mg.tensor(4.0)) == 4
    assert [row.tolist() for row in x] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert bool(mg.tensor(1.0)) and not bool(mg.tensor(0.0))
    with pytest.raises(ValueError, match=r"item.*\(2, 3\)"):
        x.item()
    with pytest.raises(ValueError, match=r"\(2, 3\) is ambiguous"):
        bool(x)
    with pytest.raises(TypeError, match="0-d"):
        len(mg.tensor(1.0))


def test_repr_shows_values_and_autograd_state():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x).startswith("tensor([1., 2.]") and "requires_grad=True" in repr(x)
    assert "grad_fn=<Mul>" in repr(x * 2.0)
    assert "grad" not in repr(mg.tensor([1.0]))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 1)])
def test_repr_of_an_empty_tensor_shows_its_shape_as_torch(shape):
    assert repr(mg.zeros(shape)) == repr(torch.zeros(shape))
    assert repr(mg.zeros(shape, requires_grad=True)) == repr(torch.zeros(shape, requires_grad=True))


def test_tensor_of_a_tensor_copies_nothing_but_makes_a_new_leaf():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor(x)
    assert y is not x and not y.requires_grad and y.tolist() == [1.0, 2.0]


def test_shape_helpers_match_numpy():
    a = np.arange(24.0).reshape(2, 1, 3, 4)
    x = mg.tensor(a)
    assert x.reshape(4, 6).shape == (4, 6) and x.reshape((4, -1)).shape == (4, 6)
    assert x.view(-1).shape == (24,) and x.flatten().shape == (24,)
    assert x.squeeze().shape == (2, 3, 4) and x.squeeze(1).shape == (2, 3, 4)
    assert x.squeeze(0).shape == (2, 1, 3, 4)  # not size 1: kept, as PyTorch does
    assert x.expand_dims(0).shape == (1, 2, 1, 3, 4) and x.unsqueeze(-1).shape == (2, 1, 3, 4, 1)
    np.testing.assert_array_equal(x.swapaxes(0, 3).numpy(), a.swapaxes(0, 3))
    np.testing.assert_array_equal(x.permute(3, 0, 1, 2).numpy(), a.transpose(3, 0, 1, 2))
    assert [t.shape for t in x.unbind(2)] == [(2, 1, 4)] * 3


def test_module_level_functions_match_the_methods():
    x = mg.tensor(np.array([[0.5, -1.0], [2.0, 0.25]]))
    for name in ("exp", "tanh", "sigmoid", "relu", "abs"):
        np.testing.assert_array_equal(getattr(mg, name)(x).numpy(), getattr(x, name)().numpy())
    np.testing.assert_array_equal(mg.sum(x, axis=0).numpy(), x.sum(axis=0).numpy())
    np.testing.assert_array_equal(mg.matmul(x, x).numpy(), (x @ x).numpy())
    np.testing.assert_array_equal(mg.maximum(x, 0.3).numpy(), x.maximum(0.3).numpy())
    np.testing.assert_array_equal(mg.transpose(x).numpy(), x.T.numpy())


def test_pos_and_clamp_alias():
    x = mg.tensor([-2.0, 0.5, 3.0])
    assert (+x) is x
    assert x.clamp(-1.0, 1.0).tolist() == [-1.0, 0.5, 1.0]


def test_requires_grad_false_on_a_non_leaf_is_refused():
    y = mg.tensor([1.0], requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def _iadd(x, y):
    x += y
    return x


def _isub(x, y):
    x -= y
    return x


def _imul(x, y):
    x *= y
    return x


def _idiv(x, y):
    x /= y
    return x


def _ipow(x, y):
    x **= y
    return x


IN_PLACE = {"+=": _iadd, "-=": _isub, "*=": _imul, "/=": _idiv, "**=": _ipow}


@pytest.mark.parametrize("op", sorted(IN_PLACE))
def test_augmented_assignment_to_a_leaf_that_requires_grad_is_refused_as_in_torch(op):
    # without the error, p -= lr * p.grad would rebind p to a new tensor and leave the
    # parameter unchanged, silently; PyTorch refuses in-place ops on such a leaf too
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match=rf"^{re.escape(op)} on a leaf tensor that requires grad "
                                           r"\(shape \(2, 2\)\).*no_grad"):
        IN_PLACE[op](x, mg.ones(2, 2))
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]] and x.is_leaf
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        IN_PLACE[op](t, torch.ones(2, 2))


@pytest.mark.parametrize("op", sorted(IN_PLACE))
def test_augmented_assignment_elsewhere_makes_a_new_tensor_with_torchs_values_and_gradient(op):
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = x * 1.5, t * 1.5
    kept = y
    y = IN_PLACE[op](y, mg.tensor(a))
    ty = IN_PLACE[op](ty, torch.tensor(a))
    assert y is not kept  # a new tensor (PyTorch changes ty in place): kept holds the old values
    np.testing.assert_array_equal(kept.numpy(), a * 1.5)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


def test_index_assignment_is_refused_and_where_builds_the_tensor_instead():
    # documented difference (no in-place ops); PyTorch has x[i] = v
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(TypeError, match="item assignment"):
        x[0] = 5.0
    y = mg.where(np.array([True, False, False]), 5.0, x)
    y.sum().backward()
    assert y.tolist() == [5.0, 2.0, 3.0] and x.grad.tolist() == [0.0, 1.0, 1.0]


def test_transpose_of_two_axes_swaps_them_as_torch_does():
    a = np.arange(6.0).reshape(2, 3)
    for axes in [(0, 1), (1, 0), (-2, -1)]:
        np.testing.assert_array_equal(mg.tensor(a).transpose(*axes).numpy(),
                                      torch.from_numpy(a).transpose(*axes).numpy())
    assert mg.tensor(a).permute(0, 1).shape == (2, 3)  # permute names every axis


def test_clip_takes_tensor_bounds_as_constants():
    x = mg.tensor([1.0, 1.0, 1.0], requires_grad=True)
    y = x.clip(min=mg.tensor([0.0, 2.0, 0.0]), max=mg.tensor([3.0, 3.0, 0.5]))
    assert y.tolist() == [1.0, 2.0, 0.5]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="clip: the max bound .* requires grad"):
        x.clip(max=mg.ones(3, requires_grad=True))
    with pytest.raises(ValueError, match="clip: give at least one of min and max"):
        x.clip()


def test_a_cast_to_an_integer_dtype_carries_no_gradient():
    x = mg.tensor([1.5, 2.5], requires_grad=True)
    assert not x.to(dtype=mg.int64).requires_grad and x.to(dtype=mg.int64).tolist() == [1, 2]
    assert x.to(dtype=mg.float64).requires_grad


def test_tensor_of_ragged_rows_or_of_a_string_array_is_an_error_naming_tensor():
    # a ragged list gave NumPy's message alone; a string array made a tensor of dtype <U1
    with pytest.raises(ValueError, match=r"^tensor: cannot make a tensor of a list of list: .*inhomogeneous"):
        mg.tensor([[1.0, 2.0], [3.0]])
    for array in (np.array(["a", "b"]), np.array([1, None], dtype=object)):
        with pytest.raises(TypeError, match=rf"^tensor: .*dtype {array.dtype}"):
            mg.tensor(array)


@pytest.mark.parametrize("data", [[mg.tensor(1.0), mg.tensor(2.0)], None, "abc", [2 ** 70]])
def test_tensor_refuses_data_that_is_not_numbers(data):
    with pytest.raises(TypeError, match="^tensor: cannot make a tensor of .* dtype"):
        mg.tensor(data)


def test_broadcast_to_takes_an_int_shape():
    assert mg.ones(1).broadcast_to(3).shape == (3,)


@pytest.mark.parametrize("axes", [(), (1,), (0, 1), (1, 2), (-2, -1), (2, 2)])
def test_flatten_merges_a_range_of_axes_as_torch_does(axes):
    a = np.arange(24.0).reshape(2, 3, 4)
    assert mg.tensor(a).flatten(*axes).shape == tuple(torch.from_numpy(a).flatten(*axes).shape)
    with pytest.raises(ValueError, match="^flatten: start_axis 2 comes after end_axis 1"):
        mg.tensor(a).flatten(2, 1)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), (-1, False)])
def test_argmax_and_argmin_match_torch_and_carry_no_gradient(name, axis, keepdims):
    a = np.array([[1.0, 5.0, 5.0], [7.0, -2.0, 0.0]])  # a tie: the first index wins
    got = getattr(mg.tensor(a, requires_grad=True), name)(axis=axis, keepdims=keepdims)
    t = torch.from_numpy(a)
    want = getattr(t, name)() if axis is None else getattr(t, name)(dim=axis, keepdim=keepdims)
    assert got.dtype == np.int64 and not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_argmax_errors_name_the_op():
    with pytest.raises(ValueError, match="^argmax: axis 2 is out of range"):
        mg.ones(2, 3).argmax(axis=2)
    with pytest.raises(ValueError, match="^argmin: cannot pick from an empty axis"):
        mg.zeros(0, 3).argmin(axis=0)


AXIS_USES = {
    "sum": lambda x, k: x.sum(axis=k), "mean": lambda x, k: x.mean(axis=(k, 0)),
    "max": lambda x, k: x.max(axis=k).values, "min": lambda x, k: x.amin(axis=[k]),
    "argmax": lambda x, k: x.argmax(axis=k), "softmax": lambda x, k: x.softmax(axis=k),
    "log_softmax": lambda x, k: x.log_softmax(k), "logsumexp": lambda x, k: x.logsumexp(axis=k),
    "transpose": lambda x, k: x.transpose(k, 0), "swapaxes": lambda x, k: x.swapaxes(k, 0),
    "squeeze": lambda x, k: x.expand_dims(k).squeeze(k), "flatten": lambda x, k: x.flatten(k - 1),
    "split": lambda x, k: mg.stack(x.split(k, axis=k)), "chunk": lambda x, k: mg.stack(x.chunk(k, axis=k)),
    "unbind": lambda x, k: mg.stack(x.unbind(axis=k)), "concat": lambda x, k: mg.concat([x, x], axis=k),
    "stack": lambda x, k: mg.stack([x, x], axis=k), "broadcast_to": lambda x, k: x[0, 0, :1].broadcast_to(k),
}


@pytest.mark.parametrize("use", sorted(AXIS_USES))
def test_numpy_integers_work_as_axes_and_sizes_as_python_ints(use):
    # an axis computed with NumPy (np.argmax(shape), np.int64(1)) is an index, as PyTorch takes it;
    # it was refused, or said "axis 1 is out of range for a tensor with 3 dimensions"
    x = mg.tensor(np.arange(24.0).reshape(2, 3, 4))
    want = AXIS_USES[use](x, 2)
    got = AXIS_USES[use](x, np.int64(2))
    assert got.shape == want.shape and got.tolist() == want.tolist()


# --- assigning to .data -------------------------------------------------------------------------
def test_the_hand_written_sgd_step_updates_the_array_as_pytorch_does():
    # p.data -= lr * p.grad made p.data a Tensor (NumPy's in-place subtraction defers to
    # Tensor.__rsub__), and the next forward failed with an unrelated transpose error
    w0 = np.random.default_rng(0).standard_normal((2, 3))
    x0 = np.random.default_rng(1).standard_normal((4, 3))
    w, tw = mg.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    for _ in range(3):
        (mg.tensor(x0) @ w.T).tanh().sum().backward()
        (torch.tensor(x0) @ tw.T).tanh().sum().backward()
        w.data -= 0.1 * w.grad
        tw.data -= 0.1 * tw.grad
        w.grad, tw.grad = None, None
    assert type(w._data) is np.ndarray and w.data.dtype == np.float64
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-12)


def test_data_takes_an_array_of_the_same_shape_dtype_and_device():
    t = mg.tensor(np.zeros((2, 3), dtype=np.float32))
    new = np.ones((2, 3), dtype=np.float32)
    t.data = new
    assert t._data is new
    t.data = mg.tensor(new * 2)  # a Tensor: its array
    np.testing.assert_array_equal(t.numpy(), new * 2)


@pytest.mark.parametrize("value, error, message", [
    ([[1.0] * 3] * 2, TypeError, r"assign an array of shape \(2, 3\), dtype float32, on cpu; got a "
                                 r"list\. To set values in place write t\.data\[\.\.\.\] = values"),
    (np.zeros((3, 2), dtype=np.float32), ValueError, r"got shape \(3, 2\)\. For another shape make a "
                                                     r"new tensor"),
    (np.zeros((2, 3)), TypeError, r"got dtype float64: write t\.data = values\.astype\('float32'\)"),
    (2.0, TypeError, "got a float"),
])
def test_data_refuses_anything_else_and_says_what_to_write(value, error, message):
    t = mg.tensor(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(error, match=message):
        t.data = value
    np.testing.assert_array_equal(t.numpy(), np.zeros((2, 3)))  # unchanged


def test_data_of_a_0d_tensor_takes_a_numpy_scalar():
    # what a 0-d op may return (NumPy gives np.float64 for some 0-d results)
    t = mg.tensor(np.array(1.0))
    t.data = np.float64(2.5)
    assert t.data.shape == () and t.item() == 2.5
