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
