"""The tracing contract (docs/trace.md): what is frozen, what is re-read, what is refused."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import nn


@pytest.mark.parametrize("read, call", [
    (lambda t: t.sum().item(), r"tensor\.item\(\)"),
    (lambda t: float(t.sum()), r"float\(tensor\)"),
    (lambda t: bool(t.sum() > 0), r"bool\(tensor\)"),
    (lambda t: t.numpy(), r"tensor\.numpy\(\)"),
    (lambda t: t.tolist(), r"tensor\.tolist\(\)"),
])
def test_reading_a_value_while_tracing_raises_trace_error(read, call):
    traced = mg.trace(lambda x: read(x * 2.0))
    with pytest.raises(mg.TraceError, match=call) as found:
        traced(mg.tensor(np.ones(3), requires_grad=True))
    assert "without trace" in str(found.value)


def test_python_control_flow_is_frozen_at_trace_time():
    flag = {"on": True}

    def f(x):
        return x * 2.0 if flag["on"] else x * 3.0

    traced = mg.trace(f)
    x = mg.tensor(np.ones(2))
    assert traced(x).numpy().tolist() == [2.0, 2.0]
    flag["on"] = False
    assert traced(x).numpy().tolist() == [2.0, 2.0]  # the branch taken when it was traced


def test_argument_arrays_are_read_at_every_call():
    traced = mg.trace(lambda x: x * 2.0)
    assert traced(mg.tensor([1.0, 2.0])).numpy().tolist() == [2.0, 4.0]
    assert traced(mg.tensor([5.0, 6.0])).numpy().tolist() == [10.0, 12.0]
    assert len(traced.traces) == 1


@pytest.mark.parametrize("change", ["shape", "dtype", "requires_grad", "grad mode", "training",
                                    "constant"])
def test_what_traces_again(change):
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    traced = mg.trace(lambda x, k: model(x) * k)
    x = mg.tensor(np.ones((2, 3), dtype=np.float32))
    traced(x, 1.0)
    if change == "shape":
        traced(mg.tensor(np.ones((4, 3), dtype=np.float32)), 1.0)
    elif change == "dtype":
        model.to(dtype=mg.float64)
        traced(mg.tensor(np.ones((2, 3))), 1.0)
    elif change == "requires_grad":
        traced(mg.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True), 1.0)
    elif change == "grad mode":
        with mg.no_grad():
            traced(x, 1.0)
    elif change == "training":
        model.eval()
        traced(x, 1.0)
    else:
        traced(x, 2.0)
    assert len(traced.traces) == 2


def test_eval_mode_is_frozen_into_its_own_trace():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.9))
    traced = mg.trace(lambda x: model(x))
    x = mg.tensor(np.ones((2, 3), dtype=np.float32))
    model.eval()
    np.testing.assert_array_equal(traced(x).numpy(), model(x).numpy())


def test_a_traced_function_called_while_another_records_is_part_of_it():
    inner = mg.trace(lambda x: x.tanh())
    outer = mg.trace(lambda x: inner(x) * 2.0)
    x = mg.tensor(np.array([0.3]), requires_grad=True)
    y = outer(x)
    y.backward()
    assert np.allclose(x.grad.numpy(), 2.0 * (1 - np.tanh(0.3) ** 2))
    assert not inner.traces


def test_unhashable_argument_is_refused():
    with pytest.raises(TypeError, match="hashable"):
        mg.trace(lambda x, a: x)(mg.tensor([1.0]), np.ones(2))


def test_an_output_not_computed_from_the_inputs_is_refused():
    c = mg.tensor([1.0, 2.0])
    with pytest.raises(mg.TraceError, match="not computed"):
        mg.trace(lambda x: c)(mg.tensor([1.0]))


def test_the_error_names_the_line_that_read_the_value():
    import nn

    logits = mg.tensor(np.zeros((2, 3)), requires_grad=True)
    traced = mg.trace(lambda x, y: nn.functional.cross_entropy(x, y))
    with pytest.raises(mg.TraceError, match=r"losses\.py, line \d+"):
        traced(logits, mg.tensor(np.array([0, 1])))  # it checks the targets' values
