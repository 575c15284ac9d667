"""Where a minigrad step spends its time: cProfile, then the functions' own times in buckets.

cProfile sees Python functions and C functions called by name (``ndarray.sum``, ``numpy.tanh``
is *not* one: a ufunc called by name or an operator such as ``a @ b`` on arrays is timed as part
of the Python function that runs it). So an op's ``forward`` owns the array math it does, and
the buckets are:

* matmul: every function of ``minigrad/ops/matmul.py`` (``MatMul``, ``AddMM`` and the helpers
  that compute their products, BLAS);
* other array math: the other ops' ``forward`` and ``backward`` (a backward formula computes on
  plain arrays unless ``create_graph``) and NumPy methods called by name;
* engine: everything else in ``minigrad/`` (recording nodes, Tensor wrappers, the backward walk);
* nn: the layer's own Python (``nn/``);
* Python builtins (``isinstance``, ``len``, dict and list methods) and the rest.

The profiler's own cost falls mostly on the many small Python calls, so the engine's share is
overstated; the ratio of unprofiled times (minigrad vs NumPy) is the honest measure.
"""
from __future__ import annotations

import cProfile
import pstats
import time
from pathlib import Path

from . import bench_lstm, bench_ops
from .devices import synchronizer, torch_on

ROOT = Path(__file__).resolve().parent.parent


def bucket(filename: str, name: str) -> str:
    path = filename.replace("\\", "/")
    if path.endswith("minigrad/ops/matmul.py"):  # products and their shape checks only
        return "matmul (BLAS)"
    if "/minigrad/ops/" in path and name in ("forward", "backward"):
        return "other array math"
    if path == "~" and ("numpy" in name or "ndarray" in name):
        return "other array math"
    if "/minigrad/" in path:
        return "engine (Python)"
    if "/nn/" in path and path.startswith(str(ROOT)):
        return "nn layer (Python)"
    if path == "~":
        return "Python builtins"
    return "other Python"


def profile(step, calls: int = 1) -> pstats.Stats:
    step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        step()
    profiler.disable()
    return pstats.Stats(profiler)


def summarize(stats: pstats.Stats, top: int = 15, per: int = 1, unit: str = "ms") -> str:
    """Buckets and the ``top`` functions by own time; times divided by ``per``."""
    scale = {"ms": 1e3, "µs": 1e6}[unit]
    rows = [(tt, nc, fn, line, name) for (fn, line, name), (_, nc, tt, _, _) in stats.stats.items()]
    total = sum(r[0] for r in rows)
    buckets: dict[str, float] = {}
    for tt, _, fn, _, name in rows:
        key = bucket(fn, name)
        buckets[key] = buckets.get(key, 0.0) + tt
    out = [f"total own time under the profiler: {total / per * scale:.1f} {unit}", "",
           f"| bucket | {unit} | share |", "|---|---|---|"]
    for key, tt in sorted(buckets.items(), key=lambda kv: -kv[1]):
        out.append(f"| {key} | {tt / per * scale:.1f} | {tt / total:.0%} |")
    out += ["", f"| function | calls | own {unit} | share |", "|---|---|---|---|"]
    for tt, nc, fn, line, name in sorted(rows, reverse=True)[:top]:
        where = f"{_short(fn)}:{line} {_qualname(fn, line, name)}" if fn != "~" else name
        out.append(f"| `{where}` | {nc / per:.3g} | {tt / per * scale:.1f} | {tt / total:.0%} |")
    return "\n".join(out)


def _short(filename: str) -> str:
    try:
        return str(Path(filename).resolve().relative_to(ROOT))
    except ValueError:
        return Path(filename).name


def _qualname(filename: str, line: int, name: str) -> str:
    """``Class.method`` for a method (the nearest ``class`` line above it), else ``name``."""
    try:
        lines = Path(filename).read_text().splitlines()[:line]
    except OSError:
        return name
    if lines and lines[-1].startswith(("def ", "@")):  # its own (or its decorator's) line
        return name                                     # is not indented: a module-level one
    for text in reversed(lines[:-1]):
        if text.startswith("class "):
            return text[6:].split("(")[0].split(":")[0] + "." + name
        if text.startswith("def "):
            break
    return name


def _best(step, calls: int, sync=None) -> float:
    """The fastest of ``calls`` timed calls (after one untimed)."""
    step()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        step()
        if sync:
            sync()
        times.append(time.perf_counter() - start)
    return min(times)


def chain_split(n: int, framework: str = "minigrad", device: str = "cpu", repeats: int = 5) -> str:
    """The chain's per-op time cut into forward without a graph, forward recording the graph,
    and backward (best of ``repeats``), for ``framework`` "minigrad" or "pytorch"."""
    import numpy
    if framework == "minigrad":
        import minigrad as lib
        x = lib.tensor(numpy.array([bench_ops.START]), device=device, requires_grad=True)
    else:
        import torch as lib
        x = lib.tensor([bench_ops.START], dtype=lib.float64, device=device, requires_grad=True)
    best = {"no_grad": [], "forward": [], "backward": []}
    for _ in range(repeats):
        with lib.no_grad():
            start = time.perf_counter()
            bench_ops.chain(x, n)
            best["no_grad"].append(time.perf_counter() - start)
        start = time.perf_counter()
        y = bench_ops.chain(x, n).sum()
        best["forward"].append(time.perf_counter() - start)
        start = time.perf_counter()
        y.backward()
        best["backward"].append(time.perf_counter() - start)
        x.grad = None
    us = {k: min(v) / n * 1e6 for k, v in best.items()}
    return (f"{framework}: forward under no_grad {us['no_grad']:.2f} µs/op, forward recording "
            f"the graph {us['forward']:.2f}, backward {us['backward']:.2f} (best of {repeats})")


def report(device: str = "cpu") -> str:
    parts = []
    sync = synchronizer(device)
    for shape in (bench_lstm.LARGE, bench_lstm.SMALL):
        step = bench_lstm.minigrad_step(shape, device=device)
        ref = bench_lstm.numpy_step(shape, device=device)
        wall, ref_wall = _best(step, 5, sync), _best(ref, 5, sync)
        parts += [f"### minigrad nn.LSTM step, {shape}",
                  f"unprofiled, best of 5: minigrad {wall * 1e3:.1f} ms, hand-written reference "
                  f"{ref_wall * 1e3:.1f} ms ({wall / ref_wall:.2f}x)", "",
                  summarize(profile(step, 3), per=3), ""]
    n = bench_ops.N_OPS
    step = bench_ops.minigrad_setup(n, device)()
    parts += [f"### op chain, per op ({n} ops, forward and backward)",
              f"unprofiled, best of 5: {_best(step, 5, sync) / n * 1e6:.2f} µs/op", "",
              "- " + chain_split(n, "minigrad", device)]
    if torch_on(device):
        parts.append("- " + chain_split(n, "pytorch", device))
    parts += ["",
              summarize(profile(step, 3), per=3 * n, unit="µs", top=20)]
    return "\n".join(parts)
