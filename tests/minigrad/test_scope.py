"""Scopes name what runs, for whoever listens to the nodes recorded inside them (the renderer's
recorder); role labels name a node's outputs."""
import pytest

import minigrad as mg


def leaf():
    return mg.tensor([1.0, 2.0], requires_grad=True)


class Scopes:
    """A listener that notes the scope each node was recorded in, as the renderer's does."""

    def __init__(self):
        self.of = {}

    def on_node(self, node, inputs, outputs):
        self.of[node] = mg.current_scope()


def test_a_node_records_the_scope_it_was_made_in():
    x = leaf()
    with mg.listen(Scopes()) as seen:
        with mg.scope("lstm", layer=0, direction="forward", step=3) as s:
            y = x * 2.0
        z = y + 1.0
    assert seen.of[y.grad_fn] is s
    assert s.path() == ("lstm",)
    assert s.tags() == {"layer": 0, "direction": "forward", "step": 3}
    assert seen.of[z.grad_fn] is None


def test_scopes_nest_and_inner_tags_win():
    x = leaf()
    with mg.listen(Scopes()) as seen, mg.scope("model", step=0, kind="outer"):
        with mg.scope("cell", step=5) as inner:
            y = x.tanh()
            assert mg.current_scope() is inner
        outer_node = (y * 2.0).grad_fn
    assert seen.of[y.grad_fn].path() == ("model", "cell")
    assert seen.of[y.grad_fn].tags() == {"step": 5, "kind": "outer"}
    assert seen.of[outer_node].path() == ("model",)
    assert mg.current_scope() is None


def test_a_scope_is_restored_after_an_exception():
    with pytest.raises(KeyError):
        with mg.scope("broken"):
            raise KeyError("boom")
    assert mg.current_scope() is None


def test_each_step_of_a_loop_gets_its_own_tags():
    h = leaf()
    nodes = []
    with mg.listen(Scopes()) as seen:
        for t in range(3):
            with mg.scope("rnn", step=t):
                h = (h * 0.5).tanh()
                nodes.append(h.grad_fn)
    assert [seen.of[n].tags()["step"] for n in nodes] == [0, 1, 2]


def test_label_names_a_nodes_output_and_returns_the_tensor():
    x = leaf()
    with mg.scope("lstm", step=1):
        f = (x * 3.0).sigmoid()
        assert f.label("f_t") is f
    assert f.grad_fn.roles == ("f_t",) and f.grad_fn.role(0) == "f_t" and f.role == "f_t"


def test_label_of_one_output_of_a_multi_output_node():
    first, second = leaf().split(1)
    second.label("h_t")
    assert second.grad_fn is first.grad_fn
    assert first.grad_fn.roles == (None, "h_t")


def test_label_on_a_leaf_or_a_constant_is_harmless():
    x, c = leaf(), mg.tensor([1.0])
    assert x.label("x_t") is x and c.label("c") is c
    assert x.grad_fn is None and c.grad_fn is None


def test_nothing_is_recorded_under_no_grad_even_in_a_scope():
    with mg.no_grad(), mg.scope("lstm", step=0):
        y = leaf() * 2.0
    assert y.grad_fn is None


def test_scopes_and_labels_do_not_change_values_or_gradients():
    a, b = leaf(), leaf()
    with mg.scope("outer", step=2):
        ya = (a * a).tanh().label("h_t")
    yb = (b * b).tanh()
    ya.sum().backward()
    yb.sum().backward()
    assert ya.tolist() == yb.tolist() and a.grad.tolist() == b.grad.tolist()


def test_a_scope_entered_later_has_a_larger_serial():
    """Two runs of one loop make scopes with the same tags; the serials say which ran first."""
    scopes = []
    for _ in range(2):
        for t in range(2):
            with mg.scope("rnn", step=t) as s:
                scopes.append(s)
    serials = [s.serial for s in scopes]
    assert serials == sorted(serials) and len(set(serials)) == 4
    assert scopes[0].tags() == scopes[2].tags()
