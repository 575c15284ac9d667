"""optim.LBFGS and optim.lr_scheduler, step for step against PyTorch's."""
import math

import numpy as np
import pytest
import torch

import minigrad as mg
import nn


class TwoCells(nn.Module):
    """The sine-wave tutorial's model, small: LSTMCell -> LSTMCell -> Linear over time."""

    def __init__(self, cell, linear):
        super().__init__()
        self.lstm1, self.lstm2, self.linear = cell(1, 5), cell(5, 5), linear(5, 1)

    def forward(self, x, lib):
        h = c = h2 = c2 = lib.zeros(x.shape[0], 5, dtype=lib.float64)
        outputs = []
        for x_t in x.split(1, dim=1):
            h, c = self.lstm1(x_t, (h, c))
            h2, c2 = self.lstm2(h, (h2, c2))
            outputs.append(self.linear(h2))
        return lib.cat(outputs, dim=1) if lib is torch else mg.concat(outputs, axis=1)


class TorchTwoCells(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm1, self.lstm2 = torch.nn.LSTMCell(1, 5), torch.nn.LSTMCell(5, 5)
        self.linear = torch.nn.Linear(5, 1)

    forward = TwoCells.forward


@pytest.mark.parametrize("options", [dict(lr=0.8), dict(lr=0.5, max_iter=7, history_size=3),
                                     dict(lr=1.0, max_iter=4, max_eval=3),
                                     dict(lr=1.0, line_search_fn="strong_wolfe"),
                                     dict(lr=0.8, max_iter=6, history_size=2, line_search_fn="strong_wolfe"),
                                     dict(lr=1.0, max_iter=20, max_eval=9, line_search_fn="strong_wolfe")])
def test_lbfgs_follows_torchs_iterates(options):
    torch.manual_seed(0)
    ref = TorchTwoCells().double()
    mine = TwoCells(nn.LSTMCell, nn.Linear).double()
    mine.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    wave = np.sin(np.arange(12)[None, :] / 3.0 + np.arange(4)[:, None])
    x, y = wave[:, :-1], wave[:, 1:]
    runs = {}
    for name, model, lib, make in (("mine", mine, mg, mg.tensor), ("torch", ref, torch, torch.tensor)):
        optimizer = (nn.optim.LBFGS if lib is mg else torch.optim.LBFGS)(model.parameters(), **options)
        losses = []

        def closure():
            optimizer.zero_grad()
            loss = ((model(make(x), lib) - make(y)) ** 2).mean()
            losses.append(loss.item())
            loss.backward()
            return loss

        for _ in range(3):
            optimizer.step(closure)
        runs[name] = (losses, {k: v.detach().numpy() for k, v in model.state_dict().items()})
    assert len(runs["mine"][0]) == len(runs["torch"][0]) > 3  # the same tries, one by one
    # The two models' losses differ in the last bit; the line search's longer steps magnify
    # that (1e-16 at the first evaluation, ~1e-9 after 60): a wrong branch would differ by 1e-2.
    rtol = 1e-7 if "line_search_fn" in options else 1e-9
    np.testing.assert_allclose(runs["mine"][0], runs["torch"][0], rtol=rtol)
    for k, v in runs["torch"][1].items():
        np.testing.assert_allclose(runs["mine"][1][k], v, rtol=100 * rtol, atol=1e-10)


@pytest.mark.parametrize("start", [(-1.5, 2.0), (1.2, 1.2), (-0.5, -0.7)])
def test_the_strong_wolfe_search_walks_rosenbrocks_valley_as_torch_does(start):
    """Rosenbrock's curved valley makes the search grow its step, and zoom back in."""
    runs = {}
    for lib, optim in ((mg, nn.optim), (torch, torch.optim)):
        xy = lib.tensor(start, dtype=lib.float64, requires_grad=True)
        optimizer = optim.LBFGS([xy], lr=1.0, max_iter=30, line_search_fn="strong_wolfe")
        trail = []

        def closure():
            optimizer.zero_grad()
            loss = (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2
            loss.backward()
            trail.append(xy.detach().numpy().copy())
            return loss

        optimizer.step(closure)
        runs[lib.__name__] = np.array(trail)
    assert runs["minigrad"].shape == runs["torch"].shape and len(runs["torch"]) > 10
    np.testing.assert_allclose(runs["minigrad"], runs["torch"], rtol=1e-9, atol=1e-12)
    x, y = runs["minigrad"][[0, -1]].T
    first, last = (1 - x) ** 2 + 100 * (y - x ** 2) ** 2
    assert last < 0.01 * first  # well along the valley to its minimum at (1, 1)


LINES = {  # a loss along the line, its derivative, a start and a first step
    "quartic": (lambda x: (x - 3) ** 4 - 2 * x, lambda x: 4 * (x - 3) ** 3 - 2, 0.0, 1.0),
    "wavy": (lambda x: np.sin(3 * x) + 0.1 * x * x, lambda x: 3 * np.cos(3 * x) + 0.2 * x, 0.1, 5.0),
    "steep": (lambda x: np.exp(x) - 4 * x, lambda x: np.exp(x) - 4, -2.0, 0.01),
    "far": (lambda x: (x - 40.0) ** 2, lambda x: 2 * (x - 40.0), 0.0, 0.5),
    "overshoot": (lambda x: (x - 1) ** 2, lambda x: 2 * (x - 1), 0.0, 1.95),  # past the minimum
    "falling": (lambda x: -x - 0.1 * x ** 3, lambda x: -1 - 0.3 * x ** 2, 0.0, 1.0),  # no bottom
}


@pytest.mark.parametrize("max_tries", [10, 2])
@pytest.mark.parametrize("name", sorted(LINES))
def test_the_strong_wolfe_search_tries_the_points_torchs_tries(name, max_tries):
    """Each branch of the search (growing the step, zooming with the cubic, the safeguard
    against creeping to an end, running out of tries) against torch's own search."""
    from torch.optim.lbfgs import _strong_wolfe
    from nn.optim.line_search import Point, strong_wolfe
    loss, slope, x0, t = LINES[name]
    d = np.array([1.0])
    tried = {"ours": [], "torch": []}

    def ours(step):
        tried["ours"].append(step)
        return float(loss(x0 + step)), np.array([slope(x0 + step)])

    def theirs(x, step, direction):
        tried["torch"].append(float(step))
        return float(loss(x0 + step)), torch.tensor([float(slope(x0 + step))], dtype=torch.float64)

    found, evals = strong_wolfe(ours, d, Point(0.0, loss(x0), np.array([slope(x0)]), slope(x0)),
                                t, max_tries=max_tries)
    f, _, t_torch, evals_torch = _strong_wolfe(
        theirs, torch.zeros(1, dtype=torch.float64), t, torch.tensor(d), float(loss(x0)),
        torch.tensor([slope(x0)]), torch.tensor(slope(x0)), max_ls=max_tries)
    np.testing.assert_allclose(tried["ours"], tried["torch"], rtol=1e-12)
    assert evals == evals_torch == len(tried["ours"])
    assert found.t == pytest.approx(float(t_torch), rel=1e-12) and found.loss == pytest.approx(f)


def test_lbfgs_needs_a_closure_and_knows_one_line_search():
    p = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="LBFGS.step: needs a closure"):
        nn.optim.LBFGS([p]).step()
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe' .as in "
                                         "PyTorch., got 'armijo'"):
        nn.optim.LBFGS([p], line_search_fn="armijo")


SCHEDULERS = {
    "StepLR": (lambda o, s: s.StepLR(o, step_size=3, gamma=0.5)),
    "ExponentialLR": (lambda o, s: s.ExponentialLR(o, gamma=0.9)),
    "CosineAnnealingLR": (lambda o, s: s.CosineAnnealingLR(o, T_max=7, eta_min=0.01)),
    "LambdaLR": (lambda o, s: s.LambdaLR(o, lr_lambda=lambda epoch: 1.0 / (1 + epoch))),
    "LambdaLR per group": (lambda o, s: s.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: e + 1.0])),
}


def _optimizers(mine_lib_params):
    p, tp = mg.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    q, tq = mg.tensor([2.0], requires_grad=True), torch.tensor([2.0], requires_grad=True)
    return (nn.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.3}], lr=0.1),
            torch.optim.SGD([{"params": [tp]}, {"params": [tq], "lr": 0.3}], lr=0.1))


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_rates_equal_torchs(name):
    mine_opt, torch_opt = _optimizers(None)
    mine = SCHEDULERS[name](mine_opt, nn.optim.lr_scheduler)
    ref = SCHEDULERS[name](torch_opt, torch.optim.lr_scheduler)
    for epoch in range(25):
        assert mine.get_last_lr() == ref.get_last_lr(), epoch  # bit for bit
        mine_opt.step(), torch_opt.step()
        mine.step(), ref.step()
    assert [g["lr"] for g in mine_opt.param_groups] == [g["lr"] for g in torch_opt.param_groups]


@pytest.mark.parametrize("options", [dict(patience=3), dict(mode="max", patience=2, factor=0.5, cooldown=1),
                                     dict(threshold_mode="abs", threshold=0.1, patience=0, min_lr=0.02)])
def test_reduce_on_plateau_equals_torchs(options):
    mine_opt, torch_opt = _optimizers(None)
    mine = nn.optim.lr_scheduler.ReduceLROnPlateau(mine_opt, **options)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **options)
    losses = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9,
              0.9, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]
    for loss in losses:
        mine.step(loss)
        ref.step(loss)
        assert mine.get_last_lr() == ref.get_last_lr()
    assert mine.get_last_lr() != [0.1, 0.3]  # the test reached a reduction


def test_cosine_annealing_reaches_eta_min_at_t_max():
    opt, _ = _optimizers(None)
    sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.0)
    for _ in range(4):
        sched.step()
    assert math.isclose(sched.get_last_lr()[0], 0.0, abs_tol=1e-15)
