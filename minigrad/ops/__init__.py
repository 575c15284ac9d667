"""The primitive ops: each one a small Function with its forward and backward side by side."""
from .axes import is_integer, normalize_axes, split_axis
from .convert import Cast, ToDevice
from .elementwise import (Abs, Add, Clip, Div, Exp, Log, Maximum, Minimum, Mul, Neg, Pow, Relu,
                          Sigmoid, Sqrt, Sub, Tanh, Where, sum_to_shape, where)
from .matmul import AddMM, MatMul
from .reduce import Max, Mean, Min, Sum
from .shape import (BroadcastTo, Concat, GetItem, Reshape, ScatterAdd, Split, Stack, Transpose,
                    Unbind, chunk_sizes, concat, split_sizes, stack)
from .trig import Cos, Sin

__all__ = [
    "Abs", "Add", "AddMM", "BroadcastTo", "Cast", "Clip", "Concat", "Div", "Exp", "GetItem", "Log",
    "MatMul", "Max", "Maximum", "Mean", "Min", "Minimum", "Mul", "Neg", "Pow", "Relu", "Reshape",
    "ScatterAdd", "Sigmoid", "Sin", "Cos", "Split", "Sqrt", "Stack", "Sub", "Sum", "Tanh", "ToDevice",
    "Transpose", "Unbind", "Where", "chunk_sizes", "concat", "is_integer", "normalize_axes",
    "split_axis", "split_sizes", "stack", "sum_to_shape", "where",
]
