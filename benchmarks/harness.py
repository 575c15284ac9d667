"""A tiny benchmark harness: time a step, measure its peak memory, print the results.

A :class:`Workload` is a name plus ``setup()``. ``setup`` builds everything one step needs
(parameters, inputs, targets) and returns the step: a callable without arguments that does the
work once (for a training step: zero the gradients, forward, backward).

* Time: the step runs ``warmup`` times untimed, then ``repeats`` times, each one timed alone
  with ``time.perf_counter`` (after waiting for the GPU when there is one). We report the median
  and the minimum; ratios are taken between medians.
* Peak memory: the most bytes allocated *during* one step on top of what was allocated before it
  (parameters and inputs are already there, so they do not count; the gradients the step makes
  do). How it is measured depends on where the arrays live, see :func:`peak_memory`.

Memory is measured in a separate run of the step from the timings: tracing allocations slows
Python down.
"""
from __future__ import annotations

import gc
import json
import statistics
import time
import tracemalloc
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

Step = Callable[[], object]

TRACEMALLOC = "tracemalloc"   # NumPy registers its array buffers with tracemalloc
CUPY_POOL = "cupy-pool"       # bytes handed out by CuPy's memory pool
TORCH_CUDA = "torch-cuda"     # torch.cuda.max_memory_allocated


@dataclass
class Workload:
    """One thing to measure: ``setup()`` returns the step to time.

    ``group`` names the problem (several implementations of one problem share a group);
    ``memory`` says how peak memory can be measured (:data:`TRACEMALLOC`, :data:`CUPY_POOL`,
    :data:`TORCH_CUDA`) or ``None`` when it cannot; ``sync`` waits for queued GPU work;
    ``ops`` is the number of ops one step performs, for per-op times.
    """

    group: str
    name: str
    setup: Callable[[], Step]
    memory: str | None = TRACEMALLOC
    sync: Callable[[], None] | None = None
    ops: int | None = None


@dataclass
class Result:
    group: str
    name: str
    median_s: float
    min_s: float
    times_s: list[float] = field(default_factory=list)
    peak_bytes: int | None = None
    memory: str | None = None
    ops: int | None = None
    rss_bytes: int | None = None   # peak resident-set growth, see benchmarks/rss.py

    @property
    def per_op_s(self) -> float | None:
        return self.median_s / self.ops if self.ops else None


def time_step(step: Step, repeats: int, warmup: int = 1,
              sync: Callable[[], None] | None = None) -> list[float]:
    """Seconds taken by each of ``repeats`` timed calls of ``step`` (after ``warmup`` calls)."""
    sync = sync or (lambda: None)
    for _ in range(warmup):
        step()
        sync()
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return times


def peak_memory(step: Step, method: str | None) -> int | None:
    """Peak bytes allocated during one call of ``step`` above the level before it.

    ``tracemalloc`` counts only allocations made while it traces, so the arrays that exist before
    the step are the baseline; it also counts Python objects (tensors, graph nodes), which belong
    to a framework's cost. It does not see PyTorch's CPU allocator: PyTorch on the CPU gets
    ``None`` here.
    """
    if method is None:
        return None
    step()  # let lazily built state (caches, first gradients) settle before measuring
    gc.collect()
    if method == TRACEMALLOC:
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            step()
            return tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
    if method == CUPY_POOL:
        import cupy
        cupy.cuda.Device().synchronize()
        with _cupy_peak_hook() as hook:
            step()
            cupy.cuda.Device().synchronize()
        return hook.peak
    if method == TORCH_CUDA:
        import torch
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        step()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - before
    raise ValueError(f"peak_memory: unknown method {method!r}")


def _cupy_peak_hook():
    """A CuPy memory hook that follows the bytes taken from the pool while it is active,
    counting only blocks allocated while it is active (like tracemalloc)."""
    import cupy

    class CupyPeak(cupy.cuda.MemoryHook):
        name = "CupyPeak"

        def __init__(self):
            self.live: dict[int, int] = {}
            self.used = 0
            self.peak = 0

        def malloc_postprocess(self, **kw):
            self.live[kw["mem_ptr"]] = kw["mem_size"]
            self.used += kw["mem_size"]
            self.peak = max(self.peak, self.used)

        def free_postprocess(self, **kw):
            self.used -= self.live.pop(kw["mem_ptr"], 0)

    return CupyPeak()


def run_workload(workload: Workload, repeats: int, warmup: int = 1,
                 memory: bool = True) -> Result:
    """Time ``workload`` (median and minimum of ``repeats``) and, if asked, its peak memory."""
    return run_group([workload], repeats, warmup, memory)[0]


def run_group(workloads: list[Workload], repeats: int, warmup: int = 1,
              memory: bool = True) -> list[Result]:
    """Time several workloads in turns: round r times call r of each, so that a change in the
    machine's load (other processes) hits every implementation alike, not the last one alone.
    Round r starts with workload r mod n, so that each runs after each other equally often:
    on a machine where page faults are dear, a step that follows one which gave memory back to
    the system pays for taking it again (docs/performance.md, "Caveats").

    Python's cyclic garbage collector stays on, but the objects that exist before the timing
    (the imported libraries: PyTorch alone brings some 150,000) are frozen out of it
    (``gc.freeze``): otherwise each full collection triggered by a step walks all of them,
    some 80 ms with PyTorch loaded, a cost that a process running minigrad alone would not pay.
    """
    steps = [w.setup() for w in workloads]
    syncs = [w.sync for w in workloads]
    times: list[list[float]] = [[] for _ in workloads]
    for step, sync in zip(steps, syncs):
        time_step(step, 0, warmup, sync)
    gc.collect()
    gc.freeze()
    try:
        n = len(steps)
        for r in range(repeats):
            for k in [(r + i) % n for i in range(n)]:
                times[k] += time_step(steps[k], 1, 0, syncs[k])
    finally:
        gc.unfreeze()
    results = []
    for w, step, ts in zip(workloads, steps, times):
        peak = peak_memory(step, w.memory) if memory else None
        results.append(Result(w.group, w.name, statistics.median(ts), min(ts), ts, peak,
                              w.memory if memory else None, w.ops))
    del steps
    gc.collect()
    return results


def run_all(workloads: Iterable[Workload], repeats: int, warmup: int = 1, memory: bool = True,
            log: Callable[[str], None] | None = print) -> list[Result]:
    """:func:`run_group` on each group of ``workloads`` in turn."""
    workloads = list(workloads)
    results = []
    for group in dict.fromkeys(w.group for w in workloads):
        members = [w for w in workloads if w.group == group]
        if log:
            log(f"{group}: {', '.join(w.name for w in members)}")
        results += run_group(members, repeats, warmup, memory)
    return results


# --- reporting ----------------------------------------------------------------------------
def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}" if seconds >= 0.01 else f"{seconds * 1e3:.2f}"


def _mb(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 2**20:.1f}"


def _ratio(value: int | None, base: int | None) -> str:
    return f"{value / base:.2f}x" if value is not None and base else ""


def markdown_table(results: list[Result], baseline: str) -> str:
    """One Markdown table per group; ``baseline`` names the implementation that ratios divide by."""
    blocks = []
    for group in dict.fromkeys(r.group for r in results):
        rows = [r for r in results if r.group == group]
        base = next((r for r in rows if r.name == baseline), None)
        per_op = any(r.ops for r in rows)
        memory = any(r.peak_bytes is not None for r in rows)
        rss = any(r.rss_bytes is not None for r in rows)
        head = ["implementation", "median ms", "min ms"]
        head += ["µs/op"] if per_op else []
        head += [f"time / {baseline}"]
        if memory:  # the column names how it was measured: "peak MiB (cupy-pool/torch-cuda)"
            methods = "/".join(dict.fromkeys(r.memory for r in rows
                                             if r.peak_bytes is not None and r.memory))
            head += [f"peak MiB ({methods})" if methods else "peak MiB", f"memory / {baseline}"]
        head += ["peak MiB (RSS)", f"RSS / {baseline}"] if rss else []
        lines = [f"**{group}**", "", "| " + " | ".join(head) + " |",
                 "|" + "---|" * len(head)]
        for r in rows:
            cells = [r.name, _ms(r.median_s), _ms(r.min_s)]
            if per_op:
                cells.append(f"{r.per_op_s * 1e6:.2f}" if r.ops else "")
            cells.append(f"{r.median_s / base.median_s:.2f}x" if base else "")
            if memory:
                cells += [_mb(r.peak_bytes), _ratio(r.peak_bytes, base and base.peak_bytes)]
            if rss:
                cells += [_mb(r.rss_bytes), _ratio(r.rss_bytes, base and base.rss_bytes)]
            lines.append("| " + " | ".join(cells) + " |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def text_table(results: list[Result]) -> str:
    width = max(len(r.name) for r in results)
    lines = []
    for group in dict.fromkeys(r.group for r in results):
        lines.append(group)
        for r in (r for r in results if r.group == group):
            extra = f"  {r.per_op_s * 1e6:7.2f} µs/op" if r.ops else ""
            if r.peak_bytes is not None or r.memory:
                extra += f"  peak {_mb(r.peak_bytes):>7} MiB"
            if r.rss_bytes is not None:
                extra += f"  RSS peak {_mb(r.rss_bytes):>7} MiB"
            lines.append(f"  {r.name:<{width}}  median {_ms(r.median_s):>8} ms  "
                         f"min {_ms(r.min_s):>8} ms{extra}")
    return "\n".join(lines)


def to_json(results: list[Result], meta: dict) -> str:
    return json.dumps({"meta": meta, "results": [asdict(r) for r in results]}, indent=1)
