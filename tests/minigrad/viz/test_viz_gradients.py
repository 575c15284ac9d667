"""Honest gradient colours: a line is coloured by what it carried back to its consumer, a scale
can be shared by pictures drawn apart, the legend shows real numbers, the caption the ratio of
the gradients at the first and last steps, and the gallery's truncated-BPTT picture shows no
gradient crossing the cut."""
import math
import re
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.viz import draw, record_flows, style
from zoo.models import gallery_entries, run_model


def edge_colour(g, src: str, dst: str) -> str:
    ids = {nid: f"n{i}" for i, nid in enumerate(g.records.nodes)}
    line = re.search(rf"\b{ids[src]} -> {ids[dst]} \[(?:[^\n]* )?color=\"(#[0-9a-f]{{6}})\"", g.source)
    return line.group(1)


def test_each_line_carries_what_its_consumer_sent_back_not_its_tensors_whole_gradient():
    """x feeds 2x and 3x: the line into 2x carries |2|, the one into 3x |3|; x.grad is 5. Both
    were coloured by 5 before."""
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    x.name = "x"
    with mg.viz.recording(), record_flows():
        loss = (x * 2.0).sum() + (x * 3.0).sum()
        loss.backward()
    g = draw(loss)
    into = {e.dst: e.grad_norm for e in g.records.edges if g.records.nodes[e.src].name == "x"}
    assert sorted(into.values()) == pytest.approx([2 * math.sqrt(2), 3 * math.sqrt(2)])
    x_id = next(nid for nid, n in g.records.nodes.items() if n.name == "x")
    colours = sorted((norm, style.luminance(edge_colour(g, x_id, dst))) for dst, norm in into.items())
    assert colours[0][1] > colours[1][1]  # the smaller gradient is the lighter line


def test_the_steps_the_loss_does_not_read_pass_nothing_back_through_the_output():
    """A loss on the last step's output: the output sequence's stack passes nothing back to the
    other steps, so their lines into it are drawn at the bottom of the scale (they were drawn in
    the colour of h_t's whole gradient, red)."""
    output, params = run_model("lstm", 3, grads=True)
    g = draw(output, params=params, detail="gate", width=None)
    exits = {g.records.nodes[e.dst].step.step: e for e in g.records.edges
             if g.records.nodes[e.dst].kind == "exit"}
    assert exits[0].grad_norm == 0.0 and exits[1].grad_norm == 0.0 and exits[2].grad_norm > 0
    bottom = style.grad_colour(0.0)
    assert edge_colour(g, exits[0].src, exits[0].dst) == bottom
    assert edge_colour(g, exits[2].src, exits[2].dst) != bottom


def test_an_explicit_scale_is_shared_by_pictures_drawn_apart():
    """An LSTM with forget bias 3 and an RNN, each drawn alone on one scale: the same colours
    mean the same norms, the LSTM's first state is darker, and the legend names the ends."""
    rnn, _ = run_model("rnn", 8, grads=True, seed=1)
    lstm, _ = run_model("lstm", 8, grads=True, forget_bias=3.0, seed=1)
    scale = (1e-4, 10.0)
    pictures = [draw(out, detail="cell", scale=scale) for out in (rnn, lstm)]
    for g in pictures:
        assert ">1.0e-04<" in g.source and ">10<" in g.source
    first = []
    for g in pictures:
        e = min(g.records.crossing_edges(), key=lambda e: g.records.nodes[e.src].step.step)
        assert edge_colour(g, e.src, e.dst) == style.grad_colour(style.grad_level(e.grad_norm, scale))
        first.append(style.luminance(edge_colour(g, e.src, e.dst)))
    assert first[1] < first[0]  # the LSTM's gradient reaches t = 0, darker


@pytest.mark.parametrize("scale", [(1.0,), (0.0, 1.0), (2.0, 1.0), "ab", (1.0, float("inf"))])
def test_a_bad_scale_is_refused_with_its_value(scale):
    output, _ = run_model("rnn", 2, grads=True)
    with pytest.raises(ValueError, match="scale"):
        draw(output, scale=scale)


def test_the_legend_shows_real_numbers():
    """Five distinct norms at the log scale's points (it read "1e+00 1e+00 2e+00 2e+00")."""
    output, _ = run_model("lstm", 3, grads=True)
    g = draw(output, detail="cell")
    legend = re.search(r"gradient norm.*?</table>", g.source, re.S).group(0)
    numbers = re.findall(r'color="(?:black|white)">([^<]+)<', legend)
    assert len(numbers) == 5 and len(set(numbers)) == 5
    values = [float(n) for n in numbers]
    assert values == sorted(values)


def test_the_caption_gives_the_ratio_of_the_first_and_last_steps_gradients():
    output, _ = run_model("lstm", 6, grads=True, forget_bias=3.0)
    g = draw(output, detail="cell")
    cs = {n.step.step: n.grad_norm for n in
          __import__("minigrad.viz", fromlist=["capture"]).capture(output).nodes.values()
          if n.role and n.role.startswith("C_")}
    shown = re.search(r"\|dL/dC_0\| / \|dL/dC_5\| = ([0-9.e+-]+)", g.source)
    assert float(shown.group(1)) == pytest.approx(cs[0] / cs[5], rel=0.05)
    rnn, _ = run_model("rnn", 6, grads=True)
    assert "|dL/dh_0| / |dL/dh_5|" in draw(rnn, detail="cell").source
    assert "dL/d" not in draw(run_model("rnn", 6)[0], detail="cell").source  # no gradients


def test_the_gallerys_truncated_bptt_shows_no_gradient_crossing_the_cut():
    """One backward, from the second chunk: the first chunk's cells and lines carry none."""
    build = dict((stem, b) for stem, _, b in gallery_entries())["tbptt-lstm"]
    outputs, options = build()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = draw(*outputs, **options, width=None).records  # every step
    first = [n for n in g.nodes.values() if n.kind == "cell" and n.step.step < 4]
    second = [n for n in g.nodes.values() if n.kind == "cell" and n.step.step >= 4]
    assert len(first) == len(second) == 4
    assert all(not n.grad_norm for n in first) and all(n.grad_norm for n in second)


def test_a_line_into_a_copy_carries_what_all_its_branches_sent_back():
    """Where one drawn line stands for several (into a fork, one line out of it per consumer),
    it carries the sum of what they carried back. Before, the line into a fork carried its
    first branch's flow: the depth-gated stack's C_t^(0) line into its fork was pale (0.03)
    under a dark branch up to layer 1 (0.29)."""
    output, params = run_model("depth-gated", 3, grads=True)
    g = draw(output, params=params, detail="gate", width=None).records
    up = [e for e in g.edges if g.nodes[e.dst].kind == "stub" and e.role
          and e.role.startswith("C") and g.nodes[e.src].op == "copy"]
    assert up
    for e in up:  # here the branch up carries more than the one along the row
        into = next(line for line in g.edges if line.dst == e.src)
        assert into.grad_norm >= e.grad_norm * 0.999
    checked = 0
    for line in g.edges:
        if g.nodes[line.dst].kind != "junction" or g.nodes[line.dst].op != "copy":
            continue
        total = sum(e.flow for e in g.edges if e.src == line.dst)
        assert line.grad_norm == pytest.approx(float(np.sqrt((total * total).sum())))
        checked += 1
    assert checked >= 2
