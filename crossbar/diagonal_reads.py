"""The read of a stack of square blocks (PFF's lateral competition groups) along diagonals.

A block-diagonal stack (`crossbar.blockdiag.BlockDiagonal`: ``nt`` groups of ``m × m``, group
t on input rows and output lines ``t·m … t·m + m - 1``) is an ``m``-line matrix read with its
``m``-row tiles kept apart. `crossbar.reads.read_narrow` reads it tile by tile: a 10 × 10
product, ten noise deviates and ten conversions at a time, loops of ten that the compiler
cannot vectorise (about 5.5 ms per 500 × 2000 read at the paper's size, of which 2 ms are the
products). Laid out flat (output ``c = t·m + j`` of group t, line j), every output's sum
``Σ_i q[t·m + i]·M[j, t·m + i]`` takes its term ``i`` from input ``c + (i - j)``: so the
``2m - 1`` diagonals ``s = i - j = -(m-1) … m-1`` of the stack are each one multiply-add along
the whole row (``P[c] += q[c + s]·D_s[c]``, with ``D_s[c] = 0`` where ``j + s`` leaves the
group). The conversions and the noise run along the whole row too.

Same numbers as `read_narrow`: each output adds its terms in ascending ``i`` from 0, in float32,
without contraction into FMAs, as `reads._block_sums` does; the zero terms in between add
``±0`` to a partial sum that starts at +0 and so is never -0, which leaves it unchanged (the
inputs are finite: a row with NaN/inf is zeroed and the caller raises). The noise of (group
t, row b) is stream ``t·B + b``'s, the tails redrawn per group from that stream's start, the
conversion is `converters._adc_level`, as in `converters._convert_row`, element by element.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from . import _jitcache  # noqa: F401  (cache stamped with every kernel module: see there)

from .converters import _adc_level, _dac_row
from .kernel_config import _ROWS_PER_CHUNK
from .normals import _fix_tails, _has_tail, tablefull_ref
from .rng import _GOLDEN, mix64, stream_start
from .threads import run_chunks

# stacks read this way from this many inputs (rows of the stack) on: the paper's lateral
# reads (2000 inputs, 200 groups of 10) and up, where each diagonal's pass along the row is
# long; the small preset's 200-input stacks (the default `simulate`) keep read_narrow and
# never compile this kernel (1.8 s of CPU on a machine's first run)
STACK_INPUTS_FROM = 1024


def diagonals(M: np.ndarray) -> np.ndarray:
    """D (2m - 1, n) float32 of the stack M (m, n) (M[j] = the weights feeding line j; group t
    on inputs t·m … t·m + m - 1): D[s + m - 1, c] = M[c mod m, c + s] where c mod m + s lies
    in [0, m), else 0."""
    m, n = M.shape
    D = np.zeros((2 * m - 1, n), dtype=np.float32)
    j = np.arange(n) % m
    for s in range(-(m - 1), m):
        ok = (j + s >= 0) & (j + s < m)
        c = np.flatnonzero(ok)
        D[s + m - 1, c] = M[j[c], c + s]
    return D


def is_stack(tile_edges: np.ndarray, m: int) -> bool:
    """Whether the input tiles are all ``m`` rows wide (a stack of m × m groups)."""
    widths = np.diff(tile_edges)
    return widths.size > 0 and bool(np.all(widths == m))


@njit(cache=True, nogil=True)
def _stack_noise(g, key, b, B, m, s0, R, table):
    """g[t·m + j] = deviate j of stream t·B + b for every group t (what `_fill_normals`
    writes for each group's m lines): the stream starts, then each stream's 64-bit draws, then
    the table look-ups, each a loop over the groups; tails redrawn group by group."""
    nt = s0.shape[0]
    for t in range(nt):
        s0[t] = stream_start(key, uint64(t) * uint64(B) + uint64(b))
    for q in range(R.shape[0]):
        step = uint64(q + 1) * _GOLDEN
        for t in range(nt):
            R[q, t] = mix64(s0[t] + step)
    for t in range(nt):
        for j in range(m):
            part = (R[j >> 2, t] >> uint64(16 * (3 - (j & 3)))) & uint64(0xFFFF)
            g[t * m + j] = table[np.int64(part)]
    lo, hi = table[0], table[65535]
    if _has_tail(g, lo, hi):
        for t in range(nt):
            seg = g[t * m:(t + 1) * m]
            if _has_tail(seg, lo, hi):
                _fix_tails(seg, s0[t], table)


@njit(cache=True, nogil=True)
def _stack_rows(c0, c1, x, D, levels, abs_max, in_bound, tile_edges, gsum, nf, noisy, steps,
                half, key, out, row_energy, w_max, scale):
    """`read_stack` for the rows of chunks c0 … c1 - 1 (rows c0·16 … c1·16 - 1), without the
    GIL; returns their (clipped inputs, saturated conversions, rows with NaN/inf)."""
    B, n = x.shape
    m = (D.shape[0] + 1) // 2
    nt = n // m
    pad = m - 1
    table = tablefull_ref[0]
    L = np.float32(levels)
    invL = np.float32(1.0) / L
    H = np.float32(half)
    xu = x.view(np.uint32)
    step_c = np.empty(n, dtype=np.float32)       # each output's tile LSB and its inverse
    inv_c = np.empty(n, dtype=np.float32)
    for t in range(nt):
        for j in range(m):
            step_c[t * m + j] = steps[t]
            inv_c[t * m + j] = np.float32(1.0) / steps[t]
    Qp = np.zeros(n + 2 * pad, dtype=np.float32)  # one row's levels between zero margins
    Q = Qp[pad:pad + n]
    n2 = np.empty(nt, dtype=np.float32)
    P = np.empty(n, dtype=np.float32)
    g = np.zeros(n, dtype=np.float32)
    sd_c = np.zeros(n, dtype=np.float32)
    s0 = np.empty(nt, dtype=np.uint64)
    R = np.empty(((m + 3) // 4, nt), dtype=np.uint64)
    clipped = 0
    sat = 0
    bad = 0
    for b in range(c0 * _ROWS_PER_CHUNK, min(B, c1 * _ROWS_PER_CHUNK)):
        scale[b], row_energy[b], c, nonfinite = _dac_row(
            x[b], xu[b], Q, n2, gsum, tile_edges, abs_max, in_bound, L, invL)
        clipped += c
        bad += nonfinite
        if nonfinite:    # the caller raises; zeros as read_narrow's scratch holds then
            Q[:] = 0.0
            n2[:] = 0.0
        P[:] = 0.0
        for d in range(2 * m - 1):               # ascending i - j: each sum in input order
            qd = Qp[d:d + n]
            dd = D[d]
            for k in range(n):
                P[k] += qd[k] * dd[k]
        if noisy:
            _stack_noise(g, key, b, B, m, s0, R, table)
            for t in range(nt):
                sd = nf * np.sqrt(n2[t])
                for j in range(m):
                    sd_c[t * m + j] = sd
        f = scale[b] * np.float32(w_max)
        o = out[b].reshape(n)
        for k in range(n):
            z = P[k]
            if noisy:
                z = z + sd_c[k] * g[k]
            v, clip = _adc_level(z, inv_c[k], H)
            sat += clip
            o[k] = (v * step_c[k]) * f
    return clipped, sat, bad


def read_stack(x, D, levels, abs_max, in_bound, tile_edges, gsum, nf, noisy, steps, half, key,
               out, row_energy, w_max, threads=None):
    """`reads.read_narrow` of a stack of square blocks with its tiles apart (``split``), from
    the stack's diagonals ``D`` (`diagonals`): the same arguments and results, ``out``
    (B, nt, m) contiguous, the same numbers."""
    scale = np.empty(x.shape[0], dtype=np.float32)
    runs = run_chunks(_stack_rows, x.shape[0], threads, x, D, levels, abs_max, in_bound,
                      tile_edges, gsum, nf, noisy, steps, half, key, out, row_energy, w_max,
                      scale)
    return scale, sum(r[0] for r in runs), sum(r[1] for r in runs), sum(r[2] for r in runs)
