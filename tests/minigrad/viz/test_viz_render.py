"""Render and files: the DOT the renderer writes, the SVG Graphviz makes of it, the gradient
colours, elision of long graphs, and saving. Only the tests that run Graphviz's ``dot`` need it.
"""
import os
import re
import shutil
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import viz_graphs as vg

import minigrad as mg
from minigrad.viz import GraphvizMissingWarning, draw, save, style
from minigrad.files import write_atomic

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
OLAH = {"layer": "#f5ee9c", "pointwise": "#f9d1d1", "cell": "#e1f7d0", "border": "#6d8759"}


def lstm_graph(**options):
    out, params, _ = vg.model("lstm", T=3, layers=2)
    return draw(out, params=params, **options)


def svg_root(graph):
    return ET.fromstring(graph.pipe(format="svg", encoding="utf-8"))


def svg_texts(root) -> list:
    return ["".join(el.itertext()) for el in root.iter() if el.tag.endswith("}text")]


def step_clusters(source: str) -> list:
    return re.findall(r"subgraph (cluster_step\d+_\d+)", source)


@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
def test_dot_has_one_cluster_per_step_and_the_essays_colours(detail):
    g = lstm_graph(detail=detail)
    assert len(step_clusters(g.source)) == 3 * 2
    assert OLAH["pointwise"] in g.source or detail == "cell"
    assert OLAH["cell"] in g.source and OLAH["border"] in g.source
    if detail != "cell":
        assert OLAH["layer"] in g.source
    assert len(re.findall(r"label=\"t = \d\"", g.source)) == 6


@needs_dot
@pytest.mark.parametrize("detail", ["op", "gate", "cell"])
def test_dot_renders_svg_that_parses_and_shows_the_steps(detail):
    root = svg_root(lstm_graph(detail=detail))
    texts = svg_texts(root)
    for t in range(3):
        assert texts.count(f"t = {t}") == 2  # both layers
    assert "lstm · layer 0" in texts and "lstm · layer 1" in texts
    clusters = [el for el in root.iter() if el.get("class") == "cluster"]
    assert len(clusters) >= 2 + 6


@needs_dot
def test_gate_detail_shows_the_gates_with_their_steps():
    out, params, _ = vg.model("lstm", T=3)
    texts = " ".join(svg_texts(svg_root(draw(out, params=params, detail="gate"))))
    for t in range(3):
        for gate in ("f", "i", "o"):
            assert re.search(rf"σ\s+{gate}\s*{t}", texts), (gate, t)
        assert re.search(rf"tanh\s+C̃\s*{t}", texts)


def test_layers_stack_bottom_to_top_and_steps_line_up():
    """Every step of every row ranks together, and the rows keep layer order."""
    g = lstm_graph(detail="gate")
    groups = [re.findall(r"^\s*(\w+)", body, re.MULTILINE)
              for body in re.findall(r"\{\s*rank=same\n(.*?)\}", g.source, re.DOTALL)]
    spine = [names for names in groups if names[0].startswith("row")]
    assert spine == [["row0", "row1"]]
    records = g.records
    ids = {f"n{i}": nid for i, nid in enumerate(records.nodes)}
    steps = []
    for names in groups:
        if names[0].startswith("n"):
            keys = [records.nodes[ids[n]].step for n in names]
            assert sorted(k.layer for k in keys) == [0, 1]
            steps.append({k.step for k in keys})
    assert steps == [{0}, {1}, {2}]
    assert re.search(r"row1 -> row0 \[style=invis\]", g.source)  # tail above head


def positions(graph) -> dict:
    """Record id -> (x, y) of each node's centre in the rendered SVG (y grows downwards)."""
    ids = {f"n{i}": nid for i, nid in enumerate(graph.records.nodes)}
    ns = "{http://www.w3.org/2000/svg}"
    found = {}
    for group in svg_root(graph).iter(f"{ns}g"):
        if group.get("class") != "node":
            continue
        name = group.find(f"{ns}title").text
        shape = next(el for el in group.iter() if el.tag.rsplit("}", 1)[-1] in
                     ("ellipse", "polygon", "path", "text"))
        kind = shape.tag.rsplit("}", 1)[-1]
        if kind == "ellipse":
            xy = [(float(shape.get("cx")), float(shape.get("cy")))]
        elif kind == "text":
            xy = [(float(shape.get("x")), float(shape.get("y")))]
        else:
            numbers = list(map(float, re.findall(r"-?\d+\.?\d*", shape.get("points") or shape.get("d"))))
            xy = list(zip(numbers[::2], numbers[1::2]))
        found[ids.get(name, name)] = (sum(p[0] for p in xy) / len(xy), sum(p[1] for p in xy) / len(xy))
    return found


@needs_dot
def test_the_gate_picture_has_the_essays_geometry():
    """Time left to right, the C belt above the gates, f on top and o at the bottom of the
    gates, x entering from below, h leaving below the belt."""
    out, params, _ = vg.model("lstm", T=3)
    g = draw(out, params=params, detail="gate")
    at = positions(g)
    nodes = g.records.nodes.values()

    def find(kind=None, role=None, step=None):
        return next(at[n.id] for n in nodes if (kind is None or n.kind == kind)
                    and n.role == role and (step is None or n.step.step == step))
    for t in range(3):
        C, h = find(role=f"C_{t}"), find(role=f"h_{t}")
        f, i, g_, o = (find("gate", f"{r}_{t}") for r in ("f", "i", "C~", "o"))
        x = find("stub", f"x_{t}")
        assert C[1] < f[1] < i[1] < g_[1] < o[1], "belt, then f, i, C~, o from top to bottom"
        assert C[1] < h[1] and x[1] > f[1]
        if t:
            assert find(role=f"C_{t - 1}")[0] < C[0] and find(role=f"h_{t - 1}")[0] < h[0]


@needs_dot
def test_stacked_layers_are_drawn_bottom_to_top_with_steps_aligned():
    out, params, _ = vg.model("lstm", T=3, layers=3)
    g = draw(out, params=params, detail="cell")
    at = positions(g)
    cells = {(n.step.layer, n.step.step): at[n.id] for n in g.records.nodes.values()
             if n.kind == "cell"}
    for t in range(3):
        assert cells[0, t][1] > cells[1, t][1] > cells[2, t][1]
        assert cells[0, t][0] == pytest.approx(cells[2, t][0], abs=1.0)


def test_gradient_level_and_colour_are_monotone():
    rng = np.random.default_rng(0)
    norms = np.sort(10 ** rng.uniform(-9, 2, 200))
    scale = style.grad_range(norms.tolist())
    levels = [style.grad_level(float(n), scale) for n in norms]
    assert levels[0] == 0.0 and levels[-1] == 1.0
    assert all(a <= b for a, b in zip(levels, levels[1:]))
    lightness = [luminance(style.grad_colour(x)) for x in np.linspace(0, 1, 101)]
    assert all(a > b for a, b in zip(lightness, lightness[1:]))


def luminance(colour: str) -> float:
    def linear(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[k:k + 2], 16) for k in (1, 3, 5))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def test_edges_darken_with_the_gradient_and_a_legend_explains_it():
    """A vanilla RNN's gradient from the last step fades going back in time: the drawn state
    edges get lighter in the same order as their recorded norms."""
    params = vg.make_params("rnn", 3, 4)
    x = mg.tensor(np.random.default_rng(0).normal(size=(6, 2, 3)), requires_grad=True)
    out, _ = vg.run("rnn", x, params, 4)
    with mg.record_grads():
        out[5].sum().backward()
    g = draw(out, detail="cell")
    ids = {nid: f"n{i}" for i, nid in enumerate(g.records.nodes)}
    colours = {}
    for e in g.records.crossing_edges():
        line = re.search(rf"{ids[e.src]} -> {ids[e.dst]} \[[^\n]*[ \[]color=\"(#[0-9a-f]{{6}})\"",
                         g.source)
        colours[e.grad_norm] = luminance(line.group(1))
    by_norm = [colours[n] for n in sorted(colours)]
    assert len(by_norm) == 5
    assert all(a >= b for a, b in zip(by_norm, by_norm[1:]))
    assert by_norm[0] > by_norm[-1]
    assert "log scale" in g.source
    assert "log scale" not in draw(out, detail="cell", grads=False).source


def test_long_graphs_elide_middle_steps_keep_both_ends_and_say_so():
    out, params, _ = vg.model("lstm", T=40, layers=2)
    with pytest.warns(UserWarning, match="middle steps elided"):
        g = draw(out, params=params, detail="cell", max_nodes=60)
    steps = sorted({n.step.step for n in g.records.nodes.values()
                    if n.step is not None and n.kind != "ellipsis"})
    assert steps[0] == 0 and steps[-1] == 39 and len(steps) < 40
    ellipses = [n for n in g.records.nodes.values() if n.kind == "ellipsis"]
    assert len(ellipses) == 2  # one per layer
    assert f"t = {steps[len(steps) // 2 - 1] + 1} … t = {steps[len(steps) // 2] - 1}" in ellipses[0].text
    assert "middle steps elided" in g.source  # the picture's own label says so
    assert len(g.records.nodes) <= 60


def test_auto_detail_coarsens_before_it_elides():
    out, params, _ = vg.model("lstm", T=6)
    with pytest.warns(UserWarning, match="drawn at cell detail"):
        g = draw(out, params=params, max_nodes=40)
    assert g.records.detail == "cell"
    assert not [n for n in g.records.nodes.values() if n.kind == "ellipsis"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert draw(out, params=params).records.detail == "op"


def test_a_400_step_two_layer_lstm_draws_at_cell_detail():
    out, params, _ = vg.model("lstm", T=400, layers=2, hidden=3, inputs=2, batch=1)
    with pytest.warns(UserWarning, match="elided"):
        g = draw(out, params=params, detail="cell")
    assert g.records.detail == "cell"
    steps = {n.step.step for n in g.records.nodes.values() if n.step is not None}
    assert {0, 399} <= steps
    assert g.source.startswith("digraph")


def test_detach_is_a_dashed_edge_labelled_detach():
    params = vg.make_params("lstm", 3, 4)
    x = mg.tensor(np.ones((2, 2, 3)))
    first, finals = vg.run("lstm", x, params, 4)
    h, c = finals[0]
    second, _ = vg.run("lstm", x, params, 4, state0=[[(h.detach(), c.detach())]])
    source = draw(first, second, detail="gate").source
    dashed = [line for line in source.splitlines() if "style=dashed" in line and "->" in line]
    assert len(dashed) == 2 and all("detach" in line for line in dashed)


def test_flat_graphs_show_values_and_gradients():
    a = mg.tensor(2.0, requires_grad=True)
    a.name = "a"
    with mg.record_grads():
        y = (a * 3.0).tanh()
        y.backward()
    source = draw(y).source
    assert "cluster" not in source
    assert "data 2" in source and f"grad {float(a.grad.item()):.4g}" in source


def test_the_returned_graph_displays_in_jupyter():
    g = lstm_graph(detail="cell")
    assert callable(getattr(g, "_repr_mimebundle_", None))


@needs_dot
def test_jupyter_gets_svg():
    bundle = lstm_graph(detail="cell")._repr_mimebundle_()
    assert "image/svg+xml" in bundle
    ET.fromstring(bundle["image/svg+xml"])


@pytest.mark.parametrize("suffix", [".dot", ".gv"])
def test_save_writes_dot_source_without_graphviz(tmp_path, suffix):
    g = lstm_graph(detail="cell")
    path = save(g, tmp_path / f"lstm{suffix}")
    assert path.read_text(encoding="utf-8") == g.source
    assert [p.name for p in tmp_path.iterdir()] == [f"lstm{suffix}"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_save_without_dot_writes_the_source_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    g = lstm_graph(detail="cell")
    with pytest.warns(GraphvizMissingWarning, match="apt-get install graphviz"):
        path = save(g, tmp_path / "lstm.svg")
    assert path == tmp_path / "lstm.dot" and path.read_text(encoding="utf-8") == g.source
    assert not (tmp_path / "lstm.svg").exists()


@needs_dot
@pytest.mark.parametrize("suffix,magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_save_renders_the_format_of_the_extension(tmp_path, suffix, magic):
    path = save(lstm_graph(detail="cell"), tmp_path / f"lstm{suffix}")
    assert path.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"lstm{suffix}"]


@needs_dot
def test_draw_out_writes_the_file(tmp_path):
    out, _, _ = vg.model("rnn", T=2)
    draw(out, out=tmp_path / "rnn.svg")
    ET.parse(tmp_path / "rnn.svg")


def test_save_refuses_an_unknown_extension(tmp_path):
    with pytest.raises(ValueError, match=r"\.svg"):
        save(lstm_graph(detail="cell"), tmp_path / "lstm.jpg")


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "picture.dot"
    path.write_text("old")

    with pytest.raises(TypeError):
        write_atomic(path, lambda f: f.write("not bytes"))
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["picture.dot"]
