"""The reading guides point at real code: docs/autograd.md lists the path of
``y = a * b + c; y.backward()`` with file:line ranges, docs/reading-the-source.md the stops of a
first reading with their files' line counts. When the code moves, these tests fail and say what
the documents should now read."""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDES = ("docs/autograd.md", "docs/reading-the-source.md")
RANGE = re.compile(r"`(?P<path>[\w/]+\.py):(?P<start>\d+)-(?P<end>\d+)` `(?P<name>[\w.]+)`")
PATH_ROW = re.compile(r"^\|(?P<cells>.*\|)\s*$")
FILE_LINES = re.compile(r"`(?P<path>[\w/]+\.py)`[^|]*\|\s*(?P<lines>\d+) lines\s*\|")
MAX_PATH_LINES = 150  # the path of a * b + c; backward() (was about 425 lines in 4 files)
MAX_PATH_FILES = 3


def span(path: str, name: str) -> tuple[int, int] | None:
    """First and last line of the class or function ``name`` (``Class.method`` for a method)
    in ``path``, decorators included; None when there is none."""
    body = ast.parse((ROOT / path).read_text()).body
    found = None
    for part in name.split("."):
        found = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                      and n.name == part), None)
        if found is None:
            return None
        body = found.body
    return min([found.lineno] + [d.lineno for d in found.decorator_list]), found.end_lineno


def ranges(document: str) -> list:
    return [(m["path"], int(m["start"]), int(m["end"]), m["name"])
            for m in RANGE.finditer((ROOT / document).read_text())]


@pytest.mark.parametrize("document", GUIDES)
def test_every_range_names_code_that_is_there(document):
    wrong = []
    for path, start, end, name in ranges(document):
        real = span(path, name)
        if real is None:
            wrong.append(f"{path} has no {name}")
        elif real != (start, end):
            wrong.append(f"`{path}:{start}-{end}` `{name}` is now `{path}:{real[0]}-{real[1]}` "
                         f"({real[1] - real[0] + 1} lines)")
    assert ranges(document) and not wrong, f"{document}: " + "; ".join(wrong)


def path_table() -> list:
    """(path, start, end, name, lines) for each row of the table of the path in autograd.md,
    and the total it states."""
    text = (ROOT / "docs/autograd.md").read_text()
    table = text.split("## The path of", 1)[1].split("\n\n", 2)[2].split("\n\n", 1)[0]
    rows, total = [], None
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        found = RANGE.search(line)
        if found:
            rows.append((found["path"], int(found["start"]), int(found["end"]), found["name"],
                         int(cells[-1])))
        elif cells[0] == "**total**":
            total = int(cells[-1].strip("*"))
    return rows, total


def test_the_path_of_a_times_b_plus_c_is_short_and_adds_up():
    rows, total = path_table()
    assert len(rows) >= 10 and total is not None
    for path, start, end, name, lines in rows:
        assert lines == end - start + 1, f"{name}: {end - start + 1} lines, the table says {lines}"
    assert total == sum(r[-1] for r in rows), f"the lines add up to {sum(r[-1] for r in rows)}"
    assert total <= MAX_PATH_LINES
    assert len({r[0] for r in rows}) <= MAX_PATH_FILES


def test_function_apply_and_the_walk_stay_a_screenful():
    start, end = span("minigrad/function.py", "Function.apply")
    assert end - start + 1 <= 22  # (19 lines of algorithm, a docstring, the decorator)
    start, end = span("minigrad/function.py", "run_backward")
    assert end - start + 1 <= 40


def test_each_stop_gives_its_files_line_count():
    text = (ROOT / "docs/reading-the-source.md").read_text()
    stops = FILE_LINES.findall(text)
    assert len(stops) >= 7
    wrong = [f"`{path}` has {n} lines, not {lines}" for path, lines in stops
             if (n := len((ROOT / path).read_text().splitlines())) != int(lines)]
    assert not wrong, "docs/reading-the-source.md: " + "; ".join(wrong)


def test_the_checks_find_a_range_that_drifted(tmp_path):
    """The range check can fail: a range one line off is reported with the right one."""
    real = span("minigrad/function.py", "Function.apply")
    assert real is not None and span("minigrad/function.py", "Function.no_such_method") is None
    line = f"`minigrad/function.py:{real[0] + 1}-{real[1]}` `Function.apply`"
    (path, start, end, name), = [(m["path"], int(m["start"]), int(m["end"]), m["name"])
                                 for m in RANGE.finditer(line)]
    assert (start, end) != span(path, name)
