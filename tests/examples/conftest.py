"""The examples' ``--quick`` runs, made once per test session and shared by the tests."""
from __future__ import annotations

import pytest

from example_runner import Result, ok, run_example


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """``quick_run(name)``: the example's ``--quick`` run, made once per test session."""
    cache: dict[str, Result] = {}

    def get(name: str, *args: str, timeout: float = 150) -> Result:
        if name not in cache:
            out = tmp_path_factory.mktemp(name) / "out"
            cache[name] = ok(run_example(name, "--quick", *args, out=out, timeout=timeout))
        return cache[name]

    return get
