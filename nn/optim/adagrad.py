"""Adagrad (Duchi et al., 2011), as PyTorch computes it."""
from __future__ import annotations

from minigrad import backend

from .optimizer import Optimizer


class Adagrad(Optimizer):
    """t = t + 1;  g = ∇θ + λθ;  η_t = lr / (1 + (t - 1) lr_decay);
    s = s + g²;  θ = θ - η_t g / (sqrt(s) + ε),  with s starting at ``initial_accumulator_value``."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, maximize: bool = False):
        if lr < 0 or lr_decay < 0 or weight_decay < 0 or initial_accumulator_value < 0 or eps < 0:
            raise ValueError(f"Adagrad: lr, lr_decay, weight_decay, initial_accumulator_value and eps "
                             f"must be >= 0, got {lr}, {lr_decay}, {weight_decay}, "
                             f"{initial_accumulator_value}, {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

    def state_keys(self, group):
        return {"step", "sum"}

    def update(self, p, g, state, group):
        if not state:
            xp = backend.get_array_module(p.data)
            state["step"] = 0
            state["sum"] = xp.full_like(p.data, group["initial_accumulator_value"])
        state["step"] += 1
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += g * g
        p.data -= lr * (g / (backend.get_array_module(s).sqrt(s) + group["eps"]))
