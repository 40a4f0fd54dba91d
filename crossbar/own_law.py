"""The own-law fast path of the pulse update: rows of devices with their own step laws (ECRAM's,
`device_models.variation`) and noisy trains, most of whose devices take pulses (a paper-scale
Adam step), through one sequential pass over the pulsed devices and three vectorised passes
(`_own_law_row`): the same numbers as the per-device loop of `crossbar.pulse_updates._lean_row`.
`_own_law_chunks` is a kernel of its own, run first by `crossbar.pulse_updates.apply_update` on
arrays of OWN_LAW_KERNEL_FROM devices or more, so that smaller runs never compile it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

from . import _jitcache  # noqa: F401  (cache stamped with every kernel module: see there)

from .kernel_config import _ROWS_PER_CHUNK
from .normals import _fill_uniforms16, table16_ref
from .pulses import (DN_T, DN_VV, L_HI, L_LIN_DN, L_LIN_UP, L_LO, L_RATE_DN, L_RATE_UP, L_TGT_DN,
                     L_TGT_UP, P_ADDITIVE, P_C2C, P_DG, P_EPULSE, P_GMIN, UP_T, UP_VV,
                     _POLY5_RANGE, _POLY8_RANGE, _apply_n, _device_of, _expm1_poly5,
                     _expm1_poly8, _geo_train, _law, _lin_train, _long_trains, _nonzero,
                     _pair_rule, _pick_device, _pulse_energy_from, _round_row,
                     _train_aggregates)
from .rng import next_normal16, stream_start


# devices of an array from which `apply_update` runs `_own_law_chunks`: its gain is on long
# rows (paper-scale arrays, 784 x 2000 and up), and below this size (every array of the default
# `simulate`) a run does not compile it (~4 s of CPU on a machine's first run)
OWN_LAW_KERNEL_FROM = 1 << 18
# fraction of a row's devices expected to take pulses (Σ min(|a|, 1) over the row) above
# which own-law rows (below LAWS_VECTORISED_ABOVE) take `_own_law_row` instead of the loop
# over the pulsed devices (the same numbers either way, so this sets only the speed). Its
# passes cost ~10 ns per device of the row; the loop costs what its scattered loads of the
# law planes cost per pulsed device, which depends on the machine's memory: ~30 ns on the
# machine of 2026-12-03 (rows 29 % pulsed took as long either way, so the rule was 0.3 then),
# ~80 ns on the AMD EPYC VM of 2026-12-04 evening, where `bench_pulse_updates.py`'s replay
# of a paper batch's 60 updates took 0.88-0.97 s best at 0, 0.05 and 0.1 against
# 1.14-1.26 s at 0.3 (its 36 sparse updates 0.52-0.58 s against 0.77-0.85 s); 0.1 keeps the
# loop for rows nine devices in ten of which take no pulse, where it wins on both machines
# (by those per-device costs, rows 10-29 % pulsed take up to ~3x longer than the loop would
# on the earlier machine)
OWN_LAW_ROWS_ABOVE = 0.1


@njit(inline="always", cache=True)
def _pick4(use_p, up, pu, pd, mu, md):
    """One of a pair's four values (G⁺/G⁻ × potentiate/depress), as selects."""
    return np.float64((pu if up else pd) if use_p else (mu if up else md))


@njit(inline="always", cache=True)
def _own_law(lp, lm, i, j, use_p, up):
    """Device (i, j)'s law for the pair member ``use_p`` in polarity ``up``: (lin, rate,
    target, lo, hi), the values `_law` reads for it. Every candidate is loaded from its fixed
    plane and one picked by selects: which device of a pair moves, and how, changes device to
    device, and a plane chosen per device would make each load a gather (~4x slower rows in a
    development script, not kept)."""
    lin = _pick4(use_p, up, lp[L_LIN_UP, i, j], lp[L_LIN_DN, i, j], lm[L_LIN_UP, i, j],
                 lm[L_LIN_DN, i, j])
    c = _pick4(use_p, up, lp[L_RATE_UP, i, j], lp[L_RATE_DN, i, j], lm[L_RATE_UP, i, j],
               lm[L_RATE_DN, i, j])
    tgt = _pick4(use_p, up, lp[L_TGT_UP, i, j], lp[L_TGT_DN, i, j], lm[L_TGT_UP, i, j],
                 lm[L_TGT_DN, i, j])
    lo = _pick4(use_p, True, lp[L_LO, i, j], lp[L_LO, i, j], lm[L_LO, i, j], lm[L_LO, i, j])
    hi = _pick4(use_p, True, lp[L_HI, i, j], lp[L_HI, i, j], lm[L_HI, i, j], lm[L_HI, i, j])
    return lin, c, tgt, lo, hi


# the largest |deviate| `normal_from_bits16` can return: its tail draw takes 32 bits inside
# the outermost of 4096 cells, u >= 2^-33 / 4096, |Φ⁻¹(u)| <= 7.52
_DEVIATE16_MAX = 7.6


@njit(cache=True)
def _own_law_pass(nrow, a_row, b_row, lp, lm, i, single, p, g, status, wout):
    """The vectorised pass of `_own_law_row` (branch-free): for every device of row i,
    status[j] = 0 without pulses, 1 when `_apply_n` would draw its train at once from one
    deviate (the admission does not depend on the deviate), 2 when it pulses the train one by
    one (a path that might reach a bound, additive noise on a geometric law, a short steep
    train); wout[j] = the new state of a status-1 device from its deviate g[j] by
    `_apply_n_aggregate`'s formulas (with `_expm1_near0`'s two polynomials), the present state
    of a status-0 device, and what it held for a status-2 device. Returns (pulses up, pulses
    down, whether an admitted train might have a log-change beyond the degree-8 polynomial
    for some deviate, |x| >= 1/4, where `_expm1_near0` would call libm, whether any device
    has status 2)."""
    c2c = p[P_C2C]
    additive = p[P_ADDITIVE] > 0.0
    nu = 0
    nd = 0
    beyond = False
    one_by_one = False
    for j in range(nrow.shape[0]):
        cnt, up, use_p, w, _d = _pick_device(nrow[j], a_row[j], b_row[j], 1.0, 1.0, single)
        nf = np.float64(cnt)
        nu += cnt if up else 0
        nd += 0 if up else cnt
        lin, c, tgt, lo, hi = _own_law(lp, lm, i, j, use_p, up)
        gj = np.float64(g[j])
        D0 = tgt - w
        x, ok_g = _geo_train(w, D0, nf, c, up, c2c, gj, lo, hi)
        w_lin, ok_l = _lin_train(w, nf, lin, 1.0 if up else -1.0, up, c2c, gj, lo, hi)
        ok = (ok_g if c != 0.0 else ok_l) & _train_aggregates(cnt, c) & \
            ((not additive) | (c == 0.0))
        x_max = nf * abs(c + c * c * (0.5 * (1.0 + c2c * c2c))) + \
            math.sqrt(nf) * abs(c) * c2c * _DEVIATE16_MAX
        beyond |= ok & (cnt != 0) & (c != 0.0) & (x_max >= _POLY8_RANGE)
        s = np.uint8((cnt != 0) * (2 - ok))
        status[j] = s
        one_by_one |= s == 2
        w_geo = w - D0 * (_expm1_poly5(x) if abs(x) < _POLY5_RANGE else _expm1_poly8(x))
        wout[j] = (w_geo if c != 0.0 else w_lin) if s == 1 else (wout[j] if s == 2 else w)
    return nu, nd, beyond, one_by_one


@njit(cache=True)
def _own_law_commit(nrow, a_row, b_row, single, status, wout, tp_row, tm_row):
    """The last pass of `_own_law_row` (branch-free, vectorises): every device's new state
    wout[j] into its place of the pair, and the write marks of the devices that took
    pulses."""
    for j in range(nrow.shape[0]):
        use_p, _up = _pair_rule(nrow[j] > 0, a_row[j], b_row[j], single, False)
        wn = np.float32(wout[j])
        moved = status[j] != 0
        # b first: with one device per weight (``single``) b_row is a_row and use_p is true
        a, b = a_row[j], b_row[j]
        b_row[j] = b if use_p else wn
        a_row[j] = wn if use_p else a
        tp_row[j] |= np.uint8(moved & use_p)
        tm_row[j] |= np.uint8(moved & (not use_p))


@njit(cache=True)
def _own_law_deviates(idx, st, g, ebuf):
    """`_own_law_row`'s sequential pass when every pulsed device (``idx``, in order) draws its
    train at once: one deviate each from stream ``st`` into g, as `_apply_n` draws it, and
    the row's energy (the sum in the loop's order of ebuf, `_own_law_energies`)."""
    table16 = table16_ref[0]
    e = 0.0
    r = uint64(0)
    left = np.int64(0)
    for kk in range(idx.shape[0]):
        j = idx[kk]
        e += ebuf[j]
        g[j], st, r, left = next_normal16(st, r, left, table16)
    return e


@njit(cache=True)
def _own_law_energies(nrow, a_row, b_row, single, p, ebuf):
    """ebuf[j] = the energy (J) of device j's train as the per-device loop prices it: count ·
    `_pulse_energy_from` at the state before the train (vectorises: the parameters are read
    once, before the loop, and picked per device by selects, so that no load is a gather)."""
    fixed = p[P_EPULSE]
    vvu, vvd, tu, td, gmin, dg = p[UP_VV], p[DN_VV], p[UP_T], p[DN_T], p[P_GMIN], p[P_DG]
    for j in range(nrow.shape[0]):
        cnt, up, _use_p, w, _d = _pick_device(nrow[j], a_row[j], b_row[j], 1.0, 1.0, single)
        ebuf[j] = cnt * _pulse_energy_from(w, fixed, vvu if up else vvd, tu if up else td,
                                           gmin, dg)


@njit(cache=True)
def _own_law_trains(i, idx, nrow, wp, b_dev, differential, lawp, law_m, p, st, g, wout,
                    status, ebuf):
    """`_own_law_row`'s sequential pass when some trains go pulse by pulse (status 2): over the
    pulsed devices in order, one deviate per admitted train into g, the others through
    `_apply_n` into wout (their deviates from the same stream, where the loop draws them).
    Returns the row's energy."""
    table16 = table16_ref[0]
    e = 0.0
    r = uint64(0)
    left = np.int64(0)
    for kk in range(idx.shape[0]):
        j = idx[kk]
        e += ebuf[j]
        if status[j] == 1:
            g[j], st, r, left = next_normal16(st, r, left, table16)
        else:
            cnt, a, b, use_p, ui, w, _d = _device_of(np.int64(nrow[j]), i, j, wp, b_dev, wp, wp,
                                                     False, differential, False)
            wout[j], st, r, left = _apply_n(w, cnt, ui, _law(p, ui, 1.0, True,
                                                             lawp if use_p else law_m, i, j),
                                            p, st, r, left, table16)
    return e


@njit(cache=True)
def _own_law_row(i, nrow, k, idx, wp, wm, differential, lawp, law_m, touchp, touchm, p, st,
                 g, wout, status, ebuf):
    """Row i of own-law devices with noisy trains through one sequential pass over the pulsed
    devices (their deviates and the energy sum, `_own_law_deviates`) and three vectorised
    passes (`_own_law_energies`, `_own_law_pass`, `_own_law_commit`): the same numbers as the
    per-device loop of `_lean_row` (the same deviates of the row's stream ``st`` in the same
    order, the same formulas, the same energy sum), ~2x faster when most devices of the row
    take pulses. ``idx[:k]``: the pulsed devices in order (`_nonzero`). First each train's
    energy (`_own_law_energies`) and one deviate per pulsed device (`_own_law_deviates`: what
    the loop draws when every train is drawn at once), then `_own_law_pass` (which trains are
    admitted, their new states; one pass instead of an admission pass and a state pass, which
    loaded every law twice), then `_own_law_commit`.
    A row with trains near a bound (status 2) draws again through `_own_law_trains` (their
    deviates interleave with the others' as in the loop) and passes again. A row with an
    admitted train that might need libm (trains of hundreds of pulses) is declined, nothing
    changed: the loop does it. Returns (taken, energy, pulses up, pulses down)."""
    single = not differential
    a_row = wp[i]
    b_row = wm[i] if differential else a_row
    b_dev = wm if differential else wp
    _own_law_energies(nrow, a_row, b_row, single, p, ebuf)
    e = _own_law_deviates(idx[:k], st, g, ebuf)
    nu, nd, beyond, one_by_one = _own_law_pass(nrow, a_row, b_row, lawp, law_m, i, single, p,
                                               g, status, wout)
    if beyond:
        return False, 0.0, 0, 0
    if one_by_one:   # rare: the deviates drawn above were the wrong ones for this row
        e = _own_law_trains(i, idx[:k], nrow, wp, b_dev, differential, lawp, law_m, p, st, g,
                            wout, status, ebuf)
        _own_law_pass(nrow, a_row, b_row, lawp, law_m, i, single, p, g, status, wout)
    _own_law_commit(nrow, a_row, b_row, single, status, wout, touchp[i],
                    touchm[i] if differential else touchp[i])
    return True, e, nu, nd


# resolution of `_expected_pulsed`'s fixed-point sum (integer: it vectorises, a float sum in
# strict order does not)
_EXPECTED_STEPS = 256


@njit(cache=True)
def _expected_pulsed(a_row):
    """Σ_j min(|a_j|, 1) (to 1/256 per device): the expected number of devices a
    stochastically rounded row pulses."""
    acc = 0
    for j in range(a_row.shape[0]):
        acc += np.int32(min(abs(a_row[j]), np.float32(1.0)) * np.float32(_EXPECTED_STEPS))
    return acc / _EXPECTED_STEPS


@njit(cache=True, nogil=True)
def _own_law_chunks(c0, c1, A, max_pulses, wp, wm, p, key, differential, lawp, law_m, touchp,
                    touchm, done, up_cnt, dn_cnt, energy, capped):
    """The rows of chunks c0 … c1 - 1 that `_lean_row` would give to its per-device loop
    (own-law devices, noisy trains, deterministic counts, at most LAWS_VECTORISED_ABOVE
    pulses per device on average over the row, `_long_trains`) and that are expected to have
    more than OWN_LAW_ROWS_ABOVE of their devices pulsed, through `_own_law_row`: the same
    counts (from the same uniforms), streams and numbers; done[i] = 1 for each row it took,
    the others are left to `_update_chunks_lean`. A kernel of its own, run first by
    `apply_update` on arrays of OWN_LAW_KERNEL_FROM devices or more, so that runs on smaller
    arrays never compile it."""
    R, C = wp.shape
    nrow, u, idx = (np.empty(C, dtype=np.int32), np.empty(C, dtype=np.float32),
                    np.empty(C, dtype=np.int64))
    g, status = np.zeros(C, dtype=np.float32), np.empty(C, dtype=np.uint8)
    wout, ebuf = np.empty(C, dtype=np.float64), np.empty(C, dtype=np.float64)
    for i in range(c0 * _ROWS_PER_CHUNK, min(R, c1 * _ROWS_PER_CHUNK)):
        # rows that will not qualify are left before their counts are drawn (the lean kernel
        # draws them again): Σ min(|a|, 1) is the expected number of devices pulsed
        if _expected_pulsed(A[i]) <= OWN_LAW_ROWS_ABOVE * C:
            continue
        _fill_uniforms16(u, key, R + i)
        cut = _round_row(A[i], u, nrow, max_pulses)
        if _long_trains(nrow):   # `_lean_row` takes `_aggregate_row_laws`
            continue
        taken, e, nu, nd = _own_law_row(i, nrow, _nonzero(nrow, idx), idx, wp, wm,
                                        differential, lawp, law_m, touchp, touchm, p,
                                        stream_start(key, i), g, wout, status, ebuf)
        if taken:
            energy[i], up_cnt[i], dn_cnt[i], capped[i] = e, nu, nd, cut
            done[i] = 1
