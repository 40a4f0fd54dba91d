"""The pulse kernel's c2c generator (16 bits per deviate, 4096-cell table): moments and tails.
(Read noise uses the 65536-entry table, crossbar.rng.NORMAL_TABLE_16: tests/crossbar/test_rng.py.)"""

import numpy as np
import pytest
from numba import njit, uint64
from scipy import stats

from crossbar.rng import NORMAL_TABLE_SMALL, SMALL_CELLS, fill_normal16, normal_from_bits16


@njit(cache=True)
def _all_central(table):
    out = np.empty(65536, dtype=np.float64)
    st = uint64(1)
    for b in range(65536):
        out[b], st = normal_from_bits16(uint64(b), table, st)
    return out


def test_exact_moments_over_every_input():
    # every 16-bit input once (the tail cells each draw one fresh 32-bit value here): the
    # distribution's mean is 0 and its variance within 2e-3 of 1 (exact: the tails are exact,
    # inside a cell the deviate is linear in the 16 sub-cell midpoints)
    z = _all_central(NORMAL_TABLE_SMALL)
    central = np.ones(65536, bool)
    central[:16] = central[-16:] = False
    assert abs(z[central].mean()) < 1e-6
    t = NORMAL_TABLE_SMALL.astype(np.float64)
    # second moment of the central part vs the exact normal's second moment over that range
    lo, hi = t[1], t[SMALL_CELLS - 1]
    exact = (stats.norm.expect(lambda v: v * v, lb=lo, ub=hi))
    assert abs((z[central] ** 2).sum() / 65536 - exact) < 2e-4


def test_sample_statistics_and_tails():
    out = np.empty((400, 5000), np.float32)
    fill_normal16(out, 12345, NORMAL_TABLE_SMALL)
    z = out.ravel().astype(np.float64)
    n = z.size  # 2e6
    assert abs(z.mean()) < 5 / np.sqrt(n)
    # chi-square bound on the variance (99.9999 % two-sided)
    lo, hi = stats.chi2.ppf([5e-7, 1 - 5e-7], n - 1) / (n - 1)
    assert lo < z.var(ddof=1) < hi
    assert abs(stats.kurtosis(z, fisher=False) - 3) < 0.03
    p_tail = 2 * stats.norm.sf(3.5)
    assert abs((np.abs(z) > 3.5).mean() - p_tail) < 6 * np.sqrt(p_tail / n)
    assert np.abs(z).max() > 4.5  # the exact tail cells reach beyond the table
    assert stats.kstest(z[:200000], "norm").pvalue > 1e-4


# ---- the read-noise generator: one entry per 16-bit input, exact tails redrawn ----------------

from crossbar.kernels import _fill_normals  # noqa: E402
from crossbar.rng import NORMAL_TABLE_16  # noqa: E402


@njit(cache=True)
def _read_noise(rows, cols, key, table):
    out = np.empty((rows, cols), dtype=np.float32)
    for b in range(rows):
        _fill_normals(out[b], key, b, table)
    return out


def test_full_table_is_the_quantile_at_each_cell_centre():
    k = np.arange(1, 65535)
    np.testing.assert_allclose(NORMAL_TABLE_16[1:-1], stats.norm.ppf((k + 0.5) / 65536),
                               rtol=1e-6, atol=1e-6)
    assert np.all(np.diff(NORMAL_TABLE_16) > 0)
    # the central cells' second moment is the normal's over that range, to the discretisation
    lo, hi = stats.norm.ppf(1 / 65536), stats.norm.ppf(1 - 1 / 65536)
    exact = stats.norm.expect(lambda v: v * v, lb=lo, ub=hi)
    assert abs((NORMAL_TABLE_16[1:-1].astype(np.float64) ** 2).sum() / 65536 - exact) < 5e-6


@pytest.mark.parametrize("cols", [2000, 1999, 3])
def test_read_noise_sample_statistics_and_exact_tails(cols):
    rows = 4_000_000 // cols
    z = _read_noise(rows, cols, 777, NORMAL_TABLE_16).ravel().astype(np.float64)
    n = z.size
    assert abs(z.mean()) < 5 / np.sqrt(n)
    lo, hi = stats.chi2.ppf([5e-7, 1 - 5e-7], n - 1) / (n - 1)
    assert lo < z.var(ddof=1) < hi
    assert abs(stats.kurtosis(z, fisher=False) - 3) < 5 * np.sqrt(24 / n)
    for t in (3.5, 4.17):
        p_tail = 2 * stats.norm.sf(t)
        assert abs((np.abs(z) > t).mean() - p_tail) < 6 * np.sqrt(p_tail / n) + 1 / n
    # no placeholder survives: tail cells were redrawn from the exact (continuous) inverse
    assert not np.isin(z.astype(np.float32), NORMAL_TABLE_16[[0, -1]]).any()
    assert stats.kstest(z[:200000], "norm").pvalue > 1e-4
    # neighbours (same 64-bit draw, and across draws) are uncorrelated
    a = z[: (n // 4) * 4].reshape(-1, 4)
    lim = 5 / np.sqrt(a.shape[0])
    assert abs(np.corrcoef(a[:, 0], a[:, 1])[0, 1]) < lim
    assert abs(np.corrcoef(a[:, 3], np.roll(a[:, 0], -1))[0, 1]) < lim
