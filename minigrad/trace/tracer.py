"""Recording array calls: stand-ins for arrays, and the recorder that writes down what is done
with them.

While ``minigrad.trace`` records, every Tensor of the traced function holds a :class:`Tracer`
instead of an array. A tracer wraps the real array it stands for (so the recording run computes
real numbers, and shapes and dtypes are NumPy's own) and a slot number. Each operator, array
method, indexing, ``xp.<function>`` call (``backend.get_array_module`` gives ops a
:class:`RecordingModule` for a tracer) and NumPy function or ufunc applied to a tracer (NumPy's
``__array_function__`` and ``__array_ufunc__`` protocols) computes its real result and appends
one :class:`~minigrad.trace.program.Instruction` to the recorder: the program.

Reading a value (``float(t)``, ``bool(t)``, ``t.item()``, ``t.numpy()``) would freeze it into the
program, so it raises :class:`TraceError` instead.
"""
from __future__ import annotations

import sys

from .. import backend
from .program import BINARY, UNARY, Instruction, Slot


class TraceError(RuntimeError):
    """Something a traced function does cannot be recorded as array calls (see docs/trace.md)."""


ACTIVE = None  # the Recorder of the trace being made (one at a time)

UFUNC_OPERATORS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**",
                   "matmul": "@", "less": "<", "less_equal": "<=", "greater": ">",
                   "greater_equal": ">=", "equal": "==", "not_equal": "!="}
CREATION = frozenset({"zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
                      "full_like", "arange", "eye", "identity", "linspace"})
READS = {  # what reading a value was called, by the function that did it (see _reading)
    "item": "tensor.item()", "__float__": "float(tensor)", "__int__": "int(tensor)",
    "__bool__": "bool(tensor) (an `if`, `while`, `and` or `or` on a tensor)",
    "numpy": "tensor.numpy()", "tolist": "tensor.tolist()", "__repr__": "printing a tensor",
    "__index__": "using a tensor as an index or a size",
}


class Tracer:
    """Stands for one array while a function is traced: ``value`` is the real array, ``slot``
    its number in the program."""

    __slots__ = ("value", "slot", "recorder")
    __hash__ = object.__hash__
    __array_priority__ = 10_000

    def __init__(self, value, slot: int, recorder: "Recorder"):
        self.value = value
        self.slot = slot
        self.recorder = recorder

    # --- facts: shapes and dtypes are frozen at trace time, so reading them is fine ----------
    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    itemsize = property(lambda self: self.value.itemsize)

    def __len__(self) -> int:
        return len(self.value)

    def __repr__(self) -> str:
        return f"<traced array {self.slot}: shape {self.shape}, dtype {self.dtype}>"

    # --- reading a value: refused ---------------------------------------------------------
    def _read(self, *args, **kwargs):
        raise _reading(self)

    item = tolist = __bool__ = __float__ = __int__ = __index__ = __complex__ = _read

    def __array__(self, *args, **kwargs):
        raise _reading(self, "converting it to a NumPy array (numpy.asarray, .numpy(), printing)")

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # --- arithmetic: each operator records one instruction ----------------------------------
    def __neg__(self):
        return self.recorder.unary("-", self)

    def __pos__(self):
        return self.recorder.unary("+", self)

    def __invert__(self):
        return self.recorder.unary("~", self)

    def __abs__(self):
        return self.recorder.unary("abs", self)

    def __getitem__(self, index):
        return self.recorder.getitem(self, index)

    def __setitem__(self, index, value):
        self.recorder.setitem(self, index, value)

    @property
    def T(self):
        return self.recorder.attribute(self, "T")

    # the methods ops call most, spelled out (any other goes through __getattr__)
    def reshape(self, *args, **kwargs):
        return self.recorder.method(self, "reshape", args, kwargs)

    def transpose(self, *args, **kwargs):
        return self.recorder.method(self, "transpose", args, kwargs)

    def sum(self, *args, **kwargs):
        return self.recorder.method(self, "sum", args, kwargs)

    def astype(self, *args, **kwargs):
        return self.recorder.method(self, "astype", args, kwargs)

    def __getattr__(self, name: str):
        """Any other array method (``reshape``, ``sum``, ``astype``...) records its call."""
        if name.startswith("__"):  # (__array_interface__ would hand NumPy the values)
            raise AttributeError(name)
        attr = getattr(self.value, name)
        if callable(attr):
            return lambda *args, **kwargs: self.recorder.method(self, name, args, kwargs)
        if backend.is_array(attr):
            return self.recorder.attribute(self, name)
        return attr

    # --- NumPy's protocols: numpy.tanh(t), numpy.where(c, t, 0), real_array * t ------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if kwargs.get("out") is not None:
            raise TraceError(f"minigrad.trace: numpy.{ufunc.__name__}(..., out=...) writes into "
                             "an array; write the result to a new array instead")
        symbol = UFUNC_OPERATORS.get(ufunc.__name__)
        if symbol and method == "__call__" and len(inputs) == 2 and not kwargs:
            return self.recorder.binary(symbol, *inputs)  # real_array * t: the same ufunc call
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        real = getattr(self.recorder.module, ufunc.__name__, ufunc)
        real = real if method == "__call__" else getattr(real, method)
        return self.recorder.call(name, real, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        real = getattr(self.recorder.module, func.__name__, func)
        return self.recorder.call(func.__name__, real, args, kwargs)


def _binary(symbol: str, reflected: bool = False):
    if reflected:
        def method(self, other):
            return self.recorder.binary(symbol, other, self)
    else:
        def method(self, other):
            return self.recorder.binary(symbol, self, other)
    return method


_DUNDER = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "//": "floordiv", "%": "mod",
           "**": "pow", "@": "matmul", "&": "and", "|": "or", "^": "xor"}
for _symbol, _name in _DUNDER.items():
    setattr(Tracer, f"__{_name}__", _binary(_symbol))
    setattr(Tracer, f"__r{_name}__", _binary(_symbol, reflected=True))
    # x += y records x + y: the program has no in-place arithmetic (the result is the same)
    setattr(Tracer, f"__i{_name}__", _binary(_symbol))
_COMPARISONS = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}
for _symbol, _name in _COMPARISONS.items():
    setattr(Tracer, f"__{_name}__", _binary(_symbol))


def _reading(tracer, what: str | None = None) -> TraceError:
    """The error for reading a traced value, naming the call that did it (found on the stack:
    ``float(t)`` reaches the tracer through ``Tensor.__float__`` and ``Tensor.item``) and the
    line of code outside minigrad's engine that made it."""
    frame, found, where = sys._getframe(1), None, None
    while frame is not None:
        code = frame.f_code
        if code.co_name in READS and code.co_filename.endswith("tensor.py"):
            found = READS[code.co_name]
        elif where is None and not _in_engine(code.co_filename):
            where = f"{code.co_filename}, line {frame.f_lineno}"
        frame = frame.f_back
    what = found or what or "reading a value (an `if` on it, or a conversion to a number)"
    return TraceError(
        f"minigrad.trace: {what} reads the value of a traced tensor (shape {tracer.shape}, "
        f"dtype {tracer.dtype}) while the function is being traced"
        + (f", in {where}" if where else "") + ". A trace records array calls, not values: "
        "the value would be frozen into the program. Return the tensor from the traced function "
        "and read it after the call, compute with tensor ops instead (minigrad.where for an "
        "if), pass tensors whose values the function checks (targets, token ids) as constants "
        "it closes over, or call the function without trace (eagerly).")


def _in_engine(filename: str) -> bool:
    return "/minigrad/" in filename.replace("\\", "/")


class RecordingModule:
    """What ``backend.get_array_module`` gives ops for a tracer: ``xp.tanh(t)``,
    ``xp.zeros(shape)``, ``xp.add.at(out, index, g)`` record calls of the real module's
    functions. A call on no tracer returns its real result (a constant), except the functions
    that make new arrays (``zeros``, ``ones``...), which the program makes at every call."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name: str):
        attr = getattr(self._module, name)
        if callable(attr) and not isinstance(attr, type):
            attr = RecordedFunction(name, attr)
        setattr(self, name, attr)  # found once
        return attr


class RecordedFunction:
    """One function of the array module, recorded when it is called on a tracer."""

    __slots__ = ("name", "function")

    def __init__(self, name: str, function):
        self.name = name
        self.function = function

    def __call__(self, *args, **kwargs):
        if self.name in ("asarray", "array") and isinstance(args[0], Tracer):
            tracer = args[0]
            dtype = kwargs.get("dtype", args[1] if len(args) > 1 else None)
            return tracer if dtype is None or dtype == tracer.dtype else tracer.astype(dtype)
        if ACTIVE is None or not (self.name in CREATION or _has_tracer(args) or
                                  _has_tracer(tuple(kwargs.values()))):
            return self.function(*args, **kwargs)
        return ACTIVE.call(self.name, self.function, args, kwargs)

    def __getattr__(self, method: str):  # a ufunc's methods: xp.add.at, xp.add.reduce
        return RecordedFunction(f"{self.name}.{method}", getattr(self.function, method))


def _has_tracer(args) -> bool:
    for a in args:
        if isinstance(a, Tracer) or (type(a) in (tuple, list) and _has_tracer(a)):
            return True
    return False


def unwrap(x):
    """The real values inside ``x`` (a tracer, or tuples and lists holding some)."""
    if isinstance(x, Tracer):
        return x.value
    if type(x) in (tuple, list):
        return type(x)([unwrap(a) for a in x])
    return x


class Recorder:
    """Writes the program: slots (what each holds: an input, a constant or a computed array)
    and the instructions that compute them, in the order they ran."""

    def __init__(self, module, tracer_type):
        self.module = module
        self.array_type = module.ndarray
        self.tracer_type = tracer_type
        self.instructions: list[Instruction] = []
        self.slots = 0                   # how many slots there are
        self.refs: list[Slot] = []       # the operand for each slot (made once, shared)
        # Only the tracers hold the arrays the recording computes (as an eager run's tensors
        # do: a temporary goes when nothing uses it, and NumPy reuses its memory). While the
        # backward walk records, the arrays it reads of the slots below ``keep_below`` (the
        # forward pass's) are kept here by slot: the saved arrays a first call may need later.
        self.keep_below = 0
        self.kept: dict[int, object] = {}
        self.consts: dict[int, object] = {}
        self._const_slots: dict[int, int] = {}  # id(array) -> its slot
        self._kept: list = []            # the constant arrays, alive while their ids are used

    # --- slots ---------------------------------------------------------------------------
    def new_slot(self) -> int:
        n = self.slots
        self.slots = n + 1
        self.refs.append(Slot(n))
        return n

    def new_tracer(self, value) -> Tracer:
        return self.tracer_type(value, self.new_slot(), self)

    def const_slot(self, array) -> int:
        """The slot of a real array met as an operand (a parameter's data, a mask...)."""
        slot = self._const_slots.get(id(array))
        if slot is None:
            slot = self.new_tracer(array).slot
            self.consts[slot] = array
            self._const_slots[id(array)] = slot
            self._kept.append(array)
        return slot

    def ref(self, x):
        """An operand as the program holds it: tracers and arrays become slots."""
        if type(x) is self.tracer_type or isinstance(x, Tracer):
            if x.recorder is not self:
                raise TraceError("minigrad.trace: an array traced by another trace reached "
                                 "this one")
            n = x.slot
            if n < self.keep_below:  # (while the backward walk records: see __init__)
                self.kept[n] = x.value
            return self.refs[n]
        t = type(x)
        if t in (tuple, list):
            return t([self.ref(a) for a in x])
        if t is slice and any(isinstance(v, Tracer) for v in (x.start, x.stop, x.step)):
            raise _reading(next(v for v in (x.start, x.stop, x.step) if isinstance(v, Tracer)),
                           "slicing with a traced bound")
        if backend.is_array(x):
            return self.refs[self.const_slot(x)]
        return x

    def wrap(self, value, instruction: Instruction):
        """The tracer for an instruction's result (for a tuple of arrays, a tuple of tracers,
        each taken from it by one more instruction)."""
        if type(value) is self.array_type:  # (the common case first: this runs for every call)
            instruction.out = n = self.new_slot()
            instruction.facts = (value.shape, value.dtype, value.strides)
            self.instructions.append(instruction)
            return self.tracer_type(value, n, self)
        if type(value) is tuple:
            whole = self.new_tracer(value)
            instruction.out = whole.slot
            self.instructions.append(instruction)
            return tuple(self.getitem(whole, i) for i in range(len(value)))
        if not (backend.is_array(value) or isinstance(value, backend.numpy.generic)):
            return value  # a fact (a Python number, None): returned as it is
        instruction.out = slot = self.new_slot()
        self.instructions.append(instruction)
        return self.tracer_type(value, slot, self)

    # --- the calls ------------------------------------------------------------------------
    def binary(self, symbol: str, a, b):
        # (the most frequent call: a tracer of this recorder is read here without ref's checks,
        # which only a tracer of another recorder or a slot the backward walk keeps would need)
        tracer, keep_below = self.tracer_type, self.keep_below
        if type(a) is tracer and a.recorder is self and a.slot >= keep_below:
            value_a, ref_a = a.value, self.refs[a.slot]
        else:
            value_a, ref_a = unwrap(a), self.ref(a)
        if type(b) is tracer and b.recorder is self and b.slot >= keep_below:
            value_b, ref_b = b.value, self.refs[b.slot]
        else:
            value_b, ref_b = unwrap(b), self.ref(b)
        return self.wrap(BINARY[symbol](value_a, value_b),
                         Instruction("binary", symbol, None, (ref_a, ref_b)))

    def unary(self, symbol: str, a):
        value = UNARY[symbol](a.value)
        return self.wrap(value, Instruction("unary", symbol, None, (self.ref(a),)))

    def getitem(self, a, index):
        value = unwrap(a)[unwrap(index)]
        return self.wrap(value, Instruction("getitem", None, None, (self.ref(a), self.ref(index))))

    def attribute(self, a, name: str):
        return self.wrap(getattr(a.value, name),
                         Instruction("attribute", name, None, (self.ref(a),)))

    def method(self, a, name: str, args, kwargs):
        if name in READS or name in ("tobytes", "tofile", "dump"):
            raise _reading(a)
        value = getattr(a.value, name)(*unwrap(args), **unwrap_dict(kwargs))
        operands = (self.ref(a),) + self.ref(tuple(args))
        return self.wrap(value, Instruction("method", name, None, operands, self.ref_dict(kwargs)))

    def call(self, name: str, function, args, kwargs):
        if name.endswith(".at"):  # xp.add.at(out, index, g): adds into out, in place
            target = args[0]
            function(*unwrap(args), **unwrap_dict(kwargs))
            return self._in_place(Instruction("call", name, function, self.ref(tuple(args)),
                                              self.ref_dict(kwargs)), target)
        value = function(*unwrap(args), **unwrap_dict(kwargs))
        return self.wrap(value, Instruction("call", name, function, self.ref(tuple(args)),
                                            self.ref_dict(kwargs)))

    def setitem(self, a, index, value):
        a.value[unwrap(index)] = unwrap(value)
        self._in_place(Instruction("setitem", None, None, (self.ref(a), self.ref(index),
                                                           self.ref(value))), a)

    def _in_place(self, instruction: Instruction, target: Tracer) -> None:
        """An instruction that writes into ``target``'s array: it makes a new slot for the
        written array (the same memory, see ``Instruction.in_place``), and the tracer moves to
        it, so that later reads follow the write."""
        if not isinstance(target, Tracer):
            what = instruction.name or "an assignment"
            raise TraceError(f"minigrad.trace: {what} writes into an array made outside the "
                             "traced function; make it inside")
        instruction.in_place = True
        instruction.out = target.slot = self.new_slot()
        self.instructions.append(instruction)

    def draw(self, draw, args):
        """A random draw (``backend.random_*``): recorded, so every replay draws anew."""
        value = draw(*args)
        return self.wrap(value, Instruction("draw", draw.__name__, draw, self.ref(tuple(args))))

    def ref_dict(self, kwargs: dict) -> dict:
        return {k: self.ref(v) for k, v in kwargs.items()} if kwargs else {}


def unwrap_dict(kwargs: dict) -> dict:
    return {k: unwrap(v) for k, v in kwargs.items()} if kwargs else kwargs


def tracer_type_for(module, device: str):
    """The tracer class standing for ``module``'s arrays on ``device`` (one per module, so
    that caches keyed by array type, such as ``backend.scalar``'s, keep them apart)."""
    found = _TYPES.get(device)
    if found is None:
        found = type(f"Tracer_{device}", (Tracer,), {"__slots__": ()})
        backend.register_traced_type(found, RecordingModule(module), device)
        _TYPES[device] = found
    return found


_TYPES: dict = {}
