"""Writing pictures to files: the format follows the extension, every write is atomic.

``.dot``/``.gv`` is the DOT source; ``.svg``, ``.png``, ``.pdf`` are rendered by Graphviz's
``dot`` program; ``.html`` is the explorable page (:mod:`page`), one self-contained file. Where ``dot`` is missing the DOT source is written next to the requested file
and a warning says how to install Graphviz.
"""
from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import graphviz

from ..files import write_atomic

SOURCE_FORMATS = (".dot", ".gv")
RENDERED_FORMATS = (".svg", ".png", ".pdf")
PAGE_FORMATS = (".html", ".htm")  # the explorable page (page.py): the SVG and a script
INSTALL_HINT = ("install Graphviz to render it: `sudo apt-get install graphviz` (Debian/Ubuntu), "
                "`brew install graphviz` (macOS), `conda install graphviz`, or see "
                "https://graphviz.org/download/")


class GraphvizMissingWarning(UserWarning):
    """The ``dot`` program is not on PATH: only the DOT source was written."""


def save(graph: graphviz.Digraph, path: str | os.PathLike) -> Path:
    """Write ``graph`` to ``path`` in the format its extension names; returns the path written
    (the ``.dot`` file instead when Graphviz's ``dot`` program is missing)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in SOURCE_FORMATS:
        write_atomic(path, _writer(graph.source.encode("utf-8")))
        return path
    if suffix not in RENDERED_FORMATS + PAGE_FORMATS:
        known = ", ".join(SOURCE_FORMATS + RENDERED_FORMATS + PAGE_FORMATS)
        raise ValueError(f"save: cannot tell the format of {str(path)!r}; use one of {known}")
    if shutil.which("dot") is None:
        source = path.with_suffix(".dot")
        write_atomic(source, _writer(graph.source.encode("utf-8")))
        warnings.warn(f"Graphviz's `dot` program was not found, so {path} was not rendered; "
                      f"its DOT source is in {source}. {INSTALL_HINT}",
                      GraphvizMissingWarning, stacklevel=2)
        return source
    if suffix in PAGE_FORMATS:
        if getattr(graph, "records", None) is None:
            raise ValueError(f"save: {str(path)!r}: the explorable page needs what draw returned "
                             "(its records say what each box is)")
        from .page import page_html
        write_atomic(path, _writer(page_html(graph).encode("utf-8")))
        return path
    write_atomic(path, _writer(graph.pipe(format=suffix[1:])))
    return path


def _writer(data: bytes):
    return lambda f: f.write(data)
