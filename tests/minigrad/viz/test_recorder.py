"""The recorder (minigrad/viz/recorder.py): what a drawing needs of each node is noted only
inside ``minigrad.viz.recording()``, through the engine's one hook; nothing is kept otherwise."""
import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.function import STATE
from minigrad.viz import draw, facts_of, recording
from minigrad.viz.recorder import Recorder, recorded

pytestmark = pytest.mark.unrecorded  # (see conftest.py: these tests record, or not, themselves)


def test_recording_notes_scope_shapes_small_values_and_constants():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with recording():
        with mg.scope("cell", step=2) as s:
            y = x * 3.0
        z = (y + mg.tensor(np.ones((4, 2)))).sum()
    facts = facts_of(y.grad_fn)
    assert facts.scope is s and facts.shapes == ((2,),)
    np.testing.assert_array_equal(facts.small_value, [3.0, 6.0])
    assert facts.constants == {1: 3.0}
    assert facts_of(z.grad_fn).scope is None and facts_of(z.grad_fn).shapes == ((),)
    assert facts.grad_norms is None  # no backward inside yet


def test_backward_inside_notes_each_nodes_gradient_norm():
    x = mg.tensor(np.array([3.0, 4.0]), requires_grad=True)
    with recording():
        y = x * 1.0
        y.sum().backward()
    assert facts_of(y.grad_fn).grad_norms == (pytest.approx(2 ** 0.5),)
    np.testing.assert_array_equal(facts_of(y.grad_fn).grad_values[0], [1.0, 1.0])


def test_nothing_is_noted_or_listened_to_outside():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    # (a tensor hook another test left on a live tensor may still listen: not a recorder)
    before = STATE.listeners
    assert not any(isinstance(listener, Recorder) for listener in before)
    y = (x * 2.0).tanh()
    assert recorded(y.grad_fn) is None
    with recording():
        assert len(STATE.listeners) == len(before) + 1
    assert STATE.listeners == before


def test_draw_without_recording_says_what_to_write():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match=r"minigrad\.viz\.recording\(\)") as caught:
        draw(y)
    assert "with minigrad.viz.recording():" in str(caught.value)
    assert "Mul node" in str(caught.value)  # (the first node drawn)


def test_facts_go_when_the_graph_goes():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with recording():
        y = x * 2.0
    node = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert node() is None  # the recorder keeps no node alive


def test_a_detached_input_is_noted_as_a_cut():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with recording():
        h = (x * 2.0).tanh().label("h_t")
        state = h.detach()
        y = state * x
    cut = facts_of(y.grad_fn).cuts[0]
    assert cut.cut is state.cut_from and cut.cut.node is h.grad_fn and cut.cut.role == "h_t"
    assert cut.shape == (2,)
