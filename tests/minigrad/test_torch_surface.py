"""The PyTorch surface of Tensor (minigrad/tensor_torch.py), each method compared with PyTorch:
values, and gradients where the method is differentiable."""
import operator

import numpy as np
import pytest
import torch

import minigrad as mg

RNG = np.random.default_rng(7)
A = RNG.permutation(24).reshape(2, 3, 4).astype(np.float64) / 7 - 1  # distinct: no ties
IDX = np.array([[[2, 0, 1, 1], [0, 2, 2, 1], [1, 1, 0, 2]], [[0, 0, 2, 1], [1, 2, 0, 0], [2, 1, 1, 0]]])

# name -> (minigrad call, PyTorch call): the same expression, spelled with each library's args
DIFFERENTIABLE = {
    "max(dim).values": lambda x: x.max(1).values, "max(dim)[0] keepdim": lambda x: x.max(dim=2, keepdim=True)[0],
    "min(dim)": lambda x: x.min(-1)[0], "max()": lambda x: x.max(), "min()": lambda x: x.min(),
    "max(other)": lambda x: x.max(x * 0.5),
    "sort": lambda x: x.sort(dim=1).values, "sort descending": lambda x: x.sort(descending=True)[0],
    "topk": lambda x: x.topk(2, dim=1).values, "topk smallest": lambda x: x.topk(3, largest=False)[0],
    "gather": lambda x: x.gather(1, _index(x, IDX)),
    "index_select": lambda x: x.index_select(2, _index(x, np.array([3, 0, 3]))),
    "narrow": lambda x: x.narrow(2, 1, 2), "t": lambda x: x[0].t(), "expand": lambda x: x[:, :1].expand(2, 5, 4),
    "repeat": lambda x: x.repeat(2, 1, 3), "repeat more axes": lambda x: x[0].repeat(2, 2, 1),
    "view": lambda x: x.view(6, -1), "contiguous": lambda x: x.permute(2, 0, 1).contiguous(),
    "flatten(start_dim)": lambda x: x.flatten(start_dim=1), "unsqueeze(dim)": lambda x: x.unsqueeze(dim=1),
    "squeeze(dim)": lambda x: x[:, :1].squeeze(dim=1),
    "sum(dim, keepdim)": lambda x: x.sum(dim=1, keepdim=True), "mean(dim)": lambda x: x.mean(dim=(0, 2)),
    "amax": lambda x: x.amax(dim=(0, 1)), "softmax(dim)": lambda x: x.softmax(dim=1),
    "log_softmax(dim)": lambda x: x.log_softmax(dim=0), "logsumexp": lambda x: x.logsumexp(dim=2),
    "sin": lambda x: x.sin(), "cos": lambda x: x.cos(), "abs": lambda x: x.abs(),
    "clamp": lambda x: x.clamp(min=-0.5, max=0.4), "norm": lambda x: x.norm(),
    "norm(p=1, dim)": lambda x: x.norm(p=1, dim=1), "norm(dim, keepdim)": lambda x: x.norm(dim=2, keepdim=True),
    "masked_fill": lambda x: x.masked_fill(x > 0.2, -3.0),
    "scatter_add": lambda x: x.scatter_add(1, _index(x, IDX[:, :2]), x[:, :2] * 2.0),
    "add alpha": lambda x: x.add(x * x, alpha=0.5), "sub": lambda x: x.sub(2.0), "mul": lambda x: x.mul(x),
    "div": lambda x: x.div(3.0), "pow": lambda x: x.pow(2), "neg": lambda x: x.neg(),
    "matmul": lambda x: x.matmul(x.transpose(1, 2)), "mm": lambda x: x[0].mm(x[1].t()),
    "split(dim)": lambda x: x.split(2, dim=2)[1], "chunk(dim)": lambda x: x.chunk(3, dim=1)[2],
    "unbind(dim)": lambda x: x.unbind(dim=2)[3],
}


def _index(x, array):
    return torch.from_numpy(array) if isinstance(x, torch.Tensor) else mg.tensor(array)


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_values_and_gradients_match_torch(name):
    fn = DIFFERENTIABLE[name]
    x, t = mg.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    y, ty = fn(x), fn(t)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = RNG.standard_normal(ty.shape)
    (y * mg.tensor(w)).sum().backward()
    (ty * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["gather", "sort", "topk", "max(dim).values", "repeat", "norm", "sin", "cos"])
def test_gradcheck(name):
    assert mg.gradcheck(DIFFERENTIABLE[name], [mg.tensor(A, requires_grad=True)])


INDICES = {
    "max(dim).indices": lambda x: x.max(1).indices, "min(dim)[1]": lambda x: x.min(dim=2)[1],
    "argmax(dim, keepdim)": lambda x: x.argmax(dim=1, keepdim=True), "argmin": lambda x: x.argmin(),
    "argsort": lambda x: x.argsort(dim=1), "argsort descending": lambda x: x.argsort(descending=True),
    "sort indices": lambda x: x.sort(0)[1], "topk indices": lambda x: x.topk(2, dim=1)[1],
    "eq": lambda x: x.eq(x * (x > 0)), "ne": lambda x: x.ne(0.5), "lt": lambda x: x.lt(0.1),
    "gt": lambda x: x.gt(x.flip(0) if isinstance(x, torch.Tensor) else x[::-1]),
    "le": lambda x: x.le(0.0), "ge": lambda x: x.ge(0.0),
    "long": lambda x: (x * 5).long(), "int": lambda x: (x * 5).int(), "bool": lambda x: x.bool(),
    "float": lambda x: x.float(), "double": lambda x: x.float().double(),
}


@pytest.mark.parametrize("name", sorted(INDICES))
def test_indices_comparisons_and_conversions_match_torch(name):
    got, want = INDICES[name](mg.tensor(A)), INDICES[name](torch.tensor(A))
    assert str(got.dtype) == str(want.dtype).replace("torch.", "")
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_sort_keeps_ties_in_order_both_ways_as_torchs_stable_sort():
    a = np.array([[2.0, 1.0, 2.0, 1.0, 3.0]])
    for descending in (False, True):
        got = mg.tensor(a).sort(descending=descending)
        want = torch.tensor(a).sort(descending=descending, stable=True)
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


def test_facts_and_new_tensors_match_torch():
    x, t = mg.tensor(A), torch.tensor(A)
    assert x.size() == tuple(t.size()) and x.size(0) == t.size(0) and x.size(-1) == t.size(-1)
    assert (x.numel(), x.dim(), x.type(), x.float().type()) == (t.numel(), t.dim(), t.type(), t.float().type())
    for make in (lambda v: v.new_zeros(2, 3), lambda v: v.new_ones((4,)), lambda v: v.new_full((2,), 7),
                 lambda v: v.new_tensor([1, 2])):
        got, want = make(x), make(t)
        assert got.shape == tuple(want.shape) and str(got.dtype) == str(want.dtype).replace("torch.", "")
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert x.type(mg.float32).dtype == mg.float32
    with pytest.raises(ValueError, match="size: axis 3 is out of range"):
        x.size(3)


def test_max_over_several_axes_points_to_amax():
    with pytest.raises(TypeError, match=r"max: dim must be one int.*amax\(axis=\(0, 1\)\)"):
        mg.tensor(A).max(dim=(0, 1))


def test_two_names_for_one_argument_is_an_error():
    with pytest.raises(TypeError, match="sum: give dim or axis, not both"):
        mg.tensor(A).sum(dim=0, axis=1)


# --- in place -------------------------------------------------------------------------------
IN_PLACE = {
    "add_ alpha": lambda p, g: p.add_(g, alpha=-0.1), "sub_": lambda p, g: p.sub_(g),
    "sub_ alpha": lambda p, g: p.sub_(g, alpha=2), "mul_": lambda p, g: p.mul_(g), "div_": lambda p, g: p.div_(2.0),
    "zero_": lambda p, g: p.zero_(), "fill_": lambda p, g: p.fill_(1.5), "copy_": lambda p, g: p.copy_(g),
    "clamp_": lambda p, g: p.clamp_(-0.2, 0.3),
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "**=": lambda p, g: operator.ipow(p, 2.0),
}


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_under_no_grad_changes_a_parameter_as_torch_does(name):
    g = RNG.standard_normal(A.shape)
    p, tp = mg.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    old = p.data
    with mg.no_grad():
        out = IN_PLACE[name](p, mg.tensor(g))
    with torch.no_grad():
        IN_PLACE[name](tp, torch.from_numpy(g))
    assert out is p and p.is_leaf and p.requires_grad
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy())
    np.testing.assert_array_equal(old, A)  # rebound, not written into


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_on_a_parameter_outside_no_grad_is_refused_as_torch_does(name):
    p, tp = mg.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"a leaf tensor that requires grad \(shape \(2, 3, 4\)\)"):
        IN_PLACE[name](p, mg.tensor(A))
    with pytest.raises(RuntimeError, match="leaf"):
        IN_PLACE[name](tp, torch.tensor(A))
    np.testing.assert_array_equal(p.numpy(), A)


def test_a_hand_written_sgd_step_matches_torch():
    w, tw = mg.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    for p, lib in ((w, mg), (tw, torch)):
        for _ in range(3):
            (p.sin() * p).sum().backward()
            with lib.no_grad():
                p -= 0.1 * p.grad
            p.grad.zero_()
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-12)
    assert w.grad.tolist() == np.zeros_like(A).tolist()


def test_an_integer_tensor_refuses_a_float_result_in_place():
    with pytest.raises(TypeError, match="add_: a float64 result cannot be stored in place in a int64"):
        mg.tensor([1, 2]).add_(0.5)


def test_detach_in_place_makes_a_leaf():
    y = mg.tensor(A, requires_grad=True) * 2.0
    assert y.detach_() is y and y.is_leaf and not y.requires_grad


# --- hooks ------------------------------------------------------------------------------------
def _rnn_like(lib, w, x, hooks):
    h = x
    for _ in range(3):
        h = (h * w).tanh()
        hooks(h)
    return h.sum()


def test_register_hook_and_retain_grad_see_torchs_gradients():
    a, b = RNG.standard_normal(4), RNG.standard_normal(4)
    runs = {}
    for lib in (mg, torch):
        w = lib.tensor(a, requires_grad=True)
        x = lib.tensor(b)
        seen, kept = [], []

        def hooks(h):
            h.register_hook(lambda g: seen.append(g.numpy().copy()))
            h.retain_grad()
            kept.append(h)

        w.register_hook(lambda g: seen.append(("w", g.numpy().copy())))
        _rnn_like(lib, w, x, hooks).backward()
        runs[lib.__name__] = (seen, [h.grad.numpy() for h in kept], w.grad.numpy())
    (seen, kept, wgrad), (tseen, tkept, twgrad) = runs["minigrad"], runs["torch"]
    assert len(seen) == len(tseen) == 4 and seen[-1][0] == tseen[-1][0] == "w"  # a leaf's: once
    for got, want in zip(seen[:-1], tseen[:-1]):
        np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(seen[-1][1], tseen[-1][1])
    for got, want in zip(kept, tkept):
        np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(wgrad, twgrad)


def test_a_removed_hook_is_not_called_and_the_listener_leaves_when_unused():
    import gc
    calls = []
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(calls.append)
    (x * x).sum().backward()
    handle.remove()
    (x * x).sum().backward()
    assert len(calls) == 1
    del x, handle
    gc.collect()
    assert mg.function.STATE.listeners == ()


def test_a_hook_that_returns_a_gradient_is_refused():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.register_hook(lambda g: g * 0)
    with pytest.raises(RuntimeError, match="register_hook: the hook returned a value"):
        y.sum().backward()


@pytest.mark.parametrize("name", ["gather", "sort descending", "topk", "index_select", "masked_fill",
                                  "scatter_add", "repeat", "max(dim).values", "norm"])
def test_each_device_gives_the_cpus_values_and_gradients(name, device):
    fn = DIFFERENTIABLE[name]
    on_cpu = mg.tensor(A, requires_grad=True)
    there = mg.tensor(A, device=device, requires_grad=True)
    fn(on_cpu).sum().backward()
    y = fn(there) if name not in ("gather", "index_select", "scatter_add") else _on(device, name, there)
    y.sum().backward()
    assert y.device == device
    np.testing.assert_allclose(there.grad.numpy(), on_cpu.grad.numpy(), rtol=1e-12)
    with mg.no_grad():
        there.add_(there.grad, alpha=-0.5)
    assert there.device == device


def _on(device, name, x):
    index = {"gather": IDX, "index_select": np.array([3, 0, 3]), "scatter_add": IDX[:, :2]}[name]
    index = mg.tensor(index, device=device)
    if name == "gather":
        return x.gather(1, index)
    if name == "index_select":
        return x.index_select(2, index)
    return x.scatter_add(1, index, x[:, :2] * 2.0)


def test_hooks_fire_in_minigrad_grad_and_twice_over_a_retained_graph_as_in_torch():
    seen = {}
    for lib in (mg, torch):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        log = seen[lib.__name__] = []
        x.register_hook(lambda g: log.append(g.detach().numpy().copy()))
        y = (x * x).sin() * x
        y.register_hook(lambda g: log.append(g.detach().numpy().copy()))
        (lib.autograd.grad if lib is torch else mg.grad)(y.sum(), x, retain_graph=True)
        y.sum().backward()
    assert len(seen["minigrad"]) == len(seen["torch"]) == 4
    for got, want in zip(seen["minigrad"], seen["torch"]):
        np.testing.assert_allclose(got, want, rtol=1e-12)
