"""Losses against PyTorch (float64): values and input gradients for every reduction, ignore_index,
class weights and extra dimensions; finite-difference gradchecks; stability at extreme logits."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad
import nn
import nn.functional as F

REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(2024)


def _compare(ours_fn, theirs_fn, x_np, reduction, atol=1e-13):
    """Forward values and d(sum(loss * w))/dx of both libraries."""
    x = minigrad.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    loss, tloss = ours_fn(x), theirs_fn(tx)
    assert loss.shape == tuple(tloss.shape)
    np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=1e-12, atol=atol)
    w = RNG.standard_normal(loss.shape) if reduction == "none" else np.array(1.0)
    (loss * minigrad.tensor(w)).sum().backward()
    (tloss * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=atol)


# --- mse --------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_matches_torch(reduction):
    x_np, y_np = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    _compare(lambda x: F.mse_loss(x, minigrad.tensor(y_np), reduction),
             lambda x: TF.mse_loss(x, torch.tensor(y_np), reduction=reduction), x_np, reduction)


def test_mse_target_gradient_and_shape_check():
    x = minigrad.tensor(RNG.standard_normal(5), requires_grad=True)
    y = minigrad.tensor(RNG.standard_normal(5), requires_grad=True)
    nn.MSELoss(reduction="sum")(x, y).backward()
    np.testing.assert_allclose(y.grad.numpy(), -2 * (x.numpy() - y.numpy()))
    exact = F.mse_loss(x, [0.1] * 5, reduction="none").numpy()  # Python floats keep float64
    np.testing.assert_array_equal(exact, (x.numpy() - 0.1) ** 2)
    with pytest.raises(ValueError, match=r"\(5,\).*\(5, 1\)"):
        F.mse_loss(x, np.zeros((5, 1)))


# --- cross-entropy and nll -------------------------------------------------------------------
CLASS_CASES = {
    "NC": ((6, 5), (6,)),
    "NCd": ((3, 4, 5), (3, 5)),
    "NCdd": ((2, 3, 4, 2), (2, 4, 2)),
    "C": ((5,), ()),
}


def _targets(shape, n_classes, ignore_index=None):
    t = RNG.integers(0, n_classes, size=shape)
    if ignore_index is not None and t.size > 1:
        t.reshape(-1)[[0, -1]] = ignore_index
    return t


@pytest.mark.parametrize("case", sorted(CLASS_CASES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_cross_entropy_matches_torch(case, reduction, ignore_index):
    x_shape, t_shape = CLASS_CASES[case]
    n_classes = x_shape[1] if len(x_shape) > 1 else x_shape[0]
    t = _targets(t_shape, n_classes, ignore_index if ignore_index >= 0 else None)
    _compare(lambda x: F.cross_entropy(x, t, ignore_index=ignore_index, reduction=reduction),
             lambda x: TF.cross_entropy(x, torch.tensor(t), ignore_index=ignore_index,
                                        reduction=reduction),
             RNG.standard_normal(x_shape) * 3, reduction)


@pytest.mark.parametrize("case", ["NC", "NCd"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_with_class_weights_and_ignore_index_matches_torch(case, reduction):
    x_shape, t_shape = CLASS_CASES[case]
    weight = RNG.uniform(0.5, 2.0, x_shape[1])
    t = _targets(t_shape, x_shape[1], ignore_index=-1)
    log_probs = np.log(RNG.dirichlet(np.ones(x_shape[1]), size=x_shape[:1] + x_shape[2:]))
    log_probs = np.moveaxis(log_probs, -1, 1)
    _compare(lambda x: F.nll_loss(x, minigrad.tensor(t), minigrad.tensor(weight), -1, reduction),
             lambda x: TF.nll_loss(x, torch.tensor(t), torch.tensor(weight), ignore_index=-1,
                                   reduction=reduction),
             log_probs, reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets_match_torch(reduction):
    probs = RNG.dirichlet(np.ones(4), size=(3, 5)).transpose(0, 2, 1)  # (N, C, d)
    weight = RNG.uniform(0.5, 2.0, 4)
    _compare(lambda x: F.cross_entropy(x, minigrad.tensor(probs), minigrad.tensor(weight),
                                       reduction=reduction),
             lambda x: TF.cross_entropy(x, torch.tensor(probs), torch.tensor(weight),
                                        reduction=reduction),
             RNG.standard_normal((3, 4, 5)), reduction)


@pytest.mark.parametrize("case", ["NC", "NCd", "C"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("smoothing", [0.3, 1.0])
def test_cross_entropy_label_smoothing_matches_torch(case, reduction, weighted, ignore_index,
                                                     smoothing):
    x_shape, t_shape = CLASS_CASES[case]
    n_classes = x_shape[1] if len(x_shape) > 1 else x_shape[0]
    t = _targets(t_shape, n_classes, ignore_index if ignore_index >= 0 else None)
    weight = RNG.uniform(0.5, 2.0, n_classes) if weighted else None
    wrap = (lambda a, lib: None if a is None else lib.tensor(a))
    _compare(lambda x: F.cross_entropy(x, t, wrap(weight, minigrad), ignore_index, reduction,
                                       label_smoothing=smoothing),
             lambda x: TF.cross_entropy(x, torch.tensor(t), wrap(weight, torch),
                                        ignore_index=ignore_index, reduction=reduction,
                                        label_smoothing=smoothing),
             RNG.standard_normal(x_shape) * 3, reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_label_smoothing_of_probability_targets_matches_torch(reduction, weighted):
    probs = RNG.dirichlet(np.ones(4), size=(3, 5)).transpose(0, 2, 1)  # (N, C, d)
    weight = RNG.uniform(0.5, 2.0, 4) if weighted else None
    wrap = (lambda a, lib: None if a is None else lib.tensor(a))
    _compare(lambda x: F.cross_entropy(x, minigrad.tensor(probs), wrap(weight, minigrad),
                                       reduction=reduction, label_smoothing=0.2),
             lambda x: TF.cross_entropy(x, torch.tensor(probs), wrap(weight, torch),
                                        reduction=reduction, label_smoothing=0.2),
             RNG.standard_normal((3, 4, 5)), reduction)


@pytest.mark.parametrize("smoothing", [-0.1, 1.5, float("nan")])
def test_label_smoothing_outside_0_1_is_refused(smoothing):
    x, t = minigrad.tensor(RNG.standard_normal((2, 3))), np.array([0, 2])
    message = rf"label_smoothing must be in \[0, 1\], got {smoothing}"
    with pytest.raises(ValueError, match=rf"^cross_entropy: {message}$"):
        F.cross_entropy(x, t, label_smoothing=smoothing)
    with pytest.raises(ValueError, match=rf"^cross_entropy: {message}$"):
        F.cross_entropy(x, np.full((2, 3), 1 / 3), label_smoothing=smoothing)
    with pytest.raises(ValueError, match=rf"^CrossEntropyLoss: {message}$"):
        nn.CrossEntropyLoss(label_smoothing=smoothing)
    if smoothing > 1:  # torch refuses only this side; below 0 and NaN it ignores the option
        with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
            TF.cross_entropy(torch.tensor(x.numpy()), torch.tensor(t), label_smoothing=smoothing)


def test_cross_entropy_all_ignored_mean_is_nan_like_torch():
    x = RNG.standard_normal((2, 3))
    t = np.array([-100, -100])
    with np.errstate(invalid="ignore"):
        ours = F.cross_entropy(minigrad.tensor(x), t).item()
    assert np.isnan(ours) and np.isnan(TF.cross_entropy(torch.tensor(x), torch.tensor(t)).item())


@pytest.mark.parametrize("loss", ["cross_entropy", "cross_entropy_smoothed", "nll_loss"])
def test_all_ignored_mean_has_a_zero_gradient_like_torch(loss):
    """The mean is 0/0 = NaN, but no target is kept, so the gradient is 0, not NaN (a padded
    batch with no real target must not poison the parameters)."""
    x = RNG.standard_normal((2, 3, 4))
    t = np.full((2, 4), -100)
    name = loss.replace("_smoothed", "")
    options = {"label_smoothing": 0.2} if "smoothed" in loss else {}
    ours, theirs = getattr(F, name), getattr(TF, name)
    with np.errstate(invalid="ignore", divide="ignore"):
        _compare(lambda x: ours(x, t, weight=np.ones(3), **options),
                 lambda x: theirs(x, torch.tensor(t), weight=torch.ones(3, dtype=x.dtype), **options),
                 x, "mean")


# An ignored position may hold -inf (a fully masked step) or NaN: it adds nothing, not NaN.
IGNORED_ROWS = {"one_-inf": [-np.inf, -1.0, -0.5], "all_-inf": [-np.inf] * 3,
                "nan": [np.nan, -1.0, -0.5]}


@pytest.mark.parametrize("row", sorted(IGNORED_ROWS))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_ignored_rows_holding_inf_or_nan_match_torch(row, reduction):
    x_np = np.vstack([IGNORED_ROWS[row], np.log(RNG.dirichlet(np.ones(3), size=3))])
    t = np.array([-100, 0, 2, 1])
    weight = RNG.uniform(0.5, 2.0, 3)
    _compare(lambda x: F.nll_loss(x, t, minigrad.tensor(weight), reduction=reduction),
             lambda x: TF.nll_loss(x, torch.tensor(t), torch.tensor(weight), reduction=reduction),
             x_np, reduction)
    x = minigrad.tensor(x_np, requires_grad=True)
    F.nll_loss(x, t, reduction=reduction).sum().backward()
    assert np.all(x.grad.numpy()[0] == 0) and np.all(np.isfinite(x.grad.numpy()))


@pytest.mark.parametrize("row", sorted(IGNORED_ROWS))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_ignored_rows_holding_inf_or_nan_are_finite(row, reduction, smoothing):
    x_np = np.vstack([IGNORED_ROWS[row], RNG.standard_normal((3, 3))])
    t = np.array([-100, 0, 2, 1])
    x, tx = minigrad.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    loss = F.cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing)
    tloss = TF.cross_entropy(tx, torch.tensor(t), reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=1e-12, atol=1e-14)
    loss.sum().backward()
    tloss.sum().backward()
    # PyTorch's gradient on an all -inf or NaN row is NaN (log_softmax's); ours is 0
    np.testing.assert_allclose(x.grad.numpy()[1:], tx.grad.numpy()[1:], rtol=1e-12, atol=1e-14)
    assert np.all(x.grad.numpy()[0] == 0)


def test_cross_entropy_extreme_logits_are_finite():
    x_np = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]])
    t = np.array([1, 2])
    _compare(lambda x: F.cross_entropy(x, t), lambda x: TF.cross_entropy(x, torch.tensor(t)),
             x_np, "mean")


def test_cross_entropy_float32_stays_float32():
    x = minigrad.tensor(RNG.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    loss = nn.CrossEntropyLoss()(x, [0, 1, 3])
    loss.backward()
    assert loss.dtype == minigrad.float32 and x.grad.dtype == minigrad.float32
    weighted = F.cross_entropy(x, [0, 1, 3], weight=np.array([1.0, 2.0, 3.0, 4.0]),  # float64 weights
                               label_smoothing=0.1)
    bce = F.binary_cross_entropy_with_logits(x, np.ones((3, 4)), weight=np.ones(4), pos_weight=np.ones(4))
    assert weighted.dtype == minigrad.float32 and bce.dtype == minigrad.float32


def test_class_loss_errors_name_shapes_and_values():
    x = minigrad.tensor(RNG.standard_normal((4, 3)))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4,\).*\(3,\)"):
        F.cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(IndexError, match="target 3 is out of range for 3 classes"):
        F.cross_entropy(x, np.array([0, 1, 2, 3]))
    with pytest.raises(IndexError, match="target -2"):
        F.nll_loss(x, np.array([0, 1, 2, -2]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.nll_loss(x, np.zeros(4))
    with pytest.raises(ValueError, match="'avg'"):
        F.cross_entropy(x, np.array([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.nll_loss(x, np.array([0, 1, 2, 0]), weight=minigrad.tensor(np.ones(4)))


def test_loss_arguments_of_another_dtype_or_shape_are_named():
    x = minigrad.tensor(RNG.standard_normal((2, 4)).astype(np.float32))
    probs = RNG.dirichlet(np.ones(4), size=2)
    with pytest.raises(TypeError, match=r"cross_entropy: target is float64 \(2, 4\) but input "
                                        r"is float32 \(2, 4\)"):
        F.cross_entropy(x, minigrad.tensor(probs))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(4,\).*\(3,\)"):
        F.cross_entropy(x, probs, weight=np.ones(3))
    y = np.ones((2, 4))
    with pytest.raises(TypeError, match="binary_cross_entropy_with_logits: pos_weight is float64"):
        F.binary_cross_entropy_with_logits(x, y, pos_weight=minigrad.tensor(np.ones(4)))
    with pytest.raises(TypeError, match="binary_cross_entropy_with_logits: weight is float64"):
        nn.BCEWithLogitsLoss(weight=minigrad.tensor(np.ones(4)))(x, y)
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) does not broadcast to the "
                                         r"input's shape \(2, 4\)"):
        F.binary_cross_entropy_with_logits(x, y, pos_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"weight of shape \(2, 4, 1\) does not broadcast"):
        F.binary_cross_entropy_with_logits(x, y, weight=np.ones((2, 4, 1)))
    ok = F.binary_cross_entropy_with_logits(x, y, weight=np.ones((2, 1)), pos_weight=np.ones(4))
    assert ok.dtype == minigrad.float32


# --- binary cross-entropy with logits ----------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_with_logits_matches_torch(reduction, weighted):
    x_np = RNG.standard_normal((5, 3)) * 4
    x_np[0, 0] = 0.0  # the kink of |x| and max(x, 0): the gradient must still be right
    y = RNG.uniform(0, 1, (5, 3))
    weight = RNG.uniform(0.5, 2, (5, 1)) if weighted else None
    pos_weight = RNG.uniform(0.5, 3, 3) if weighted else None
    wrap = (lambda a, lib: None if a is None else lib.tensor(a))
    _compare(lambda x: F.binary_cross_entropy_with_logits(
                 x, minigrad.tensor(y), wrap(weight, minigrad), reduction, wrap(pos_weight, minigrad)),
             lambda x: TF.binary_cross_entropy_with_logits(
                 x, torch.tensor(y), wrap(weight, torch), reduction=reduction,
                 pos_weight=wrap(pos_weight, torch)),
             x_np, reduction)


def test_bce_with_logits_is_stable_at_extreme_logits():
    x_np = np.array([1e4, -1e4, 800.0, -800.0, 40.0, -40.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.5])
    _compare(lambda x: nn.BCEWithLogitsLoss(reduction="none")(x, y),
             lambda x: TF.binary_cross_entropy_with_logits(x, torch.tensor(y), reduction="none"),
             x_np, "none", atol=1e-12)


def test_bce_target_shape_must_match():
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 1\)"):
        F.binary_cross_entropy_with_logits(minigrad.tensor(np.zeros(3)), np.zeros((3, 1)))


# --- gradcheck and second derivatives ---------------------------------------------------------
def test_losses_pass_gradcheck():
    t = np.array([0, 2, 1, 2])
    y = RNG.uniform(0, 1, (4, 3))
    x = minigrad.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    assert minigrad.gradcheck(lambda a: F.cross_entropy(a, t, ignore_index=1), (x,))
    weight = RNG.uniform(0.5, 2, 3)
    assert minigrad.gradcheck(lambda a: F.cross_entropy(a, t, weight, ignore_index=1,
                                                        label_smoothing=0.3), (x,))
    assert minigrad.gradcheck(lambda a: F.nll_loss(a.log_softmax(axis=1), t, reduction="none"), (x,))
    assert minigrad.gradcheck(lambda a: F.binary_cross_entropy_with_logits(a, y), (x,))
    assert minigrad.gradcheck(lambda a: F.mse_loss(a, y, reduction="sum"), (x,))
    assert minigrad.gradgradcheck(lambda a: F.cross_entropy(a, t), (x,))
    assert minigrad.gradgradcheck(lambda a: F.binary_cross_entropy_with_logits(a, y), (x,))


# --- modules -----------------------------------------------------------------------------------
def test_loss_modules_forward_their_options():
    x_np = RNG.standard_normal((4, 3))
    t = np.array([0, 2, 1, 2])
    w = RNG.uniform(0.5, 2, 3)
    pairs = [
        (nn.CrossEntropyLoss(weight=minigrad.tensor(w), ignore_index=2, reduction="sum"),
         torch.nn.CrossEntropyLoss(weight=torch.tensor(w), ignore_index=2, reduction="sum"), t),
        (nn.CrossEntropyLoss(minigrad.tensor(w), 2, "mean", label_smoothing=0.4),
         torch.nn.CrossEntropyLoss(torch.tensor(w), ignore_index=2, label_smoothing=0.4), t),
        (nn.NLLLoss(reduction="none"), torch.nn.NLLLoss(reduction="none"), t),
        (nn.MSELoss(), torch.nn.MSELoss(), x_np[::-1].copy()),
        (nn.BCEWithLogitsLoss(pos_weight=minigrad.tensor(w)),
         torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)), np.abs(np.sin(x_np))),
    ]
    for ours, theirs, target in pairs:
        got = ours(minigrad.tensor(x_np), minigrad.tensor(target)).numpy()
        np.testing.assert_allclose(got, theirs(torch.tensor(x_np), torch.tensor(target)).numpy(),
                                   rtol=1e-13, err_msg=repr(ours))
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    with pytest.raises(ValueError, match="reduction"):
        nn.NLLLoss(reduction="max")


def test_tensor_weights_of_loss_modules_are_buffers_like_pytorch():
    """In state_dict (so a PyTorch state dict of a model holding its loss loads) and cast by to()."""
    w = RNG.uniform(0.5, 2, 3)
    pairs = [(nn.CrossEntropyLoss(weight=minigrad.tensor(w)),
              torch.nn.CrossEntropyLoss(weight=torch.tensor(w))),
             (nn.NLLLoss(weight=minigrad.tensor(w)), torch.nn.NLLLoss(weight=torch.tensor(w))),
             (nn.BCEWithLogitsLoss(minigrad.tensor(w), pos_weight=minigrad.tensor(w)),
              torch.nn.BCEWithLogitsLoss(torch.tensor(w), pos_weight=torch.tensor(w))),
             (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss())]
    for ours, theirs in pairs:
        assert list(ours.state_dict()) == list(theirs.state_dict())
        ours.load_state_dict({k: v.numpy() * 2 for k, v in theirs.state_dict().items()})
        ours.float()
        assert all(b.dtype == minigrad.float32 for b in ours.buffers())
    x = minigrad.tensor(RNG.standard_normal((4, 3)).astype(np.float32))
    assert pairs[0][0](x, np.array([0, 1, 2, 0])).dtype == minigrad.float32
    array_weight = nn.CrossEntropyLoss(weight=w)  # an array is converted at each call
    assert array_weight(x, np.array([0, 1, 2, 0])).dtype == minigrad.float32
