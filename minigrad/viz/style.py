"""All the styling in one place: the essay's colours, shapes per kind of node, label text, and
the log-scale gradient palette.

Colours measured from the essay's figures: learned layers yellow ``#f5ee9c``, pointwise ops
pink ``#f9d1d1``, the cell ``#e1f7d0`` with border ``#6d8759``; lines black.
"""
from __future__ import annotations

import math
from html import escape

from .records import PRODUCTS

LAYER = "#f5ee9c"
POINTWISE = "#f9d1d1"
CELL = "#e1f7d0"
CELL_BORDER = "#6d8759"
LINE = "#303030"
FAINT = "#9a9a9a"
PARAM = "#dbe9f6"
PARAM_BORDER = "#7f9cbc"
FONT = "Helvetica"
SMALL = "9"  # pt: the smallest text (shapes, stubs, exits) where a picture fits a page
DATA_TEXT = "#202020"
GRAD_TEXT = "#a02020"

GRAPH = {"rankdir": "LR", "newrank": "true", "fontname": FONT, "fontsize": "11",
         "nodesep": "0.18", "ranksep": "0.1", "labelloc": "t", "labeljust": "l",
         "bgcolor": "white", "outputorder": "edgesfirst", "remincross": "false"}
NODE = {"fontname": FONT, "fontsize": "10", "penwidth": "1", "color": LINE,
        "width": "0.1"}  # no wider than its text (dot's default minimum is 0.75 in)
EDGE = {"fontname": FONT, "fontsize": SMALL, "color": LINE, "arrowsize": "0.6",
        "fontcolor": "#404040"}

# Gate and cell pictures fit a page (drawing.draw's width): the smallest text is 9 pt, a node
# is no wider than its text, ranks and frames are close. A picture at op detail, or a stack's
# staircase below cell detail, is wider than a page whatever its size (one to zoom into, or
# explore in the page): it keeps the roomier look it had before, the one the layout tests'
# baseline was measured on.
ROOMY = {"small": "8", "graph": {"ranksep": "0.28"}, "node": {"width": "0.75"},
         "edge": {"fontsize": "8"}, "step": {"margin": "6"}, "row": {"margin": "8"}}


def graph_attrs(roomy: bool = False) -> tuple:
    """(graph, node, edge) default attributes, roomier at op detail (see ROOMY)."""
    if not roomy:
        return GRAPH, NODE, EDGE
    return ({**GRAPH, **ROOMY["graph"]}, {**NODE, **ROOMY["node"]}, {**EDGE, **ROOMY["edge"]})


def small_size(roomy: bool = False) -> str:
    return ROOMY["small"] if roomy else SMALL

SYMBOLS = {
    "Add": "+", "Sub": "−", "Mul": "×", "Div": "÷", "Neg": "−x", "Pow": "xⁿ", "Exp": "exp",
    "Log": "log", "Sqrt": "√", "Abs": "|x|", "Tanh": "tanh", "Sigmoid": "σ", "Relu": "relu",
    "Clip": "clip", "Maximum": "max", "Minimum": "min", "Where": "where", "MatMul": "matmul",
    "AddMM": "+ matmul",
    "Sum": "Σ", "Mean": "mean", "Max": "max", "Min": "min", "Reshape": "reshape",
    "Transpose": "ᵀ", "BroadcastTo": "broadcast", "GetItem": "[ ]", "ScatterAdd": "scatter",
    "Concat": "concat", "Stack": "stack", "Split": "split", "Unbind": "unbind", "Cast": "cast",
    "ToDevice": "to", "Linear": "W·+b",
}
POINTWISE_OPS = {"Add", "Sub", "Mul", "Div", "Neg", "Pow", "Exp", "Log", "Sqrt", "Abs", "Tanh",
                 "Sigmoid", "Relu", "Clip", "Maximum", "Minimum", "Where"}
STRUCTURE_OPS = {"Reshape", "Transpose", "BroadcastTo", "GetItem", "ScatterAdd", "Concat",
                 "Stack", "Split", "Unbind", "Cast", "ToDevice"}
CELL_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN", "peephole_lstm": "Peephole LSTM",
              "coupled_lstm": "Coupled LSTM", "depth_gated_lstm": "Depth-gated LSTM",
              "clockwork_rnn": "Clockwork RNN"}
ROLE_NAMES = {"C~": "C̃", "h~": "h̃"}

# Gradient palette: grey (vanishing, still a visible line on white) to dark red (large);
# lightness falls monotonically. Lighter still: no gradient recorded.
NO_GRAD = "#c8c8c8"
NAN_GRAD = "#2a62c9"   # a NaN gradient: off the scale, in a colour the palette does not have
PALETTE = ["#a8a8a8", "#d98052", "#d64a2a", "#a51d12", "#6b0000"]


# In the backward picture an op stands for its backward: the derivative it multiplies by.
BACKWARD_SYMBOLS = {"Tanh": "tanh′", "Sigmoid": "σ′", "Relu": "relu′", "Exp": "exp′",
                    "Log": "log′", "MatMul": "· Wᵀ", "AddMM": "· Wᵀ", "Concat": "split",
                    "Split": "concat", "Stack": "unbind", "Unbind": "stack"}


def symbol(op: str, backward: bool = False) -> str:
    if backward and op in BACKWARD_SYMBOLS:
        return BACKWARD_SYMBOLS[op]
    return SYMBOLS.get(op, op.lower())


def gate_lines(op: str, role: str, shape: str, backward: bool = False,
               narrow: bool = True) -> list:
    """A gate box's label, line by line: its nonlinearity, larger than the role (its derivative
    and Wᵀ in the backward picture: a gate box sends dW·[h, x] back through σ′ and Wᵀ), the
    role and the shape. A step is as wide as its widest gate box, so no line is much wider
    than the shape: σ shares a line with the role (σ f_3), a word (tanh, σ′ · Wᵀ) stands on
    its own and tanh′ · Wᵀ on two (on one line, "tanh C̃_3" and "tanh′ · Wᵀ" made every LSTM
    step 19 points wider). ``narrow=False``: the word beside the role, as wide as before."""
    name = f'<font point-size="12">{escape(symbol(op, backward))}</font>'
    word = len(symbol(op)) > 1
    if not backward:
        return [name, role, shape] if word and narrow else [f"{name}  {role}", shape]
    if not narrow:
        return [f"{name} · Wᵀ", f"{role} {shape}"]
    return [name, "· Wᵀ", role, shape] if word else [f"{name} · Wᵀ", role, shape]


def exit_lines(slot: int | None, op: str | None, backward: bool = False,
               roomy: bool = False) -> list:
    """An exit's label, line by line: the arrow out of the step (in the backward picture into
    it: the gradient arriving from that slot of the output), the output, its slot. Each on its
    own line, the exit is no wider than the × it leaves: "↑ out[2]" on one line set the width
    of its rank, "out[2]" under the arrow still made every LSTM step 13 points wider. ``roomy``
    (op detail, see ROOMY): "out[2]" on one line."""
    d, arrow = ("d", "↓") if backward else ("", "↑")
    if slot is None:
        return [arrow, escape(d + symbol(op))]
    if roomy:
        return [arrow, escape(f"{d}out[{slot}]")]
    return [arrow, escape(d + "out"), f"[{slot}]"]


def cell_name(cell: str | None) -> str:
    """The cell's proper name from its scope tag (``peephole_lstm`` is "Peephole LSTM")."""
    return CELL_NAMES.get(cell or "", (cell or "cell").upper())


def role_html(role: str | None, layer: int | None = None) -> str:
    """``f_3`` as f<sub>3</sub> (and the layer as a superscript for stacks)."""
    if not role:
        return ""
    base, _, sub = role.rpartition("_")
    if not base:
        base, sub = role, ""
    text = escape(ROLE_NAMES.get(base, base))
    if sub:
        text += f"<sub>{escape(sub)}</sub>"
    if layer is not None:
        text += f"<sup>({layer})</sup>"
    return text


def shape_text(shape) -> str:
    if shape is None:
        return ""
    return "(" + ", ".join(str(s) for s in shape) + ")"


def small_html(text: str, colour: str = "#555555", size: str = SMALL) -> str:
    return f'<font point-size="{size}" color="{colour}">{escape(text)}</font>' if text else ""


def value_text(value) -> str:
    """A small tensor's values, at most four of them, in 4 significant digits."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return f"{value:.4g}"
    flat = value.ravel().tolist()
    shown = ", ".join(f"{v:.4g}" for v in flat[:4]) + (", …" if len(flat) > 4 else "")
    return shown if value.ndim == 0 else f"[{shown}]"


def const_text(value) -> str:
    if value is None:
        return "const"
    if not hasattr(value, "any"):
        return value_text(value)
    return "0" if not value.any() else value_text(value)


ELLIPSIS_MARK = '<font point-size="14">⋯</font>'  # over "t = 3 … t = 396": steps left out
GAP = '<font point-size="4"> </font>'  # a thin line: keeps a subscript off the next line
THIN = "\u2009"  # a thin space


def html(*lines: str) -> str:
    body = "<br/>".join(line for line in lines if line)
    return f"<{body or ' '}>"


def first_line(line: str, label: str) -> str:
    """An HTML ``label`` with ``line`` above it (an empty one pushes the text down)."""
    return f"<{line}<br/>{label[1:-1]}>"


# --- node and edge attributes by kind ------------------------------------------------------
def node_shape(kind: str, op: str, flat: bool, roomy: bool = False) -> dict:
    """Graphviz attributes for a node of this kind (colours and shapes, no label); ``roomy``:
    at op detail (see ROOMY)."""
    small = small_size(roomy)
    if kind in ("gate", "linear") or (kind == "op" and op in PRODUCTS):
        return {"shape": "box", "style": "filled", "fillcolor": LAYER,
                "margin": "0.08,0.04" if roomy else "0.04,0.03"}
    if kind == "op" and op in POINTWISE_OPS:
        if flat:
            return {"shape": "box", "style": "rounded,filled", "fillcolor": POINTWISE}
        size = "0.3" if roomy else "0.25"
        return {"style": "filled", "fillcolor": POINTWISE, "margin": "0.02", "width": size,
                "height": size, **pointwise_outline(len(symbol(op)) <= 2, roomy)}
    if kind == "op" and op in STRUCTURE_OPS:
        return {"shape": "box", "style": "rounded", "color": FAINT, "fontcolor": "#505050",
                "fontsize": small, "margin": "0.04,0.02", "height": "0.2"}
    if kind == "op":
        return {"shape": "box", "style": "rounded", "margin": "0.06,0.03"}
    if kind == "cell":
        return {"shape": "box", "style": "rounded,filled", "fillcolor": CELL, "color": CELL_BORDER,
                "penwidth": "1.4", "margin": "0.15,0.08"}
    if kind == "block":
        return {"shape": "box", "style": "rounded", "margin": "0.1,0.05"}
    if kind in ("param", "derived"):
        return {"shape": "box", "style": "filled", "fillcolor": PARAM, "color": PARAM_BORDER,
                "fontsize": "9"}
    if kind == "ghost":
        return {"shape": "box", "style": "dashed", "color": PARAM_BORDER, "fontcolor": FAINT,
                "fontsize": "7" if roomy else small, "margin": "0.08,0.02" if roomy else "0.06,0.02",
                "height": "0.15"}
    if kind == "input":
        return {"shape": "box", "style": "rounded", "margin": "0.06,0.03"}
    if kind in ("const", "stub"):
        return {"shape": "plaintext", "fontsize": "9", "margin": "0.02", "height": "0.2"}
    if kind == "exit":
        return {"shape": "plaintext", "fontsize": small, "fontcolor": "#707070", "margin": "0.01",
                "height": "0.15"}
    if kind == "junction":
        return {"shape": "point", "width": "0.07", "color": LINE}
    if kind == "tap":
        return {"shape": "point", "width": "0.05", "color": PARAM_BORDER}
    if kind == "cut":
        return {"shape": "box", "style": "dashed,rounded", "color": FAINT}
    if kind == "ellipsis":
        return {"shape": "plaintext", "fontsize": "10", "fontcolor": "#505050"}
    return {}


def pointwise_outline(short: bool, roomy: bool = False) -> dict:
    """A pointwise op's outline: a circle round a symbol (×, +); round a word (tanh, 1 − f) an
    ellipse, or where the picture fits a page a pill, as wide as the word (an ellipse is a
    third wider than its text: tanh(C_t)'s made every LSTM step 10 points wider)."""
    if short:
        return {"shape": "circle"}
    return {"shape": "ellipse"} if roomy else {"shape": "box", "style": "rounded,filled"}


STEP_CLUSTER = {"style": "rounded,filled", "fillcolor": CELL, "color": CELL_BORDER, "labelloc": "b",
                "fontcolor": CELL_BORDER, "fontsize": "10", "margin": "2", "penwidth": "1.2"}
STEP_CLUSTER_CELL = {"style": "rounded", "color": "white", "fontcolor": CELL_BORDER,
                     "fontsize": "9", "margin": "2"}
ROW_CLUSTER = {"style": "dashed,rounded", "color": "#c8c8c8", "fontcolor": "#707070",
               "fontsize": "10", "margin": "5"}
ROW_HEADER = {"shape": "plaintext", "fontcolor": ROW_CLUSTER["fontcolor"],  # at cell detail:
              "fontsize": ROW_CLUSTER["fontsize"]}                      # the row's label, as a node
PARAM_CLUSTER = {"style": "rounded,filled", "fillcolor": "#f4f8fc", "color": PARAM_BORDER,
                 "fontcolor": PARAM_BORDER, "label": "parameters", "fontsize": "10"}
ELLIPSIS_CLUSTER = {"style": "dashed,rounded", "color": CELL_BORDER, "fontcolor": CELL_BORDER,
                    "label": "", "margin": "8"}
SCOPE_CLUSTER = {"style": "rounded", "color": "#b0b0b0", "fontcolor": "#707070",
                 "fontsize": "9"}

# With the parameters in their cluster at the top left (a stack, drawn "once"), a line runs from
# each parameter to every step that reads it, through every rank in between, and placing those
# lines (dot's network simplex over their virtual nodes) took dot up to 15 s. nslimit=1 stops
# that search after as many rounds as the graph has nodes.
FAN_OUT_GRAPH = {"nslimit": "1"}

HIDDEN = {"style": "invis", "shape": "point", "width": "0"}  # placement aids

STATE_EDGE = {"minlen": "2", "penwidth": "2.4", "color": "#000000", "fontsize": "9",
              "fontcolor": "#000000"}
BELT_WEIGHT = {"C": "20", "c": "20", "h": "5"}  # how hard dot pulls a state's line level (render)
PARAM_EDGE = {"color": "#b8c8dc", "arrowsize": "0.4", "constraint": "false"}
# At gate detail a line's label sits beside its start (a taillabel), not on its middle: one
# label on a line makes dot give every line an extra rank for labels, which made each step
# about a fifth wider.
TAIL_LABEL = {"labelangle": "25", "labeldistance": "2.2"}


def state_label(state: str | None, turned: bool = False) -> dict:
    """Where a state's name goes beside the op that made it: the cell state's (C, along the
    top) above its line, back over that op; h's (along the bottom) under it, clear of the op.
    Between the steps, where the line runs, the name needed a rank of its own: 17 points a
    step. ``turned``: the label is the line's headlabel, whose angle dot measures from the
    other direction."""
    angle = 135 if state in ("C", "c") else -135
    return {"labelangle": str(-angle if turned else angle), "labeldistance": "3.4"}


DETOUR_LABEL = {"labelangle": "60", "labeldistance": "2"}  # a headlabel: beside the arrowhead
EXIT_EDGE = {"style": "dashed", "color": "#a0a0a0", "arrowsize": "0.4"}
COLLECT_EDGE = {"color": "#a0a0a0", "arrowsize": "0.4"}
DETACH_EDGE = {"style": "dashed", "color": "#c03030", "fontcolor": "#c03030", "label": "detach",
               "penwidth": "1.6"}


# --- gradients --------------------------------------------------------------------------------
def grad_range(norms) -> tuple | None:
    """(lo, hi) of the positive norms, lo at most 12 decades under hi; None if there are none."""
    positive = [n for n in norms if n is not None and n > 0 and math.isfinite(n)]
    if not positive:
        return None
    hi = max(positive)
    return max(min(positive), hi * 1e-12), hi


def grad_level(norm: float | None, scale: tuple | None) -> float | None:
    """Where ``norm`` sits between lo (0.0) and hi (1.0) on a log scale (0 and anything under lo
    at 0.0, inf at 1.0); NaN stays NaN: it is on no scale."""
    if norm is None or scale is None:
        return None
    lo, hi = scale
    if math.isnan(norm):
        return math.nan
    if norm >= hi:
        return 1.0
    if norm <= lo:
        return 0.0
    return (math.log10(norm) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))


def grad_colour(level: float) -> str:
    """The palette colour at ``level`` in [0, 1] (linear interpolation between stops)."""
    x = min(max(level, 0.0), 1.0) * (len(PALETTE) - 1)
    i = min(int(x), len(PALETTE) - 2)
    a, b = _rgb(PALETTE[i]), _rgb(PALETTE[i + 1])
    f = x - i
    return "#" + "".join(f"{round(p + (q - p) * f):02x}" for p, q in zip(a, b))


def grad_width(level: float) -> str:
    return f"{1.0 + 3.0 * level:.2f}"


def grad_attrs(level: float | None) -> dict:
    """Colour and line width for a gradient at ``level``; grey where none was recorded."""
    if level is None:
        return {"color": NO_GRAD}
    if math.isnan(level):
        return {"color": NAN_GRAD, "penwidth": grad_width(1.0)}
    return {"color": grad_colour(level), "penwidth": grad_width(level)}


def _rgb(colour: str) -> tuple:
    return tuple(int(colour[k:k + 2], 16) for k in (1, 3, 5))


def luminance(colour: str) -> float:
    """Relative luminance (WCAG): 0 for black, 1 for white."""
    def linear(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with ``background`` (they tie at a luminance
    of about 0.18)."""
    return "black" if luminance(background) > 0.18 else "white"


def norm_text(value: float) -> str:
    """A gradient norm in two significant digits: 0.31, 12, 2.4e-05."""
    return f"{value:.2g}" if value == 0 or 1e-3 <= abs(value) < 1e4 else f"{value:.1e}"


def legend_html(scale: tuple, nan: bool = False) -> str:
    """A colour bar labelled with norms at five points of the log scale, and a "NaN" cell in its
    own colour when some gradient is NaN."""
    lo, hi = scale
    cells = []
    for k in range(5):
        level = k / 4
        value = 10 ** (math.log10(lo) + level * (math.log10(hi) - math.log10(lo))) if hi > lo else hi
        colour = grad_colour(level)
        cells.append(f'<td bgcolor="{colour}" width="40"><font point-size="{SMALL}" '
                     f'color="{text_colour(colour)}">{norm_text(value)}</font></td>')
    if nan:
        cells.append(f'<td bgcolor="{NAN_GRAD}" width="34"><font point-size="{SMALL}" '
                     f'color="{text_colour(NAN_GRAD)}">NaN</font></td>')
    return ('<<table border="0" cellborder="0" cellspacing="1" cellpadding="2">'
            f'<tr><td colspan="{len(cells)}"><font point-size="9">gradient norm (log scale)'
            '</font></td></tr><tr>' + "".join(cells) + "</tr></table>>")
