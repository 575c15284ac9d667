"""The one place that imports NumPy or CuPy.

Every other module reaches the array library through here:
``xp = get_array_module(array)`` inside ops, ``array_module(device)`` to create arrays on a
device. Devices are the strings ``"cpu"`` (NumPy) and ``"cuda"`` (CuPy, optional). The default
device comes from :func:`set_default_device` or the environment variable ``MINIGRAD_DEVICE``.
"""
from __future__ import annotations

import os
import zipfile

import numpy

try:  # CuPy is optional: `pip install .[cuda]`
    import cupy
except ImportError:  # pragma: no cover - depends on the machine
    cupy = None

DEVICES = ("cpu", "cuda")
CUDA_INSTALL_HINT = (
    "install CuPy for your CUDA version, for example `pip install cupy-cuda12x` "
    "(or `pip install .[cuda]`), on a machine with an NVIDIA GPU"
)

float16 = numpy.dtype("float16")
float32 = numpy.dtype("float32")
float64 = numpy.dtype("float64")
int32 = numpy.dtype("int32")
int64 = numpy.dtype("int64")
bool_ = numpy.dtype("bool")
DEFAULT_FLOAT = float32
ndarray = numpy.ndarray
AxisError = numpy.exceptions.AxisError


def _cuda_usable() -> bool:
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no driver, no device
        return False


def cuda_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return _cuda_usable()


def check_device(device: str | None) -> str:
    """Validate a device name; ``None`` means the default device."""
    if device is None:
        return _default_device
    device = str(device)
    if device.startswith("cuda:"):  # accept PyTorch's "cuda:0" spelling for the current GPU
        device = "cuda"
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}: expected one of {DEVICES}")
    if device == "cuda" and not _cuda_usable():
        reason = "CuPy is not installed" if cupy is None else "CuPy finds no GPU"
        raise RuntimeError(f"device 'cuda' is not available ({reason}): {CUDA_INSTALL_HINT}")
    return device


_default_device = "cpu"


def set_default_device(device: str) -> None:
    """Make ``device`` the default for new tensors and modules."""
    global _default_device
    _default_device = check_device(device)


def get_default_device() -> str:
    return _default_device


if os.environ.get("MINIGRAD_DEVICE"):
    set_default_device(os.environ["MINIGRAD_DEVICE"])


# --- tracing: minigrad.trace computes on stand-ins for arrays that record the calls made on
# them. It registers their types here, each with the namespace that ops get from
# get_array_module (a recording copy of numpy or cupy) and the device it stands for. ---------
TRACED_TYPES: dict = {}  # stand-in type -> (recording namespace, device)


def register_traced_type(cls, namespace, device: str) -> None:
    """Make ``get_array_module``, ``device_of`` and ``is_array`` treat ``cls`` as an array."""
    TRACED_TYPES[cls] = (namespace, device)


if cupy is None:
    def get_array_module(array):
        """The array library (numpy or cupy) that ``array`` belongs to."""
        if type(array) is numpy.ndarray:
            return numpy
        traced = TRACED_TYPES.get(type(array))
        return numpy if traced is None else traced[0]

    def device_of(array) -> str:
        traced = TRACED_TYPES.get(type(array))
        return "cpu" if traced is None else traced[1]
else:  # pragma: no cover - needs CuPy
    def get_array_module(array):
        """The array library (numpy or cupy) that ``array`` belongs to."""
        if isinstance(array, cupy.ndarray):
            return cupy
        traced = TRACED_TYPES.get(type(array))
        return numpy if traced is None else traced[0]

    def device_of(array) -> str:
        if isinstance(array, cupy.ndarray):
            return "cuda"
        traced = TRACED_TYPES.get(type(array))
        return "cpu" if traced is None else traced[1]


def array_module(device: str):
    """The array library for a device name."""
    return cupy if check_device(device) == "cuda" else numpy


def format_array(array, prefix: str = "") -> str:
    """NumPy's text for an array's values, indented to follow ``prefix``."""
    return numpy.array2string(numpy.asarray(array), separator=", ", prefix=prefix)


def is_array(obj) -> bool:
    return (isinstance(obj, numpy.ndarray) or (cupy is not None and isinstance(obj, cupy.ndarray))
            or type(obj) in TRACED_TYPES)


ARRAYS_AND_NUMBERS = (float, int, complex, numpy.ndarray, numpy.number, numpy.bool_) + (
    (cupy.ndarray,) if cupy is not None else ())
"""What can meet a tensor in a comparison: arrays and Python or NumPy numbers (bools included)."""


def is_complex(obj) -> bool:
    """Whether ``obj`` is a complex number, or an array or NumPy scalar of a complex dtype."""
    return isinstance(obj, complex) or getattr(getattr(obj, "dtype", None), "kind", None) == "c"


def to_device(array, device: str):
    """Copy ``array`` to ``device`` (no copy when it is already there)."""
    device = check_device(device)
    if device_of(array) == device:
        return array
    if device == "cuda":
        return cupy.asarray(array)
    return cupy.asnumpy(array)


def to_numpy(array) -> numpy.ndarray:
    """A NumPy array wherever the data lives."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy.asnumpy(array)
    return numpy.asarray(array)


def as_dtype(dtype):
    """Normalise a dtype spelling (``"float32"``, ``numpy.float64``, ...) to a dtype object."""
    return None if dtype is None else numpy.dtype(dtype)


def is_floating(dtype) -> bool:
    return numpy.issubdtype(dtype, numpy.floating)


def result_type(*arrays_or_dtypes):
    return numpy.result_type(*arrays_or_dtypes)


def asarray(data, dtype=None, device: str | None = None):
    """Convert Python data or an array to a backend array on ``device``.

    Python floats and float lists become float32 (the default float dtype); an existing array
    keeps its dtype unless ``dtype`` is given.
    """
    device = check_device(device)
    if dtype is None and not is_array(data) and not isinstance(data, numpy.generic):
        given = data
        try:
            data = numpy.asarray(data)
        except ValueError as err:  # rows of different lengths
            raise ValueError(f"tensor: cannot make a tensor of {_describe(given)}: {err}") from None
        if data.dtype.kind not in "biuf":
            raise TypeError(f"tensor: cannot make a tensor of {_describe(given)}: NumPy makes "
                            f"dtype {data.dtype} of it, not real numbers (to join tensors, use "
                            "minigrad.stack)")
        if data.dtype == float64:
            data = data.astype(DEFAULT_FLOAT)
    if isinstance(data, numpy.ndarray):
        data = numpy.asarray(data)  # a subclass (Tensor.data's DataArray) as the plain array
    if is_array(data):
        if data.dtype.kind not in "biuf":
            raise TypeError(f"tensor: cannot make a tensor of an array of dtype {data.dtype}, "
                            "not real numbers")
        array = to_device(data, device)
        return array if dtype is None else array.astype(dtype, copy=False)
    xp = array_module(device)
    return xp.asarray(data, dtype=dtype)


def _describe(data) -> str:
    """``data`` in a few words, for an error message: "a list of Tensor", "'abc'"."""
    if isinstance(data, (list, tuple)) and data:
        return f"a {type(data).__name__} of {type(data[0]).__name__}"
    return repr(data)[:40]


_SCALARS: dict = {}


def scalar(value: float, like):
    """``value`` as a 0-d array of ``like``'s dtype and library (cached; never modify it).

    NumPy 2 converts a Python float operand on every call (``x * 0.5``: about 0.3 µs on a small
    array, as much as the multiplication); a ready 0-d array of the same dtype skips that and
    gives the same result. The hot elementwise ops (sigmoid, tanh) use it. CuPy gains too: on an
    H100 machine a sigmoid took 43 µs of CPU time to launch with 0-d operands, 55 with Python
    floats. For an integer or bool ``like`` it is ``value`` itself, so that NumPy promotes as
    usual."""
    key = (value, like.dtype, type(like))
    found = _SCALARS.get(key)
    if found is None:
        floating = like.dtype.kind in "fc"
        found = get_array_module(like).asarray(value, dtype=like.dtype) if floating else value
        _SCALARS[key] = found
    return found


def mask(condition, like):
    """A bool array as 0s and 1s of ``like``'s dtype: what a gradient is multiplied by where it
    flows (1) or stops (0)."""
    return condition.astype(like.dtype)


def warnings_off(*conditions: str):
    """Context manager: inside, NumPy does not warn of these floating-point ``conditions``
    (``"over"``, ``"divide"``, ``"invalid"``); CuPy never does. For a formula whose inf is the
    intended intermediate value, and for anomaly mode, which reports NaN and inf itself."""
    return numpy.errstate(**dict.fromkeys(conditions, "ignore"))


def synchronize(device: str) -> None:
    """Wait for queued GPU work (for timing); a no-op on the CPU."""
    if device == "cuda":
        cupy.cuda.Device().synchronize()


# --- random numbers: drawn with NumPy on the CPU, then moved, so a seed gives the same
# numbers on every device ---------------------------------------------------------------
_rng = numpy.random.default_rng()
recording_draws = None  # set by minigrad.trace while it records: draw(function, args) -> stand-in


def _recordable(draw):
    """A random draw that ``minigrad.trace`` records as a call (replayed, it draws anew each
    time) instead of computing once. ``.draw`` is the draw itself, which the replay calls."""
    def function(*args):
        if recording_draws is None:
            return draw(*args)
        return recording_draws(draw, args)

    function.__name__ = draw.__name__
    function.__doc__ = draw.__doc__
    function.draw = draw
    return function


def manual_seed(seed: int) -> None:
    """Seed minigrad's random number generator."""
    global _rng
    _rng = numpy.random.default_rng(seed)


def rng_state() -> dict:
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    _rng.bit_generator.state = state


@_recordable
def random_uniform(low, high, shape, dtype, device):
    return to_device(_rng.uniform(low, high, size=shape).astype(dtype), device)


@_recordable
def random_normal(mean, std, shape, dtype, device):
    return to_device(_rng.normal(mean, std, size=shape).astype(dtype), device)


@_recordable
def random_bernoulli(p, shape, dtype, device):
    return to_device((_rng.random(size=shape) < p).astype(dtype), device)


@_recordable
def random_integers(low, high, shape, device):
    return to_device(_rng.integers(low, high, size=shape), device)


@_recordable
def random_permutation(n: int):
    return _rng.permutation(n)


def stable_argsort(array, axis: int):
    """Indices that sort ``array`` along ``axis``, equal elements kept in order (CuPy's sort is
    always stable and takes no ``kind``)."""
    if isinstance(array, numpy.ndarray):
        return numpy.argsort(array, axis=axis, kind="stable")
    return get_array_module(array).argsort(array, axis=axis)


def random_choice(n: int, size: int, replace: bool, p):
    """``size`` draws from range(n) with probabilities ``p`` (NumPy's ``choice``)."""
    return _rng.choice(n, size=size, replace=replace, p=p)


def orthogonal(rows: int, cols: int, gain: float, dtype, device):
    """A (rows, cols) matrix with orthonormal rows or columns (QR of a Gaussian)."""
    a = _rng.normal(size=(max(rows, cols), min(rows, cols)))
    q, r = numpy.linalg.qr(a)
    q = q * numpy.sign(numpy.diag(r))
    if rows < cols:
        q = q.T
    return to_device((gain * q).astype(dtype), device)


# --- files --------------------------------------------------------------------------------
def save_npz(file, arrays: dict) -> None:
    """Write named arrays (any device) or strings (as 0-d text arrays) to an open binary file
    in .npz format, without pickles.

    The archive is written as ``numpy.savez`` writes it (one stored ``name.npy`` per array), but
    not through it: savez takes the names as keyword arguments, so an array named ``file`` or
    ``allow_pickle`` would clash with its own parameters.
    """
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", mode="w", force_zip64=True) as member:
                numpy.lib.format.write_array(member, to_numpy(array), allow_pickle=False)


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a member first; an empty archive


def _check_declared_sizes(name: str) -> None:
    """Refuse an archive whose arrays declare more bytes than the file holds, before anything
    is allocated: ``save_npz`` stores arrays uncompressed, so their bytes are all in the file,
    while a small deflated member may declare gigabytes (reading it would allocate them all)."""
    file_size = os.path.getsize(name)
    total, largest = 0, None
    with zipfile.ZipFile(name) as archive:
        for info in archive.infolist():
            with archive.open(info) as member:
                version = numpy.lib.format.read_magic(member)
                read_header = (numpy.lib.format.read_array_header_1_0 if version == (1, 0)
                               else numpy.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(member)
            size = dtype.itemsize
            for n in shape:
                size *= n
            total += size
            if largest is None or size > largest[0]:
                largest = (size, info.filename, shape, dtype)
    if total > file_size:
        size, member, shape, dtype = largest
        raise ValueError(f"its arrays declare {total:,} bytes but the file has {file_size:,} (the "
                         f"largest, {member!r}, is {shape} {dtype}): checkpoints are stored "
                         "uncompressed, so this one is damaged or crafted; nothing was loaded")


def load_npz(path) -> dict:
    """Read every array of an .npz file into memory (pickles refused).

    Raises ValueError naming the path for anything that is not a readable .npz archive: a
    .npy or text file, a truncated or corrupt archive. Zip, zlib and the .npy parser raise many
    kinds of error for damaged bytes (NotImplementedError for a flipped compression method,
    RuntimeError for a flipped encryption flag...), so every one of them is caught here.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            magic = f.read(len(_NPY_MAGIC))
        if magic == _NPY_MAGIC:
            raise ValueError("it is a .npy file (one array), not an .npz archive")
        if not magic.startswith(_ZIP_MAGICS):
            raise ValueError(f"it does not start like an .npz (zip) archive (first bytes {magic!r})")
        _check_declared_sizes(name)
        with numpy.load(name, allow_pickle=False) as archive:
            return {k: archive[k] for k in archive.files}
    except Exception as err:
        raise ValueError(f"cannot read {name!r} as a minigrad .npz file: "
                         f"{str(err) or type(err).__name__}") from err
