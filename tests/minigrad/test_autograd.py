"""backward, grad, create_graph/retain_graph, no_grad/enable_grad, long graphs and memory."""
import gc
import weakref

import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad.tensor import unwrap


def leaf(array, device="cpu"):
    return mg.tensor(np.asarray(array, dtype=np.float64), device=device, requires_grad=True)


def tleaf(array):
    return torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


# --- Tensor.backward ---------------------------------------------------------------------------
def test_backward_of_a_scalar_fills_leaf_grads(device):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    x, y = leaf(a, device), leaf(b, device)
    ((x * y).tanh().sum() + (y ** 2).sum()).backward()
    tx, ty = tleaf(a), tleaf(b)
    ((tx * ty).tanh().sum() + (ty ** 2).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12)
    assert x.grad.device == device and not x.grad.requires_grad


def test_backward_with_explicit_grad_on_a_non_scalar():
    rng = np.random.default_rng(1)
    a, seed = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    x, tx = leaf(a), tleaf(a)
    x.exp().backward(mg.tensor(seed))
    tx.exp().backward(torch.from_numpy(seed))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_backward_accepts_an_array_as_grad():
    x = leaf([1.0, 2.0])
    (x * 3.0).backward(np.array([1.0, -1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, -3.0])


def test_a_seed_of_another_dtype_is_cast_to_the_outputs_dtype_as_torch():
    x = mg.tensor([1.0, 2.0], requires_grad=True)  # float32
    (x * 3.0).backward(mg.tensor(np.array([1.0, 0.5])))  # a float64 seed
    (g,) = mg.grad(x * 3.0, x, grad_outputs=mg.tensor(np.array([1.0, 0.5])))
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    (t * 3.0).backward(torch.tensor([1.0, 0.5], dtype=torch.float64))
    assert x.grad.dtype == g.dtype == mg.float32 and t.grad.dtype == torch.float32
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    np.testing.assert_array_equal(g.numpy(), t.grad.numpy())


def test_backward_on_a_non_scalar_without_grad_names_the_shape():
    y = leaf(np.ones((2, 3))) * 2.0
    with pytest.raises(ValueError, match=r"backward.*\(2, 3\)"):
        y.backward()


def test_backward_with_a_grad_of_the_wrong_shape_names_both_shapes():
    y = leaf(np.ones((2, 3))) * 2.0
    with pytest.raises(ValueError, match=r"backward.*\(3,\).*\(2, 3\)"):
        y.backward(mg.ones(3, dtype=mg.float64))


def test_backward_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (mg.ones(2) * 2.0).sum().backward()


def test_grads_accumulate_across_backward_calls_without_mutating_the_old_grad():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    first = x.grad
    first_values = first.numpy().copy()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0 + 3.0, 4.0 + 3.0])
    np.testing.assert_array_equal(first.numpy(), first_values)


def test_a_gradient_shared_by_two_leaves_is_never_changed_in_place():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    grad_b = b.grad
    (a * 5.0).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [6.0, 6.0])
    np.testing.assert_array_equal(grad_b.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_the_seed_gradient_is_not_changed_in_place():
    x = leaf([1.0, 2.0, 3.0])
    seed = mg.tensor(np.array([1.0, 1.0, 1.0]))
    y = x * 1.0
    (y + y + y * 2.0).backward(seed)  # y's node receives three gradients to sum
    np.testing.assert_array_equal(seed.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0, 4.0])


def test_fan_out_and_fan_in_sum_gradients():
    x = leaf([0.5, -1.0])
    y = x.tanh()
    z = (y * y + y.exp() + y).sum()
    z.backward()
    t = tleaf([0.5, -1.0])
    ty = t.tanh()
    (ty * ty + ty.exp() + ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_only_leaves_that_require_grad_get_a_grad():
    x, c = leaf([1.0, 2.0]), mg.tensor(np.array([3.0, 4.0]))
    y = x * 2.0
    (y * c).sum().backward()
    assert c.grad is None and y.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 8.0])


def test_backward_through_a_leaf_used_twice_in_one_op():
    x = leaf([3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0])


# --- minigrad.grad -----------------------------------------------------------------------------
def test_grad_returns_gradients_and_leaves_dot_grad_alone():
    x, y = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    gx, gy = mg.grad((x * y).sum(), [x, y])
    np.testing.assert_array_equal(gx.numpy(), [3.0, -1.0])
    np.testing.assert_array_equal(gy.numpy(), [1.0, 2.0])
    assert x.grad is None and y.grad is None


def test_grad_of_a_single_input_is_a_one_element_tuple():
    x = leaf([1.0, 2.0])
    result = mg.grad((x ** 2).sum(), x)
    assert isinstance(result, tuple) and len(result) == 1
    np.testing.assert_array_equal(result[0].numpy(), [2.0, 4.0])


def test_grad_with_grad_outputs_and_several_outputs_matches_torch():
    rng = np.random.default_rng(2)
    a, g1, g2 = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(())
    x, tx = leaf(a), tleaf(a)
    outs = [x.sigmoid(), (x * x).sum()]
    touts = [tx.sigmoid(), (tx * tx).sum()]
    (gx,) = mg.grad(outs, [x], grad_outputs=[mg.tensor(g1), mg.tensor(g2)])
    (tgx,) = torch.autograd.grad(touts, [tx], grad_outputs=[torch.from_numpy(g1), torch.from_numpy(g2)])
    np.testing.assert_allclose(gx.numpy(), tgx.numpy(), rtol=1e-12)


def test_grad_of_an_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    (gh,) = mg.grad((h * h).sum(), [h])
    np.testing.assert_array_equal(gh.numpy(), [6.0, 12.0])


def test_grad_of_an_unused_input_raises_unless_allowed():
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises(ValueError, match="input 1"):
        mg.grad((x * 2.0).sum(), [x, unused])
    gx, gu = mg.grad((x * 2.0).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_grad_of_an_input_listed_twice_gives_its_gradient_twice_as_torch():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    y = (h * x).sum()
    gx1, gh1, gx2, gh2 = mg.grad(y, [x, h, x, h])
    t = tleaf([1.0, 2.0])
    th = t * 3.0
    tx1, th1, tx2, th2 = torch.autograd.grad((th * t).sum(), [t, th, t, th])
    for g, tg in [(gx1, tx1), (gx2, tx2), (gh1, th1), (gh2, th2)]:
        np.testing.assert_allclose(g.numpy(), tg.numpy())


def test_grad_of_an_input_that_does_not_require_grad_raises():
    with pytest.raises(ValueError, match="does not require grad"):
        mg.grad((leaf([1.0]) * 2.0).sum(), [mg.tensor([1.0])])


def test_grad_frees_the_graph_unless_retained():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    mg.grad(y, [x], retain_graph=True)
    (g,) = mg.grad(y, [x])
    np.testing.assert_allclose(g.numpy(), np.exp([1.0, 2.0]) * np.array([2.0, 3.0]))
    with pytest.raises(RuntimeError, match="retain_graph"):
        mg.grad(y, [x])


# --- higher-order gradients ----------------------------------------------------------------------
def test_second_derivative_of_tanh():
    a = np.linspace(-2.0, 2.0, 7)
    x = leaf(a)
    (g,) = mg.grad(x.tanh().sum(), [x], create_graph=True)
    assert g.requires_grad
    (g2,) = mg.grad(g.sum(), [x])
    t = np.tanh(a)
    np.testing.assert_allclose(g.numpy(), 1.0 - t ** 2, rtol=1e-12)
    np.testing.assert_allclose(g2.numpy(), -2.0 * t * (1.0 - t ** 2), rtol=1e-12, atol=1e-15)


def test_third_derivative_of_tanh():
    a = np.linspace(-2.0, 2.0, 5)
    x = leaf(a)
    (g1,) = mg.grad(x.tanh().sum(), [x], create_graph=True)
    (g2,) = mg.grad(g1.sum(), [x], create_graph=True)
    (g3,) = mg.grad(g2.sum(), [x])
    t = np.tanh(a)
    np.testing.assert_allclose(g3.numpy(), (1.0 - t ** 2) * (6.0 * t ** 2 - 2.0), rtol=1e-10, atol=1e-14)


def test_backward_with_create_graph_gives_a_differentiable_grad():
    x = leaf([0.3, -0.7])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = mg.grad(x.grad.sum(), [x])
    np.testing.assert_allclose(g2.numpy(), 6.0 * np.array([0.3, -0.7]), rtol=1e-12)


def _mlp_params(rng):
    return [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((4, 2)),
            rng.standard_normal(2)]


def _mlp_loss(x, y, w1, b1, w2, b2):
    out = (x @ w1 + b1).tanh() @ w2 + b2
    return ((out - y) ** 2).mean()


def test_hessian_vector_product_of_a_small_mlp_matches_torch(device):
    rng = np.random.default_rng(3)
    data, target = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    arrays = _mlp_params(rng)
    vectors = [rng.standard_normal(a.shape) for a in arrays]

    params = [leaf(a, device) for a in arrays]
    grads = mg.grad(_mlp_loss(mg.tensor(data, device=device), mg.tensor(target, device=device), *params),
                    params, create_graph=True)
    dot = sum(((g * mg.tensor(v, device=device)).sum() for g, v in zip(grads, vectors)), start=0.0)
    hvp = mg.grad(dot, params)

    tparams = [tleaf(a) for a in arrays]
    tgrads = torch.autograd.grad(_mlp_loss(torch.from_numpy(data), torch.from_numpy(target), *tparams),
                                 tparams, create_graph=True)
    tdot = sum((g * torch.from_numpy(v)).sum() for g, v in zip(tgrads, vectors))
    thvp = torch.autograd.grad(tdot, tparams)
    for h, th in zip(hvp, thvp):
        np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10, atol=1e-12)


def test_gradient_penalty_matches_torch(device):
    """WGAN-GP: penalise (|d critic / d x| - 1)^2, then differentiate that w.r.t. the weights."""
    rng = np.random.default_rng(4)
    data = rng.standard_normal((6, 3))
    arrays = [rng.standard_normal((3, 5)), rng.standard_normal(5), rng.standard_normal((5, 1))]

    def critic_loss(lib_tensor, x, w1, b1, w2):
        score = (x @ w1 + b1).relu().sigmoid() @ w2
        grad_fn = mg.grad if lib_tensor is mg.Tensor else torch.autograd.grad
        (gx,) = grad_fn(score.sum(), [x], create_graph=True)
        penalty = (((gx * gx).sum(**{"axis" if lib_tensor is mg.Tensor else "dim": 1}).sqrt() - 1.0) ** 2).mean()
        return score.mean() + 10.0 * penalty

    x, params = leaf(data, device), [leaf(a, device) for a in arrays]
    critic_loss(mg.Tensor, x, *params).backward()
    tx, tparams = tleaf(data), [tleaf(a) for a in arrays]
    critic_loss(torch.Tensor, tx, *tparams).backward()
    for p, tp in zip(params + [x], tparams + [tx]):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12)


# --- grad mode -----------------------------------------------------------------------------------
def test_no_grad_records_nothing_and_restores_the_mode():
    x = leaf([1.0])
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2.0
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            1 / 0
    assert mg.is_grad_enabled()


def test_no_grad_as_a_decorator():
    @mg.no_grad()
    def double(t):
        """Docstring kept."""
        return t * 2.0

    y = double(leaf([1.0]))
    assert y.grad_fn is None and not y.requires_grad
    assert mg.is_grad_enabled()
    assert double.__name__ == "double" and double.__doc__ == "Docstring kept."


def test_no_grad_decorates_without_parentheses_too():
    @mg.no_grad
    def double(t):
        return t * 2.0

    @mg.enable_grad
    def triple(t):
        return t * 3.0

    assert not double(leaf([1.0])).requires_grad
    with mg.no_grad():
        assert triple(leaf([1.0])).requires_grad
    assert double.__name__ == "double" and mg.is_grad_enabled()


def test_enable_grad_inside_no_grad_and_as_a_decorator():
    x = leaf([1.0])

    @mg.enable_grad()
    def square(t):
        return t * t

    with mg.no_grad():
        with mg.enable_grad():
            y = x * 3.0
        z = square(x)
        w = x * 4.0
    assert y.requires_grad and z.requires_grad and not w.requires_grad
    (g,) = mg.grad(z.sum(), [x])
    assert g.item() == 2.0


def test_no_grad_nests():
    with mg.no_grad():
        with mg.no_grad():
            pass
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = leaf([2.0])
    y = x * x
    z = y.detach() * x
    assert z.grad_fn is not None
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0])  # d(c * x)/dx with c = x^2 held constant


def test_detach_keeps_the_role_of_what_it_cut_through_ops_that_only_move_elements():
    """For the renderer, once the cut graph is gone: h_n stacks every layer's last h_t."""
    x = leaf([[1.0, 2.0]])
    h = [(x * k).tanh().label("h_t") for k in (1.0, 2.0)]
    c = (x * 3.0).label("C_t")
    h_n = mg.stack(h)
    assert h_n.detach().cut_from.role == "h_t"
    assert h_n.detach()[0].cut_from.role == "h_t"    # a slice carries the trace
    assert mg.stack([h[0], c]).detach().cut_from.role is None  # two states: no one name
    assert (h_n * 2.0).detach().cut_from.role is None   # arithmetic makes something else


# --- long graphs and memory ------------------------------------------------------------------------
def test_a_chain_of_100000_ops_backpropagates_without_recursion():
    steps, rate = 100_000, 1.0 + 1e-5
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(steps):
        y = y * rate
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [rate ** steps] * 2, rtol=1e-9)


def _saved_exp_output(node):
    """The array the Exp node saved for its backward (found through the graph's edges)."""
    while node.name != "Exp":
        node = next(edge.node for edge in node.next if isinstance(edge, mg.Edge))
    with mg.no_grad():  # (the arrays themselves, as a backward pass outside create_graph sees)
        return node, node.output()


def test_backward_frees_saved_arrays_without_retain_graph():
    x = leaf(np.ones(1000))
    loss = (x.exp() * 2.0).sum()  # the exp output lives only in the Exp node
    node, saved = _saved_exp_output(loss.grad_fn)
    saved_ref = weakref.ref(saved)
    del saved
    loss.backward()
    gc.collect()
    assert saved_ref() is None
    assert node.freed


def test_grad_of_the_same_output_twice_adds_both_seeds():
    x = leaf(np.array([1.0, 2.0]))
    y = (x * x).sum()
    (g,) = mg.grad([y, y], x, grad_outputs=[mg.tensor(1.0, dtype=mg.float64),
                                            mg.tensor(3.0, dtype=mg.float64)])
    np.testing.assert_allclose(g.numpy(), 4.0 * 2.0 * np.array([1.0, 2.0]))


def test_an_op_keeps_only_the_inputs_it_names():
    # addmm saves a and b, not c: c's array is freed as soon as nobody else holds it, before
    # backward (the recurrent cells' c is x_t W_ih^T, one slice of every step's projection)
    a, b = leaf(np.ones((5, 3))), leaf(np.ones((3, 4)))
    c = leaf(np.ones((5, 4))) * 2.0  # (more than 16 values: its node keeps no copy to draw)
    c_ref = weakref.ref(c.data)
    loss = mg.addmm(c, a, b).sum()
    node = loss.grad_fn.next[0][0]
    with mg.no_grad():
        saved = node.inputs()
    assert saved[0] is None and saved[1] is a._data
    del c
    gc.collect()
    assert c_ref() is None
    loss.backward()
    np.testing.assert_allclose(a.grad.numpy(), 4.0 * np.ones((5, 3)))


def test_retain_graph_keeps_saved_arrays_and_allows_a_second_backward():
    x = leaf(np.ones(10))
    loss = (x.exp() * 2.0).sum()
    _, saved = _saved_exp_output(loss.grad_fn)
    saved_ref = weakref.ref(saved)
    del saved
    loss.backward(retain_graph=True)
    gc.collect()
    assert saved_ref() is not None
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4.0 * np.e * np.ones(10))


def test_a_second_backward_is_refused_even_through_ops_that_saved_nothing():
    # documented difference: PyTorch lets x.sum().backward() run twice (sum saves no tensor)
    x = leaf([1.0, 2.0])
    y = x.sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through Sum a second time.*retain_graph"):
        y.backward()
    t = tleaf([1.0, 2.0])
    ty = t.sum()
    ty.backward()
    ty.backward()
    assert t.grad.tolist() == [2.0, 2.0]


def test_a_second_backward_through_a_freed_graph_says_what_to_do():
    x = leaf([1.0, 2.0])
    loss = (x.exp() * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        loss.backward()


def test_create_graph_keeps_the_first_graph():
    x = leaf([1.0, 2.0])
    loss = (x.tanh() * x).sum()
    (g,) = mg.grad(loss, [x], create_graph=True)
    (again,) = mg.grad(loss, [x])
    np.testing.assert_allclose(g.numpy(), again.numpy())


class Spy(mg.Function):
    """z = x * y, noting what its backward formula was given."""

    saves_inputs = True
    seen = []

    def forward(self, x, y):
        return x * y

    def backward(self, grad):
        x, y = self.inputs()
        Spy.seen.append((type(grad), type(x), type(unwrap(x))))
        return grad * y, grad * x


def test_backward_formulas_run_on_plain_arrays_unless_create_graph():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = mg.tensor(np.array([3.0, 4.0]), requires_grad=True)
    Spy.seen.clear()
    Spy.apply(x, y).sum().backward()
    assert Spy.seen == [(np.ndarray, np.ndarray, np.ndarray)]
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    assert type(x.grad) is mg.Tensor and type(x.grad._data) is np.ndarray

    Spy.seen.clear()
    (gx, gy) = mg.grad(Spy.apply(x, y).sum(), [x, y], create_graph=True)
    assert Spy.seen == [(mg.Tensor, mg.Tensor, np.ndarray)]
    assert gx.requires_grad  # the same formula recorded a graph: d(gx)/dy = 1
    (d2,) = mg.grad(gx.sum(), y)
    np.testing.assert_array_equal(d2.numpy(), [1.0, 1.0])


def test_an_op_applied_to_plain_arrays_returns_plain_arrays():
    a, b = np.array([1.0, -2.0]), np.array([3.0, 4.0])
    out = mg.ops.Mul.apply(a, b)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, [3.0, -8.0])
    assert type(mg.sigmoid(a)) is np.ndarray and type(mg.tanh(mg.tensor(a))) is mg.Tensor
    pieces = mg.ops.Split.apply(np.arange(4.0), sizes=[1, 3])
    assert all(type(p) is np.ndarray for p in pieces)
    # a Tensor among the inputs makes the result a Tensor, as always
    assert type(mg.ops.Mul.apply(mg.tensor(a), b)) is mg.Tensor
    assert type(mg.where(mg.tensor([True, False]), 1.0, 2.0)) is mg.Tensor


class TensorOnlyBackward(mg.Function):
    """z = softplus(x), its backward written with a method only Tensors have."""

    saves_inputs = True

    def forward(self, x):
        return np.logaddexp(0.0, x)

    def backward(self, grad):
        (x,) = self.inputs()
        return grad * x.sigmoid()


def test_a_backward_that_needs_tensor_methods_gets_an_error_that_says_why():
    x = mg.tensor(np.array([0.5]), requires_grad=True)
    with pytest.raises(AttributeError, match=r"TensorOnlyBackward.backward: .*sigmoid.*plain "
                                             r"arrays unless create_graph=True"):
        TensorOnlyBackward.apply(x).sum().backward()


def test_tanh_passes_an_infinite_gradient_on_as_torch_does():
    """grad (1 - z^2) with grad = inf is inf; written grad - grad z^2 it was inf - inf = NaN
    (found by the differential fuzzer: a tanh whose output fed a division by zero)."""
    x = mg.tensor(np.array([0.1257, -2.0]), requires_grad=True)
    (g,) = mg.grad([x.tanh()], [x], grad_outputs=[mg.tensor(np.array([np.inf, -np.inf]))])
    tx = torch.tensor([0.1257, -2.0], dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad([tx.tanh()], [tx], grad_outputs=[torch.tensor([np.inf, -np.inf],
                                                                              dtype=torch.float64)])
    np.testing.assert_array_equal(g.numpy(), tg.numpy())
    assert np.isposinf(g.numpy()[0]) and np.isneginf(g.numpy()[1])


def test_where_gives_the_side_not_chosen_an_exact_zero_gradient_like_torch():
    """Even where the incoming gradient is inf or NaN (0 * inf would be NaN)."""
    x = mg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    mg.where(np.array([True, False, False]), x, 0.0).backward(mg.tensor(np.array([np.inf, np.inf,
                                                                                   np.nan])))
    np.testing.assert_array_equal(x.grad.numpy(), [np.inf, 0.0, 0.0])
