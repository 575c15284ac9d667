"""The profile's buckets and names: the products are BLAS, and functions get their right names."""
import inspect

import minigrad.ops.matmul as matmul
from benchmarks.profile_step import _qualname, bucket


def line_of(fn) -> int:
    return inspect.getsourcelines(fn)[1]


def test_every_product_is_counted_as_matmul():
    functions = [fn for _, fn in inspect.getmembers(matmul, inspect.isfunction)
                 if fn.__module__ == matmul.__name__]
    methods = [matmul.MatMul.forward, matmul.MatMul.backward, matmul.AddMM.forward,
               matmul.AddMM.backward]
    assert {"product", "matrix_grads"} <= {fn.__name__ for fn in functions}
    for fn in functions + methods:
        assert bucket(matmul.__file__, fn.__name__) == "matmul (BLAS)", fn.__name__


def test_methods_get_their_class_and_functions_after_a_class_do_not():
    assert _qualname(matmul.__file__, line_of(matmul.AddMM.backward), "backward") == "AddMM.backward"
    assert _qualname(matmul.__file__, line_of(matmul.product), "product") == "product"


def test_a_decorated_function_after_a_class_is_not_a_method(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("class A:\n    def f(self):\n        pass\n\n\n@staticmethod\ndef g():\n    pass\n")
    assert _qualname(str(source), 2, "f") == "A.f"
    assert _qualname(str(source), 6, "g") == "g"  # cProfile gives the decorator's line
