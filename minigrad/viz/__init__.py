"""minigrad.viz: draw the graph the engine recorded, unrolled over time, in the visual language
of Olah's "Understanding LSTM Networks".

    from minigrad.viz import draw
    g = draw(loss, params=dict(model.named_parameters()), detail="gate")
    g                       # shows inline in Jupyter
    save(g, "lstm.svg")     # or draw(..., out="lstm.svg")

Two steps inside: :func:`capture` walks the recorded graph into plain records (``records``),
which the detail, elide and arrange passes rewrite; :func:`render` turns them into DOT with all
the styling of ``style``. Nothing here imports ``nn``.
"""
from .capture import capture
from .detail import coarsen
from .drawing import MAX_NODES, build, draw
from .files import GraphvizMissingWarning, save
from .records import DETAILS, PARAM_MODES, Edge, Graph, Node, StepKey
from .render import render

__all__ = ["draw", "save", "capture", "build", "render", "coarsen", "Graph", "Node", "Edge",
           "StepKey", "DETAILS", "PARAM_MODES", "MAX_NODES", "GraphvizMissingWarning"]
