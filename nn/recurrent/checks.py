"""The recurrent modules' argument, dtype and initial-state checks, with PyTorch's messages.

They live here so that the cells and layers read as their equations and loops; each check runs
before the first matmul, whose own error would name neither the module nor the argument.
"""
from __future__ import annotations

import numbers
import warnings

from minigrad import Tensor, backend


def check_sizes(name: str, input_size, hidden_size, bias, proj_size: int = 0) -> None:
    """A cell's or layer's constructor arguments."""
    if not isinstance(bias, bool):
        raise TypeError(f"{name}: bias should be of type bool, got: {type(bias).__name__}")
    for arg, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name}: {arg} should be of type int, got: {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name}: {arg} must be greater than zero, got {value}")
    if not isinstance(proj_size, int) or proj_size < 0:
        raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable "
                         f"projections, got {proj_size!r}")
    if proj_size >= hidden_size:
        raise ValueError(f"{name}: proj_size has to be smaller than hidden_size "
                         f"(got proj_size={proj_size}, hidden_size={hidden_size})")


def check_layer_args(name, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                     bidirectional, proj_size) -> None:
    """A sequence layer's constructor arguments (``RNNBase``)."""
    if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
            or not 0 <= dropout <= 1):
        raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the "
                         f"probability of an element being zeroed, got {dropout!r}")
    if dropout > 0 and num_layers == 1:
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero "
                      f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                      f"num_layers={num_layers}", stacklevel=3)
    for arg, value in (("batch_first", batch_first), ("bidirectional", bidirectional)):
        if not isinstance(value, bool):
            raise TypeError(f"{name}: {arg} should be of type bool, got: {type(value).__name__}")
    check_sizes(name, input_size, hidden_size, bias, proj_size)
    if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers <= 0:
        raise ValueError(f"{name}: num_layers must be greater than zero, got {num_layers!r}")


def check_cell_input(name: str, input: Tensor, cell) -> None:
    """The input of a cell called alone: (N, I), or (I,) unbatched."""
    if input.ndim not in (1, 2):
        raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
    if input.shape[-1] != cell.input_size:
        raise RuntimeError(f"{name}: input has inconsistent input_size: got {input.shape[-1]} "
                           f"expected {cell.input_size}")
    check_dtype(name, "input", input, cell.weight_ih)


def check_layer_input(name: str, input: Tensor, layer) -> None:
    """The input of a sequence layer: (T, N, I) ((N, T, I) with batch_first), or (T, I) unbatched."""
    if input.ndim not in (2, 3):
        raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead")
    check_dtype(name, "input", input, layer.cells()[0].weight_ih)
    if input.shape[-1] != layer.input_size:
        raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                           f"{layer.input_size}, got {input.shape[-1]}")
    steps = input.shape[1 if layer.batch_first and input.ndim == 3 else 0]
    if steps == 0:
        raise RuntimeError(f"{name}: Expected sequence length to be larger than 0, got an "
                           f"input of shape {input.shape} with no time steps")


def check_dtype(name: str, what: str, tensor: Tensor, weight: Tensor) -> None:
    """An input or state must have the weights' dtype."""
    if tensor.dtype != weight.dtype:
        model = (f", or convert model: model.to(dtype='{tensor.dtype}')"  # a model's dtype is a float
                 if what == "input" and backend.is_floating(tensor.dtype) else "")
        raise ValueError(f"{name}: {what} dtype ({tensor.dtype}) does not match weight dtype "
                         f"({weight.dtype}). Convert {what}: {what}.to(dtype='{weight.dtype}')"
                         + model)


def initial_states(name: str, hx, cell, batch: int, batched: bool, like: Tensor,
                   stacked: int | None = None) -> list:
    """``hx`` checked and cut into one state tuple per cell, each part (N, size).

    ``hx`` is None (zeros of ``like``'s dtype and device), a Tensor, or a tuple with one Tensor
    per part of ``cell.state_names``. A cell called alone (``stacked=None``) takes each part as
    (N, size), or (size,) for an unbatched input, and gets a list of one state. A layer takes
    each part stacked over its cells, (stacked, N, size) or (stacked, size), as ``h_n`` is, and
    gets ``stacked`` states in that order.
    """
    count = 1 if stacked is None else stacked
    if hx is None:
        return [cell.zero_state(batch, like) for _ in range(count)]
    names, sizes = cell.state_names, cell.state_sizes
    parts = (hx,) if isinstance(hx, Tensor) else tuple(hx) if isinstance(hx, (tuple, list)) else ()
    if not parts or not all(isinstance(p, Tensor) for p in parts):  # tuple(array) would split it
        wanted = "a Tensor" if len(names) == 1 else f"a tuple of {len(names)} Tensors {names}"
        got = ", ".join(type(p).__name__ for p in parts) if parts else type(hx).__name__
        raise TypeError(f"{name}: hx must be {wanted}, got {got}; make one with "
                        "minigrad.tensor(array)")
    if len(parts) != len(names):
        raise ValueError(f"{name}: expected the initial state as {len(names)} tensor(s) {names}, "
                         f"got {len(parts)}")
    if stacked is not None and any(p.ndim != 2 + batched for p in parts):
        got = ", ".join(f"{p.ndim}-D" for p in parts)
        kind = "batched 3-D" if batched else "unbatched 2-D"
        raise RuntimeError(f"{name}: For {kind} input, hx should also be {2 + batched}-D but got "
                           f"({got}) tensor(s)")
    checked = []
    for i, (part, size) in enumerate(zip(parts, sizes)):
        if stacked is None:
            _check_cell_state_part(name, i, len(parts), part, size, batch, batched, cell)
            part = part if batched else part.unsqueeze(0)
        else:
            part = part if batched else part.unsqueeze(1)
            if tuple(part.shape) != (stacked, batch, size):
                what = "hidden" if len(parts) == 1 else f"hidden[{i}]"
                raise RuntimeError(f"{name}: Expected {what} size {(stacked, batch, size)}, got "
                                   f"{list(part.shape)}")
            check_dtype(name, f"hx[{i}]", part, cell.weight_ih)
        checked.append(part)
    if stacked is None:
        return [tuple(checked)]
    per_cell = [part.unbind(0) for part in checked]
    return [tuple(part[k] for part in per_cell) for k in range(stacked)]


def _check_cell_state_part(name: str, i: int, n_parts: int, part: Tensor, size: int, batch: int,
                           batched: bool, cell) -> None:
    """Part ``i`` of the state given to a cell called alone: (N, size), or (size,) unbatched."""
    what = "hidden" if n_parts == 1 else f"hx[{i}]"
    if part.ndim not in (1, 2):
        raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {part.ndim}D instead")
    if (part.ndim == 2) != batched:
        raise RuntimeError(f"{name}: {what} is {part.ndim}D but the input is "
                           f"{2 if batched else 1}D; both must be batched or both unbatched")
    check_dtype(name, what, part, cell.weight_ih)
    rows = part.shape[0] if batched else 1
    if rows != batch:
        raise RuntimeError(f"{name}: Input batch size {batch} doesn't match hidden{i} batch "
                           f"size {rows}")
    if part.shape[-1] != size:
        raise RuntimeError(f"{name}: hidden{i} has inconsistent hidden_size: got "
                           f"{part.shape[-1]}, expected {size}")
