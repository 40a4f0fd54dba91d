"""The own-law pulse kernel (`_own_law_chunks`: rows of ECRAM-like devices through
`_own_law_row`, one sequential pass over the pulsed devices and two vectorised passes) gives
every device the same state and write mark, and every row the same pulse counts and energy, as
the general kernel's per-device loop: dense and sparse rows, both mappings, trains near a bound
pulsed one by one from the same stream, trains of either polynomial. Rows it declines (a train
the loop would take to libm) or leaves (few devices pulsed, long trains) go to the lean kernel
untouched; `apply_update` runs it on arrays of OWN_LAW_KERNEL_FROM devices or more.

The kernels are called as `apply_update` calls them (the same compiled specialisations as the
rest of the suite: no extra compile on a cold cache)."""

from __future__ import annotations

import numpy as np
import pytest

from crossbar import own_law as O
from crossbar import pulse_updates as U
from crossbar import pulses as P
from crossbar.analog import AnalogMatrix
from crossbar.periphery import Periphery
from crossbar.rng import SMALL_CELLS, _tail_inverse
from crossbar.threads import chunks
from device_models.presets import get_device


def _args(m: AnalogMatrix, A: np.ndarray) -> list:
    """apply_update's arguments for deterministic counts (m's arrays and A copied)."""
    c = np.copy
    dev = U.Devices(c(m.wp), c(m.wm), m.d2dp, m.d2dm, m._has_d2d, m._differential, m._full,
                    m._lawp, m._lawm, c(m._touchp), c(m._touchm))
    wear = U.Wear(c(m.stuckp), c(m.stuckm), c(m.countp), c(m.countm), c(m.tprogp), c(m.tprogm),
                  m._drift, m.time)
    return [P.DETERMINISTIC, c(A), np.zeros_like(A), m.periphery.max_pulses, dev, wear,
            m._params, 12345]


def _own_law_then_lean(a: list) -> tuple:
    """What `apply_update` does on a large array, at any size: `_own_law_chunks`, then the
    lean kernel for the rows it did not take. Returns (rows taken, (up, down, energy,
    capped))."""
    mode, A, _V, mp, dev, _wear, p, key = a
    wp, wm, d2dp, d2dm, has_d2d, diff, full, lawp, lawm, touchp, touchm = dev
    R = wp.shape[0]
    out = (np.zeros(R, np.int64), np.zeros(R, np.int64), np.zeros(R, np.float64),
           np.zeros(R, np.int64))
    done = np.zeros(R, np.uint8)
    O._own_law_chunks(0, chunks(R), A, mp, wp, wm, p, key, diff, lawp,
                      lawm if diff else lawp, touchp, touchm, done, *out)
    U._update_chunks_lean(0, chunks(R), mode, A, mp, wp, wm, d2dp, d2dm, has_d2d, p, key, diff,
                          full, lawp, lawm, touchp, touchm, done, *out)
    return done, out


def _assert_equals_general_kernel(m: AnalogMatrix, A: np.ndarray) -> np.ndarray:
    """The own-law then lean kernels against the general kernel (the per-device loop for every
    row); returns the rows the own-law kernel took."""
    mine, general = _args(m, A), _args(m, A)
    done, out = _own_law_then_lean(mine)
    out_general = U.apply_update(*general, stuck_free=False)
    for x, y in zip(out, out_general, strict=True):    # pulses up, down, energy, capped
        assert np.array_equal(x, y)
    for a, b in zip(mine[4], general[4]):              # states, write marks (and the rest)
        assert np.array_equal(a, b)
    return done


@pytest.mark.parametrize("mapping", ["differential", "reference"])
def test_own_law_rows_equal_the_per_device_loop(mapping):
    m = AnalogMatrix(200, 48, "ecram", Periphery(mapping=mapping), seed=5)   # stored 48 x 200
    rng = np.random.default_rng(6)
    R, C = m.wp.shape
    # states across the window, a tenth at its bounds: trains there are refused and pulsed
    # one by one (the same stream); w+ + w- either side of 1 (both devices of a pair move)
    m.wp[...] = rng.choice([0.0, 1.0, 0.5], (R, C), p=[0.05, 0.05, 0.9]) * \
        rng.uniform(0.9, 1, (R, C))
    if mapping == "differential":
        m.wm[...] = rng.uniform(0, 1, (R, C))
    # Adam-like rows (~2 pulses a device), sparse rows, rows of long trains
    scale = rng.choice([0.1, 2.0, 30.0], (R, 1), p=[0.3, 0.5, 0.2])
    A = (rng.standard_normal((R, C)) * scale).astype(np.float32)
    done = _assert_equals_general_kernel(m, A)
    dense = scale[:, 0] == 2.0
    assert done[dense].all() and not done[~dense].any()
    # the taken rows held trains at a bound (refused, pulsed one by one)
    at_bound = (m.wp == 0.0) | (m.wp >= 0.95)
    assert (at_bound[dense] & (np.abs(A[dense]) >= 1)).sum() > 20


def test_taken_rows_count_the_trains_the_cap_cuts_as_the_loop_does():
    """Dense rows (Adam-like, two pulses a device) with a few trains beyond the cap: the
    own-law kernel takes every row and counts the cut trains as the per-device loop does."""
    m = AnalogMatrix(200, 48, "ecram", Periphery(mapping="differential"), seed=7)
    rng = np.random.default_rng(8)
    A = np.where(rng.random(m.wp.shape) < 0.5, 2.0, -2.0).astype(np.float32)
    A[rng.random(m.wp.shape) < 0.02] = 40.0            # whole pulses: no draw decides a count
    done = _assert_equals_general_kernel(m, A)         # compares the capped counts too
    assert done.all()
    _done, out = _own_law_then_lean(_args(m, A))
    assert out[3].tolist() == (A > m.periphery.max_pulses).sum(axis=1).tolist()
    assert out[3].sum() > 50


def test_trains_of_either_polynomial_taken_and_rows_beyond_them_declined():
    """A steep own law (rate 0.01) with little noise (c2c 0.01): trains of 4 pulses
    (log-change ~0.04, the degree-5 polynomial) and 20 (~0.2, degree 8) are drawn at once
    like the loop's; a row with trains of 60 (~0.6, beyond both, where the loop calls libm)
    is declined to the loop."""
    assert 60 * 0.01 > P._POLY8_RANGE > 20 * 0.0101 > P._POLY5_RANGE > 4 * 0.0101 * 0.3
    dev = get_device("ecram").replace(c2c=0.01)
    m = AnalogMatrix(64, 8, dev, Periphery(mapping="differential"), seed=2)  # stored 8 x 64
    R, C = m.wp.shape
    m.wp[...] = 0.5
    m.wm[...] = 0.4                     # w+ + w- < 1: positive trains potentiate G+
    for law in (m._lawp, m._lawm):      # asymptotes just beyond the states: the path stays in
        law[P.L_RATE_UP] = law[P.L_RATE_DN] = 0.01
        law[P.L_TGT_UP], law[P.L_TGT_DN] = 0.56, 0.34
        law[P.L_LO], law[P.L_HI] = 0.0, 1.0
    A = np.full((R, C), 4.0, np.float32)   # whole pulses: rounding keeps them exactly
    A[:, ::6] = 20.0
    A[:, 3::6] = -20.0
    A[4:, 5::8] = 60.0                  # rows 4-7: a train beyond the polynomials
    A[:, 1::5] = 0.0
    assert np.abs(A).mean(axis=1).max() <= P.LAWS_VECTORISED_ABOVE
    done = _assert_equals_general_kernel(m, A)
    assert done.tolist() == [1, 1, 1, 1, 0, 0, 0, 0]


def test_no_deviate_is_beyond_the_bound_the_admission_assumes():
    """`_own_law_pass` bounds a train's log-change with |g| <= _DEVIATE16_MAX: the largest
    deviate of `normal_from_bits16` (its tail draw in the outermost of 4096 cells)."""
    u_min = (0.5 / 2.0 ** 32) / SMALL_CELLS
    assert abs(_tail_inverse(u_min)) == pytest.approx(7.515, abs=1e-3)
    assert abs(_tail_inverse(u_min)) < O._DEVIATE16_MAX
    assert abs(_tail_inverse(1.0 - u_min)) < O._DEVIATE16_MAX


def test_apply_update_runs_the_own_law_kernel_from_its_size(kernels_run):
    """`apply_update` runs `_own_law_chunks` first on arrays of OWN_LAW_KERNEL_FROM devices of
    own-law devices, with deterministic counts, and not below that size (the default
    `simulate`'s arrays: a machine's first run does not compile it)."""
    ran = kernels_run()
    rng = np.random.default_rng(1)
    for out_features, expected in ((511, ["_update_chunks_lean"]),
                                   (512, ["_own_law_chunks", "_update_chunks_lean"])):
        m = AnalogMatrix(out_features, 512, "ecram", seed=0)
        assert (m.wp.size >= O.OWN_LAW_KERNEL_FROM) == (out_features == 512)
        A = (rng.standard_normal(m.wp.shape) * 2).astype(np.float32)
        ran.clear()
        U.apply_update(*_args(m, A), stuck_free=True)
        assert ran == expected
        ran.clear()
        mixed = _args(m, A)
        mixed[0] = P.MIXED
        U.apply_update(*mixed, stuck_free=True)
        assert ran == ["_update_chunks_lean"]            # deterministic counts only
