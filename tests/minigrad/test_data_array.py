"""``Tensor.data``: the tensor's array, which also answers PyTorch's in-place methods
(minigrad/data_array.py). Each method is compared with the same call on a torch tensor's
``.data``; arithmetic on the array gives plain arrays, and no plain array of the engine becomes
a DataArray."""
import numpy as np
import pytest
import torch

import minigrad as mg

RNG = np.random.default_rng(11)
A = RNG.standard_normal((3, 4))
G = RNG.standard_normal((3, 4))

# name -> the call, the same on minigrad's p.data and on torch's (g: a tensor of each library)
METHODS = {
    "add_": lambda d, g: d.add_(g), "add_ alpha": lambda d, g: d.add_(g, alpha=-0.1),
    "sub_": lambda d, g: d.sub_(g), "sub_ alpha": lambda d, g: d.sub_(g, alpha=2),
    "mul_": lambda d, g: d.mul_(g), "mul_ number": lambda d, g: d.mul_(0.5),
    "div_": lambda d, g: d.div_(2.0), "zero_": lambda d, g: d.zero_(), "fill_": lambda d, g: d.fill_(1.5),
    "copy_": lambda d, g: d.copy_(g), "clamp_": lambda d, g: d.clamp_(-0.2, 0.3),
    "clamp_ min": lambda d, g: d.clamp_(min=0.0), "chained": lambda d, g: d.zero_().add_(g, alpha=3),
    "add_ a row": lambda d, g: d.add_(g[0]),
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_each_in_place_method_on_data_changes_the_tensor_as_torch_does(name):
    p, tp = mg.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    seen_before = p.data  # a view: it sees the change, as a torch .data shares the storage
    result = METHODS[name](p.data, mg.tensor(G))
    METHODS[name](tp.data, torch.from_numpy(G))
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-15)
    np.testing.assert_array_equal(seen_before, p.numpy())
    assert np.shares_memory(result, p.data) and p.is_leaf and p.requires_grad


def test_the_word_language_model_update_trains_as_in_torch():
    """PyTorch's word-level language model example updates its parameters with
    ``p.data.add_(p.grad, alpha=-lr)`` after clipping: the same loop, the same numbers."""
    import nn
    mg.manual_seed(0)
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(3, 4, num_layers=2).double()
    ours = nn.LSTM(3, 4, num_layers=2).to(mg.float64)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((5, 2, 3))
    losses = {}
    for lib, model, clip in ((mg, ours, nn.utils.clip_grad_norm_),
                             (torch, theirs, torch.nn.utils.clip_grad_norm_)):
        losses[lib.__name__] = []
        for _ in range(4):
            for p in model.parameters():
                p.grad = None
            out, _ = model(lib.tensor(x))
            loss = (out * out).mean()
            loss.backward()
            clip(model.parameters(), 0.25)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-0.5)
            losses[lib.__name__].append(loss.item())
    np.testing.assert_allclose(losses["minigrad"], losses["torch"], rtol=1e-12)
    assert losses["minigrad"][-1] < losses["minigrad"][0]
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, err_msg=name)


def test_uniform_and_normal_draw_from_minigrads_generator():
    p = mg.tensor(np.zeros((200, 50)))
    mg.manual_seed(3)
    p.data.uniform_(-0.1, 0.1)
    first = p.numpy().copy()
    assert -0.1 <= first.min() < -0.099 and 0.099 < first.max() < 0.1
    mg.manual_seed(3)
    assert np.array_equal(p.data.uniform_(-0.1, 0.1), first)
    p.data.normal_(2.0, 0.5)
    assert abs(p.numpy().mean() - 2.0) < 0.01 and abs(p.numpy().std() - 0.5) < 0.01


def test_the_array_stays_an_array():
    p = mg.tensor(A, requires_grad=True)
    assert isinstance(p.data, np.ndarray) and repr(p.data) == repr(A) and str(p.data) == str(A)
    for result in (p.data * 2, p.data @ p.data.T, p.data.sum(axis=0), np.tanh(p.data),
                   np.concatenate([p.data, p.data]), np.asarray(p.data)):
        assert type(result) is np.ndarray  # only .data hands out the PyTorch methods
    p.data[0] = 7.0  # NumPy's own ways still write into the tensor
    assert p.numpy()[0].tolist() == [7.0] * 4
    d = p.data
    d += 1.0  # in place: d stays the tensor's array, with its methods
    assert p.numpy()[0].tolist() == [8.0] * 4 and d.zero_() is d and not p.numpy().any()


def test_no_tensor_ends_up_holding_the_view():
    """The engine keeps plain arrays: a view given back (assigned, wrapped, in-place
    subtracted) is taken as the plain array it views."""
    p = mg.tensor(A, requires_grad=True)
    p.data -= 0.1 * mg.tensor(G)
    p.data = p.data * 1.0
    made = [mg.tensor(p.data), mg.Tensor(p.data), p * 2.0, p + mg.tensor(p.data),
            mg.tensor(p.data.T.copy()), mg.tensor(p.data[0]), p * p.data]
    (made[2] * made[3]).sum().backward()
    for t in [p, p.grad] + made:
        assert type(t._data) is np.ndarray


def test_an_optimizers_state_holds_plain_arrays():
    import nn
    p = nn.Parameter(mg.tensor(A))
    optimizer = nn.optim.Adam([p], amsgrad=True)
    (p * p).sum().backward()
    optimizer.step()
    for name, value in optimizer.state[p].items():
        assert not isinstance(value, np.ndarray) or type(value) is np.ndarray, name


@pytest.mark.parametrize("call, error, message", [
    (lambda d: d.add_(0.5), TypeError, r"\.data\.add_: a float64 result cannot be stored in place "
                                       r"in a int64 array"),
    (lambda d: d.mul_(np.ones((2, 2), int)), ValueError, r"\.data\.mul_: an operand of shape \(2, 2\) "
                                                    r"does not broadcast to the array's shape \(2,\)"),
    (lambda d: d.copy_(np.ones(3)), ValueError, r"\.data\.copy_: an operand of shape \(3,\)"),
    (lambda d: d.clamp_(), ValueError, r"\.data\.clamp_: give min, max or both"),
    (lambda d: d.clamp_(0.5, 1.5), TypeError, r"\.data\.clamp_: a float64 result cannot be stored"),
    (lambda d: d.fill_(np.ones(2, int)), TypeError, r"\.data\.fill_: takes a number, got an array "
                                                    r"of shape \(2,\)"),
])
def test_a_bad_operand_is_named_and_changes_nothing(call, error, message):
    t = mg.tensor([1, 2])
    with pytest.raises(error, match=message):
        call(t.data)
    assert t.tolist() == [1, 2]
