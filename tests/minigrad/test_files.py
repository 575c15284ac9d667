"""minigrad.files.write_atomic: the target is replaced whole or not at all."""
import os
import stat

import pytest

from minigrad.files import write_atomic


def test_writes_the_data_with_ordinary_permissions(tmp_path):
    path = tmp_path / "sub" / "out.bin"
    write_atomic(path, lambda f: f.write(b"new data"))
    assert path.read_bytes() == b"new data"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")

    def half_then_fail(f):
        f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, half_then_fail)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_a_killed_write_leaves_the_old_file_and_the_next_write_removes_its_temporary(tmp_path):
    import signal
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "model.npz"
    path.write_bytes(b"old")
    others = [tmp_path / ".model.npz2.abcdefgh.tmp", tmp_path / ".other.npz.abcdefgh.tmp"]
    for other in others:  # another target's temporaries are not ours to remove
        other.write_bytes(b"x")
    killed = ("import os, signal, sys\n"
              "from minigrad.files import write_atomic\n"
              "def half_then_killed(f):\n"
              "    f.write(b'half'); f.flush()\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n"
              "write_atomic(sys.argv[1], half_then_killed)\n")
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", killed, str(path)], cwd=root,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert run.returncode == -signal.SIGKILL
    assert path.read_bytes() == b"old"
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".model.npz.")]
    assert len(leftovers) == 1 and leftovers[0].read_bytes() == b"half"

    write_atomic(path, lambda f: f.write(b"new"))
    assert path.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model.npz"] + [o.name for o in others])
