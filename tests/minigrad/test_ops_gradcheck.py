"""Finite differences (minigrad.gradcheck / gradgradcheck) on every op family, at random shapes
with broadcasting, size-1 dimensions and 0-d scalars. Independent of PyTorch: this is also how
ops PyTorch cannot express (negative slice steps) are checked."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from op_cases import CASES, FAMILIES, SETTINGS, make_arrays, mg_inputs


@pytest.mark.parametrize("family", sorted(FAMILIES))
@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_gradcheck(family, data, seed):
    case = data.draw(FAMILIES[family], label="case")
    xs = mg_inputs(make_arrays(case, np.random.default_rng(seed)))
    assert mg.gradcheck(case.mg, xs)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(SETTINGS, max_examples=10)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_gradgradcheck(family, data, seed):
    case = data.draw(FAMILIES[family], label="case")
    xs = mg_inputs(make_arrays(case, np.random.default_rng(seed)))
    assert mg.gradgradcheck(case.mg, xs)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradgradcheck_fixed_case(case):
    xs = mg_inputs(make_arrays(case, np.random.default_rng(1)))
    assert mg.gradgradcheck(case.mg, xs)
