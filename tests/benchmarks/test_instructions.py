"""The instruction counter reads Valgrind's summary, says what to install without it, runs its
workloads in the counted process, and tabulates against the NumPy reference."""
import pytest

from benchmarks import instructions


def test_reads_the_count_from_callgrinds_summary():
    output = "==12617== Events    : Ir\n==12617== Collected : 860405043\n==12617==\n"
    assert instructions.collected(output) == 860_405_043
    with pytest.raises(RuntimeError, match="no instruction count"):
        instructions.collected("valgrind: command not found")


def test_without_valgrind_it_says_what_to_install(monkeypatch):
    monkeypatch.setattr(instructions.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="apt-get install valgrind"):
        instructions.measure()


def test_every_group_has_the_numpy_reference_and_the_counted_process_runs_it():
    found = instructions.workloads()
    groups = {w.group for w in found}
    assert len(groups) == 2
    assert all(any(w.group == g and w.name == "numpy" for w in found) for g in groups)
    chain = next(i for i, w in enumerate(found) if w.ops and w.name == "minigrad")
    instructions.run_steps(chain, 1)


def test_report_gives_counts_per_op_and_against_the_reference():
    rows = [("chain", "minigrad", 100e6, 2000), ("chain", "numpy", 40e6, 2000),
            ("lstm", "numpy", 30e6, None), ("lstm", "minigrad", 45e6, None)]
    text = instructions.report(rows, "today")
    assert "| minigrad | 100.00 M | 50.0 k | 2.50x |" in text
    assert "| minigrad | 45.00 M | 1.50x |" in text
    assert text.count("| implementation |") == 2


def test_the_counted_process_hashes_with_one_seed_and_is_warm(monkeypatch):
    """String hashing decides which names collide in CPython's attribute caches: unseeded, one
    step's count moved by over 3% between two processes. And CPython 3.11 specialises a function
    called once a step (the backward walk, a ``while`` loop) only at its 8th call."""
    seen = {}

    def run(command, cwd, env, capture_output, text):
        seen.update(env)
        return type("Done", (), {"returncode": 0, "stderr": "==1== Collected : 42\n"})

    monkeypatch.setattr(instructions.subprocess, "run", run)
    assert instructions.count(0, 1) == 42
    assert seen["PYTHONHASHSEED"] == "0"
    calls = []
    workload = type("Workload", (), {"setup": lambda self: lambda: calls.append(1)})()
    monkeypatch.setattr(instructions, "workloads", lambda: [workload])
    instructions.run_steps(0, 0)  # what the process counted without steps runs: the warm-up
    assert len(calls) >= 8
