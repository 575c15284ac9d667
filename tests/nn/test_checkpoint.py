"""nn.save / nn.load: round trips of nested checkpoints, exact resume of training, atomic writes,
and clear errors for missing, truncated, corrupt or foreign files."""
from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

import minigrad
import nn
from minigrad import backend
from nn import optim


def _model():
    return nn.Sequential(nn.Linear(3, 8), nn.Linear(8, 2)).double()


def test_round_trip_of_nested_checkpoint(tmp_path):
    minigrad.manual_seed(0)
    model = _model()
    obj = {
        "model": model.state_dict(),
        "step": 10,
        "loss": 0.125,
        "name": "run/1",
        "done": False,
        "nothing": None,
        "history": [1.5, 2.5],
        "shape": (3, 4),
        "by_int": {0: np.arange(3, dtype=np.int32), 7: "seven"},
        "raw": np.eye(2, dtype=np.float32),
        "same/name": np.zeros(1),  # flattens like ["same"]["name"]: both must survive
        "same": {"name": np.ones(1)},
    }
    path = tmp_path / "ckpt.npz"
    nn.save(obj, path)
    back = nn.load(path)
    assert set(back) == set(obj)
    for k, v in model.state_dict().items():
        assert isinstance(back["model"][k], minigrad.Tensor)
        assert back["model"][k].dtype == minigrad.float64
        np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy())
    assert list(back["model"]) == list(obj["model"])
    for key in ("step", "loss", "name", "done", "nothing", "history", "shape"):
        assert back[key] == obj[key] and type(back[key]) is type(obj[key])
    assert list(back["by_int"]) == [0, 7] and back["by_int"][7] == "seven"
    assert back["by_int"][0].dtype == np.int32 and backend.is_array(back["raw"])
    np.testing.assert_array_equal(back["same/name"], np.zeros(1))
    np.testing.assert_array_equal(back["same"]["name"], np.ones(1))


def test_file_is_a_plain_npz_without_pickles(tmp_path):
    path = tmp_path / "m.npz"
    nn.save({"model": _model().state_dict()}, path)
    with np.load(path, allow_pickle=False) as archive:
        assert "model/0.weight" in archive.files and "__minigrad__" in archive.files
        assert archive["model/0.weight"].shape == (8, 3)


def test_model_state_loads_into_a_fresh_model(tmp_path):
    minigrad.manual_seed(1)
    a = _model()
    nn.save(a.state_dict(), tmp_path / "a.npz")
    b = _model()
    b.load_state_dict(nn.load(tmp_path / "a.npz"))
    x = minigrad.tensor(np.ones((2, 3)))
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def _train(model, opt, steps, x, y):
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()


def test_resume_from_checkpoint_equals_uninterrupted_training(tmp_path):
    rng = np.random.default_rng(0)
    x, y = minigrad.tensor(rng.standard_normal((16, 3))), minigrad.tensor(rng.standard_normal((16, 2)))
    minigrad.manual_seed(2)
    straight = _model()
    start = {k: v.numpy().copy() for k, v in straight.state_dict().items()}
    opt = optim.Adam(straight.parameters(), lr=0.01, amsgrad=True)
    _train(straight, opt, 10, x, y)

    first = _model()
    first.load_state_dict(start)
    opt1 = optim.Adam(first.parameters(), lr=0.01, amsgrad=True)
    _train(first, opt1, 4, x, y)
    nn.save({"model": first.state_dict(), "optim": opt1.state_dict(), "step": 4}, tmp_path / "c.npz")

    ckpt = nn.load(tmp_path / "c.npz")
    resumed = _model()
    resumed.load_state_dict(ckpt["model"])
    opt2 = optim.Adam(resumed.parameters())
    opt2.load_state_dict(ckpt["optim"])
    assert ckpt["step"] == 4 and opt2.param_groups[0]["lr"] == 0.01
    _train(resumed, opt2, 6, x, y)
    for (name, p), q in zip(straight.named_parameters(), resumed.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)


def test_load_onto_device(tmp_path, device):
    nn.save({"w": minigrad.tensor(np.ones(2)), "a": np.zeros(2)}, tmp_path / "d.npz")
    back = nn.load(tmp_path / "d.npz", device=device)
    assert back["w"].device == device and backend.device_of(back["a"]) == device


def test_save_overwrites_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save({"step": 1}, path)
    nn.save({"step": 2}, path)
    assert nn.load(path)["step"] == 2
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_failed_write_leaves_the_old_file_untouched(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    nn.save({"step": 1, "w": np.ones(100)}, path)
    before = path.read_bytes()

    def broken_save_npz(file, arrays):
        file.write(b"PK\x03\x04 half a zip file")
        raise OSError("disk full")

    monkeypatch.setattr(backend, "save_npz", broken_save_npz)
    with pytest.raises(OSError, match="disk full"):
        nn.save({"step": 2, "w": np.zeros(100)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_failed_rename_leaves_no_file_behind(tmp_path, monkeypatch):
    path = tmp_path / "new.npz"

    def broken_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename failed"):
        nn.save({"step": 2}, path)
    assert os.listdir(tmp_path) == []


def test_unsupported_values_are_refused_before_writing(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match=r"cannot store a set at meta/tags"):
        nn.save({"meta": {"tags": {1, 2}}}, path)
    with pytest.raises(TypeError, match="dict keys must be str or int"):
        nn.save({(1, 2): 3}, path)
    assert not path.exists()


def test_non_numeric_arrays_are_refused_before_writing(tmp_path):
    path = tmp_path / "x.npz"
    nn.save({"m": np.ones(2)}, path)
    before = path.read_bytes()
    # minigrad.tensor refuses an object array; one made without its checks must still be refused
    objects = minigrad.Tensor._make(np.array([minigrad.tensor(1.0), minigrad.tensor(2.0)], dtype=object))
    with pytest.raises(TypeError, match="cannot store the object array at m"):
        nn.save({"m": objects}, path)
    with pytest.raises(TypeError, match="cannot store the <U1 array at meta/names"):
        nn.save({"meta": {"names": np.array(["a", "b"])}}, path)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["x.npz"]


def test_keys_named_like_numpy_savez_arguments_round_trip(tmp_path):
    path = tmp_path / "x.npz"
    nn.save({"file": np.ones(2), "allow_pickle": np.zeros(3)}, path)
    back = nn.load(path)
    np.testing.assert_array_equal(back["file"], np.ones(2))
    np.testing.assert_array_equal(back["allow_pickle"], np.zeros(3))


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        nn.load(tmp_path / "nope.npz")


def test_truncated_file_names_the_path(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save(_model().state_dict(), path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 10):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=str(path)):
            nn.load(path)


def test_corrupt_file_names_the_path(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    data[300:340] = b"x" * 40  # inside the stored array: the CRC check fails
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=str(path)):
        nn.load(path)
    path.write_bytes(b"this is not a zip file at all")
    with pytest.raises(ValueError, match=str(path)):
        nn.load(path)


def test_every_flipped_byte_gives_a_value_error_or_the_saved_values(tmp_path):
    """Flipped bytes reach zipfile's and NumPy's parsers, which raise many kinds of error
    (NotImplementedError for a compression method, RuntimeError for an encryption flag...);
    a flip in a byte nothing checks (a timestamp) must still give the saved values."""
    path = tmp_path / "ckpt.npz"
    state = nn.Linear(2, 2).state_dict()
    nn.save({"model": state, "step": 3}, path)
    data = path.read_bytes()
    failures = 0
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0xFF
        path.write_bytes(bytes(flipped))
        try:
            back = nn.load(path)
        except ValueError as err:
            assert str(path) in str(err), f"byte {i}: {err}"
            failures += 1
            continue
        assert back["step"] == 3, f"byte {i}"
        for k, v in state.items():
            np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy(), err_msg=f"byte {i}")
    assert failures > len(data) // 2


def test_npy_text_and_directory_are_value_errors_naming_the_path(tmp_path):
    npy = tmp_path / "w.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(ValueError, match=f"{npy}.*a .npy file"):
        nn.load(npy)
    text = tmp_path / "notes.txt"
    text.write_text("step: 3\n")
    with pytest.raises(ValueError, match=f"{text}.*does not start like an .npz"):
        nn.load(text)
    with pytest.raises(ValueError, match=str(tmp_path)):
        nn.load(tmp_path)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=str(empty)):
        nn.load(empty)


def test_unknown_device_is_named_as_such(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save({"w": np.ones(2)}, path)
    with pytest.raises(ValueError, match="unknown device 'gpu'") as err:
        nn.load(path, device="gpu")
    assert "damaged" not in str(err.value)  # the file is fine


def test_foreign_npz_and_damaged_header_are_reported(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, w=np.ones(2))
    with pytest.raises(ValueError, match="not a minigrad checkpoint"):
        nn.load(foreign)
    damaged = tmp_path / "damaged.npz"
    np.savez(damaged, __minigrad__=np.array('{"format": 1, "tree": {"tensor": "gone"}}'))
    with pytest.raises(ValueError, match="damaged.npz.*damaged"):
        nn.load(damaged)
    assert zipfile.is_zipfile(damaged)


def test_a_header_nested_100k_deep_is_a_value_error(tmp_path):
    # json.loads raised RecursionError (the documented error is ValueError)
    deep = tmp_path / "deep.npz"
    tree = '{"list": [' * 100_000 + "1" + "]}" * 100_000
    np.savez(deep, __minigrad__=np.array('{"format": 1, "tree": ' + tree + "}"))
    with pytest.raises(ValueError, match="deep.npz.*nests deeper than 100 levels"):
        nn.load(deep)
    just_too_deep = tmp_path / "just_too_deep.npz"  # deep enough for _decode, not for json
    tree = '{"list": [' * 150 + "1" + "]}" * 150
    np.savez(just_too_deep, __minigrad__=np.array('{"format": 1, "tree": ' + tree + "}"))
    with pytest.raises(ValueError, match="nests deeper than 100 levels"):
        nn.load(just_too_deep)
    fine = tmp_path / "fine.npz"
    nested = [[[[{"a": [1, (2, 3)]}]]]]
    nn.save(nested, fine)
    assert nn.load(fine) == nested


def test_arrays_declaring_more_bytes_than_the_file_holds_are_refused_before_allocating(tmp_path, monkeypatch):
    # a deflated member of zeros declares 250M float64 (2 GB) in a 2 MB file: loading it allocated
    # the 2 GB; the declared sizes are checked against the file first
    bomb = tmp_path / "bomb.npz"
    header = {"descr": "<f8", "fortran_order": False, "shape": (250_000_000,)}
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("__minigrad__.npy", "w") as f:
            np.lib.format.write_array(f, np.array('{"format": 1, "tree": {"tensor": "w"}}'))
        with archive.open("w.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, header)
            zeros = bytes(8 * 1_000_000)
            for _ in range(5):  # 40 MB of zeros is enough: the header is what is read
                f.write(zeros)
    assert bomb.stat().st_size < 1_000_000
    allocated = []
    real_empty = np.empty
    monkeypatch.setattr(np, "empty", lambda *a, **k: allocated.append(a) or real_empty(*a, **k))
    with pytest.raises(ValueError, match=r"bomb.npz.*declare 2,000,000,\d+ bytes but the file has "
                                         r"[\d,]+ \(the largest, 'w.npy', is \(250000000,\) float64\)"):
        nn.load(bomb)
    assert not allocated


def test_a_checkpoint_declares_no_more_than_its_file_holds(tmp_path):
    path = tmp_path / "ok.npz"
    nn.save({"w": minigrad.zeros(1000, 100), "empty": minigrad.zeros(0, 3), "step": 3}, path)
    loaded = nn.load(path)
    assert loaded["w"].shape == (1000, 100) and loaded["empty"].shape == (0, 3)
