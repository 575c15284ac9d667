"""The harness counts calls, takes the median, and measures the peak of one step."""
import numpy as np
import pytest

from benchmarks import bench_lstm, harness, rss


def test_time_step_runs_warmup_then_timed_repeats():
    calls = []
    times = harness.time_step(lambda: calls.append(1), repeats=5, warmup=2)
    assert len(calls) == 7 and len(times) == 5 and all(t >= 0 for t in times)


def test_run_workload_reports_median_and_min_of_the_timed_calls(monkeypatch):
    fake = iter([0.0, 3.0, 10.0, 11.0, 20.0, 22.0])  # three timed calls: 3, 1, 2 seconds
    monkeypatch.setattr(harness.time, "perf_counter", lambda: next(fake))
    setups = []

    def setup():
        setups.append(1)
        return lambda: None

    result = harness.run_workload(harness.Workload("g", "w", setup, memory=None, ops=4),
                                  repeats=3, warmup=1)
    assert setups == [1]
    assert result.times_s == [3.0, 1.0, 2.0]
    assert result.median_s == 2.0 and result.min_s == 1.0 and result.per_op_s == 0.5


def test_peak_memory_sees_the_arrays_made_during_the_step_only():
    kept = np.ones(4_000_000)  # allocated before the step: not counted

    def step():
        a = np.ones(1_000_000)        # 8 MB, freed before the next one
        del a
        b = np.ones(2_000_000)        # 16 MB
        return b.sum() + kept[0]

    peak = harness.peak_memory(step, harness.TRACEMALLOC)
    assert 16_000_000 <= peak < 17_000_000


def test_peak_memory_unknown_method_is_an_error():
    with pytest.raises(ValueError, match="unknown method"):
        harness.peak_memory(lambda: None, "rss")
    assert harness.peak_memory(lambda: None, None) is None


def test_markdown_table_gives_ratios_to_the_baseline():
    results = [harness.Result("g", "numpy", 2.0, 1.5, peak_bytes=2 * 2**20),
               harness.Result("g", "minigrad", 3.0, 2.5, peak_bytes=3 * 2**20)]
    table = harness.markdown_table(results, baseline="numpy")
    assert "| minigrad | 3000.0 | 2500.0 | 1.50x | 3.0 | 1.50x |" in table
    assert "| numpy | 2000.0 | 1500.0 | 1.00x | 2.0 | 1.00x |" in table


def test_markdown_table_names_how_memory_was_measured():
    results = [harness.Result("g", "cupy", 2.0, 1.5, peak_bytes=2**20, memory=harness.CUPY_POOL),
               harness.Result("g", "pytorch", 1.0, 0.5, peak_bytes=2**20, memory=harness.TORCH_CUDA)]
    table = harness.markdown_table(results, baseline="cupy")
    assert f"| peak MiB ({harness.CUPY_POOL}/{harness.TORCH_CUDA}) | memory / cupy |" in table


def test_run_group_takes_turns_starting_each_round_with_the_next_workload():
    """Each workload follows each other equally often: which step runs after which shifts the
    timings on a machine where page faults are dear."""
    order = []

    def workload(name):
        return harness.Workload("g", name, lambda: (lambda: order.append(name)), memory=None)

    results = harness.run_group([workload("a"), workload("b"), workload("c")], repeats=3,
                                warmup=1)
    assert order == ["a", "b", "c"] + ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert [r.name for r in results] == ["a", "b", "c"]
    assert all(len(r.times_s) == 3 for r in results)


@pytest.mark.skipif(not rss.available(), reason="needs Linux's /proc/self/clear_refs")
def test_resident_set_peak_agrees_with_tracemalloc_for_the_numpy_lstm():
    shape = bench_lstm.Shape(T=16, B=64, I=64, H=128)
    traced = harness.peak_memory(bench_lstm.numpy_step(shape), harness.TRACEMALLOC)
    resident = rss.measure(shape, "numpy")
    assert abs(resident - traced) < 0.15 * traced
