"""Stochastic gradient descent with momentum (PyTorch's formulation)."""
from __future__ import annotations

import math

from minigrad import backend

from .optimizer import Optimizer, check_hyperparameter


class SGD(Optimizer):
    """g = ∇θ + λθ;  b = μ b + (1 - τ) g  (b = g on the first step);
    g = g + μ b (Nesterov) or g = b;  θ = θ - lr g.

    λ = ``weight_decay``, μ = ``momentum``, τ = ``dampening``. ``maximize`` ascends instead.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False):
        for key, value in (("lr", lr), ("momentum", momentum), ("dampening", dampening),
                           ("weight_decay", weight_decay)):
            check_hyperparameter("SGD", key, value, low=-math.inf if key == "dampening" else 0.0)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: Nesterov momentum needs momentum > 0 and dampening = 0, "
                             f"got momentum={momentum}, dampening={dampening}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    def state_keys(self, group):
        return {"momentum_buffer"} if group["momentum"] else set()

    def update(self, p, g, state, group):
        mu = group["momentum"]
        if mu:
            if "momentum_buffer" not in state:
                # an array even for a 0-d parameter, whose prepared g NumPy makes a scalar
                state["momentum_buffer"] = backend.get_array_module(p.data).array(g)
            else:
                buf = state["momentum_buffer"]
                buf *= mu
                buf += (1 - group["dampening"]) * g
            buf = state["momentum_buffer"]
            g = g + mu * buf if group["nesterov"] else buf
        p.data -= group["lr"] * g
