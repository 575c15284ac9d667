"""The backward pass drawn: the same steps, gates and roles, each line the gradient of what it
carried forward (dC_t, dh_t, df_t), arrows right to left, at gate and cell detail."""
import re
import warnings

import pytest
from drawn import layout, needs_dot

from minigrad.viz import draw
from zoo.cli import main
from zoo.models import ARCHITECTURES, gallery_entries, run_model


def backward(arch: str, detail: str, **options):
    output, params = run_model(arch, 3, grads=True, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return draw(output, params=params, detail=detail, backward=True, width=None)


@pytest.mark.parametrize("detail", ["gate", "cell"])
@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_the_states_lines_carry_their_gradients(arch, detail):
    g = backward(arch, detail)
    states = ("C", "h") if arch == "lstm" else ("h",)
    for e in g.records.crossing_edges():
        assert e.role.split("_")[0] in states
    for state in states:
        for t in range(2):  # the states handed from step t to t + 1: dC_0, dC_1, dh_0, dh_1
            assert re.search(rf"label=<(?:<br/>)?d{state}<sub>{t}</sub>", g.source), (state, t)
    forward = draw(run_model(arch, 3)[0], detail=detail)
    assert not re.search(r"label=<d[Ch]<sub>", forward.source)


def test_the_gate_boxes_name_the_gates_gradients():
    source = backward("lstm", "gate").source
    for gate in ("f", "i", "o"):
        assert len(re.findall(rf"σ′</font> · Wᵀ<br/>d{gate}<sub>\d</sub>", source)) == 3, gate
    assert len(re.findall(r"tanh′</font><br/>· Wᵀ<br/>dC̃<sub>\d</sub>", source)) == 3


@needs_dot
@pytest.mark.parametrize("detail", ["gate", "cell"])
def test_arrows_run_right_to_left(detail):
    """Each state line's arrowhead is at its left end: the gradient goes back in time (the
    forward picture's are at the right end)."""
    for back, side in ((True, "_tdraw_"), (False, "_hdraw_")):
        output, params = run_model("lstm", 3, grads=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            drawn = layout(draw(output, params=params, detail=detail, backward=back, width=None))
        states = [e for e in drawn["edges"] if "state" in e.get("class", "")]
        assert len(states) == 4
        for e in states:
            xs = [p[0] for op in e["_draw_"] if op["op"] in "bB" for p in op["points"]]
            head = [p[0] for op in e[side] if op["op"] in "pP" for p in op["points"]]
            assert head and max(head) <= min(xs) + 1 if back else min(head) >= max(xs) - 1


def test_the_gallery_has_a_backward_picture_per_architecture():
    stems = {stem for stem, _, _ in gallery_entries()}
    assert {f"{arch}-backward" for arch in ARCHITECTURES} <= stems


@needs_dot
def test_the_command_draws_the_backward_pass(tmp_path):
    out = tmp_path / "back.svg"
    assert main(["draw", "lstm", "--backward", "--out", str(out)]) == 0
    text = out.read_text()
    assert "backward pass" in text and "dC" in text and "gradient norm" in text
