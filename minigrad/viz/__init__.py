"""minigrad.viz: draw the graph the engine recorded, unrolled over time, in the visual language
of Olah's "Understanding LSTM Networks".

    from minigrad.viz import draw, save
    g = draw(loss, params=dict(model.named_parameters()), detail="gate")
    g                       # shows inline in Jupyter, at most 1000 px wide
    save(g, "lstm.svg")     # or draw(..., out="lstm.svg"), or g.save("lstm.html")

Two steps: capture turns the recorded graph into plain records (testable without Graphviz),
a few passes rewrite them, and render turns them into DOT. The files, in pipeline order:

* ``records``: the plain records every pass reads and writes (Node, Edge, StepKey, Graph);
* ``capture``: the recorded graph to op-level records, with ``steps`` (which layer, direction
  and step each op ran in, from its scope) and ``cuts`` (where ``detach`` cut the graph);
* ``detail``: collapse ops into gate boxes or whole cells;
* ``elide``: replace the middle steps of a long graph by one "t = 3 … t = 396" node per row;
* ``arrange``: where parameters go, per-step input stubs, forks, exits to stacked outputs;
* ``layout``: rows, steps and node order for dot, before any styling;
* ``gradients``: what each line carries back (``record_flows``), the caption's ratio;
* ``values``: the statistics of each value (``record_values``), for the explorable page;
* ``page``: the explorable page (``.html``);
* ``notation``: a subtraction's operands, a where's ticking units, the key;
* ``sequences``: a hand-written loop's input sequence (``inputs=``) as per-step stubs;
* ``picture``: ``Picture``, what ``draw`` returns (inline at most a page wide, ``.save``);
* ``render``: records and layout to a ``graphviz.Digraph``; every colour, shape and font
  comes from ``style``;
* ``files``: write DOT, SVG, PNG, PDF or the page (atomically; DOT alone when Graphviz is
  missing);
* ``drawing``: :func:`draw`, which runs the pipeline and picks a detail level that fits.

Nothing here imports ``nn``.
"""
from .capture import capture
from .detail import coarsen
from .drawing import MAX_NODES, build, draw
from .files import GraphvizMissingWarning, save
from .gradients import Flows, record_flows
from .values import Values, record_values
from .records import DETAILS, PARAM_MODES, Edge, Graph, Node, StepKey
from .render import render

__all__ = ["draw", "save", "record_flows", "Flows", "record_values", "Values", "capture", "build", "render", "coarsen", "Graph", "Node", "Edge",
           "StepKey", "DETAILS", "PARAM_MODES", "MAX_NODES", "GraphvizMissingWarning"]
