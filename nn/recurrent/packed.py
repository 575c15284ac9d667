"""PyTorch's packed sequences (``torch.nn.utils.rnn``), onto the runner's ``lengths``.

PyTorch packs a padded batch into the valid steps only, so that its kernels skip the padding.
minigrad's runner already handles a padded batch with per-sequence ``lengths`` (a finished
sequence keeps its state, its outputs past the end are zeros), so a `PackedSequence` here is the
padded batch and its lengths; a recurrent layer given one runs on them and returns one.
``data`` and ``batch_sizes`` are PyTorch's packed layout, computed when asked for.
"""
from __future__ import annotations

import minigrad
from minigrad import Tensor, backend


def _lengths(lengths) -> list:
    values = lengths.tolist() if isinstance(lengths, Tensor) else [int(n) for n in lengths]
    return [int(n) for n in values]


class PackedSequence:
    """A batch of sequences of different lengths: ``padded`` (T, N, *) time-major, ``lengths``
    (N,) in the batch's own order."""

    def __init__(self, padded: Tensor, lengths):
        self.padded_data = padded
        self.lengths = _lengths(lengths)

    @property
    def sorted_indices(self) -> Tensor:
        """The batch's sequences, longest first (ties in order): PyTorch's packing order."""
        order = sorted(range(len(self.lengths)), key=lambda n: -self.lengths[n])
        return minigrad.tensor(order, dtype=minigrad.int64)

    @property
    def batch_sizes(self) -> Tensor:
        """How many sequences are still running at each step."""
        steps = max(self.lengths, default=0)
        return minigrad.tensor([sum(n > t for n in self.lengths) for t in range(steps)],
                               dtype=minigrad.int64)

    @property
    def data(self) -> Tensor:
        """The valid steps, step by step, each step's sequences longest first: (sum(lengths), *)."""
        order = self.sorted_indices.tolist()
        rows = [(t, n) for t in range(max(self.lengths, default=0))
                for n in order if self.lengths[n] > t]
        times = backend.numpy.array([t for t, _ in rows], dtype=backend.int64)
        batch = backend.numpy.array([n for _, n in rows], dtype=backend.int64)
        return self.padded_data[times, batch]

    def padded(self, batch_first: bool = False) -> Tensor:
        return self.padded_data.swapaxes(0, 1) if batch_first else self.padded_data

    def __repr__(self) -> str:
        return f"PackedSequence(padded shape {self.padded_data.shape}, lengths {self.lengths})"


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """A padded batch (T, N, *) (or (N, T, *) with ``batch_first``) and its lengths, packed.
    With ``enforce_sorted`` the lengths must decrease, as PyTorch requires."""
    values = _lengths(lengths)
    if len(values) != input.shape[0 if batch_first else 1]:
        raise ValueError(f"pack_padded_sequence: {len(values)} lengths for a batch of "
                         f"{input.shape[0 if batch_first else 1]} sequences (input shape "
                         f"{input.shape}, batch_first={batch_first})")
    if enforce_sorted and values != sorted(values, reverse=True):
        raise RuntimeError(f"pack_padded_sequence: lengths {values} are not sorted in decreasing "
                           "order; sort the batch, or pass enforce_sorted=False")
    steps = input.shape[1 if batch_first else 0]
    if values and (min(values) < 1 or max(values) > steps):
        raise ValueError(f"pack_padded_sequence: lengths must lie in [1, {steps}], got {values}")
    padded = input.swapaxes(0, 1) if batch_first else input
    return PackedSequence(padded[:max(values)] if values else padded, values)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """(padded, lengths): the batch (T, N, *) (or (N, T, *)) with ``padding_value`` past each
    sequence's end, padded to ``total_length`` steps if given."""
    padded = sequence.padded_data
    steps = max(sequence.lengths, default=0)
    padded = padded[:steps]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: total_length {total_length} is shorter than "
                             f"the longest sequence ({steps} steps)")
        extra = minigrad.zeros((total_length - steps,) + padded.shape[1:], dtype=padded.dtype,
                               device=padded.device)
        padded = minigrad.concat([padded, extra], axis=0)
    valid = (backend.numpy.arange(padded.shape[0])[:, None]
             < backend.numpy.array(sequence.lengths)[None, :])
    valid = valid.reshape(valid.shape + (1,) * (padded.ndim - 2))
    padded = minigrad.where(backend.to_device(valid, padded.device), padded, padding_value)
    lengths = minigrad.tensor(sequence.lengths, dtype=minigrad.int64)
    return (padded.swapaxes(0, 1) if batch_first else padded), lengths


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0) -> Tensor:
    """Sequences (L_i, *) stacked into one padded batch (T, N, *), T = max L_i (or (N, T, *))."""
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: got no sequences")
    steps = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        if s.shape[1:] != sequences[0].shape[1:]:
            raise ValueError(f"pad_sequence: sequences must agree after their first axis, got "
                             f"shapes {sequences[0].shape} and {s.shape}")
        pad = minigrad.full((steps - s.shape[0],) + s.shape[1:], padding_value, dtype=s.dtype,
                            device=s.device)
        rows.append(minigrad.concat([s, pad], axis=0))
    return minigrad.stack(rows, axis=0 if batch_first else 1)
