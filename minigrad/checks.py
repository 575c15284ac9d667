"""The checks ``Function.apply`` makes before it runs an op, and the errors it raises: what a
learner may skip on a first reading of the engine, and what a user meets on bad input."""
from __future__ import annotations

import re
import traceback

from . import backend
from .tensor import Tensor

NOT_OPERANDS = frozenset({list, tuple, complex})  # NumPy would compute with them in float64


def reconcile_dtypes(op: str, inputs, arrays) -> None:
    """Binary elementwise ops never promote silently: a constant takes the tensor's dtype, an
    integer or bool tensor takes the float tensor's dtype, two float dtypes that differ are an
    error (a float32 model quietly computing in float64 is slow and hard to notice)."""
    a, b = arrays
    dtype_a = getattr(a, "dtype", None)
    dtype_b = getattr(b, "dtype", None)
    for operand, dtype in zip(arrays, (dtype_a, dtype_b)):
        if dtype is not None and not hasattr(dtype, "kind"):  # another library's tensor (torch)
            raise operand_error(op, operand, inputs)
    if dtype_a is None or dtype_b is None or dtype_a == dtype_b:
        return
    if "c" in (dtype_a.kind, dtype_b.kind):  # (the cast below would drop the imaginary part)
        raise TypeError(f"{_snake(op)}: minigrad computes with real numbers, got dtypes "
                        f"{dtype_a} {a.shape} and {dtype_b} {b.shape}")
    tensor_a, tensor_b = isinstance(inputs[0], Tensor), isinstance(inputs[1], Tensor)
    float_a, float_b = backend.is_floating(dtype_a), backend.is_floating(dtype_b)
    if tensor_a and tensor_b and float_a and float_b:
        raise TypeError(f"{_snake(op)}: dtypes differ: {dtype_a} {a.shape} and {dtype_b} {b.shape}; "
                        "convert one with .to(dtype=...)")
    if float_a and (not float_b or not tensor_b):
        arrays[1] = b.astype(dtype_a)
    elif float_b and (not float_a or not tensor_a):
        arrays[0] = a.astype(dtype_b)


def operand_error(op: str, operand, inputs) -> TypeError:
    """A list or tuple operand (``x + [1.0, 2.0]``) is refused, as in PyTorch: NumPy would turn
    it into a float64 array and compute a float32 model's op in float64. So is a complex number:
    minigrad has no complex dtypes."""
    position = next(i for i, x in enumerate(inputs) if x is operand)
    if type(operand) is complex:
        return TypeError(f"{_snake(op)}: minigrad computes with real numbers, got the complex "
                         f"number {operand!r} as input {position}")
    dtype = next((x.dtype for x in inputs if isinstance(x, Tensor)), backend.DEFAULT_FLOAT)
    kind = type(operand)
    name = (kind.__name__ if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}")  # torch.Tensor, not Tensor
    values = "x.detach().numpy()" if hasattr(operand, "detach") else "..."  # a PyTorch tensor
    return TypeError(f"{_snake(op)}: operands must be tensors, arrays or numbers, got a "
                     f"{name} ({' '.join(repr(operand).split())[:40]}) as input {position}; "
                     f"make it a tensor first: minigrad.tensor({values}, dtype=minigrad.{dtype})")


def check_same_device(op: str, inputs) -> None:
    devices = {x.device for x in inputs if isinstance(x, Tensor)}
    if len(devices) > 1:
        shown = ", ".join(f"{x.device} {tuple(x.shape)}" for x in inputs if isinstance(x, Tensor))
        raise RuntimeError(f"{op}: inputs are on different devices ({shown}); move them with .to()")


def input_error(op: str, err: Exception, inputs) -> Exception:
    message = str(err)
    if message.split(":")[0].replace("_", "") == op.lower():  # already says which op
        return err
    shown = ", ".join(
        f"{tuple(x.shape)} {x.dtype}" if isinstance(x, Tensor) else repr(x) for x in inputs
    )
    kind = next(k for k in (ValueError, TypeError, IndexError) if isinstance(err, k))
    return kind(f"{_snake(op)}: {message} (inputs: {shown})")


def _snake(op: str) -> str:
    """An op's name as users spell it in messages: BroadcastTo -> broadcast_to."""
    return _SPELLED.get(op) or re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower()


_SPELLED = {"MatMul": "matmul", "AddMM": "addmm", "GetItem": "getitem"}


def seed(tensor: Tensor, grad, op: str) -> Tensor:
    """The gradient a backward pass starts from at ``tensor``: ``grad``, checked and in the
    tensor's dtype, or 1 for a one-element tensor."""
    if not tensor.requires_grad:
        raise RuntimeError(f"{op}: the tensor (shape {tensor.shape}) does not require grad "
                           "and has no grad_fn")
    if grad is None:
        if tensor.numel() != 1:
            raise ValueError(f"{op}: grad can be implicit only for a one-element output, got shape "
                             f"{tensor.shape}; pass grad= with that shape")
        return Tensor._make(backend.get_array_module(tensor._data).ones_like(tensor._data))
    grad = grad if isinstance(grad, Tensor) else Tensor(grad, dtype=tensor.dtype, device=tensor.device)
    if grad.shape != tensor.shape:
        raise ValueError(f"{op}: grad has shape {grad.shape} but the output has shape {tensor.shape}")
    if grad.dtype != tensor.dtype:  # gradients keep their tensors' dtypes (PyTorch casts too)
        grad = grad.to(dtype=tensor.dtype)
    return grad


def freed_error(node) -> RuntimeError:
    """A second backward through a node whose saved values the first one freed."""
    return RuntimeError(
        f"backward through {node.name} a second time: its saved values were freed by the "
        "first backward. Pass retain_graph=True to the first call if you need to.")


def array_hint(err: AttributeError) -> AttributeError:
    """A backward written for Tensors only (``x.sigmoid()``) fails on plain arrays: say so and
    name the op whose backward failed (from the traceback). Any other error is kept as it is."""
    for frame, _ in reversed(list(traceback.walk_tb(err.__traceback__))):
        node = frame.f_locals.get("self")
        if frame.f_code.co_name == "backward" and hasattr(node, "saves_inputs"):  # a Function's
            hint = AttributeError(
                f"{node.name}.backward: {err}. Backward formulas get plain arrays unless "
                "create_graph=True; use operators and ops (minigrad.sigmoid(x), Op.apply(...)), "
                "not methods that only Tensors have (see docs/autograd.md, section 6)")
            hint.__cause__ = err
            return hint
    return err
