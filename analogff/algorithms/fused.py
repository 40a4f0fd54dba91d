"""Numba loops for the digital hot spots of a paper-scale PFF batch: the lateral gradient and
Adam's elementwise step.

PFF's lateral blocks need ``Σ_b z_bᵀ δ_b`` per competition group (200 groups of 10 × 10 at the
paper's size, summed over a batch of 1000): ``np.einsum`` sums it over b in order in float32,
single-threaded. The loop here gives exactly its numbers (the same float32 products and sums
in the same order, compiled without fast-math, so nothing is reassociated or contracted into
FMAs) in less CPU time and on all cores (`python benchmarks/bench_paper_scale.py` prints both
at the paper's size, with a same-bits check). It is used from `JIT_MIN` elements, so small runs
(and their first run on a machine) never compile it; below it the einsum runs. Numba is
imported on first use only (``import analogff`` stays fast).

Adam's step (`adam_span`) is one pass per element instead of NumPy's ten passes over a cached
chunk: every float32 operation of `updates.Adam._passes` in the same order on the same float32
scalars (no fast-math, so no FMA or reassociation; IEEE division and square root are exact
whether vectorised or not), hence the same numbers. A first try (dropped) took 3x NumPy's
time: its scalars were Python floats, which make Numba compute in float64 and leave the loop
unvectorised; here every scalar is a float32.
"""

from __future__ import annotations

import functools

import numpy as np

# Elements (array size, or batch × layer width) from which the fused loops here and PFF's
# compiled row passes (`rowwise`) are used: the paper preset's arrays (784-2000-2000, batch
# 1000) are at or above it, the small preset's below
JIT_MIN = 1 << 20

# columns per block of the lateral gradient's diagonal sums: their 2k - 1 rows of partial sums
# (76 KB at k = 10) stay in the core's L2 cache while the batch streams through
_GROUP_COLUMNS = 1024


@functools.cache
def _group_outer_kernel():
    """The compiled loop (built on first use)."""
    from numba import njit

    # a nogil loop over a span of columns, the spans on the kernel threads (run_spans), like
    # the crossbar kernels: a prange kernel took about ten times as long to compile. Rows and
    # runs are taken as slices: an index that might be negative costs a wrap-around test and
    # keeps the loop from vectorising
    @njit(nogil=True, cache=True)
    def group_outer(z, d, k, c0, c1, out):
        """out[g, i, j] = Σ_b z[b, g·k + i] · d[b, g·k + j] for the rows c = g·k + i in
        [c0, c1), summed over b in order from 0 in float32 (as np.einsum("bgi,bgj->gij")
        sums it). Along diagonals: A[s + k - 1, c] = Σ_b z[b, c]·d[b, c + s] for
        s = -(k-1) … k-1 is one multiply-add along a run of columns per row b (four rows b
        per pass over A, each sum still in order of b); out[g, i, j] = A[j - i + k - 1, c]."""
        B, n = z.shape
        pad = k - 1
        A = np.empty((2 * k - 1, _GROUP_COLUMNS), dtype=np.float32)
        for a in range(c0, c1, _GROUP_COLUMNS):
            e = min(a + _GROUP_COLUMNS, c1)
            w = e - a
            A[:, :w] = 0
            b = 0
            while b < B:
                rows = min(4, B - b)
                for s in range(-pad, k):
                    lo = max(0, -s - a)      # the run of columns whose c + s is in the row
                    hi = min(w, n - s - a)
                    As = A[s + pad, lo:hi]
                    y0, e0 = z[b, a + lo:a + hi], d[b, a + lo + s:a + hi + s]
                    if rows == 4:
                        y1, e1 = z[b + 1, a + lo:a + hi], d[b + 1, a + lo + s:a + hi + s]
                        y2, e2 = z[b + 2, a + lo:a + hi], d[b + 2, a + lo + s:a + hi + s]
                        y3, e3 = z[b + 3, a + lo:a + hi], d[b + 3, a + lo + s:a + hi + s]
                        for c in range(hi - lo):
                            acc = As[c]
                            acc += y0[c] * e0[c]
                            acc += y1[c] * e1[c]
                            acc += y2[c] * e2[c]
                            acc += y3[c] * e3[c]
                            As[c] = acc
                    else:
                        for c in range(hi - lo):
                            As[c] += y0[c] * e0[c]
                b += 4 if rows == 4 else 1
            for c in range(a, e):
                g = c // k
                i = c - g * k
                for j in range(k):
                    out[g, i, j] = A[j - i + pad, c - a]

    return group_outer


def group_outer(z: np.ndarray, d: np.ndarray, k: int) -> np.ndarray:
    """Per-group outer-product sums ``einsum("bgi,bgj->gij", z.reshape(B, G, k),
    d.reshape(B, G, k))`` for z, d (B, G·k): the fused loop for large float32 inputs, the
    einsum otherwise (identical numbers)."""
    B, n = z.shape
    G = n // k
    if (z.size < JIT_MIN or z.dtype != np.float32 or d.dtype != np.float32
            or z.shape != d.shape):
        return np.einsum("bgi,bgj->gij", z.reshape(B, G, k), d.reshape(B, G, k))
    from crossbar.threads import run_spans
    out = np.empty((G, k, k), dtype=np.float32)
    z, d = np.ascontiguousarray(z), np.ascontiguousarray(d)
    kernel = _group_outer_kernel()
    run_spans(lambda c0, c1: kernel(z, d, k, c0, c1, out), n, None)
    return out


@functools.cache
def _adam_kernel():
    """The compiled Adam pass (built on first use)."""
    from numba import njit

    # error_model="numpy": a division is IEEE (±inf, NaN), as in NumPy, with no zero test that
    # would keep the loop from vectorising; the loop runs over whole arrays (the caller passes
    # slices) because an index from range(a, b) might be negative and its wrap-around test
    # does the same
    @njit(nogil=True, cache=True, error_model="numpy")
    def adam_span(g, m, v, out, b1, c1, b2, c2, clip, eps, neg_lr):
        """Flat float32 arrays: g clipped to ±clip (NaN stays NaN, as np.maximum/np.minimum),
        m = m·b1 + g·c1, v = v·b2 + (g·c2)·g (in place), out = (m·neg_lr) / (√v + eps)."""
        lo = -clip
        for i in range(g.size):
            x = g[i]
            if x < lo:
                x = lo
            if x > clip:
                x = clip
            mi = m[i] * b1 + x * c1
            vi = v[i] * b2 + (x * c2) * x
            m[i] = mi
            v[i] = vi
            out[i] = (mi * neg_lr) / (np.sqrt(vi) + eps)

    return adam_span


def adam_span(g, m, v, out, a: int, b: int, b1, c1, b2, c2, clip, eps, neg_lr) -> None:
    """`_adam_kernel`'s pass over elements [a, b) of the flat float32 arrays g, m, v, out; the
    scalars are cast to float32 here, as NumPy casts them in `updates.Adam._passes`."""
    f = np.float32
    _adam_kernel()(g[a:b], m[a:b], v[a:b], out[a:b],
                   f(b1), f(c1), f(b2), f(c2), f(clip), f(eps), f(neg_lr))
