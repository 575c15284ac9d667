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

import functools
import gc
import inspect
from contextlib import contextmanager

from .. import backend
from ..autograd import grad as engine_grad, is_grad_enabled
from ..function import STATE, Edge, Function
from ..scope import current_scope
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
        from ..viz.recorder import Recorder as Facts  # (here: minigrad.viz imports the engine)
        self.recorder = recorder
        self.facts = Facts()  # what a drawing of the recording needs (minigrad.viz.facts_of)
        self.forward_marks: list = []   # (node, outputs, number of instructions so far)
        self.scopes: dict = {}          # id(node) -> the scope it was recorded in
        self.backward_marks: list = []  # (node, grad_outputs, grad_inputs, instructions so far)
        self.missed: list = []

    def on_node(self, node, inputs, outputs):
        self.forward_marks.append((node, _slots([o._data for o in outputs]),
                                   len(self.recorder.instructions)))
        self.scopes[id(node)] = current_scope()
        self.facts.on_node(node, inputs, outputs)
        for x in inputs:
            if (isinstance(x, Tensor) and x.grad_fn is None and x._requires_grad
                    and not isinstance(x._data, tracing.Tracer)
                    and not any(x is m for m in self.missed)):
                self.missed.append(x)

    def on_backward(self, node, grad_outputs, grad_inputs):
        self.backward_marks.append((node, _slots(grad_outputs), _slots(grad_inputs),
                                    len(self.recorder.instructions)))


def _slots(arrays) -> tuple:
    return tuple([a.slot if isinstance(a, tracing.Tracer) else None for a in arrays])


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
    """Run ``fn`` on tracers; returns the :class:`Trace` of its forward program. Its backward
    program is derived later (see :meth:`Trace.derive`)."""
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
        if not isinstance(o._data, tracing.Tracer):
            raise TraceError("minigrad.trace: an output was not computed by the traced function "
                             "(return tensors made from its arguments or parameters)")
    # the parameters it differentiates, and the others it reads (looked for only if there are
    # others: the search reads every instruction)
    targets = {id(t) for t in run.targets}
    others = any(id(p) not in targets for p, _ in run.swapped)
    read = slots_read(run) if others else set()
    used = [(p, stand_in.slot) for p, stand_in in run.swapped
            if id(p) in targets or stand_in.slot in read]
    parameters = [p for p, _ in used]
    position = {id(t): i for i, t in enumerate(run.args)}
    position.update({id(p): len(run.args) + k for k, p in enumerate(parameters)})
    run.names, run.used, run.modules = names, used, modules_of(fn, args)
    return Trace(
        run, inputs=[t._data.slot for t in run.args] + [slot for _, slot in used],
        outputs=[o._data.slot for o in run.outputs],
        differentiable=[any(o is d for d in run.differentiable) for o in run.outputs],
        grad_inputs=[position[id(t)] for t in run.targets],
        parameters=parameters, device=device)


def slots_read(run) -> set:
    """The slots the recorded forward pass reads, or returns."""
    read = {s for ins in run.recorder.instructions for s in ins.reads()}
    return read | {o._data.slot for o in run.outputs}


def drawable(watcher, traced_args, outputs) -> None:
    """Make the recording's graph drawable by ``minigrad.viz.draw``, as an eager graph after
    backward (what its nodes saved was let go, see :meth:`Trace._finish_recording`): the
    stand-ins it holds (node facts, the arguments, the outputs) become the arrays they stood
    for. Done at the first drawing: a trace that is never drawn does not pay for it."""
    from ..viz.recorder import recorded
    for node, _, _ in watcher.forward_marks:
        facts = recorded(node)
        if facts is not None:
            facts.small_value = _real(facts.small_value)
            if facts.constants:
                facts.constants = {i: _real(v) for i, v in facts.constants.items()}
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
    standing in too. ``missed`` lists the parameters met with their real arrays (then the run
    stopped: record again with them standing in). :meth:`derive` runs the engine's backward
    walk over the graph it made, later."""

    def __init__(self, fn, tensors, structure, device, candidates):
        xp = backend.array_module(device)
        self.recorder = recorder = Recorder(xp, tracer_type_for(xp, device))
        self.watcher = Watcher(recorder)
        self.args = [self._stand_in(recorder.new_tracer(t._data), t.requires_grad) for t in tensors]
        self.swapped = [(p, recorder.new_tracer(p._data)) for p in candidates]
        self.missed = []
        self.after_forward = rng = backend.rng_state()
        try:
            with self._recording():
                self._run(fn, structure)
        finally:
            # the first call's draws are the recording's: the generator goes on from there
            backend.set_rng_state(rng if self.missed else self.after_forward)

    @contextmanager
    def _recording(self):
        """While recording: the recorder is the active one, the parameters hold their stand-ins,
        and the watcher alone listens to the engine. The recording is not a computation of the
        user's: tensor hooks and gradient norms (``minigrad.viz.recording()``, around a backward
        that derives the backward program) do not hear of it; they would meet stand-ins, not
        gradients, and the traced call itself is the node they hear of."""
        recorder = self.recorder
        before = (tracing.ACTIVE, backend.recording_draws, STATE.listeners)
        tracing.ACTIVE, backend.recording_draws = recorder, recorder.draw
        STATE.listeners = (self.watcher,)
        for p, stand_in in self.swapped:
            p._data = stand_in  # (the slot: the .data setter takes arrays only)
        collecting = gc.isenabled()
        gc.disable()  # (the recording makes many small objects and no cycles to collect)
        try:
            yield
        finally:
            if collecting:
                gc.enable()
            for p, stand_in in self.swapped:
                p._data = stand_in.value
            tracing.ACTIVE, backend.recording_draws, STATE.listeners = before

    @staticmethod
    def _stand_in(tracer, requires_grad: bool) -> Tensor:
        t = Tensor._make(tracer)
        t._requires_grad = requires_grad
        return t

    def _run(self, fn, structure) -> None:
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

    def derive(self, seeds) -> None:
        """The engine's backward walk over the recorded graph, seeded with stand-ins for
        ``seeds`` (one array per differentiable output): the backward formulas record their
        calls, and compute on the seeds' values. ``grads``: the targets' gradients (Tensors
        holding stand-ins, or None); ``recorder.kept``: the forward pass's arrays it read."""
        recorder = self.recorder
        recorder.keep_below = recorder.slots  # the forward pass's arrays the walk reads are kept
        self.seeds = [self._stand_in(recorder.new_tracer(s), False) for s in seeds]
        try:
            with self._recording():
                self.grads = engine_grad(self.differentiable, self.targets,
                                         grad_outputs=self.seeds, retain_graph=True,
                                         allow_unused=True)
        finally:
            recorder.keep_below = 0


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
            if isinstance(edge, Edge):
                todo.append(edge.node)
            elif edge is not None and id(edge) not in seen:
                seen.add(id(edge))
                leaves.append(edge)
    return leaves


# --- the compiled trace, and the node that replays it ----------------------------------------
class Trace:
    """One recorded call: the forward and backward programs, compiled, and what is needed to
    replay them (the parameters to re-read, the shape of the results).

    Its first call runs no program: the recording computed its outputs, and the backward
    program is derived (:meth:`derive`) at that call's backward, seeded with the gradients it
    brings, so that the walk which writes the backward formulas' calls down also computes the
    gradients the call needs. The passes and the programs (:meth:`prepare`) wait for the
    second call, or for :meth:`source`; a second call (or a source, or a drawing) before the
    first call's backward derives the backward program first, seeded with ones."""

    def __init__(self, run: Recording, inputs, outputs, differentiable, grad_inputs, parameters,
                 device):
        self.inputs = inputs
        self.outputs = outputs
        self.differentiable = differentiable
        self.grad_inputs = grad_inputs
        self.parameters = parameters
        self.facts = [(p.shape, p.dtype, p.device) for p in parameters]
        self.out_structure = run.out_structure
        self.device = device
        self._names = None
        self._to_draw = None
        self.source_constants: dict = {}
        self.recorder = run.recorder
        self.forward = run.recorder.instructions[:run.forward_end]
        # The backward program lets go of each saved array after its last use, as the eager
        # walk frees each node's. If the graph is kept (retain_graph=True) and walked again,
        # the saved arrays are computed again from the inputs, unless random draws are among
        # them (a second draw would differ): then backward keeps them all to the end.
        self.consumes = not any(ins.kind == "draw" for ins in self.forward)
        self.n_outputs = len(outputs)
        self.first_outputs = [o._data.value for o in run.outputs]  # (taken by the first call)
        self.shapes = [(a.shape, a.dtype) for a in self.first_outputs]
        self.recorded_outputs = run.outputs
        self.run_forward = self.run_backward = None  # (made by prepare)
        self.pending = run if any(differentiable) and grad_inputs else None
        # the first call's node holds this dict: derive fills it with the forward pass's
        # arrays the backward program reads (by slot), and lets go of it
        self.first_saved = {} if self.pending is not None else None
        if self.pending is None:  # no backward pass: the recording is done with
            self.seeds, self.grads, self.backward = [], [], []
            self._finish_recording(run, {})

    @property
    def derived(self) -> bool:
        return self.pending is None

    def derive(self, seeds=None) -> list:
        """Derive the backward program from the recording, seeded with ``seeds`` (an array per
        differentiable output; ones if None). Returns the gradients the walk computed (an array
        or None per target): the ones the call that gave ``seeds`` needs."""
        run, self.pending = self.pending, None
        if seeds is None:
            xp = backend.array_module(self.device)
            seeds = [xp.ones(shape, dtype=dtype)
                     for (shape, dtype), d in zip(self.shapes, self.differentiable) if d]
        run.derive(seeds)
        recorder = self.recorder
        self.seeds = [s._data.slot for s in run.seeds]
        self.grads = [None if g is None else recorder.ref(g._data).n for g in run.grads]
        self.backward = recorder.instructions[run.forward_end:]
        saved = self.first_saved
        saved.update(recorder.kept)
        saved.update((g._data.slot, g._data.value) for g in run.grads
                     if g is not None and isinstance(g._data, tracing.Tracer))
        self.first_saved = None
        self._finish_recording(run, {o._data.slot: s for o, s in zip(run.differentiable,
                                                                     self.seeds)})
        return [None if g is None else tracing.unwrap(g._data) for g in run.grads]

    def _finish_recording(self, run: Recording, seed_slots: dict) -> None:
        """Keep what naming and drawing need from the recording, and let go of its arrays."""
        arg_slots = [t._data.slot for t in run.args]
        self.namer = lambda: Namer(run.names, run.recorder, run.watcher, arg_slots, run.used,
                                   self.outputs, seed_slots, run.modules)
        for node, _, _ in run.watcher.forward_marks:
            node.release()
        self._to_draw = (run.watcher, run.args, run.outputs)  # (see drawable)
        self.recorder.kept = {}

    def prepare(self) -> None:
        """The passes and the programs (made once, ready to compile at their first run)."""
        if self.pending is not None:
            self.derive()
        if self.run_forward is not None:
            return
        outputs = self.outputs
        self.consts = consts = dict(self.recorder.consts)
        # the passes, in order: hoist what reads only constants, drop what nothing reads
        forward = prog.hoist(self.forward, consts, keep=outputs)
        used_grads = [g for g in self.grads if g is not None]
        backward = prog.drop_dead(self.backward, used_grads)
        backward = prog.hoist(backward, consts, keep=used_grads)
        # the arrays the forward program keeps for the backward program
        made_forward = set(self.inputs) | {ins.out for ins in forward}
        residuals = {}  # (a dict: the slots in the order backward first reads them, once each)
        for s in [s for ins in backward for s in ins.reads()] + used_grads:
            if s in made_forward and s not in consts:
                residuals[s] = None
        self.residuals = residuals = list(residuals)
        self.forward_program = prog.drop_dead(forward, outputs + residuals)
        self.backward_program = backward
        reuse = backend.array_module(self.device) is backend.numpy  # (see prog.Replay)
        new_slot = self.recorder.new_slot
        self.run_forward = prog.Replay(
            "forward", self.forward_program, self.inputs, outputs + residuals, consts,
            reuse=reuse, new_slot=new_slot)
        self.run_backward = prog.Replay(
            "backward", backward, residuals + self.seeds, used_grads, consts,
            owned=len(residuals), reuse=reuse, new_slot=new_slot)

    def parameters_unchanged(self) -> bool:
        """Whether every parameter still has the shape, dtype and device it was traced with
        (and still requires grad): otherwise the function is traced again."""
        for p, facts in zip(self.parameters, self.facts):
            if (p.shape, p.dtype, p.device) != facts or not p.requires_grad:
                return False
        return True

    def call(self, tensors: list):
        arrays = [t._data for t in tensors] + [p._data for p in self.parameters]
        if is_grad_enabled() and any(self.differentiable) and self.grad_inputs:
            inputs = tensors + self.parameters
            out = TracedCall.apply(*inputs, trace=self)
            outs = list(out) if type(out) is tuple else [out]
            outs = [o if d else Tensor._make(o._data) for o, d in zip(outs, self.differentiable)]
            for i, o in enumerate(outs):  # what minigrad.viz.draw draws for it
                o.recording = functools.partial(self.recorded_output, i)
        else:
            found, self.first_outputs = self.first_outputs, None
            if found is None:
                self.prepare()
                found = self.run_forward(*arrays)
            outs = [Tensor._make(a) for a in found[:self.n_outputs]]
        return unflatten(self.out_structure, iter(outs))

    def recorded_output(self, i: int) -> Tensor:
        """The tensor the recording made for output ``i``, with its graph (drawable once the
        backward program is derived: the graph's nodes then hold the recording's arrays)."""
        if self.pending is not None:
            self.derive()
        if self._to_draw is not None:
            drawable(*self._to_draw)
            self._to_draw = None
        return self.recorded_outputs[i]

    def names(self):
        """The :class:`~minigrad.trace.naming.Namer` of this trace (made at the first ask)."""
        if self.pending is not None:
            self.derive()
        if self._names is None:
            self._names = self.namer()
            for position, slot in zip(self.grad_inputs, self.grads):
                if slot is not None:
                    self._names.name_gradient(slot, self.inputs[position])
        return self._names

    def source(self, step=None, inline: bool = True) -> str:
        """The forward and backward programs as Python over NumPy (see
        :mod:`minigrad.trace.source`); ``step``: only the lines of that time step."""
        self.prepare()
        text, self.source_constants = program_source(self, step, inline)
        return text


class TracedCall(Function):
    """One call of a traced function, as one node: forward replays the recorded forward
    program, backward the derived backward program. The first call replays nothing: its
    forward values are the recording's, and its backward derives the backward program."""

    def forward(self, *arrays, trace: Trace):
        self.trace = trace
        self.arrays = arrays if trace.consumes else None
        n = trace.n_outputs
        found, trace.first_outputs = trace.first_outputs, None
        self.first_saved = None
        if found is not None:  # the first call
            self.first_saved, self.residuals = trace.first_saved, None
        else:
            trace.prepare()  # (at the second call)
            found = trace.run_forward(*arrays)
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
        if self.first_saved is not None:  # the first call's node: the recording's saved arrays
            saved, self.first_saved = self.first_saved, None
            if not trace.derived:  # deriving the backward program computes these gradients
                computed = trace.derive(seeds)
                if not trace.consumes:  # (a second walk could not compute them again)
                    self.residuals = self._saved_residuals(saved)
                return self._placed(iter(g for g in computed if g is not None))
            self.residuals = self._saved_residuals(saved)
        trace.prepare()  # (done by now, but for a second walk of the first call's node)
        residuals = self.residuals
        if not trace.consumes:
            residuals = list(residuals)
        elif residuals is None:  # walked again (retain_graph=True): computed again
            residuals = list(trace.run_forward(*self.arrays)[trace.n_outputs:])
        self.residuals = None if trace.consumes else self.residuals
        return self._placed(iter(trace.run_backward(residuals, *seeds)))

    def _saved_residuals(self, saved: dict) -> list:
        """The arrays the backward program reads, from the recording's (by slot)."""
        self.trace.prepare()
        return [saved[s] for s in self.trace.residuals]

    def _placed(self, found) -> tuple:
        """The gradients ``found`` (one per target the trace differentiates), each at its
        input's position."""
        result = [None] * len(self.next)
        for position, slot in zip(self.trace.grad_inputs, self.trace.grads):
            if slot is not None:
                result[position] = next(found)
        return tuple(result)

    def release(self) -> None:
        super().release()
        self.residuals = self.arrays = self.first_saved = None
