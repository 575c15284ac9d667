"""`Optimizer`: what every optimizer shares (parameter groups, per-parameter state, saving).

A subclass writes one method, ``update(p, g, state, group)``: the update rule for one parameter
on raw arrays. ``g`` arrives as PyTorch prepares it: negated with ``maximize``, plus the L2 term
weight_decay * θ (unless the subclass sets ``decoupled_weight_decay``, as AdamW does); never
write into it, gradients may be shared. ``p.data`` is changed in place, so the Parameter
objects and their arrays stay the same. ``state_keys(group)`` names the per-parameter state
entries ``update`` keeps, so that ``load_state_dict`` can refuse another optimizer's state.
"""
from __future__ import annotations

import copy
import math
import numbers
from typing import Callable

from minigrad import Tensor, backend, enable_grad

from ..parameter import zero_grads


def check_hyperparameter(owner: str, name: str, value, low: float = 0.0, high: float = math.inf,
                         high_excluded: bool = False) -> None:
    """Refuse what PyTorch refuses, naming the hyper-parameter: anything but a real number (a
    string, a bool, None), NaN or inf, and a value outside [low, high] ([low, high) with
    ``high_excluded``). ``lr=nan`` would turn every parameter into NaN at the first step."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value}")
    if value < low or value > high or (high_excluded and value == high):
        bound = (f">= {low:g}" if high == math.inf else
                 f"in [{low:g}, {high:g}{')' if high_excluded else ']'}")
        raise ValueError(f"{owner}: {name} must be {bound}, got {value}")


class Optimizer:
    """Holds ``param_groups`` (dicts of ``params`` + hyperparameters, as in PyTorch) and
    ``state`` (per Parameter: step count, moment estimates...)."""

    decoupled_weight_decay = False  # True: update() applies weight_decay itself (AdamW)

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.state: dict = {}
        self.param_groups: list[dict] = []
        params = list(params) if not isinstance(params, Tensor) else [params]
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add ``{"params": [...], **hyperparameters}``; missing hyperparameters take the defaults."""
        name = type(self).__name__
        params = param_group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: a parameter group's params must be an ordered collection "
                            f"(a list), not a {type(params).__name__}: a set's order changes "
                            f"between runs, and state_dict() numbers parameters in this order")
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameters must be Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: cannot optimize a non-leaf tensor of shape {p.shape}")
            if id(p) in seen:
                raise ValueError(f"{name}: a parameter of shape {p.shape} is given more than once")
            seen.add(id(p))
        unknown = set(param_group) - set(self.defaults) - {"params"}
        if unknown:
            raise TypeError(f"{name}: unknown hyperparameters {sorted(unknown)}")
        self.param_groups.append({**self.defaults, **param_group, "params": params})

    # --- stepping ----------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget gradients: ``p.grad = None`` (or a new zero tensor; never written into)."""
        zero_grads(self._params(), set_to_none)

    def step(self, closure: Callable[[], Tensor] | None = None):
        """Update every parameter that has a gradient. ``closure`` (optional) recomputes the
        loss with gradients and returns it."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if g.shape != p.shape:
                    raise ValueError(f"{type(self).__name__}: gradient shape {g.shape} does not match "
                                     f"parameter shape {p.shape}")
                self.update(p, self._prepared_gradient(p, g, group), self.state.setdefault(p, {}),
                            group)
        return loss

    def _prepared_gradient(self, p: Tensor, g, group: dict):
        """g -> -g with ``maximize``; then g + λθ with λ = ``weight_decay`` (L2 decay)."""
        if group.get("maximize"):
            g = -g
        if group.get("weight_decay") and not self.decoupled_weight_decay:
            g = g + group["weight_decay"] * p.data
        return g

    def update(self, p: Tensor, g, state: dict, group: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- saving --------------------------------------------------------------------------
    def _params(self) -> list:
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict:
        """``{"state": {index: {name: Tensor or number}}, "param_groups": [{..., "params": [index]}]}``
        with parameters numbered in group order, as in PyTorch. Arrays are copied."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {index[id(p)]: {k: _exported(v) for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        groups, start = [], 0
        for group in self.param_groups:
            n = len(group["params"])
            groups.append({**copy.deepcopy({k: v for k, v in group.items() if k != "params"}),
                           "params": list(range(start, start + n))})
            start += n
        return {"state": state, "param_groups": groups}

    def state_keys(self, group: dict) -> set | None:
        """The entries ``update`` keeps per parameter under ``group``'s hyperparameters: what
        load_state_dict requires of a parameter's saved state, unless it is empty. None (this
        default) leaves the entries unchecked."""
        return None

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict` (arrays may be Tensors
        or NumPy arrays). Everything is checked first: the layout, the number of groups and of
        parameters in each, and that each parameter's state holds exactly the entries this
        optimizer keeps (:meth:`state_keys`), so another optimizer's state is refused. On an
        error nothing changes."""
        name = f"{type(self).__name__}.load_state_dict"
        groups, states = _check_layout(name, state_dict)
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{name}: the state has {len(groups)} parameter groups, "
                             f"the optimizer {len(self.param_groups)}")
        owners = {}  # saved index -> (parameter, its group's hyperparameters after loading)
        for i, (saved, own) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"{name}: group {i} has {len(saved['params'])} "
                                 f"parameters in the state, {len(own['params'])} in the optimizer")
            merged = {**own, **{k: v for k, v in saved.items() if k != "params"}}
            owners.update((index, (p, merged)) for index, p in zip(saved["params"], own["params"]))
        new_state = {}
        for key, values in states.items():
            try:
                p, group = owners[int(key)]
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"{name}: state for parameter {key!r}, which no group holds "
                                 f"(they hold {sorted(owners, key=str)})") from None
            needed = self.state_keys(group)
            if values and needed is not None and set(values) != needed:
                raise ValueError(f"{name}: the state of parameter {key} has entries "
                                 f"{sorted(values, key=str)}, but {type(self).__name__} keeps "
                                 f"{sorted(needed)} (a state saved by another optimizer, or "
                                 f"with other options?)")
            new_state[p] = {k: _restore(v, p, k, name) for k, v in values.items()}
        self.state = new_state
        for saved, own in zip(groups, self.param_groups):
            own.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _check_layout(name: str, state_dict) -> tuple[list, dict]:
    """``state_dict``'s param_groups and state, checked for the layout state_dict() gives them."""
    if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
        got = (sorted(state_dict, key=str) if isinstance(state_dict, dict)
               else type(state_dict).__name__)
        raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups', as "
                         f"state_dict() returns, got {got}")
    groups, states = state_dict["param_groups"], state_dict["state"]
    if not isinstance(groups, (list, tuple)) or not all(
            isinstance(g, dict) and isinstance(g.get("params"), (list, tuple)) for g in groups):
        raise ValueError(f"{name}: 'param_groups' must be a list of dicts, each with a 'params' "
                         f"list of parameter indices")
    if not isinstance(states, dict) or not all(isinstance(s, dict) for s in states.values()):
        raise ValueError(f"{name}: 'state' must map parameter indices to dicts of state entries")
    return groups, states


def _exported(value):
    """A state entry for state_dict: arrays become Tensor copies (later steps change the arrays)."""
    return Tensor(value.copy(), device=backend.device_of(value)) if backend.is_array(value) else value


def _restore(value, p: Tensor, key: str, owner: str):
    """A saved state entry back on ``p``'s device and dtype; arrays must match ``p``'s shape.
    The step count is a number (PyTorch saves it as a 0-d tensor); any other entry of a 0-d
    parameter is a 0-d array, which ``update`` changes in place like any other."""
    if isinstance(value, Tensor):
        value = value.data
    if key == "step" or not backend.is_array(value):
        return value.item() if hasattr(value, "item") else value
    if tuple(value.shape) != p.shape:
        raise ValueError(f"{owner}: state {key!r} has shape {tuple(value.shape)} "
                         f"but its parameter has shape {p.shape}")
    return backend.to_device(value, p.device).astype(p.dtype, copy=True)
