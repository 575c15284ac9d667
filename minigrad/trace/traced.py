"""``minigrad.trace(fn)``: record ``fn`` once, derive its backward once, replay both.

Recording (:func:`record`): ``fn`` runs on Tensors whose ``.data`` are tracers, with the
engine as it is: its ops compute on the tracers, which write down every array call. Then the
engine's own backward walk (``minigrad.grad``) runs over the graph that run made, seeded with
tracers too, so that the ops' backward formulas write down theirs: the backward program is
derived by the same formulas the eager engine runs, not by a second set of derivatives. The
parameters are the leaves that require grad which the graph reaches and ``fn`` was not given:
their arrays, met as operands, become inputs read from ``leaf.data`` at every call.

Replaying (:class:`TracedCall`): one call of the traced function is one node of the eager graph.
Its forward runs the forward program and keeps what the backward program reads; its backward
runs the backward program. Losses, optimizers, ``no_grad`` around it are as for any node.
"""
from __future__ import annotations

import gc
import inspect

from .. import backend
from ..autograd import grad as engine_grad, is_grad_enabled
from ..function import Function
from ..hooks import listen
from ..tensor import Tensor
from . import program as prog
from . import tracer as tracing
from .naming import Namer
from .source import program_source
from .tracer import Recorder, TraceError, tracer_type_for


def trace(fn):
    """Record ``fn`` (a function of Tensors, or of tuples, lists and dicts of them, numbers and
    strings) once for each kind of call and replay it afterwards; see docs/trace.md.

        step = minigrad.trace(lambda x: model(x)[0])
        loss = (step(x) * r).sum()
        loss.backward()        # the same gradients as without trace
        print(step.source())   # the forward and backward programs, as NumPy code
    """
    return Traced(fn)


class Traced:
    """A traced function: call it as ``fn``. Keeps one :class:`Trace` per cache key."""

    def __init__(self, fn):
        self.fn = fn
        self.traces: dict = {}
        self.latest: Trace | None = None
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__name__ = getattr(fn, "__name__", "traced")

    def __call__(self, *args, **kwargs):
        if tracing.ACTIVE is not None:  # called while another trace records: part of that one
            return self.fn(*args, **kwargs)
        tensors: list = []
        structure = flatten((args, kwargs), tensors)
        key = (structure, is_grad_enabled(), training_flags(self.fn, args + tuple(kwargs.values())))
        found = self.traces.get(key)
        if found is None or not found.parameters_unchanged():
            found = self.traces[key] = record(self.fn, args, kwargs, tensors, structure)
        self.latest = found
        return found.call(tensors)

    def source(self, step=None, inline: bool = True) -> str:
        """The latest trace's forward and backward programs as Python over NumPy, one line per
        array call (``inline=False``) or per named value (the default: a temporary used once
        is written where it is used); ``step``: only the lines of that time step. See
        :mod:`minigrad.trace.source`."""
        if self.latest is None:
            raise RuntimeError("source(): the traced function has not been called yet")
        return self.latest.source(step, inline)

    def constants(self) -> dict:
        """The arrays the printed source reads by name (``k12``), from the latest source()."""
        return dict(self.latest.source_constants) if self.latest is not None else {}


# --- arguments and results: nested tuples, lists and dicts of Tensors and constants ---------
def flatten(obj, tensors: list):
    """The structure of ``obj`` (hashable: part of the cache key); its Tensors go to
    ``tensors``. A Tensor counts by shape, dtype, device and requires_grad; anything else by
    value (it is frozen into the trace)."""
    if isinstance(obj, Tensor):
        tensors.append(obj)
        return ("tensor", obj.shape, obj.dtype, obj.device, obj.requires_grad)
    if type(obj) in (tuple, list):
        return (type(obj).__name__, tuple(flatten(x, tensors) for x in obj))
    if type(obj) is dict:
        return ("dict", tuple((k, flatten(v, tensors)) for k, v in obj.items()))
    try:
        hash(obj)
    except TypeError:
        raise TypeError(f"minigrad.trace: an argument or result of type {type(obj).__name__} is "
                        "neither a Tensor, nor a tuple, list or dict of them, nor a hashable "
                        "constant (a number, a string, None)") from None
    return ("value", type(obj), obj)


def unflatten(structure, tensors):
    """``obj`` back from :func:`flatten`'s structure, with Tensors taken from the iterator."""
    kind = structure[0]
    if kind == "tensor":
        return next(tensors)
    if kind in ("tuple", "list"):
        items = [unflatten(s, tensors) for s in structure[1]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {k: unflatten(s, tensors) for k, s in structure[1]}
    return structure[2]


def modules_of(fn, args) -> list:
    """The modules a traced function may run: ``fn`` itself, the object of a bound method, the
    values it closes over, and modules among the arguments (and all their submodules)."""
    found = []
    candidates = [fn, getattr(fn, "__self__", None), *args, *reachable_values(fn)]
    for obj in candidates:
        if hasattr(obj, "modules") and hasattr(obj, "training"):
            found += [m for m in obj.modules() if m not in found]
    return found


def reachable_values(fn) -> list:
    """What ``fn`` closes over, and the globals its code names."""
    values = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            values.append(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    code, scope = getattr(fn, "__code__", None), getattr(fn, "__globals__", {})
    if code is not None:
        values += [scope[n] for n in code.co_names if n in scope]
    return values


def training_flags(fn, args) -> tuple:
    return tuple(m.training for m in modules_of(fn, args))


# --- recording --------------------------------------------------------------------------------
class Watcher:
    """Listens to the engine while a trace records: which instructions each node's forward and
    backward made, what the nodes and gradients are (for names and steps), and the parameters
    that were met with their arrays still in place (``missed``: the trace is made again with
    them standing in too)."""

    def __init__(self, recorder: Recorder):
        self.recorder = recorder
        self.forward_marks: list = []   # (node, outputs, number of instructions so far)
        self.backward_marks: list = []  # (node, grad_outputs, grad_inputs, instructions so far)
        self.missed: list = []

    def on_node(self, node, inputs, outputs):
        self.forward_marks.append((node, _slots(o.data for o in outputs),
                                   len(self.recorder.instructions)))
        for x in inputs:
            if (isinstance(x, Tensor) and x.grad_fn is None and x._requires_grad
                    and not isinstance(x.data, tracing.Tracer)
                    and not any(x is m for m in self.missed)):
                self.missed.append(x)

    def on_backward(self, node, grad_outputs, grad_inputs):
        self.backward_marks.append((node, _slots(grad_outputs), _slots(grad_inputs),
                                    len(self.recorder.instructions)))


def _slots(arrays) -> tuple:
    return tuple(a.slot if isinstance(a, tracing.Tracer) else None for a in arrays)


def parameters_near(fn, args) -> list:
    """The tensors that require grad which ``fn`` can reach without being given them: the
    parameters of its modules (see :func:`modules_of`), and tensors it closes over or names as
    globals (alone, or in a tuple, list or dict). Those found later stand in at a second try."""
    found = []
    for m in modules_of(fn, args):
        found += list(m.parameters(recurse=False))
    for v in reachable_values(fn):
        items = v.values() if type(v) is dict else v if type(v) in (tuple, list) else (v,)
        found += [t for t in items
                  if isinstance(t, Tensor) and t.grad_fn is None and t.requires_grad]
    unique = {}
    for t in found:
        unique.setdefault(id(t), t)
    return list(unique.values())


def argument_names(fn, args, kwargs) -> list:
    """A name for each Tensor among the arguments: the traced function's parameter name (a
    module's ``forward``'s), with the position or key inside a tuple, list or dict (``hx_0``)."""
    try:
        params = list(inspect.signature(fn.forward if hasattr(fn, "forward") else fn).parameters)
    except (TypeError, ValueError):
        params = []
    names: list = []

    def walk(obj, name):
        if isinstance(obj, Tensor):
            names.append(name)
        elif type(obj) in (tuple, list):
            for i, x in enumerate(obj):
                walk(x, f"{name}_{i}")
        elif type(obj) is dict:
            for k, v in obj.items():
                walk(v, f"{name}_{k}")

    for i, a in enumerate(args):
        walk(a, params[i] if i < len(params) else f"x{i}")
    for k, v in kwargs.items():
        walk(v, k)
    return names


def record(fn, args, kwargs, tensors: list, structure) -> "Trace":
    """Run ``fn`` on tracers, then the engine's backward on the graph it made; returns the
    compiled :class:`Trace`."""
    names = argument_names(fn, args, kwargs)
    args = args + tuple(kwargs.values())  # (where parameters and modules may be found)
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise TraceError("minigrad.trace: the arguments are on different devices "
                         f"{sorted(devices)}")
    device = devices.pop() if devices else backend.get_default_device()
    candidates = [p for p in parameters_near(fn, args) if not any(p is t for t in tensors)]
    for _ in range(4):  # a parameter met unannounced makes one more try
        run = Recording(fn, tensors, structure, device, candidates)
        if not run.missed:
            break
        candidates = candidates + run.missed
    else:  # pragma: no cover - parameters appearing at every try
        raise TraceError("minigrad.trace: the parameters the function reads keep changing")
    for o in run.outputs:
        if not isinstance(o.data, tracing.Tracer):
            raise TraceError("minigrad.trace: an output was not computed by the traced function "
                             "(return tensors made from its arguments or parameters)")
    recorder, watcher = run.recorder, run.watcher
    read = {s for ins in recorder.instructions for s in ins.reads()}
    read |= {o.data.slot for o in run.outputs}
    used = [(p, slot) for p, slot in run.swapped if slot in read]  # the parameters it reads
    parameters = [p for p, _ in used]
    position = {id(t): i for i, t in enumerate(run.args)}
    position.update({id(p): len(run.args) + k for k, p in enumerate(parameters)})
    arg_slots = [t.data.slot for t in run.args]
    output_slots = [o.data.slot for o in run.outputs]
    seed_slots = {o.data.slot: s.data.slot for o, s in zip(run.differentiable, run.seeds)}
    modules = modules_of(fn, args)

    def namer():  # names are worked out when the source is asked for
        return Namer(names, recorder, watcher, arg_slots, used, output_slots, seed_slots, modules)

    trace = Trace(
        recorder=recorder, forward=recorder.instructions[:run.forward_end],
        backward=recorder.instructions[run.forward_end:],
        inputs=arg_slots + [slot for _, slot in used], outputs=output_slots,
        differentiable=[any(o is d for d in run.differentiable) for o in run.outputs],
        seeds=list(seed_slots.values()),
        grads=[None if g is None else recorder.ref(g.data).n for g in run.grads],
        grad_inputs=[position[id(t)] for t in run.targets],
        parameters=parameters, out_structure=run.out_structure, namer=namer, device=device)
    drawable(watcher, run.args, run.outputs)
    trace.recorded_outputs = run.outputs
    return trace


def drawable(watcher, traced_args, outputs) -> None:
    """Keep the recording's graph for ``minigrad.viz.draw``, as an eager graph after backward:
    what its nodes saved is let go, and the stand-ins it holds (node facts, the arguments, the
    outputs) become the arrays they stood for."""
    for node, _, _ in watcher.forward_marks:
        node.release()
        if isinstance(node.small_value, tracing.Tracer):
            node.small_value = node.small_value.value
        if node.constants:
            node.constants = {i: _real(v) for i, v in node.constants.items()}
        for name, value in getattr(node, "__dict__", {}).items():
            setattr(node, name, _real(value))
    for t in traced_args + outputs:  # (the slot: a stand-in is no array for the .data setter)
        t._data = _real(t._data)


def _real(value):
    if isinstance(value, tracing.Tracer):
        return value.value
    if type(value) in (tuple, list):
        return type(value)(_real(v) for v in value)
    return value


class Recording:
    """One recording run: ``fn`` on stand-in arguments, with the ``candidates`` (parameters)
    standing in too, then the engine's backward walk over the graph it made, seeded with
    stand-ins. ``missed`` lists the parameters met with their real arrays (then the run stopped:
    record again with them standing in)."""

    def __init__(self, fn, tensors, structure, device, candidates):
        xp = backend.array_module(device)
        self.recorder = recorder = Recorder(xp, tracer_type_for(xp, device))
        self.watcher = watcher = Watcher(recorder)
        self.args = [self._stand_in(recorder.new_tracer(t.data), t.requires_grad) for t in tensors]
        self.swapped = [(p, recorder.new_tracer(p.data)) for p in candidates]
        self.missed = []
        self.after_forward = rng = backend.rng_state()
        tracing.ACTIVE, backend.recording_draws = recorder, recorder.draw
        for p, stand_in in self.swapped:
            p._data = stand_in  # (the slot: the .data setter takes arrays only)
        collecting = gc.isenabled()
        gc.disable()  # (the recording makes many small objects and no cycles to collect)
        try:
            with listen(watcher):
                self._run(fn, structure, xp)
        finally:
            if collecting:
                gc.enable()
            for p, stand_in in self.swapped:
                p._data = stand_in.value
            tracing.ACTIVE, backend.recording_draws = None, None
            # the first call's draws are the recording's: the generator goes on from there
            backend.set_rng_state(rng if self.missed else self.after_forward)
        self.swapped = [(p, stand_in.slot) for p, stand_in in self.swapped]

    @staticmethod
    def _stand_in(tracer, requires_grad: bool) -> Tensor:
        t = Tensor._make(tracer)
        t._requires_grad = requires_grad
        return t

    def _run(self, fn, structure, xp) -> None:
        watcher = self.watcher
        try:
            args, kwargs = unflatten(structure, iter(self.args))
            result = fn(*args, **kwargs)
        except Exception:
            if watcher.missed:  # (a parameter not standing in can make ops fail)
                self.missed = watcher.missed
                return
            raise
        self.after_forward = backend.rng_state()  # (an error above leaves it as it was)
        self.outputs = []
        self.out_structure = flatten(result, self.outputs)
        self.forward_end = watcher.forward_end = len(self.recorder.instructions)
        if watcher.missed:
            self.missed = watcher.missed
            return
        self.differentiable = ([o for o in self.outputs if o.requires_grad]
                               if is_grad_enabled() else [])
        leaves = {id(x) for x in reached_leaves(self.differentiable)}
        self.targets = [t for t in self.args if t.requires_grad and id(t) in leaves]
        self.targets += [p for p, _ in self.swapped if id(p) in leaves]
        self.seeds = [self._stand_in(self.recorder.new_tracer(xp.ones(o.shape, dtype=o.dtype)),
                                     False) for o in self.differentiable]
        self.grads = ()
        if self.differentiable and self.targets:
            self.grads = engine_grad(self.differentiable, self.targets, grad_outputs=self.seeds,
                                     retain_graph=True, allow_unused=True)


def reached_leaves(outputs) -> list:
    """The leaves that require grad which the graph of ``outputs`` reaches, in the order a
    depth-first walk meets them."""
    leaves, seen, todo = [], set(), []
    for o in outputs:
        if o.grad_fn is None:
            if o.requires_grad and id(o) not in seen:
                seen.add(id(o))
                leaves.append(o)
        else:
            todo.append(o.grad_fn)
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in reversed(node.next):
            if type(edge) is tuple:
                todo.append(edge[0])
            elif edge is not None and id(edge) not in seen:
                seen.add(id(edge))
                leaves.append(edge)
    return leaves


# --- the compiled trace, and the node that replays it ----------------------------------------
class Trace:
    """One recorded call: the forward and backward programs, compiled, and what is needed to
    replay them (the parameters to re-read, the shape of the results)."""

    def __init__(self, recorder, forward, backward, inputs, outputs, differentiable, seeds, grads,
                 grad_inputs, parameters, out_structure, namer, device):
        self.recorder = recorder
        self.inputs = inputs
        self.outputs = outputs
        self.differentiable = differentiable
        self.seeds = seeds
        self.parameters = parameters
        self.facts = [(p.shape, p.dtype, p.device) for p in parameters]
        self.out_structure = out_structure
        self.namer = namer
        self._names = None
        self.source_constants: dict = {}
        self.device = device
        consts = dict(recorder.consts)
        self.consts = consts
        # the passes, in order: hoist what reads only constants, drop what nothing reads
        forward = prog.hoist(forward, consts, keep=outputs)
        used_grads = [g for g in grads if g is not None]
        backward = prog.drop_dead(backward, used_grads)
        backward = prog.hoist(backward, consts, keep=used_grads)
        made_forward = set(inputs) | {ins.out for ins in forward}
        residuals = []
        for s in [s for ins in backward for s in ins.reads()] + used_grads:
            if s in made_forward and s not in residuals and s not in consts:
                residuals.append(s)
        self.residuals = residuals
        self.forward_program = prog.drop_dead(forward, outputs + residuals)
        self.inference_program = prog.drop_dead(forward, outputs)
        self.backward_program = backward
        self.grads = grads
        self.grad_inputs = grad_inputs
        self.run_forward = prog.Replay(
            "forward", self.forward_program, inputs, outputs + residuals, consts)
        self.run_inference = prog.Replay(
            "forward", self.inference_program, inputs, outputs, consts)
        self.run_backward = prog.Replay(
            "backward", backward, residuals + seeds, used_grads, consts, owned=len(residuals),
            interpret_first=True)
        # the first call needs no replay: the recording run computed its outputs and the
        # arrays backward reads (the same calls on the same arrays give the same numbers)
        values = recorder.values
        self.first_values = [values[s] for s in outputs + residuals]
        recorder.values = None
        # The backward program lets go of each saved array after its last use, as the eager
        # walk frees each node's. If the graph is kept (retain_graph=True) and walked again,
        # the saved arrays are computed again from the inputs, unless random draws are among
        # them (a second draw would differ): then backward keeps them all to the end.
        self.consumes = not any(ins.kind == "draw" for ins in self.forward_program)
        self.n_outputs = len(outputs)
        self.shapes = [(v.shape, v.dtype) for v in self.first_values[:len(outputs)]]

    def parameters_unchanged(self) -> bool:
        """Whether every parameter still has the shape, dtype and device it was traced with
        (and still requires grad): otherwise the function is traced again."""
        for p, facts in zip(self.parameters, self.facts):
            if (p.shape, p.dtype, p.device) != facts or not p.requires_grad:
                return False
        return True

    def call(self, tensors: list):
        arrays = [t.data for t in tensors] + [p.data for p in self.parameters]
        if is_grad_enabled() and any(self.differentiable) and self.grad_inputs:
            inputs = tensors + self.parameters
            out = TracedCall.apply(*inputs, trace=self)
            outs = list(out) if type(out) is tuple else [out]
            outs = [o if d else Tensor._make(o.data) for o, d in zip(outs, self.differentiable)]
            for o, recorded in zip(outs, self.recorded_outputs):
                o.recording = recorded  # what minigrad.viz.draw draws for it
        else:
            found, self.first_values = self.first_values, None
            if found is None:
                found = self.run_inference(*arrays)
            outs = [Tensor._make(a) for a in found[:self.n_outputs]]
        return unflatten(self.out_structure, iter(outs))

    def names(self):
        """The :class:`~minigrad.trace.naming.Namer` of this trace (made at the first ask)."""
        if self._names is None:
            self._names = self.namer()
            for position, slot in zip(self.grad_inputs, self.grads):
                if slot is not None:
                    self._names.name_gradient(slot, self.inputs[position])
        return self._names

    def source(self, step=None, inline: bool = True) -> str:
        """The forward and backward programs as Python over NumPy (see
        :mod:`minigrad.trace.source`); ``step``: only the lines of that time step."""
        text, self.source_constants = program_source(self, step, inline)
        return text


class TracedCall(Function):
    """One call of a traced function, as one node: forward replays the recorded forward
    program, backward the derived backward program."""

    def forward(self, *arrays, trace: Trace):
        self.trace = trace
        self.arrays = arrays if trace.consumes else None
        found, trace.first_values = trace.first_values, None
        if found is None:
            found = trace.run_forward(*arrays)
        n = trace.n_outputs
        self.residuals = list(found[n:])
        return found[0] if n == 1 else tuple(found[:n])

    def backward(self, *grads):
        trace = self.trace
        if any(isinstance(g, Tensor) for g in grads):
            raise TraceError("minigrad.trace: a traced call cannot be differentiated twice "
                             "(create_graph=True); call the function without trace for that")
        seeds = []
        for g, (shape, dtype), d in zip(grads, trace.shapes, trace.differentiable):
            if d:
                seeds.append(g if g is not None else
                             backend.array_module(trace.device).zeros(shape, dtype=dtype))
        residuals = self.residuals
        if not trace.consumes:
            residuals = list(residuals)
        elif residuals is None:  # walked again (retain_graph=True): computed again
            residuals = list(trace.run_forward(*self.arrays)[trace.n_outputs:])
        self.residuals = None if trace.consumes else self.residuals
        found = iter(trace.run_backward(residuals, *seeds))
        result = [None] * len(self.next)
        for position, slot in zip(trace.grad_inputs, trace.grads):
            if slot is not None:
                result[position] = next(found)
        return tuple(result)

    def release(self) -> None:
        super().release()
        self.residuals = self.arrays = None
