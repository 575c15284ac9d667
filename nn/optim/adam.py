"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), as PyTorch computes them."""
from __future__ import annotations

import math

from minigrad import backend

from .optimizer import Optimizer, check_hyperparameter


class Adam(Optimizer):
    """t = t + 1;  g = ∇θ + λθ;
    m = β1 m + (1 - β1) g;          v = β2 v + (1 - β2) g²;
    v̂max = max(v̂max, v) (AMSGrad, used in place of v below);
    θ = θ - lr/(1 - β1^t) · m / (sqrt(v)/sqrt(1 - β2^t) + ε).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False):
        name = type(self).__name__
        for key, value in (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)):
            check_hyperparameter(name, key, value)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for k, beta in enumerate(betas):
            check_hyperparameter(name, f"betas[{k}]", beta, 0.0, 1.0, high_excluded=True)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def state_keys(self, group):
        return {"step", "exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if group["amsgrad"] else set())

    def update(self, p, g, state, group):
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        if wd and self.decoupled_weight_decay:
            p.data *= 1 - lr * wd
        if not state:
            xp = backend.get_array_module(p.data)
            state["step"] = 0
            state["exp_avg"] = xp.zeros(p.shape, p.dtype)
            state["exp_avg_sq"] = xp.zeros(p.shape, p.dtype)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros(p.shape, p.dtype)
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        m += (1 - beta1) * (g - m)
        v *= beta2
        v += (1 - beta2) * g * g
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]
            backend.get_array_module(v).maximum(vmax, v, out=vmax)
            v = vmax
        xp = backend.get_array_module(v)
        denom = xp.sqrt(v) / math.sqrt(1 - beta2 ** t) + group["eps"]
        p.data -= (lr / (1 - beta1 ** t)) * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay: θ = θ (1 - lr λ) before the Adam step, instead of
    adding λθ to the gradient."""

    decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
