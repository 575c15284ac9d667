"""Two stacked LSTM cells learn to continue sine waves: a script in the form of PyTorch's
recurrent tutorials, run on minigrad with only its import block changed (docs/pytorch.md).

Below the five import lines nothing is minigrad's: put PyTorch's own ``import torch...`` lines
there and the same script runs on PyTorch (tests/examples/test_from_pytorch.py does, and
compares the losses). The model reads each wave one value at a time and guesses the next; it is
trained with L-BFGS on all training waves at once, then left to generate 1000 steps past the
end of three held-out waves, drawn to forecast<step>.png after every step. Write the data
first (traindata.pt, in the current folder):

    python examples/pytorch_tutorial/generate_sine_wave.py
    python examples/from_pytorch.py --steps 2

An L-BFGS step runs up to 20 forward and backward passes over 97 waves of 999 steps, so the
default 15 steps take minutes on a CPU.
"""
import argparse
import os

import torchlike as torch
import torchlike.nn as nn
import torchlike.nn.functional as F
import torchlike.optim as optim
from torchlike.utils.data import DataLoader, TensorDataset
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt

HELD_OUT = 3    # waves kept out of training, to forecast
FUTURE = 1000   # steps generated past the end of each held-out wave


class WaveForecaster(nn.Module):
    """Reads a wave value by value and guesses the next value at every step.

    A lower LSTM cell reads the value, an upper one reads the lower one's hidden state, and a
    linear layer turns both hidden states into the guess. Given ``extra_steps``, it goes on past
    the input by feeding each guess back in as the next value.
    """

    def __init__(self, hidden_size=51):
        super().__init__()
        self.hidden_size = hidden_size
        self.lower = nn.LSTMCell(1, hidden_size)
        self.upper = nn.LSTMCell(hidden_size, hidden_size)
        self.readout = nn.Linear(2 * hidden_size, 1)

    def blank_state(self, batch_size):
        """(h, c) for a cell that has seen nothing yet."""
        h = torch.zeros(batch_size, self.hidden_size, dtype=torch.double)
        c = torch.zeros(batch_size, self.hidden_size, dtype=torch.double)
        return h, c

    def advance(self, value, lower_state, upper_state):
        """One time step: value (batch, 1) -> guess at the next value (batch, 1), new states."""
        lower_state = self.lower(value, lower_state)
        upper_state = self.upper(lower_state[0], upper_state)
        guess = self.readout(torch.cat([lower_state[0], upper_state[0]], dim=1))
        return guess, lower_state, upper_state

    def forward(self, waves, extra_steps=0):
        """waves (batch, steps) -> guesses (batch, steps + extra_steps); guess t is of value t+1."""
        lower_state = self.blank_state(waves.size(0))
        upper_state = self.blank_state(waves.size(0))
        guesses = []
        for value in waves.split(1, dim=1):
            guess, lower_state, upper_state = self.advance(value, lower_state, upper_state)
            guesses.append(guess)
        for _ in range(extra_steps):
            guess, lower_state, upper_state = self.advance(guess, lower_state, upper_state)
            guesses.append(guess)
        return torch.stack(guesses, dim=1).squeeze(2)


def draw_forecast(forecast, known_steps, path, title):
    """One panel per wave: the guesses made while reading the wave (solid), then the values the
    model generated on its own (dotted)."""
    figure, axes = plt.subplots(len(forecast), 1, sharex=True, squeeze=False,
                                figsize=(16, 2.5 * len(forecast)))
    for ax, row, colour in zip(axes[:, 0], forecast, ['tab:red', 'tab:green', 'tab:blue']):
        ax.plot(range(known_steps), row[:known_steps], color=colour, linewidth=1.5)
        ax.plot(range(known_steps, len(row)), row[known_steps:], ':', color=colour, linewidth=1.5)
        ax.axvline(known_steps, color='grey', linewidth=0.8)
    axes[0, 0].set_title(title)
    axes[-1, 0].set_xlabel('time step')
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description='Train two stacked LSTM cells to continue '
                                                 'sine waves, with L-BFGS.')
    parser.add_argument('--steps', type=int, default=15,
                        help='L-BFGS steps, each up to 20 passes over the data (default 15)')
    parser.add_argument('--data', default='traindata.pt',
                        help='waves written by pytorch_tutorial/generate_sine_wave.py '
                             '(default traindata.pt)')
    args = parser.parse_args()
    if not os.path.exists(args.data):
        parser.error(f'no file {args.data!r}: write it first with '
                     f'python examples/pytorch_tutorial/generate_sine_wave.py')

    torch.manual_seed(0)
    waves = torch.load(args.data)
    # a wave less its last value is the input; the same wave less its first value is the target
    held_out, training = waves[:HELD_OUT], waves[HELD_OUT:]
    inputs, targets = training[:, :-1], training[:, 1:]

    model = WaveForecaster().double()
    mse = nn.MSELoss()
    # all the training waves fit in one batch, so a quasi-Newton method can take whole steps
    optimizer = optim.LBFGS(model.parameters(), lr=0.8)

    for step in range(args.steps):
        print(f'L-BFGS step {step}')

        def closure():  # L-BFGS calls this for the loss and gradient as often as it needs
            optimizer.zero_grad()
            loss = mse(model(inputs), targets)
            print('loss:', loss.item())
            loss.backward()
            return loss

        optimizer.step(closure)

        with torch.no_grad():
            forecast = model(held_out[:, :-1], extra_steps=FUTURE)
            test_loss = mse(forecast[:, :-FUTURE], held_out[:, 1:])
        print('test loss:', test_loss.item())
        draw_forecast(forecast.numpy(), held_out.size(1) - 1, f'forecast{step}.png',
                      f'after L-BFGS step {step}: solid while reading the wave, dotted '
                      f'generated on its own')


if __name__ == '__main__':
    main()
