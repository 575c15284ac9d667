"""Module buffers against PyTorch: registration and its errors, traversal, attribute assignment,
state dicts (both ways, and through nn.save/nn.load), devices and dtypes, optimizers."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad
import nn

RNG = np.random.default_rng(7)


def _build(lib, tensor):
    """The same module in minigrad (``lib=nn``) or PyTorch (``lib=torch.nn``): buffers of every
    kind (float, integer, bool; persistent, not, None) at two depths, between parameters."""

    class Norm(lib.Module):
        def __init__(self):
            super().__init__()
            self.scale = lib.Parameter(tensor(np.ones(3)))
            self.register_buffer("running_mean", tensor(np.zeros(3)))
            self.register_buffer("steps", tensor(np.array(0)))
            self.register_buffer("cache", tensor(np.ones(2)), persistent=False)
            self.register_buffer("absent", None)

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mask", tensor(np.array([True, False])))
            self.fc = lib.Linear(3, 2)
            self.norm = Norm()
            self.shift = lib.Parameter(tensor(np.zeros(2)))

    return Net()


def _pair():
    return _build(nn, minigrad.tensor), _build(torch.nn, torch.tensor)


def _random_state(module: torch.nn.Module) -> dict:
    """Torch's state dict with every float entry redrawn and every integer one changed."""
    state = {}
    for name, value in module.state_dict().items():
        if value.is_floating_point():
            state[name] = torch.tensor(RNG.standard_normal(tuple(value.shape)), dtype=value.dtype)
        elif value.dtype == torch.bool:
            state[name] = ~value
        else:
            state[name] = value + 5
    return state


# --- registration and traversal ----------------------------------------------------------------
def test_buffers_are_listed_and_ordered_like_pytorch():
    ours, theirs = _pair()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "shift", "mask", "fc.weight", "fc.bias", "norm.scale", "norm.running_mean", "norm.steps"]
    for kwargs in ({}, {"recurse": False}, {"prefix": "net"}):
        assert [n for n, _ in ours.named_buffers(**kwargs)] == \
            [n for n, _ in theirs.named_buffers(**kwargs)]
    assert [n for n, _ in ours.named_buffers()] == ["mask", "norm.running_mean", "norm.steps",
                                                    "norm.cache"]  # non-persistent ones too
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [id(b) for b in ours.buffers()] == [id(b) for _, b in ours.named_buffers()]
    assert ours.norm.running_mean is ours.norm._buffers["running_mean"]
    assert ours.norm.absent is None


def test_a_shared_buffer_is_listed_once_but_saved_under_each_name_like_pytorch():
    def shared(lib, tensor):
        module = lib.Module()
        module.a, module.b = lib.Module(), lib.Module()
        table = tensor(np.arange(3.0))
        module.a.register_buffer("table", table)
        module.b.register_buffer("table", table)
        return module
    ours, theirs = shared(nn, minigrad.tensor), shared(torch.nn, torch.tensor)
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()] == ["a.table"]
    every = [n for n, _ in ours.named_buffers(remove_duplicate=False)]
    assert every == [n for n, _ in theirs.named_buffers(remove_duplicate=False)] == ["a.table", "b.table"]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["a.table", "b.table"]


BAD_NAMES = [("", KeyError, "non-empty string"), ("a.b", KeyError, "without '.'"),
             (3, TypeError, "must be a string, got int 3"), ("fc", KeyError, "'fc' is already"),
             ("shift", KeyError, "'shift' is already"), ("training", KeyError, "already"),
             ("forward", KeyError, "already")]


@pytest.mark.parametrize("name, error, message", BAD_NAMES, ids=[repr(n) for n, _, _ in BAD_NAMES])
def test_register_buffer_refuses_bad_names_like_pytorch(name, error, message):
    ours, theirs = _pair()
    with pytest.raises(error):
        theirs.register_buffer(name, torch.zeros(1))
    with pytest.raises(error, match=f"Net: .*{message}"):
        ours.register_buffer(name, minigrad.zeros(1))
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]


def test_a_buffer_name_is_taken_for_parameters_and_modules_like_pytorch():
    ours, theirs = _pair()
    for module, param, sub in [(ours, nn.Parameter(np.zeros(2)), nn.Identity()),
                               (theirs, torch.nn.Parameter(torch.zeros(2)), torch.nn.Identity())]:
        with pytest.raises(KeyError, match="'mask'"):
            module.register_parameter("mask", param)
        with pytest.raises(KeyError, match="'mask'"):
            module.add_module("mask", sub)
        assert "mask" in dict(module.named_buffers())
    ours = nn.Module()
    with pytest.raises(TypeError, match="must be a string, got int 0"):
        ours.add_module(0, nn.Identity())
    with pytest.raises(TypeError, match="must be a string, got NoneType"):
        ours.register_parameter(None, None)


@pytest.mark.parametrize("op, value, expected", [
    ("register_buffer", np.zeros(2), "a Tensor or None, got ndarray"),
    ("register_parameter", minigrad.zeros(2), "a Parameter or None, got Tensor"),
    ("add_module", minigrad.zeros(2), "a Module or None, got Tensor"),
])
def test_registering_a_value_of_the_wrong_kind_is_refused(op, value, expected):
    ours = nn.Module()
    with pytest.raises(TypeError, match=rf"^{op}\('x'\): expected {expected}$"):
        getattr(ours, op)("x", value)
    assert not hasattr(ours, "x")


def test_register_buffer_needs_super_init():
    class Early(nn.Module):
        def __init__(self):
            self.register_buffer("x", minigrad.zeros(1))
    with pytest.raises(RuntimeError, match=r"Early: call super\(\).__init__\(\) before assigning 'x'"):
        Early()


def test_registering_again_replaces_in_place_and_can_change_persistence():
    ours, theirs = _pair()
    for module, tensor in ((ours, minigrad.tensor), (theirs, torch.tensor)):
        module.register_buffer("mask", tensor(np.array([False, False])), persistent=False)
        module.norm.register_buffer("cache", tensor(np.ones(2)))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "mask" not in ours.state_dict() and "norm.cache" in ours.state_dict()
    assert [n for n, _ in ours.named_buffers()][0] == "mask"  # kept its place


# --- attribute assignment ----------------------------------------------------------------------
def test_assigning_a_tensor_to_a_buffer_name_updates_the_buffer_like_pytorch():
    ours, theirs = _pair()
    new = minigrad.tensor(np.full(3, 2.0))
    ours.norm.running_mean = new
    ours.norm.cache = minigrad.tensor(np.zeros(2))  # stays non-persistent
    theirs.norm.running_mean = torch.full((3,), 2.0, dtype=torch.float64)
    theirs.norm.cache = torch.zeros(2)
    assert ours.norm.running_mean is new and dict(ours.named_buffers())["norm.running_mean"] is new
    np.testing.assert_array_equal(ours.state_dict()["norm.running_mean"].numpy(), np.full(3, 2.0))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "running_mean" not in ours.norm.__dict__  # a buffer, not a plain attribute
    with pytest.raises(TypeError, match=r"Norm: cannot assign ndarray to buffer 'steps' "
                                        r"\(a Tensor or None is expected\)"):
        ours.norm.steps = np.array(3)
    assert ours.norm.steps.item() == 0


def test_assigning_none_a_parameter_or_a_module_to_a_buffer_name_like_pytorch():
    ours, theirs = _pair()
    ours.norm.running_mean, theirs.norm.running_mean = None, None
    ours.norm.cache = nn.Parameter(np.ones(2))
    theirs.norm.cache = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    ours.mask, theirs.mask = nn.Identity(), torch.nn.Identity()
    assert ours.norm.running_mean is None
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()] == ["norm.steps"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "norm.cache" in ours.state_dict()  # now a parameter: persistent like every parameter
    del ours.norm.steps
    assert list(ours.named_buffers()) == []
    with pytest.raises(AttributeError, match="steps"):
        ours.norm.steps


def test_a_deleted_non_persistent_buffer_registers_again_as_persistent():
    ours, _ = _pair()
    del ours.norm.cache
    ours.norm.register_buffer("cache", minigrad.zeros(2))
    assert "norm.cache" in ours.state_dict()


# --- state dicts ---------------------------------------------------------------------------------
def test_pytorch_state_dict_with_buffers_loads_and_ours_loads_into_pytorch():
    ours, theirs = _pair()
    state = _random_state(theirs)
    theirs.load_state_dict(state)
    ours.load_state_dict({k: v.numpy() for k, v in state.items()})
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[name].numpy(), err_msg=name)
    assert ours.norm.steps.dtype == minigrad.int64 and ours.mask.dtype == minigrad.bool_
    other = _build(torch.nn, torch.tensor)
    other.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[name].numpy(), err_msg=name)


def test_load_state_dict_writes_into_the_buffer_with_its_dtype():
    ours, _ = _pair()
    steps = ours.norm.steps
    state = {k: v.numpy() for k, v in ours.state_dict().items()}
    state["norm.steps"] = np.array(4.0)  # a float for an int64 buffer: cast, as torch's copy_
    ours.load_state_dict(state)
    assert ours.norm.steps is steps and steps.dtype == minigrad.int64 and steps.item() == 4
    assert ours.state_dict()["norm.steps"]._data is steps._data  # the state shares the array


def _snapshot(module):
    return {k: v.numpy().copy() for k, v in module.named_buffers()}


def _assert_unchanged(module, before):
    for k, v in module.named_buffers():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)


def test_load_state_dict_checks_buffers_like_parameters_and_changes_nothing():
    ours, _ = _pair()
    before = _snapshot(ours)
    good = {k: np.ones(v.shape) for k, v in ours.state_dict().items()}
    missing = {k: v for k, v in good.items() if k != "norm.running_mean"}
    with pytest.raises(RuntimeError, match=r"missing keys \['norm.running_mean'\]"):
        ours.load_state_dict(missing)
    non_persistent = {**good, "norm.cache": np.ones(2)}
    with pytest.raises(RuntimeError, match=r"unexpected keys \['norm.cache'\].*nothing was changed"):
        ours.load_state_dict(non_persistent)
    wrong_shape = {**good, "norm.running_mean": np.ones(4)}
    with pytest.raises(RuntimeError, match=r"'norm.running_mean': \(4,\) in the state, \(3,\) in "
                                           r"the module"):
        ours.load_state_dict(wrong_shape, strict=False)
    _assert_unchanged(ours, before)
    result = ours.load_state_dict(non_persistent | {"norm.steps": 9}, strict=False)
    assert result.unexpected_keys == ["norm.cache"] and result.missing_keys == []
    assert ours.norm.steps.item() == 9
    np.testing.assert_array_equal(ours.norm.cache.numpy(), np.ones(2))
    result = ours.load_state_dict(missing, strict=False)
    assert result.missing_keys == ["norm.running_mean"]


def test_save_and_load_round_trip_with_buffers(tmp_path):
    ours, theirs = _pair()
    ours.load_state_dict({k: v.numpy() for k, v in _random_state(theirs).items()})
    path = tmp_path / "ckpt.npz"
    nn.save({"model": ours.state_dict()}, path)
    restored, _ = _pair()
    restored.load_state_dict(nn.load(path)["model"])
    for (name, a), (_, b) in zip(ours.state_dict().items(), restored.state_dict().items()):
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


# --- devices, dtypes, optimizers -----------------------------------------------------------------
def test_to_casts_float_buffers_only_and_keeps_the_objects_like_pytorch():
    ours, theirs = _pair()
    objects = {n: id(b) for n, b in ours.named_buffers()}
    ours.float()
    theirs.float()
    assert {n: str(b.dtype) for n, b in ours.named_buffers()} == \
        {n: str(b.dtype).removeprefix("torch.") for n, b in theirs.named_buffers()} == \
        {"mask": "bool", "norm.running_mean": "float32", "norm.steps": "int64", "norm.cache": "float32"}
    assert {n: id(b) for n, b in ours.named_buffers()} == objects
    ours.to(dtype=minigrad.float64)
    assert ours.norm.running_mean.dtype == minigrad.float64 and ours.norm.steps.dtype == minigrad.int64


def test_to_moves_buffers(device):
    ours, _ = _pair()
    ours.to(device)
    assert all(b.device == device for b in ours.buffers())
    ours.cpu()
    assert all(b.device == "cpu" for b in ours.buffers())


def test_optimizers_and_gradient_switches_do_not_see_buffers():
    ours = _pair()[0].double()
    buffers = {id(b) for b in ours.buffers()}
    opt = nn.optim.SGD(ours.parameters(), lr=0.1)
    assert not buffers & {id(p) for group in opt.param_groups for p in group["params"]}
    before = _snapshot(ours)
    ours.requires_grad_(True)
    x = minigrad.tensor(np.ones((1, 3)))
    (ours.fc(x * ours.norm.scale + ours.norm.running_mean).sum() + ours.shift.sum()).backward()
    opt.step()
    ours.zero_grad()
    _assert_unchanged(ours, before)
    assert not any(b.requires_grad for b in ours.buffers())
