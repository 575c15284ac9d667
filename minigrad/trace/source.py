"""A trace's programs printed as plain Python over NumPy, for people to read.

``traced.source()`` gives two functions, ``forward`` and ``backward``, with one line per array
call (or, by default, per named value: a temporary used once and named by nothing is written
into the line that uses it, so that ``dC_2 = dC_3 * f_3 + dtanh_2 * (1.0 - tanh_2 * tanh_2)``
reads as the equation it is). Each line is commented with the op it came from. Names come from
the role labels and scopes the model gave (see :mod:`minigrad.trace.naming`).

The printed code runs: ``forward(*inputs)`` returns ``(outputs, saved)`` and
``backward(saved, *output_gradients)`` the gradients of the inputs that need them, with the
same numbers as the trace (the constants it reads are in :meth:`Trace.constants`).
"""
from __future__ import annotations

import math

from .. import backend
from .program import Slot, render

# Python's precedence, higher binds tighter: what needs parentheses when inlined
PRECEDENCE = {"|": 7, "^": 8, "&": 9, "<": 6, "<=": 6, ">": 6, ">=": 6, "==": 6, "!=": 6,
              "+": 11, "-": 11, "*": 12, "/": 12, "//": 12, "%": 12, "@": 12, "**": 14}
UNARY_PRECEDENCE = 13
POSTFIX = 16
ATOM = 17


class ReadableNames:
    """How the printed source spells slots: the namer's names, inlined expressions, and
    constants (a number for a 0-d array, ``np.zeros(...)`` for zeros, else a named constant)."""

    def __init__(self, trace, namer, inlined: dict):
        self.trace = trace
        self.namer = namer
        self.inlined = inlined  # slot -> (expression, precedence)
        self.constants: dict = {}

    def slot(self, n: int) -> str:
        if n in self.inlined:
            return self.inlined[n][0]
        if n in self.trace.consts and n not in self.namer.names:
            return self.constant_array(n, self.trace.consts[n])
        return self.namer.of(n)

    def constant_array(self, n, value) -> str:
        array = backend.to_numpy(value)
        if array.ndim == 0 and array.dtype.kind == "f" and math.isfinite(float(array)):
            return repr(float(array))  # the same numbers: NumPy casts it to the array's dtype
        if array.ndim == 0 and array.dtype.kind in "iub":
            return repr(array.item())
        if array.size and not array.any():
            return f"np.zeros({array.shape}, dtype='{array.dtype}')"
        name = f"k{n}"
        self.constants[name] = value
        return name

    def constant(self, value) -> str:
        if isinstance(value, type):
            return value.__name__  # a dtype given as bool, float
        if isinstance(value, float):
            return f"float('{value}')"
        if isinstance(value, backend.numpy.generic):
            return f"np.{value.dtype}({value.item()!r})"
        name = f"k{len(self.constants)}"
        self.constants[name] = value
        return name

    def function(self, ins) -> str:
        if ins.kind == "draw":
            return f"backend.{ins.name}"
        return f"np.{ins.name}"


def _precedence(ins) -> int:
    if ins.kind == "binary":
        return PRECEDENCE[ins.name]
    if ins.kind == "unary":
        return ATOM if ins.name == "abs" else UNARY_PRECEDENCE
    return POSTFIX  # calls, methods, attributes, indexing


def _operand(x, names, need: int, strict: bool = False) -> str:
    """An operand of an operation binding with precedence ``need``: in parentheses when what
    is inlined there binds less tightly (or as tightly, on the side that matters)."""
    text = render(x, names)
    if type(x) is Slot and x.n in names.inlined:
        inner = names.inlined[x.n][1]
        if inner < need or (strict and inner == need):
            return f"({text})"
    return text


def expression(ins, names: ReadableNames) -> str:
    """The readable right-hand side of an instruction (parenthesised operands)."""
    a = ins.args
    if ins.kind == "binary":
        p = PRECEDENCE[ins.name]
        right_strict = ins.name != "**"
        return (f"{_operand(a[0], names, p, strict=ins.name == '**')} {ins.name} "
                f"{_operand(a[1], names, p, strict=right_strict)}")
    if ins.kind == "unary":
        if ins.name == "abs":
            return f"abs({render(a[0], names)})"
        return f"{ins.name}{_operand(a[0], names, UNARY_PRECEDENCE)}"
    if ins.kind in ("getitem", "setitem", "attribute", "method"):
        receiver = _operand(a[0], names, POSTFIX)
        if ins.kind == "getitem":
            return f"{receiver}[{render(a[1], names, index=True)}]"
        if ins.kind == "setitem":
            return f"{receiver}[{render(a[1], names, index=True)}] = {render(a[2], names)}"
        if ins.kind == "attribute":
            return f"{receiver}.{ins.name}"
        parts = [render(x, names) for x in a[1:]]
        parts += [f"{k}={render(v, names)}" for k, v in ins.kwargs.items()]
        return f"{receiver}.{ins.name}({', '.join(parts)})"
    parts = [render(x, names) for x in a]
    parts += [f"{k}={render(v, names)}" for k, v in ins.kwargs.items()]
    return f"{names.function(ins)}({', '.join(parts)})"


def _uses(instructions, outputs) -> dict:
    count: dict = {}
    for ins in instructions:
        for s in ins.reads():
            count[s] = count.get(s, 0) + 1
    for s in outputs:
        count[s] = count.get(s, 0) + 2
    return count


def lines_of(instructions, names: ReadableNames, outputs, inline: bool) -> list:
    """(step, line, comment) for each line of a program."""
    uses = _uses(instructions, outputs)
    written = {ins.reads()[0] for ins in instructions if ins.in_place}
    pending_ops: dict = {}  # inlined slot -> the ops it came from
    lines = []
    for ins in instructions:
        ops = [o for s in dict.fromkeys(ins.reads()) for o in pending_ops.pop(s, [])]
        ops.append(ins.op or ins.kind)
        text = expression(ins, names)
        inlinable = (inline and not ins.in_place and ins.kind != "draw"
                     and ins.out not in names.namer.names and uses.get(ins.out, 0) == 1
                     and ins.out not in written)
        if inlinable:
            names.inlined[ins.out] = (text, _precedence(ins))
            pending_ops[ins.out] = ops
            continue
        comment = ", ".join(dict.fromkeys(ops))
        if ins.in_place:
            lines.append((ins.step, text, comment))
            names.namer.names[ins.out] = names.slot(ins.reads()[0])
        else:
            lines.append((ins.step, f"{names.slot(ins.out)} = {text}", comment))
    return lines


def program_source(trace, step=None, inline: bool = True) -> str:
    namer = trace.names()
    names = ReadableNames(trace, namer, {})
    forward = lines_of(trace.forward_program, names, trace.outputs + trace.residuals, inline)
    backward_outputs = [g for g in trace.grads if g is not None]
    backward = lines_of(trace.backward_program, names, backward_outputs, inline)
    if step is not None:
        chosen = [(s, text, c) for s, text, c in forward if s == step]
        chosen_b = [(s, text, c) for s, text, c in backward if s == step]
        if not chosen and not chosen_b:
            steps = sorted({s for s, _, _ in forward + backward if s is not None})
            raise ValueError(f"source: no lines belong to step {step} (steps: {steps})")
        return (f"# forward, step {step}\n{_block(chosen, '')}\n"
                f"# backward, step {step}\n{_block(chosen_b, '')}\n"), names.constants
    spell = names.slot
    inputs = ", ".join(spell(s) for s in trace.inputs)
    saved = ", ".join(spell(s) for s in trace.residuals)
    outs = ", ".join(spell(s) for s in trace.outputs)
    seeds = ", ".join(spell(s) for s in trace.seeds)
    grads = ", ".join(spell(s) for s in backward_outputs)
    one = lambda items: "," if items and "," not in items else ""  # noqa: E731
    header = "import numpy as np\n"
    if any(ins.kind == "draw" for ins in trace.forward_program):
        header += "from minigrad import backend\n"
    return (f"{header}\n\n"
            f"def forward({inputs}):\n{_block(forward, '    ')}\n"
            f"    return ({outs}{one(outs)}), ({saved}{one(saved)})\n\n\n"
            f"def backward(saved, {seeds}):\n"
            + (f"    {saved}{one(saved)} = saved\n" if saved else "")
            + f"{_block(backward, '    ')}\n"
            f"    return ({grads}{one(grads)})\n"), names.constants


def _block(lines, indent: str) -> str:
    if not lines:
        return indent + "pass"
    width = min(max(len(text) for _, text, _ in lines), 60)
    return "\n".join(f"{indent}{text:<{width}}  # {comment}" for _, text, comment in lines)
