"""Peak memory of one LSTM step as the operating system sees it (Linux only).

tracemalloc cannot see PyTorch's CPU allocator, so for a comparison that includes PyTorch each
implementation runs in a fresh process: two steps to warm up, then the resident-set high-water
mark is reset (``/proc/self/clear_refs``), one more step runs, and the answer is the new
high-water mark (``VmHWM``) minus the resident size before that step (``VmRSS``).

glibc's malloc is told to serve every block of 4 KiB or more with its own mmap and to give it
back on free (``MALLOC_MMAP_THRESHOLD_``), so the resident size follows the live arrays instead
of heap pages that earlier steps freed and this one reuses (with glibc's default, adaptive
threshold the answer for one implementation varied from 24 to 48 MiB between runs; with 4 KiB
it repeats within 0.1 MiB). Small Python objects still live in reused arenas, so this
undercounts a framework's Python objects a little; tracemalloc is the finer measure where it
works. Use it for the large workload: the small one's per-step arrays are about 4 KiB.

    python -m benchmarks.rss 64,64,128,256 pytorch     # prints the bytes
"""
from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MMAP_THRESHOLD = 4096


def available() -> bool:
    return sys.platform.startswith("linux") and os.path.exists("/proc/self/clear_refs")


def _status(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_rss_of_step(step) -> int:
    """Bytes by which the resident set grew at its highest during one call of ``step``."""
    step()
    step()
    gc.collect()
    before = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    step()
    return _status("VmHWM") - before


def measure(shape, name: str, timeout: float = 300) -> int | None:
    """Run :func:`peak_rss_of_step` for one CPU implementation of bench_lstm in a fresh process."""
    if not available():
        return None
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MMAP_THRESHOLD))
    dims = f"{shape.T},{shape.B},{shape.I},{shape.H}"
    done = subprocess.run([sys.executable, "-m", "benchmarks.rss", dims, name], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"benchmarks.rss {dims} {name!r} failed:\n{done.stderr}")
    return int(done.stdout.split()[-1])


def main(argv: list[str]) -> int:
    from . import bench_lstm
    dims, name = argv
    shape = bench_lstm.Shape(*map(int, dims.split(",")))
    make, _ = bench_lstm.implementations("cpu")[name]
    print(peak_rss_of_step(make(shape)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
