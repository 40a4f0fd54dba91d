"""PFF's per-row digital work at the paper's size, one compiled pass per row on every core.

A paper-scale PFF batch (784-2000-2000, 1000 rows, 12 settling steps) spent a sixth of its
ideal time in NumPy expressions that each walk a 1000 x 2000 array once or more, on one
thread, through full-size temporaries (`python benchmarks/bench_paper_scale.py` times each
pass both ways): the row norms of ``pff.ln``, the sum
``a = W x + V z + b + noise - Λ z`` of the reads, the damped ReLU mix and its goodness
``Σ z²``, the generative errors. Here each of them is one pass over a row while it is in
cache, rows split between the kernel threads (`crossbar.threads.run_spans`).

Same numbers, not close ones. Every function gives bit for bit what its NumPy expression in
`analogff.algorithms.pff` gives (that expression stays the definition, and runs below
`fused.JIT_MIN` elements, so small runs never compile this module): the same float32
operations in the same order, compiled without fast-math (no FMA contraction, no
reassociation); ReLU as ``np.maximum(v, 0)`` (−0 → +0, NaN kept); and NumPy's row sums
``(v * v).sum(axis=1)``, which are pairwise sums (NumPy's ``pairwise_sum``, numpy/_core/src/
umath/loops_utils.h.src: a run of at most `PAIRWISE_BLOCK` terms summed into eight
accumulators combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then its tail in order; a
longer run split at half its length rounded down to a multiple of eight; fewer than eight
terms in order; the whole added to 0), reproduced by `_sum_sq`.
One exception, which means nothing: where a sum meets two NaNs, which of them it passes on (its
sign and payload) depends on the operand order of one add, which NumPy's SIMD loop and the
compiled one choose differently; the result is a NaN in both, at the same places.
``error_model="numpy"``: a division is IEEE (±inf, NaN), as in NumPy, with no zero test. Loops
run over row slices from index 0 (an index that might be negative costs a wrap-around test
that keeps a loop from vectorising).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from crossbar.threads import run_spans

PAIRWISE_BLOCK = 128   # NumPy's PW_BLOCKSIZE: the longest run summed with eight accumulators

_jit = njit(nogil=True, cache=True, error_model="numpy")


@_jit
def _relu(x):
    """``np.maximum(x, 0)`` for one float32: −0 gives +0, NaN stays NaN."""
    if x > 0 or x != x:
        return x
    return np.float32(0)


@_jit
def _sum_sq(v):
    """NumPy's pairwise float32 sum of ``v * v`` (1-D float32, contiguous), without the 0."""
    n = v.size
    if n < 8:
        s = np.float32(0)
        for i in range(n):
            s += v[i] * v[i]
        return s
    if n <= PAIRWISE_BLOCK:
        r0, r1, r2, r3 = v[0] * v[0], v[1] * v[1], v[2] * v[2], v[3] * v[3]
        r4, r5, r6, r7 = v[4] * v[4], v[5] * v[5], v[6] * v[6], v[7] * v[7]
        m = n - n % 8
        for i in range(8, m, 8):
            r0 += v[i] * v[i]
            r1 += v[i + 1] * v[i + 1]
            r2 += v[i + 2] * v[i + 2]
            r3 += v[i + 3] * v[i + 3]
            r4 += v[i + 4] * v[i + 4]
            r5 += v[i + 5] * v[i + 5]
            r6 += v[i + 6] * v[i + 6]
            r7 += v[i + 7] * v[i + 7]
        s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for i in range(m, n):
            s += v[i] * v[i]
        return s
    h = n // 2
    h -= h % 8
    return _sum_sq(v[:h]) + _sum_sq(v[h:])


@_jit
def _row_sum_sq(v):
    """``(v * v).sum(axis=1)`` of one row as NumPy computes it: 0 + the pairwise sum."""
    return np.float32(0) + _sum_sq(v)


@_jit
def _ln_rows(v, eps, out):
    """out = v / (√Σv² + eps) row by row (`pff.ln`)."""
    for r in range(v.shape[0]):
        d = np.sqrt(_row_sum_sq(v[r])) + eps
        vr, o = v[r], out[r]
        for j in range(vr.size):
            o[j] = vr[j] / d


@_jit
def _noisy_relu_ln_rows(noise, z, eps_g, eps, out):
    """noise ← relu(noise·eps_g + z) (in place), then out = its `pff.ln`."""
    for r in range(noise.shape[0]):
        nr, zr = noise[r], z[r]
        for j in range(nr.size):
            nr[j] = _relu(nr[j] * eps_g + zr[j])
    _ln_rows(noise, eps, out)


@_jit
def _settle_rows(w, v, b, noise, noisy, lat, z, oma, alpha, a, zn, g):
    """a = (((w + v) + b) + noise) − lat; zn = oma·relu(a) + alpha·z; g = Σ zn² per row
    (noise: added as +0 when not ``noisy``, as NumPy adds the scalar 0). Three loops per row
    (the row stays in cache): one loop writing two arrays while reading six needs more
    run-time overlap tests than LLVM makes before vectorising."""
    zero = np.float32(0)
    for r in range(w.shape[0]):
        wr, vr, nr, lr, ar = w[r], v[r], noise[r], lat[r], a[r]
        if noisy:
            for j in range(wr.size):
                ar[j] = (((wr[j] + vr[j]) + b[j]) + nr[j]) - lr[j]
        else:
            for j in range(wr.size):
                ar[j] = (((wr[j] + vr[j]) + b[j]) + zero) - lr[j]
        zr, znr = z[r], zn[r]
        for j in range(ar.size):
            znr[j] = oma * _relu(ar[j]) + alpha * zr[j]
        g[r] = _row_sum_sq(znr)


@_jit
def _relu_error_rows(pre, target, c, out):
    """out = c·(relu(pre) − target)."""
    for r in range(pre.shape[0]):
        p, t, o = pre[r], target[r], out[r]
        for j in range(p.size):
            o[j] = c * (_relu(p[j]) - t[j])


def ln(v: np.ndarray, eps: np.float32) -> np.ndarray:
    """``v / (sqrt((v*v).sum(axis=1, keepdims=True, dtype=float32)) + eps)``; v (N, n) float32,
    C-contiguous."""
    out = np.empty_like(v)
    run_spans(lambda a, b: _ln_rows(v[a:b], eps, out[a:b]), v.shape[0], None)
    return out


def noisy_relu_ln(noise: np.ndarray, z: np.ndarray, eps_g: np.float32,
                  eps: np.float32) -> np.ndarray:
    """``ln(maximum(noise * eps_g + z, 0))`` (``noise`` is overwritten with the ReLU)."""
    out = np.empty_like(z)
    run_spans(lambda a, b: _noisy_relu_ln_rows(noise[a:b], z[a:b], eps_g, eps, out[a:b]),
              z.shape[0], None)
    return out


def settle(reads: tuple, b: np.ndarray, noise, lat: tuple, z: np.ndarray, oma: np.float32,
           alpha: np.float32) -> tuple:
    """One layer's settling arithmetic from its reads, each a (top rows, bottom rows) pair
    (bottom None when there is no bottom half): ``a = (((W x + V z) + b) + noise) − Λ z``,
    ``z' = oma·relu(a) + alpha·z``, ``g = Σ z'²`` per row. ``noise``: (N, n) array or a
    scalar 0. Returns (a, z', g)."""
    N, n = z.shape
    a, zn = np.empty((N, n), np.float32), np.empty((N, n), np.float32)
    g = np.empty(N, np.float32)
    noisy = isinstance(noise, np.ndarray)
    nz = noise if noisy else z        # not read when not noisy
    (w0, w1), (v0, v1), (l0, l1) = reads[0], reads[1], lat
    top = w0.shape[0]

    def work(r0: int, r1: int) -> None:
        for lo, hi in ((r0, min(r1, top)), (max(r0, top), r1)):   # each half's rows
            if lo >= hi:
                continue
            if lo < top:
                w, v, la, s = w0, v0, l0, 0
            else:
                w, v, la, s = w1, v1, l1, top
            _settle_rows(w[lo - s:hi - s], v[lo - s:hi - s], b, nz[lo:hi], noisy,
                         la[lo - s:hi - s], z[lo:hi], oma, alpha, a[lo:hi], zn[lo:hi],
                         g[lo:hi])

    run_spans(work, N, None)
    return a, zn, g


def relu_error(pre: np.ndarray, target: np.ndarray, c: np.float32) -> np.ndarray:
    """``c * (maximum(pre, 0) - target)``."""
    out = np.empty_like(pre)
    run_spans(lambda a, b: _relu_error_rows(pre[a:b], target[a:b], c, out[a:b]),
              pre.shape[0], None)
    return out
