"""The backend boundary (only minigrad/backend.py imports NumPy or CuPy), devices and the
default device."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend

ROOT = Path(__file__).resolve().parents[2]
ARRAY_LIBRARIES = {"numpy", "cupy", "cupyx"}
NEEDS_NO_GPU = pytest.mark.skipif(mg.cuda_available(), reason="this machine has a usable GPU")


def imported_array_libraries(source: str) -> set:
    """Top-level names of the array libraries a module imports (statically or by name)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
              in ("import_module", "__import__") and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names = [node.args[0].value]
        else:
            continue
        found.update(n.split(".")[0] for n in names if n.split(".")[0] in ARRAY_LIBRARIES)
    return found


@pytest.mark.parametrize("source, expected", [
    ("import numpy as np", {"numpy"}),
    ("import os, cupy.cuda", {"cupy"}),
    ("from numpy.linalg import qr", {"numpy"}),
    ("def f():\n    import cupyx.scipy\n", {"cupyx"}),
    ("import importlib\nimportlib.import_module('numpy')", {"numpy"}),
    ("np = __import__('numpy')", {"numpy"}),
    ("from . import backend\nfrom .numpy_like import x\nimport numpyish", set()),
])
def test_the_import_detector_itself(source, expected):
    assert imported_array_libraries(source) == expected


def test_only_the_backend_imports_numpy_or_cupy():
    modules = sorted(p for package in ("minigrad", "nn") for p in (ROOT / package).rglob("*.py"))
    assert ROOT / "minigrad" / "backend.py" in modules
    offenders = {str(p.relative_to(ROOT)): sorted(found) for p in modules
                 if p != ROOT / "minigrad" / "backend.py"
                 and (found := imported_array_libraries(p.read_text(encoding="utf-8")))}
    assert offenders == {}, f"only minigrad/backend.py may import numpy/cupy: {offenders}"


# --- devices -----------------------------------------------------------------------------------
def test_tensors_live_on_the_requested_device(device):
    x = mg.tensor([1.0, 2.0], device=device)
    assert x.device == device
    assert mg.zeros(2, 3, device=device).device == device
    assert mg.randn(2, device=device).device == device
    assert isinstance(x.numpy(), np.ndarray)


def test_to_moves_there_and_back_with_gradients(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(device)
    assert y.device == device
    z = (y * y).sum().to("cpu")
    z.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_to_the_same_device_is_the_same_tensor():
    x = mg.tensor([1.0])
    assert x.to("cpu") is x and x.cpu() is x


def test_set_default_device_changes_where_new_tensors_go(device):
    mg.set_default_device(device)
    assert mg.get_default_device() == device
    assert mg.tensor([1.0]).device == device and mg.ones(2).device == device


def test_an_unknown_device_is_a_value_error():
    with pytest.raises(ValueError, match="'tpu'.*cpu.*cuda"):
        mg.set_default_device("tpu")
    with pytest.raises(ValueError, match="'gpu0'"):
        mg.tensor([1.0], device="gpu0")


@NEEDS_NO_GPU
@pytest.mark.parametrize("ask", [
    lambda: mg.tensor([1.0]).to("cuda"),
    lambda: mg.tensor([1.0], device="cuda"),
    lambda: mg.ones(2, device="cuda"),
    lambda: mg.set_default_device("cuda"),
    lambda: mg.tensor([1.0]).cuda(),
], ids=["to", "tensor", "ones", "set_default_device", "cuda()"])
def test_cuda_without_a_gpu_says_what_to_install(ask):
    with pytest.raises(RuntimeError, match=r"'cuda' is not available.*pip install cupy"):
        ask()
    assert mg.get_default_device() == "cpu"


@pytest.mark.cuda
@pytest.mark.skipif(not mg.cuda_available(), reason="needs CuPy and a GPU")
@pytest.mark.parametrize("make", [
    lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a @ b, lambda a, b: mg.concat([a, b]),
    lambda a, b: mg.where(np.array([True, False]), a, b), lambda a, b: a.maximum(b),
], ids=["add", "mul", "matmul", "concat", "where", "maximum"])
def test_mixing_devices_names_the_op_and_both_devices(make):
    cpu, gpu = mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0], device="cuda")
    for a, b in ((cpu, gpu), (gpu, cpu)):
        with pytest.raises(RuntimeError, match=r"(?i)^(add|mul|matmul|concat|where|maximum)\b(?=.*cpu)(?=.*cuda)"):
            make(a, b)


def _python_with_env(value: str) -> subprocess.CompletedProcess:
    code = ("import minigrad as mg; print(mg.get_default_device(), mg.tensor([1.0]).device, "
            "mg.zeros(1).device)")
    env = {**os.environ, "MINIGRAD_DEVICE": value,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_the_default_device_comes_from_minigrad_device_in_the_environment(device):
    result = _python_with_env(device)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [device] * 3


def test_a_bad_minigrad_device_fails_at_import_and_names_it():
    result = _python_with_env("tpu")
    assert result.returncode != 0
    assert "ValueError" in result.stderr and "'tpu'" in result.stderr


@NEEDS_NO_GPU
def test_minigrad_device_cuda_without_a_gpu_says_what_to_install():
    result = _python_with_env("cuda")
    assert result.returncode != 0
    assert "pip install cupy" in result.stderr


# --- random numbers --------------------------------------------------------------------------------
def test_manual_seed_makes_draws_repeatable(device):
    mg.manual_seed(123)
    first = [mg.randn(3, device=device).numpy(), mg.rand(2, 2, device=device).numpy(),
             mg.uniform(-2.0, -1.0, (4,), device=device).numpy()]
    mg.manual_seed(123)
    second = [mg.randn(3, device=device).numpy(), mg.rand(2, 2, device=device).numpy(),
              mg.uniform(-2.0, -1.0, (4,), device=device).numpy()]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert ((first[1] >= 0) & (first[1] < 1)).all() and ((first[2] >= -2) & (first[2] < -1)).all()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_scalar_gives_what_a_python_float_gives_in_that_dtype(dtype):
    x = np.linspace(-3, 3, 7).astype(dtype)
    half = backend.scalar(0.5, x)
    assert half.ndim == 0 and half.dtype == dtype and backend.scalar(0.5, x) is half
    for out, expected in ((x * half, x * 0.5), (half - x, 0.5 - x), (np.tanh(x * half), np.tanh(x * 0.5))):
        assert out.dtype == expected.dtype == dtype
        np.testing.assert_array_equal(out, expected)


def test_scalar_of_an_integer_array_is_the_number_itself():
    x = np.arange(3)
    assert backend.scalar(0.5, x) == 0.5 and type(backend.scalar(0.5, x)) is float
    np.testing.assert_allclose(mg.tensor(x).sigmoid().numpy(), 1 / (1 + np.exp(-x)), rtol=1e-15)
