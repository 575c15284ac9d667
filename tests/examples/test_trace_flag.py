"""--trace and --eager train to the same numbers (same seed): the traced step is the eager
step's array calls, replayed."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from example_runner import EXAMPLES, checkpoint_params, ok, run_example


@pytest.mark.parametrize("name", ["copy_memory", "adding_problem", "sine_wave"])
def test_trace_and_eager_give_identical_results(name, tmp_path):
    runs = {mode: ok(run_example(name, "--quick", "--steps", "12", mode, out=tmp_path / mode,
                                 timeout=300))
            for mode in ("--trace", "--eager")}
    assert runs["--trace"].summary() == runs["--eager"].summary()
    traced, eager = (checkpoint_params(r.out) for r in runs.values())
    assert traced.keys() == eager.keys() and traced
    for file, params in traced.items():
        for key, value in params.items():
            np.testing.assert_array_equal(value, eager[file][key], err_msg=f"{file}: {key}")


def test_help_says_which_is_the_default():
    done = subprocess.run([sys.executable, str(EXAMPLES / "copy_memory.py"), "--help"],
                          capture_output=True, text=True, cwd=EXAMPLES)
    text = " ".join(done.stdout.split())
    assert "--trace" in text and "--eager" in text and "default: traced" in text
