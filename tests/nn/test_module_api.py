"""Module and Parameter: registration, traversal, modes, state dicts, devices/dtypes, repr."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad
import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(np.ones(4))
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 1, bias=False)])
        self.extra = nn.ModuleDict({"a": nn.Linear(2, 2)})

    def forward(self, x):
        h = self.block(x)
        return [head(h) for head in self.heads]


EXPECTED_NAMES = ["block.scale", "block.fc.weight", "block.fc.bias", "heads.0.weight",
                  "heads.0.bias", "heads.1.weight", "extra.a.weight", "extra.a.bias"]


def test_named_parameters_follow_assignment_order():
    names = [name for name, _ in Net().named_parameters()]
    assert names == EXPECTED_NAMES  # per module: own parameters first, then children's


def test_parameters_match_named_parameters_and_shapes():
    net = Net()
    params = list(net.parameters())
    named = dict(net.named_parameters())
    assert [id(p) for p in params] == [id(p) for p in named.values()]
    assert named["heads.1.weight"].shape == (1, 4)
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)


def test_children_and_modules():
    net = Net()
    assert [type(c).__name__ for c in net.children()] == ["Block", "ModuleList", "ModuleDict"]
    names = [name for name, _ in net.named_modules()]
    assert names == ["", "block", "block.fc", "block.drop", "heads", "heads.0", "heads.1",
                     "extra", "extra.a"]
    assert len(list(net.modules())) == len(names)


def test_shared_submodule_and_parameter_listed_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2)
            self.b = self.a
    tied = Tied()
    assert len(list(tied.parameters())) == 2
    assert [n for n, _ in tied.named_modules()] == ["", "a"]


def test_reassigning_replaces_registration():
    m = Block()
    m.fc = nn.Linear(3, 5)
    assert dict(m.named_parameters())["fc.weight"].shape == (5, 3)
    m.scale = nn.Parameter(np.zeros(2))
    assert dict(m.named_parameters())["scale"].shape == (2,)
    m.fc = None
    assert "fc.weight" not in dict(m.named_parameters())
    assert m.fc is None


def test_replacing_a_parameter_or_module_keeps_its_place_like_pytorch():
    ours, theirs = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ours.weight = nn.Parameter(np.zeros((2, 2)))
    theirs.weight = torch.nn.Parameter(torch.zeros(2, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    ours.register_parameter("weight", nn.Parameter(np.ones((2, 2))))
    assert list(ours.state_dict()) == ["weight", "bias"]
    net = Net()
    net.block = Block()
    assert [n for n, _ in net.named_parameters()] == EXPECTED_NAMES


def test_assigning_plain_tensor_to_parameter_name_is_refused():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = minigrad.tensor(np.zeros((2, 2)))
    assert isinstance(lin.weight, nn.Parameter)


def test_plain_list_of_modules_is_refused_with_a_hint():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]
    with pytest.raises(TypeError, match="ModuleList"):
        Bad()


def test_plain_list_of_parameters_is_allowed_as_a_cache():
    lin = nn.Linear(2, 2)
    lin.cache = [lin.weight, lin.bias]
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]


def test_setattr_before_super_init_is_an_error():
    class Early(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="super"):
        Early()


def test_register_parameter_none_and_delattr():
    lin = nn.Linear(3, 2, bias=False)
    assert lin.bias is None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    del lin.weight
    assert list(lin.parameters()) == []
    with pytest.raises(AttributeError, match="weight"):
        lin.weight


def test_module_list_operations():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(ml) == 3 and ml[-1] is list(ml)[2]
    ml.append(nn.Linear(1, 2))
    ml.insert(0, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "Linear", "Linear", "Linear", "Linear"]
    del ml[0]
    assert [n for n, _ in ml.named_parameters()][-1] == "3.bias"
    assert isinstance(ml[1:], nn.ModuleList) and len(ml[1:]) == 3
    with pytest.raises(IndexError, match="out of range"):
        ml[10]


@pytest.mark.parametrize("container", ["ModuleList", "Sequential"])
def test_containers_delete_slices_and_add_like_pytorch(container):
    """``del ml[1:3]`` and ``a + b`` as PyTorch does them: the rest renumbered, a new container."""
    def build(lib, sizes):
        layers = [lib.Linear(n, n) for n in sizes]
        return lib.ModuleList(layers) if container == "ModuleList" else lib.Sequential(*layers)

    def names(m):
        return [name for name, _ in m.named_parameters()]

    ours, theirs = build(nn, [1, 2, 3, 4]), build(torch.nn, [1, 2, 3, 4])
    del ours[1:3]
    del theirs[1:3]
    assert names(ours) == names(theirs) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert [m.in_features for m in ours] == [m.in_features for m in theirs] == [1, 4]
    joined, tjoined = ours + build(nn, [5]), theirs + build(torch.nn, [5])
    assert type(joined).__name__ == type(tjoined).__name__ == container
    assert names(joined) == names(tjoined)
    assert [m.in_features for m in joined] == [1, 4, 5] and len(ours) == 2


def test_module_dict_operations():
    md = nn.ModuleDict([("enc", nn.Linear(2, 3)), ("dec", nn.Linear(3, 2))])
    assert list(md) == ["enc", "dec"] and "enc" in md and len(md) == 2
    md["out"] = nn.Linear(2, 1)
    assert list(md.keys()) == ["enc", "dec", "out"]
    assert md.pop("enc").out_features == 3
    assert [n for n, _ in md.named_parameters()] == ["dec.weight", "dec.bias", "out.weight", "out.bias"]
    with pytest.raises(KeyError, match="already an attribute"):
        md["keys"] = nn.Identity()


def test_train_eval_propagate_to_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.heads.train()
    assert net.heads[0].training and not net.block.drop.training
    net.train()
    assert all(m.training for m in net.modules())


@pytest.mark.parametrize("mode", ["eval", 0, None])
def test_train_refuses_a_mode_that_is_not_a_bool_like_pytorch(mode):
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        torch.nn.Linear(2, 2).train(mode)
    net = Net().eval()
    with pytest.raises(ValueError, match=f"Net.train: training mode is expected to be boolean, "
                                         f"got {type(mode).__name__}"):
        net.train(mode)
    assert not any(m.training for m in net.modules())


def test_dropout_off_in_eval():
    minigrad.manual_seed(0)
    block = Block().double()
    x = minigrad.tensor(np.random.default_rng(0).standard_normal((5, 3)))
    block.eval()
    expected = block.fc(x) * block.scale
    np.testing.assert_array_equal(block(x).numpy(), expected.numpy())
    block.train()
    assert not np.array_equal(block(x).numpy(), expected.numpy())


def test_zero_grad_sets_none():
    lin = nn.Linear(3, 2).double()
    lin(minigrad.tensor(np.ones((1, 3)))).sum().backward()
    assert all(p.grad is not None for p in lin.parameters())
    lin.zero_grad()
    assert all(p.grad is None for p in lin.parameters())


def test_zero_grad_set_to_none_false_zeroes_like_pytorch():
    lin = nn.Linear(3, 2).double()
    lin(minigrad.tensor(np.ones((1, 3)))).sum().backward()
    old = lin.weight.grad
    lin.bias.grad = None
    lin.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(lin.weight.grad.numpy(), np.zeros((2, 3)))
    assert lin.weight.grad.dtype == minigrad.float64 and lin.bias.grad is None
    assert not np.all(old.numpy() == 0)  # a new tensor: the old gradient is not written into
    lin.zero_grad()
    assert lin.weight.grad is None


def test_requires_grad_and_apply():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.count("Linear") == 4


# --- state dicts ---------------------------------------------------------------------------
def test_state_dict_round_trip():
    minigrad.manual_seed(1)
    a, b = Net(), Net()
    assert list(a.state_dict()) == [n for n, _ in a.named_parameters()]
    b.load_state_dict(a.state_dict())
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy(), err_msg=name)
        assert not np.shares_memory(pa.data, pb.data)


def test_load_state_dict_accepts_numpy_and_torch_values():
    lin = nn.Linear(3, 2)
    ref = torch.nn.Linear(3, 2)
    lin.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    np.testing.assert_array_equal(lin.weight.numpy(), ref.weight.detach().numpy())
    assert lin.weight.dtype == minigrad.float32


def test_load_state_dict_casts_to_parameter_dtype():
    lin = nn.Linear(2, 2).double()
    lin.load_state_dict({"weight": np.ones((2, 2), dtype=np.float32), "bias": [0.1, 0.25]})
    assert lin.weight.dtype == minigrad.float64 and lin.bias.dtype == minigrad.float64
    np.testing.assert_array_equal(lin.bias.numpy(), [0.1, 0.25])  # Python floats: no float32 detour


def _snapshot(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def _assert_unchanged(module, before):
    for k, v in module.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)


def test_missing_key_raises_and_changes_nothing():
    net = Net()
    before = _snapshot(net)
    state = {k: np.zeros(v.shape) for k, v in net.state_dict().items()}
    del state["heads.0.bias"]
    with pytest.raises(RuntimeError, match=r"missing keys \['heads.0.bias'\]"):
        net.load_state_dict(state)
    _assert_unchanged(net, before)


def test_unexpected_key_raises_and_changes_nothing():
    net = Net()
    before = _snapshot(net)
    state = {k: np.zeros(v.shape) for k, v in net.state_dict().items()}
    state["heads.2.weight"] = np.zeros((1, 4))
    with pytest.raises(RuntimeError, match=r"unexpected keys \['heads.2.weight'\]"):
        net.load_state_dict(state)
    _assert_unchanged(net, before)


def test_shape_mismatch_names_key_and_both_shapes_and_changes_nothing():
    net = Net()
    before = _snapshot(net)
    state = {k: np.zeros(v.shape) for k, v in net.state_dict().items()}
    state["extra.a.weight"] = np.zeros((3, 2))  # listed last: every other entry is valid
    message = r"'extra.a.weight': \(3, 2\) in the state, \(2, 2\) in the module"
    with pytest.raises(RuntimeError, match=message):
        net.load_state_dict(state)
    _assert_unchanged(net, before)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        net.load_state_dict(state, strict=False)
    _assert_unchanged(net, before)


def test_non_strict_load_reports_skipped_keys():
    net = Net()
    state = {"block.scale": np.full(4, 7.0), "nonsense": np.zeros(1)}
    result = net.load_state_dict(state, strict=False)
    assert result.unexpected_keys == ["nonsense"]
    assert "block.fc.weight" in result.missing_keys and "block.scale" not in result.missing_keys
    np.testing.assert_array_equal(net.block.scale.numpy(), np.full(4, 7.0))


def test_load_state_dict_refuses_non_numbers_before_changing_anything():
    lin = nn.Linear(2, 2)
    before = _snapshot(lin)
    # (minigrad.tensor refuses a string array; one made without its checks must still be refused)
    bad = {"weight": np.zeros((2, 2)), "bias": minigrad.Tensor._make(np.array(["a", "b"]))}
    message = r"'bias' is not an array of real numbers \(got dtype <U1\)"
    with pytest.raises(RuntimeError, match=message):
        lin.load_state_dict(bad)
    _assert_unchanged(lin, before)
    for value in ([[1.0, 2.0], [3.0]], ["1.5", "2.5"], np.array([None, None]), None):
        with pytest.raises(RuntimeError, match="'bias' is not an array of real numbers"):
            lin.load_state_dict({"weight": np.zeros((2, 2)), "bias": value})
        _assert_unchanged(lin, before)


class Tied(nn.Module):
    """A language model whose decoder reuses the embedding matrix (weight tying)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(5, 3)
        self.dec = nn.Linear(3, 5, bias=False)
        self.dec.weight = self.emb.weight


class TorchTied(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(5, 3)
        self.dec = torch.nn.Linear(3, 5, bias=False)
        self.dec.weight = self.emb.weight


def test_tied_parameter_is_in_state_dict_under_every_name_like_pytorch():
    ours, theirs = Tied(), TorchTied()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["emb.weight", "dec.weight"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert len(list(ours.parameters())) == 1
    every = [n for n, _ in ours.named_parameters(remove_duplicate=False)]
    assert every == ["emb.weight", "dec.weight"]
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(ours.dec.weight.numpy(), theirs.emb.weight.detach().numpy())
    assert ours.dec.weight is ours.emb.weight
    other = TorchTied()
    other.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    np.testing.assert_array_equal(other.dec.weight.detach().numpy(), ours.emb.weight.numpy())
    with pytest.raises(RuntimeError, match=r"missing keys \['dec.weight'\]"):
        ours.load_state_dict({"emb.weight": np.zeros((5, 3))})


def test_shared_submodule_is_in_state_dict_under_both_paths_like_pytorch():
    def shared(lib):
        module = lib.Module()
        module.a = lib.Linear(2, 2)
        module.b = module.a
        return module
    ours, theirs = shared(nn), shared(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules(remove_duplicate=False)] == ["", "a", "b"]


# --- dtypes and devices ---------------------------------------------------------------------
def test_to_dtype_keeps_parameter_objects():
    net = Net()
    before = {n: id(p) for n, p in net.named_parameters()}
    values = _snapshot(net)
    assert net.to(dtype=minigrad.float64) is net
    for n, p in net.named_parameters():
        assert id(p) == before[n] and p.dtype == minigrad.float64
        np.testing.assert_array_equal(p.numpy(), values[n].astype(np.float64))
    net.to(minigrad.float32)
    assert all(p.dtype == minigrad.float32 for p in net.parameters())
    net.double()
    assert all(p.dtype == minigrad.float64 for p in net.parameters())


def test_to_casts_existing_gradients():
    lin = nn.Linear(2, 1)
    lin(minigrad.tensor([[1.0, 2.0]])).sum().backward()
    lin.double()
    assert lin.weight.grad.dtype == minigrad.float64
    np.testing.assert_allclose(lin.weight.grad.numpy(), [[1.0, 2.0]])


def test_to_rejects_integer_dtype_and_bad_device():
    with pytest.raises(TypeError, match="floating"):
        nn.Linear(2, 2).to(dtype=minigrad.int64)
    with pytest.raises(ValueError, match="unknown device"):
        nn.Linear(2, 2).to("tpu")


def test_to_device(device):
    lin = nn.Linear(3, 2).to(device)
    assert all(p.device == device for p in lin.parameters())
    y = lin(minigrad.tensor(np.ones((1, 3), dtype=np.float32), device=device))
    assert y.device == device
    lin.to("cpu")
    assert all(p.device == "cpu" for p in lin.parameters())


# --- repr ----------------------------------------------------------------------------------
def test_repr_matches_pytorch_for_the_same_structure():
    ours = nn.Sequential(nn.Linear(3, 4), nn.Identity(), nn.Linear(4, 1, bias=False),
                         nn.Sequential(nn.Linear(1, 1)))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Identity(),
                                 torch.nn.Linear(4, 1, bias=False),
                                 torch.nn.Sequential(torch.nn.Linear(1, 1)))
    assert repr(ours) == repr(theirs)
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == repr(torch.nn.Embedding(10, 3, padding_idx=0))
    md, tmd = nn.ModuleDict({"a": nn.Linear(1, 2)}), torch.nn.ModuleDict({"a": torch.nn.Linear(1, 2)})
    assert repr(md) == repr(tmd)


def test_repr_of_custom_module_lists_children():
    text = repr(Net())
    assert text.startswith("Net(\n  (block): Block(\n    (fc): Linear(in_features=3")
    assert "(heads): ModuleList(\n    (0): Linear" in text
    assert "(drop): Dropout(p=0.5)" in text


# --- Parameter -----------------------------------------------------------------------------
def test_parameter_wraps_without_copy_and_requires_grad():
    array = np.zeros(3)
    p = nn.Parameter(array)
    assert p._data is array and p.requires_grad and p.is_leaf
    q = nn.Parameter(minigrad.tensor(array), requires_grad=False)
    assert q._data is array and not q.requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_parameter_of_integers_is_refused():
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(np.arange(3))


def test_keyword_arguments_have_pytorchs_names():
    """Calls written for PyTorch with keywords work unchanged."""
    lin = nn.Linear(3, 2)
    assert lin.requires_grad_(requires_grad=False) is lin and not lin.weight.requires_grad
    lin.load_state_dict(state_dict=lin.state_dict(), strict=True)
    opt = nn.optim.SGD([lin.weight], lr=0.1)
    opt.add_param_group(param_group={"params": [lin.bias], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5
    w = nn.Parameter(np.zeros((4, 3)))
    for name, options in [("uniform_", {}), ("normal_", {}), ("constant_", {"val": 0.5}),
                          ("zeros_", {}), ("ones_", {}), ("xavier_uniform_", {}),
                          ("xavier_normal_", {}), ("kaiming_uniform_", {}), ("orthogonal_", {})]:
        assert getattr(nn.init, name)(tensor=w, **options) is w
        getattr(torch.nn.init, name)(tensor=torch.zeros(4, 3), **options)


def test_a_sub_module_held_twice_is_one_child_and_applied_once_like_pytorch():
    def twice(lib):
        module = lib.Sequential()
        module.a = lib.Linear(2, 2)
        module.b = module.a
        module.c = lib.Linear(2, 1)
        return module

    ours, theirs = twice(nn), twice(torch.nn)
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert len(list(ours.children())) == len(list(theirs.children())) == 2
    seen, tseen = [], []
    ours.apply(lambda m: seen.append(type(m).__name__))
    theirs.apply(lambda m: tseen.append(type(m).__name__))
    assert seen == tseen == ["Linear", "Linear", "Sequential"]
