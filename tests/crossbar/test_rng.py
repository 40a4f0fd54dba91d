"""The counter-based generator of `crossbar.rng`: its normal deviates are N(0, 1).

Sample statistics are checked against bounds for the sample size (two-sided, ~1e-6 level),
with fixed keys, and the distribution the table implements is also checked exactly (its
mean and variance summed over all 2**32 inputs, in closed form per table cell).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit, uint64
from scipy import special, stats

from crossbar.rng import NORMAL_TABLE, fill_normal, new_key, next_u64, normal_from_bits, \
    stream_start, uniform_from_bits

ROWS, COLS = 250, 4000  # 1e6 samples
N = ROWS * COLS


def normals(key: int, rows: int = ROWS, cols: int = COLS) -> np.ndarray:
    out = np.empty((rows, cols), dtype=np.float32)
    fill_normal(out, key, NORMAL_TABLE)
    return out


@pytest.fixture(scope="module")
def z() -> np.ndarray:
    return normals(12345).astype(np.float64).ravel()


def test_mean_and_variance(z):
    assert abs(z.mean()) < 5.0 / math.sqrt(N)
    v = z.var(ddof=1)
    lo = stats.chi2.ppf(1e-6 / 2, N - 1) / (N - 1)
    hi = stats.chi2.ppf(1 - 1e-6 / 2, N - 1) / (N - 1)
    assert lo < v < hi


def test_kurtosis_skew_and_tails(z):
    # sample skewness sd ≈ sqrt(6/N), excess kurtosis sd ≈ sqrt(24/N)
    assert abs(stats.skew(z)) < 5.0 * math.sqrt(6.0 / N)
    assert abs(stats.kurtosis(z, fisher=False) - 3.0) < 5.0 * math.sqrt(24.0 / N)
    for t in (1.0, 2.0, 3.0, 4.0):
        p = 2 * stats.norm.sf(t)
        count = int((np.abs(z) > t).sum())
        assert abs(count - N * p) < 5.0 * math.sqrt(N * p * (1 - p)) + 1, (t, count, N * p)
    # the extreme tail exists (exact inverse CDF in the outer cells) but is not too fat
    assert np.abs(z).max() > 4.0
    assert np.abs(z).max() < 6.5


def test_distribution_ks(z):
    assert stats.kstest(z[:200_000], "norm").pvalue > 1e-6


def test_neighbours_uncorrelated():
    a = normals(777).astype(np.float64)
    lim = 5.0 / math.sqrt(a.size / 2)
    # the two halves of one 64-bit draw, consecutive draws, and neighbouring streams (rows)
    assert abs(np.corrcoef(a[:, 0::2].ravel(), a[:, 1::2].ravel())[0, 1]) < lim
    assert abs(np.corrcoef(a[:, 1:-1:2].ravel(), a[:, 2::2].ravel())[0, 1]) < lim
    assert abs(np.corrcoef(a[:-1].ravel(), a[1:].ravel())[0, 1]) < 5.0 / math.sqrt(a.size)
    # squares too (dependence that correlation of values would not show)
    assert abs(np.corrcoef(a[:, 0::2].ravel() ** 2, a[:, 1::2].ravel() ** 2)[0, 1]) < lim


def test_same_key_same_stream_different_key_different_stream():
    a, b, c = normals(1, 50, 100), normals(1, 50, 100), normals(2, 50, 100)
    assert np.array_equal(a, b)
    assert not np.any(a == c) or np.mean(a == c) < 1e-3
    assert abs(np.corrcoef(a.ravel(), c.ravel())[0, 1]) < 5.0 / math.sqrt(a.size)
    # streams are rows: a wider or taller fill starts with the same numbers
    big = normals(1, 60, 130)
    assert np.array_equal(big[:50, :100], a)
    # distinct rows are distinct streams
    assert len({row.tobytes() for row in a}) == a.shape[0]


def test_new_key_comes_from_generator():
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    k1 = [new_key(r1) for _ in range(5)]
    assert k1 == [new_key(r2) for _ in range(5)]
    assert len(set(k1)) == 5 and all(isinstance(k, int) and 0 <= k < 2**63 for k in k1)


# ---- the deviate function itself -------------------------------------------------------------
@njit(cache=False)
def _normals_of(bits, table):
    out = np.empty(bits.shape[0], dtype=np.float64)
    for i in range(bits.shape[0]):
        out[i] = normal_from_bits(uint64(bits[i]), table)
    return out


@njit(cache=False)
def _uniforms(key, n):
    out = np.empty(n, dtype=np.float64)
    st = stream_start(key, 0)
    for i in range(n):
        st, r = next_u64(st)
        out[i] = uniform_from_bits(r >> uint64(32))
    return out


def test_normal_from_bits_is_the_inverse_cdf():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, 200_000, dtype=np.uint64)
    # include both tail cells and their extremes
    bits = np.concatenate([bits, np.array([0, 1, 65535, 65536, 2**32 - 65536 - 1, 2**32 - 65536,
                                           2**32 - 2, 2**32 - 1], dtype=np.uint64)])
    got = _normals_of(bits, NORMAL_TABLE)
    u = (bits.astype(np.float64) + 0.5) / 2**32
    exact = special.ndtri(u)
    tail = (bits >> np.uint64(16) == 0) | (bits >> np.uint64(16) == 65535)
    # tails: Acklam's rational approximation (relative error < 1.2e-9, float32 result)
    np.testing.assert_allclose(got[tail], exact[tail], rtol=1e-6)
    # body: linear interpolation in cells of probability 2**-16 (float32 table); the
    # curvature of the inverse CDF makes it worst in the cells next to the tails (|z| ≈ 4.1)
    err = np.abs(got[~tail] - exact[~tail])
    assert np.max(err) < 0.02
    assert np.max(err[np.abs(exact[~tail]) < 3]) < 2e-5
    assert np.median(err) < 1e-6
    assert np.all(np.diff(got[np.argsort(bits)]) >= 0)  # monotone in the input bits
    lo_end, hi_end = got[-8], got[-1]  # inputs 0 and 2**32 - 1
    assert abs(hi_end + lo_end) < 1e-5  # symmetric extremes
    assert abs(lo_end - special.ndtri(0.5 / 2**32)) < 1e-5


def test_exact_moments_of_the_table_distribution():
    """Mean 0 and variance 1 (|err| < 1e-5), integrating over all 2**32 inputs exactly."""
    t = NORMAL_TABLE.astype(np.float64)
    f = np.arange(65536, dtype=np.float64) / 65536.0
    ef, ef2 = f.mean(), (f * f).mean()
    lo, hi = t[1:-2], t[2:-1]  # cells 1 .. 65534
    d = hi - lo
    m1 = (lo + d * ef).sum()
    m2 = (lo * lo + 2 * lo * d * ef + d * d * ef2).sum()
    # the two tail cells: every one of their 65536 inputs
    tb = np.concatenate([np.arange(65536, dtype=np.uint64),
                         np.arange(2**32 - 65536, 2**32, dtype=np.uint64)])
    tz = _normals_of(tb, NORMAL_TABLE)
    m1 = (m1 + tz.sum() / 65536.0) / 65536.0
    m2 = (m2 + (tz * tz).sum() / 65536.0) / 65536.0
    assert abs(m1) < 1e-6
    assert abs(m2 - 1.0) < 1e-5


def test_uniform_from_bits():
    u = _uniforms(99, 400_000)
    assert u.min() > 0 and u.max() <= 1.0
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 5 * math.sqrt(1 / 180 / u.size)
    counts = np.histogram(u, bins=100, range=(0, 1))[0]
    assert stats.chisquare(counts).pvalue > 1e-6
