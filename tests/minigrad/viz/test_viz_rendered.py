"""Graphviz draws every picture without a word: each set-up of test_viz_truth.py (which checks
only the records) at every detail level and parameter mode, and every gallery entry, rendered
by ``dot`` with every step (``width=None``; the gallery also fitted to a page); any error or
warning on dot's stderr fails.

Before: two_chunks (truncated BPTT in a 2-layer stack, h_n and c_n drawn between the chunks)
with ``param_mode="hide"`` at op and gate detail made dot fail ("triangulation failed ... lost
row2_1 row2_0 edge": the invisible line between two rows' spine nodes at the step the detached
state enters, drawn across the rows), and with three or four steps a chunk and
``param_mode="repeat"`` warn ("Unable to reclaim box space in spline routing").

The whole sweep (the architectures at 1 and 2 layers and bidirectional, every hand-built and
data set-up, each in its reversed output order) renders about 350 pictures; the orders test's
permutations are left out (the same records, test_viz_truth.py checks the DOT is the same)."""
import subprocess
import warnings

import pytest
import test_viz_truth as setups
from drawn import needs_dot

import minigrad as mg
from minigrad.viz import draw
from zoo.models import ARCHITECTURES, gallery_entries, run_model

DETAILS = ["op", "gate", "cell"]
ENTRIES = {stem: build for stem, _, build in gallery_entries()}


def complaints(outputs, **options) -> str:
    """What dot says on stderr (and its exit status, when not 0) rendering the picture."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # draw's own notes (elided steps, detail chosen)
        picture = draw(*outputs, **{"width": None, **options})
    done = subprocess.run(["dot", "-Tsvg", "-o", "/dev/null"], input=picture.source.encode(),
                          capture_output=True, timeout=120)
    said = done.stderr.decode(errors="replace").strip()
    return f"exit {done.returncode}: {said}" if done.returncode else said


def every_mode(outputs, **options) -> dict:
    """Each parameter mode (and, with several outputs, their reversed order) -> what dot said,
    where it said anything."""
    found = {}
    for mode in setups.MODES:
        orders = [outputs, outputs[::-1]] if len(outputs) > 1 else [outputs]
        for k, drawn in enumerate(orders):
            said = complaints(drawn, param_mode=mode, **options)
            if said:
                found[mode, "reversed" if k else "given"] = said
    return found


@needs_dot
@pytest.mark.parametrize("stem", sorted(ENTRIES))
def test_every_gallery_picture_renders(stem):
    """With every step, and fitted to a page as the gallery shows it (fitting lays out elided
    versions of it too, and where dot fails there, draw keeps the picture unfitted)."""
    outputs, options = ENTRIES[stem]()
    assert complaints(outputs, **options) == ""
    assert complaints(outputs, **{**options, "width": 1000}) == ""


@needs_dot
@pytest.mark.parametrize("detail", DETAILS)
@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_every_architecture_renders(arch, detail):
    found = {}
    for layers, bidirectional in ((1, False), (2, True), (2, False)):
        output, params = run_model(arch, 2, layers, bidirectional, grads=True)
        for mode, said in every_mode([output], params=params, detail=detail).items():
            found[layers, bidirectional, mode] = said
    assert found == {}


HAND_BUILT = {
    "concat": lambda: [setups.vg.model("lstm", form="concat", layers=2)[0]],
    "tbptt-h_n": setups.two_chunks,
    "tbptt": lambda: setups.two_chunks(draw_h_n=False),
    "tbptt-3-steps": lambda: setups.two_chunks(T=3),
    "tbptt-4-steps": lambda: setups.two_chunks(T=4),
    "encoder-decoder": setups.encoder_decoder,
    "called-twice": setups.called_twice,
    "step-by-step": setups.step_by_step,
    "neuron": setups.neuron,
    "shared-output": setups.shared_output,
}
ELIDED = {  # drawn within 40 nodes, as test_viz_truth.py draws them
    "tbptt-elided": lambda: setups.two_chunks(T=8, layers=1),
    "lengths": setups.two_lengths,
}


@needs_dot
@pytest.mark.parametrize("detail", DETAILS)
@pytest.mark.parametrize("name", sorted(HAND_BUILT) + sorted(ELIDED))
def test_every_hand_built_graph_renders(name, detail):
    """tbptt-h_n failed at op and gate detail with param_mode="hide"; tbptt-3-steps and
    tbptt-4-steps warned at op and gate detail with param_mode="repeat"."""
    outputs = {**HAND_BUILT, **ELIDED}[name]()
    max_nodes = 40 if name in ELIDED else 100_000
    assert every_mode(outputs, detail=detail, max_nodes=max_nodes) == {}


@needs_dot
@pytest.mark.parametrize("detail", DETAILS)
@pytest.mark.parametrize("graph", [setups.preprocessed, setups.embedded, setups.with_context,
                                   setups.clockwork])
def test_every_graph_with_data_renders(graph, detail):
    outputs, _ = graph()
    assert every_mode(outputs, detail=detail) == {}


@needs_dot
@pytest.mark.parametrize("detail", DETAILS)
def test_every_order_of_a_layers_outputs_renders(detail):
    """A 2-layer LSTM's output, h_n, c_n and loss, drawn in the given and reversed order."""
    mg.manual_seed(0)
    model = setups.nn.LSTM(3, 4, num_layers=2)
    output, (h_n, c_n) = model(mg.randn(3, 2, 3, requires_grad=True))
    params = dict(model.named_parameters())
    assert every_mode([output, h_n, c_n, output[-1].sum()], params=params, detail=detail) == {}
