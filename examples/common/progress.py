"""A tqdm progress bar that shows the running (smoothed) loss and the latest metrics."""
from __future__ import annotations

import sys

try:
    from tqdm import tqdm
except ImportError:  # the examples extra installs tqdm; without it the bar is silent
    tqdm = None


class ProgressBar:
    """``bar.update(loss)`` once per step; the postfix shows an exponential moving average.
    ``losses``: those of the steps already taken (after ``--resume``), for the average to go on."""

    SMOOTHING = 0.05

    def __init__(self, name: str, total: int, initial: int = 0, enabled: bool = True,
                 losses: list | None = None):
        self.running = None
        for loss in (losses or [])[-200:]:
            self._smooth(loss)
        self.bar = None
        if enabled and tqdm is not None:
            self.bar = tqdm(total=total, initial=initial, desc=name, unit="step",
                            dynamic_ncols=True, mininterval=0.5, file=sys.stderr)
        self.metrics = ""

    def _smooth(self, loss: float) -> None:
        a = self.SMOOTHING
        self.running = loss if self.running is None else (1 - a) * self.running + a * loss

    def update(self, loss: float) -> None:
        self._smooth(loss)
        if self.bar is not None:
            self.bar.set_postfix_str(f"loss {self.running:.4g}{self.metrics}", refresh=False)
            self.bar.update(1)

    def show_metrics(self, metrics: dict) -> None:
        """Show the latest value of each ``{name: [[step, value], ...]}`` after the loss, now:
        the values of the last evaluation are the ones the finished bar must show."""
        self.metrics = "".join(f", {k} {v[-1][1]:.4g}" for k, v in metrics.items())
        if self.bar is not None and self.running is not None:
            self.bar.set_postfix_str(f"loss {self.running:.4g}{self.metrics}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    @staticmethod
    def write(text: str) -> None:
        if tqdm is not None:
            tqdm.write(text, file=sys.stdout)
        else:
            print(text, flush=True)
