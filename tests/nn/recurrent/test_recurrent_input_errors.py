"""Recurrent layers name what is wrong with an initial state or an input's dtype."""
import numpy as np
import pytest

import minigrad as mg
import nn


@pytest.mark.parametrize("layer, hx, words", [
    (lambda: nn.GRU(3, 4), lambda: np.zeros((1, 2, 4), np.float32),
     "GRU: hx must be a Tensor, got ndarray; make one with minigrad.tensor(array)"),
    (lambda: nn.RNN(3, 4), lambda: np.zeros((1, 2, 4), np.float32),
     "RNN: hx must be a Tensor, got ndarray"),
    (lambda: nn.LSTM(3, 4), lambda: (np.zeros((1, 2, 4), np.float32), mg.zeros(1, 2, 4)),
     "LSTM: hx must be a tuple of 2 Tensors ('h', 'c'), got ndarray, Tensor"),
])
def test_an_initial_state_that_is_not_a_tensor_is_named(layer, hx, words):
    # a NumPy hx was reported as "For batched 3-D input, hx should also be 3-D but got (2-D)
    # tensor(s)": tuple(hx) had split the array along its first axis
    with pytest.raises(TypeError) as caught:
        layer()(mg.randn(5, 2, 3), hx())
    assert str(caught.value) == words or str(caught.value).startswith(words)


def test_an_integer_input_is_told_to_convert_the_input_not_the_model():
    # the message suggested model.to(dtype='int64'), which Module.to refuses
    with pytest.raises(ValueError) as caught:
        nn.GRU(3, 4)(mg.tensor(np.zeros((5, 2, 3), np.int64)))
    message = str(caught.value)
    assert message == ("GRU: input dtype (int64) does not match weight dtype (float32). Convert "
                       "input: input.to(dtype='float32')")
    with pytest.raises(ValueError, match=r"or convert model: model\.to\(dtype='float64'\)"):
        nn.GRU(3, 4)(mg.randn(5, 2, 3, dtype="float64"))
