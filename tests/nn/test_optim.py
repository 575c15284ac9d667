"""Optimizers against PyTorch: the same gradients, step by step, in float64; resuming from a saved
optimizer state (in memory and through nn.save/nn.load) continues exactly as PyTorch does."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad
import nn
from nn import optim

SHAPES = [(3, 4), (4,), (2, 2, 3), ()]  # (): a 0-d parameter, whose state entries are 0-d arrays
STEPS = 8
RESUME_AT = 3

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True, weight_decay=0.05)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, eps=1e-4)),
]


def _ids(config):
    name, kwargs = config
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


def _setup(seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    ours = [nn.Parameter(a.copy()) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    return ours, theirs, grads


def _set_grads(ours, theirs, grads):
    for p, tp, g in zip(ours, theirs, grads):
        p.grad = minigrad.tensor(g.copy())
        tp.grad = torch.tensor(g.copy())


def _assert_params_match(ours, theirs, step):
    for i, (p, tp) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=f"parameter {i} after step {step}")


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_steps_match_torch(config):
    name, kwargs = config
    ours, theirs, grads = _setup()
    opt, topt = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    for step, g in enumerate(grads):
        _set_grads(ours, theirs, g)
        opt.step()
        topt.step()
        _assert_params_match(ours, theirs, step)


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_a_0d_parameter_steps_like_torch(config):
    """NumPy arithmetic on 0-d arrays gives scalars: state kept as one is never updated in place
    (SGD's momentum buffer was, with weight_decay or maximize)."""
    name, kwargs = config
    ours, theirs = [nn.Parameter(np.array(1.5))], [torch.tensor(1.5, requires_grad=True,
                                                                 dtype=torch.float64)]
    opt, topt = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    for step, g in enumerate([0.5, -1.0, 2.0, 0.25]):
        _set_grads(ours, theirs, [np.array(g)])
        opt.step()
        topt.step()
        _assert_params_match(ours, theirs, step)


@pytest.mark.parametrize("through_file", [False, True])
@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_resume_from_state_dict_matches_uninterrupted_torch(config, through_file, tmp_path):
    name, kwargs = config
    ours, theirs, grads = _setup(seed=1)
    opt, topt = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    for step, g in enumerate(grads):
        if step == RESUME_AT:
            state = opt.state_dict()
            if through_file:
                nn.save({"optim": state, "step": step}, tmp_path / "ckpt.npz")
                state = nn.load(tmp_path / "ckpt.npz")["optim"]
            opt = getattr(optim, name)(ours, lr=123.0)  # wrong hyperparameters: the state restores them
            opt.load_state_dict(state)
        _set_grads(ours, theirs, g)
        opt.step()
        topt.step()
        _assert_params_match(ours, theirs, step)


def test_state_dict_layout_matches_torch_keys():
    ours, theirs, grads = _setup()
    opt, topt = optim.Adam(ours, amsgrad=True), torch.optim.Adam(theirs, amsgrad=True)
    _set_grads(ours, theirs, grads[0])
    opt.step()
    topt.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"])
    assert sorted(sd["state"][0]) == sorted(tsd["state"][0])
    assert sd["param_groups"][0]["params"] == tsd["param_groups"][0]["params"]
    np.testing.assert_allclose(sd["state"][1]["exp_avg"].numpy(), tsd["state"][1]["exp_avg"].numpy())


def test_state_dict_is_a_snapshot():
    p = nn.Parameter(np.ones(3))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = minigrad.tensor(np.ones(3))
    opt.step()
    saved = opt.state_dict()
    buf = saved["state"][0]["momentum_buffer"].numpy().copy()
    opt.step()
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"].numpy(), buf)


def test_param_groups_with_their_own_lr_match_torch():
    ours, theirs, grads = _setup()
    opt = optim.SGD([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.5}], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.5}], lr=0.1,
                           momentum=0.9)
    for step, g in enumerate(grads):
        if step == 4:
            opt.param_groups[0]["lr"] = topt.param_groups[0]["lr"] = 0.01
        _set_grads(ours, theirs, g)
        opt.step()
        topt.step()
        _assert_params_match(ours, theirs, step)


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_step_never_writes_into_gradients(config):
    name, kwargs = config
    p, q = nn.Parameter(np.ones(4)), nn.Parameter(np.full(4, 2.0))
    shared = minigrad.tensor(np.array([0.5, -1.0, 2.0, 0.0]))
    before = shared.numpy().copy()
    opt = getattr(optim, name)([p, q], **kwargs)
    for _ in range(3):
        p.grad = q.grad = shared
        opt.step()
    np.testing.assert_array_equal(shared.numpy(), before)
    assert p.grad is shared


def test_parameters_keep_identity_and_array():
    p = nn.Parameter(np.ones(3))
    array = p._data
    opt = optim.Adam([p], lr=0.1)
    p.grad = minigrad.tensor(np.ones(3))
    opt.step()
    assert p._data is array and not np.array_equal(array, np.ones(3))


def test_parameters_without_grad_are_skipped():
    p, q = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.Adam([p, q], lr=0.1)
    p.grad = minigrad.tensor(np.ones(2))
    opt.step()
    np.testing.assert_array_equal(q.numpy(), np.ones(2))
    assert q not in opt.state and opt.state[p]["step"] == 1


def test_zero_grad():
    lin = nn.Linear(2, 1).double()
    opt = optim.SGD(lin.parameters(), lr=0.1)
    lin(minigrad.tensor(np.ones((1, 2)))).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert all(np.array_equal(p.grad.numpy(), np.zeros(p.shape)) for p in lin.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in lin.parameters())


def test_step_with_closure_returns_loss():
    w = nn.Parameter(np.array([3.0]))
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    np.testing.assert_allclose(w.numpy(), [1.5])


def test_training_a_linear_model_decreases_loss():
    minigrad.manual_seed(0)
    rng = np.random.default_rng(0)
    x = minigrad.tensor(rng.standard_normal((64, 3)))
    y = minigrad.tensor(x.numpy() @ np.array([[1.0], [-2.0], [0.5]]) + 0.3)
    model = nn.Linear(3, 1).double()
    opt = optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(200):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-3 * losses[0]


def test_constructor_errors():
    p = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="lr"):
        optim.RMSprop([p], lr=-1.0)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="unknown hyperparameters"):
        optim.SGD([{"params": [p], "beta": 0.1}], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):  # as PyTorch refuses it
        torch.optim.SGD([{"params": {torch.ones(2, requires_grad=True)}}], lr=0.1)
    with pytest.raises(TypeError, match="SGD: a parameter group's params must be an ordered "
                                        "collection \\(a list\\), not a set"):
        optim.SGD([{"params": {p}}], lr=0.1)


def test_load_state_dict_errors_change_nothing():
    ps = [nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))]
    opt = optim.Adam(ps, lr=0.1)
    for p in ps:
        p.grad = minigrad.tensor(np.ones(p.shape))
    opt.step()
    good = opt.state_dict()
    other = optim.Adam([nn.Parameter(np.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="group 0 has 2 parameters in the state, 1"):
        other.load_state_dict(good)
    swapped = optim.Adam([nn.Parameter(np.ones(3)), nn.Parameter(np.ones(2))], lr=0.5)
    with pytest.raises(ValueError, match=r"'exp_avg' has shape \(2,\) but its parameter has shape \(3,\)"):
        swapped.load_state_dict(good)
    assert swapped.state == {} and swapped.param_groups[0]["lr"] == 0.5


def _stepped(optimizer_class, **kwargs):
    params = [nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))]
    opt = optimizer_class(params, **kwargs)
    for p in params:
        p.grad = minigrad.tensor(np.ones(p.shape))
    opt.step()
    return opt


def _assert_refused(opt, state_dict, message):
    before = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state_dict)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert sorted(after["state"]) == sorted(before["state"])
    for i, entries in before["state"].items():
        for k, v in entries.items():
            np.testing.assert_array_equal(np.asarray(after["state"][i][k]), np.asarray(v))


def test_load_state_dict_refuses_another_optimizers_state():
    adam = _stepped(optim.Adam, lr=0.5)
    sgd = _stepped(optim.SGD, lr=0.1, momentum=0.9)
    _assert_refused(adam, sgd.state_dict(),
                    r"Adam.load_state_dict: the state of parameter 0 has entries "
                    r"\['momentum_buffer'\], but Adam keeps \['exp_avg', 'exp_avg_sq', 'step'\]")
    _assert_refused(sgd, adam.state_dict(), r"SGD keeps \['momentum_buffer'\]")
    _assert_refused(_stepped(optim.SGD, lr=0.1), adam.state_dict(), r"SGD keeps \[\]")
    _assert_refused(_stepped(optim.Adagrad), _stepped(optim.RMSprop).state_dict(),
                    r"entries \['square_avg', 'step'\], but Adagrad keeps \['step', 'sum'\]")
    partial = adam.state_dict()
    del partial["state"][1]["exp_avg_sq"]
    _assert_refused(_stepped(optim.Adam), partial, "parameter 1 has entries")
    # the saved group's options decide: an AMSGrad state needs max_exp_avg_sq, a plain one not
    amsgrad = _stepped(optim.Adam, amsgrad=True).state_dict()
    plain = _stepped(optim.Adam, amsgrad=True)
    plain.load_state_dict(adam.state_dict())
    assert not plain.param_groups[0]["amsgrad"]
    del amsgrad["state"][0]["max_exp_avg_sq"]
    _assert_refused(plain, amsgrad,
                    r"Adam keeps \['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step'\]")


def test_load_state_dict_refuses_a_malformed_state_dict():
    adam = _stepped(optim.Adam, lr=0.5)
    good = adam.state_dict()
    layout = "expected a dict with 'state' and 'param_groups'"
    _assert_refused(adam, {"param_groups": good["param_groups"]},
                    f"{layout}.*got \\['param_groups'\\]")
    _assert_refused(adam, [good], f"{layout}.*got list")
    _assert_refused(adam, {**good, "param_groups": [{"lr": 0.1}]}, "each with a 'params' list")
    _assert_refused(adam, {**good, "state": {0: 1.0}}, "'state' must map parameter indices to dicts")
    _assert_refused(adam, {**good, "state": {7: good["state"][0]}},
                    r"state for parameter 7, which no group holds \(they hold \[0, 1\]\)")
    _assert_refused(adam, {**good, "param_groups": good["param_groups"] * 2}, "2 parameter groups")


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_pytorch_optimizer_state_loads_and_continues_like_pytorch(config):
    """The per-parameter state entries are PyTorch's, so its state (as NumPy) passes the check."""
    name, kwargs = config
    ours, theirs, grads = _setup(seed=2)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    for g in grads[:RESUME_AT]:
        _set_grads(ours, theirs, g)
        topt.step()
    for p, tp in zip(ours, theirs):
        p.data = tp.detach().numpy().copy()
    tstate = topt.state_dict()
    opt = getattr(optim, name)(ours, lr=123.0)
    opt.load_state_dict({"param_groups": tstate["param_groups"],
                         "state": {i: {k: v.numpy() for k, v in s.items()}
                                   for i, s in tstate["state"].items()}})
    for step, g in enumerate(grads[RESUME_AT:], RESUME_AT):
        _set_grads(ours, theirs, g)
        opt.step()
        topt.step()
        _assert_params_match(ours, theirs, step)


# --- hyper-parameters are checked as PyTorch checks them, naming the one that is wrong ----------
BAD_HYPERPARAMETERS = [
    # (optimizer, keyword arguments, error type, message)
    (nn.optim.Adam, dict(lr=float("nan")), ValueError, "Adam: lr must be finite, got nan"),
    (nn.optim.AdamW, dict(lr=float("inf")), ValueError, "AdamW: lr must be finite, got inf"),
    (nn.optim.RMSprop, dict(lr=float("nan")), ValueError, "RMSprop: lr must be finite, got nan"),
    (nn.optim.Adagrad, dict(lr=float("nan")), ValueError, "Adagrad: lr must be finite, got nan"),
    (nn.optim.SGD, dict(lr=float("nan")), ValueError, "SGD: lr must be finite, got nan"),
    (nn.optim.Adam, dict(lr="0.1"), TypeError, "Adam: lr must be a number, got str '0.1'"),
    (nn.optim.SGD, dict(lr=None), TypeError, "SGD: lr must be a number, got NoneType None"),
    (nn.optim.Adam, dict(lr=-1e-3), ValueError, "Adam: lr must be >= 0, got -0.001"),
    (nn.optim.Adam, dict(eps=float("nan")), ValueError, "Adam: eps must be finite"),
    (nn.optim.Adam, dict(betas=(0.9, 1.0)), ValueError, r"Adam: betas\[1\] must be in \[0, 1\), got 1.0"),
    (nn.optim.AdamW, dict(betas=(float("nan"), 0.9)), ValueError, r"AdamW: betas\[0\] must be finite"),
    (nn.optim.Adam, dict(betas=0.9), TypeError, r"Adam: betas must be a pair"),
    (nn.optim.AdamW, dict(weight_decay="1e-2"), TypeError, "AdamW: weight_decay must be a number"),
    (nn.optim.RMSprop, dict(alpha=float("nan")), ValueError, "RMSprop: alpha must be finite"),
    (nn.optim.RMSprop, dict(momentum=-0.5), ValueError, "RMSprop: momentum must be >= 0, got -0.5"),
    (nn.optim.Adagrad, dict(lr_decay=float("inf")), ValueError, "Adagrad: lr_decay must be finite"),
    (nn.optim.Adagrad, dict(initial_accumulator_value=-1.0), ValueError,
     "Adagrad: initial_accumulator_value must be >= 0"),
    (nn.optim.SGD, dict(lr=0.1, momentum=True), TypeError, "SGD: momentum must be a number, got bool"),
    (nn.optim.SGD, dict(lr=0.1, dampening=float("nan")), ValueError, "SGD: dampening must be finite"),
]


@pytest.mark.parametrize("optimizer, kwargs, error, message", BAD_HYPERPARAMETERS,
                         ids=[f"{o.__name__}{k}" for o, k, _, _ in BAD_HYPERPARAMETERS])
def test_a_bad_hyperparameter_is_refused_and_named(optimizer, kwargs, error, message):
    # (Adam(lr=nan) turned every parameter into NaN at its first step; lr="0.1" raised a bare
    # comparison TypeError)
    p = nn.Parameter(minigrad.tensor(np.ones(3)))
    with pytest.raises(error, match=message):
        optimizer([p], **kwargs)


def test_numpy_numbers_are_numbers():
    p = nn.Parameter(minigrad.tensor(np.ones(3)))
    nn.optim.Adam([p], lr=np.float64(1e-3), betas=(np.float32(0.9), 0.999))
