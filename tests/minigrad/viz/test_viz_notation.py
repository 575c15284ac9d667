"""Notation a learner reads without the code: a subtraction's operands in order, the clockwork
RNN's ticking modules, where each step's output goes, and a key to the essay's shapes."""
import re
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.viz import draw
from zoo.models import run_model


def drawn(arch: str, detail: str, steps: int = 3, **options):
    output, params = run_model(arch, steps, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return draw(output, params=params, detail=detail, width=None)  # every step


def labels(g) -> list:
    return re.findall(r'label=<(.*?)>\s', g.source)


@pytest.mark.parametrize("detail", ["op", "gate"])
def test_a_subtraction_says_its_operands_in_order(detail):
    """The GRU's h' = n + z * (h - n) and the coupled LSTM's i = 1 - f: a bare "−" hid which
    side is taken from which (at t = 0 the initial state is the constant 0)."""
    gru = labels(drawn("gru", detail))
    assert sum("h − n" in s for s in gru) == 2 and sum("0 − n" in s for s in gru) == 1
    assert sum("1 − f" in s for s in labels(drawn("coupled", detail))) == 3


@pytest.mark.parametrize("detail", ["op", "gate"])
def test_a_constant_the_subtraction_names_is_not_drawn_again(detail):
    """The coupled LSTM's 1 − f_t says its 1: drawn beside it too, the 1's line into it crossed
    the line up to σ f_t in every step. Its place is kept (an invisible node)."""
    g = drawn("coupled", detail)
    ones = re.findall(r"(n\d+) \[label=<1 ?>([^\]]*)\]", g.source)
    assert len(ones) == 3 and all("style=invis" in attrs for _, attrs in ones)
    for node, _ in ones:
        assert all("style=invis" in line for line in g.source.splitlines()
                   if re.match(rf"\s*{node} -> ", line))


def test_a_constant_is_hidden_only_where_a_label_says_it():
    """The GRU's initial state 0 enters its 0 − n and an LSTM's the gates: drawn. In a flat
    picture (no steps) an op says its values, not its operands: the 1 of a hand-written 1 − f
    is drawn with its line. Before, the flat picture hid it and its op read a bare "−"."""
    def consts(g, hidden: bool) -> list:
        return [line for line in g.source.splitlines() if re.search(r'tooltip="?const', line)
                and ("style=invis" in line) == hidden]

    for arch in ("gru", "lstm"):
        g = drawn(arch, "gate")
        assert len(consts(g, hidden=False)) >= 1 and consts(g, hidden=True) == [], arch
    assert len(consts(drawn("coupled", "gate"), hidden=True)) == 3  # (the 1s: the test above)
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    with mg.viz.recording():
        y = (1 - x.sigmoid().label("f")) * x
    flat = draw(y, width=None)
    assert len(consts(flat, hidden=False)) == 1 and consts(flat, hidden=True) == []
    assert not any("style=invis" in line for line in flat.source.splitlines() if " -> " in line)


def test_the_clockwork_rnn_shows_which_modules_tick_at_each_step():
    """Periods 1, 2, 4, 8 (one unit each): at t every unit whose period divides t ticks."""
    g = drawn("clockwork", "gate", steps=4)
    expected = ["".join("■" if t % p == 0 else "□" for p in (1, 2, 4, 8)) for t in range(4)]
    shown = re.findall(r"where <font[^>]*>([■□]+)</font>", g.source)
    assert shown == expected


def test_every_step_says_which_slot_of_the_output_it_fills_and_the_last_reaches_it():
    g = drawn("lstm", "gate")
    assert [f"↑<br/>out<br/>[{t}]" in g.source for t in range(3)] == [True] * 3
    stack = next(n for n in g.records.nodes.values() if n.kind == "op" and n.op == "Stack")
    ids = {nid: f"n{i}" for i, nid in enumerate(g.records.nodes)}
    assert re.search(rf"-> {ids[stack.id]} \[[^]]*style=dashed", g.source)  # drawn, not invisible


@pytest.mark.parametrize("detail", ["op", "gate"])
def test_a_key_explains_the_notation_once(detail):
    g = drawn("lstm", detail)
    assert g.source.count("how to read it") == 1
    assert g.source.count("the input projected for every step at once") == 1
    assert "how to read it" not in drawn("lstm", "cell").source
