"""The compiled finiteness test (`crossbar.finite`, from the float32 bits on the kernel threads)
gives NumPy's ``np.isfinite(a).all()`` on every array, and the matrices refuse a large
non-finite input or change through it before anything moves."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from crossbar import IdealMatrix, NonFiniteInputError
from crossbar.base import FINITE_COMPILED_FROM, all_finite
from crossbar.finite import all_finite_f32


@settings(max_examples=80, deadline=None)
@given(arrays(np.float32, st.integers(1, 300),
              elements=st.floats(width=32, allow_nan=True, allow_infinity=True)),
       st.integers(1, 3))
def test_bits_test_equals_numpy_on_any_values(a, threads):
    assert all_finite_f32(a, threads) == bool(np.isfinite(a).all())


@pytest.mark.parametrize("value", [np.nan, -np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, FINITE_COMPILED_FROM // 2 + 1, -1])
def test_one_non_finite_value_anywhere_in_a_large_array_is_found(value, where):
    a = np.random.default_rng(0).standard_normal(FINITE_COMPILED_FROM + 3).astype(np.float32)
    a[[0, 1]] = [3.4e38, -1e-45]       # the largest finite and a subnormal: finite
    assert all_finite(a) and all_finite_f32(a, 2)
    a[where] = value
    assert not all_finite(a) and not all_finite_f32(a, 2)


def test_ideal_matrix_refuses_large_non_finite_read_and_change():
    M = IdealMatrix(600, 500)
    x = np.ones((600, 500), np.float32)          # 300,000 elements: the compiled test
    assert x.size >= FINITE_COMPILED_FROM
    x[599, 499] = np.inf
    with pytest.raises(NonFiniteInputError):
        M.forward(x)
    dW = np.full((600, 500), 1e-3, np.float32)
    dW[300, 7] = np.nan
    with pytest.raises(NonFiniteInputError):
        M.apply_delta(dW)
    assert not M.weights().any()                  # nothing moved


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_a_transpose_view_is_tested_through_its_transpose(value):
    """A change formed in the stored layout arrives as an (out, in) transpose view (Adam's
    step): tested from its bits like a C-contiguous array, every element seen."""
    a = np.random.default_rng(1).standard_normal((700, 400)).astype(np.float32).T
    assert not a.flags.c_contiguous and a.size >= FINITE_COMPILED_FROM
    assert all_finite(a)
    a[399, 0] = value
    assert not all_finite(a)
    M = IdealMatrix(400, 700)
    with pytest.raises(NonFiniteInputError):
        M.apply_delta(a)
