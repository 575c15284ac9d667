"""Writes the data set of examples/from_pytorch.py: sine waves of one period, each shifted by a
random number of steps, saved with ``torch.save`` as one float64 tensor (waves x steps) in
traindata.pt in the current folder. Written the way a PyTorch tutorial prepares its data; only
the import block is minigrad's (docs/pytorch.md), and the file is minigrad's checkpoint format,
which holds no pickle.

    python examples/pytorch_tutorial/generate_sine_wave.py           # 100 waves of 1000 steps
"""
import argparse

import torchlike as torch
import torchlike.nn as nn
import torchlike.nn.functional as F
import torchlike.optim as optim
from torchlike.utils.data import DataLoader, TensorDataset
import numpy as np


def shifted_sines(count, length, period, max_shift, seed):
    """Row k is sin((t + s_k) / period) for t = 0 .. length-1, with whole-step shifts s_k drawn
    uniformly from [-max_shift, max_shift): the same curve seen from different starting points."""
    rng = np.random.default_rng(seed)
    shifts = rng.integers(-max_shift, max_shift, size=(count, 1))
    t = np.arange(length)
    return np.sin((t + shifts) / period)


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description='Write sine waves for the LSTMCell forecaster.')
    parser.add_argument('--waves', type=int, default=100, help='how many waves (default 100)')
    parser.add_argument('--length', type=int, default=1000, help='steps per wave (default 1000)')
    parser.add_argument('--out', default='traindata.pt', help='file to write (default traindata.pt)')
    args = parser.parse_args()

    waves = shifted_sines(args.waves, args.length, period=20.0, max_shift=80, seed=2)
    torch.save(torch.from_numpy(waves), args.out)
    print(f'wrote {args.waves} waves of {args.length} steps to {args.out}')
