"""The pulse update, `apply_update`: a requested weight change turned into pulse counts row by
row and applied to the devices (a `Devices`, their bookkeeping a `Wear`), row totals returned as
a `RowTotals`. Rows go through the lean row (`_lean_row`: no stuck device, no endurance, refresh
or drift clock) or the general loop (`_update_chunks`: stuck devices, endurance, refresh of
potentiate-only pairs, programming times); rows of own-law devices with many pulsed devices
first through `crossbar.own_law`. The physics of each train and each row pass is
`crossbar.pulses`'.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, uint64

from . import _jitcache  # noqa: F401  (cache stamped with every kernel module: see there)

from .kernel_config import _ROWS_PER_CHUNK
from .normals import _fill_normals, _fill_uniforms16, table16_ref, table_ref, tablefull_ref
from .own_law import OWN_LAW_KERNEL_FROM, _own_law_chunks
from .pulses import (DETERMINISTIC, DN_RATE, MIXED, P_C2C, P_ENDUR, P_POTONLY, P_S, STOCHASTIC,
                     _aggregate_row, _aggregate_row_laws, _apply_n, _device_of, _law,
                     _long_trains, _nonzero, _pulse_energy, _round_row, _row_has_stuck,
                     _row_paths, _truncate_row, _write_back)
from .rng import next_u64, normal_from_bits, stream_start
from .threads import run_chunks_in_turn


class Devices(NamedTuple):
    """One matrix's devices as `apply_update` reads and writes them: the arrays themselves
    (updated in place), (R, C) = (in, out). Arrays a matrix does not use are (1, 1)
    placeholders (``wm`` with one device per weight, the step factors without d2d, the laws
    and marks of devices without their own laws)."""
    wp: np.ndarray          # float32: state of G⁺ (or of the one device), normalised 0…1
    wm: np.ndarray          # float32: state of G⁻ (``differential``)
    d2dp: np.ndarray        # float32: step factors of G⁺ (device-to-device), read if has_d2d
    d2dm: np.ndarray        # float32: step factors of G⁻
    has_d2d: bool           # the step factors differ from 1
    differential: bool      # a G⁺/G⁻ pair per weight; else one device per weight (wp)
    full: bool              # every device follows its own law (lawp / lawm)
    lawp: np.ndarray        # float32 (N_LAW, R, C): G⁺ laws (device_models.variation)
    lawm: np.ndarray        # float32 (N_LAW, R, C): G⁻ laws
    touchp: np.ndarray      # uint8: set to 1 where G⁺ took pulses (``full``: write noise)
    touchm: np.ndarray      # uint8: the same for G⁻


class Wear(NamedTuple):
    """What only rows that are not lean read and write: stuck devices, endurance counts and
    programming times (drift). (1, 1) placeholders where a matrix keeps none."""
    stuckp: np.ndarray      # uint8 (R, C): 1 where G⁺ is stuck
    stuckm: np.ndarray      # uint8: the same for G⁻
    countp: np.ndarray      # int64 (R, C): pulses G⁺ has taken (endurance, p[P_ENDUR])
    countm: np.ndarray      # int64: the same for G⁻
    tprogp: np.ndarray      # float64 (R, C): when G⁺ was last programmed (s), if track_time
    tprogm: np.ndarray      # float64: the same for G⁻
    track_time: bool        # record programming times (the device drifts)
    now: float              # the present time (s)


class RowTotals(NamedTuple):
    """What `apply_update` returns, per array row."""
    up: np.ndarray          # int64 (R,): potentiating pulses
    down: np.ndarray        # int64 (R,): depressing pulses
    energy: np.ndarray      # float64 (R,): pulse energy (J)
    capped: np.ndarray      # int64 (R,): devices whose count the max_pulses cap cut

# a potentiate-only pair is refreshed (both RESET, the difference re-programmed) once either
# device passes this state: near g_max its SET steps shrink towards zero (nonlinear PCM
# potentiation), so the pair would stop learning; 0.9 leaves a tenth of the window as margin
# (a choice of this simulator: aihwkit's OneSidedUnitCell refreshes at 0.75 of w_max)
REFRESH_AT = 0.9


@njit(cache=True)
def _flagged_trains(i, nrow, a_row, b_row, dp_row, dm_row, useout, wout, flag, idx, row_laws,
                    lawp, law_m, p, st, r, left, table16):
    """After `_aggregate_row(_laws)`: the devices it flagged through `_apply_n` from the row's
    stream (st, r, left), their new states into ``wout``: pulse by pulse (trains that might
    touch a bound, or refused by `_train_aggregates`), or, when only the polynomial's range
    (log-change >= 1/4) flagged them, possibly drawn at once from a new deviate
    (`_apply_n_aggregate`)."""
    k = _nonzero(flag, idx)
    for kk in range(k):
        j = idx[kk]
        n = np.int64(nrow[j])
        use_p = useout[j] != 0
        ui = 1 if use_p == (n > 0) else 0  # _pair_rule's polarity for this device
        w0 = a_row[j] if use_p else b_row[j]
        d2d = dp_row[j] if use_p else dm_row[j]
        w1, st, r, left = _apply_n(np.float64(w0), n if n > 0 else -n, ui,
                                   _law(p, ui, d2d, row_laws, lawp if use_p else law_m, i, j),
                                   p, st, r, left, table16)
        wout[j] = w1


@njit(inline="always")
def _row_scratch(C):
    """The per-row scratch of both update kernels, allocated once per call and reused row
    after row (each row overwrites what it reads): d2d ones, pulse counts, uniforms, the
    compacted index list, deviates, new states, which device moved, flagged trains."""
    return (np.ones(C, dtype=np.float32), np.empty(C, dtype=np.int32),
            np.empty(C, dtype=np.float32), np.empty(C, dtype=np.int64),
            np.zeros(C, dtype=np.float32), np.empty(C, dtype=np.float64),
            np.empty(C, dtype=np.uint8), np.empty(C, dtype=np.uint8))


@njit(cache=True)
def _lean_row(i, nrow, wp, wm, d2dp, d2dm, has_d2d, differential, full, vec_rows, vec_laws,
              lawp, lawm, touchp, touchm, p, key, st, r, left, ones, g, wout, useout, flag,
              idx):
    """Row i's pulse trains when the row is lean: no stuck device, no endurance or refresh
    bookkeeping, no drift clock; the same physics as `_update_chunks`' general loop, with the
    polarity picked by selects. The one lean row of both update kernels; ``nrow`` holds the
    row's pulse counts, (st, r, left) its stream, the rest is scratch. Returns (energy,
    pulses up, pulses down)."""
    R, C = wp.shape
    c2c = p[P_C2C]
    geometric = p[DN_RATE] != 0.0
    table16 = table16_ref[0]
    tablefull = tablefull_ref[0]
    law_m = lawm if differential else lawp
    nu = 0
    nd = 0
    e = 0.0
    # own-law devices: the vectorised pass (8 law loads per device, every device of the row)
    # pays only for long trains, where the per-device loop pulses many near a bound; with a
    # few pulses per device the loop over the pulsed devices is faster (measured on
    # 2000x2000 ecram: ~2 pulses/device loop 1.5x faster, ~160 vectorised 1.7x faster)
    # (on arrays of OWN_LAW_KERNEL_FROM devices and up, `_own_law_chunks` has taken the rows
    # with many devices pulsed before this)
    row_laws = vec_laws and _long_trains(nrow)
    if vec_rows or row_laws:
        # noisy trains: the whole row through the aggregated formula at once (one deviate per
        # device, stream 2R + i), then the flagged devices (`_flagged_trains`, stream i),
        # then one write-back
        if not has_d2d:
            dp_row = ones
            dm_row = ones
        else:
            dp_row = d2dp[i]
            dm_row = d2dm[i] if differential else d2dp[i]
        b_row = wm[i] if differential else wp[i]
        if c2c > 0.0:
            _fill_normals(g, key, 2 * R + i, tablefull)
        if row_laws:
            e, nu, nd = _aggregate_row_laws(nrow, wp[i], b_row, lawp, law_m, i,
                                            not differential, g, p, c2c, wout, useout, flag)
        else:
            e, nu, nd = _aggregate_row(nrow, wp[i], b_row, dp_row, dm_row, not differential, g,
                                       p, geometric, c2c, wout, useout, flag)
        _flagged_trains(i, nrow, wp[i], b_row, dp_row, dm_row, useout, wout, flag, idx,
                        row_laws, lawp, law_m, p, st, r, left, table16)
        _write_back(wp[i], b_row, wout, useout, differential)
        if row_laws:  # write noise: every device that took pulses was written
            for j in range(C):
                if nrow[j] != 0:
                    if useout[j] != 0:
                        touchp[i, j] = 1
                    else:
                        touchm[i, j] = 1
        return e, nu, nd
    for kk in range(_nonzero(nrow, idx)):
        j = idx[kk]
        # own-law devices carry their step factor in their law (`_law`): no d2d load
        cnt, a, b, use_p, ui, w, d2d = _device_of(np.int64(nrow[j]), i, j, wp, wm, d2dp, d2dm,
                                                  has_d2d and not full, differential, False)
        e += cnt * _pulse_energy(w, ui, p)
        nu += cnt * ui
        nd += cnt * (1 - ui)
        w, st, r, left = _apply_n(w, cnt, ui,
                                  _law(p, ui, d2d, full, lawp if use_p else lawm, i, j),
                                  p, st, r, left, table16)
        if differential:
            wp[i, j] = w if use_p else a
            wm[i, j] = b if use_p else w
        else:
            wp[i, j] = w
        if full:  # write noise: this device was written (branch-free: which device of a pair
            # moved is a coin flip device to device; the mispredicted branch cost ~1/10 of
            # a dense update, 2000 x 2000 at ~2 pulses per device)
            if differential:
                touchp[i, j] |= np.uint8(use_p)
                touchm[i, j] |= np.uint8(not use_p)
            else:
                touchp[i, j] = 1
    return e, nu, nd


def device_never_stuck(device) -> bool:
    """Whether no device of this model is stuck nor can become stuck: no stuck-at fractions,
    no endurance limit. The device half of `apply_update`'s lean condition: a matrix passes it
    as ``stuck_free`` (`crossbar.analog.AnalogMatrix`), and `device_takes_general_kernel`
    predicts from it."""
    return device.stuck_off == 0 and device.stuck_on == 0 and device.endurance <= 0


def device_takes_general_kernel(device) -> bool:
    """Whether every update of a matrix of ``device`` runs the general kernel `_update_chunks`,
    whatever the scheme: devices that are or can become stuck (`device_never_stuck`),
    potentiate-only pairs (refresh) and drifting devices (a programming clock) fail
    `apply_update`'s lean condition. Other devices take `_update_chunks_lean`, except for
    stochastic counts. A prediction for `crossbar.warmup` (which kernel to compile ahead);
    `apply_update` decides as it runs (tests/crossbar/test_lean_update.py: the two agree)."""
    return (not device_never_stuck(device) or device.policy == "potentiate-only"
            or device.drift_nu > 0 or device.drift_nu_std > 0)


@njit(cache=True, nogil=True)
def _update_chunks_lean(c0, c1, mode, A, max_pulses, wp, wm, d2dp, d2dm, has_d2d, p, key,
                        differential, full, lawp, lawm, touchp, touchm, done, up_cnt, dn_cnt,
                        energy, capped):
    """`_update_chunks` when every row is lean (`apply_update` decides: no device is or can
    become stuck, no endurance, no refresh, no drift clock) and the counts are deterministic
    or mixed: the same streams and the same `_lean_row`, so the same numbers; compiled on its
    own, so a run that needs nothing else (the default one) does not compile the general
    loop (a machine's first run)."""
    R, C = wp.shape
    vec_rows, vec_laws = _row_paths(p, full)
    ones, nrow, u, idx, g, wout, useout, flag = _row_scratch(C)
    for i in range(c0 * _ROWS_PER_CHUNK, min(R, c1 * _ROWS_PER_CHUNK)):
        if done[i]:   # done by `_own_law_chunks`
            continue
        if mode == DETERMINISTIC:
            _fill_uniforms16(u, key, R + i)
            capped[i] = _round_row(A[i], u, nrow, max_pulses)
        else:
            capped[i] = _truncate_row(A[i], nrow, max_pulses)
        e, nu, nd = _lean_row(i, nrow, wp, wm, d2dp, d2dm, has_d2d, differential, full,
                              vec_rows, vec_laws, lawp, lawm, touchp, touchm, p, key,
                              stream_start(key, i), uint64(0), np.int64(0), ones, g, wout,
                              useout, flag, idx)
        up_cnt[i] = nu
        dn_cnt[i] = nd
        energy[i] = e


@njit(inline="always")
def _stochastic_counts(a_row, v_row, nrow, max_pulses, st, table):
    """A row's counts from mean coincidence counts ``a_row`` and their variances ``v_row``:
    n = rint(a + √v·z), z one deviate per device with a request (from stream ``st``, in
    order), capped at ±max_pulses; 0 where a and v are 0. Returns (the stream, how many
    devices' counts the cap cut)."""
    capped = 0
    for j in range(a_row.shape[0]):
        a = a_row[j]
        if a == 0.0 and v_row[j] == 0.0:
            nrow[j] = 0
            continue
        st, rr = next_u64(st)
        z = normal_from_bits(rr >> uint64(32), table)
        n = np.rint(a + math.sqrt(max(v_row[j], 0.0)) * z)
        capped += (n > max_pulses) | (n < -max_pulses)
        nrow[j] = np.int32(min(max(n, -max_pulses), max_pulses))
    return st, capped


@njit(inline="always")
def _wear(i, j, use_p, cnt, endur, countp, countm, stuckp, stuckm):
    """Endurance: the device that took ``cnt`` pulses counts them, and sticks at ``endur``."""
    if use_p:
        countp[i, j] += cnt
        if countp[i, j] >= endur:
            stuckp[i, j] = 1
    else:
        countm[i, j] += cnt
        if countm[i, j] >= endur:
            stuckm[i, j] = 1


@njit(inline="always")
def _refresh(i, j, wp, wm, stuckp, stuckm, p, states, e, nu, nd):
    """Refresh of a potentiate-only pair past REFRESH_AT: RESET both devices (those not stuck),
    re-program the difference with SET pulses (``states`` per unit of state). Returns the row's
    energy and pulse counts with the refresh added (each term added in order)."""
    diff = wp[i, j] - wm[i, j]
    nreset = 0
    if stuckp[i, j] == 0:
        e += _pulse_energy(wp[i, j], 0, p)
        wp[i, j] = 0.0
        nreset += 1
    if stuckm[i, j] == 0:
        e += _pulse_energy(wm[i, j], 0, p)
        wm[i, j] = 0.0
        nreset += 1
    nd += nreset
    nset = np.int64(np.rint(abs(diff) * states))
    if nset > 0:
        if diff > 0 and stuckp[i, j] == 0:
            e += nset * _pulse_energy(0.5 * abs(diff), 1, p)
            wp[i, j] = min(1.0, abs(diff))
            nu += nset
        elif diff < 0 and stuckm[i, j] == 0:
            e += nset * _pulse_energy(0.5 * abs(diff), 1, p)
            wm[i, j] = min(1.0, abs(diff))
            nu += nset
    return e, nu, nd


@njit(cache=True, nogil=True)
def _update_chunks(c0, c1, mode, A, V, max_pulses, wp, wm, d2dp, d2dm, has_d2d, stuckp, stuckm,
                   countp, countm, p, key, differential, tprogp, tprogm, track_time, now, full,
                   lawp, lawm, touchp, touchm, up_cnt, dn_cnt, energy, capped):
    """`apply_update` for the rows of chunks c0 … c1 - 1 (rows c0·16 … c1·16 - 1), without the
    GIL: the whole row physics. Scratch is allocated once per call and reused row after row
    (every row overwrites what it reads of it), so where a run starts cannot matter."""
    R, C = wp.shape
    potonly = p[P_POTONLY] > 0
    endur = p[P_ENDUR]
    table = table_ref[0]
    table16 = table16_ref[0]
    states = 1.0 / p[P_S]
    vec_rows, vec_laws = _row_paths(p, full)
    ones, nrow, u, idx, g, wout, useout, flag = _row_scratch(C)
    for i in range(c0 * _ROWS_PER_CHUNK, min(R, c1 * _ROWS_PER_CHUNK)):
        st = stream_start(key, i)
        r = uint64(0)
        # typed int64, not the literal 0: with a literal, the first `_apply_n` call of a row
        # compiled a second specialisation of it (~1 s of a machine's first run)
        left = np.int64(0)
        nu = 0
        nd = 0
        e = 0.0
        # decide every device's pulse count first (branch-free where the mode allows), then
        # visit only the devices with n != 0 through a compacted index list: a per-device
        # "n == 0: skip" branch is unpredictable and cost more than the pulse physics
        if mode == DETERMINISTIC:
            _fill_uniforms16(u, key, R + i)
            capped[i] = _round_row(A[i], u, nrow, max_pulses)
        elif mode == MIXED:
            capped[i] = _truncate_row(A[i], nrow, max_pulses)
        else:
            st, capped[i] = _stochastic_counts(A[i], V[i], nrow, max_pulses, st, table)
        lean = endur <= 0 and not potonly and not track_time and \
            not _row_has_stuck(stuckp, stuckm, i, differential)
        if lean:
            e, nu, nd = _lean_row(i, nrow, wp, wm, d2dp, d2dm, has_d2d, differential, full,
                                  vec_rows, vec_laws, lawp, lawm, touchp, touchm, p, key,
                                  st, r, left, ones, g, wout, useout, flag, idx)
            up_cnt[i] = nu
            dn_cnt[i] = nd
            energy[i] = e
            continue
        for kk in range(_nonzero(nrow, idx)):
            j = idx[kk]
            cnt, a, b, use_p, ui, w, d2d = _device_of(np.int64(nrow[j]), i, j, wp, wm, d2dp,
                                                      d2dm, has_d2d, differential, potonly)
            stuck = (stuckp[i, j] if use_p else stuckm[i, j]) != 0
            # energy is spent even on a stuck device; it just does not move
            e += cnt * _pulse_energy(w, ui, p)
            nu += cnt * ui
            nd += cnt * (1 - ui)
            if not stuck:
                cnt_eff = cnt
                if endur > 0:
                    remaining = endur - (countp[i, j] if use_p else countm[i, j])
                    cnt_eff = 0 if remaining <= 0 else min(cnt, np.int64(remaining))
                w, st, r, left = _apply_n(w, cnt_eff, ui,
                                          _law(p, ui, d2d, full, lawp if use_p else lawm, i, j),
                                          p, st, r, left, table16)
                if full:  # write noise: this device was written
                    if use_p:
                        touchp[i, j] = 1
                    else:
                        touchm[i, j] = 1
                if track_time:
                    if use_p:
                        tprogp[i, j] = now
                    else:
                        tprogm[i, j] = now
                if differential:
                    wp[i, j] = w if use_p else wp[i, j]
                    wm[i, j] = wm[i, j] if use_p else w
                else:
                    wp[i, j] = w
                if endur > 0:
                    _wear(i, j, use_p, cnt, endur, countp, countm, stuckp, stuckm)
            if potonly and differential and (wp[i, j] > REFRESH_AT or wm[i, j] > REFRESH_AT):
                e, nu, nd = _refresh(i, j, wp, wm, stuckp, stuckm, p, states, e, nu, nd)
        up_cnt[i] = nu
        dn_cnt[i] = nd
        energy[i] = e



def apply_update(mode, A, V, max_pulses, dev: Devices, wear: Wear, p, key, threads=None,
                 stuck_free=False, then=None) -> RowTotals:
    """Turn a requested weight change into pulses and apply them to the devices ``dev`` (a
    `Devices`), keeping the ``wear`` bookkeeping (a `Wear`); ``p`` the shared pulse parameters
    (float64, N_PARAMS: the P_ / UP_ / DN_ fields), ``key`` the update's random key.

    mode DETERMINISTIC: A = ΔW in pulse units (stochastically rounded with 16-bit uniforms from
    stream R + row, so the rounding bias is below 1e-5 pulse);
    mode MIXED: A = digital accumulator in pulse units (integer part fired, remainder kept);
    mode STOCHASTIC: A = mean signed coincidence count, V = its variance (Gaussian draw).
    A and V: float32 (R, C). Pulse counts are capped at ``max_pulses``. Differential pairs
    (``dev.differential``): a positive change potentiates G+ or depresses G- (whichever keeps
    the pair nearer mid-range, w+ + w- -> 1); potentiate-only devices always potentiate (G+ for
    positive, G- for negative) and are refreshed when a device passes REFRESH_AT (0.9).
    Single-device mapping uses dev.wp.
    Endurance: a device whose pulse count reaches ``p[P_ENDUR]`` becomes stuck.
    ``dev.full``: every device follows its own law dev.lawp / dev.lawm (bounds, rates, targets;
    `device_models.variation`) and is marked in dev.touchp / dev.touchm when pulsed (the
    caller draws its write noise); otherwise the laws come from ``p`` and the step factors.
    Rows without stuck devices or endurance/refresh/drift bookkeeping take lean paths: noisy
    devices whose polarities follow one law go through `_aggregate_row` (vectorised; one
    deviate per device from stream 2R + row), the trains it flags again through `_apply_n`
    (`_flagged_trains`, stream row).
    ``stuck_free``: the caller guarantees that no device is or can become stuck (none drawn
    stuck, no endurance); with deterministic or mixed counts and no refresh or drift clock,
    every row is then lean and the update runs `_update_chunks_lean` (the same numbers;
    compiled on its own, so a run that needs nothing else does not compile the general loop),
    after `_own_law_chunks` has taken the rows of own-law devices it serves faster (the same
    numbers; arrays of OWN_LAW_KERNEL_FROM devices or more).
    Returns a `RowTotals`: per-row pulses up, pulses down, energy (J) and the devices whose
    count the cap cut (their trains fire ±max_pulses; the ledger's ``trains_capped``).

    Rows go in fixed chunks of _ROWS_PER_CHUNK, contiguous runs of chunks on up to ``threads``
    threads (`crossbar.threads.run_chunks_in_turn`), each run through `_update_chunks` or
    `_update_chunks_lean` (after `_own_law_chunks` where it applies, on the same thread:
    one hand-off per update; `_row_scratch` is allocated once per run, not per row: eight
    allocations per row cost more than a narrow row's pulses), then ``then(c0, c1)`` if
    given (work on the run's rows once they are updated, while they are in cache: the
    effective weights of `crossbar.analog.AnalogMatrix`). Every row keeps its own random
    streams, so the results do not depend on the number of threads.

    The kernels take the tuples' fields as separate arguments: tuples handed on to them, or
    built inside a kernel for the row functions, cost time per call (an update of a 1000 x 10
    matrix took 530 against 445 µs with the row functions taking tuples).
    """
    (wp, wm, d2dp, d2dm, has_d2d, differential, full, lawp, lawm, touchp, touchm) = dev
    stuckp, stuckm, countp, countm, tprogp, tprogm, track_time, now = wear
    R = wp.shape[0]
    out = RowTotals(np.zeros(R, dtype=np.int64), np.zeros(R, dtype=np.int64),
                    np.zeros(R, dtype=np.float64), np.zeros(R, dtype=np.int64))
    if (stuck_free and mode != STOCHASTIC and p[P_ENDUR] <= 0 and p[P_POTONLY] <= 0
            and not track_time):
        done = np.zeros(R, dtype=np.uint8)
        steps = []
        if mode == DETERMINISTIC and wp.size >= OWN_LAW_KERNEL_FROM and \
                _row_paths(p, full)[1]:
            # own laws, noisy trains: `_own_law_chunks` takes the rows it serves faster
            steps.append((_own_law_chunks, (A, max_pulses, wp, wm, p, key, differential, lawp,
                                            lawm if differential else lawp, touchp, touchm,
                                            done, *out)))
        steps.append((_update_chunks_lean, (mode, A, max_pulses, wp, wm, d2dp, d2dm, has_d2d,
                                            p, key, differential, full, lawp, lawm, touchp,
                                            touchm, done, *out)))
    else:
        steps = [(_update_chunks, (mode, A, V, max_pulses, wp, wm, d2dp, d2dm, has_d2d, stuckp,
                                   stuckm, countp, countm, p, key, differential, tprogp, tprogm,
                                   track_time, now, full, lawp, lawm, touchp, touchm, *out))]
    if then is not None:
        steps.append((then, ()))
    run_chunks_in_turn(steps, R, threads)
    return out
