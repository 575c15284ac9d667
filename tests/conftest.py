"""Fixtures shared by the whole test suite.

``device`` parametrizes a test over the devices minigrad can use: ``"cpu"`` always, ``"cuda"``
(marked ``cuda``) only when CuPy sees a GPU; elsewhere the CUDA case is reported as skipped.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

import minigrad

# ``pytest --hypothesis-profile=long``: the differential fuzzer (tests/minigrad/test_random_graphs.py)
# draws this many programs per test instead of its bounded default (see docs/architecture.md)
settings.register_profile("long", max_examples=20_000, deadline=None,
                          suppress_health_check=list(HealthCheck))

_NO_GPU = "needs CuPy and a GPU (minigrad.cuda_available() is False)"

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=[pytest.mark.cuda,
                                pytest.mark.skipif(not minigrad.cuda_available(), reason=_NO_GPU)]),
]


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    """Each available device name in turn."""
    return request.param


@pytest.fixture(autouse=True)
def _restore_engine_state():
    """Leave the default device and grad mode as each test found them."""
    device = minigrad.get_default_device()
    grad_enabled = minigrad.is_grad_enabled()
    yield
    minigrad.set_default_device(device)
    if minigrad.is_grad_enabled() != grad_enabled:
        minigrad.function.STATE.grad_enabled = grad_enabled
        raise AssertionError("a test left grad mode switched; no_grad/enable_grad must restore it")


def pytest_report_header(config) -> str:
    if minigrad.cuda_available():
        return "minigrad: CuPy sees a GPU: the CUDA cases run too"
    return "minigrad: no GPU here (or no CuPy): every CUDA case will be skipped, on purpose"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say once why so many tests were skipped (the CUDA half of each device-parametrized test)."""
    skipped = terminalreporter.stats.get("skipped", [])
    gpu = sum(1 for r in skipped if any(why in str(r.longrepr) for why in ("CuPy and a GPU", "needs cuda")))
    if gpu:
        rest = len(skipped) - gpu
        terminalreporter.write_line(
            f"{gpu} skipped tests need CuPy and a GPU (they run after `pip install -e .[cuda]` on a "
            "machine with an NVIDIA GPU); everything else ran on the CPU"
            + (f"; {rest} more skipped for other reasons (pytest -rs lists them)" if rest else "")
            + ".")
