"""L-BFGS (PyTorch's ``torch.optim.LBFGS``): a quasi-Newton method that builds the inverse
Hessian from the last ``history_size`` steps. PyTorch's LSTMCell sine-wave tutorial trains
with it.

All parameters are viewed as one flat vector θ with gradient g. One ``step(closure)`` runs up to
``max_iter`` iterations, each:

    d = -H g   (two-loop recursion over the pairs s_k = θ_{k+1} - θ_k, y_k = g_{k+1} - g_k,
               ρ_k = 1 / y_k·s_k, starting from H_0 = (y·s / y·y) I; the first d is -g)
    θ = θ + t d  (t = lr, and min(1, 1/|g|_1) lr on the very first iteration; with
                  ``line_search_fn="strong_wolfe"`` that t is where a line search starts,
                  line_search.py)

and stops early when the gradient, the step or the change of the loss is below its tolerance.
"""
from __future__ import annotations

from typing import Callable

from minigrad import Tensor, backend, enable_grad

from .line_search import Point, strong_wolfe
from .optimizer import Optimizer


class LBFGS(Optimizer):
    """``step(closure)`` needs the closure: it re-evaluates the loss (calling backward) as
    often as the iterations need, and must be deterministic. One parameter group only."""

    def __init__(self, params, lr: float = 1.0, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None):
        if lr <= 0:
            raise ValueError(f"LBFGS: lr must be > 0, got {lr}")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe' (as in "
                             f"PyTorch), got {line_search_fn!r}")
        super().__init__(params, dict(
            lr=lr, max_iter=max_iter, max_eval=max_eval if max_eval is not None else max_iter * 5 // 4,
            tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
            history_size=history_size, line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS: supports one parameter group only (as PyTorch's)")

    # --- the flat vector of all parameters ---------------------------------------------
    def _flat_grad(self):
        params = self.param_groups[0]["params"]
        xp = backend.get_array_module(params[0].data)
        return xp.concatenate([(p.grad.data if p.grad is not None else xp.zeros_like(p.data)).reshape(-1)
                               for p in params])

    def _move(self, t: float, d) -> None:
        """θ = θ + t d (each parameter's array rebound, never written into)."""
        offset = 0
        for p in self.param_groups[0]["params"]:
            n = p.data.size
            p.data = p.data + (t * d[offset:offset + n]).reshape(p.shape).astype(p.dtype)
            offset += n

    def step(self, closure: Callable[[], Tensor] | None = None):
        if closure is None:
            raise ValueError("LBFGS.step: needs a closure that recomputes the loss and calls "
                             "backward (optimizer.step(closure))")
        group = self.param_groups[0]
        lr, history = group["lr"], group["history_size"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state.setdefault(group["params"][0], {"func_evals": 0, "n_iter": 0})

        def evaluate() -> float:
            with enable_grad():
                return closure()

        first_loss = evaluate()
        loss = float(first_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        xp = backend.get_array_module(g)
        if float(xp.abs(g).max()) <= tol_grad:
            return first_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_steps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_g, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        done_iters = 0
        while done_iters < group["max_iter"]:
            done_iters += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, old_dirs, old_steps, ro, h_diag = -g, [], [], [], 1.0
            else:
                h_diag = self._remember(g - prev_g, d * t, old_dirs, old_steps, ro, history, h_diag)
                d = self._two_loop(-g, old_dirs, old_steps, ro, h_diag)
            prev_g, prev_loss = g.copy(), loss
            t = min(1.0, 1.0 / float(xp.abs(g).sum())) * lr if state["n_iter"] == 1 else lr
            slope = float(g @ d)
            if slope > -tol_change:  # not a descent direction any more
                break
            last = done_iters == group["max_iter"]
            loss, g, t, used = self._step_along(d, t, Point(0.0, loss, g, slope), evaluate, last)
            evals += used
            state["func_evals"] += used
            if (last or evals >= group["max_eval"] or float(xp.abs(g).max()) <= tol_grad
                    or float(xp.abs(d * t).max()) <= tol_change
                    or abs(loss - prev_loss) < tol_change):
                break
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_steps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_g, prev_loss=prev_loss)
        return first_loss

    def _step_along(self, d, t: float, here: Point, evaluate, last: bool) -> tuple:
        """θ moved to θ + t d: (the loss there, its gradient, t, the evaluations it took). With
        the strong Wolfe search t is the step it finds, starting from t; without, the loss is
        evaluated there, except after the last iteration (as PyTorch's)."""
        group = self.param_groups[0]
        if group["line_search_fn"] == "strong_wolfe":
            found, used = strong_wolfe(lambda t: self._evaluate_at(t, d, evaluate), d, here, t,
                                       group["tolerance_change"])
            self._move(found.t, d)
            return found.loss, found.grad, found.t, used
        self._move(t, d)
        if last:
            return here.loss, here.grad, t, 0
        return float(evaluate()), self._flat_grad(), t, 1

    def _evaluate_at(self, t: float, d, evaluate) -> tuple:
        """The loss and the flat gradient at θ + t d; θ is left as it was."""
        params = self.param_groups[0]["params"]
        here = [p.data for p in params]
        self._move(t, d)
        try:
            return float(evaluate()), self._flat_grad()
        finally:  # (also when the closure fails: θ is left as it was)
            for p, array in zip(params, here):
                p.data = array

    @staticmethod
    def _remember(y, s, old_dirs, old_steps, ro, history: int, h_diag: float) -> float:
        """Keep the pair y = g_{k+1} - g_k, s = θ_{k+1} - θ_k if its curvature y·s is positive
        (the oldest pair dropped past ``history``); returns H_0's scale y·s / y·y, or
        ``h_diag`` where the pair is not kept."""
        ys = float(y @ s)
        if ys <= 1e-10:
            return h_diag
        if len(old_dirs) == history:
            old_dirs.pop(0), old_steps.pop(0), ro.pop(0)
        old_dirs.append(y), old_steps.append(s), ro.append(1.0 / ys)
        return ys / float(y @ y)

    @staticmethod
    def _two_loop(q, old_dirs, old_steps, ro, h_diag):
        """-H g by the two-loop recursion (Nocedal & Wright, algorithm 7.4), from q = -g."""
        alphas = [0.0] * len(old_dirs)
        for i in reversed(range(len(old_dirs))):
            alphas[i] = float(old_steps[i] @ q) * ro[i]
            q = q - alphas[i] * old_dirs[i]
        r = q * h_diag
        for i in range(len(old_dirs)):
            beta = float(old_dirs[i] @ r) * ro[i]
            r = r + (alphas[i] - beta) * old_steps[i]
        return r
