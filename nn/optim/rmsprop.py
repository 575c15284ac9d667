"""RMSprop (Hinton's lecture 6e), as PyTorch computes it."""
from __future__ import annotations

from minigrad import backend

from .optimizer import Optimizer, check_hyperparameter


class RMSprop(Optimizer):
    """g = ∇θ + λθ;  v = α v + (1 - α) g²;
    centered: ḡ = α ḡ + (1 - α) g, d = sqrt(v - ḡ²) + ε;  otherwise d = sqrt(v) + ε;
    momentum μ > 0: b = μ b + g / d, θ = θ - lr b;  otherwise θ = θ - lr g / d."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 maximize: bool = False):
        for key, value in (("lr", lr), ("alpha", alpha), ("eps", eps), ("weight_decay", weight_decay),
                           ("momentum", momentum)):
            check_hyperparameter("RMSprop", key, value)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def state_keys(self, group):
        return ({"step", "square_avg"} | ({"momentum_buffer"} if group["momentum"] > 0 else set())
                | ({"grad_avg"} if group["centered"] else set()))

    def update(self, p, g, state, group):
        alpha, mu = group["alpha"], group["momentum"]
        xp = backend.get_array_module(p.data)
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros(p.shape, p.dtype)
            if mu > 0:
                state["momentum_buffer"] = xp.zeros(p.shape, p.dtype)
            if group["centered"]:
                state["grad_avg"] = xp.zeros(p.shape, p.dtype)
        state["step"] += 1
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            g_avg = state["grad_avg"]
            g_avg += (1 - alpha) * (g - g_avg)
            d = xp.sqrt(v - g_avg * g_avg) + group["eps"]
        else:
            d = xp.sqrt(v) + group["eps"]
        if mu > 0:
            buf = state["momentum_buffer"]
            buf *= mu
            buf += g / d
            p.data -= group["lr"] * buf
        else:
            p.data -= group["lr"] * (g / d)
