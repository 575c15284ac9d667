"""Documented choices where ops could reasonably differ, and numerical stability."""
import warnings

import numpy as np
import pytest
import torch

import minigrad as mg
from op_cases import torch_index


def leaf(array, device="cpu"):
    return mg.tensor(np.asarray(array, dtype=np.float64), device=device, requires_grad=True)


def grads_of(fn, array, weights, device="cpu"):
    x = leaf(array, device)
    (fn(x) * mg.tensor(weights, device=device)).sum().backward()
    return x.grad.numpy()


def torch_grads_of(fn, array, weights):
    t = torch.tensor(array, requires_grad=True)
    (fn(t) * torch.from_numpy(weights)).sum().backward()
    return t.grad.numpy()


# --- max/min split the gradient evenly among ties (torch.amax / amin) -------------------------
TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 0.0]])


@pytest.mark.parametrize("name, torch_fn", [("amax", torch.amax), ("amin", torch.amin)])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_reductions_split_the_gradient_evenly_among_ties(name, torch_fn, axis, device):
    x = leaf(TIES, device)
    getattr(x, name)(axis=axis).sum().backward()
    t = torch.tensor(TIES, requires_grad=True)
    (torch_fn(t) if axis is None else torch_fn(t, dim=axis)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_max_of_a_row_of_equal_values_shares_one_gradient():
    x = leaf([[2.0, 2.0, 2.0, 1.0]])
    x.amax(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1 / 3, 1 / 3, 1 / 3, 0.0]])


@pytest.mark.parametrize("name, torch_fn", [("maximum", torch.maximum), ("minimum", torch.minimum)])
def test_elementwise_maximum_minimum_split_ties_in_half(name, torch_fn):
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 0.0])
    x, y = leaf(a), leaf(b)
    getattr(x, name)(y).sum().backward()
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    torch_fn(ta, tb).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(y.grad.numpy(), tb.grad.numpy())


# --- NaN inputs: forward values as PyTorch; gradients as PyTorch except where documented ----
NAN = np.array([np.nan, -1.0, -0.0, 0.0, 2.0])


def test_relu_passes_the_gradient_at_nan_as_pytorch_does(device):
    x = leaf(NAN, device)
    y = x.relu()
    y.sum().backward()
    t = torch.tensor(NAN, requires_grad=True)
    z = torch.relu(t)
    z.sum().backward()
    np.testing.assert_array_equal(y.numpy(), z.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())  # 1 at NaN (mask was 0)


# --- where sends nothing to the side it did not choose --------------------------------------------
WHERE_INF = [
    ("where(x > 0, x, 0).sqrt()", lambda x, w: w(x > 0, x, 0.0).sqrt()),
    ("where(x <= 0, 0, x).sqrt()", lambda x, w: w(x <= 0, 0.0, x).sqrt()),
]


@pytest.mark.parametrize("name, fn", WHERE_INF, ids=[w[0] for w in WHERE_INF])
def test_where_sends_zero_to_the_unchosen_side_even_where_the_gradient_is_infinite(name, fn):
    # an infinite gradient (sqrt or log at 0) arriving at a position where the other side was
    # chosen gave inf * 0 = NaN there, as the zeros were made as grad * 0.0
    a = np.array([0.0, 4.0, -1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # sqrt'(0), log(0)
        x = leaf(a)
        fn(x, mg.where).sum().backward()
    t = torch.tensor(a, requires_grad=True)
    fn(t, torch.where).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_relu_then_sqrt_at_0_gives_pytorchs_gradient_as_where_does():
    # relu's backward selects (it multiplied by its mask: inf * 0 = NaN, PyTorch 0)
    a = np.array([-1.0, 0.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        relu_first = grads_of(lambda x: x.relu().sqrt(), a, np.ones(3))
        where_first = grads_of(lambda x: mg.where(x > 0, x, 0.0).sqrt(), a, np.ones(3))
    expected = torch_grads_of(lambda t: t.relu().sqrt(), a, np.ones(3))
    np.testing.assert_array_equal(relu_first, expected)
    np.testing.assert_array_equal(where_first, expected)


# --- split / chunk follow PyTorch ----------------------------------------------------------
@pytest.mark.parametrize("length, size", [(6, 2), (7, 3), (5, 5), (4, 9), (5, 1)])
def test_split_by_an_int_means_the_piece_size(length, size):
    pieces = mg.arange(length).split(size)
    expected = torch.arange(length).split(size)
    assert [p.tolist() for p in pieces] == [e.tolist() for e in expected]


@pytest.mark.parametrize("length, chunks", [(6, 4), (7, 3), (5, 5), (2, 4), (10, 3)])
def test_chunk_makes_at_most_n_pieces_like_torch(length, chunks):
    pieces = mg.arange(length).chunk(chunks)
    expected = torch.arange(length).chunk(chunks)
    assert [p.tolist() for p in pieces] == [e.tolist() for e in expected]


def test_split_gradient_for_pieces_that_were_not_used():
    x = leaf(np.arange(6.0))
    first, _, third = x.split(2)
    (first * 2.0 + third).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 0.0, 0.0, 1.0, 1.0])


# --- transpose ---------------------------------------------------------------------------------
def test_dot_T_reverses_all_axes_like_numpy():
    a = np.arange(24.0).reshape(2, 3, 4)
    assert leaf(a).T.shape == (4, 3, 2)
    np.testing.assert_array_equal(leaf(a).T.numpy(), a.T)
    np.testing.assert_array_equal(leaf(a).transpose().numpy(), a.transpose())
    np.testing.assert_array_equal(leaf(a).transpose(1, 2, 0).numpy(), a.transpose(1, 2, 0))
    np.testing.assert_array_equal(leaf(a).transpose((2, 0, 1)).numpy(), a.transpose(2, 0, 1))


# --- indexing --------------------------------------------------------------------------------------
def test_repeated_integer_indices_accumulate_their_gradients(device):
    x = leaf(np.arange(4.0), device)
    x[np.array([0, 2, 2, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 3.0, 0.0])


def test_repeated_pairs_of_indices_accumulate(device):
    x = leaf(np.zeros((2, 3)), device)
    weights = np.array([1.0, 10.0, 100.0])
    (x[np.array([1, 1, 0]), np.array([2, 2, 0])] * mg.tensor(weights, device=device)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[100.0, 0.0, 0.0], [0.0, 0.0, 11.0]])


@pytest.mark.parametrize("index", [
    [2, 0, 2],
    mg.tensor(np.array([1, 1, 0])),
    (mg.tensor(np.array([True, False, True])), 1),
], ids=["list", "int tensor", "bool tensor"])
def test_lists_and_tensors_work_as_indexes(index):
    a = np.arange(9.0).reshape(3, 3)
    raw = tuple(i.numpy() if isinstance(i, mg.Tensor) else i for i in index) if isinstance(index, tuple) \
        else (index.numpy() if isinstance(index, mg.Tensor) else np.array(index))
    weights = np.random.default_rng(0).standard_normal(a[raw].shape)
    np.testing.assert_array_equal(leaf(a)[index].numpy(), a[raw])
    np.testing.assert_allclose(grads_of(lambda x: x[index], a, weights),
                               torch_grads_of(lambda t: t[torch_index(raw)], a, weights))


def test_a_list_of_lists_index_is_one_integer_array_as_in_numpy():
    # documented difference: PyTorch 2.13 still reads x[[[0, 1], [1, 1]]] as x[[0, 1], [1, 1]]
    # (with a warning that it will read it as x[torch.tensor(...)], as minigrad does)
    a = np.arange(6.0).reshape(3, 2)
    index = [[0, 1], [1, 1]]
    np.testing.assert_array_equal(leaf(a)[index].numpy(), torch.from_numpy(a)[torch.tensor(index)])
    np.testing.assert_array_equal(leaf(a)[tuple(index)].numpy(),
                                  torch.from_numpy(a)[tuple(index)].numpy())


def test_an_int_and_an_array_apart_put_the_picked_axis_first_as_in_numpy():
    # documented difference: PyTorch applies the int first, x[0][:, idx], and gives (3, 3)
    a = np.arange(24.0).reshape(2, 3, 4)
    idx = np.array([1, 1, 0])
    assert leaf(a)[0, :, idx].shape == a[0, :, idx].shape == (3, 3)
    np.testing.assert_array_equal(leaf(a)[0, :, idx].numpy(), a[0, :, idx])
    np.testing.assert_array_equal(leaf(a)[0][:, idx].numpy(),
                                  torch.from_numpy(a)[0, :, torch.from_numpy(idx)].numpy())
    assert mg.gradcheck(lambda x: x[0, :, idx], [leaf(a)])


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
def test_an_empty_tuple_of_axes_reduces_nothing_as_in_numpy(name):
    # documented difference: PyTorch's dim=() reduces every axis
    a = np.arange(6.0).reshape(2, 3)
    x = leaf(a)
    y = getattr(x, name)(axis=())
    np.testing.assert_array_equal(y.numpy(), getattr(np, name)(a, axis=()))
    (y * mg.tensor(a)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), a)


@pytest.mark.parametrize("index", [[], (slice(None), []), (Ellipsis, [], None)],
                         ids=["[]", "[:, []]", "[..., [], None]"])
def test_an_empty_list_index_picks_nothing_as_in_torch(index):
    a = np.arange(6.0).reshape(2, 3)
    x, t = leaf(a), torch.tensor(a, requires_grad=True)
    y, ty = x[index], t[index]
    assert y.shape == tuple(ty.shape)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("index", [slice(None, None, -1), (slice(None), slice(3, 0, -2)),
                                   (Ellipsis, slice(None, None, -3)), (slice(-1, None, -1), 0)])
def test_negative_slice_steps_match_numpy_and_gradcheck(index):
    a = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_array_equal(leaf(a)[index].numpy(), a[index])
    assert mg.gradcheck(lambda x: x[index], [leaf(a)])


def test_a_boolean_mask_that_does_not_fit_names_both_shapes():
    with pytest.raises(IndexError, match=r"\(2,\).*\(3, 3\)"):
        leaf(np.ones((3, 3)))[np.array([True, False])]


# --- numerical stability at +-1e4 --------------------------------------------------------------
EXTREME = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4 + 1.0, -1e4, -1e4], [1e4, 1e4, 1e4 - 2.0, 5.0]])
STABLE = [
    ("softmax", lambda x: mg.softmax(x, -1), lambda t: torch.softmax(t, -1)),
    ("log_softmax", lambda x: mg.log_softmax(x, -1), lambda t: torch.log_softmax(t, -1)),
    ("log_softmax axis 0", lambda x: x.log_softmax(0), lambda t: torch.log_softmax(t, 0)),
    ("logsumexp", lambda x: mg.logsumexp(x, axis=1), lambda t: torch.logsumexp(t, 1)),
    ("logsumexp all", lambda x: x.logsumexp(), lambda t: torch.logsumexp(t, (0, 1))),
    ("sigmoid", lambda x: x.sigmoid(), lambda t: t.sigmoid()),
    ("tanh", lambda x: x.tanh(), lambda t: t.tanh()),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, fn, torch_fn", STABLE, ids=[s[0] for s in STABLE])
def test_stable_at_plus_minus_1e4(name, fn, torch_fn, dtype, device):
    a = EXTREME.astype(dtype)
    weights = np.random.default_rng(0).standard_normal(torch_fn(torch.from_numpy(a)).shape).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = mg.tensor(a, device=device, requires_grad=True)
        y = fn(x)
        (y * mg.tensor(weights, device=device)).sum().backward()
    assert y.dtype == x.grad.dtype == np.dtype(dtype)
    assert np.isfinite(y.numpy()).all() and np.isfinite(x.grad.numpy()).all()
    # the reference is PyTorch in float64 (in float32 minigrad's logsumexp gradient is the closer one)
    t = torch.tensor(EXTREME, requires_grad=True)
    ty = torch_fn(t)
    (ty * torch.from_numpy(weights.astype("float64"))).sum().backward()
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name, fn, torch_fn", STABLE[:5], ids=[s[0] for s in STABLE[:5]])
def test_second_derivatives_stable_at_plus_minus_1e4(name, fn, torch_fn):
    rng = np.random.default_rng(1)
    weights = rng.standard_normal(torch_fn(torch.from_numpy(EXTREME)).shape)
    direction = rng.standard_normal(EXTREME.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = leaf(EXTREME)
        (g,) = mg.grad((fn(x) * mg.tensor(weights)).sum(), [x], create_graph=True)
        (h,) = mg.grad((g * mg.tensor(direction)).sum(), [x])
    t = torch.tensor(EXTREME, requires_grad=True)
    (tg,) = torch.autograd.grad((torch_fn(t) * torch.from_numpy(weights)).sum(), [t], create_graph=True)
    (th,) = torch.autograd.grad((tg * torch.from_numpy(direction)).sum(), [t])
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10, atol=1e-12)


def test_softmax_rows_sum_to_one_at_extremes():
    p = mg.softmax(mg.tensor(EXTREME), axis=-1).numpy()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)


# --- infinities, empty axes and 0-d tensors, as PyTorch ---------------------------------------
@pytest.mark.parametrize("values", [[-np.inf, -np.inf], [np.inf, 1.0], [3.0, -np.inf, 1.0], []])
def test_logsumexp_of_infinities_and_of_nothing(values):
    a = np.array(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log(0) for the all -inf case
        got = mg.tensor(a).logsumexp().item()
    assert got == torch.logsumexp(torch.from_numpy(a), 0).item()


def test_logsumexp_gradient_skips_minus_infinity():
    a = np.array([3.0, -np.inf, 1.0])
    np.testing.assert_allclose(grads_of(lambda x: x.logsumexp(), a, np.array(1.0)),
                               torch_grads_of(lambda t: t.logsumexp(0), a, np.array(1.0)))


@pytest.mark.parametrize("fn", [lambda x: x.amax(axis=1), lambda x: x.sum(axis=1),
                                lambda x: x.softmax(-1), lambda x: x.log_softmax(-1),
                                lambda x: x.logsumexp(axis=-1)])
def test_an_empty_batch_reduces_over_its_non_empty_axis(fn):
    assert fn(mg.zeros(0, 5)).shape[:1] == (0,)


def test_reducing_an_empty_axis_with_max_is_an_error():
    with pytest.raises(ValueError, match=r"^max: cannot reduce an empty axis.*\(0, 5\)"):
        mg.zeros(0, 5).max(axis=0)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("axis", [0, -1])
def test_a_0d_tensor_takes_axis_0_and_minus_1(name, axis):
    torch_name = name
    got = getattr(mg.tensor(np.array(1.5)), name)(axis=axis)
    want = getattr(torch, torch_name)(torch.tensor(1.5, dtype=torch.float64), axis)
    assert got.shape == () and got.item() == pytest.approx(want.item())


# --- pow where the exponent is 0, or the base a negative number --------------------------------
POW_AT_ZERO = [
    ("x ** 0", lambda x, b: x ** 0),
    ("x ** 0.0", lambda x, b: x ** 0.0),
    ("x ** 1", lambda x, b: x ** 1),  # its second derivative is that of x ** 0
    ("x ** b", lambda x, b: x ** b),
]


@pytest.mark.parametrize("name, fn", POW_AT_ZERO, ids=[p[0] for p in POW_AT_ZERO])
def test_pow_derivative_where_the_exponent_is_0_is_0_at_base_0_as_torch(name, fn):
    # d(a^b)/da = b a^(b-1) is 0 * 0^-1 = NaN at a = 0, b = 0; PyTorch takes it as 0 (a^0 = 1)
    a, b = np.array([0.0, 0.0, -2.0, 3.0]), np.array([0.0, 1.0, 0.0, 2.0])
    x, exponent = leaf(a), mg.tensor(b)
    (g,) = mg.grad(fn(x, exponent).sum(), [x], create_graph=True)
    t, texponent = torch.tensor(a, requires_grad=True), torch.tensor(b)
    (tg,) = torch.autograd.grad(fn(t, texponent).sum(), [t], create_graph=True)
    np.testing.assert_array_equal(g.numpy(), tg.detach().numpy())
    assert g.requires_grad == tg.requires_grad  # x ** 0: a constant, no graph to differentiate
    if g.requires_grad:
        (h,) = mg.grad(g.sum(), [x])
        (th,) = torch.autograd.grad(tg.sum(), [t])
        # PyTorch's second derivative of x ** b is NaN at a = b = 0 (its where multiplies the
        # unchosen side's 0 * 0^-2 = NaN by 0); a^0 = 1 has second derivative 0 there
        np.testing.assert_array_equal(h.numpy(), np.nan_to_num(th.numpy()))


def test_pow_of_a_negative_python_base_has_the_gradient_torch_has():
    # d(c^x)/dx = c^x log c: NaN for c < 0, as PyTorch (math.log(-2.0) raised a ValueError)
    a = np.array([2.0, 3.0])
    np.testing.assert_array_equal(grads_of(lambda x: (-2.0) ** x, a, np.ones(2)),
                                  torch_grads_of(lambda t: (-2.0) ** t, a, np.ones(2)))
