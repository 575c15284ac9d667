"""The program a trace records: a flat list of array calls on numbered slots, the passes that
tidy it, and the code it is replayed by.

A slot holds one array: an input (an argument's array, a parameter's data, a gradient seed), a
constant (an array that was there before the trace: a mask, a cached scalar), or the result of
one :class:`Instruction`. The passes, each a function of its own:

* :func:`drop_dead`: instructions whose results nothing reads go (random draws stay: each one
  moves the generator, and the draws after it must stay the ones the eager run makes);
* :func:`hoist`: instructions that read only constants run once, and their results become
  constants (what does not change between calls is computed once);
* :func:`last_uses`: where each slot is read for the last time, so that the generated code lets
  go of its array right there (a name reused, or ``del``).

Before the code is generated, :class:`Replay` runs two more passes (on NumPy), which change
where arrays live, never which numbers are computed (the printed source, :mod:`.source`, shows
the program without them):

* :func:`contiguous_operands`: a transposed matrix that several large products take as their
  right operand is copied once to C order, which OpenBLAS reads faster;
* :func:`reuse_buffers`: an elementwise call whose operand is an array that dies there
  (nothing reads it, or a view of it, afterwards) writes its result into that array
  (``numpy.exp(t, out=t)``) instead of a new one: less memory to allocate and to bring into
  the cache, the same numbers.

:func:`generate` turns a program into the source of one Python function, one line per array
call, compiled once: replaying it costs the array calls and little else.
"""
from __future__ import annotations

import functools
import math
import operator
from types import MappingProxyType

from .. import backend

BINARY = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "@": operator.matmul,
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne, "&": operator.and_, "|": operator.or_,
    "^": operator.xor,
}
UNARY = {"-": operator.neg, "+": operator.pos, "~": operator.invert, "abs": operator.abs}
NO_KWARGS = MappingProxyType({})  # (shared by the instructions without keyword arguments)


class Slot:
    """A reference to slot ``n`` among an instruction's operands."""

    __slots__ = ("n",)

    def __init__(self, n: int):
        self.n = n

    def __repr__(self) -> str:
        return f"Slot({self.n})"


class Instruction:
    """One array call: ``kind`` is binary (``name`` the operator), unary, getitem, attribute
    (``a.T``), method (``a.reshape(...)``), call (``xp.<name>(...)``, ``function`` the real
    one), draw (a random draw) or setitem. ``out`` is the slot it makes. An instruction
    ``in_place`` writes into its first operand's array (``out[index] = g``, ``xp.add.at``):
    ``out`` names the written array, the same memory as the first operand.

    ``op`` (the op it came from, for comments), ``step`` (the time step, from the scope) and
    ``phase`` ("forward" or "backward") are filled in for printing. ``facts``: the result's
    (shape, dtype, strides) when it is an array (frozen at trace time, as every shape is).
    ``into``: the slot whose dead array a replayed elementwise call writes its result into (``out=``, see
    :func:`reuse_buffers`)."""

    __slots__ = ("kind", "name", "function", "args", "kwargs", "out", "in_place", "op", "step",
                 "phase", "node", "facts", "into", "_reads")

    def __init__(self, kind: str, name, function, args: tuple, kwargs: dict | None = None):
        self.kind = kind
        self.name = name
        self.function = function
        self.args = args
        self.kwargs = kwargs or NO_KWARGS
        self.out = None
        self.in_place = False
        self.op = self.step = self.phase = self.node = self.facts = self.into = self._reads = None

    def reads(self) -> list[int]:
        """The slots this instruction reads."""
        if self._reads is None:
            found: list[int] = []
            for a in self.args:  # (most operands are slots: the loop spares a call for each)
                if type(a) is Slot:
                    found.append(a.n)
                else:
                    _slots_in(a, found)
            if self.kwargs:
                _slots_in(tuple(self.kwargs.values()), found)
            self._reads = found
        return self._reads

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name or ''} -> {self.out}>"


def _slots_in(x, found: list) -> None:
    if type(x) is Slot:
        found.append(x.n)
    elif type(x) in (tuple, list):
        for a in x:
            _slots_in(a, found)
    elif type(x) is slice:
        _slots_in((x.start, x.stop, x.step), found)


# --- running one instruction on real arrays (hoisting) ------------------------------------
def resolve(x, values: dict):
    if type(x) is Slot:
        return values[x.n]
    if type(x) in (tuple, list):
        return type(x)(resolve(a, values) for a in x)
    return x


def execute(ins: Instruction, values: dict):
    """Run ``ins`` on the arrays in ``values`` (slot -> array); returns its result."""
    args = resolve(ins.args, values)
    kwargs = {k: resolve(v, values) for k, v in ins.kwargs.items()}
    kind = ins.kind
    if kind == "binary":
        return BINARY[ins.name](*args)
    if kind == "unary":
        return UNARY[ins.name](*args)
    if kind == "getitem":
        return args[0][args[1]]
    if kind == "attribute":
        return getattr(args[0], ins.name)
    if kind == "method":
        return getattr(args[0], ins.name)(*args[1:], **kwargs)
    if kind == "setitem":
        args[0][args[1]] = args[2]
        return args[0]
    result = ins.function(*args, **kwargs)  # call, draw
    return args[0] if ins.in_place else result


# --- passes --------------------------------------------------------------------------------
def drop_dead(instructions: list, needed) -> list:
    """The instructions that compute the slots in ``needed`` (and every random draw: dropping
    one would shift the draws after it), in their order."""
    needed = set(needed)
    kept = []
    for ins in reversed(instructions):
        if ins.out in needed or ins.kind == "draw":
            kept.append(ins)
            needed.update(ins.reads())
    kept.reverse()
    return kept


def hoist(instructions: list, consts: dict, keep=()) -> list:
    """Run once the instructions that read only constants; their results join ``consts`` (in
    place) and they leave the program. Not hoisted: random draws, writes into arrays and what
    they write into (the array must be new at every call), and the slots in ``keep`` (the
    program's outputs: each call returns new arrays)."""
    written = {ins.reads()[0] for ins in instructions if ins.in_place}
    keep = set(keep) | written
    left = []
    for ins in instructions:
        if (ins.kind != "draw" and not ins.in_place and ins.out not in keep
                and all(s in consts for s in ins.reads())):
            consts[ins.out] = execute(ins, consts)
        else:
            left.append(ins)
    return left


def last_uses(instructions: list, outputs) -> dict:
    """slot -> index of the instruction that reads it last (slots in ``outputs`` are read at
    the end, ``len(instructions)``)."""
    last = {}
    for i, ins in enumerate(instructions):
        for s in ins.reads():
            last[s] = i
    for s in outputs:
        last[s] = len(instructions)
    return last


# --- a pass for the replay: where results are written, the same numbers -----------------
REUSE_BYTES = 4096  # below this, out= costs more than a new array (NumPy caches small ones)
EXACT_UFUNCS = frozenset({"add", "subtract", "multiply", "divide", "maximum", "minimum"})
OPERATOR_UFUNCS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}


def _writable_ufunc(ins: Instruction):
    """The ufunc of an elementwise instruction that may write its result into an operand's
    array with the same bits: +, -, *, / (each element exactly rounded, whatever loop NumPy
    picks), maximum, minimum, and any one-operand ufunc (exp, tanh: written into its only
    operand, the loop reads and writes the same layout, as it would out of place)."""
    np = backend.numpy
    if ins.kwargs or ins.in_place:
        return None
    if ins.kind == "binary" and ins.name in OPERATOR_UFUNCS:
        return getattr(np, OPERATOR_UFUNCS[ins.name])
    if ins.kind == "unary" and ins.name == "-":
        return np.negative
    function = ins.function
    if (ins.kind == "call" and isinstance(function, np.ufunc) and function.nout == 1
            and (function.nin == 1 or function.__name__ in EXACT_UFUNCS)):
        return function
    return None


def _makes_new_array(ins: Instruction) -> bool:
    """Whether the result is always a new array, sharing memory with none of the operands (not
    one written into an existing array: in place, or ``out=``)."""
    if ins.in_place or ins.into is not None or ins.facts is None:
        return False
    if ins.kind in ("binary", "unary"):
        return True
    function = ins.function
    return ins.kind == "call" and (
        (isinstance(function, backend.numpy.ufunc) and function.nout == 1)
        or ins.name in ("matmul", "concatenate", "stack"))


def _aliases(instructions: list) -> dict:
    """slot -> the arrays made by the program (their slots) whose memory it may share: itself
    for a new array (:func:`_makes_new_array`); for anything else every such array its
    operands may share (it may be a view of what it reads)."""
    roots: dict = {}
    for ins in instructions:
        if _makes_new_array(ins):
            roots[ins.out] = (ins.out,)
        else:
            roots[ins.out] = tuple({r for s in ins.reads() for r in roots.get(s, ())})
    return roots


def reuse_buffers(instructions: list, outputs, min_bytes: int | None = None) -> list:
    """Elementwise calls write into an operand's array that dies there (``out=``), when it
    has the result's shape, dtype and layout (strides: a sum after it adds in the same order)
    and at least ``min_bytes``.

    Which arrays may be written: those the program made itself (:func:`_makes_new_array`),
    not the inputs, the constants or the ``outputs``; and only at their last use counting
    the views of them: any instruction that does not surely make a new array (indexing,
    ``reshape``, ``.T``, a write into an array) is taken to return a view of every array it
    reads, so an array is dead only when it and all such results of it are."""
    roots = _aliases(instructions)
    owned = {s for s, r in roots.items() if r == (s,)}
    end = {}  # array made by the program -> the last instruction that reads it or a view
    for s, i in last_uses(instructions, outputs).items():
        for r in roots.get(s, ()):
            end[r] = max(end.get(r, i), i)
    facts = {ins.out: ins.facts for ins in instructions}
    min_bytes = REUSE_BYTES if min_bytes is None else min_bytes
    result = []
    for i, ins in enumerate(instructions):
        ufunc = _writable_ufunc(ins) if ins.facts is not None else None
        shape, dtype, _ = ins.facts or ((), None, None)
        if ufunc is not None and dtype.itemsize * math.prod(shape) >= min_bytes:
            operands = [a.n for a in ins.args if type(a) is Slot]
            dead = [x for x in operands if x in owned and end.get(x) == i
                    and facts.get(x) == ins.facts
                    and x not in [r for s in operands if s != x for r in roots.get(s, ())]]
            if dead:
                ins = _in_place_of(ins, "call", ufunc.__name__, ufunc, ins.args,
                                   {"out": Slot(dead[0])})
                ins.into = dead[0]
        result.append(ins)
    return result


def _in_place_of(ins: Instruction, kind: str, name, function, args: tuple,
                 kwargs: dict | None = None) -> Instruction:
    """A new instruction that stands where ``ins`` stood: the same result slot, facts, and op,
    step and phase for printing."""
    new = Instruction(kind, name, function, args, kwargs)
    new.out, new.facts = ins.out, ins.facts
    new.op, new.step, new.phase = ins.op, ins.step, ins.phase
    return new


BLAS_PACKED = 200 ** 3  # m * n * k above which a product surely takes the packed path (below)


def _is_product(ins: Instruction) -> bool:
    return (ins.kind == "binary" and ins.name == "@") or (ins.kind == "call"
                                                          and ins.name == "matmul")


def _is_transpose(ins: Instruction) -> bool:
    return ((ins.kind == "attribute" and ins.name == "T")
            or (ins.kind == "method" and ins.name == "transpose" and len(ins.args) <= 2
                and not ins.kwargs and (len(ins.args) == 1 or ins.args[1] is None)))


@functools.cache
def numpy_uses_openblas() -> bool:
    """Whether NumPy multiplies matrices with OpenBLAS (its wheels' BLAS)."""
    try:
        blas = backend.numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return "openblas" in str(blas.get("name", "")).lower()
    except Exception:  # pragma: no cover - a NumPy too old to say, or another layout
        return False


def c_order(a):
    """``a`` copied to C order if it is a transposed matrix (2-D, F order only), else ``a``."""
    if a.ndim == 2 and a.flags.f_contiguous and not a.flags.c_contiguous:
        return backend.numpy.ascontiguousarray(a)
    return a


def contiguous_operands(instructions: list, new_slot) -> list:
    """A transposed matrix that two or more large matrix products take as their right operand
    (an LSTM's W_hh^T, read at every step) is copied once to C order (:func:`c_order`), just
    before the first of them, and they read the copy.

    OpenBLAS multiplies by a right operand in C order faster (about 25% on the LSTM step's
    (64, 256) x (256, 1024) products). The numbers are the same as long as the product takes
    OpenBLAS's packed path, which copies both operands into its own layout before its kernel
    sums: the layout they came in cannot change the sums. Small products (m * n * k up to
    100^3) take kernels that read the operands in place, one per layout, whose sums differ in
    the last bits: so only products with m * n * k above :data:`BLAS_PACKED` (with room to
    spare) and both m, n >= 2 (NumPy's matrix-vector path aside) read the copy. Only with
    OpenBLAS (:func:`numpy_uses_openblas`): another library's rules are not known here. Not
    for a matrix the program writes into (in place): the copy would miss the write."""
    made = {ins.out: ins for ins in instructions}
    readers = _large_products_of_transposes(instructions, made)
    copies = {s: None for s, products in readers.items() if len(products) >= 2}
    chosen = {id(ins) for s in copies for ins in readers[s]}
    if not copies:
        return instructions
    result = []
    for ins in instructions:
        if id(ins) in chosen:
            source = ins.args[1].n
            if copies[source] is None:  # the first product that reads it: copy it here
                shape, dtype, _ = made[source].facts
                copy = _in_place_of(ins, "call", "c_order", c_order, (ins.args[1],))
                copy.out, copy.op = new_slot(), "layout for BLAS"
                copy.facts = (shape, dtype, (shape[1] * dtype.itemsize, dtype.itemsize))
                copies[source] = copy.out
                result.append(copy)
            ins = _in_place_of(ins, ins.kind, ins.name, ins.function,
                               (ins.args[0], Slot(copies[source])), ins.kwargs)
        result.append(ins)
    return result


def _large_products_of_transposes(instructions: list, made: dict) -> dict:
    """slot of a transposed matrix -> the products above :data:`BLAS_PACKED` (m, n >= 2) that
    take it as their right operand, for a matrix the program never writes into."""
    roots = _aliases(instructions)
    written = {r for ins in instructions if ins.in_place for r in roots.get(ins.reads()[0], ())}
    readers: dict = {}
    for ins in instructions:
        if not _is_product(ins) or len(ins.args) != 2 or type(ins.args[1]) is not Slot:
            continue
        operand = made.get(ins.args[1].n)
        if (operand is None or not _is_transpose(operand) or operand.facts is None
                or written.intersection(roots.get(operand.out, ()))):
            continue
        if ins.facts is None or len(ins.facts[0]) != 2 or len(operand.facts[0]) != 2:
            continue
        (m, n), k = ins.facts[0], operand.facts[0][0]
        if m >= 2 and n >= 2 and m * n * k > BLAS_PACKED:
            readers.setdefault(operand.out, []).append(ins)
    return readers


# --- code -----------------------------------------------------------------------------------
class Names:
    """How slots and constants are spelled in generated code."""

    def __init__(self, consts: dict):
        self.of: dict[int, str] = {}
        self.consts = consts
        self.closure: dict[str, object] = {}  # name -> object the code reads (constants, functions)

    def slot(self, n: int) -> str:
        name = self.of.get(n)
        if name is None:  # a constant array
            name = self.of[n] = f"k{n}"
            self.closure[name] = self.consts[n]
        return name

    def constant(self, value) -> str:
        name = f"c{len(self.closure)}"
        self.closure[name] = value
        return name

    def function(self, ins: Instruction) -> str:
        name = "f_" + ins.name.replace(".", "_")
        if self.closure.get(name, ins.function) is not ins.function:
            name = self.constant(ins.function)
        self.closure[name] = ins.function
        return name


def render(x, names: Names, index: bool = False) -> str:
    """Python source for an operand: a slot's name, a literal, or a closure constant."""
    t = type(x)
    if t is Slot:
        return names.slot(x.n)
    if t is tuple:
        parts = [render(a, names, index) for a in x]
        if index:
            return ", ".join(parts) + ("," if len(parts) == 1 else "") if parts else "()"
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    if t is list:
        return "[" + ", ".join(render(a, names) for a in x) + "]"
    if t is slice:
        parts = [render(v, names) if v is not None else "" for v in (x.start, x.stop, x.step)]
        if index:
            return ":".join(parts[:2]) + (":" + parts[2] if parts[2] else "")
        return "slice(" + ", ".join(render(v, names) for v in (x.start, x.stop, x.step)) + ")"
    if x is Ellipsis:
        return "..."
    if x is None or t in (bool, int, str):
        return repr(x)
    if t is float and math.isfinite(x):
        return repr(x)
    if isinstance(x, backend.numpy.dtype):
        return repr(str(x))
    return names.constant(x)


def expression(ins: Instruction, names: Names, function_name=None) -> str:
    """The right-hand side of an instruction's line (the whole line for a write)."""
    function_name = function_name or names.function
    args = ins.args
    kind = ins.kind
    if kind == "binary":
        return f"{render(args[0], names)} {ins.name} {render(args[1], names)}"
    if kind == "unary":
        return f"abs({render(args[0], names)})" if ins.name == "abs" else \
            f"{ins.name}{render(args[0], names)}"
    if kind == "getitem":
        return f"{render(args[0], names)}[{render(args[1], names, index=True)}]"
    if kind == "attribute":
        return f"{render(args[0], names)}.{ins.name}"
    if kind == "setitem":
        return (f"{render(args[0], names)}[{render(args[1], names, index=True)}] = "
                f"{render(args[2], names)}")
    parts = [render(a, names) for a in (args[1:] if kind == "method" else args)]
    parts += [f"{k}={render(v, names)}" for k, v in ins.kwargs.items()]
    if kind == "method":
        return f"{render(args[0], names)}.{ins.name}({', '.join(parts)})"
    return f"{function_name(ins)}({', '.join(parts)})"


def generate(name: str, instructions: list, inputs: list, outputs: list, consts: dict,
             owned: int | None = None):
    """The source of a function ``name(*inputs)`` that runs ``instructions`` and returns the
    tuple of ``outputs``, and the closure values it reads. Each array is let go after its last
    use: its name is reused by the next result, or deleted.

    With ``owned`` (a number) the function is ``name(owned_list, *rest)``: the first ``owned``
    inputs come in a list that it empties, so that it holds the only references to them and lets go
    of each after its last use too (the backward program and the forward's saved arrays)."""
    names = Names(consts)
    for i, s in enumerate(inputs):
        names.of[s] = f"a{i}"
    owned_inputs = {f"a{i}" for i in range(owned or 0)}
    lines = body_lines(instructions, outputs, names, releasable=owned_inputs)
    for s in outputs:
        names.slot(s)
    results = ", ".join(names.of[s] for s in outputs)
    if owned is not None:
        if owned:
            taken = ", ".join(f"a{i}" for i in range(owned)) + ("," if owned == 1 else "")
            lines[:0] = [f"{taken} = owned", "owned.clear()"]
        parameters = ["owned"] + [f"a{i}" for i in range(owned, len(inputs))]
    else:
        parameters = [f"a{i}" for i in range(len(inputs))]
    body = "\n".join("        " + line for line in lines) or "        pass"
    source = (f"def _make({', '.join(names.closure) or ''}):\n"
              f"    def {name}({', '.join(parameters)}):\n"
              f"{body}\n"
              f"        return ({results}{',' if len(outputs) == 1 else ''})\n"
              f"    return {name}\n")
    return source, names.closure


def body_lines(instructions: list, outputs: list, names: "Names", releasable: set) -> list:
    """One line per instruction, each result in a register (``r0``, ``r1``...) that a dead array
    hands on, and ``del`` lines for what dies there: a dead register, or an input in
    ``releasable`` (the arrays the function owns)."""
    last = last_uses(instructions, outputs)
    free: list[str] = []   # register names whose arrays are dead
    count = 0
    lines = []
    for i, ins in enumerate(instructions):
        line = expression(ins, names)
        dying = [names.of.get(s, "") for s in dict.fromkeys(ins.reads()) if last.get(s) == i]
        written = ins.reads()[0] if ins.in_place else ins.into
        target = names.slot(written) if written is not None else None
        released = [a for a in dying if a in releasable and a != target]
        dying = [r for r in dying if r.startswith("r")]  # (inputs and constants stay)
        if target is not None:  # the written array keeps its name
            names.of[ins.out] = target
            dying = [r for r in dying if r != target]
            lines.append(line)
            free.extend(dying)
            if ins.out not in last and target.startswith("r"):  # (written, never read)
                dying.append(target)
                free.append(target)
        else:
            free.extend(dying)
            if free:
                register = free.pop()
            else:
                register, count = f"r{count}", count + 1
            names.of[ins.out] = register
            lines.append(f"{register} = {line}")
            dying = [r for r in dying if r != register]
            if ins.out not in last:  # made and never read (a draw kept for the generator)
                dying.append(register)
                free.append(register)
        lines += [f"del {r}" for r in dying + released]
    return lines


def compile_function(name: str, instructions: list, inputs: list, outputs: list, consts: dict,
                     owned: int | None = None):
    """:func:`generate`, compiled: a Python function of the inputs' arrays."""
    source, closure = generate(name, instructions, inputs, outputs, consts, owned)
    namespace: dict = {}
    exec(compile(source, f"<minigrad.trace {name}>", "exec"), namespace)
    function = namespace["_make"](*closure.values())
    function.source = source
    return function


class Replay:
    """A program as a function of its inputs, compiled (:func:`compile_function`) at its first
    run, after :func:`contiguous_operands` and :func:`reuse_buffers` (unless ``reuse=False``:
    on a GPU, where the library's memory pool makes a new array cheap and its BLAS has other
    rules). Compiling costs about as much as a few eager steps,
    so a trace's first call runs no program at all: the recording computed its forward values,
    and deriving the backward program computes its gradients (see ``Trace.derive``). Programs
    run from the second call on, when the trace is being reused."""

    def __init__(self, name: str, instructions: list, inputs: list, outputs: list, consts: dict,
                 owned: int | None = None, reuse: bool = True, new_slot=None):
        self.name = name
        self.instructions = instructions
        self.inputs = inputs
        self.outputs = outputs
        self.consts = consts
        self.owned = owned
        self.reuse = reuse
        self.new_slot = new_slot  # numbers the copies contiguous_operands adds (None: not run)
        self.function = None

    def replayed(self) -> list:
        """The instructions the compiled function runs."""
        if not self.reuse:
            return self.instructions
        instructions = self.instructions
        if self.new_slot is not None and numpy_uses_openblas():
            instructions = contiguous_operands(instructions, self.new_slot)
        return reuse_buffers(instructions, self.outputs)

    def compiled(self):
        if self.function is None:
            self.function = compile_function(self.name, self.replayed(), self.inputs,
                                             self.outputs, self.consts, self.owned)
        return self.function

    def __call__(self, *args):
        # An overflow to inf is not reported, as in the eager sigmoid, whose e^-x far below 0
        # is inf on purpose (the program has no room for the op's own errstate); anomaly mode,
        # run eagerly, finds an inf that should not be there.
        with backend.warnings_off("over"):
            return self.compiled()(*args)
