"""Converters inside the kernels: the input DAC (abs-max or fixed scaling, quantisation,
clipped and non-finite inputs counted in one pass) and the output ADC (read noise added, codes
clipped and counted, tiles' partial sums added and rescaled).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import _jitcache  # noqa: F401  (cache stamped with every kernel module: see there)

from .kernel_config import _FASTMATH, _ROWS_PER_CHUNK
from .normals import _fill_normals, tablefull_ref
from .threads import run_chunks


@njit(cache=True)
def _absmax_row(xu):
    """max |x| of one row from its IEEE-754 bits: for finite floats with the sign bit cleared,
    integer order equals numeric order, so the reduction is an (SIMD) integer max. Exact.
    The casts keep it in 32-bit lanes (without them numba widens to 64 bits: half the speed)."""
    m = np.uint32(0)
    for i in range(xu.shape[0]):
        v = np.uint32(xu[i] & np.uint32(0x7FFFFFFF))
        m = np.uint32(max(m, v))
    return m


# IEEE-754 bits of +inf: |x| bits at or above it are inf or NaN
_INF_BITS = np.uint32(0x7F800000)


@njit(inline="always", cache=True)
def _float_from_bits(u):
    """The float32 whose IEEE-754 bits are ``u`` (non-negative, finite), decoded exactly
    (a store/load through two array views could be reordered under type-based aliasing)."""
    e = np.int64((u >> np.uint32(23)) & np.uint32(0xFF))
    mant = np.float64(u & np.uint32(0x7FFFFF))
    if e == 0:
        return np.float32(math.ldexp(mant, -149))
    return np.float32(math.ldexp(1.0 + mant / 8388608.0, e - 127))


@njit(cache=True, fastmath=_FASTMATH)
def _quantise(xrow, qrow, inv, L, invL):
    """qrow = xrow's DAC levels in [-1, 1]: rint(clip(x·inv, ±L))/L, element by element (a
    pass without a reduction: it vectorises)."""
    for i in range(xrow.shape[0]):
        qrow[i] = np.float32(np.rint(min(max(xrow[i] * inv, -L), L))) * invL


@njit(cache=True, fastmath=_FASTMATH)
def _span_sums(qs, gs):
    """(Σ q², Σ q²·gsum) over one tile's span of a row, in order, in float32."""
    acc = np.float32(0.0)
    e = np.float32(0.0)
    for i in range(qs.shape[0]):
        acc, e = _add_square(qs[i], gs[i], acc, e)
    return acc, e


@njit(inline="always", cache=True)
def _add_square(v, g, acc, e):
    """One term of `_span_sums`: (acc + v², e + v²·g), each rounded as there."""
    v2 = v * v
    return acc + v2, e + v2 * g


@njit(cache=True, fastmath=_FASTMATH)
def _span_sums4(q0, q1, q2, q3, gs, out):
    """`_span_sums` of four rows' spans at once: out = (acc, e) of rows 0-3. Each row's sums
    run in order as in `_span_sums` (the same numbers); four rows give eight independent
    chains of additions, where one row's two wait on each other's latency."""
    a0 = a1 = a2 = a3 = e0 = e1 = e2 = e3 = np.float32(0.0)
    for i in range(gs.shape[0]):
        g = gs[i]
        a0, e0 = _add_square(q0[i], g, a0, e0)
        a1, e1 = _add_square(q1[i], g, a1, e1)
        a2, e2 = _add_square(q2[i], g, a2, e2)
        a3, e3 = _add_square(q3[i], g, a3, e3)
    out[0], out[1], out[2], out[3] = a0, a1, a2, a3
    out[4], out[5], out[6], out[7] = e0, e1, e2, e3


@njit(cache=True, fastmath=_FASTMATH)
def _count_clipped(xrow, inv, L):
    """Inputs of one row beyond the DAC range (fixed input scaling only)."""
    c = 0
    for i in range(xrow.shape[0]):
        v = xrow[i] * inv
        c += (v > L) + (v < -L)
    return c


@njit(cache=True)
def _dac_levels(xrow, xurow, qrow, abs_max, in_bound, L, invL):
    """One input vector's scale and levels: (scale, clipped inputs, holds NaN/inf), qrow = its
    levels in [-1, 1]; a row with NaN/inf is left unquantised (the caller raises)."""
    mb = _absmax_row(xurow)
    if mb >= _INF_BITS:
        return np.float32(1.0), 0, True
    if abs_max:
        m = _float_from_bits(mb)
        s = m if m > 0 else np.float32(1.0)
    else:
        s = np.float32(in_bound)
    inv = L / s
    _quantise(xrow, qrow, inv, L, invL)
    return s, 0 if abs_max else _count_clipped(xrow, inv, L), False


@njit(inline="always", cache=True)
def _dac_row(xrow, xurow, qrow, n2row, gsum, tile_edges, abs_max, in_bound, L, invL):
    """One input vector through the DAC, tile by tile (shared by `dac_quantize`, `read_narrow`
    and `read_stack`): qrow = its levels in [-1, 1], n2row[t] = Σ_{i in tile t} q_i².
    Returns (scale, Σ_i q_i² gsum_i, clipped inputs, holds NaN/inf); a row with NaN/inf is
    left unquantised (the caller raises)."""
    s, c, bad = _dac_levels(xrow, xurow, qrow, abs_max, in_bound, L, invL)
    if bad:
        return s, 0.0, c, True
    return s, _row_tile_sums(qrow, n2row, gsum, tile_edges), c, False


@njit(inline="always", cache=True)
def _row_tile_sums(qrow, n2row, gsum, tile_edges):
    """n2row[t] = Σ_{i in tile t} q_i² for one row's levels; returns Σ_t (Σ_{i in t} q_i²·gsum_i)
    (float64 over the tiles' float32 sums, in tile order)."""
    e = 0.0
    for t in range(tile_edges.shape[0] - 1):
        lo, hi = tile_edges[t], tile_edges[t + 1]
        # slices with a 0-based loop vectorise; a loop over [lo, hi) of the row did not
        acc, et = _span_sums(qrow[lo:hi], gsum[lo:hi])
        n2row[t] = acc
        e += et
    return e


def dac_quantize(x, levels, abs_max, in_bound, tile_edges, gsum, q, n2, row_energy,
                 threads=None):
    """Quantise inputs to ``levels`` signed steps per polarity.

    x (B, n) float32 -> q (B, n) in [-1, 1]; returns per-row scale s (B,), the clipped count
    and the number of rows holding NaN or infinity (found from the same IEEE-bit abs-max pass,
    so the caller needs no separate finiteness pass; such rows' outputs are garbage and the
    caller raises). n2[b, t] = Σ_{i in tile t} q_bi² (for read noise);
    row_energy[b] = Σ_i q_bi² gsum_i (cell read energy per unit V²·t; gsum float32).
    ``levels`` = 2**(bits-1) - 1. With abs-max scaling nothing can clip, so only fixed scaling
    counts clipped inputs. Rows run in chunks on up to ``threads`` threads
    (`crossbar.threads.run_chunks`).
    """
    scale = np.empty(x.shape[0], dtype=np.float32)
    runs = run_chunks(_dac_chunks, x.shape[0], threads, x, levels, abs_max, in_bound,
                      tile_edges, gsum, q, n2, row_energy, scale)
    return scale, sum(r[0] for r in runs), sum(r[1] for r in runs)


@njit(cache=True, nogil=True)
def _dac_chunks(c0, c1, x, levels, abs_max, in_bound, tile_edges, gsum, q, n2, row_energy,
                scale):
    """Chunks c0 … c1 - 1 of `dac_quantize` (rows c0·16 … c1·16 - 1), without the GIL;
    returns their (clipped inputs, rows with NaN/inf). Rows four at a time: their levels,
    then their tile sums together (`_span_sums4`); the row's own numbers of `_dac_row`."""
    L = np.float32(levels)
    invL = np.float32(1.0) / L
    xu = x.view(np.uint32)
    nt = tile_edges.shape[0] - 1
    sums = np.empty(8, dtype=np.float32)
    nonfinite = np.zeros(4, dtype=np.bool_)
    clipped = 0
    bad = 0
    b = c0 * _ROWS_PER_CHUNK
    end = min(x.shape[0], c1 * _ROWS_PER_CHUNK)
    while b < end:
        k = min(4, end - b)
        for r in range(k):
            scale[b + r], c, nonfinite[r] = _dac_levels(x[b + r], xu[b + r], q[b + r],
                                                        abs_max, in_bound, L, invL)
            clipped += c
            bad += nonfinite[r]
        if k == 4 and not nonfinite.any():
            e0 = e1 = e2 = e3 = 0.0
            for t in range(nt):
                lo, hi = tile_edges[t], tile_edges[t + 1]
                _span_sums4(q[b, lo:hi], q[b + 1, lo:hi], q[b + 2, lo:hi], q[b + 3, lo:hi],
                            gsum[lo:hi], sums)
                n2[b, t], n2[b + 1, t], n2[b + 2, t], n2[b + 3, t] = (sums[0], sums[1],
                                                                      sums[2], sums[3])
                e0 += sums[4]
                e1 += sums[5]
                e2 += sums[6]
                e3 += sums[7]
            row_energy[b], row_energy[b + 1], row_energy[b + 2], row_energy[b + 3] = (
                e0, e1, e2, e3)
        else:   # the last rows of the chunk, or a row with NaN/inf (its sums are skipped)
            for r in range(b, b + k):
                row_energy[r] = 0.0 if nonfinite[r - b] else \
                    _row_tile_sums(q[r], n2[r], gsum, tile_edges)
        b += k
    return clipped, bad


@njit(inline="always", cache=True)
def _adc_level(z, inv, H):
    """One conversion: (the code rint(z·inv) clipped to ±H, 1 if it clipped else 0)."""
    k = np.float32(np.rint(z * inv))
    return min(max(k, -H), H), (k > H) + (k < -H)


@njit(cache=True)
def _convert_row(P, g, sd, per_elem, noisy, inv, step, H, out, accumulate):
    """One row of one tile through the ADC: out (+)= clip(rint((P + sd·g)/step))·step.
    Branch-free so that LLVM vectorises it; returns the saturated count. No fastmath: it has
    no float reduction to reorder, and without contraction its inlined twin (read_narrow)
    rounds P + sd·g exactly as it does."""
    c = 0
    for j in range(P.shape[0]):
        z = P[j]
        if noisy:
            z = z + (sd[j] if per_elem else sd[0]) * g[j]
        k, clip = _adc_level(z, inv, H)
        c += clip
        if accumulate:
            out[j] += k * step
        else:
            out[j] = k * step
    return c


def adc_tiles(P3, sd3, noisy, steps, half, out, split, key, stream0, first, rowscale, final,
              threads=None):
    """Convert tiles: out (+)= ADC(P3[t] + sd3[t]·N(0,1)) for every tile t.

    P3 (nt, B, m) partial sums (normalised units); sd3 (nt, B, k), k = 1 or m; steps (nt,)
    LSB per tile. ``split``: out (B, nt, m) keeps tiles apart; else out (B, 1, m) receives
    their sum (overwritten by tile 0 when ``first``, accumulated otherwise). The noise of
    (t, b) comes from stream ``stream0 + t·B + b``, so converting tiles one call at a time
    (stream0 = t·B) or all at once gives identical numbers. When ``final``, each row of out
    is then multiplied by rowscale[b] (input scale × w_max: weight units), while it is still
    in cache. Rows run in chunks on up to ``threads`` threads (`crossbar.threads.run_chunks`).
    Returns saturated conversions.
    """
    return sum(run_chunks(_adc_chunks, P3.shape[1], threads, P3, sd3, noisy, steps, half, out,
                          split, key, stream0, first, rowscale, final))


@njit(cache=True, nogil=True)
def _adc_chunks(c0, c1, P3, sd3, noisy, steps, half, out, split, key, stream0, first, rowscale,
                final):
    """`adc_tiles` for the rows of chunks c0 … c1 - 1 (rows c0·16 … c1·16 - 1), without the
    GIL; returns their saturated conversions."""
    nt, B, m = P3.shape
    H = np.float32(half)
    per_elem = sd3.shape[2] > 1
    table = tablefull_ref[0]
    g = np.zeros(m, dtype=np.float32)  # one scratch per run of rows (each row overwrites it)
    sat = 0
    for b in range(c0 * _ROWS_PER_CHUNK, min(B, c1 * _ROWS_PER_CHUNK)):
        for t in range(nt):
            if noisy:
                _fill_normals(g, key, stream0 + t * B + b, table)
            step = steps[t]
            sat += _convert_row(P3[t, b], g, sd3[t, b], per_elem, noisy,
                                np.float32(1.0) / step, step, H, out[b, t if split else 0],
                                not (split or (first and t == 0)))
        if final:
            _scale_rows(out[b], rowscale[b])
    return sat


@njit(cache=True, fastmath=_FASTMATH)
def _scale_rows(o, f):
    for t in range(o.shape[0]):
        for j in range(o.shape[1]):
            o[t, j] *= f



# the fused narrow read calls this once per (row, tile) for a handful of outputs: as a call it
# costs more than its work (~30 ns), so it takes an inlined twin. The wide-row kernels keep the
# call: inlined there, the conversion loop would lose its vectorisation.
_convert_row_inline = njit(inline="always")(_convert_row.py_func)
