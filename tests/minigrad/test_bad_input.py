"""Bad input raises ValueError / TypeError / IndexError naming the op and the shapes or dtypes,
where the bad value enters."""
import numpy as np
import pytest

import minigrad as mg

x23 = mg.ones(2, 3)
BAD = [
    ("add: broadcast", lambda: x23 + mg.ones(4), ValueError, r"^add:.*\(2, 3\).*\(4,\)"),
    ("mul: broadcast", lambda: x23 * mg.ones(3, 2), ValueError, r"^mul:.*\(2, 3\).*\(3, 2\)"),
    ("maximum: broadcast", lambda: x23.maximum(mg.ones(2)), ValueError, r"^maximum:.*\(2, 3\).*\(2,\)"),
    ("where: broadcast", lambda: mg.where(np.ones(2, bool), x23, x23), ValueError, r"^where:.*\(2, 3\)"),
    ("matmul: inner", lambda: x23 @ mg.ones(2, 3), ValueError, r"^matmul:.*\(2, 3\) @ \(2, 3\)"),
    ("matmul: batch", lambda: mg.ones(2, 2, 3) @ mg.ones(3, 3, 4), ValueError, r"^matmul:.*\(2, 2, 3\).*\(3, 3, 4\)"),
    ("matmul: list", lambda: x23 @ [1.0, 2.0, 3.0], TypeError, r"^matmul: .*tensors.*got a list"),
    ("matmul: number", lambda: 2.0 @ x23, TypeError, r"^matmul: .*tensors.*got a float"),
    ("matmul: 0-d", lambda: x23 @ mg.tensor(2.0), ValueError, r"^matmul:.*\(2, 3\).*\(\)"),
    ("addmm: vector", lambda: mg.addmm(mg.ones(2), x23, mg.ones(3)), ValueError, r"^addmm:.*\(2, 3\).*\(3,\)"),
    ("addmm: inner", lambda: mg.addmm(mg.ones(2), x23, mg.ones(2, 2)), ValueError, r"^addmm:.*\(2, 3\) @ \(2, 2\)"),
    ("addmm: c shape", lambda: mg.addmm(mg.ones(3, 4), x23, mg.ones(3, 4)), ValueError,
     r"^addmm: c of shape \(3, 4\) does not broadcast to .*\(2, 4\)"),
    ("addmm: dtypes", lambda: mg.addmm(mg.ones(4).double(), x23, mg.ones(3, 4)), TypeError, r"^addmm:.*float64.*float32"),
    ("concat: shapes", lambda: mg.concat([x23, mg.ones(3, 3)], axis=1), ValueError, r"^concat:.*\(2, 3\), \(3, 3\)"),
    ("concat: ndim", lambda: mg.concat([x23, mg.ones(3)]), ValueError, r"^concat:.*\(2, 3\), \(3,\)"),
    ("concat: ndim, last axis", lambda: mg.concat([x23, mg.ones(2)], axis=-1), ValueError,
     r"^concat:.*\(2, 3\), \(2,\)"),
    ("concat: empty", lambda: mg.concat([]), ValueError, r"^concat:"),
    # elements that are not tensors, and a tensor instead of a list (PyTorch: TypeError too)
    ("stack: floats", lambda: mg.stack([1.0, 2.0]), TypeError, r"^stack: element 0 is a float, not a Tensor"),
    ("stack: a float", lambda: mg.stack([mg.tensor(1.0), 2.0]), TypeError, r"^stack: element 1 is a float"),
    ("concat: a list", lambda: mg.concat([x23, [[1.0, 2.0, 3.0]]]), TypeError, r"^concat: .*got a list .* as input 1"),
    ("concat: one tensor", lambda: mg.concat(x23), TypeError, r"^concat: takes a list or tuple .*\(2, 3\)"),
    ("stack: one tensor", lambda: mg.stack(x23, axis=1), TypeError, r"^stack: takes a list or tuple .*\(2, 3\)"),
    ("stack: shapes", lambda: mg.stack([x23, mg.ones(3, 2)]), ValueError, r"^stack:.*\(2, 3\), \(3, 2\)"),
    # NumPy would promote to float64 in either order, silently: both orders are refused
    ("concat: dtypes", lambda: mg.concat([x23, x23.double()]), TypeError, r"^concat:.*float64.*float32"),
    ("stack: dtypes", lambda: mg.stack([x23.double(), x23]), TypeError, r"^stack:.*float32.*float64"),
    ("reshape", lambda: x23.reshape(4, 2), ValueError, r"^reshape:.*\(2, 3\)"),
    ("broadcast_to", lambda: x23.broadcast_to((3, 3)), ValueError, r"^broadcast_?to:.*\(2, 3\)"),
    ("broadcast_to: -1 in a new axis", lambda: x23.broadcast_to((-1, 2, 3)), ValueError,
     r"^broadcast_to: -1 .*\(-1, 2, 3\).*\(2, 3\)"),
    ("split: sizes", lambda: x23.split([1, 2]), ValueError, r"^split:.*\[1, 2\].*\(2, 3\)"),
    ("split: size 0", lambda: x23.split(0), ValueError, r"^split:.*0"),
    ("chunk: 0 chunks", lambda: x23.chunk(0), ValueError, r"^chunk:.*0"),
    # a 0-d tensor has no axis to cut (PyTorch refuses too); was "tuple index out of range"
    ("split: 0-d", lambda: mg.tensor(1.0).split(1), ValueError, r"^split: .*at least 1 dimension.*0-d"),
    ("chunk: 0-d", lambda: mg.tensor(1.0).chunk(1), ValueError, r"^chunk: .*at least 1 dimension.*0-d"),
    ("unbind: 0-d", lambda: mg.tensor(1.0).unbind(), ValueError, r"^unbind: .*at least 1 dimension.*0-d"),
    ("getitem: out of range", lambda: x23[5], IndexError, r"^getitem:.*5.*\(2, 3\)"),
    ("clip: bound shape", lambda: x23.clip(np.ones((3, 1))), ValueError, r"^clip:.*\(2, 3\)"),
    ("arange: step 0", lambda: mg.arange(0, 1, 0), ValueError, r"^arange: step must be nonzero"),
    ("mT: vector", lambda: mg.ones(3).mT, ValueError, r"^mT: needs a matrix .* shape \(3,\)"),
    ("mT: 0-d", lambda: mg.tensor(1.0).mT, ValueError, r"^mT: .* shape \(\)"),
]
BAD_AXIS = [
    ("sum", lambda: x23.sum(axis=2)),
    ("mean", lambda: x23.mean(axis=(0, -3))),
    ("max", lambda: x23.max(axis=-3)),
    ("min", lambda: x23.min(axis=5)),
    ("softmax", lambda: x23.softmax(axis=2)),
    ("log_softmax", lambda: mg.log_softmax(x23, axis=-3)),
    ("logsumexp", lambda: x23.logsumexp(axis=(0, 2))),
    ("concat", lambda: mg.concat([x23, x23], axis=2)),
    ("stack", lambda: mg.stack([x23, x23], axis=4)),
    ("split", lambda: x23.split(1, axis=2)),
    ("chunk", lambda: x23.chunk(2, axis=-3)),
    ("unbind", lambda: x23.unbind(axis=2)),
    ("squeeze", lambda: x23.squeeze(2)),
    ("expand_dims", lambda: x23.expand_dims(3)),
    ("transpose", lambda: x23.permute(0, 0)),
    ("transpose", lambda: x23.transpose(0, 2)),
    ("swapaxes", lambda: x23.swapaxes(0, 5)),
]


@pytest.mark.parametrize("name, make, error, pattern", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_op_and_shapes(name, make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


@pytest.mark.parametrize("op, make", BAD_AXIS, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD_AXIS)])
def test_a_bad_axis_names_the_op(op, make):
    with pytest.raises(ValueError, match=rf"^{op}: .*axis|^{op}: .*axes"):
        make()


@pytest.mark.parametrize("axis", [1.5, "1", (0, 1.0)])
def test_an_axis_that_is_not_an_integer_is_a_type_error_that_says_so(axis):
    # it said "sum: axis 1.5 is out of range for a tensor with 2 dimensions"
    with pytest.raises(TypeError, match=r"^sum: an axis must be an integer, got "):
        x23.sum(axis=axis)


def test_stack_in_a_backward_takes_the_numpy_scalars_that_0d_gradients_are():
    # unbind's backward stacks the pieces' gradients; arithmetic on 0-d arrays makes NumPy scalars
    x = mg.tensor(np.array([1.5, -2.0]), requires_grad=True)
    assert mg.gradcheck(lambda t: mg.stack([p * 3.0 for p in t.unbind()]), [x])


def test_a_repeated_axis_is_an_error():
    with pytest.raises(ValueError, match=r"^sum: repeated axis"):
        x23.sum(axis=(1, -1))


def test_softmax_wants_one_axis():
    with pytest.raises(TypeError, match=r"^softmax: axis must be one int"):
        x23.softmax(axis=(0, 1))


def test_max_of_an_empty_tensor():
    with pytest.raises(ValueError, match=r"^max: .*empty.*\(0, 2\)"):
        mg.ones(0, 2).max()


def test_failed_op_records_nothing_and_leaves_inputs_unchanged():
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError):
        x + mg.ones(4, dtype=mg.float64)
    assert x.grad is None and x.is_leaf
    np.testing.assert_array_equal(x.numpy(), np.ones((2, 3)))


@pytest.mark.parametrize("make", [lambda torch: torch.ones(2), lambda torch: torch.ones(2, dtype=torch.float64)])
def test_a_pytorch_tensor_operand_is_refused_by_name(make):
    # tensor + torch.Tensor raised AttributeError about torch.dtype
    import torch

    x = mg.tensor(np.ones(2))
    with pytest.raises(TypeError, match=r"add: operands must be tensors, arrays or numbers, got a "
                                        r"torch\.Tensor \(tensor\(\[1\., 1\.\].*\) as input 1; make it a "
                                        r"tensor first: minigrad\.tensor\(x\.detach\(\)\.numpy\(\)"):
        x + make(torch)
