"""Pulse trains inside the kernels: a requested weight change turned into pulse counts
(deterministic rounding, mixed-precision accumulator, stochastic coincidences), the device of a
pair and polarity chosen, each train applied through the device's step law (closed form,
one aggregated deviate, or pulse by pulse near a bound), endurance, refresh, pulse energy; and
power-law drift of the stored states.

State is normalised: ``w = (G - g_min) / (g_max - g_min)`` for each device of a pair.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, uint64

from . import _jitcache  # noqa: F401  (cache stamped with every kernel module: see there)

from .kernel_config import _FASTMATH, _ROWS_PER_CHUNK
from .normals import _fill_normals, _fill_uniforms16, table_ref, table16_ref, tablefull_ref
from .rng import next_normal16, next_u64, normal_from_bits, stream_start
from .threads import run_chunks

# update modes
DETERMINISTIC, MIXED, STOCHASTIC = 0, 1, 2
# The shared pulse parameters: one float64 vector ``p`` with named fields (packed by
# `crossbar.analog.AnalogMatrix._pulse_params`). Scalars: P_S nominal step 1/states, P_A
# up_down, P_C2C, P_ADDITIVE (1: additive c2c), P_POTONLY (1: potentiate-only), P_ENDUR
# (pulses before a device sticks, 0: unlimited), P_GMIN and P_DG (S), P_EPULSE (J per pulse, 0:
# V²·G·t).
P_S, P_A, P_C2C, P_ADDITIVE, P_POTONLY, P_ENDUR, P_GMIN, P_DG, P_EPULSE = range(9)
# Each polarity's step law (device_models.responses.Direction: LIN constant step, RATE the
# geometric rate, 0 = constant step; TGT the state it approaches) and write pulse (VV volts²,
# T seconds).
UP_LIN, UP_RATE, UP_TGT, UP_VV, UP_T = range(9, 14)
DN_LIN, DN_RATE, DN_TGT, DN_VV, DN_T = range(14, 19)
N_PARAMS = 19
# the same fields indexed by polarity ui (1 potentiation, 0 depression): the pulse code selects
# by loading instead of branching on the polarity, which is unpredictable device to device
LIN, RATE, TGT, VV, T = ((DN_LIN, UP_LIN), (DN_RATE, UP_RATE), (DN_TGT, UP_TGT),
                         (DN_VV, UP_VV), (DN_T, UP_T))
# per-device step laws (devices whose model varies_shape): law[k, i, j] with k = L_LIN_UP ...
# (device_models.variation.device_laws), float32
L_LIN_UP, L_RATE_UP, L_TGT_UP, L_LIN_DN, L_RATE_DN, L_TGT_DN, L_LO, L_HI = range(8)
N_LAW = 8


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


@njit(inline="always", cache=True)
def _law(p, ui, d2d, full, law, i, j):
    """One device's step law for polarity ``ui``: (lin, rate, target, sign, factor, lo, hi).

    From the shared parameters and the device's step factor ``d2d`` (bounds 0 and 1), or, for
    devices with their own laws (``full``), from ``law[:, i, j]`` (factor 1: already in it)."""
    sign = 1.0 if ui == 1 else -1.0
    if full:
        o = L_LIN_UP if ui == 1 else L_LIN_DN
        return (np.float64(law[o, i, j]), np.float64(law[o + 1, i, j]),
                np.float64(law[o + 2, i, j]), sign, 1.0, np.float64(law[L_LO, i, j]),
                np.float64(law[L_HI, i, j]))
    return p[LIN[ui]], p[RATE[ui]], p[TGT[ui]], sign, np.float64(d2d), 0.0, 1.0


@njit(inline="always", cache=True)
def _step(w, lin, c, tgt, sign, d2d):
    """Nominal (noise-free) step magnitude of one pulse at state w (device_models.responses):
    a constant step lin·d2d (c = 0), or the distance to the polarity's target times its rate,
    sign·(tgt - w)·c·d2d (soft-bounds, linear-step, exponential)."""
    if c != 0.0:
        return sign * (tgt - w) * c * d2d
    return lin * d2d


@njit(inline="always", cache=True)
def _pulse_energy_from(w, fixed, vv, t, gmin, dg):
    """Energy (J) of one pulse on a device at state w: ``fixed`` per pulse if positive, else
    V²·G·t with G = g_min + w·Δg, multiplied in that order (the one formula of the per-device
    paths; `_train_energy` prices the rows')."""
    return fixed if fixed > 0 else vv * (gmin + w * dg) * t


@njit(inline="always", cache=True)
def _pulse_energy(w, ui, p):
    """`_pulse_energy_from` with polarity ui's fields of p."""
    return _pulse_energy_from(w, p[P_EPULSE], p[VV[ui]], p[T[ui]], p[P_GMIN], p[P_DG])


@njit(inline="always", cache=True)
def _clip(w, lo, hi):
    return min(max(w, lo), hi)


@njit(inline="always", cache=True)
def _apply_n_noise_free(w, n, lin, c, target, sign, d2d, lo, hi):
    """n noise-free pulses in closed form (the same recursion `_step` iterates).

    linear: w ± n·step; geometric: the distance to the target changes by the factor 1 - c
    per pulse. Inside the bounds the steps keep their sign, so clipping once at the end
    equals clipping after every pulse.
    """
    c = c * d2d
    if c != 0.0:
        if c >= 1.0:
            return _clip(target, lo, hi)
        return _clip(target - (1.0 - c) ** n * (target - w), lo, hi)
    return _clip(w + sign * (n * (lin * d2d)), lo, hi)


AGGREGATE_MIN_PULSES = 4
# Geometric trains shorter than AGGREGATE_MIN_PULSES are aggregated too when the rate c is at
# most this: one pulse's factor 1 - c(1 + σε) and the log-normal exp(-c - c²(1+σ²)/2 + cσg)
# agree in mean to O(c³) (< 1e-7 here), their variances differ by a factor ≈ 1 - 2c (< 0.8 %),
# and the log-normal's skew is ≈ 3cσ (< 0.012σ); far below how well any preset's c2c is known.
# Linear trains are aggregated at any length (exact).
AGGREGATE_ANY_C = 1.0 / 256.0


@njit(inline="always", cache=True)
def _train_aggregates(n, c):
    """Whether a noisy train of n >= 1 pulses at geometric rate c (0 for a linear response)
    may be drawn at once (if it cannot reach a bound): the one rule of `_apply_n` and
    `_aggregate_row`."""
    return (n >= AGGREGATE_MIN_PULSES) | (c <= AGGREGATE_ANY_C)


# |x| below which `_expm1_poly8` is used (its truncation error < 5e-11 relative there)
_POLY8_RANGE = 0.25


@njit(inline="always", cache=True)
def _expm1_poly8(x):
    """exp(x) - 1 by its Taylor polynomial of degree 8 (terms through x⁸/8!): truncation
    < 5e-11 relative for |x| < 1/4 (at most 4.6e-11, near x = −1/4;
    tests/crossbar/test_expm1_poly.py). The one polynomial of `_expm1_near0` and the row
    passes (`_aggregate_row_geo`, `_aggregate_row_laws`, `_own_law_pass`)."""
    return x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (
        1.0 / 120.0 + x * (1.0 / 720.0 + x * (1.0 / 5040.0 + x * (1.0 / 40320.0))))))))


# |x| below which `_expm1_poly5` is used (its truncation error < 2e-12 relative there)
_POLY5_RANGE = 0.015625


@njit(inline="always", cache=True)
def _expm1_poly5(x):
    """exp(x) - 1 by its Taylor polynomial of degree 5: truncation < 2e-12 relative for
    |x| < 1/64 (at most 1.3e-12, near x = −1/64)."""
    return x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0)))))


@njit(inline="always", cache=True)
def _expm1_near0(x):
    """exp(x) - 1: Taylor polynomials for |x| < 1/64 (degree 5) and |x| < 1/4 (degree 8),
    truncation < 5e-11 relative, far below the float32 state; libm beyond. A train's
    log-change is mostly below 1/64 (n·c with c ~ 1e-4..1e-2), and the short polynomial is
    a fraction of the library call's latency."""
    a = abs(x)
    if a < _POLY5_RANGE:
        return _expm1_poly5(x)
    if a < _POLY8_RANGE:
        return _expm1_poly8(x)
    return math.expm1(x)


# what `_apply_n_aggregate` returns when a train must be pulsed one by one (no state can be it)
_REFUSED = -math.inf

# The aggregated trains draw the path's end at once; the per-pulse clipping at a bound is then
# missed, so a train is aggregated only if a path this many standard deviations of its c2c
# noise wide stays inside the bounds (a 6-sigma excursion has probability ~2e-9 per train)
_ENVELOPE_SIGMAS = 6.0
# the log-normal draw of a geometric train holds to O(c³) per pulse: refused above this rate
# (including its 6-sigma pulse), where the neglected terms would reach ~1e-4 of a step
_GEO_MAX_RATE = 0.0625
# the pow-free bound (1 + y)^n - 1 <= 1.1·n·y on the path's excursion away from the target
# holds for n·y up to this (e^0.09 - 1 = 0.0942 <= 1.1·0.09)
_GEO_MAX_NY = 0.09
_GEO_AWAY_FACTOR = 1.1


@njit(inline="always", cache=True)
def _lin_train(w, nf, step, sign, up, c2c, g, lo, hi):
    """nf noisy constant steps of size ``step`` drawn at once from one deviate g: the sum of
    the steps s·(1 + c2c·ε_k) is exactly s·n + s·c2c·√n·g. Returns (new state, whether a
    6-sigma path stays strictly inside (lo, hi)). The one formula of `_apply_n_aggregate`,
    `_aggregate_row_lin` and `_aggregate_row_laws`; branch-free (selects) so that rows
    vectorise."""
    k6 = _ENVELOPE_SIGMAS * c2c
    sq = math.sqrt(nf)
    far = w + sign * (nf * step + step * k6 * sq)   # the farthest along the polarity
    near = w - sign * (step * k6 * sq)              # and against it
    ok = ((far < hi) & (near > lo)) if up else ((far > lo) & (near < hi))
    return w + sign * (nf * step + step * c2c * sq * g), ok


@njit(inline="always", cache=True)
def _geo_train(w, D0, nf, c, up, c2c, g, lo, hi):
    """nf noisy geometric pulses at rate c (distance D0 = target - w to the asymptote) drawn at
    once: the log-distance changes by a sum of n i.i.d. terms log(1 - c(1 + c2c·ε)), drawn as
    a Gaussian of mean -n(c + c²(1 + c2c²)/2) and variance n·c²·c2c² (to O(n·c³)).
    Returns (x = the log-change, whether the draw is admitted): admitted when the rate is
    positive and at most _GEO_MAX_RATE with its 6-sigma pulse, and a 6-sigma path stays
    strictly inside (lo, hi), bounded without pow: towards the target it moves at most
    |D0|·n·x1 (x1 = c(1 + 6σ)), away at most 1.1·|D0|·n·y (y = 6σc, for n·y <= 0.09). The new
    state is w - D0·(exp(x) - 1). The one formula of `_apply_n_aggregate`,
    `_aggregate_row_geo` and `_aggregate_row_laws`; branch-free."""
    k6 = _ENVELOPE_SIGMAS * c2c
    x = -nf * (c + c * c * (0.5 * (1.0 + c2c * c2c))) + math.sqrt(nf) * c * c2c * g
    aD = abs(D0)
    ny = nf * c * k6
    toward = aD * nf * c * (1.0 + k6)
    away = _GEO_AWAY_FACTOR * aD * ny
    w_lo = w - (away if up else toward)
    w_hi = w + (toward if up else away)
    ok = (c * (1.0 + k6) <= _GEO_MAX_RATE) & (c > 0.0) & (ny <= _GEO_MAX_NY) & \
        (w_lo > lo) & (w_hi < hi)
    return x, ok


@njit(inline="always", cache=True)
def _apply_n_aggregate(w, n, ui, lin, c0, target, sign, d2d, lo, hi, c2c, g):
    """n noisy pulses from one deviate ``g``, or _REFUSED when the path might touch a bound.

    linear: `_lin_train`; soft-bounds / exponential: `_geo_train` (the rows' formulas).
    Exact only while the state stays inside [lo, hi]: if a 6-sigma path could reach a bound
    (where per-pulse clipping would act) this returns _REFUSED and the caller pulses one by
    one. Multiplicative noise only (the caller pulses additive-noise geometric trains one by
    one).
    """
    up = ui == 1
    nf = np.float64(n)
    if c0 != 0.0:
        D0 = target - w  # signed distance to the asymptote
        x, ok = _geo_train(w, D0, nf, c0 * d2d, up, c2c, g, lo, hi)
        if not ok:
            return _REFUSED
        # the tiered polynomial (cheaper per call than the rows' degree-8 one; the two differ
        # in the last bits, so each path keeps its own to keep records unchanged)
        return w - D0 * _expm1_near0(x)
    w_new, ok = _lin_train(w, nf, lin * d2d, sign, up, c2c, g, lo, hi)
    return w_new if ok else _REFUSED


@njit(cache=True)
def _apply_n(w, n, ui, law, p, st, r, left, table):
    """Apply n pulses of polarity ``ui`` to a device at state w under its step ``law``
    (`_law`); returns (w, st, r, left).

    c2c deviates come 4 per 64-bit draw (``left`` = how many of ``r``'s 16-bit parts remain)
    from the 4096-cell table (`crossbar.rng.next_normal16`). Noisy trains that
    `_train_aggregates` admits and that cannot reach a bound are drawn in one step
    (`_apply_n_aggregate`; multiplicative noise, or additive on a constant step, where the two
    are the same law); the rest are pulsed one by one."""
    lin, c, tgt, sign, d2d, lo, hi = law
    c2c = p[P_C2C]
    additive = p[P_ADDITIVE] > 0.0
    if c2c == 0.0 and n > 1:
        return _apply_n_noise_free(w, n, lin, c, tgt, sign, d2d, lo, hi), st, r, left
    if c2c > 0.0 and not (additive and c != 0.0) and _train_aggregates(n, c * d2d):
        g, st, r, left = next_normal16(st, r, left, table)
        w_new = _apply_n_aggregate(w, n, ui, lin, c, tgt, sign, d2d, lo, hi, c2c, g)
        if w_new != _REFUSED:
            return w_new, st, r, left
    sd_add = c2c * lin * d2d  # additive: c2c nominal steps
    for _ in range(n):
        dw = _step(w, lin, c, tgt, sign, d2d)
        if c2c > 0:
            g, st, r, left = next_normal16(st, r, left, table)
            # not clipped (device_models contract): with a large c2c a pulse may move the
            # device against its polarity; only the state is clipped to its bounds
            if additive:
                dw = dw + sd_add * g
            else:
                dw = dw * (1.0 + c2c * g)
        w = _clip(w + sign * dw, lo, hi)
    return w, st, r, left


@njit(cache=True, fastmath=_FASTMATH)
def _round_row(a_row, u, n_out, max_pulses):
    """Stochastic rounding of one row of pulse requests, branch-free (vectorisable):
    n = floor(a) + (u < a - floor(a)), capped at ±max_pulses."""
    m = np.float32(max_pulses)
    for j in range(a_row.shape[0]):
        a = a_row[j]
        fl = np.floor(a)
        n = fl + (u[j] < a - fl)
        n_out[j] = np.int32(min(max(n, -m), m))


@njit(cache=True, fastmath=_FASTMATH)
def _truncate_row(a_row, n_out, max_pulses):
    """Mixed mode: fire the integer part of each accumulator (truncated toward zero; at most
    ±max_pulses of it) and keep the rest: the fractional remainder and any whole pulses beyond
    the cap, which fire at later updates (the accumulator gives up only what it transferred).
    Branch-free."""
    m = np.float32(max_pulses)
    for j in range(a_row.shape[0]):
        a = a_row[j]
        t = min(max(np.float32(np.trunc(a)), -m), m)
        a_row[j] = a - t
        n_out[j] = np.int32(t)



@njit(cache=True, fastmath=_FASTMATH)
def _aggregate_row(nrow, a_row, b_row, dp_row, dm_row, single, g, p, geometric, c2c,
                   wout, useout, flag):
    """Every device of one row through the aggregated-train formula at once, written without
    branches so that it vectorises. Per device: the pulse count, which device of the pair moves
    and in which polarity (as in `apply_update`), the pulse energy, and the new state from one
    deviate g[j] (`_apply_n_aggregate`'s formula). Devices whose train might touch a bound,
    whose log-change is beyond the polynomial's range, or that `_train_aggregates` refuses get
    flag 1: the caller redoes those through `_apply_n` (`_flagged_trains`). ``single``
    (single-device mapping): ``b_row`` is ``a_row`` and the device always moves.
    ``dp_row``/``dm_row``: d2d factors (ones if none). Returns (energy, pulses up, pulses down).
    """
    if geometric:
        return _aggregate_row_geo(nrow, a_row, b_row, dp_row, dm_row, single, g, p, c2c,
                                  wout, useout, flag)
    return _aggregate_row_lin(nrow, a_row, b_row, dp_row, dm_row, single, g, p, c2c,
                              wout, useout, flag)


@njit(inline="always", cache=True)
def _energy_coeffs(p):
    """(fixed energy per pulse or 0, dynamic factor 0/1, V²t up, V²t down, g_min, Δg)."""
    ep = p[P_EPULSE]
    fixed = ep if ep > 0 else 0.0
    dyn = 0.0 if ep > 0 else 1.0
    return (fixed, dyn, p[UP_VV] * p[UP_T], p[DN_VV] * p[DN_T], p[P_GMIN], p[P_DG])


@njit(inline="always", cache=True)
def _pair_rule(pos, a, b, single, potonly):
    """The device of a pair that takes a train, and its polarity: (G⁺?, potentiate?).

    Differential pairs (states a = w⁺, b = w⁻): a positive change (``pos``) potentiates G⁺
    while a + b <= 1, else depresses G⁻; a negative change is mirrored, so that the pair drifts
    towards mid-range (w⁺ + w⁻ -> 1). Potentiate-only pairs (``potonly``) potentiate G⁺ for a
    positive change and G⁻ for a negative one. Single-device mapping (``single``; b unused):
    the device, potentiated for a positive change. Written as selects (rows vectorise); the
    one rule of every path of `apply_update`."""
    use_p = single | (pos if potonly else ((a + b <= 1.0) == pos))
    return use_p, use_p == pos


@njit(inline="always", cache=True)
def _train_energy(nf, up, fixed, dyn, eu, ed, gmin, dg, w):
    """Energy (J) of nf pulses on a device at state w (`_energy_coeffs`): fixed per pulse, or
    V²·t·G with G = g_min + w·Δg at the state before the train (the rows' one formula). The
    per-device paths price a pulse with `_pulse_energy` (the same physics, multiplied in the
    order V²·G·t): the two round differently in the last bit, so merging them would change
    recorded energies; each path keeps its own."""
    return nf * (fixed + dyn * (eu if up else ed) * (gmin + w * dg))


@njit(inline="always", cache=True)
def _pick_device(n, a, b, dp, dm, single):
    """Which device of a pair takes a train of n pulses, and in which polarity (`_pair_rule`,
    as selects): (count, potentiate?, G⁺?, its state, its d2d factor)."""
    use_p, up = _pair_rule(n > 0, a, b, single, False)
    return abs(n), up, use_p, np.float64(a if use_p else b), np.float64(dp if use_p else dm)


@njit(cache=True, fastmath=_FASTMATH)
def _aggregate_row_geo(nrow, a_row, b_row, dp_row, dm_row, single, g, p, c2c, wout, useout,
                       flag):
    fixed, dyn, eu, ed, gmin, dg = _energy_coeffs(p)
    cu, cd = p[UP_RATE], p[DN_RATE]
    tu, td = p[UP_TGT], p[DN_TGT]
    e = 0.0
    nu = 0
    nd = 0
    for j in range(nrow.shape[0]):
        cnt, up, use_p, w, d = _pick_device(nrow[j], a_row[j], b_row[j], dp_row[j], dm_row[j],
                                            single)
        nf = np.float64(cnt)
        e += _train_energy(nf, up, fixed, dyn, eu, ed, gmin, dg, w)
        nu += cnt if up else 0
        nd += 0 if up else cnt
        c = (cu if up else cd) * d
        D0 = (tu if up else td) - w
        x, ok_g = _geo_train(w, D0, nf, c, up, c2c, g[j], 0.0, 1.0)
        ok = ok_g & (abs(x) < _POLY8_RANGE) & _train_aggregates(cnt, c)
        wout[j] = w - D0 * _expm1_poly8(x) if cnt != 0 else w
        useout[j] = np.uint8(use_p)
        flag[j] = np.uint8((cnt != 0) & (ok == False))  # noqa: E712 (vectorises; `not` did not)
    return e, nu, nd


@njit(cache=True, fastmath=_FASTMATH)
def _aggregate_row_lin(nrow, a_row, b_row, dp_row, dm_row, single, g, p, c2c, wout, useout,
                       flag):
    fixed, dyn, eu, ed, gmin, dg = _energy_coeffs(p)
    lu, ld = p[UP_LIN], p[DN_LIN]
    e = 0.0
    nu = 0
    nd = 0
    for j in range(nrow.shape[0]):
        cnt, up, use_p, w, d = _pick_device(nrow[j], a_row[j], b_row[j], dp_row[j], dm_row[j],
                                            single)
        nf = np.float64(cnt)
        e += _train_energy(nf, up, fixed, dyn, eu, ed, gmin, dg, w)
        nu += cnt if up else 0
        nd += 0 if up else cnt
        # any train length (_train_aggregates with c = 0): a sum of Gaussian steps is Gaussian
        wout[j], ok = _lin_train(w, nf, (lu if up else ld) * d, 1.0 if up else -1.0, up, c2c,
                                 g[j], 0.0, 1.0)
        useout[j] = np.uint8(use_p)
        flag[j] = np.uint8((cnt != 0) & (ok == False))  # noqa: E712
    return e, nu, nd


@njit(cache=True, fastmath=_FASTMATH)
def _aggregate_row_laws(nrow, a_row, b_row, lp, lm, i, single, g, p, c2c, wout, useout,
                        flag):
    """`_aggregate_row` for devices with their own laws (``lp``/``lm``: (N_LAW, R, C), row
    ``i``): each device's rate, target and hard bounds from its law, a geometric or constant
    step per device (multiplicative c2c; the caller sends additive-noise geometric devices
    elsewhere). The same formulas as `_aggregate_row_geo` / `_aggregate_row_lin` with the
    device's bounds in place of 0 and 1; the caller sends flagged devices through `_apply_n`
    (as for `_aggregate_row`)."""
    fixed, dyn, eu, ed, gmin, dg = _energy_coeffs(p)
    e = 0.0
    nu = 0
    nd = 0
    for j in range(nrow.shape[0]):
        cnt, up, use_p, w, _d = _pick_device(nrow[j], a_row[j], b_row[j], 1.0, 1.0, single)
        nf = np.float64(cnt)
        e += _train_energy(nf, up, fixed, dyn, eu, ed, gmin, dg, w)
        nu += cnt if up else 0
        nd += 0 if up else cnt
        lw = lp if use_p else lm
        c = np.float64(lw[L_RATE_UP, i, j] if up else lw[L_RATE_DN, i, j])
        t = np.float64(lw[L_TGT_UP, i, j] if up else lw[L_TGT_DN, i, j])
        step = np.float64(lw[L_LIN_UP, i, j] if up else lw[L_LIN_DN, i, j])
        lo = np.float64(lw[L_LO, i, j])
        hi = np.float64(lw[L_HI, i, j])
        # geometric: log-distance to the target drawn at once; constant step: a sum of
        # Gaussian steps (both computed, one selected: branch-free)
        D0 = t - w
        x, ok_g = _geo_train(w, D0, nf, c, up, c2c, g[j], lo, hi)
        ok_g = ok_g & (abs(x) < _POLY8_RANGE) & _train_aggregates(cnt, c)
        w_lin, ok_l = _lin_train(w, nf, step, 1.0 if up else -1.0, up, c2c, g[j], lo, hi)
        geo = c != 0.0
        w_geo = w - D0 * _expm1_poly8(x)
        wout[j] = (w_geo if geo else w_lin) if cnt != 0 else w
        useout[j] = np.uint8(use_p)
        ok = ok_g if geo else ok_l
        flag[j] = np.uint8((cnt != 0) & (ok == False))  # noqa: E712
    return e, nu, nd


@njit(cache=True)
def _write_back(a_row, b_row, wout, useout, differential):
    """New states into the device that moved (vectorisable selects)."""
    for j in range(a_row.shape[0]):
        w = np.float32(wout[j])
        if differential:
            u = useout[j] != 0
            a_row[j] = w if u else a_row[j]
            b_row[j] = b_row[j] if u else w
        else:
            a_row[j] = w


@njit(cache=True)
def _row_has_stuck(stuckp, stuckm, i, differential):
    """Any stuck device (either of a pair) in array row i (a vectorised OR over the row)."""
    acc = np.uint8(0)
    for j in range(stuckp.shape[1]):
        acc |= stuckp[i, j]
    if differential:
        for j in range(stuckm.shape[1]):
            acc |= stuckm[i, j]
    return acc != 0


# mean pulses per device of a row above which own-law devices take the vectorised pass
LAWS_VECTORISED_ABOVE = 16


@njit(inline="always", cache=True)
def _long_trains(nrow):
    """Whether a row's trains average more than LAWS_VECTORISED_ABOVE pulses per device (its
    own-law devices then take `_aggregate_row_laws`): the one rule of `_lean_row` and
    `_own_law_chunks`."""
    tot = 0
    for j in range(nrow.shape[0]):
        tot += abs(nrow[j])
    return tot > LAWS_VECTORISED_ABOVE * nrow.shape[0]


# devices of an array from which `apply_update` runs `_own_law_chunks`: its gain is on long
# rows (paper-scale arrays, 784 x 2000 and up), and below this size (every array of the default
# `simulate`) a run does not compile it (~4 s of CPU on a machine's first run)
OWN_LAW_KERNEL_FROM = 1 << 18
# fraction of a row's devices expected to take pulses (Σ min(|a|, 1) over the row) above
# which own-law rows (below LAWS_VECTORISED_ABOVE) take `_own_law_row` instead of the loop
# over the pulsed devices (the same numbers): its passes cost ~10 ns per device of the row,
# the loop ~30 ns per pulsed device (one thread, 2000 x 2000 ecram rows of a paper batch, in a
# development script: 29 % pulsed equal, 42 % 1.3x, all 2.2x faster; with the threshold at
# 20 % or 45 % `bench_pulse_updates.py` was no faster)
OWN_LAW_ROWS_ABOVE = 0.3

# a potentiate-only pair is refreshed (both RESET, the difference re-programmed) once either
# device passes this state: near g_max its SET steps shrink towards zero (nonlinear PCM
# potentiation), so the pair would stop learning; 0.9 leaves a tenth of the window as margin
# (a choice of this simulator: aihwkit's OneSidedUnitCell refreshes at 0.75 of w_max)
REFRESH_AT = 0.9


@njit(cache=True)
def _row_paths(p, full):
    """Which vectorised pass lean rows may take: (vec_rows, vec_laws). vec_rows: rows of noisy
    devices whose two polarities follow the same law, and of noise-free linear devices
    (n steps = n·step exactly), go through `_aggregate_row`; the rest (a one-sided
    exponential device, noise-free geometric trains, whose closed form needs pow, additive
    noise on a geometric law, devices with their own laws) keep the per-device loop.
    vec_laws: devices with their own laws, noisy multiplicative trains (or constant steps),
    may take the vectorised pass with each device's law (`_aggregate_row_laws`; write noise
    marks them). The one rule of both update kernels."""
    c2c = p[P_C2C]
    geo_u = p[UP_RATE] != 0.0
    geometric = p[DN_RATE] != 0.0
    additive = p[P_ADDITIVE] > 0.0
    vec_rows = ((c2c > 0.0 and geo_u == geometric) or
                (c2c == 0.0 and not geo_u and not geometric)) and not full and \
        not (additive and (geo_u or geometric))
    vec_laws = full and c2c > 0.0 and not (additive and (geo_u or geometric))
    return vec_rows, vec_laws


@njit(inline="always")
def _nonzero(values, idx):
    """idx[:k] = the positions j with values[j] != 0, in order; returns k. Branch-free (every
    position is written, k advances only on a non-zero): a per-device "skip if zero" branch
    mispredicts and cost more than the pulse physics."""
    k = 0
    for j in range(values.shape[0]):
        idx[k] = j
        k += values[j] != 0
    return k


@njit(inline="always")
def _device_of(n, i, j, wp, wm, d2dp, d2dm, has_d2d, differential, potonly):
    """The device a train of n (signed) pulses goes to, as both per-device loops pick it:
    (count, a = w+, b = w- (a for a single device), use_p, ui (1 = potentiate), its state,
    its d2d factor)."""
    pos = n > 0
    cnt = n if pos else -n
    a = wp[i, j]
    b = wm[i, j] if differential else a  # wm is a placeholder then
    use_p, up = _pair_rule(pos, a, b, not differential, potonly)
    ui = 1 if up else 0
    w = np.float64(a if use_p else b)
    d2d = (d2dp[i, j] if use_p else d2dm[i, j]) if has_d2d else 1.0
    return cnt, a, b, use_p, ui, w, d2d


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
                    touchm, done, up_cnt, dn_cnt, energy):
    """The rows of chunks c0 … c1 - 1 that `_lean_row` would give to its per-device loop
    (own-law devices, noisy trains, deterministic counts, at most LAWS_VECTORISED_ABOVE
    pulses per device on average over the row, `_long_trains`) and that are expected to have
    more than OWN_LAW_ROWS_ABOVE of their devices pulsed, through `_own_law_row`: the same counts (from the same uniforms), streams
    and numbers; done[i] = 1 for each row it took, the others are left to
    `_update_chunks_lean`. A kernel of its own, run first by `apply_update` on arrays of
    OWN_LAW_KERNEL_FROM devices or more, so that runs on smaller arrays never compile it."""
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
        _round_row(A[i], u, nrow, max_pulses)
        if _long_trains(nrow):   # `_lean_row` takes `_aggregate_row_laws`
            continue
        taken, e, nu, nd = _own_law_row(i, nrow, _nonzero(nrow, idx), idx, wp, wm,
                                        differential, lawp, law_m, touchp, touchm, p,
                                        stream_start(key, i), g, wout, status, ebuf)
        if taken:
            energy[i], up_cnt[i], dn_cnt[i] = e, nu, nd
            done[i] = 1


@njit(cache=True, nogil=True)
def _update_chunks_lean(c0, c1, mode, A, max_pulses, wp, wm, d2dp, d2dm, has_d2d, p, key,
                        differential, full, lawp, lawm, touchp, touchm, done, up_cnt, dn_cnt,
                        energy):
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
            _round_row(A[i], u, nrow, max_pulses)
        else:
            _truncate_row(A[i], nrow, max_pulses)
        e, nu, nd = _lean_row(i, nrow, wp, wm, d2dp, d2dm, has_d2d, differential, full,
                              vec_rows, vec_laws, lawp, lawm, touchp, touchm, p, key,
                              stream_start(key, i), uint64(0), np.int64(0), ones, g, wout,
                              useout, flag, idx)
        up_cnt[i] = nu
        dn_cnt[i] = nd
        energy[i] = e


@njit(cache=True, nogil=True)
def _update_chunks(c0, c1, mode, A, V, max_pulses, wp, wm, d2dp, d2dm, has_d2d, stuckp, stuckm,
                   countp, countm, p, key, differential, tprogp, tprogm, track_time, now, full,
                   lawp, lawm, touchp, touchm, up_cnt, dn_cnt, energy):
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
            _round_row(A[i], u, nrow, max_pulses)
        elif mode == MIXED:
            _truncate_row(A[i], nrow, max_pulses)
        else:
            for j in range(C):
                a = A[i, j]
                if a == 0.0 and V[i, j] == 0.0:
                    nrow[j] = 0
                    continue
                st, rr = next_u64(st)
                z = normal_from_bits(rr >> uint64(32), table)
                nrow[j] = np.int32(min(max(np.rint(a + math.sqrt(max(V[i, j], 0.0)) * z),
                                           -max_pulses), max_pulses))
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
                    if use_p:
                        countp[i, j] += cnt
                        if countp[i, j] >= endur:
                            stuckp[i, j] = 1
                    else:
                        countm[i, j] += cnt
                        if countm[i, j] >= endur:
                            stuckm[i, j] = 1
            if potonly and differential and (wp[i, j] > REFRESH_AT or wm[i, j] > REFRESH_AT):
                # refresh: RESET both devices, re-program the difference with SET pulses
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
        up_cnt[i] = nu
        dn_cnt[i] = nd
        energy[i] = e



def apply_update(mode, A, V, max_pulses, dev: Devices, wear: Wear, p, key, threads=None,
                 stuck_free=False) -> RowTotals:
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
    Returns a `RowTotals`: per-row pulses up, pulses down and energy (J).

    Rows go in fixed chunks of _ROWS_PER_CHUNK, contiguous runs of chunks on up to ``threads``
    threads (`crossbar.threads.run_chunks`), each run through `_update_chunks` or
    `_update_chunks_lean` (after `_own_law_chunks` where it applies; `_row_scratch` is
    allocated once per run, not per row: eight allocations per row cost more than a narrow
    row's pulses). Every row keeps its own random streams, so the results do not depend on
    the number of threads.

    The kernels take the tuples' fields as separate arguments: tuples handed on to them, or
    built inside a kernel for the row functions, cost time per call (an update of a 1000 x 10
    matrix took 530 against 445 µs with the row functions taking tuples).
    """
    (wp, wm, d2dp, d2dm, has_d2d, differential, full, lawp, lawm, touchp, touchm) = dev
    stuckp, stuckm, countp, countm, tprogp, tprogm, track_time, now = wear
    R = wp.shape[0]
    out = RowTotals(np.zeros(R, dtype=np.int64), np.zeros(R, dtype=np.int64),
                    np.zeros(R, dtype=np.float64))
    if (stuck_free and mode != STOCHASTIC and p[P_ENDUR] <= 0 and p[P_POTONLY] <= 0
            and not track_time):
        done = np.zeros(R, dtype=np.uint8)
        if mode == DETERMINISTIC and wp.size >= OWN_LAW_KERNEL_FROM and \
                _row_paths(p, full)[1]:
            # own laws, noisy trains: `_own_law_chunks` takes the rows it serves faster
            run_chunks(_own_law_chunks, R, threads, A, max_pulses, wp, wm, p, key,
                       differential, lawp, lawm if differential else lawp, touchp, touchm,
                       done, *out)
        run_chunks(_update_chunks_lean, R, threads, mode, A, max_pulses, wp, wm, d2dp, d2dm,
                   has_d2d, p, key, differential, full, lawp, lawm, touchp, touchm, done,
                   *out)
    else:
        run_chunks(_update_chunks, R, threads, mode, A, V, max_pulses, wp, wm, d2dp, d2dm,
                   has_d2d, stuckp, stuckm, countp, countm, p, key, differential, tprogp,
                   tprogm, track_time, now, full, lawp, lawm, touchp, touchm, *out)
    return out


def drift(w, nu, tprog, T, dt, t0, c, threads=None):
    """Power-law drift from time T to T+dt: G <- G · (age_new/age_old)^(-ν), ages ≥ t0.

    ``c`` = g_min/Δg, so G/Δg = c + w; the state is clipped at 0 (g_min). Rows run in chunks
    on up to ``threads`` threads (`crossbar.threads.run_chunks`).
    """
    run_chunks(_drift_rows, w.shape[0], threads, w, nu, tprog, T, dt, t0, c)


@njit(cache=True, nogil=True)
def _drift_rows(c0, c1, w, nu, tprog, T, dt, t0, c):
    """Chunks c0 … c1 - 1 of `drift` (rows c0·16 … c1·16 - 1), without the GIL."""
    R, C = w.shape
    for i in range(c0 * _ROWS_PER_CHUNK, min(R, c1 * _ROWS_PER_CHUNK)):
        for j in range(C):
            v = nu[i, j]
            if v <= 0:
                continue
            a0 = max(T - tprog[i, j], t0)
            a1 = max(T + dt - tprog[i, j], t0)
            f = (a1 / a0) ** (-v)
            g = (c + w[i, j]) * f - c
            w[i, j] = g if g > 0 else 0.0
