"""Reads inside the kernels: the fused one-pass read of narrow outputs (DAC, register-blocked
column sums, noise and ADC for a block of input rows at a time) and the effective weights and
row conductance sums a read uses.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import _jitcache  # noqa: F401  (cache stamped with every kernel module: see there)

from .converters import _convert_row_inline, _dac_row, _scale_rows
from .kernel_config import _FASTMATH, _ROWS_PER_CHUNK
from .normals import _fill_normals_inline, tablefull_ref
from .threads import run_chunks


@njit(cache=True, fastmath=_FASTMATH)
def _block_sums(Q, M, lo, hi, P):
    """P[r, j] = Σ_{lo<=i<hi} Q[r, i]·M[j, i] for a block of rows (a multiple of 4) against a
    few output lines, register-blocked 4 rows × 2 lines: each weight load serves four rows and
    each input load two lines (a plain dot per (row, line) is load-bound at half the speed)."""
    m = M.shape[0]
    for r in range(0, Q.shape[0], 4):
        q0 = Q[r, lo:hi]
        q1 = Q[r + 1, lo:hi]
        q2 = Q[r + 2, lo:hi]
        q3 = Q[r + 3, lo:hi]
        for j in range(0, m - 1, 2):
            m0 = M[j, lo:hi]
            m1 = M[j + 1, lo:hi]
            s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = np.float32(0.0)
            for i in range(hi - lo):
                c = m0[i]
                d = m1[i]
                a = q0[i]
                s00 += a * c
                s01 += a * d
                a = q1[i]
                s10 += a * c
                s11 += a * d
                a = q2[i]
                s20 += a * c
                s21 += a * d
                a = q3[i]
                s30 += a * c
                s31 += a * d
            P[r, j] = s00
            P[r, j + 1] = s01
            P[r + 1, j] = s10
            P[r + 1, j + 1] = s11
            P[r + 2, j] = s20
            P[r + 2, j + 1] = s21
            P[r + 3, j] = s30
            P[r + 3, j + 1] = s31
        if m % 2:
            m0 = M[m - 1, lo:hi]
            s0 = s1 = s2 = s3 = np.float32(0.0)
            for i in range(hi - lo):
                c = m0[i]
                s0 += q0[i] * c
                s1 += q1[i] * c
                s2 += q2[i] * c
                s3 += q3[i] * c
            P[r, m - 1] = s0
            P[r + 1, m - 1] = s1
            P[r + 2, m - 1] = s2
            P[r + 3, m - 1] = s3


# read_narrow calls the noise and ADC of one (row, tile) for a handful of outputs: as calls
# they cost more than their work (~30 ns each), so it takes their inlined twins
# (_fill_normals_inline, _convert_row_inline). The wide-row kernels keep the calls.


@njit(cache=True, nogil=True)
def _read_blocks(c0, c1, x, M, levels, abs_max, in_bound, tile_edges, gsum, nf, noisy, steps,
                 half, key, out, split, row_energy, w_max, scale):
    """`read_narrow` for the input rows of blocks c0 … c1 - 1 (rows c0·16 … c1·16 - 1),
    without the GIL; returns their (clipped inputs, saturated conversions, rows with NaN/inf).
    Rows in fixed blocks: scratch is allocated once per block and the block is what the
    register-blocked product works on."""
    B, n = x.shape
    m = M.shape[0]
    nt = tile_edges.shape[0] - 1
    RB = _ROWS_PER_CHUNK
    table = tablefull_ref[0]
    L = np.float32(levels)
    invL = np.float32(1.0) / L
    H = np.float32(half)
    xu = x.view(np.uint32)
    clipped = 0
    sat = 0
    bad = 0
    for ch in range(c0, c1):
        b0 = ch * RB
        nb = min(B, b0 + RB) - b0
        Q = np.empty((RB, n), dtype=np.float32)
        for r in range(nb, RB):  # rows past the batch end: zeros (the product runs on them)
            Q[r, :] = 0.0
        n2 = np.zeros((RB, nt), dtype=np.float32)
        P = np.empty((RB, m), dtype=np.float32)
        g = np.zeros(m, dtype=np.float32)
        sd = np.zeros(1, dtype=np.float32)
        for r in range(nb):
            b = b0 + r
            scale[b], row_energy[b], c, nonfinite = _dac_row(
                x[b], xu[b], Q[r], n2[r], gsum, tile_edges, abs_max, in_bound, L, invL)
            clipped += c
            bad += nonfinite
            if nonfinite:
                Q[r, :] = 0.0  # the caller raises
        for t in range(nt):
            lo, hi = tile_edges[t], tile_edges[t + 1]
            _block_sums(Q, M, lo, hi, P)
            step = steps[t]
            for r in range(nb):
                b = b0 + r
                if noisy:
                    sd[0] = nf * np.sqrt(n2[r, t])
                    _fill_normals_inline(g, key, t * B + b, table)
                sat += _convert_row_inline(P[r], g, sd, False, noisy, np.float32(1.0) / step,
                                           step, H, out[b, t if split else 0],
                                           not (split or t == 0))
        for r in range(nb):
            _scale_rows(out[b0 + r], scale[b0 + r] * np.float32(w_max))
    return clipped, sat, bad


def read_narrow(x, M, levels, abs_max, in_bound, tile_edges, gsum, nf, noisy, steps, half,
                key, out, split, row_energy, w_max, threads=None):
    """The whole forward read for a narrow output in one pass over the input.

    ``dac_quantize`` + per-tile column sums + ``adc_tiles`` fused: for few output lines,
    writing q and reading it back cost more than the product, so each block of 16 input rows
    is quantised into a scratch that stays in cache and multiplied, tile by tile, by the rows
    of ``M`` (n_out, n_in; M[j] = the normalised weights feeding output line j) right there.
    The DAC, the per-tile noise streams (stream t·B + b) and the ADC are those of the unfused
    path; only the summation order inside a tile's column sum differs (float32 rounding).
    ``out`` as in ``adc_tiles`` (split: (B, nt, m); else (B, 1, m)), in weight units (each
    row times its input scale × ``w_max``). Blocks run on up to ``threads`` threads
    (`crossbar.threads.run_chunks`; the blocks are the chunks).
    Returns (scale (B,), clipped inputs, saturated conversions, rows with NaN/inf).
    """
    scale = np.empty(x.shape[0], dtype=np.float32)
    runs = run_chunks(_read_blocks, x.shape[0], threads, x, M, levels, abs_max, in_bound,
                      tile_edges, gsum, nf, noisy, steps, half, key, out, split, row_energy,
                      w_max, scale)
    return scale, sum(r[0] for r in runs), sum(r[1] for r in runs), sum(r[2] for r in runs)


def effective(wp, wm, differential, g_min_over_dg, Wn, gsum, threads=None):
    """Wn = w+ - w- (or 2w - 1 for single-device mapping) and per-row conductance sums.

    gsum[i] = Σ_j (G+_ij + G-_ij) / Δg (in units of Δg, g_min included; reference column
    excluded), the factor that turns Σ q² into cell read energy. Rows run in chunks on up to
    ``threads`` threads (`crossbar.threads.run_chunks`).
    """
    run_chunks(_effective_rows, wp.shape[0], threads, wp, wm, differential, g_min_over_dg, Wn,
               gsum)


@njit(cache=True, nogil=True)
def _effective_rows(c0, c1, wp, wm, differential, g_min_over_dg, Wn, gsum):
    """Chunks c0 … c1 - 1 of `effective` (rows c0·16 … c1·16 - 1), without the GIL."""
    R, C = wp.shape
    for i in range(c0 * _ROWS_PER_CHUNK, min(R, c1 * _ROWS_PER_CHUNK)):
        acc = 0.0
        if differential:
            for j in range(C):
                a = wp[i, j]
                b = wm[i, j]
                Wn[i, j] = a - b
                acc += a + b
            gsum[i] = acc + 2.0 * C * g_min_over_dg
        else:
            for j in range(C):
                a = wp[i, j]
                Wn[i, j] = 2.0 * a - 1.0
                acc += a
            gsum[i] = acc + C * g_min_over_dg
