"""Every op against PyTorch (float64): forward values, gradients and second derivatives.

The fixed cases name the shapes worth naming; the hypothesis tests draw random shapes,
broadcasting, size-1 dimensions and 0-d scalars for each op family.
"""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from op_cases import CASES, SETTINGS, TORCH_FAMILIES, check_against_torch


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_fixed_case_matches_torch(case, device):
    check_against_torch(case, device)


@pytest.mark.parametrize("family", sorted(TORCH_FAMILIES))
@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_random_case_matches_torch(family, device, data, seed):
    case = data.draw(TORCH_FAMILIES[family], label="case")
    check_against_torch(case, device, seed)
