"""nn.data (torch.utils.data): batches, order, drop_last and collation as PyTorch's DataLoader."""
import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import minigrad as mg
import nn
from nn.data import DataLoader, Dataset, TensorDataset

X = np.arange(30.0).reshape(10, 3)
Y = np.arange(10) % 3


def _batches(loader):
    return [[np.asarray(field.numpy() if hasattr(field, "numpy") else field) for field in batch]
            for batch in loader]


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (10, True), (4, True), (12, False)])
def test_in_order_batches_equal_torchs(batch_size, drop_last):
    mine = DataLoader(TensorDataset(mg.tensor(X), mg.tensor(Y)), batch_size=batch_size, drop_last=drop_last)
    ref = tdata.DataLoader(tdata.TensorDataset(torch.tensor(X), torch.tensor(Y)), batch_size=batch_size,
                           drop_last=drop_last)
    got, want = _batches(mine), _batches(ref)
    assert len(mine) == len(ref) == len(got) == len(want)
    for g, w in zip(got, want):
        for a, b in zip(g, w):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype


def test_worker_arguments_are_taken_and_give_torchs_batches():
    """A tutorial's DataLoader(..., num_workers=2, pin_memory=True) runs unchanged; the batches
    are loaded here in this process, the same ones torch's workers give."""
    options = dict(batch_size=4, num_workers=2, pin_memory=True, persistent_workers=True,
                   prefetch_factor=2, timeout=5)
    mine = DataLoader(TensorDataset(mg.tensor(X), mg.tensor(Y)), **options)
    ref = tdata.DataLoader(tdata.TensorDataset(torch.tensor(X), torch.tensor(Y)), **options)
    for g, w in zip(_batches(mine), _batches(ref), strict=True):
        for a, b in zip(g, w):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("options, message", [
    (dict(num_workers=-1), "num_workers must be an int >= 0, got -1"),
    (dict(num_workers=1.5), "num_workers must be an int >= 0, got 1.5"),
    (dict(timeout=-2), "timeout must be a number >= 0, got -2"),
    (dict(timeout=None), "timeout must be a number >= 0, got None"),
    (dict(prefetch_factor=2), "prefetch_factor and persistent_workers need num_workers > 0"),
    (dict(persistent_workers=True), "prefetch_factor and persistent_workers need num_workers > 0"),
])
def test_bad_worker_arguments_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(TensorDataset(mg.tensor(X)), **options)
    if options != dict(num_workers=1.5):  # (torch takes that one, and fails when it loads)
        with pytest.raises((ValueError, TypeError)):
            tdata.DataLoader(tdata.TensorDataset(torch.tensor(X)), **options)


class Pairs(Dataset):
    """Plain Python samples: an int, a float, a dict and an array, as a user's dataset gives."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return i, i / 2, {"n": i}, np.full(2, i, dtype=np.float32)


def test_default_collate_of_python_values_matches_torchs():
    got = next(iter(DataLoader(Pairs(), batch_size=4)))
    want = next(iter(tdata.DataLoader(Pairs(), batch_size=4)))
    assert isinstance(got, list) and isinstance(want, list)
    for a, b in [(got[0], want[0]), (got[1], want[1]), (got[2]["n"], want[2]["n"]), (got[3], want[3])]:
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert str(a.dtype) == str(b.dtype).replace("torch.", "")


def test_a_collate_function_gets_the_list_of_samples():
    loader = DataLoader(Pairs(), batch_size=2, collate_fn=lambda samples: [s[0] for s in samples])
    assert list(loader) == [[0, 1], [2, 3], [4]]


def test_shuffling_is_a_new_permutation_each_epoch_and_repeats_with_the_seed():
    def epochs(seed):
        mg.manual_seed(seed)
        loader = DataLoader(TensorDataset(mg.arange(10)), batch_size=3, shuffle=True)
        return [[int(v) for batch in loader for v in batch[0].tolist()] for _ in range(2)]

    first, second = epochs(0)
    assert sorted(first) == sorted(second) == list(range(10))
    assert first != second and first != list(range(10))
    assert epochs(0) == [first, second] and epochs(1) != [first, second]
    own = [[int(v) for b in DataLoader(TensorDataset(mg.arange(10)), batch_size=4, shuffle=True,
                                       generator=5) for v in b[0].tolist()] for _ in range(2)]
    assert own[0] == [int(v) for v in np.random.default_rng(5).permutation(10)]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="TensorDataset: the tensors' first axes differ in size: \\[10, 9\\]"):
        TensorDataset(mg.tensor(X), mg.tensor(Y[:9]))
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive int, got 0"):
        DataLoader(Pairs(), batch_size=0)


def test_a_training_loop_over_a_loader_runs():
    model = nn.Linear(3, 3)
    opt = nn.optim.SGD(model.parameters(), lr=0.01)
    for x, y in DataLoader(TensorDataset(mg.tensor(X, dtype=mg.float32), mg.tensor(Y)), batch_size=4,
                           shuffle=True):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
