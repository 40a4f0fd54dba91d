"""The input DAC kernel (crossbar.converters.dac_quantize): levels, per-tile Σq², row energies
and scales against a NumPy reference, and rows summed four at a time equal to rows summed
alone (a NaN row among them included)."""

import numpy as np
import pytest

from crossbar import kernels as K


def _dac(x, edges, gsum, abs_max=True, in_bound=1.5, levels=31, threads=None):
    B, n = x.shape
    q = np.empty_like(x)
    n2 = np.full((B, len(edges) - 1), -1.0, np.float32)
    energy = np.full(B, -1.0)
    scale, clipped, bad = K.dac_quantize(x, levels, abs_max, in_bound, edges, gsum, q, n2,
                                         energy, threads=threads)
    return q, n2, energy, scale, clipped, bad


def _sequential(v):
    """Σ v in order, in float32."""
    acc = np.float32(0)
    for a in v:
        acc = np.float32(acc + a)
    return acc


@pytest.mark.parametrize("abs_max", [True, False])
def test_dac_against_numpy_reference(abs_max):
    rng = np.random.default_rng(0)
    B, n = 11, 70
    edges = np.array([0, 16, 47, 70], np.int64)
    x = (2 * rng.standard_normal((B, n))).astype(np.float32)
    gsum = rng.uniform(1, 3, n).astype(np.float32)
    q, n2, energy, scale, clipped, bad = _dac(x, edges, gsum, abs_max)
    L = np.float32(31)
    s = np.abs(x).max(axis=1) if abs_max else np.full(B, 1.5, np.float32)
    want_q = np.rint(np.clip(x * (L / s[:, None]), -L, L)).astype(np.float32) * (np.float32(1) / L)
    np.testing.assert_array_equal(q, want_q)
    np.testing.assert_array_equal(scale, s.astype(np.float32))
    for b in range(B):
        e = 0.0
        for t in range(3):
            v2 = want_q[b, edges[t]:edges[t + 1]] ** 2
            assert n2[b, t] == _sequential(v2)
            e += float(_sequential(v2 * gsum[edges[t]:edges[t + 1]]))
        assert energy[b] == e
    assert bad == 0
    assert clipped == (0 if abs_max else int(np.sum(np.abs(x * (L / 1.5)) > L)))


@pytest.mark.parametrize("threads", [1, None])
def test_rows_four_at_a_time_equal_rows_alone(threads):
    """Rows go through the sums four at a time; a row alone (and the rows of a group holding
    a NaN row) one at a time: the same numbers either way."""
    rng = np.random.default_rng(1)
    B, n = 37, 600
    edges = np.array([0, 256, 512, 600], np.int64)
    x = rng.standard_normal((B, n)).astype(np.float32)
    x[9, 100] = np.nan
    gsum = rng.uniform(1, 3, n).astype(np.float32)
    q, n2, energy, scale, clipped, bad = _dac(x, edges, gsum, threads=threads)
    assert bad == 1
    assert energy[9] == 0.0 and scale[9] == 1.0 and np.all(n2[9] == -1.0)
    for b in (0, 3, 8, 10, 11, 35, 36):
        q1, n21, e1, s1, _, _ = _dac(x[b:b + 1], edges, gsum)
        assert q[b].tobytes() == q1[0].tobytes() and n2[b].tobytes() == n21[0].tobytes()
        assert energy[b] == e1[0] and scale[b] == s1[0]
