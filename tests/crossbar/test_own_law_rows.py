"""Rows of own-law devices (ECRAM's) through `_own_law_row` — two vectorised passes and one
sequential pass over the pulsed devices — give every device the same state and write mark, and
the row the same pulse counts and energy, as the per-device loop of `_lean_row`: dense and
sparse rows, both mappings, trains refused near a bound (pulsed one by one from the same
stream) and trains whose log-change is beyond the polynomials' range (libm)."""

from __future__ import annotations

import numpy as np
import pytest

from crossbar import pulses as P
from crossbar.analog import AnalogMatrix
from crossbar.periphery import Periphery
from device_models.presets import get_device

NEVER, ALWAYS = 2.0, -1.0    # `own_above`: the per-device loop, or `_own_law_row`


def _run_row(m: AnalogMatrix, i: int, nrow: np.ndarray, own_above: float):
    """Row i of copies of m's arrays through `_lean_row`: (energy, pulses up, pulses down,
    wp, wm, touchp, touchm, the statuses `_own_law_row` left in the flag scratch)."""
    wp, wm, tp, tm = (m.wp.copy(), m.wm.copy(), m._touchp.copy(), m._touchm.copy())
    C = wp.shape[1]
    ones, g = np.ones(C, np.float32), np.zeros(C, np.float32)
    wout, useout = np.empty(C, np.float64), np.empty(C, np.uint8)
    flag, idx, ebuf = np.zeros(C, np.uint8), np.empty(C, np.int64), np.empty(C)
    vec_rows, vec_laws = P._row_paths(m._params, m._full)
    assert vec_laws and not vec_rows               # the own-law case
    st, r, left = np.uint64(0x9E3779B97F4A7C15 + i), np.uint64(0), np.int64(0)
    e, nu, nd = P._lean_row(i, nrow, wp, wm, m.d2dp, m.d2dm, m._has_d2d, m._differential, True,
                            vec_rows, vec_laws, own_above, m._lawp, m._lawm, tp, tm, m._params,
                            7, st, r, left, ones, g, wout, useout, flag, idx, ebuf)
    return e, nu, nd, wp, wm, tp, tm, flag


def _assert_same_rows(m: AnalogMatrix, counts: np.ndarray) -> set:
    """Every row both ways, equal to the bit; returns the statuses `_own_law_row` saw."""
    seen = set()
    for i in range(counts.shape[0]):
        nrow = counts[i].astype(np.int32)
        loop, vec = _run_row(m, i, nrow, NEVER), _run_row(m, i, nrow, ALWAYS)
        assert loop[:3] == vec[:3], f"row {i}: energy / pulses up / pulses down"
        for a, b in zip(loop[3:7], vec[3:7]):
            assert np.array_equal(a, b), f"row {i}: states or write marks differ"
        assert not loop[7].any()                    # the loop left the scratch alone
        seen |= set(np.unique(vec[7][nrow != 0]).tolist())
    return seen


@pytest.mark.parametrize("mapping", ["differential", "reference"])
def test_own_law_rows_equal_the_per_device_loop(mapping):
    m = AnalogMatrix(24, 200, "ecram", Periphery(mapping=mapping), seed=5)
    rng = np.random.default_rng(6)
    R, C = m.wp.shape
    # states across the whole window, a tenth at its bounds: long trains there are refused
    m.wp[...] = rng.choice([0.0, 1.0, 0.5], (R, C), p=[0.05, 0.05, 0.9]) * rng.uniform(0.9, 1, (R, C))
    if mapping == "differential":
        m.wm[...] = rng.uniform(0, 1, (R, C))
    scale = rng.choice([0.4, 3.0, 12.0], (R, 1))     # sparse rows, dense rows, long trains
    counts = np.rint(rng.standard_normal((R, C)) * scale)
    seen = _assert_same_rows(m, counts)
    assert {1, 2} <= seen       # drawn at once, and pulsed one by one near a bound


def test_trains_beyond_the_polynomial_range_take_libm_alike():
    """A steep own law (rate 0.01) with little noise (c2c 0.01) admits trains of 60 pulses
    whose log-change (about -0.6) is beyond the degree-9 polynomial: status 3, libm."""
    assert 60 * 0.01 > P._POLY9_RANGE
    dev = get_device("ecram").replace(c2c=0.01)
    m = AnalogMatrix(8, 64, dev, Periphery(mapping="differential"), seed=2)
    R, C = m.wp.shape
    m.wp[...] = 0.5
    m.wm[...] = 0.4                     # w+ + w- < 1: positive trains potentiate G+
    for law in (m._lawp, m._lawm):      # asymptotes just beyond the states: the path stays in
        law[P.L_RATE_UP] = law[P.L_RATE_DN] = 0.01
        law[P.L_TGT_UP], law[P.L_TGT_DN] = 0.56, 0.34
        law[P.L_LO], law[P.L_HI] = 0.0, 1.0
    counts = np.ones((R, C))            # a mean below LAWS_VECTORISED_ABOVE pulses per device
    counts[:, ::6] = 60.0
    counts[:, 3::6] = -60.0
    counts[:, 1::5] = 0.0
    assert np.abs(counts).mean(axis=1).max() <= P.LAWS_VECTORISED_ABOVE
    seen = _assert_same_rows(m, counts)
    assert 3 in seen
