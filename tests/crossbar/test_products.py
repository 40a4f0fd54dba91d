"""`crossbar.products`: products with the bits of one BLAS thread at any thread count, and a
run's record independent of the BLAS and kernel thread counts."""

from __future__ import annotations

import json
import os

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_info, threadpool_limits
from typer.testing import CliRunner

from analogff.cli import app
from crossbar.products import PART_MIN_ROWS, PART_MIN_WORK, matmul, one_blas_thread, row_cut

TWO_CORES = (os.cpu_count() or 1) >= 2 and numba.config.NUMBA_NUM_THREADS >= 2


def _operands(M, K, N, transposed, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.random((K, M), dtype=np.float32).T if transposed else \
        rng.random((M, K), dtype=np.float32)
    return a, rng.random((K, N), dtype=np.float32)


# (M, K, N, a transposed view): split in halves or not, wide and narrow, xᵀd as the
# gradients form it; the first two round differently on two BLAS threads than on one here
SHAPES = [(100, 600, 600, False), (50, 784, 500, False), (600, 300, 400, True),
          (500, 2000, 10, False), (40, 900, 30, False), (7, 300, 5, False)]


@pytest.mark.skipif(not TWO_CORES, reason="needs two cores and two kernel threads")
def test_the_bits_of_one_blas_thread_at_any_thread_count():
    ref, plain2 = {}, {}
    for s in SHAPES:
        a, b = _operands(*s)
        with threadpool_limits(1, user_api="blas"):
            ref[s] = np.matmul(a, b)
        with threadpool_limits(2, user_api="blas"):
            plain2[s] = np.matmul(a, b)
    # the test can fail: here numpy's own product on two BLAS threads rounds otherwise
    assert any(not np.array_equal(ref[s], plain2[s]) for s in SHAPES)
    assert any(row_cut(s[0], s[1] * s[2]) is not None for s in SHAPES)
    before = numba.get_num_threads()
    try:
        for kernel_threads in (1, 2):
            numba.set_num_threads(kernel_threads)
            for blas_threads in (1, 2):
                with threadpool_limits(blas_threads, user_api="blas"):
                    for s in SHAPES:
                        a, b = _operands(*s)
                        got = matmul(a, b)
                        out = np.full((s[0], s[2]), np.nan, np.float32)
                        assert matmul(a, b, out=out) is out
                        assert np.array_equal(got, ref[s]), (s, kernel_threads, blas_threads)
                        assert np.array_equal(out, ref[s])
    finally:
        numba.set_num_threads(before)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5000), st.integers(1, 10**7), st.sampled_from([1, 16]))
def test_a_product_is_cut_by_its_shape_into_halves_that_stay_large(rows, work_per_row, align):
    cut = row_cut(rows, work_per_row, align)
    if cut is not None:   # each half: no one-row product, no small-matrix kernel
        assert cut % align == 0 and 0 < cut < rows
        for n in (cut, rows - cut):
            assert n >= PART_MIN_ROWS and n * work_per_row >= PART_MIN_WORK
        assert abs(rows - 2 * cut) <= align   # the middle, to a chunk
    else:
        half = rows // 2
        assert half < PART_MIN_ROWS + align or half * work_per_row < PART_MIN_WORK + \
            align * work_per_row


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_one_blas_thread_nests_and_restores_the_count():
    with threadpool_limits(2, user_api="blas"):
        outer = _blas_threads()
        with one_blas_thread():
            assert set(_blas_threads()) == {1}
            with one_blas_thread():
                assert set(_blas_threads()) == {1}
            assert set(_blas_threads()) == {1}
        assert _blas_threads() == outer


RUN = ["simulate", "--ideal", "--algo", "bp", "--hidden", "600,600", "--batch-size", "100",
       "--epochs", "1", "--limit", "200", "--no-monitor", "--json"]


@pytest.mark.skipif(not TWO_CORES, reason="needs two cores and two kernel threads")
def test_a_runs_record_does_not_depend_on_the_thread_counts():
    """Ideal BP's 600 -> 600 reads of 100 rows round otherwise on two BLAS threads than on one
    (`SHAPES`' first): the record is the same at one and two BLAS and kernel threads."""
    recs = []
    before = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            with threadpool_limits(threads, user_api="blas"):
                r = CliRunner().invoke(app, RUN)
            assert r.exit_code == 0, r.output
            rec = json.loads(r.stdout.strip().splitlines()[-1])
            rec.pop("timing")
            recs.append(rec)
    finally:
        numba.set_num_threads(before)
    assert recs[0] == recs[1]
