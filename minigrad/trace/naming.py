"""Names for a program's slots, and which op and time step each instruction came from.

Read from what the engine told the trace while it recorded (``minigrad.listen``): the nodes,
their role labels (``f_t``, ``C_t``) and scopes (``step=3``), and the gradients each backward
step received. A value labelled ``f_t`` at step 3 is ``f_3``; the gradient a node received for
it is ``df_3``. Arguments take the traced function's parameter names, parameters their module
names (``weight_hh_l0``); anything else is ``t<slot>``.
"""
from __future__ import annotations

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
    """Annotates the instructions (``op``, ``step``, ``phase``) and names the slots, first
    come first named: the inputs, then the forward pass, the outputs and their gradients, then
    the backward pass."""

    def __init__(self, arg_names, recorder, watcher, arg_slots, parameters, output_slots,
                 seed_slots, modules):
        self.names: dict[int, str] = {}
        self._taken: dict = {}  # name -> how many slots asked for it
        self.instructions = recorder.instructions
        self.watcher = watcher
        self._name_inputs(arg_names, arg_slots, parameters, modules)
        forward_names = self._name_forward(parameters)
        for k, slot in enumerate(output_slots):
            self.name(slot, f"out{k}")
        differentiable = [s for s in output_slots if s in seed_slots]
        for k, slot in enumerate(seed_slots.values()):
            self.name(slot, "d" + self.names.get(differentiable[k], f"out{k}"))
        self._name_backward(forward_names, set(seed_slots.values()))

    def name(self, slot, text: str) -> None:
        """Give ``slot`` the name ``text`` (made an identifier; a second "tanh" is "tanh__2"),
        unless it has one."""
        if slot is None or slot in self.names:
            return
        text = _identifier(text)
        count = self._taken.get(text, 0)
        self._taken[text] = count + 1
        if count:
            text = f"{text}__{count + 1}"
            self._taken[text] = 1
        self.names[slot] = text

    def _name_inputs(self, arg_names, arg_slots, parameters, modules) -> None:
        """Arguments by the names :func:`~minigrad.trace.traced.argument_names` gave them,
        parameters by their names in the modules the traced function reaches."""
        for slot, text in zip(arg_slots, arg_names):
            self.name(slot, text)
        param_names = {}
        for m in modules:
            for pname, p in m.named_parameters():
                param_names.setdefault(id(p), pname)
        for k, (p, slot) in enumerate(parameters):
            self.name(slot, param_names.get(id(p), f"p{k}"))

    def _preferred(self, parameters) -> dict:
        """Names for unlabelled values: one that a labelled elementwise op reads is its
        pre-activation (the sigmoid labelled f_t reads a_f_t); a transposed parameter is
        <name>_T. {(id(node), output index): name}"""
        preferred = {}
        by_param = {id(p): self.names[slot] for p, slot in parameters if slot in self.names}
        for node, _, _ in self.watcher.forward_marks:
            role = node.role(0)
            edge = node.next[0] if len(node.next) == 1 else None
            if role and type(edge) is tuple and node.n_outputs == 1:
                preferred[(id(edge[0]), edge[1])] = "a_" + role
            elif node.name == "Transpose" and edge is not None and id(edge) in by_param:
                preferred[(id(node), 0)] = by_param[id(edge)] + "_T"
        return preferred

    def _name_forward(self, parameters) -> dict:
        """The instructions between two nodes belong to the second (``Function.apply`` runs
        forward, then tells the listeners); each node's outputs are named by their role label
        and step (``f_3``), or by the op (``tanh_3``). Returns {(id(node), index): name}."""
        preferred = self._preferred(parameters)
        forward_names = {}
        start = 0
        for node, outs, end in self.watcher.forward_marks:
            step = _step_of(node)
            for ins in self.instructions[start:end]:
                ins.op, ins.step, ins.node = node.name, step, node
            layer = _layer_tag(node)
            for i, slot in enumerate(outs):
                if slot is None:
                    continue
                role = node.role(i) or preferred.get((id(node), i))
                base = (role[:-2] if role.endswith("_t") else role) if role else node.name.lower()
                self.name(slot, base + (f"_{layer}" if layer else "") +
                          (f"_{step}" if step is not None else ""))
                forward_names[(id(node), i)] = self.names.get(slot)
            start = end
        for ins in self.instructions[:self.watcher.forward_end]:
            ins.phase = "forward"
        return forward_names

    def _name_backward(self, forward_names: dict, sent: set) -> None:
        """Between two backward steps come the sums of the gradients the first one sent (an
        addition of two gradients already sent), then the second one's own instructions. The
        gradient a node receives for an output named X is dX; a sum that makes one belongs to
        the step of the node that receives it, any other sum to the step that sent it."""
        by_out = {ins.out: ins for ins in self.instructions}
        start = self.watcher.forward_end
        sender = None  # the step of the node whose backward ran last
        for node, grad_outputs, grad_inputs, end in self.watcher.backward_marks:
            step = _step_of(node)
            for ins in self.instructions[start:end]:
                reads = ins.reads()
                if (ins.kind == "binary" and ins.name == "+" and len(reads) == 2
                        and all(r in sent for r in reads)):
                    ins.op, ins.step = "sum of gradients", sender
                    sent.add(ins.out)
                else:
                    ins.op, ins.step = f"{node.name} backward", step
                ins.phase = "backward"
            for i, g in enumerate(grad_outputs):
                if g is None:
                    continue
                if forward_names.get((id(node), i)):
                    self.name(g, "d" + forward_names[(id(node), i)])
                made = by_out.get(g)
                if made is not None and made.op == "sum of gradients":
                    made.step = step
            sent.update(g for g in grad_inputs if g is not None)
            start, sender = end, step
        for ins in self.instructions[start:]:
            ins.op, ins.step, ins.phase = "sum of gradients", sender, "backward"

    def name_gradient(self, slot: int, input_slot: int) -> None:
        """Name an input's gradient d<input> (unless the backward walk named it already)."""
        if slot not in self.names and input_slot in self.names:
            self.names[slot] = "d" + self.names[input_slot]

    def of(self, slot: int) -> str:
        return self.names.get(slot) or f"t{slot}"
