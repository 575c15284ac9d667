"""The ``minigrad draw`` command refuses a picture it cannot write, in one line, before any work."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zoo.cli import main

ROOT = Path(__file__).resolve().parents[2]


def unprivileged(command: list) -> list:
    """``command`` run so that file permissions apply: as it is for an ordinary user; for root,
    under setpriv without the capabilities that let root pass them (root still runs the venv's
    Python, which an unprivileged user may not be able to reach)."""
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, and setpriv (util-linux) is missing to drop its privileges")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]


def run_draw(out: Path) -> subprocess.CompletedProcess:
    command = unprivileged([sys.executable, "-m", "zoo", "draw", "lstm", "--out", str(out)])
    return subprocess.run(command, capture_output=True, text=True, cwd="/", timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("mode, words", [
    (0o000, "Permission denied"),  # /root/x.svg as a user: Path.is_dir() raised PermissionError
    (0o500, "Permission denied (the folder"),  # a folder we may enter but not write
])
def test_an_unwritable_out_is_one_line_and_status_1(tmp_path, mode, words):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(mode)
    try:
        done = run_draw(locked / "x.svg")
    finally:
        locked.chmod(0o700)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"minigrad draw: error: cannot write {locked / 'x.svg'}: {words}")
    assert list(locked.iterdir()) == []


def test_a_missing_folder_is_refused_not_created(monkeypatch, tmp_path, capsys):
    # --out /new/dir/x.svg silently created /new/dir; as torch.save and savefig do, the folder
    # must exist
    monkeypatch.setattr("zoo.cli.run_model", lambda *a, **k: pytest.fail("model was run"))
    out = tmp_path / "new" / "dir" / "x.svg"
    assert main(["draw", "lstm", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == (f"minigrad draw: error: cannot write {out}: there is no folder {out.parent} "
                   f"(create it first: mkdir -p {out.parent})\n")
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_the_current_folder_is_written(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["draw", "rnn", "--steps", "1", "--out", "x.dot"]) == 0
    assert (tmp_path / "x.dot").read_text().startswith("digraph")


def test_a_negative_seed_names_the_flag(capsys):
    # NumPy's "expected non-negative integer" named no flag
    with pytest.raises(SystemExit) as exit_:
        main(["draw", "lstm", "--seed", "-5"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "argument --seed: expected a non-negative integer, got -5" in err
