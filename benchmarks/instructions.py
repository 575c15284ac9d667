"""Machine instructions per step, counted by Valgrind: a measure that the machine's load does not move.

On a shared machine one step's time varies by 2x from run to run; the number of instructions it
executes repeats within 0.1%. Each workload runs in a fresh process under Valgrind's callgrind,
twice: once with its set-up and eight warm-up steps, once with ``STEPS`` steps more. The
difference divided by ``STEPS`` is one step's count: imports and set-up cancel out.

Instructions are not time. NumPy's C loops retire more instructions per cycle than PyTorch's
C++ dispatch, and code that makes a new array per op pays cache misses that no count shows. Use
the counts to compare two versions of minigrad (a change that saves Python work shows in one
run, where timings would need many) and to see how much work each implementation does per op;
the timings stay the measure of speed. Valgrind runs code about 50x slower: all the counts take
several minutes on an idle two-core machine (45 minutes on a busy one).

    python -m benchmarks --only instructions                # needs valgrind (apt-get install valgrind)
    python -m benchmarks --only instructions --write-docs   # and into docs/performance.md
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import THREAD_VARIABLES, bench_lstm, bench_ops

ROOT = Path(__file__).resolve().parent.parent
STEPS = 5
CHAIN_OPS = 2_000  # a shorter chain than the timed one: Valgrind runs code about 50x slower
WARMUP = 8  # CPython 3.11 specialises a function's bytecode at its 8th call at the latest (a
            # function called once a step whose loop is a ``while``, like the backward walk)


def workloads() -> list:
    """The op chain (counts per op) and the small LSTM step, every CPU implementation of each."""
    return (bench_ops.workloads("cpu", n_ops=CHAIN_OPS)
            + bench_lstm.workloads("cpu", shapes=(bench_lstm.SMALL,)))


def run_steps(index: int, steps: int) -> None:
    """Set up workload ``index`` and run its step ``WARMUP + steps`` times (the counted process)."""
    step = workloads()[index].setup()
    for _ in range(WARMUP + steps):
        step()


def collected(valgrind_output: str) -> int:
    """The instruction count in callgrind's summary (``==123== Collected : 860405043``)."""
    found = re.search(r"Collected\s*:\s*(\d+)", valgrind_output)
    if found is None:
        raise RuntimeError(f"no instruction count in Valgrind's output:\n{valgrind_output[-2000:]}")
    return int(found.group(1))


def count(index: int, steps: int) -> int:
    """Instructions executed by a fresh process that runs workload ``index`` for ``steps`` steps
    after its set-up and warm-up (one BLAS thread, PyTorch on one thread). String hashing is
    seeded: the seed decides which names collide in CPython's attribute caches, and moved one
    step's count by over 3% from one process to the next."""
    env = dict(os.environ, PYTHONHASHSEED="0", **{var: "1" for var in THREAD_VARIABLES})
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-m", "benchmarks.instructions", str(index), str(steps)],
        cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"workload {index} under valgrind failed:\n{done.stderr[-2000:]}")
    return collected(done.stderr)


def per_step(index: int) -> float:
    return (count(index, STEPS) - count(index, 0)) / STEPS


def measure() -> list[tuple]:
    """(group, name, instructions per step, ops per step or None) for every workload."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--only instructions needs Valgrind: sudo apt-get install valgrind")
    found = workloads()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = list(pool.map(per_step, range(len(found))))
    return [(w.group, w.name, n, w.ops) for w, n in zip(found, counts)]


def report(rows: list[tuple], date: str) -> str:
    """A Markdown table per group, with each count against the NumPy reference's."""
    lines = [f"Counted {date} with Valgrind's callgrind (instructions per step, {STEPS} steps "
             f"after {WARMUP} warm-up steps, minus the same process without them)."]
    for group in dict.fromkeys(g for g, *_ in rows):
        mine = [r for r in rows if r[0] == group]
        reference = next(n for g, name, n, _ in mine if name == "numpy")
        per_op = mine[0][3] is not None
        lines += ["", f"**{group}**", "",
                  "| implementation | instructions per step | " + ("per op | " if per_op else "")
                  + "/ numpy |", "|---|---|" + ("---|" if per_op else "") + "---|"]
        for _, name, n, ops in mine:
            lines.append(f"| {name} | {n / 1e6:.2f} M | " + (f"{n / ops / 1e3:.1f} k | " if ops else "")
                         + f"{n / reference:.2f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    run_steps(int(sys.argv[1]), int(sys.argv[2]))
