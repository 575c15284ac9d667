"""The explorable page, tested in a real browser: headless Chromium (Debian's ``chromium``;
scripts/dev.py installs it) loads the page from a file, a script appended to a copy of the page
hovers a box and clicks it, and the DOM Chromium dumps says what the page showed; a screenshot
is checked not blank. Without Chromium those tests skip, saying so; the page's own checks
(self-contained, the data it carries) need no browser."""
import json
import re
import shutil
import subprocess
import warnings
from collections import defaultdict

import pytest
from drawn import needs_dot

from minigrad.viz import draw
from zoo.cli import main
from zoo.models import run_model

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium; "
                             "scripts/dev.py test installs it)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--virtual-time-budget=3000"]


def lstm_page(tmp_path, **options):
    output, params = run_model("lstm", 3, grads=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = draw(output, params=params, detail="gate", **{"width": None, **options})
    return g, g.save(tmp_path / "graph.html")


def chromium(*args, timeout=90) -> str:
    done = subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def render_id(g, role: str) -> str:
    return next(f"n{i}" for i, n in enumerate(g.records.nodes.values()) if n.role == role
                and n.kind == "gate")


@needs_dot
def test_the_page_is_one_file_that_needs_no_network(tmp_path):
    g, path = lstm_page(tmp_path)
    text = path.read_text()
    assert "<svg" in text and "<script>" in text
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing fetched
    data = json.loads(re.search(r'<script id="graph-data" type="application/json">(.*?)</script>',
                                text, re.S).group(1))
    gate = data["nodes"][render_id(g, "f_1")]
    assert (gate["role"], gate["step"], gate["layer"], gate["shape"]) == ("f_1", 1, 0, [2, 4])
    assert gate["grad"] > 0


@needs_dot
def test_the_command_writes_the_page(tmp_path):
    out = tmp_path / "lstm.html"
    assert main(["draw", "lstm", "--grads", "--out", str(out)]) == 0
    assert "graph-data" in out.read_text()


@needs_dot
@needs_chromium
def test_hover_shows_the_details_and_click_lights_up_and_down_stream(tmp_path):
    g, path = lstm_page(tmp_path)
    target = render_id(g, "f_1")
    probe = tmp_path / "probe.html"
    probe.write_text(path.read_text().replace("</body>", """<script>
var g = document.querySelector('g.node[data-node="%s"]');
g.dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
document.body.setAttribute("data-hover", document.getElementById("info").textContent);
g.dispatchEvent(new MouseEvent("click", {bubbles: true}));
</script></body>""" % target))
    dom = chromium("--dump-dom", probe.as_uri())
    hover = re.search(r'data-hover="([^"]*)"', dom).group(1)
    assert "f_1" in hover and "step 1" in hover and "shape (2, 4)" in hover and "|grad|" in hover
    assert f'data-selected="{target}"' in dom
    lit = set(re.findall(r'<g id="[^"]*" class="node lit" data-node="(n\d+)"', dom))
    dim = set(re.findall(r'<g id="[^"]*" class="node dim" data-node="(n\d+)"', dom))
    # what the records say is upstream and downstream of f_1
    ids = {nid: f"n{i}" for i, nid in enumerate(g.records.nodes)}
    ups, downs = defaultdict(set), defaultdict(set)
    for e in g.records.edges:
        if e.kind != "invisible":
            downs[ids[e.src]].add(ids[e.dst])
            ups[ids[e.dst]].add(ids[e.src])

    def reach(links):
        seen, todo = {target}, [target]
        while todo:
            for m in links[todo.pop()]:
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen
    expected = reach(ups) | reach(downs)
    assert lit == expected and lit and dim
    assert not lit & dim
    exit0 = next(f"n{i}" for i, n in enumerate(g.records.nodes.values())
                 if n.kind == "exit" and n.step.step == 0)
    assert exit0 in dim  # h_0 into the output: upstream of nothing f_1 computes


@needs_dot
@needs_chromium
def test_the_page_draws_something(tmp_path):
    from PIL import Image
    _, path = lstm_page(tmp_path)
    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,800", path.as_uri())
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 800)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50  # a blank page has one or two
    white = max(count for count, colour in colours if colour == (255, 255, 255))
    assert white < 0.95 * image.size[0] * image.size[1]


@needs_dot
@needs_chromium
def test_keys_walk_the_steps_and_the_gradient_colours_switch_off(tmp_path):
    g, path = lstm_page(tmp_path)
    probe = tmp_path / "probe.html"
    probe.write_text(path.read_text().replace("</body>", """<script>
function key(k) { document.dispatchEvent(new KeyboardEvent("keydown", {key: k})); }
key("ArrowRight"); key("ArrowRight"); key("ArrowRight"); key("ArrowLeft");
document.getElementById("grads").click();
</script></body>"""))
    dom = chromium("--dump-dom", probe.as_uri())
    assert 'data-step="1"' in dom and ">t = 1<" in dom
    steps = {f"n{i}": n.step.step for i, n in enumerate(g.records.nodes.values()) if n.step}
    dim = set(re.findall(r'class="node dim[^"]*" data-node="(n\d+)"', dom))
    assert dim == {n for n, t in steps.items() if t != 1}
    assert len(re.findall(r'class="edge plain"', dom)) > 10


@needs_dot
def test_the_page_says_what_each_value_held_when_the_forward_pass_was_recorded(tmp_path):
    """record_values() notes mean, std, min and max of every value: a gate's hover shows its."""
    import minigrad
    import nn
    from minigrad.viz import record_values
    minigrad.manual_seed(0)
    lstm = nn.LSTM(3, 4)
    with record_values():
        output, _ = lstm(minigrad.randn(3, 2, 3))
    g = draw(output, detail="gate")
    gates = [n for n in g.records.nodes.values() if n.kind == "gate" and n.role == "f_1"]
    assert len(gates) == 1 and gates[0].stats is not None
    mean, std, lo, hi = gates[0].stats
    assert 0 < lo <= mean <= hi < 1 and std >= 0  # a sigmoid's values
    text = g.save(tmp_path / "lstm.html").read_text()
    data = json.loads(re.search(r'id="graph-data" type="application/json">(.*?)</script>',
                                text, re.S).group(1))
    shown = data["nodes"][render_id(g, "f_1")]["stats"]
    assert shown.startswith(f"mean {mean:.3g} ± {std:.3g}")
    plain = draw(lstm(minigrad.randn(3, 2, 3))[0], detail="gate")  # no recorder saw it
    assert all(n.stats is None for n in plain.records.nodes.values())
