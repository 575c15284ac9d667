"""The targets are read off the results correctly, and the doc is rewritten only between its markers."""
import pytest

from benchmarks import bench_lstm, run_all
from benchmarks.harness import Result

LARGE, SMALL = str(bench_lstm.LARGE), str(bench_lstm.SMALL)


def results(chain_mg=0.05, chain_pt=0.1, large=(1.2, 1.0), memory=(110, 100), large_min=None):
    large_min = large_min or large
    return [Result("chain of 10000 ops", "minigrad", chain_mg, chain_mg, ops=10_000),
            Result("chain of 10000 ops", "pytorch", chain_pt, chain_pt, ops=10_000),
            Result(f"LSTM {LARGE}", "numpy", large[1], large_min[1], peak_bytes=memory[1]),
            Result(f"LSTM {LARGE}", "minigrad", large[0], large_min[0], peak_bytes=memory[0])]


def test_targets_met_not_met_and_not_measured():
    rows = run_all.check_targets(results(), "cpu")
    status = {target: s for target, _, s in rows}
    assert status[run_all.TARGETS["chain"]] == "met"            # 5 µs/op, 2x faster than PyTorch
    assert status[run_all.TARGETS["lstm-large"]] == "not met"   # 1.2x > 1.10x
    assert status[run_all.TARGETS["lstm-small"]] == "not measured"
    assert status[run_all.TARGETS["memory"]] == "met"           # 1.1x <= 1.2x
    assert dict((t, m) for t, m, _ in rows)[run_all.TARGETS["lstm-large"]].startswith("1.20x")


@pytest.mark.parametrize("chain_mg, chain_pt", [(0.07, 0.2), (0.05, 0.06)])
def test_chain_target_needs_both_the_time_and_the_speedup(chain_mg, chain_pt):
    rows = run_all.check_targets(results(chain_mg, chain_pt), "cpu")
    assert rows[0][2] == "not met"


def test_median_and_minimum_must_agree_for_a_verdict():
    rows = run_all.check_targets(results(large=(1.0, 1.0), large_min=(1.3, 1.0)), "cpu")
    assert rows[1] == (run_all.TARGETS["lstm-large"], "1.00x (min 1.30x)", run_all.NOISY)


def test_write_doc_replaces_only_the_marked_section(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text("intro\n<!-- results:cpu:begin -->\nold\n<!-- results:cpu:end -->\noutro\n")
    run_all.write_doc("new table", "cpu", doc)
    assert doc.read_text() == ("intro\n<!-- results:cpu:begin -->\nnew table\n"
                               "<!-- results:cpu:end -->\noutro\n")
    with pytest.raises(SystemExit, match="markers"):
        run_all.write_doc("x", "cuda", doc)


def test_the_per_round_ratio_pairs_the_rounds():
    # round 2 was slow for both: it moves the medians' ratio but not the per-round one
    mg = Result(f"LSTM {LARGE}", "minigrad", 2.0, 1.0, times_s=[1.0, 4.0, 2.0])
    ref = Result(f"LSTM {LARGE}", "numpy", 1.0, 1.0, times_s=[1.0, 4.0, 1.0])
    assert run_all.paired_ratio(mg, ref) == 1.0
    measured = {t: m for t, m, _ in run_all.check_targets([mg, ref], "cpu")}
    assert measured[run_all.TARGETS["lstm-large"]] == "2.00x (min 1.00x; per round 1.00x)"


def test_traced_targets():
    found = results() + [
        Result("chain of 10000 ops", "minigrad traced", 0.03, 0.03, ops=10_000),    # 3 µs/op
        Result(f"LSTM {LARGE}", "minigrad traced", 1.05, 1.05, peak_bytes=95),      # 1.05x
        Result(f"LSTM {SMALL}", "numpy", 1.0, 1.0),
        Result(f"LSTM {SMALL}", "minigrad", 2.0, 2.0),
        Result(f"LSTM {SMALL}", "minigrad traced", 1.1, 1.1),
        Result(f"first call of a traced LSTM step {SMALL}", "minigrad traced, first call", 7.0, 5.0),
    ]
    status = {t: s for t, _, s in run_all.check_targets(found, "cpu")}
    assert status[run_all.TARGETS["traced-chain"]] == "met"
    assert status[run_all.TARGETS["traced-lstm-large"]] == "not met"   # 1.05x > 1.02x
    assert status[run_all.TARGETS["traced-lstm-small"]] == "met"       # 1.10x <= 1.15x
    assert status[run_all.TARGETS["traced-memory"]] == "met"           # 0.95x <= 1.0x
    assert status[run_all.TARGETS["traced-first-call"]] == run_all.NOISY  # 3.5x, min 2.5x
