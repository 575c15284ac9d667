"""docs/backprop-through-time.md shows what source() prints today: each ```python block that
prints a trace's source is followed by a ```py block holding its output, and they agree."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "backprop-through-time.md"
PAIR = re.compile(r"```python\n(?P<code>.*?)```\n.*?```py\n(?P<printed>.*?)```", re.DOTALL)


def pairs():
    return [(m.group("code"), m.group("printed")) for m in PAIR.finditer(DOC.read_text())]


def test_the_doc_shows_the_lstm_and_the_gru():
    assert len(pairs()) == 2


@pytest.mark.parametrize("code, printed", pairs(), ids=["lstm", "gru"])
def test_the_printed_source_is_current(code, printed):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), {"__name__": "__docs__"})
    assert out.getvalue().rstrip("\n") == printed.rstrip("\n")


def test_the_conveyor_belt_line_is_in_the_derived_code():
    lstm_printed = pairs()[0][1]
    assert "dC_2 = dC_3 * f_3 + dtanh_2 * (1 - tanh_2 * tanh_2)" in lstm_printed
    assert "df_2 = dC_2 * C_1" in lstm_printed
