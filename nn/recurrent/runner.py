"""The one time loop. It drives any :class:`RecurrentCell` over a sequence, in either direction,
for padded batches of different lengths too; cells never loop over time themselves.

Per call: ``cell.prepare()`` once, ``cell.project_inputs`` once for all steps (one matmul), one
``unbind`` into steps, then ``cell.step`` per step inside
``minigrad.scope(name, layer=l, direction=..., step=t, cell=kind)`` for the renderer, and one
``stack`` per collected sequence at the end.

Padded batches (``lengths``): a sequence that has ended keeps its state (``where(valid, new,
old)``: the graph shows the copy, labelled h_t or C_t like the state it carries on), so the
final state is the one at its own last step; its outputs past the end are zeros, as PyTorch's
``pad_packed_sequence`` gives. Run in reverse, the state stays at its initial value until t
reaches the sequence's own last step: each sequence starts there.
"""
from __future__ import annotations

import minigrad
from minigrad import Tensor, backend, stack, where

from .base import RecurrentCell


class Lengths:
    """Per-sequence lengths of a padded (T, N, ...) batch, with the masks the runner needs."""

    def __init__(self, lengths, steps: int, batch: int, like: Tensor):
        values = backend.to_numpy(lengths.data if isinstance(lengths, Tensor) else
                                  backend.numpy.asarray(lengths))
        if values.shape != (batch,) or not backend.numpy.issubdtype(values.dtype, backend.numpy.integer):
            raise ValueError(f"lengths must hold one integer per sequence, shape ({batch},); "
                             f"got shape {values.shape} and dtype {values.dtype}")
        if values.size and (values.min() < 1 or values.max() > steps):
            raise ValueError(f"lengths must lie in [1, {steps}] (the padded length), got "
                             f"min {values.min()} and max {values.max()}")
        self.values = values
        self.shortest = int(values.min()) if values.size else steps
        valid = backend.numpy.arange(steps)[:, None] < values[None, :]
        self.mask = backend.to_device(valid[:, :, None], like.device)  # (T, N, 1)

    def all_valid(self, t: int) -> bool:
        return t < self.shortest

    def steps_taken_in_reverse(self, t: int):
        """In reverse, sequence n starts at t = len_n - 1: its step count at time t, shape (N,)."""
        return self.values - 1 - t


def run(cell: RecurrentCell, inputs: Tensor | tuple, state: tuple, *, reverse: bool = False,
        lengths: Lengths | None = None, collect: tuple = (0,), name: str = "rnn",
        layer: int = 0) -> tuple[tuple, tuple]:
    """Run ``cell`` over time-major ``inputs`` (T, N, I) (or a tuple of such sequences).

    ``state``: the initial state tuple, parts (N, size). ``collect``: which parts of the state
    to return as sequences (0 = h). Returns ``(sequences, final_state)``: one (T, N, size)
    Tensor per collected part, aligned with the input's time axis in both directions.
    """
    weights = cell.prepare()
    steps = _unbind_steps(cell.project_inputs(inputs, weights))
    n_steps = len(steps)
    direction = "reverse" if reverse else "forward"
    collected = [[None] * n_steps for _ in collect]
    for k in range(n_steps):
        t = n_steps - 1 - k if reverse else k
        steps_taken = k
        if reverse and lengths is not None:
            steps_taken = lengths.steps_taken_in_reverse(t)
        with minigrad.scope(name, layer=layer, direction=direction, step=t, cell=cell.kind):
            new = cell.step(steps[t], state, weights, steps_taken)
            if lengths is not None and not lengths.all_valid(t):
                valid = lengths.mask[t]
                new = tuple(where(valid, n, s).label(n.role) for n, s in zip(new, state))
        state = new
        for seq, part in zip(collected, collect):
            seq[t] = state[part]
    sequences = tuple(stack(seq, axis=0) for seq in collected)
    if lengths is not None and lengths.shortest < n_steps:
        sequences = tuple(where(lengths.mask, seq, 0.0) for seq in sequences)
    return sequences, state


def _unbind_steps(projected) -> list:
    """(T, N, F) -> T steps with one multi-output ``unbind`` (views, not T indexing ops)."""
    if isinstance(projected, Tensor):
        return list(projected.unbind(0))
    return list(zip(*(p.unbind(0) for p in projected)))
