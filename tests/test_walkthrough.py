"""docs/walkthrough.ipynb: stored without outputs, and every cell runs (nbclient + ipykernel)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "walkthrough.ipynb"
CLEAR = ".venv/bin/jupyter nbconvert --clear-output --inplace docs/walkthrough.ipynb"


def code_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def with_outputs(notebook: dict) -> list[int]:
    """Indices of the code cells that carry outputs or an execution count."""
    return [i for i, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"
            and (cell.get("outputs") or cell.get("execution_count") is not None)]


def test_stored_notebook_has_no_outputs():
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert code_cells(notebook)
    dirty = with_outputs(notebook)
    assert not dirty, f"cells {dirty} of {NOTEBOOK.name} keep outputs: clear them with `{CLEAR}`"


def test_with_outputs_finds_an_executed_cell():
    executed = {"cells": [{"cell_type": "markdown", "source": ""},
                          {"cell_type": "code", "outputs": [], "execution_count": None},
                          {"cell_type": "code", "outputs": [], "execution_count": 3},
                          {"cell_type": "code", "outputs": [{"output_type": "stream"}],
                           "execution_count": None}]}
    assert with_outputs(executed) == [2, 3]


def test_notebook_runs_and_draws(monkeypatch):
    """Every cell runs without an error, in docs/ as Jupyter would run it, against this
    checkout's packages; each cell that calls ``draw`` shows an SVG when Graphviz is here."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))       # the kernel imports this checkout
    monkeypatch.delenv("MPLBACKEND", raising=False)   # the kernel's inline backend draws the plot
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    cells = code_cells(notebook)
    errors = [out for cell in cells for out in cell.outputs if out.output_type == "error"]
    assert not errors
    shown = [{kind for out in cell.outputs for kind in out.get("data", {})} for cell in cells]
    assert any("image/png" in kinds for kinds in shown)       # the training run's plot
    if shutil.which("dot"):
        drawing = [kinds for cell, kinds in zip(cells, shown) if "draw(" in cell.source]
        assert len(drawing) >= 7 and all("image/svg+xml" in kinds for kinds in drawing)
