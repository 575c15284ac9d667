"""Every ```python block in README.md and docs/*.md runs, so does every ``minigrad draw`` command
they show, and every relative link resolves.

Each block runs on its own (a fresh namespace) in a temporary working directory, so a snippet
that writes a file leaves nothing behind. A block that needs something this machine may lack
says so in an HTML comment right above it, and is skipped when it is missing:

    <!-- requires: cuda -->     a GPU with CuPy
    <!-- requires: dot -->      Graphviz's `dot` program (rendering to PNG/SVG)
"""
from __future__ import annotations

import re
import shlex
import shutil
import textwrap
from pathlib import Path

import pytest

import minigrad

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent>[ \t]*)```python[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.MULTILINE | re.DOTALL)
REQUIRES = re.compile(r"<!--\s*requires:\s*(?P<needs>[\w ,-]+?)\s*-->\s*\Z")
AVAILABLE = {
    "cuda": minigrad.cuda_available,
    "dot": lambda: shutil.which("dot") is not None,
}


def extract_blocks(text: str) -> list[tuple[int, str, list[str]]]:
    """(line number, dedented code, requirements) for each ```python fence in ``text``."""
    blocks = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 2
        before = REQUIRES.search(text[:match.start()].rstrip() + "\n")
        needs = [n.strip() for n in before.group("needs").split(",")] if before else []
        blocks.append((line, textwrap.dedent(match.group("body")), needs))
    return blocks


def collect():
    for path in DOCUMENTS:
        if path.exists():
            for line, code, needs in extract_blocks(path.read_text(encoding="utf-8")):
                name = f"{path.relative_to(ROOT)}:{line}"
                marks = [pytest.mark.cuda] if "cuda" in needs else []  # `pytest -m cuda` runs it
                yield pytest.param(name, code, needs, id=name, marks=marks)


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A temporary working directory; minigrad's default device restored afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    device = minigrad.get_default_device()
    yield tmp_path
    minigrad.set_default_device(device)


@pytest.mark.parametrize("name, code, needs", list(collect()))
def test_snippet_runs(name, code, needs, sandbox):
    for need in needs:
        if need not in AVAILABLE:
            pytest.fail(f"{name}: unknown requirement {need!r} (known: {sorted(AVAILABLE)})")
        if not AVAILABLE[need]():
            pytest.skip(f"needs {need}")
    exec(compile(code, name, "exec"), {"__name__": "__docs__"})


DRAW = re.compile(r"^(?:\S*python3? -m zoo|\S*minigrad) (draw\b.*)$")
SHELL_FENCE = re.compile(r"^```(?:bash|sh|console)[ \t]*\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)


ANY_FENCE = re.compile(r"^[ \t]*```.*?^[ \t]*```", re.MULTILINE | re.DOTALL)


def draw_commands(text: str) -> list[str]:
    """The arguments of every ``minigrad draw ...`` command in ``text``: each line of a shell
    block (its comment dropped), and each inline code span (which may wrap a line); not a
    pattern such as ``minigrad draw ARCH ...``."""
    lines = [line.split("  #")[0].strip() for block in SHELL_FENCE.finditer(text)
             for line in block.group("body").splitlines()]
    spans = [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", ANY_FENCE.sub("", text))]
    return [m.group(1) for m in map(DRAW.match, lines + spans) if m and "..." not in m.group(1)]


def collect_draw_commands():
    for path in DOCUMENTS:
        if path.exists():
            for command in dict.fromkeys(draw_commands(path.read_text(encoding="utf-8"))):
                yield pytest.param(command, id=f"{path.relative_to(ROOT)}: {command}")


@pytest.mark.parametrize("command", list(collect_draw_commands()))
def test_documented_draw_command_runs(command, sandbox, capsys):
    """Every ``minigrad draw`` command the pages show runs as shown and writes what it names."""
    from zoo.cli import main

    args = shlex.split(command)
    out = args[args.index("--out") + 1] if "--out" in args else None
    if out and not out.endswith((".dot", ".gv")) and not AVAILABLE["dot"]():
        pytest.skip("needs dot")
    try:
        status = main(args)
    except SystemExit as exit_:                        # --help
        status = exit_.code
    assert status == 0, capsys.readouterr().err
    if out:
        assert (sandbox / out).stat().st_size > 0


def test_draw_commands_are_found_in_blocks_and_spans():
    text = ("```bash\nminigrad draw lstm --out a.svg   # a comment\npython -m zoo gallery x\n"
            "```\nsee `python -m zoo draw gru\n--steps 2` and `.venv/bin/python -m zoo "
            "draw --help`, not `minigrad draw ARCH ...`\n```\nplain fence\n```\n")
    assert draw_commands(text) == ["draw lstm --out a.svg", "draw gru --steps 2", "draw --help"]


def test_extract_blocks_reads_fences_and_requirements():
    text = ("intro\n```python\nx = 1\n```\n\n<!-- requires: cuda -->\n```python\ny = 2\n```\n"
            "- item\n\n  ```python\n  z = 3\n  ```\n```bash\nls\n```\n")
    blocks = extract_blocks(text)
    assert [(code, needs) for _, code, needs in blocks] == [
        ("x = 1\n", []), ("y = 2\n", ["cuda"]), ("z = 3\n", [])]
    assert [line for line, _, _ in blocks] == [3, 8, 13]


def test_the_documents_have_snippets():
    assert sum(len(extract_blocks(p.read_text(encoding="utf-8"))) for p in DOCUMENTS
               if p.exists()) >= 10


LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {github_anchor(m.group(1)) for m in re.finditer(r"^#+\s+(.+)$", text, re.MULTILINE)}


def test_github_anchor():
    assert github_anchor("What does W · [h_{t-1}, x_t] mean?") == "what-does-w--h_t-1-x_t-mean"
    assert github_anchor("The adding problem (`adding_problem.py`)") == \
        "the-adding-problem-adding_problempy"


@pytest.mark.parametrize("document", [p for p in DOCUMENTS if p.exists()],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(document):
    text = FENCE.sub("", document.read_text(encoding="utf-8"))
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue                                   # http:, https:, mailto:
        file, _, anchor = target.partition("#")
        path = (document.parent / file).resolve() if file else document
        if not path.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{document.name}: broken links: {broken}"
