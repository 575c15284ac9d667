"""Names for a program's slots, and which op and time step each instruction came from.

Read from what the engine told the trace while it recorded (``minigrad.listen``): the nodes,
their role labels (``f_t``, ``C_t``) and scopes (``step=3``), and the gradients each backward
step received. A value labelled ``f_t`` at step 3 is ``f_3``; the gradient a node received for
it is ``df_3``. Arguments take the traced function's parameter names, parameters their module
names (``weight_hh_l0``); anything else is ``t<slot>``.
"""
from __future__ import annotations

import inspect
import keyword
import re

from .tracer import Tracer


def _identifier(text: str) -> str:
    text = text.replace("~", "tilde").replace(".", "_")
    text = re.sub(r"\W", "_", text)
    if not text or text[0].isdigit() or keyword.iskeyword(text):
        text = "v_" + text
    return text


def _step_of(node):
    scope = getattr(node, "scope", None)
    return scope.tags().get("step") if scope is not None else None


def _layer_tag(node) -> str:
    scope = getattr(node, "scope", None)
    if scope is None:
        return ""
    tags = scope.tags()
    tag = f"l{tags['layer']}" if tags.get("layer") else ""
    return tag + ("r" if tags.get("direction") == "reverse" else "")


class Namer:
    """Annotates the instructions (``op``, ``step``, ``phase``) and names the slots."""

    def __init__(self, fn, recorder, watcher, traced_args, parameters, outputs, seeds, modules):
        self.names: dict[int, str] = {}
        taken: set = set()

        def name(slot, text, force=False):
            if slot is None or (slot in self.names and not force):
                return
            text = _identifier(text)
            base, k = text, 2
            while text in taken:
                text, k = f"{base}_{k}", k + 1
            taken.add(text)
            self.names[slot] = text

        instructions = recorder.instructions
        # arguments and parameters
        try:
            arg_names = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            arg_names = []
        single = len(arg_names) == len(traced_args)
        for k, t in enumerate(traced_args):
            name(t.data.slot, arg_names[k] if single else f"x{k}")
        param_names = {}
        for m in modules:
            for pname, p in m.named_parameters():
                param_names.setdefault(id(p), pname)
        for k, (p, slot) in enumerate(parameters):
            name(slot, param_names.get(id(p), f"p{k}"))
        # forward: the instructions between two nodes belong to the second
        start = 0
        forward_names = {}  # (id(node), output index) -> name
        for node, outs, end in watcher.forward_marks:
            step = _step_of(node)
            for ins in instructions[start:end]:
                ins.op, ins.step, ins.phase, ins.node = node.name, step, "forward", node
            for i, o in enumerate(outs):
                if not isinstance(o.data, Tracer):
                    continue
                role = node.role(i)
                suffix = f"_{step}" if step is not None else ""
                layer = _layer_tag(node)
                if role:
                    text = (role[:-2] if role.endswith("_t") else role) + (f"_{layer}" if layer else "") + suffix
                else:
                    text = node.name.lower() + (f"_{layer}" if layer else "") + suffix
                name(o.data.slot, text)
                forward_names[(id(node), i)] = self.names.get(o.data.slot)
            start = end
        for k, o in enumerate(outputs):
            name(o.data.slot, f"out{k}")
        for k, s in enumerate(seeds):
            name(s.data.slot, "d" + self.names.get(outputs[k].data.slot, f"out{k}"))
        # backward: after a node's backward ran come the sums of the gradients it sent
        sent: set = {s.data.slot for s in seeds}
        by_out = {ins.out: ins for ins in instructions}
        marks = watcher.backward_marks
        start = watcher.forward_end
        for node, grad_outputs, grad_inputs, end in marks:
            step = _step_of(node)
            for ins in instructions[start:end]:
                reads = ins.reads()
                if ins.kind == "binary" and ins.name == "+" and len(reads) == 2 and \
                        all(r in sent for r in reads):
                    ins.op, ins.step = "sum of gradients", step
                    sent.add(ins.out)
                else:
                    ins.op, ins.step = f"{node.name} backward", step
                ins.phase = "backward"
            for i, g in enumerate(grad_outputs):
                if isinstance(g, Tracer):
                    fname = forward_names.get((id(node), i))
                    if fname:
                        name(g.slot, "d" + fname)
                    made = by_out.get(g.slot)
                    if made is not None and made.op == "sum of gradients":
                        made.step = step
            for g in grad_inputs:
                if isinstance(g, Tracer):
                    sent.add(g.slot)
            start = end
        for ins in instructions[start:]:
            ins.phase = ins.phase or "backward"
            ins.op = ins.op or "sum of gradients"
        for ins in instructions[:watcher.forward_end]:
            ins.phase = "forward"

    def of(self, slot: int) -> str:
        return self.names.get(slot) or f"t{slot}"
