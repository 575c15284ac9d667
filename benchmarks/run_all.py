"""Run the benchmarks, print the results, check the targets, and optionally write them into
docs/performance.md (between its ``results`` markers) and a JSON file.

    python -m benchmarks                       # everything on the CPU (about half a minute)
    python -m benchmarks --threads 0           # BLAS and PyTorch on all cores (default: one)
    python -m benchmarks --quick               # fewer repeats, to try the harness
    python -m benchmarks --device cuda         # the same workloads on the GPU (CuPy)
    python -m benchmarks --write-docs --json results.json
    python -m benchmarks --only profile        # where a minigrad LSTM step spends its time
    python -m benchmarks --only instructions   # instructions per step, by Valgrind (minutes)
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import statistics
import sys
from pathlib import Path

from . import THREAD_VARIABLES, bench_lstm, bench_ops, harness, instructions, profile_step, rss

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"

CHAIN_SPEEDUP = 1.8  # "about 2x faster than PyTorch eager", read as at least 1.8x
TARGETS = {
    "chain": "minigrad per-op time at most 6 µs, and about 2x faster than PyTorch eager",
    "lstm-large": f"minigrad LSTM step {bench_lstm.LARGE}: at most 1.10x the hand-written reference",
    "lstm-small": f"minigrad LSTM step {bench_lstm.SMALL}: at most 2.0x the hand-written reference",
    "memory": f"peak memory of the {bench_lstm.LARGE} step: at most 1.2x the hand-written reference's",
    "traced-chain": "minigrad traced per-op time at most 3.5 µs",
    "traced-lstm-large": f"minigrad traced LSTM step {bench_lstm.LARGE}: at most 1.02x the "
                         "hand-written reference",
    "traced-lstm-small": f"minigrad traced LSTM step {bench_lstm.SMALL}: at most 1.15x the "
                         "hand-written reference",
    "traced-memory": f"peak memory of the traced {bench_lstm.LARGE} step: at most 1.0x the "
                     "hand-written reference's",
    "traced-first-call": f"the first traced call of the {bench_lstm.SMALL} step (recording and "
                         "deriving): at most 3x one eager step",
}


def machine(device: str) -> dict:
    """What the numbers were measured on."""
    import numpy
    meta = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "device": device,
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
    }
    try:
        import torch
        meta["torch"] = torch.__version__
        meta["torch_threads"] = torch.get_num_threads()
    except ImportError:
        meta["torch"] = None
    if device == "cuda":
        import cupy
        meta["cupy"] = cupy.__version__
        name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
        meta["gpu"] = name.decode() if isinstance(name, bytes) else str(name)
    return meta


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _find(results, group_part: str, name: str):
    return next((r for r in results if group_part in r.group and r.name == name), None)


NOISY = "unclear: the median and the minimum fall on either side of the limit"


def _verdict(median_ok: bool, min_ok: bool) -> str:
    if median_ok and min_ok:
        return "met"
    if not (median_ok or min_ok):
        return "not met"
    return NOISY


def check_targets(results, device: str) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each of the issues' targets.

    Times are judged twice, on the medians and on the minima (on a busy machine the fastest
    repeat is the least disturbed one); the verdict is "met" or "not met" only when both agree."""
    rows = []
    mg, pt = _find(results, "chain", "minigrad"), _find(results, "chain", "pytorch")
    if mg:
        us, us_min = mg.median_s / mg.ops * 1e6, mg.min_s / mg.ops * 1e6
        measured = f"{us:.2f} µs/op (min {us_min:.2f})"
        ok, ok_min = us <= 6.0, us_min <= 6.0
        if pt:
            speedup, speedup_min = pt.median_s / mg.median_s, pt.min_s / mg.min_s
            measured += f"; PyTorch time / minigrad time {speedup:.2f}x (min {speedup_min:.2f}x)"
            ok, ok_min = ok and speedup >= CHAIN_SPEEDUP, ok_min and speedup_min >= CHAIN_SPEEDUP
        rows.append((TARGETS["chain"], measured, _verdict(ok, ok_min)))
    ref_name = _reference(device)
    for key, shape, limit in (("lstm-large", bench_lstm.LARGE, 1.10),
                              ("lstm-small", bench_lstm.SMALL, 2.0)):
        mg, ref = _find(results, str(shape), "minigrad"), _find(results, str(shape), ref_name)
        rows.append(_time_ratio_row(key, mg, ref, limit) if mg and ref
                    else (TARGETS[key], "", "not measured"))
    mg, ref = _find(results, str(bench_lstm.LARGE), "minigrad"), _find(results, str(bench_lstm.LARGE), ref_name)
    if mg and ref and mg.peak_bytes and ref.peak_bytes:
        ratio = mg.peak_bytes / ref.peak_bytes
        rows.append((TARGETS["memory"], f"{ratio:.2f}x", "met" if ratio <= 1.2 else "not met"))
    else:
        rows.append((TARGETS["memory"], "", "not measured"))
    return rows + check_traced_targets(results, ref_name)


def _time_ratio_row(key: str, mg, ref, limit: float) -> tuple[str, str, str]:
    """A target "at most ``limit`` times the reference's time": medians, minima, per round."""
    ratio, ratio_min = mg.median_s / ref.median_s, mg.min_s / ref.min_s
    paired = paired_ratio(mg, ref)
    measured = f"{ratio:.2f}x (min {ratio_min:.2f}x" + (
        f"; per round {paired:.2f}x)" if paired is not None else ")")
    return TARGETS[key], measured, _verdict(ratio <= limit, ratio_min <= limit)


def check_traced_targets(results, ref_name: str) -> list[tuple[str, str, str]]:
    """The ``minigrad traced`` rows against issue 18's targets."""
    rows = []
    traced = _find(results, "chain", "minigrad traced")
    if traced:
        us, us_min = traced.median_s / traced.ops * 1e6, traced.min_s / traced.ops * 1e6
        rows.append((TARGETS["traced-chain"], f"{us:.2f} µs/op (min {us_min:.2f})",
                     _verdict(us <= 3.5, us_min <= 3.5)))
    for key, shape, limit in (("traced-lstm-large", bench_lstm.LARGE, 1.02),
                              ("traced-lstm-small", bench_lstm.SMALL, 1.15)):
        mg, ref = _find(results, str(shape), "minigrad traced"), _find(results, str(shape), ref_name)
        if mg and ref:
            rows.append(_time_ratio_row(key, mg, ref, limit))
    large = str(bench_lstm.LARGE)
    mg, ref = _find(results, large, "minigrad traced"), _find(results, large, ref_name)
    if mg and ref and mg.peak_bytes and ref.peak_bytes:
        ratio = mg.peak_bytes / ref.peak_bytes
        rows.append((TARGETS["traced-memory"], f"{ratio:.2f}x", "met" if ratio <= 1.0 else "not met"))
    first = next((r for r in results if r.name == "minigrad traced, first call"), None)
    eager = _find(results, str(bench_lstm.SMALL), "minigrad")
    if first and eager:
        ratio, ratio_min = first.median_s / eager.median_s, first.min_s / eager.min_s
        rows.append((TARGETS["traced-first-call"], f"{ratio:.2f}x (min {ratio_min:.2f}x)",
                     _verdict(ratio <= 3.0, ratio_min <= 3.0)))
    return rows


def paired_ratio(result, reference) -> float | None:
    """The median over rounds of result time / reference time in the same round.

    The two ran one after the other in each round, so a slow spell of the machine slows both:
    on a noisy machine this moves less from run to run than the ratio of the medians. Shown
    next to the verdict, which still rests on the medians and the minima."""
    ratios = [a / b for a, b in zip(result.times_s, reference.times_s)]
    return statistics.median(ratios) if ratios else None


def add_rss(results, shape=bench_lstm.LARGE) -> None:
    """Peak resident-set growth of each CPU implementation of the ``shape`` LSTM step, each in a
    fresh process (see benchmarks/rss.py): the one measure that also covers PyTorch."""
    if not rss.available():
        return
    for r in results:
        if str(shape) in r.group:
            print(f"  RSS peak of {r.name} ...")
            r.rss_bytes = rss.measure(shape, r.name)


def _reference(device: str) -> str:
    return "numpy" if device == "cpu" else "cupy"


def report(results, meta: dict, device: str) -> str:
    """The Markdown that goes between the markers in docs/performance.md."""
    lines = [f"Measured {meta['date']} on {meta['cpus']} CPU cores ({meta['cpu']}"
             + (f", GPU {meta['gpu']}" if "gpu" in meta else "") + "); "
             f"Python {meta['python']}, NumPy {meta['numpy']}, PyTorch {meta['torch']}; "
             f"BLAS threads: {meta['blas_threads']}, PyTorch threads: {meta.get('torch_threads')}"
             + (f", CuPy {meta['cupy']}" if "cupy" in meta else "")
             + f"; load average (1, 5, 15 min) before the run {meta['load_average_before']}, "
             f"after {meta.get('load_average_after')}; {meta.get('repeats')} rounds.", ""]
    if device != "cpu":
        lines += ["The targets are the issues' targets for the CPU, applied here to the same "
                  "workloads on the GPU, against the reference on CuPy arrays, for comparison.", ""]
    lines += ["| target | measured | |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {s} |" for t, m, s in check_targets(results, device)]
    lines += ["", harness.markdown_table(results, baseline=_reference(device))]
    return "\n".join(lines)


def write_doc(text: str, device: str, doc: Path = DOC, section: str = "results") -> None:
    """Replace what is between ``<!-- SECTION:DEVICE:begin -->`` and ``...:end -->`` in the doc."""
    begin, end = f"<!-- {section}:{device}:begin -->", f"<!-- {section}:{device}:end -->"
    old = doc.read_text()
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(old):
        raise SystemExit(f"{doc}: no {begin} ... {end} markers to write the results between")
    doc.write_text(pattern.sub(lambda _: f"{begin}\n{text}\n{end}", old))


def _limit_threads(n: int) -> None:
    for var in THREAD_VARIABLES:
        if os.environ.get(var) != str(n):
            print(f"warning: {var} is not {n}: BLAS may already use more threads "
                  "(run as `python -m benchmarks --threads N`)")
    try:
        import torch
        torch.set_num_threads(n)
    except ImportError:
        pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--only", choices=("ops", "lstm", "profile", "instructions"),
                        help="run one part")
    parser.add_argument("--quick", action="store_true", help="few repeats, to try things out")
    parser.add_argument("--repeats", type=int, help="timed calls per workload (default 15; quick 3)")
    parser.add_argument("--no-memory", action="store_true", help="skip peak-memory measurement")
    parser.add_argument("--no-rss", action="store_true",
                        help="skip the resident-set peaks (one fresh process per implementation)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for BLAS and PyTorch (default 1; 0: the libraries' own "
                             "default, all cores). One thread gives steady numbers on a shared "
                             "machine: with two, one descheduled thread stalls the other.")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the results into docs/performance.md")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)

    if args.device == "cuda":
        import minigrad
        if not minigrad.cuda_available():
            raise SystemExit("--device cuda: CuPy with a GPU is needed (minigrad.cuda_available() is False)")
    if args.threads > 0:
        _limit_threads(args.threads)
    if args.only in ("profile", "instructions"):
        if args.only == "profile":
            text = profile_step.report(args.device)
        elif args.device != "cpu":
            raise SystemExit("--only instructions counts CPU instructions: leave out --device")
        else:
            text = instructions.report(instructions.measure(), machine(args.device)["date"])
        print(text)
        if args.write_docs:
            write_doc(text, args.device, section=args.only)
        return 0

    repeats = args.repeats or (3 if args.quick else 15)
    meta = machine(args.device)
    workloads = []
    if args.only in (None, "ops"):
        workloads += bench_ops.workloads(args.device)
    if args.only in (None, "lstm"):
        workloads += bench_lstm.workloads(args.device)
    results = harness.run_all(workloads, repeats, warmup=1 if args.quick else 2,
                              memory=not args.no_memory)
    if args.only in (None, "lstm"):
        results.append(bench_lstm.first_call_result(bench_lstm.SMALL, args.device,
                                                    repeats=3 if args.quick else 15))
    if args.device == "cpu" and args.only in (None, "lstm") and not (args.no_memory or args.no_rss):
        add_rss(results)
    meta["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    busiest = max(meta["load_average_before"][0], meta["load_average_after"][0])
    if busiest > 0.75 * (os.cpu_count() or 1):
        print(f"\nwarning: load average up to {busiest} on {os.cpu_count()} cores: other processes "
              "competed for the CPU; the timings are noisy")
    meta["repeats"] = repeats

    print()
    print(harness.text_table(results))
    print()
    for target, measured, status in check_targets(results, args.device):
        print(f"[{status}] {target}: {measured}")
    if args.json:
        args.json.write_text(harness.to_json(results, meta))
    if args.write_docs:
        write_doc(report(results, meta, args.device), args.device)
        if args.only is None and args.device == "cpu":
            print("profiling a minigrad step ...")
            write_doc(profile_step.report(args.device), args.device, section="profile")
        print(f"\nwrote the results into {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
