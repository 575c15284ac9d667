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



def _identifier(text: str) -> str:
    text = text.replace("~", "tilde").replace(".", "_")
    text = re.sub(r"\W", "_", text)
    if not text or text[0].isdigit() or keyword.iskeyword(text):
        text = "v_" + text
    return text


_STEPS: dict = {}


def _step_of(node):
    scope = getattr(node, "scope", None)
    if scope is None:
        return None
    found = _STEPS.get(scope)
    if found is None:
        found = _STEPS[scope] = (scope.tags().get("step"),)
    return found[0]


def _layer_tag(node) -> str:
    scope = getattr(node, "scope", None)
    if scope is None:
        return ""
    tags = scope.tags()
    tag = f"l{tags['layer']}" if tags.get("layer") else ""
    return tag + ("r" if tags.get("direction") == "reverse" else "")


class Namer:
    """Annotates the instructions (``op``, ``step``, ``phase``) and names the slots."""

    def __init__(self, fn, recorder, watcher, arg_slots, parameters, output_slots, seed_slots,
                 modules):
        self.names: dict[int, str] = {}
        taken: dict = {}  # name -> how many slots asked for it

        def name(slot, text):
            if slot is None or slot in self.names:
                return
            text = _identifier(text)
            count = taken.get(text, 0)
            taken[text] = count + 1
            if count:  # a second "tanh": "tanh__2"
                text = f"{text}__{count + 1}"
                taken[text] = 1
            self.names[slot] = text

        instructions = recorder.instructions
        # arguments and parameters
        try:
            arg_names = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            arg_names = []
        single = len(arg_names) == len(arg_slots)
        for k, slot in enumerate(arg_slots):
            name(slot, arg_names[k] if single else f"x{k}")
        param_names = {}
        for m in modules:
            for pname, p in m.named_parameters():
                param_names.setdefault(id(p), pname)
        for k, (p, slot) in enumerate(parameters):
            name(slot, param_names.get(id(p), f"p{k}"))
        # An unlabelled value that a labelled elementwise op reads is its pre-activation:
        # the sigmoid labelled f_t reads a_f_t. A transposed parameter is <name>_T.
        preferred = {}
        by_param = {id(p): self.names[slot] for p, slot in parameters if slot in self.names}
        for node, outs, _ in watcher.forward_marks:
            role = node.role(0)
            edge = node.next[0] if len(node.next) == 1 else None
            if role and type(edge) is tuple and node.n_outputs == 1:
                preferred[(id(edge[0]), edge[1])] = "a_" + role
            elif node.name == "Transpose" and edge is not None and id(edge) in by_param:
                preferred[(id(node), 0)] = by_param[id(edge)] + "_T"
        # forward: the instructions between two nodes belong to the second
        start = 0
        forward_names = {}  # (id(node), output index) -> name
        for node, outs, end in watcher.forward_marks:
            step = _step_of(node)
            for ins in instructions[start:end]:
                ins.op, ins.step, ins.phase, ins.node = node.name, step, "forward", node
            for i, slot in enumerate(outs):
                if slot is None:
                    continue
                role = node.role(i) or preferred.get((id(node), i))
                suffix = f"_{step}" if step is not None else ""
                layer = _layer_tag(node)
                if role:
                    text = (role[:-2] if role.endswith("_t") else role) + (f"_{layer}" if layer else "") + suffix
                else:
                    text = node.name.lower() + (f"_{layer}" if layer else "") + suffix
                name(slot, text)
                forward_names[(id(node), i)] = self.names.get(slot)
            start = end
        for k, slot in enumerate(output_slots):
            name(slot, f"out{k}")
        differentiable = [s for s in output_slots if s in seed_slots]
        for k, slot in enumerate(seed_slots.values()):
            name(slot, "d" + self.names.get(differentiable[k], f"out{k}"))
        # backward: after a node's backward ran come the sums of the gradients it sent
        sent: set = set(seed_slots.values())
        by_out = {ins.out: ins for ins in instructions}
        marks = watcher.backward_marks
        start = watcher.forward_end
        sender = None  # the step of the node whose backward ran last: its gradients are summed
        for node, grad_outputs, grad_inputs, end in marks:
            step = _step_of(node)
            for ins in instructions[start:end]:
                reads = ins.reads()
                if ins.kind == "binary" and ins.name == "+" and len(reads) == 2 and \
                        all(r in sent for r in reads):
                    ins.op, ins.step = "sum of gradients", sender
                    sent.add(ins.out)
                else:
                    ins.op, ins.step = f"{node.name} backward", step
                ins.phase = "backward"
            for i, g in enumerate(grad_outputs):
                if g is not None:
                    fname = forward_names.get((id(node), i))
                    if fname:
                        name(g, "d" + fname)
                    made = by_out.get(g)
                    if made is not None and made.op == "sum of gradients":
                        made.step = step
            sent.update(g for g in grad_inputs if g is not None)
            start, sender = end, step
        for ins in instructions[start:]:
            ins.phase = ins.phase or "backward"
            ins.op = ins.op or "sum of gradients"
            ins.step = sender
        for ins in instructions[:watcher.forward_end]:
            ins.phase = "forward"

    def name_gradient(self, slot: int, input_slot: int) -> None:
        """Name an input's gradient d<input> (unless the backward walk named it already)."""
        if slot not in self.names and input_slot in self.names:
            self.names[slot] = "d" + self.names[input_slot]

    def of(self, slot: int) -> str:
        return self.names.get(slot) or f"t{slot}"
