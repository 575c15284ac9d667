"""Adagrad (Duchi et al., 2011), as PyTorch computes it."""
from __future__ import annotations

from minigrad import backend

from .optimizer import Optimizer, check_hyperparameter


class Adagrad(Optimizer):
    """t = t + 1;  g = ∇θ + λθ;  η_t = lr / (1 + (t - 1) lr_decay);
    s = s + g²;  θ = θ - η_t g / (sqrt(s) + ε),  with s starting at ``initial_accumulator_value``."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, maximize: bool = False):
        for key, value in (("lr", lr), ("lr_decay", lr_decay), ("weight_decay", weight_decay),
                           ("initial_accumulator_value", initial_accumulator_value), ("eps", eps)):
            check_hyperparameter("Adagrad", key, value)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

    def state_keys(self, group):
        return {"step", "sum"}

    def update(self, p, g, state, group):
        if not state:
            xp = backend.get_array_module(p.data)
            state["step"] = 0
            state["sum"] = xp.full(p.shape, group["initial_accumulator_value"], p.dtype)
        state["step"] += 1
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += g * g
        p.data -= lr * (g / (backend.get_array_module(s).sqrt(s) + group["eps"]))
