"""Where things go, before any styling: rows, steps, the order of nodes inside a step, the
belts, and which nodes line up across rows.

Graphviz's ``dot`` with ``rankdir=LR`` puts ranks left to right (time flows that way); inside
a rank it keeps, where crossings allow, the order in which nodes are declared. So:

* ``rows`` lists layer 0 first, each layer's forward direction before its reverse one:
  bottom to top (render._row_order makes dot keep that order);
* inside a step, inputs (``x_3`` stubs) come first and the state belt (C, or the GRU's h,
  a chain of pointwise ops carrying a state from the previous step to the next) comes last:
  the input enters low (right below its consumer, where it has only one) and the belt runs
  along the top (the GRU's x_t, read by two of its dots, enters high, and its h runs along
  the bottom);
* one node of step t in every row is put in the same rank, so step t of every layer lines up;
  below cell detail a one-directional stack is a staircase instead: step t of layer l + 1
  starts after layer l computed h_t, so no line runs back in time (a bidirectional stack stays
  lined up: its layer above reads both directions, and the reverse one runs right to left;
  so do rows of one step, which would otherwise sit side by side);
* below cell detail a bidirectional stack lines up whole steps instead (``columns``): one node
  each would leave the reverse rows shifted right, as their inputs enter from the right;
* invisible edges from the last nodes of step t to the first of step t+1 keep the steps of a
  row side by side (without them a step that runs long, such as the peephole LSTM's output
  gate reading C_t, overlaps the next one and dot stacks them diagonally);
* gates fed alike keep the essay's order through invisible edges inside their rank
  (``remincross=false``: dot's final reordering pass would undo it, and the rows' order); at
  gate detail the LSTM's products of its gates stand in that rank too (``_with_products``);
* a reverse-direction row is laid out mirrored (its edges run right to left);
* at gate detail tanh(C_t) hangs under the + that made C_t, in its rank (``hanging``); in a
  stack's staircase the stubs that bring a layer its input from the layer below stand under
  the dot where they meet h (at op detail, where C comes up too, the matmul), in its rank
  (``under``): every step of the layer alike; at op detail, where C_{t-1} forks into the ops
  that weigh it for the gates as it enters, the fork stands on top of them, in their rank,
  with the h line there (``forks``);
* each state's line is one dot ``group`` per row, from the initial state's entry in the first
  step to the node that leaves it in the last, through every step (render weighs its lines
  inside a step, so that it stays straight against dot's pull on each cluster's frame): so the
  cells of a row stand at one height.
"""
from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

from .records import LEARNED, Graph, role_base

ENTRY_KINDS = ("stub", "const", "ghost", "cut")
BELOW_KINDS = ("stub", "ghost")
# Roles from the bottom of a step to the top: the LSTM's output gate near h (bottom), the
# forget gate next to the C belt (top); the GRU's update gate low, next to its h, which dot
# draws along the bottom (x_t enters above it): placed high, z_t's line down to z * (h - n)
# crossed two others in every step.
ROLE_ORDER = ("o", "z", "r", "C~", "g", "n", "i", "f", "d")


@dataclass
class Layout:
    rows: list = field(default_factory=list)        # bottom to top
    steps: dict = field(default_factory=dict)       # row -> step keys, left to right
    members: dict = field(default_factory=dict)     # step key -> node ids, bottom to top
    belts: dict = field(default_factory=dict)       # node id -> line kept straight (dot's group)
    top: set = field(default_factory=set)           # belt nodes: drawn along the top
    entries: list = field(default_factory=list)     # (lower, upper): h's entry, C's fork
    level: list = field(default_factory=list)       # of those, the pairs put in one rank
    aligned: list = field(default_factory=list)     # groups of node ids to put in one rank
    row_heads: list = field(default_factory=list)   # per row (bottom to top): its first node
    starts: list = field(default_factory=list)      # per row (bottom to top): its first nodes
    stacked: list = field(default_factory=list)     # gates fed alike, bottom to top
    separators: list = field(default_factory=list)  # (last of step t, first of step t+1)
    columns: dict = field(default_factory=dict)     # step key -> its body's first, last nodes
    beside: dict = field(default_factory=dict)      # step key -> (entry, consumer) pairs
    spacers: dict = field(default_factory=dict)     # step key -> node an exit would leave
    mirrored: set = field(default_factory=set)      # rows drawn right to left
    staircase: bool = False                         # layers offset, not lined up (see above)
    hands_c: bool = False                           # a layer reads C_t of the one below
    layers: dict = field(default_factory=dict)      # group -> number of layers
    loose: list = field(default_factory=list)       # nodes outside every step
    band: list = field(default_factory=list)        # parameters drawn under the one row, taps
    titled: set = field(default_factory=set)        # step keys whose frame says "t = k"
    detours: dict = field(default_factory=dict)     # (src, dst) -> side of the column it climbs
    offsets: dict = field(default_factory=dict)     # group -> steps drawn before its step 0
    stages: list = field(default_factory=list)      # row indices by the time they start
    hanging: list = field(default_factory=list)     # (belt node, op): one rank, op below it
    under: list = field(default_factory=list)       # a layer's entries from below, then the
                                                    # belt node they go under: one rank
    forks: list = field(default_factory=list)       # (under h, h's node, over h, C's fork):
                                                    # one rank, bottom to top (see _forks)

    @property
    def stairs(self) -> bool:
        """Whether the picture is a stack's staircase (layer l + 1 a step after layer l)."""
        return self.staircase and max(self.layers.values(), default=1) > 1

    def time(self, key) -> int:
        """Where step ``key`` stands on the picture's time axis (see _offsets)."""
        return key.step + self.offsets.get(key.group, 0)


def edge_order(edge) -> int:
    """Sort key for declaring edges: dot bends the first of two parallel edges below the
    second, so the cell state's edges go last and C runs along the top between two cells."""
    return 1 if role_base(edge.role) in ("C", "c") else 0


def plan(graph: Graph) -> Layout:
    """Where every node of ``graph`` goes (see the module docstring)."""
    lay = Layout()
    group_order = []
    for node in graph.nodes.values():
        if node.step is None:
            lay.loose.append(node.id)
            continue
        key = node.step
        if key.group not in group_order:
            group_order.append(key.group)
        lay.members.setdefault(key, []).append(node.id)
    for key in sorted(lay.members):
        lay.steps.setdefault(key.row, []).append(key)
    lay.mirrored = {r for r in lay.steps if r.direction == "reverse"}
    lay.offsets = _offsets(graph, lay)
    models = _model_order(graph, group_order)
    lay.rows = sorted(lay.steps, key=lambda r: (models.index(r.group), r.call, r.layer,
                                                r.direction != "forward"))
    lay.stages = _stages(lay)
    lay.staircase = (graph.detail != "cell" and not lay.mirrored
                     and all(len(keys) > 1 for keys in lay.steps.values()))
    for group, _, layer, _ in lay.rows:
        lay.layers[group] = max(lay.layers.get(group, 0), layer + 1)
    lay.band = _band(graph)
    lay.loose = [i for i in lay.loose if i not in lay.band]
    lay.belts, lay.top, lay.entries = _belts(graph)
    lay.hands_c = _hands_c(graph)
    for key, ids in lay.members.items():
        lay.members[key] = _bottom_to_top(graph, ids, lay.top)
    lay.beside = _beside(graph)
    lay.spacers = _spacers(graph, lay)
    lay.stacked = _stacked(graph, lay)
    lay.aligned, lay.row_heads = _aligned(graph, lay)
    lay.starts = _starts(graph, lay)
    lay.titled = _titled(graph, lay)
    lay.detours = _detours(graph, lay)
    lay.hanging = _hanging(graph, lay) if graph.detail == "gate" else []
    lay.under = _under(graph, lay) if lay.stairs else []
    lay.forks = _forks(graph, lay) if graph.detail == "op" and lay.stairs else []
    forked = {fork for *_, fork in lay.forks}  # (in the rank of the ops it feeds instead)
    lay.level = [(h, c) for h, c in lay.entries if c not in forked]
    if lay.mirrored and graph.detail != "cell" and len(lay.rows) > 1:
        lay.columns, lay.aligned = _body_ends(graph, lay), []
    else:
        lay.separators = _separators(graph, lay)
    return lay


def _between_steps(graph: Graph):
    """(edge, step key of its source, step key of its destination) for the edges whose two
    ends are both inside steps."""
    for e in graph.edges:
        a, b = graph.nodes[e.src].step, graph.nodes[e.dst].step
        if a is not None and b is not None:
            yield e, a, b


def _offsets(graph: Graph, lay: Layout) -> dict:
    """Per model (group of rows), how many steps are drawn before its step 0: a model that
    starts from the state another one ended with (a decoder from an encoder's h_n) goes on after
    that one's last step, as a later call of one layer goes on along its row. Drawn in the same
    columns, the decoder's layer l stood next to the encoder's layer l, whose last step hands
    it its state, between the encoder's rows: dot orders the rows of a rank by their lines, and
    this one ran back across the whole picture. A reverse row's time runs the other way: models
    with one keep their columns."""
    last = defaultdict(int)
    for key in lay.members:
        last[key.group] = max(last[key.group], key.step)
    handed = defaultdict(set)  # (earlier model, later model) -> whether each line hands a state
    for _, a, b in _between_steps(graph):
        if a.group != b.group:
            forward = a.direction == b.direction == "forward"
            handed[a.group, b.group].add(forward and a.step == last[a.group] and b.step == 0)
    after = defaultdict(list)
    for (earlier, later), kinds in handed.items():
        if kinds == {True}:
            after[later].append(earlier)
    offsets = {}

    def offset(group: str, visiting: tuple = ()) -> int:
        if group not in offsets:
            earlier = [g for g in after[group] if g not in visiting]
            offsets[group] = max((offset(g, visiting + (group,)) + last[g] + 1 for g in earlier),
                                 default=0)
        return offsets[group]
    for group in last:
        offset(group)
    return offsets


def _model_order(graph: Graph, groups: list) -> list:
    """The models (groups of rows), each after the models whose steps feed its steps (an
    encoder before its decoder), otherwise in the order they were recorded."""
    feeders = defaultdict(set)
    for _, a, b in _between_steps(graph):
        if a.group != b.group:
            feeders[b.group].add(a.group)
    ordered = []

    def place(group: str, visiting: tuple = ()) -> None:
        if group in ordered or group in visiting:
            return
        for feeder in sorted(feeders[group], key=groups.index):
            place(feeder, visiting + (group,))
        ordered.append(group)
    for group in groups:
        place(group)
    return ordered


def _stages(lay: Layout) -> list:
    """The rows (their indices) grouped by the time their model starts, earliest first: render
    orders each stage's rows on its own."""
    stages = defaultdict(list)
    for r, row in enumerate(lay.rows):
        stages[lay.offsets[row.group]].append(r)
    return [stages[t] for t in sorted(stages)]


def _band(graph: Graph) -> list:
    """The taps on the lines of the parameters drawn once and the parameters that reach the steps
    only through them: drawn in a band under the steps, where each line to a step is short.
    arrange makes taps only in a picture of one row: in a stack or a bidirectional layer, a band
    in each row made dot 2.43 draw a lower layer's steps upside down (the cell state along the
    bottom) or fail, so there the parameters keep their cluster at the top left."""
    consumers = defaultdict(list)
    for e in graph.edges:
        consumers[e.src].append(e.dst)
    band = {nid for nid, node in graph.nodes.items() if node.kind == "tap" and node.step is None}
    for nid in reversed(list(graph.nodes)):  # a derived parameter (W^T) before its leaves
        node = graph.nodes[nid]
        if node.kind in LEARNED and consumers[nid] and all(c in band for c in consumers[nid]):
            band.add(nid)
    return [nid for nid in graph.nodes if nid in band]


def _titled(graph: Graph, lay: Layout) -> set:
    """The steps that say "t = k": at cell detail, where step t of every row stands in one
    column, only the top one of each stack's column (in the rows below, the line from the cell
    up to the next row rose through the label, centred over the cell); below it, every step."""
    if graph.detail != "cell":
        return set(lay.members)
    top = {}
    for row in lay.rows:  # bottom to top: the last row of a stack to have step t is its top
        for key in lay.steps[row]:
            top[key.group, key.step] = key
    return set(top.values())


def _detours(graph: Graph, lay: Layout) -> dict:
    """At cell detail, the lines up a column that pass another node of it on their way (in a
    bidirectional stack, h_t from the forward row up to where both directions meet passes the
    reverse row; the depth-gated cell's C_t passes a row), and the side each climbs on: "right"
    into a forward row, "left" into a reverse one. In every column the lines into the forward
    row above start below those into its reverse row and end below them: on one side, as dot
    drew them all, each crossed the others (50 times in a 5-step, 3-layer bidirectional
    depth-gated picture) and their labels lay on the crossings. In the first and last columns a
    row that one such line climbs into takes it outside (left of the first, right of the last),
    where no state line runs: it crossed the rows' h and C lines (a 2-layer bidirectional LSTM's
    3 steps: 8 crossings, now 5)."""
    if graph.detail != "cell":
        return {}
    place = {nid: (lay.rows.index(key.row), k)  # bottom to top: row, then place in the step
             for key, ids in lay.members.items() for k, nid in enumerate(ids)}
    sides, into = {}, defaultdict(list)
    for e, a, b in _between_steps(graph):
        if a.row == b.row or a.step != b.step:
            continue
        (row_a, k_a), (row_b, k_b) = place[e.src], place[e.dst]
        if row_b - row_a > 1 or k_a < len(lay.members[a]) - 1 or k_b > 0:
            sides[e.src, e.dst] = "left" if b.row in lay.mirrored else "right"
            into[b].append((e.src, e.dst))
    for key, pairs in into.items():  # the end columns: outside, where no state line runs
        steps = [k.step for k in lay.steps[key.row]]
        if len(pairs) == 1 and len(steps) > 1 and key.step in (min(steps), max(steps)):
            sides[pairs[0]] = "left" if key.step == min(steps) else "right"
    return sides


def _starts(graph: Graph, lay: Layout) -> list:
    """Per row, the nodes of its first step that nothing in the row feeds, as drawn (a reverse
    row's edges are turned around, except those between an entry and the node beside it). In a
    staircase the initial state's constants are left out where the row has other first nodes:
    render ties these to one place before layer 0, and a constant of a later layer, placed by
    nothing else, would be drawn there. The faint copy of a parameter that weighs the cell state
    where it forks into the gates (a peephole's w ⊙ C_{t-1}) is no first node either: so tied,
    such copies left their ops in the first step, whose cell stood off the others (29 points in
    a 3-layer peephole LSTM at op detail, now 0; 30 in the depth-gated stack's layer 0)."""
    beside = {pair for pairs in lay.beside.values() for pair in pairs}
    fed = set()
    for e, a, b in _between_steps(graph):
        if a.row != b.row or e.kind == "invisible":
            continue
        turned = a.row in lay.mirrored and (e.src, e.dst) not in beside
        fed.add(e.src if turned else e.dst)
    forks = {fork for _, fork in lay.entries}
    weighing = {e.dst for e in graph.edges if e.src in forks}
    copies = {copy for pairs in lay.beside.values() for copy, op in pairs
              if graph.nodes[copy].kind == "ghost" and op in weighing}
    starts = []
    for row in lay.rows:
        first = [i for i in lay.members[lay.steps[row][0]] if i not in fed]
        first = [i for i in first if i not in copies] or first
        if lay.staircase:
            first = [i for i in first if graph.nodes[i].kind != "const"] or first
        starts.append(first)
    return starts


def _separators(graph: Graph, lay: Layout) -> list:
    """(a, b) pairs: a ends step t of a row, b starts step t+1 (in drawing direction). In a row
    above another (a staircase's), the stubs of h_t from the layer below start its steps, and
    a step ends where its h_t leaves for the output: without them, nothing kept such a step
    clear of the one before, and a long step (the depth-gated LSTM's) ran under the next,
    which dot drew lower and lower, the row upside down."""
    ins, outs = defaultdict(int), defaultdict(int)
    fed = {e.dst for e in graph.edges
           if graph.nodes[e.dst].kind == "stub" and graph.nodes[e.src].step is not None
           and graph.nodes[e.src].step.row != graph.nodes[e.dst].step.row}
    upper = {graph.nodes[i].step.row for i in fed}  # rows fed by another row's steps
    for e in graph.edges:
        a, b = graph.nodes[e.src], graph.nodes[e.dst]
        if a.step is not None and a.step == b.step and e.kind != "invisible":
            if b.kind == "exit" and a.step.row in upper:
                continue
            ins[e.dst] += 1
            outs[e.src] += 1
    flat = BELOW_KINDS + ("exit",)
    pairs = []
    for row, keys in lay.steps.items():
        before, after = (ins, outs) if row in lay.mirrored else (outs, ins)
        for k0, k1 in zip(keys, keys[1:]):
            last = [i for i in lay.members[k0] if before[i] == 0 and graph.nodes[i].kind not in flat]
            first = [i for i in lay.members[k1] if after[i] == 0 and (graph.nodes[i].kind not in flat
                     or i in fed)]
            pairs += [(a, b) for a in last for b in first]
    return pairs


def _body_ends(graph: Graph, lay: Layout) -> dict:
    """Per step key, (first, last) of its body, inputs and exits aside: the nodes that nothing
    in the body feeds, and those that feed nothing in it, as drawn."""
    body = {nid for ids in lay.members.values() for nid in ids
            if graph.nodes[nid].kind not in ENTRY_KINDS + ("exit",)}
    ins, outs = defaultdict(int), defaultdict(int)
    for e in graph.edges:
        if (e.src in body and e.dst in body and e.kind != "invisible"
                and graph.nodes[e.src].step == graph.nodes[e.dst].step):
            ins[e.dst] += 1
            outs[e.src] += 1
    ends = {}
    for key, ids in lay.members.items():
        before, after = (ins, outs) if key.row in lay.mirrored else (outs, ins)
        kept = [i for i in ids if i in body] or ids
        ends[key] = ([i for i in kept if after[i] == 0], [i for i in kept if before[i] == 0])
    return ends


def _bottom_to_top(graph: Graph, ids: list, top: set) -> list:
    def rank(nid):
        node = graph.nodes[nid]
        if nid in top:  # an initial state that enters on the belt too
            return (3, 0)
        if node.kind in ENTRY_KINDS:
            return (0, 0)
        if node.kind == "exit":
            return (4, 0)
        if nid in top:
            return (3, 0)
        if node.kind == "junction":
            return (1, 0)
        base = role_base(node.role)
        middle = len(ROLE_ORDER) // 2  # nodes without a known role sit mid-way
        return (2, ROLE_ORDER.index(base) - middle if base in ROLE_ORDER else 0)
    return sorted(ids, key=rank)


def _under(graph: Graph, lay: Layout) -> list:
    """Per step of a layer fed by the layer below, the stubs that bring its h_t (and the
    depth-gated LSTM's C_t) up, bottom to top, then the node of the step's belt that reads one
    of them (the dot where h meets the input): all in that node's rank, the stubs under it, the
    one it reads right under it, below that the most read lowest. Left to dot, the depth-gated
    stack's first step of layer 1 drew them at its top left, its later steps at their bottom
    left, so its cells stood at different heights. C_t^(0) enters below h_t^(0) in every step,
    its line up crossing the two from h_t^(0) (of the orders tried, the one with the fewest
    crossings). At op detail only where C_t comes up too (see _forks): a plain LSTM stack's
    stub there, in the rank of the matmul and its parameter's copy, made dot 2.43 fail to route
    its line (libpath "triangulation failed")."""
    consumers = defaultdict(list)
    fed_from = {}
    for e in graph.edges:
        consumers[e.src].append(e.dst)
        src, dst = graph.nodes[e.src], graph.nodes[e.dst]
        if dst.kind == "stub" and src.step is not None and dst.step is not None \
                and src.step.row != dst.step.row:
            fed_from[e.dst] = e.src
    groups = []
    for key, ids in lay.members.items():
        stubs = [i for i in ids if i in fed_from]
        anchors = [c for i in stubs for c in consumers[i]
                   if c in lay.belts and graph.nodes[c].step == key]
        hands_c = any(role_base(graph.nodes[i].role) in ("C", "c") for i in stubs)
        if stubs and anchors and (graph.detail != "op" or hands_c):
            feeding = [i for i in stubs if anchors[0] in consumers[i]]
            rest = sorted((i for i in stubs if i not in feeding), key=lambda i: -len(consumers[i]))
            groups.append(rest + feeding + anchors[:1])
    return groups


def _forks(graph: Graph, lay: Layout) -> list:
    """(under, node, over, fork): in each step of a layer fed by the layer below (see _under)
    where the cell state forks into the ops that read it as it enters (the depth-gated LSTM's
    w ⊙ C_{t-1} for d, f and i; the fork is a copy dot, in the first step the initial state),
    those ops (each over its parameter's copy), the node of the h line in their rank (the
    matmul's split) and the fork, in one rank: the op whose sum also reads the layer below
    (the depth gate's) under h, near the stubs, the others over it, the fork on top. Left to
    dot, the ops over h stood above the C line in some steps and under it in others, and the
    cells 110 points apart; the copies, left free, strayed from their ops (3 crossings)."""
    consumers = defaultdict(list)
    for e in graph.edges:
        if e.kind != "param":
            consumers[e.src].append(e.dst)
    from_below = {c for group in lay.under for stub in group[:-1] for c in consumers[stub]}
    fed = {graph.nodes[group[-1]].step for group in lay.under}
    forks = []
    for h_entry, fork in lay.entries:
        key = graph.nodes[fork].step
        if key not in fed:
            continue
        line = [c for c in consumers[h_entry]
                if graph.nodes[c].step == key and lay.belts.get(c) == lay.belts.get(h_entry)]
        ops = [c for c in consumers[fork] if graph.nodes[c].step == key and c not in lay.belts]
        if len(line) == 1 and len(ops) > 1:
            copies = {op: [g for g, o in lay.beside.get(key, ()) if o == op
                           and graph.nodes[g].kind == "ghost"] for op in ops}
            under = [op for op in ops if from_below.intersection(consumers[op])]
            over = [op for op in ops if op not in under]
            forks.append(([i for op in under for i in copies[op] + [op]], line[0],
                          [i for op in over for i in copies[op] + [op]], fork))
    return forks


def _hanging(graph: Graph, lay: Layout) -> list:
    """(belt node, op): a pointwise op that reads only a node of the belt along the top, in its
    step, and is on no belt itself (the LSTM's tanh(C_t)), hangs right under it, in its rank, as
    the essay draws it: a rank of its own made every step wider. Not where the belt node feeds
    more in its step (the peephole LSTM's C_t, into σ o_t): there dot put the op above the belt
    in the last step (31 points)."""
    ins, inside = defaultdict(list), defaultdict(int)
    for e in graph.edges:
        if e.kind != "invisible":
            ins[e.dst].append(e.src)
            inside[e.src] += graph.nodes[e.src].step == graph.nodes[e.dst].step
    pairs = []
    for nid, node in graph.nodes.items():
        if (node.kind == "op" and node.step is not None and nid not in lay.belts
                and len(ins[nid]) == 1 and ins[nid][0] in lay.top
                and graph.nodes[ins[nid][0]].step == node.step
                and inside[ins[nid][0]] == 1):
            pairs.append((ins[nid][0], nid))
    return pairs


def _stacked(graph: Graph, lay: Layout) -> list:
    """Gates fed alike (the four LSTM layers after [h, x]) in the essay's order, forget gate on
    top, output gate at the bottom; listed bottom to top. At gate detail, in the staircase of a
    stack whose layers read C_t of the one below (the depth-gated LSTM's), also a gate alone
    under its product (_under_its_product) and the peephole LSTM's σ o_t with tanh(C_t)
    under the + that made C_t (_under_the_plus). (In other stacks, a peephole LSTM's, a
    GRU's, these rules and the depth-gated stack's look made the steps narrower but added
    crossings: not tried there yet.)"""
    groups = []
    fed = _fed_by(graph)
    staircase = graph.detail == "gate" and lay.stairs and lay.hands_c
    for key, ids in lay.members.items():
        alike = defaultdict(list)
        for i in ids:
            node = graph.nodes[i]
            base = role_base(node.role)
            if base in ROLE_ORDER and node.kind in ("gate", "op"):
                alike[fed(i)].append((ROLE_ORDER.index(base), i))
        if staircase:
            _join_the_stack(alike)
        stacks = [[i for _, i in sorted(g)] for g in alike.values() if len(g) > 1]
        linear = [i for i in ids if graph.nodes[i].kind == "linear"]
        if len(stacks) == 1 and len(linear) == 1 and len(stacks[0]) == 2:
            stacks[0].insert(1, linear[0])  # the GRU's W·h + b for n_t: between z_t and r_t
        if graph.detail == "gate":
            stacks = [_with_products(graph, lay, stack, ids) for stack in stacks]
        if (len(stacks) == 1 and graph.detail == "gate" and lay.stairs
                and stacks[0][-1] not in lay.top):
            stacks[0] += _initial_top(graph, lay, ids)
        if staircase:
            stacks += _under_its_product(graph, lay, ids, {i for st in stacks for i in st})
            stacks += _under_the_plus(graph, lay, ids)
        groups += stacks
    return groups


def _hands_c(graph: Graph) -> bool:
    """Whether a layer reads the cell state of the layer below in its step (the depth-gated
    LSTM's layer l + 1 reads C_t of layer l through a stub); not a decoder that starts from an
    encoder's final c_n."""
    def from_below(a, b) -> bool:
        return (a is not None and b is not None and (a.group, a.call) == (b.group, b.call)
                and b.layer == a.layer + 1)

    nodes = graph.nodes
    return any(nodes[e.dst].kind == "stub" and role_base(e.role) in ("C", "c")
               and from_below(nodes[e.src].step, nodes[e.dst].step) for e in graph.edges)


def _join_the_stack(alike: dict) -> None:
    """A gate fed by less than the gates of a stack, alone (the peephole LSTM's tanh C̃_t reads
    [h, x]; σ f_t and σ i_t read C_{t-1} too), joins their stack (``alike``: what the gates
    read -> (order, gate)). In a staircase the layers' steps interleave, so a rank saved in
    one layer is saved in both: in a rank of its own, after σ i_t, C̃_t made the depth-gated
    stack's steps a rank longer (with i_t * C̃_t, and its + after that)."""
    for reads, found in list(alike.items()):
        wider = [other for other in alike if len(alike[other]) > 1 and reads[0] < other[0]]
        if len(found) == 1 and len(wider) == 1:
            alike[wider[0]] += alike.pop(reads)


def _under_its_product(graph: Graph, lay: Layout, ids: list, stacked: set) -> list:
    """[gate, product]: a gate on no stack whose one product in its step feeds the belt along
    the top (the depth gate's d_t * C_t^(l-1)) stands right under that product, in its rank:
    in a rank of its own the product made every step of the depth-gated stack a rank longer."""
    _, outs = _drawn_lines(graph)
    pairs = []
    for nid in ids:
        if graph.nodes[nid].kind != "gate" or nid in stacked:
            continue
        products = [c for c in outs[nid] if graph.nodes[c].op == "Mul" and c not in stacked
                    and graph.nodes[c].step == graph.nodes[nid].step and outs[c] & lay.top]
        if len(products) == 1:
            pairs.append([nid, products[0]])
    return pairs


def _under_the_plus(graph: Graph, lay: Layout, ids: list) -> list:
    """[σ o_t, tanh(C_t), +]: where the + that made C_t feeds one gate in its step besides its
    tanh (the peephole LSTM's σ o_t, which reads the new C_t), both stand under it, in its
    rank: in ranks of their own they made every step of the depth-gated stack, whose layers
    are peephole LSTMs, a rank longer (see _hanging for one row)."""
    _, outs = _drawn_lines(graph)
    stacks = []
    for nid in ids:
        node = graph.nodes[nid]
        if nid not in lay.top or node.op != "Add" or role_base(node.role) not in ("C", "c"):
            continue
        mine = [c for c in outs[nid] if graph.nodes[c].step == node.step]
        gates = [c for c in mine if graph.nodes[c].kind == "gate"]
        tanhs = [c for c in mine if (graph.nodes[c].kind, graph.nodes[c].op) == ("op", "Tanh")]
        if len(gates) == 1 and len(tanhs) == 1:
            stacks.append([gates[0], tanhs[0], nid])
    return stacks


def _drawn_lines(graph: Graph) -> tuple:
    """(node id -> the nodes its drawn lines come from, node id -> the nodes they go to): the
    lines of data, not a parameter's nor an invisible one."""
    ins, outs = defaultdict(set), defaultdict(set)
    for e in graph.edges:
        if e.kind not in ("invisible", "param"):
            ins[e.dst].add(e.src)
            outs[e.src].add(e.dst)
    return ins, outs


def _with_products(graph: Graph, lay: Layout, stack: list, ids: list) -> list:
    """The stack of gates with the pointwise ops that read them in its rank too: an op of one
    gate alone (and constants) right under it (the coupled LSTM's 1 - f_t, its input gate),
    a product of two neighbours between them (the LSTM's i_t * C̃_t; the coupled LSTM's
    (1 - f_t) * C̃_t), the belt's product of the top gate (f_t * C_{t-1}) on top, where the
    belt runs. In a rank of their own they made an LSTM step 26 points wider, a coupled one
    62."""
    ins, outs = _drawn_lines(graph)
    gates = [i for i in stack if graph.nodes[i].kind == "gate"]
    ops = [i for i in ids if graph.nodes[i].kind == "op" and i not in stack]
    out, gated = list(stack), set(gates)  # gated: the gates and the ops of one gate
    for nid in ops:
        reads = {i for i in ins[nid] if graph.nodes[i].kind != "const"}
        if len(reads) == 1 and reads <= set(gates[1:]) and nid not in lay.belts:
            out.insert(out.index(next(iter(reads))), nid)
            gated.add(nid)
    for nid in ops:
        if nid in out:
            continue
        reads = ins[nid]
        between = [k for k in range(len(out) - 1)
                   if reads == {out[k], out[k + 1]} and reads <= gated]
        belt = reads - {stack[-1]}
        if between:
            out.insert(between[0] + 1, nid)
        elif (nid in lay.top and len(reads) == 2 and stack[-1] in reads and out[-1] == stack[-1]
              and (lay.stairs and lay.hands_c  # (C forked into the gates: peephole; but
                   or not any(outs[i] & set(stack) for i in belt))):  # the depth-gated
            out.append(nid)  # staircase, see _stacked)
    return out


def _initial_top(graph: Graph, lay: Layout, ids: list) -> list:
    """In a row's first step, the initial state of the belt along the top (C's ``0``), where it
    enters its belt alone: it goes on top of the gates' stack, in their rank (in a stack's
    staircase dot put it under σ f_0, and that step's frame stood 47 points higher)."""
    on_top = {lay.belts[i] for i in lay.top if i in lay.belts}
    levelled = {i for pair in lay.entries for i in pair}
    return [i for i in ids if graph.nodes[i].kind == "const" and lay.belts.get(i) in on_top
            and i not in levelled][:1]


def _fed_by(graph: Graph):
    """What a node reads, parameters aside, through the unlabelled ops that feed it alone (the
    concatenated form's own matmul per gate), and how many such ops lie in between."""
    ins, uses = defaultdict(set), defaultdict(int)
    for e in graph.edges:
        if graph.nodes[e.src].kind not in LEARNED + ("ghost",):
            ins[e.dst].add(e.src)
        uses[e.src] += 1

    def fed(nid: str) -> tuple:
        depth = 0
        while len(ins[nid]) == 1:
            (src,) = ins[nid]
            if uses[src] > 1 or graph.nodes[src].role:
                break
            nid, depth = src, depth + 1
        return frozenset(ins[nid]), depth
    return fed


def _beside(graph: Graph) -> dict:
    """Pairs of nodes put in one rank: an exit right above the node it leaves from; an entry
    (x_t stub, parameter copy) with one consumer in its step, right below it: x enters from
    below; at cell detail, the junction where h_t of both directions below meets, right below
    the cell of its step. A stub fed by the layer below stays one rank earlier: dot draws an
    edge between two nodes of one rank in different clusters as a detour."""
    consumers = defaultdict(list)
    fed = set()
    for e in graph.edges:
        consumers[e.src].append(e.dst)
        if e.kind != "param":
            fed.add(e.dst)
    pairs = defaultdict(list)
    for e in graph.edges:
        if graph.nodes[e.dst].kind == "exit":
            pairs[graph.nodes[e.dst].step].append((e.src, e.dst))
    for nid, node in graph.nodes.items():
        if node.kind == "junction" and graph.detail == "cell":  # both directions' h_t meet
            dst = next(d for d in consumers[nid] if graph.nodes[d].step == node.step)
            pairs[node.step].append((nid, dst))
        if (node.kind in BELOW_KINDS and node.step is not None and len(consumers[nid]) == 1
                and nid not in fed):
            dst = consumers[nid][0]
            if graph.nodes[dst].step == node.step:
                pairs[node.step].append((nid, dst))
    return pairs


def _spacers(graph: Graph, lay: Layout) -> dict:
    """Per step with no exit in a row whose other steps have one (the first chunk of a
    truncated backpropagation, whose outputs were not drawn), the node an exit would leave
    from: render puts an invisible exit there, so that the step stands as tall as the others
    (its cell stood 37 points lower)."""
    leaving = defaultdict(set)  # row -> (kind, op, state) of the nodes exits leave
    has_exit = set()
    for key, pairs in lay.beside.items():
        for src, dst in pairs:
            if graph.nodes[dst].kind == "exit":
                node = graph.nodes[src]
                leaving[key.row].add((node.kind, node.op, role_base(node.role)))
                has_exit.add(key)
    spacers = {}
    for key, ids in lay.members.items():
        if key in has_exit or not leaving[key.row]:
            continue
        for nid in ids:
            node = graph.nodes[nid]
            if (node.kind, node.op, role_base(node.role)) in leaving[key.row]:
                spacers[key] = nid
                break
    return spacers


def _belts(graph: Graph) -> tuple:
    """Nodes on a chain of pointwise ops that carries a state across a step (the belt), and the
    two ends of every edge that carries a state from one step to the next (kept level), and
    through the first and last steps (_belt_ends) and each step (_join_ends); the belt's nodes
    drawn along the top; and the pairs of nodes put in one rank (_level_entries)."""
    nodes = graph.nodes
    out_edges = defaultdict(list)
    for e in graph.edges:
        out_edges[e.src].append(e.dst)
    belts = {nid: f"{n.step.row}:cells" for nid, n in nodes.items() if n.kind == "cell"}
    top = set()
    entries, exits = {}, {}  # (step key, state) -> node id
    for e in graph.crossing_edges():
        if not e.role or nodes[e.src].kind == "cell":
            continue
        base = role_base(e.role)
        step = nodes[e.dst].step
        name = f"{step.row}:{base}"
        belts.setdefault(e.src, name)  # the state's line across the boundary runs straight
        belts.setdefault(e.dst, name)
        exits.setdefault((nodes[e.src].step, base), e.src)
        entries.setdefault((step, base), e.dst)
        path = _path_to_role(graph, e.dst, base, step, out_edges) or ()
        for nid in path:
            belts[nid] = name
        top.update(path)
        top.update([e.src] if path else [])
    _belt_ends(graph, belts, top, entries, exits, out_edges)
    _join_ends(graph, belts, entries, exits, out_edges)
    return belts, top, _level_entries(graph, entries)


def _level_entries(graph: Graph, entries: dict) -> list:
    """(lower, upper): where a state forks as it enters a step (the peephole LSTM's C into
    its gates), its fork stands in the rank of the other state's entry, above it, as dot
    puts it in every step but the first; there, with nothing to its left, the fork of the
    initial state left the rank free, and dot put x_0 above the matmul (73 points)."""
    per_step = defaultdict(dict)
    for (key, base), nid in entries.items():
        per_step[key][base] = nid
    pairs = []
    for states in per_step.values():
        for base, nid in states.items():
            node = graph.nodes[nid]
            forks = node.kind in ("const", "cut") or (node.kind, node.op) == ("junction", "copy")
            if forks and base in ("C", "c"):
                pairs += [(low, nid) for other, low in states.items() if other != base]
    return pairs


def _kinds_at(nodes: dict, ends: dict, top: set) -> dict:
    """(row, state) -> the (kind, op, on top) of the nodes ``ends`` names (a row's exits or
    entries) in the steps that have them."""
    found = defaultdict(set)
    for (key, base), nid in ends.items():
        found[key.row, base].add((nodes[nid].kind, nodes[nid].op, nid in top))
    return found


def _belt_ends(graph: Graph, belts: dict, top: set, entries: dict, exits: dict,
               out_edges: dict) -> None:
    """The belt in a row's first and last steps, where no line from another step marks it: in
    the last step the node that would send the state on (``h_2``), in the first the one that
    reads the initial state, and that state's entry (the ``0`` of ``h_{-1}``; where the state
    forks as it enters the other steps, the entry itself forks): without them the cells at
    either end of a row stood higher or lower than the others (rnn-gate's tanh h_2 by 34
    points)."""
    nodes = graph.nodes
    sent, read = _kinds_at(nodes, exits, top), _kinds_at(nodes, entries, top)
    initial = defaultdict(list)  # node -> the entries (an initial state) it reads
    for e in graph.edges:
        src, dst = nodes[e.src], nodes[e.dst]
        if src.kind in ("const", "cut") and src.step in (dst.step, None) and dst.step is not None:
            initial[e.dst].append(e.src)
    for nid, node in nodes.items():
        key = node.step
        if key is None or nid in belts:
            continue
        for (row, base), kinds in sent.items():
            if row != key.row or (key, base) in exits or role_base(node.role) != base:
                continue
            for kind, op, on_top in kinds:
                if (node.kind, node.op) == (kind, op):
                    exits[key, base] = nid
                    belts[nid] = f"{row}:{base}"
                    top.update([nid] if on_top else [])
        for (row, base), kinds in read.items():
            if row != key.row or (key, base) in entries:
                continue
            for kind, op, on_top in kinds:
                forks = (kind, op) == ("junction", "copy") and node.kind in ("const", "cut")
                if forks and len(out_edges[nid]) > 1:
                    entry = nid
                elif (node.kind, node.op) == (kind, op) and len(initial[nid]) == 1:
                    entry = nid
                    belts.setdefault(initial[nid][0], f"{row}:{base}")
                else:
                    continue
                entries[key, base] = entry
                belts[entry] = f"{row}:{base}"
                path = _path_to_role(graph, entry, base, key, out_edges) or ()
                for i in path:
                    belts[i] = f"{row}:{base}"
                top.update(path)
                top.update([entry] if on_top else [])
                break


def _join_ends(graph: Graph, belts: dict, entries: dict, exits: dict, out_edges: dict) -> None:
    """Where a state's line enters a step and leaves it with no belt between them (h enters an
    LSTM's step at the dot where it meets x and leaves from o_t * tanh(C_t)), the shortest
    path of drawn lines from entry to exit joins the belt (there, through σ o_t), so the line
    runs straight through the step, as the essay draws it."""
    nodes = graph.nodes
    for (key, base), entry in entries.items():
        exit_ = exits.get((key, base))
        if exit_ is None or exit_ == entry:
            continue
        paths, todo = {entry: [entry]}, deque([entry])
        while todo and exit_ not in paths:
            nid = todo.popleft()
            for nxt in out_edges[nid]:
                if nxt not in paths and nodes[nxt].step == key and nodes[nxt].kind != "exit":
                    paths[nxt] = paths[nid] + [nxt]
                    todo.append(nxt)
        name = belts[entry]
        path = paths.get(exit_, ())
        if all(belts.get(i, name) == name for i in path):  # through no other belt
            for i in path:
                belts[i] = name


def _path_to_role(graph: Graph, start: str, base: str, step, out_edges) -> list | None:
    nodes = graph.nodes
    paths = {start: [start]}
    todo = [start]
    while todo:
        nid = todo.pop(0)
        node = nodes[nid]
        if (nid != start and role_base(node.role) == base
                and node.kind in ("op", "junction")):
            return paths[nid]
        for nxt in out_edges[nid]:
            other = nodes[nxt]
            if nxt not in paths and other.step == step and other.kind in ("op", "junction"):
                paths[nxt] = paths[nid] + [nxt]
                todo.append(nxt)
    return None


def _aligned(graph: Graph, lay: Layout) -> tuple:
    """Groups of nodes that share a rank (a first node of step t in every row, or in a
    staircase every row of one layer); and each row's first node."""
    inside = defaultdict(int)
    outside = defaultdict(int)
    for e in graph.edges:
        a, b = graph.nodes[e.src], graph.nodes[e.dst]
        if a.step is not None and a.step == b.step and a.kind not in ENTRY_KINDS:
            inside[e.dst] += 1
            outside[e.src] += 1
    by_step = defaultdict(list)
    heads = {}
    for key in sorted(lay.members):
        ids = lay.members[key]
        mirrored = key.row in lay.mirrored
        ends = [i for i in ids if graph.nodes[i].kind not in ENTRY_KINDS
                and (outside[i] if mirrored else inside[i]) == 0] or ids
        time = lay.time(key)
        by_step[(time, key.layer) if lay.staircase else time].append(ends[0])
        heads.setdefault(key.row, ends[0])
    groups = [ids for _, ids in sorted(by_step.items()) if len(ids) > 1]
    return groups, [heads[r] for r in lay.rows]
