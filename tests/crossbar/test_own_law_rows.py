"""Rows of own-law devices (ECRAM's) through `_own_law_row` — two vectorised passes and one
sequential pass over the pulsed devices — give every device the same state and write mark, and
the row the same pulse counts and energy, as the per-device loop of `_lean_row`: dense and
sparse rows, both mappings, trains near a bound pulsed one by one from the same stream. Rows
with a train the loop would take to libm (a log-change beyond the polynomials) are declined,
untouched; `apply_update` on a large array (its own-law kernel) equals the general kernel."""

from __future__ import annotations

import numpy as np
import pytest

from crossbar import pulses as P
from crossbar.analog import AnalogMatrix
from crossbar.periphery import Periphery
from crossbar.rng import SMALL_CELLS, _tail_inverse
from device_models.presets import get_device


def _run_row(m: AnalogMatrix, i: int, nrow: np.ndarray, own: bool):
    """Row i of copies of m's arrays through `_own_law_row` (``own``) or `_lean_row`, whose
    per-device loop takes such rows otherwise: (taken, energy, pulses up, pulses down, wp,
    wm, touchp, touchm, the statuses `_own_law_row` left in its scratch)."""
    wp, wm, tp, tm = (m.wp.copy(), m.wm.copy(), m._touchp.copy(), m._touchm.copy())
    C = wp.shape[1]
    ones, g = np.ones(C, np.float32), np.zeros(C, np.float32)
    wout, useout = np.empty(C, np.float64), np.empty(C, np.uint8)
    flag, idx, ebuf = np.zeros(C, np.uint8), np.empty(C, np.int64), np.empty(C)
    vec_rows, vec_laws = P._row_paths(m._params, m._full)
    assert vec_laws and not vec_rows               # the own-law case
    st = np.uint64(0x9E3779B97F4A7C15 + i)
    if own:
        lawm = m._lawm if m._differential else m._lawp
        taken, e, nu, nd = P._own_law_row(i, nrow, P._nonzero(nrow, idx), idx, wp, wm,
                                          m._differential, m._lawp, lawm, tp, tm, m._params,
                                          st, g, wout, flag, ebuf)
    else:
        taken = True
        e, nu, nd = P._lean_row(i, nrow, wp, wm, m.d2dp, m.d2dm, m._has_d2d, m._differential,
                                True, vec_rows, vec_laws, m._lawp, m._lawm, tp, tm, m._params,
                                7, st, np.uint64(0), np.int64(0), ones, g, wout, useout,
                                flag, idx)
    return taken, e, nu, nd, wp, wm, tp, tm, flag


def _compare_rows(m: AnalogMatrix, counts: np.ndarray) -> tuple[int, int]:
    """Every row both ways: a row `_own_law_row` takes equals the loop's to the bit, a row it
    declines is left untouched. Returns (taken, declined, the statuses seen in taken rows)."""
    taken = declined = 0
    seen: set = set()
    for i in range(counts.shape[0]):
        nrow = counts[i].astype(np.int32)
        loop, vec = _run_row(m, i, nrow, False), _run_row(m, i, nrow, True)
        if vec[0]:
            taken += 1
            assert loop[1:4] == vec[1:4], f"row {i}: energy / pulses up / pulses down"
            for a, b in zip(loop[4:8], vec[4:8]):
                assert np.array_equal(a, b), f"row {i}: states or write marks differ"
            seen |= set(np.unique(vec[8][nrow != 0]).tolist())
        else:
            declined += 1
            assert vec[1:4] == (0.0, 0, 0)
            for a, b in zip((m.wp, m.wm, m._touchp, m._touchm), vec[4:8]):
                assert np.array_equal(a, b), f"row {i}: a declined row was changed"
    return taken, declined, seen


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
    taken, declined, seen = _compare_rows(m, counts)
    # every row taken, with trains drawn at once (1) and trains near a bound pulsed one by
    # one from the same stream (2)
    assert (taken, declined) == (R, 0) and seen == {1, 2}


def test_trains_of_either_polynomial_taken_and_rows_beyond_them_declined():
    """A steep own law (rate 0.01) with little noise (c2c 0.01): trains of 4 pulses
    (log-change ~0.04, the degree-5 polynomial) and 20 (~0.2, degree 9) are drawn at once
    like the loop's; a row with trains of 60 (~0.6, beyond both, where the loop calls libm)
    is declined."""
    assert 60 * 0.01 > P._POLY9_RANGE > 20 * 0.0101 > P._POLY5_RANGE > 4 * 0.0101 * 0.3
    dev = get_device("ecram").replace(c2c=0.01)
    m = AnalogMatrix(64, 8, dev, Periphery(mapping="differential"), seed=2)   # stored 8 x 64
    R, C = m.wp.shape
    m.wp[...] = 0.5
    m.wm[...] = 0.4                     # w+ + w- < 1: positive trains potentiate G+
    for law in (m._lawp, m._lawm):      # asymptotes just beyond the states: the path stays in
        law[P.L_RATE_UP] = law[P.L_RATE_DN] = 0.01
        law[P.L_TGT_UP], law[P.L_TGT_DN] = 0.56, 0.34
        law[P.L_LO], law[P.L_HI] = 0.0, 1.0
    counts = np.full((R, C), 4.0)       # a mean below LAWS_VECTORISED_ABOVE pulses per device
    counts[:, ::6] = 20.0
    counts[:, 3::6] = -20.0
    counts[4:, 5::8] = 60.0             # rows 4-7: a train beyond the polynomials
    counts[:, 1::5] = 0.0
    assert np.abs(counts).mean(axis=1).max() <= P.LAWS_VECTORISED_ABOVE
    assert _compare_rows(m, counts)[:2] == (4, 4)


def test_no_deviate_is_beyond_the_bound_the_admission_assumes():
    """`_own_law_admits` bounds a train's log-change with |g| <= _DEVIATE16_MAX: the largest
    deviate of `normal_from_bits16` (its tail draw in the outermost of 4096 cells)."""
    u_min = (0.5 / 2.0 ** 32) / SMALL_CELLS
    assert abs(_tail_inverse(u_min)) == pytest.approx(7.515, abs=1e-3)
    assert abs(_tail_inverse(u_min)) < P._DEVIATE16_MAX
    assert abs(_tail_inverse(1.0 - u_min)) < P._DEVIATE16_MAX


@pytest.mark.parametrize("mapping", ["differential", "reference"])
def test_apply_update_with_the_own_law_kernel_equals_the_general_kernel(mapping, monkeypatch):
    """A paper-like array (512 x 512, OWN_LAW_KERNEL_FROM devices): the lean update, whose
    dense rows `_own_law_chunks` takes, against the general kernel's per-device loop."""
    m = AnalogMatrix(512, 512, "ecram", Periphery(mapping=mapping), seed=8)
    assert m.wp.size >= P.OWN_LAW_KERNEL_FROM
    rng = np.random.default_rng(9)
    R, C = m.wp.shape
    m.wp[...] = rng.uniform(0, 1, (R, C))
    if mapping == "differential":
        m.wm[...] = rng.uniform(0, 1, (R, C))
    # rows of Adam-like steps (~2 pulses a device), sparse rows, rows of long trains
    scale = rng.choice([0.1, 2.0, 30.0], (R, 1), p=[0.3, 0.6, 0.1])
    A = (rng.standard_normal((R, C)) * scale).astype(np.float32)
    c = np.copy
    args = [(P.DETERMINISTIC, c(A), np.zeros_like(A), m.periphery.max_pulses, c(m.wp),
             c(m.wm), m.d2dp, m.d2dm, m._has_d2d, c(m.stuckp), c(m.stuckm), c(m.countp),
             c(m.countm), m._params, 12345, m._differential, c(m.tprogp), c(m.tprogm),
             m._drift, m.time, m._full, m._lawp, m._lawm, c(m._touchp), c(m._touchm))
            for _ in range(2)]
    taken = []
    real = P.run_chunks

    def run(kernel, *a, **kw):
        result = real(kernel, *a, **kw)
        taken.append((kernel.__name__, a[-4].copy() if kernel.__name__ == "_own_law_chunks"
                      else None))
        return result

    monkeypatch.setattr(P, "run_chunks", run)
    out_lean = P.apply_update(*args[0], stuck_free=True)
    out_general = P.apply_update(*args[1], stuck_free=False)
    assert [name for name, _ in taken] == ["_own_law_chunks", "_update_chunks_lean",
                                           "_update_chunks"]
    assert 0.4 * R < taken[0][1].sum() < 0.8 * R      # the dense rows, not the others
    for a, b in zip(out_lean, out_general):             # pulses up, down, energy per row
        assert np.array_equal(a, b)
    for k in (4, 5, 23, 24):                            # wp, wm, write marks
        assert np.array_equal(args[0][k], args[1][k])
