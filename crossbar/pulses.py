"""Pulse trains inside the kernels: the physics of one train and of one row's passes. A row's
requested change turned into pulse counts (deterministic rounding, mixed-precision
accumulator), the device of a pair and the polarity chosen, each train applied through the
device's step law (closed form, one aggregated deviate, or pulse by pulse near a bound), its
energy; the named fields of the shared pulse parameters and of the per-device laws.

The update kernels that apply them row by row are in `crossbar.pulse_updates` (`apply_update`)
and `crossbar.own_law` (its fast path for dense own-law rows); drift is in `crossbar.drift`.
State is normalised: ``w = (G - g_min) / (g_max - g_min)`` for each device of a pair.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import _jitcache  # noqa: F401  (cache stamped with every kernel module: see there)

from .kernel_config import _FASTMATH
from .rng import next_normal16

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
    n = floor(a) + (u < a - floor(a)), capped at ±max_pulses. Returns how many devices' counts
    the cap cut (|n| > max_pulses before it: their trains fire max_pulses)."""
    m = np.float32(max_pulses)
    capped = np.int32(0)   # 32-bit lanes like the row's: a 64-bit count halved the vectors
    for j in range(a_row.shape[0]):
        a = a_row[j]
        fl = np.floor(a)
        n = fl + (u[j] < a - fl)
        capped = np.int32(capped + np.int32((n > m) | (n < -m)))
        n_out[j] = np.int32(min(max(n, -m), m))
    return capped


@njit(cache=True, fastmath=_FASTMATH)
def _truncate_row(a_row, n_out, max_pulses):
    """Mixed mode: fire the integer part of each accumulator (truncated toward zero; at most
    ±max_pulses of it) and keep the rest: the fractional remainder and any whole pulses beyond
    the cap, which fire at later updates (the accumulator gives up only what it transferred).
    Branch-free. Returns how many devices' integer parts the cap cut."""
    m = np.float32(max_pulses)
    capped = np.int32(0)
    for j in range(a_row.shape[0]):
        a = a_row[j]
        k = np.float32(np.trunc(a))
        capped = np.int32(capped + np.int32((k > m) | (k < -m)))
        t = min(max(k, -m), m)
        a_row[j] = a - t
        n_out[j] = np.int32(t)
    return capped



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
