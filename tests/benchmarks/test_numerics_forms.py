"""benchmarks/numerics_forms.py times the forms it says it times: each pair computes the same
values on finite input, and minigrad's forms are the engine's."""
import numpy as np

import minigrad as mg
from benchmarks import numerics_forms as forms


def test_the_forms_compared_agree_on_finite_input_and_minigrads_are_the_engines():
    rng = np.random.default_rng(1)
    g, x, y = (3 * rng.standard_normal((4, 5)).astype(np.float32) for _ in range(3))
    for what, (replaced, chosen, *others) in forms.COMPARISONS.items():
        args = (x,) if what.startswith("sigmoid") else (g, x, y)
        for other in (replaced, *others):
            np.testing.assert_allclose(chosen(*args), other(*args), rtol=1e-5, atol=1e-6, err_msg=what)
    np.testing.assert_array_equal(mg.tensor(x).sigmoid().numpy(), forms._sigmoid_reciprocal(x))
    t = mg.tensor(x, requires_grad=True)
    t.relu().backward(mg.tensor(g))
    np.testing.assert_array_equal(t.grad.numpy(), forms._relu_select(g, x, y))


def test_measure_gives_a_median_per_form(capsys):
    rows = forms.measure(repeats=2, shapes=[(2, 3)])
    assert [what for what, _, _ in rows] == list(forms.COMPARISONS)
    assert all(len(medians) == len(forms.COMPARISONS[what]) for what, _, medians in rows)
    forms.main(["--repeats", "1"])
    assert "sigmoid forward" in capsys.readouterr().out
