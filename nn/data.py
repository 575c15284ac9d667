"""Datasets and batches (PyTorch's ``torch.utils.data``): a `Dataset` answers ``len`` and
``dataset[i]``; a `DataLoader` walks it in batches, shuffled or in order, and stacks each batch's
samples with a collate function.
"""
from __future__ import annotations

from typing import Callable

import minigrad
from minigrad import Tensor, backend


class Dataset:
    """Base class: write ``__len__`` and ``__getitem__(i)`` (one sample)."""

    def __getitem__(self, index):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define __len__")


class TensorDataset(Dataset):
    """Sample i is ``(t[i] for t in tensors)``: inputs and targets that share their first axis."""

    def __init__(self, *tensors: Tensor):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        sizes = [len(t) for t in tensors]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: the tensors' first axes differ in size: {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])


def default_collate(samples: list):
    """A list of samples as one batch, as PyTorch's: Tensors and arrays are stacked along a new
    first axis; ints become an int64 tensor, floats a float64 one; tuples and lists become a list
    of collated fields, dicts a dict."""
    first = samples[0]
    if isinstance(first, Tensor):
        return minigrad.stack(list(samples), axis=0)
    if backend.is_array(first):
        return minigrad.tensor(backend.numpy.stack([backend.to_numpy(s) for s in samples]))
    if isinstance(first, bool):
        return minigrad.tensor(samples, dtype=minigrad.bool_)
    if isinstance(first, int):
        return minigrad.tensor(samples, dtype=minigrad.int64)
    if isinstance(first, float):
        return minigrad.tensor(samples, dtype=minigrad.float64)
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):  # a list of fields (for tuples too, as PyTorch)
        if any(len(s) != len(first) for s in samples):
            raise ValueError("default_collate: the samples of a batch have different numbers "
                             "of fields")
        return [default_collate(list(field)) for field in zip(*samples)]
    return samples  # strings and other objects: the list as it is


class DataLoader:
    """Batches of ``batch_size`` samples (the last one smaller unless ``drop_last``), in order,
    or with ``shuffle`` in a new random order each epoch. The order comes from minigrad's
    generator (``minigrad.manual_seed``), or from ``generator``: a seed or a
    ``numpy.random.Generator``.

    Every batch is loaded in this process: ``num_workers``, ``pin_memory``, ``timeout``,
    ``prefetch_factor`` and ``persistent_workers`` are accepted so that a PyTorch script runs
    as written, and change nothing (the batches are the ones PyTorch's workers would give)."""

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False,
                 drop_last: bool = False, collate_fn: Callable | None = None, generator=None,
                 num_workers: int = 0, pin_memory: bool = False, timeout: float = 0,
                 prefetch_factor: int | None = None, persistent_workers: bool = False):
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0, got {num_workers!r}")
        if not isinstance(timeout, (int, float)) or timeout < 0:
            raise ValueError(f"DataLoader: timeout must be a number >= 0, got {timeout!r}")
        if num_workers == 0 and (prefetch_factor is not None or persistent_workers):
            raise ValueError("DataLoader: prefetch_factor and persistent_workers need "
                             "num_workers > 0, as in PyTorch")
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.collate_fn = collate_fn or default_collate
        self.generator = (backend.numpy.random.default_rng(generator)
                          if generator is not None and not isinstance(generator, backend.numpy.random.Generator)
                          else generator)

    def _order(self) -> list:
        n = len(self.dataset)
        if not self.shuffle:
            return list(range(n))
        rng = self.generator
        return (rng.permutation(n) if rng is not None else backend.random_permutation(n)).tolist()

    def __iter__(self):
        order = self._order()
        if self.batch_size is None:  # no batching: the samples one by one
            for i in order:
                yield self.dataset[i]
            return
        for start in range(0, len(order), self.batch_size):
            picked = order[start:start + self.batch_size]
            if len(picked) < self.batch_size and self.drop_last:
                return
            yield self.collate_fn([self.dataset[i] for i in picked])

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate"]
