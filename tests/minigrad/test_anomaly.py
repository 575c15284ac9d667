"""minigrad.detect_anomaly(): the first NaN or inf, forward or backward, named with the op, its
role label, its scope and the line of the caller's code that recorded it."""
import inspect
import re
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.function import STATE


def here() -> int:
    """The line number of the caller's next line."""
    return inspect.currentframe().f_back.f_lineno + 1


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log(-1), sqrt'(0)
        yield


def test_forward_names_the_op_role_scope_shapes_and_the_callers_line():
    x = mg.tensor(np.array([[-1.0, 4.0, 1.0]]), requires_grad=True)
    with pytest.raises(mg.AnomalyError) as caught:
        with mg.detect_anomaly():
            with mg.scope("lstm.l1", layer=1, step=17):
                line = here()
                f = x.log().label("f_t")
            (f * 2.0).sum()
    message = str(caught.value)
    assert message.startswith("detect_anomaly: Log returned nan in its output 0 (shape (1, 3))")
    assert "its inputs were finite" in message
    assert "role f_t" in message
    assert "scope lstm.l1 (layer=1, step=17)" in message
    assert f"recorded at {__file__}:{line} in test_forward" in message
    assert message.endswith('f = x.log().label("f_t")')


def test_forward_anomaly_of_the_last_op_is_raised_when_the_block_ends():
    x = mg.tensor(np.array([0.0, 1.0]), requires_grad=True)
    with pytest.raises(mg.AnomalyError) as caught:
        with mg.detect_anomaly():
            line = here()
            y = 1.0 / x
    assert str(caught.value).startswith("detect_anomaly: Div returned inf in its output 0 (shape (2,))")
    assert f"{__file__}:{line}" in str(caught.value)
    assert y.shape == (2,)


def test_forward_says_when_an_input_already_held_nan():
    x = mg.tensor(np.array([np.nan, 1.0]), requires_grad=True)
    with pytest.raises(mg.AnomalyError, match=r"its input 0 \(shape \(2,\), a leaf: data or a "
                                              r"parameter\) already held nan"):
        with mg.detect_anomaly():
            x * 2.0


def test_backward_names_the_op_whose_gradient_became_infinite():
    # sqrt at 0 is finite forward; its derivative 1 / (2 sqrt(x)) is not
    x = mg.tensor(np.array([0.0, 4.0]), requires_grad=True)
    with pytest.raises(mg.AnomalyError) as caught:
        with mg.detect_anomaly():
            with mg.scope("gru.l0", layer=0, step=3):
                line = here()
                h = (x * 1.0).sqrt().label("h_t")
            h.sum().backward()
    message = str(caught.value)
    assert message.startswith("detect_anomaly: the backward of Sqrt returned inf in the gradient "
                              "of its input 0 (shape (2,)); the gradient it received was finite")
    assert "role h_t" in message and "scope gru.l0 (layer=0, step=3)" in message
    assert f"{__file__}:{line}" in message


def test_backward_of_a_graph_recorded_outside_the_block_still_names_the_op():
    x = mg.tensor(np.array([0.0]), requires_grad=True)
    y = x.sqrt().sum()
    with pytest.raises(mg.AnomalyError, match="backward of Sqrt.*recorded before detect_anomaly"):
        with mg.detect_anomaly():
            y.backward()


def test_finite_work_passes_and_nothing_listens_outside_the_block():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with mg.detect_anomaly():
        assert len(STATE.listeners) == 1
        (x.log() * x).sum().backward()
    assert STATE.listeners == ()
    np.testing.assert_allclose(x.grad.numpy(), np.log([1.0, 2.0]) + 1.0)
    y = x.log() - np.inf  # off by default: no check, no error
    assert np.isinf(y.numpy()).all()


def test_an_error_inside_the_block_is_not_hidden_by_a_pending_anomaly():
    x = mg.tensor(np.array([-1.0]), requires_grad=True)
    with pytest.raises(KeyError):
        with mg.detect_anomaly():
            x.log()
            raise KeyError("the user's own error")
    assert STATE.listeners == ()
