"""Render: records to a ``graphviz.Digraph``. Styling comes from :mod:`style`, placement from
:mod:`layout`; this module only writes them out as DOT statements."""
from __future__ import annotations

import math
from collections import Counter, defaultdict

import graphviz

from . import notation, style
from .layout import Layout, edge_order, plan
from .picture import Picture
from .records import Edge, Graph, Node, crosses_steps, role_base

ANCHOR = "rows"
# dot keeps a line between two nodes of one group (a belt) straight with 100 times its weight,
# and pulls every cluster's frame tight with weight 128: a step's frame and its row's, 256 in
# all. So a belt's line inside a step weighs 3: at weight 1 the frames won, and a step whose
# belt node had room to move (rnn's tanh h_2, at the end of its row) stood 34 points lower.
INSIDE_BELT_WEIGHT = "3"


class _Writer:
    def __init__(self, graph: Graph, lay: Layout, scale: tuple | None = None):
        self.graph = graph
        self.lay = lay
        stairs = lay.stairs
        # (a stack's staircase is not roomy: fitted to a page it keeps 9-point text and close
        # ranks, as one row does)
        self.roomy = graph.detail == "op"  # see style.ROOMY
        # a line's label beside its start (style.TAIL_LABEL); in a staircase they lay on the
        # lines that climb between layers
        self.tail_labels = graph.detail == "gate" and not stairs
        # there a line's label is placed after the layout (dot's xlabel; a state's name stands
        # inside its step, named_inside): on the line, dot doubled the ranks for it (the
        # depth-gated stack's steps: 424 points, now 202). Not yet where a layer hands up the
        # state of its top belt but not C (a GRU's h): there it made 2 layers 2051 -> 1184
        # points wide but added crossings (12 -> 15); nor, there, a gate's word (tanh) on a
        # line of its own (style.gate_lines)
        self.xlabels = graph.detail == "gate" and stairs and (
            lay.hands_c or not self.hands_up_its_belt())
        self.narrow_gates = lay.hands_c or not (stairs and self.hands_up_its_belt())
        self.ids = {nid: f"n{i}" for i, nid in enumerate(graph.nodes)}
        self.flat = not lay.members
        norms = [n.grad_norm for n in graph.nodes.values()] + [e.grad_norm for e in graph.edges]
        self.scale = (tuple(float(v) for v in scale) if scale is not None
                      else style.grad_range(norms)) if graph.grads else None
        self.any_nan = any(n is not None and math.isnan(n) for n in norms)
        self.labelled = set()
        self.headers = []  # the rows' header nodes, where rows() draws them
        self.flat_pairs = {pair for pairs in lay.beside.values() for pair in pairs}
        self.joined = {(e.src, e.dst) for e in graph.edges}
        self.in_rank, self.downwards = _lines_in_a_rank(lay, self.joined)
        self.hangs = {op for _, op in lay.hanging}
        self.forks = {fork for *_, fork in lay.forks}
        self.crosses, self.handing = self.crossing_sources()
        pairs = Counter((e.src, e.dst) for e in graph.crossing_edges())
        self.state_uses = Counter((e.src, e.role) for e in graph.crossing_edges())
        self.parallel = {pair for pair, n in pairs.items() if n > 1}  # h and C between cells
        fan_in = {}
        for e in graph.edges:
            if graph.nodes[e.dst].step is None and graph.nodes[e.src].step is not None:
                fan_in.setdefault(e.dst, set()).add(graph.nodes[e.src].step)
        self.collectors = {nid for nid, steps in fan_in.items() if len(steps) > 2}
        self.band = set(lay.band)
        # "1 − f": a subtraction's label names its operands (a flat picture's ops say their
        # values instead)
        self.differences = {} if self.flat else notation.operands(graph)
        self.said = self.said_constants()
        self.slots = {e.dst: e.dst_input for e in graph.edges  # an exit's slot in the output
                      if graph.nodes[e.dst].kind == "exit"}
        self.cut_for = {e.src: graph.nodes[e.dst].step for e in graph.edges  # the step a cut
                        if graph.nodes[e.src].kind == "cut"}                 # box stands for

    def crossing_sources(self) -> tuple:
        """(the nodes whose lines cross to another step, the rows that hand a state up). The
        forks where a state handed up to another row leaves its step (arrange._fork_handed_up)
        cross: so does the op that made the state (its name is on the line after the fork), and
        its row hands up (see state_style)."""
        graph = self.graph
        crosses = {e.src for e in graph.crossing_edges()}
        handed_up = {e.dst for e in graph.edges
                     if e.dst in crosses and graph.nodes[e.dst].kind == "junction"
                     and graph.nodes[e.dst].step == graph.nodes[e.src].step}
        crosses |= {e.src for e in graph.edges if e.dst in handed_up}
        return crosses, {graph.nodes[i].step.row for i in handed_up}

    def said_constants(self) -> set:
        """The constants that only subtraction labels read (the 1 of 1 − f): said there, not
        drawn again (their place is kept): the 1's line crossed the one up to σ f_t."""
        readers = defaultdict(set)
        for e in self.graph.edges:
            readers[e.src].add(e.dst)
        return {nid for nid, n in self.graph.nodes.items() if n.kind == "const" and readers[nid]
                and readers[nid] <= self.differences.keys()} - set(self.graph.outputs)

    def hands_up_its_belt(self) -> bool:
        """Whether a line from a row's top belt enters a stub of another row."""
        nodes = self.graph.nodes
        return any(e.src in self.lay.top and nodes[e.dst].kind == "stub"
                   and nodes[e.dst].step is not None
                   and nodes[e.dst].step.row != nodes[e.src].step.row for e in self.graph.edges)

    # --- nodes ---------------------------------------------------------------------------
    def node(self, g, node: Node) -> None:
        attrs = dict(style.node_shape(node.kind, node.op, self.flat, self.roomy))
        attrs["tooltip"] = self.tooltip(node)
        if node.id in self.differences:
            attrs.update(style.pointwise_outline(False, self.roomy))
            if self.roomy:
                attrs["margin"] = "0.01"  # (an ellipse has room round its text; a pill none)
        if node.id in self.lay.belts:
            attrs["group"] = self.lay.belts[node.id]
        if node.id in self.graph.outputs:
            attrs["peripheries"] = "2"
        if node.kind == "junction" and self.graph.detail == "cell":  # the lines that meet there
            attrs["xlabel"] = style.html(self.role_html(node.role, self.layer_of(node)))
            attrs.update(fontsize=style.SMALL, fontcolor=style.EDGE["fontcolor"])
        level = style.grad_level(node.grad_norm, self.scale)
        if level is not None and node.kind not in ("junction", "const"):
            attrs.update(style.grad_attrs(level))
        if node.id in self.said:
            attrs["style"] = "invis"
        g.node(self.ids[node.id], self.label(node), **attrs)

    def small_html(self, text: str, colour: str = "#555555") -> str:
        return style.small_html(text, colour, style.small_size(self.roomy))

    def role_html(self, role: str | None, layer: int | None) -> str:
        """A role as drawn; in the backward picture, the gradient of it (``dC_3``)."""
        text = style.role_html(role, layer)
        return f"d{text}" if text and self.graph.backward else text

    def layer_of(self, node: Node) -> int | None:
        key = node.step if node.kind != "cut" else self.cut_for.get(node.id)
        if key is None or self.lay.layers.get(key.group, 1) < 2:
            return None
        return key.layer if node.layer is None else node.layer

    def label(self, node: Node) -> str:
        kind, shape = node.kind, self.small_html(style.shape_text(node.shape))
        role = self.role_html(node.role, self.layer_of(node))
        if kind == "gate":
            return style.html(*style.gate_lines(node.op, role, shape, self.graph.backward,
                                                self.narrow_gates))
        if kind == "linear":
            return style.html("· Wᵀ" if self.graph.backward else "W · + b", shape)
        if kind == "op":
            return self.op_label(node, role, shape)
        if kind in ("param", "derived", "input"):
            name = node.name if kind != "derived" else (node.role or style.symbol(node.op))
            return style.html(style.escape(name or kind), shape, *self.values(node))
        if kind == "ghost":
            return style.html(style.escape(node.name or "param"))
        if kind == "const":
            return self.const_label(node)
        if kind == "stub":
            return self.stub_label(node, role)
        if kind == "exit":
            return style.html(*style.exit_lines(self.slots.get(node.id), node.op,
                                                self.graph.backward, self.roomy))
        if kind == "cut":
            return style.html(role or style.escape(node.op), self.small_html("cut earlier"))
        if kind == "cell":
            return style.html(f"<b>{style.escape(style.cell_name(node.cell))}</b>", shape)
        if kind == "block":
            return style.html(style.escape(".".join(node.scope)))
        if kind == "ellipsis":
            if self.graph.detail == "cell":  # one line: a cell's h and C enter it side by side
                return style.html(f"⋯  {style.escape(node.text or '')}  ⋯")
            return style.html(style.ELLIPSIS_MARK, style.escape(node.text or ""))  # (a state's
            # own ⋯ has no text, see elide)
        return style.html("")

    def const_label(self, node: Node) -> str:
        """The value and its shape; on one line where the picture fits a page (at t = 0 a
        taller const raised that step's frame over the others')."""
        value, shape = style.escape(style.const_text(node.value)), style.shape_text(node.shape)
        if self.roomy:
            return style.html(value, self.small_html(shape))
        return style.html(f"{value} {self.small_html(shape)}")

    def stub_label(self, node: Node, role: str) -> str:
        """``x_t`` over how it was made and its shape; where the picture fits a page, those on
        two short lines, ``+`` between thin spaces (the stub sets the width of its rank)."""
        if self.roomy:
            return style.html(role, style.GAP, self.small_html(" ".join(
                t for t in (node.op, style.shape_text(node.shape)) if t)))
        made = (node.op or "").replace(" + ", style.THIN + "+" + style.THIN)
        return style.html(role, style.GAP, self.small_html(made),
                          self.small_html(style.shape_text(node.shape)))

    def op_label(self, node: Node, role: str, shape: str) -> str:
        sym = style.escape(style.symbol(node.op, self.graph.backward))
        if node.op in style.POINTWISE_OPS and not self.flat:
            if node.id in self.differences:
                return style.html(style.escape(self.differences[node.id]))
            if node.op == "Where" and node.text:
                return style.html(f"{sym} {self.small_html(node.text, style.DATA_TEXT)}")
            return style.html(sym)
        if self.flat:
            return style.html(f"<b>{sym}</b> {role}", shape, *self.values(node))
        return style.html(f"{sym} {role}".strip(), shape)

    def values(self, node: Node) -> list:
        if not self.flat:
            return []
        lines = []
        if node.value is not None:
            lines.append(self.small_html("data " + style.value_text(node.value), style.DATA_TEXT))
        if node.grad_value is not None:
            lines.append(self.small_html("grad " + style.value_text(node.grad_value), style.GRAD_TEXT))
        return lines

    def tooltip(self, node: Node) -> str:
        parts = [node.kind, node.op, node.role or "", node.name or "", style.shape_text(node.shape)]
        if node.grad_norm is not None:
            parts.append(f"|grad| = {node.grad_norm:.3g}")
        return " ".join(p for p in parts if p)

    def output_above(self, e: Edge) -> bool:
        """Whether the output that a row's last exit joins (the stacked h_t) stands above that
        exit, over the row, where the exits' arrows point (at gate detail, the top row of one
        model's single row or staircase): right of the row it took a rank of its own, 60
        points; the exit's rank, as wide as the box then, widens the last step by 17 (six
        LSTM steps were 1007 points wide, now 974). Weight 0: the exit stays over its op. Not
        in a bidirectional layer (lines crossed, the picture grew) nor beside another model
        (whose output stays on the right)."""
        rows = self.lay.rows
        return (self.graph.detail == "gate" and self.graph.nodes[e.dst].step is None
                and not self.lay.mirrored and len({(r.group, r.call) for r in rows}) == 1
                and self.graph.nodes[e.src].step.row == rows[-1])

    # --- edges ---------------------------------------------------------------------------
    def edge(self, g, e: Edge) -> None:
        if e.kind == "invisible" or e.src in self.said:
            if self.graph.nodes[e.src].kind == "exit":  # a row's last exit: the output it joins
                src, dst = self.ids[e.src], self.ids[e.dst]
                if self.output_above(e):
                    g.body.append("{rank=same; %s; %s}" % (src, dst))
                    g.edge(src, dst, weight="0", **style.EXIT_EDGE)
                else:
                    g.edge(src, dst, **style.EXIT_EDGE)
            else:
                g.edge(self.ids[e.src], self.ids[e.dst], style="invis")
            return
        a, b = self.graph.nodes[e.src].step, self.graph.nodes[e.dst].step
        crossing = crosses_steps(a, b)
        attrs = self.edge_style(e, crossing)
        upward = False
        if a is not None and b is not None and a.row != b.row:
            if not self.places_rows(a, b):
                attrs["constraint"] = "false"
            # cells of one step share a rank: dot draws such an edge as a detour unless it
            # leaves from the top and enters at the bottom
            upward = self.graph.detail == "cell" and a.step == b.step
            if upward:
                attrs.update(tailport="n", headport="s")
                if self.lay.detours.get((e.src, e.dst)) == "right":
                    # dot takes a line between two nodes of one rank round their left unless
                    # an end is on the right: it leaves where the row's state leaves its cell
                    attrs["tailport"] = "e"
        text = None if e.dst in self.collectors else self.edge_text(e, crossing, upward)
        if text and e.kind == "detach":
            text = style.first_line("detach", text)
        elif text and (e.src, e.dst) in self.parallel and not edge_order(e):
            text = style.first_line("", text)  # below the belt's label, off the belt's line
        if (e.src, e.dst) in self.in_rank:  # written turned (dst -> src, the arrow drawn back)
            turned = (e.src, e.dst) in self.downwards
        else:
            turned = (a is not None and b is not None and a.row == b.row
                      and a.row in self.lay.mirrored and (e.src, e.dst) not in self.flat_pairs)
        if text:
            attrs.update(self.label_attrs(e, text, upward, crossing, turned))
        if self.scale is not None and e.kind == "data" and e.dst not in self.collectors:
            attrs.update(style.grad_attrs(style.grad_level(e.grad_norm, self.scale)))
        src, dst = self.ids[e.src], self.ids[e.dst]
        if turned:
            src, dst = dst, src
        if e.src in self.hangs and a == b:  # enters from the top: dot keeps the op above the
            attrs["tailport" if turned else "headport"] = "n"  # lines passing under it
        if turned != self.graph.backward:  # the backward pass: each gradient runs the other way
            attrs["dir"] = "back"
        g.edge(src, dst, **attrs)

    def places_rows(self, a, b) -> bool:
        """Whether a line from step ``a`` to step ``b`` of another row places its ends (dot's
        ``constraint``): between a staircase's layers, and where a model hands its state on to
        one drawn after it."""
        offsets = self.lay.offsets
        return self.lay.staircase and a.step == b.step or offsets[b.group] > offsets[a.group]

    def label_attrs(self, e: Edge, text: str, upward: bool, crossing: bool = False,
                    turned: bool = False) -> dict:
        """Where an edge's label goes: on the line, beside it (between the cells of one column,
        where dot leaves no room on the line), or, on a line that climbs past another row, under
        the cell it enters (its middle, where dot puts an ``xlabel``, lies on that row's lines).
        At gate detail a state's name, on its line from one step to the next, stands inside the
        step that made it, beside the op that made it (the line's tail; its head where the line
        is written turned; see style.state_label)."""
        if (e.src, e.dst) in self.lay.detours:
            return {"headlabel": text, **style.DETOUR_LABEL}
        if crossing and self.named_inside(e):
            end = "headlabel" if turned else "taillabel"
            layered = self.layer_of(self.graph.nodes[e.src]) is not None
            return {end: text, **style.state_label(role_base(e.role), turned, layered)}
        if self.tail_labels and turned and (e.src, e.dst) in self.in_rank:
            return {"headlabel": text, **style.IN_RANK_LABEL}  # (its start is the head)
        if self.tail_labels:
            return {"taillabel": text, **style.TAIL_LABEL}
        return {"xlabel" if upward or self.xlabels else "label": text}

    def edge_style(self, e: Edge, crossing: bool) -> dict:
        """The look of an edge by what it carries: a parameter, a cut, a state, a stacked output."""
        if e.kind == "param":
            attrs = dict(style.PARAM_EDGE)
            if self.graph.params == "repeat" or self.places(e):
                del attrs["constraint"]
            return attrs
        if e.kind == "detach":
            attrs = dict(style.DETACH_EDGE)
            if self.graph.nodes[e.src].kind == "junction":
                del attrs["label"]  # a branch of Olah's copy: the line into the fork says it
            return attrs
        if crossing:
            return self.state_style(e)
        if self.on_belt(e) or self.enters_its_dot(e):
            return {"weight": INSIDE_BELT_WEIGHT}
        if e.dst in self.collectors:
            return dict(style.COLLECT_EDGE)
        return {}

    def on_belt(self, e: Edge) -> bool:
        """Whether a line joins two nodes of one belt (dot's group)."""
        belt = self.lay.belts.get(e.src)
        return belt is not None and belt == self.lay.belts.get(e.dst)

    def enters_its_dot(self, e: Edge) -> bool:
        """Whether a line brings an input (x_t) into the dot where it meets h: as heavy as a
        belt's line, it keeps that dot at the input's height (at t = 0 the GRU's dot, where
        the initial state enters too, sank towards h, and its line to σ z_0 crossed that
        state's line into W · + b)."""
        return (self.graph.nodes[e.src].kind == "stub"
                and self.graph.nodes[e.dst].kind == "junction")

    def state_style(self, e: Edge) -> dict:
        """A state's line from one step to the next: thick, classed by state and row (the
        layout's tests and the explorable page find it so) and, below cell detail, heavy where
        it is one line into one op (or, for h, into the dot where it meets x): dot keeps a heavy
        line short, which keeps the belt level from step to step. A state copied to several
        places (the peephole LSTM's C into its gates) stays light: pulled straight, its copy
        point dragged the steps into a staircase; not where the copy point stands on top of
        the ops it feeds, in their rank (layout._forks), which holds it: light, the C line let
        the depth-gated stack's first fork, the taller ``0`` of C_{-1}, stand 6 points high."""
        base = role_base(e.role) or "state"
        row = self.lay.rows.index(self.graph.nodes[e.src].step.row)
        attrs = dict(style.STATE_EDGE, **{"class": f"state role-{base} row-{row}"})
        dst = self.graph.nodes[e.dst]
        if ((self.xlabels or self.named_inside(e))
                and (dst.kind != "ellipsis" or self.graph.nodes[e.src].step.row in self.handing)):
            attrs["minlen"] = "1"  # its label, placed after the layout or inside the step,
            # needs no rank of its own; into elided steps, with one rank, dot drew layer 0's
            # first step upside down, but for a row that hands its C up (the depth-gated
            # stack's layer 0): with two ranks to its elided steps, its first step stood squashed
            # under the belts, which ran into the elided run's box close together
        weight = style.BELT_WEIGHT.get(base)
        if (weight and self.graph.detail != "cell" and self.state_uses[e.src, e.role] == 1
                and (dst.kind != "junction" or not edge_order(e) or e.dst in self.forks)):
            attrs["weight"] = weight
        return attrs

    def named_inside(self, e: Edge) -> bool:
        """Whether a state's line between two steps has its name inside the step that made it,
        beside the op that made it (label_attrs): at gate detail, where that is a pointwise op,
        in one row and in a stack's staircase (there, as xlabels, h₁⁽⁰⁾ stood behind the × it
        leaves and C₀⁽¹⁾ on the next step's ×). A gate's box (an RNN's tanh h_t (2, 4)) names
        its line itself (edge_text)."""
        return (self.tail_labels or self.xlabels) and self.graph.nodes[e.src].kind == "op"

    def places(self, e: Edge) -> bool:
        """Whether a parameter's line places its ends (dot's ``constraint``): from the band, a
        parameter comes before its first tap, a tap right before the ops that read it; in a
        step of a stack, its tap comes before them (unplaced, dot 2.43 failed on the
        bidirectional 3-layer depth-gated stack: "trouble in init_rank"). The line from tap to
        tap places nothing: with it, dot 2.43 fails on some graphs the same way."""
        src, dst = self.graph.nodes[e.src], self.graph.nodes[e.dst]
        if src.kind == "tap" and src.step is not None:
            return True
        return e.src in self.band and (src.kind, dst.kind) != ("tap", "tap")

    def edge_text(self, e: Edge, crossing: bool, upward: bool = False) -> str | None:
        if e.kind == "param" or not e.role:
            return None
        src = self.graph.nodes[e.src]
        if upward:
            if "junction" in (src.kind, self.graph.nodes[e.dst].kind):
                return None  # the junction is labelled
            return style.html(self.role_html(e.role, self.layer_of(src)))
        if crossing and self.tail_labels and src.kind == "gate":
            return None  # its box says it, tanh h_t (2, 4): between two narrow steps, beside
            # the box, h_0 (2, 4) stood on the next step's box; on the line, in a rank of its
            # own, it set the steps about 30 points further apart and the first step wider
        if not crossing and ((e.src, e.role) in self.labelled or e.src in self.crosses
                             or src.kind in ("stub", "junction", "gate")
                             or self.graph.nodes[e.dst].kind in ("exit", "stub")):  # (a stub
            # says its name: a stack's last h_t^(0) was named twice, the xlabel over a frame)
            return None
        self.labelled.add((e.src, e.role))
        shape = " " + self.small_html(style.shape_text(e.shape)) if crossing else ""
        return style.html(self.role_html(e.role, self.layer_of(src)) + shape)

    # --- clusters ------------------------------------------------------------------------
    def rows(self, g) -> None:
        """One cluster per row, labelled at its top left; at cell detail, and in a bidirectional
        stack, the label is a header left of the row's first step instead: there the line from
        the cell below at t = 0, or lines between the layers, rise through the top left corner."""
        lay = self.lay
        header = self.graph.detail == "cell" or bool(lay.mirrored)
        self.headers = [f"header{r}" for r in range(len(lay.rows))] if header else []
        for r, row in reversed(list(enumerate(lay.rows))):  # top row first: see _row_order
            with g.subgraph(name=f"cluster_row{r}") as rg:
                rg.attr(label="" if header else self.row_label(row),
                        **{**style.ROW_CLUSTER, **(style.ROOMY["row"] if self.roomy else {})})
                if header:
                    rg.node(f"header{r}", self.row_label(row), **style.ROW_HEADER)
                    self.header_edge(rg, r)
                for s, key in enumerate(lay.steps[row]):
                    self.step(rg, key, r, s)
                if lay.band:  # declared after the steps: drawn under them (above at cell detail)
                    with rg.subgraph(name=f"cluster_parameters{r}") as pg:
                        pg.attr(**style.PARAM_CLUSTER)
                        for i in lay.band:
                            self.node(pg, self.graph.nodes[i])

    def header_edge(self, g, r: int) -> None:
        """Ties row r's header before its first node; below cell detail two ranks before, clear
        of the inputs that enter there, and with weight 0 (dot gave up, "trouble in init_rank",
        on a 3-layer bidirectional depth-gated stack with elided steps otherwise)."""
        head = self.ids[self.lay.row_heads[r]]
        if self.graph.detail == "cell":
            g.edge(f"header{r}", head, style="invis")
        else:
            g.edge(f"header{r}", head, style="invis", minlen="2", weight="0")

    def row_label(self, row: tuple) -> str:
        group, call, layer, direction = row
        text = group
        if self.lay.layers.get(group, 1) > 1:
            text += f" · layer {layer}"
        if direction == "reverse":
            text += " · reverse ←"
        elif any(r.group == group and r.direction == "reverse" for r in self.lay.rows):
            text += " · forward →"
        if call:
            text += f" · call {call + 1}"
        return text

    def step(self, g, key, r: int, s: int) -> None:
        """Step ``s`` of row ``r``: its frame, nodes and the ranks inside it."""
        name = f"cluster_step{r}_{s}"
        ids = self.lay.members[key]
        nodes = [self.graph.nodes[i] for i in ids]
        if any(n.kind == "ellipsis" for n in nodes):
            with g.subgraph(name=name) as c:
                c.attr(**style.ELLIPSIS_CLUSTER)
                for node in nodes:
                    self.node(c, node)
                self.posts(c, key, r, s)
            return
        attrs = style.STEP_CLUSTER_CELL if self.graph.detail == "cell" else style.STEP_CLUSTER
        attrs = {**attrs, **style.ROOMY["step"]} if self.roomy else attrs
        with g.subgraph(name=name) as c:
            c.attr(label=f"t = {key.step}" if key in self.lay.titled else "", **attrs)
            for node in nodes:
                self.node(c, node)
            self.posts(c, key, r, s)
            for pair in self.lay.beside.get(key, ()):
                c.body.append("{rank=same; %s}" % "; ".join(self.ids[i] for i in pair))
            for group in self.lay.under:  # in one rank, bottom to top
                if self.graph.nodes[group[-1]].step == key:
                    c.body.append("{rank=same; %s}" % "; ".join(self.ids[i] for i in group))
                    for lower, upper in zip(group, group[1:]):
                        if (lower, upper) not in self.joined:  # beside a drawn line, an
                            c.edge(self.ids[lower], self.ids[upper], style="invis")  # invisible
                            # one made dot 2.43 fail to route both (tbptt, 2 layers, 3 steps)
            for under, line, over, fork in self.lay.forks:  # bottom to top; the lines from
                if self.graph.nodes[fork].step == key:  # the fork are turned (_lines_in_a_rank)
                    c.body.append("{rank=same; %s}" % "; ".join(
                        self.ids[i] for i in under + [line] + over + [fork]))
                    column = under + [line] + over
                    for lower, upper in zip(column, column[1:]):
                        if (lower, upper) not in self.joined:  # (a copy's line orders it)
                            c.edge(self.ids[lower], self.ids[upper], style="invis")
            for belt, op in self.lay.hanging:
                if self.graph.nodes[op].step == key:
                    c.body.append("{rank=same; %s; %s}" % (self.ids[belt], self.ids[op]))
            if key in self.lay.spacers:  # where the other steps' exits stand (layout._spacers)
                src, spacer = self.ids[self.lay.spacers[key]], f"spacer{r}_{s}"
                c.node(spacer, style.html(*style.exit_lines(0, None, roomy=self.roomy)),
                       **dict(style.node_shape("exit", None, False), style="invis"))
                c.body.append("{rank=same; %s; %s}" % (src, spacer))
                c.edge(src, spacer, style="invis")
            for stack in self.lay.stacked:
                if self.graph.nodes[stack[0]].step == key:
                    c.body.append("{rank=same; %s}" % "; ".join(self.ids[i] for i in stack))
                    for lower, upper in zip(stack, stack[1:]):  # a drawn line orders them
                        if not {(lower, upper), (upper, lower)} & self.joined:  # (turned)
                            c.edge(self.ids[lower], self.ids[upper], style="invis")

    def posts(self, g, key, r: int, s: int) -> None:
        """Where steps span columns (see _columns): an invisible post a rank before the first
        nodes of the step's body (its inputs share that rank) and one a rank after its last."""
        if key not in self.lay.columns:
            return
        first, last = self.lay.columns[key]
        before, after = _post("in", r, s), _post("out", r, s)
        g.node(before, **style.HIDDEN)
        g.node(after, **style.HIDDEN)
        for i in first:
            g.edge(before, self.ids[i], style="invis")
        for i in last:
            g.edge(self.ids[i], after, style="invis")


def render(graph: Graph, title: str | None = None, scale: tuple | None = None,
           caption: tuple | list = ()) -> graphviz.Digraph:
    """Records to a ``graphviz.Digraph`` (displays inline in Jupyter); ``scale``: the gradient
    colours' (lo, hi); ``caption``: lines said under the title."""
    lay = plan(graph)
    w = _Writer(graph, lay, scale)
    graph_attr, node_attr, edge_attr = style.graph_attrs(w.roomy)
    g = Picture("minigrad", graph_attr=graph_attr, node_attr=node_attr, edge_attr=edge_attr)
    if len(lay.rows) > 1:
        g.node(ANCHOR, **style.HIDDEN)  # the first node declared: see _row_order
    key = notation.legend_html(graph) if lay.members and graph.detail != "cell" else None
    lines = ([title] if title else []) + list(caption) + graph.notes
    # the colours' scale goes in the label too: as a node of its own it stood in the first
    # rank, 210 points wide, and pushed the first step's nodes apart (lstm-backward's by 138)
    colours = style.legend_html(w.scale, nan=w.any_nan)[1:-1] if w.scale is not None else None
    if lines or key or colours:  # every line left-justified (\l), like the title itself
        g.attr(label=notation.graph_label(lines, key, colours))
    loose = [graph.nodes[i] for i in lay.loose]
    learned = [n for n in loose if n.kind in ("param", "derived")]
    has_input = {e.dst for e in graph.edges}
    sources = [n for n in loose if n not in learned and n.id not in has_input]
    rest = [n for n in loose if n not in learned and n.id in has_input]
    if learned and graph.params == "once" and lay.members:
        g.attr(**style.FAN_OUT_GRAPH)
        with g.subgraph(name="cluster_parameters") as pg:
            pg.attr(**style.PARAM_CLUSTER)
            for n in learned:
                w.node(pg, n)
    else:
        for n in learned:
            w.node(g, n)
    for n in sources:
        w.node(g, n)
    w.rows(g)
    _scoped(w, g, rest)
    _row_order(g, w, lay)
    for a, b in lay.separators:  # into a stub from the layer below: placing, not pulling
        weight = {"weight": "0"} if graph.nodes[b].kind == "stub" else {}  # (a 3-layer
        g.edge(w.ids[a], w.ids[b], style="invis", **weight)  # depth-gated stack was upside down)
    _columns(g, lay)
    for ids in lay.aligned:
        with g.subgraph() as s:
            s.attr(rank="same")
            for i in ids:
                s.node(w.ids[i])
    for e in sorted(graph.edges, key=edge_order):
        w.edge(g, e)
    for lower, upper in lay.level:
        g.body.append("{rank=same; %s; %s}" % (w.ids[lower], w.ids[upper]))
        g.edge(w.ids[lower], w.ids[upper], style="invis")
    return g


def _row_order(g, w: _Writer, lay: Layout) -> None:
    """Rows stack bottom to top. dot orders the rows (clusters) in each rank by where their
    neighbours are (lines that do not place their ends, constraint=false, count too), and a row
    keeps along its length the place it got in its first rank. So a spine (_spine) ties every
    row's first nodes (or, below cell detail, the header that stands before them): there it is
    a row's only neighbour. In a staircase, whose layers start in different ranks, and in a
    bidirectional stack's columns (_columns), a spine at every later step holds them too, but
    not at a staircase's step that a detached state enters (truncated BPTT's next chunk): there
    the dashed lines into every row filled the gap between the rows, dot put the upper row's
    spine node above its row and the lower one's below theirs, and could not draw the invisible
    line between them across the rows (dot failed: "lost row2_1 row2_0 edge"); the earlier
    spines keep the order. The invisible anchor, the first node declared, is tied to the top
    row, and the rows are declared top row first: that is the order dot starts from. A model
    drawn after another (layout._offsets) starts in later ranks: its rows have spines of their
    own. Found by drawing every architecture, stacked and bidirectional, over one to six steps;
    tests/minigrad/viz checks the drawn order (test_viz_rendered.py: that dot draws it)."""
    if len(lay.row_heads) < 2:
        return
    g.edge(ANCHOR, w.ids[lay.row_heads[-1]], style="invis")
    for k, rows in enumerate(lay.stages):
        if len(rows) > 1:
            _stage_order(g, w, lay, rows, "row" if k == 0 else f"stage{k}row")


def _stage_order(g, w: _Writer, lay: Layout, rows: list, prefix: str) -> None:
    """The spines that keep ``rows`` (the indices of rows that start together) in order."""
    firsts = [[w.ids[i] for i in lay.starts[r]] for r in rows]
    if w.headers and w.graph.detail != "cell":
        firsts = [[w.headers[r]] for r in rows]
    _spine(g, prefix, firsts)
    steps = [lay.steps[lay.rows[r]] for r in rows]
    detached = {w.graph.nodes[e.dst].step for e in w.graph.edges if e.kind == "detach"}
    for t in range(1, min(len(keys) for keys in steps)):
        if lay.staircase:
            if not detached.intersection(keys[t] for keys in steps):
                _spine(g, f"{prefix}{t}_", [[w.ids[lay.members[keys[t]][0]]] for keys in steps])
        elif lay.columns:
            _spine(g, f"{prefix}{t}_", [[_post("in", r, t)] for r in rows])


def _columns(g, lay: Layout) -> None:
    """In a bidirectional stack below cell detail, step t of every row (of a stage: rows that
    start together) spans one column: the posts before step t of every row share a rank, and
    so do those after it; each row's post after step t comes before its post before step t + 1.
    Lined up by one node of each step instead, the reverse rows stood shifted right: their
    inputs enter from the right."""
    if not lay.columns:
        return
    for rows in lay.stages:
        count = min(len(lay.steps[lay.rows[r]]) for r in rows)
        for s in range(count):
            for side in ("in", "out"):
                with g.subgraph() as same:
                    same.attr(rank="same")
                    for r in rows:
                        same.node(_post(side, r, s))
            if s + 1 < count:
                for r in rows:
                    g.edge(_post("out", r, s), _post("in", r, s + 1), style="invis")


def _post(side: str, r: int, s: int) -> str:
    """The invisible post ``"in"`` (before) or ``"out"`` (after) step s of row r."""
    return f"{side}{r}_{s}"


def _spine(g, prefix: str, ties: list) -> None:
    """Invisible nodes, one per row, chained inside one rank (outside the clusters dot puts
    an edge's tail above its head), each tied to its row's nodes in ``ties``."""
    spine = [f"{prefix}{k}" for k in range(len(ties))]
    with g.subgraph() as s:
        s.attr(rank="same")
        for name in spine:
            s.node(name, **style.HIDDEN)
    for lower, upper in zip(spine, spine[1:]):
        g.edge(upper, lower, style="invis")
    for name, ids in zip(spine, ties):
        for i in ids:
            g.edge(name, i, style="invis")


def _scoped(w: _Writer, g, nodes: list) -> None:
    """Nodes outside the steps, in one cluster per scope path (flat when unscoped)."""
    by_scope = {}
    for n in nodes:
        by_scope.setdefault(n.scope, []).append(n)
    for i, (path, members) in enumerate(by_scope.items()):
        if not path:
            for n in members:
                w.node(g, n)
            continue
        with g.subgraph(name=f"cluster_scope{i}") as c:
            c.attr(label=".".join(path), **style.SCOPE_CLUSTER)
            for n in members:
                w.node(c, n)


def _lines_in_a_rank(lay, joined: set) -> tuple[set, set]:
    """The drawn lines inside one rank (a hanging op under its belt node, i_t * C̃_t under
    σ i_t, C's fork down to the ops it feeds), and those of them that run downwards. dot puts a line's tail below its head
    there, so those are written turned, in every row: a mirrored row's mirroring turns only
    the lines between ranks."""
    pairs = [(lower, upper) for stack in lay.stacked  # (not only neighbours: + down to σ o_t
             for k, lower in enumerate(stack) for upper in stack[k + 1:]]  # past tanh(C_t))
    upwards = {(lower, upper) for lower, upper in pairs if (lower, upper) in joined}
    downwards = set(lay.hanging) | {(fork, op) for under, _, over, fork in lay.forks
                                     for op in under + over if (fork, op) in joined} | {
        (upper, lower) for lower, upper in pairs if (upper, lower) in joined}
    return upwards | downwards, downwards
