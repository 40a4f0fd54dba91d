"""A Numba loop for a digital hot spot of a paper-scale PFF batch: the lateral gradient.

PFF's lateral blocks need ``Σ_b z_bᵀ δ_b`` per competition group (200 groups of 10 × 10 at the
paper's size, summed over a batch of 1000): ``np.einsum`` sums it over b in order in float32,
single-threaded. The loop here gives exactly its numbers (the same float32 products and sums
in the same order, compiled without fast-math, so nothing is reassociated or contracted into
FMAs) at about half its CPU time and on all cores (measured: 8 vs 16 ms CPU, 21 vs 41 ms wall,
loaded 2-core machine). It is used from `JIT_MIN` elements, so small runs (and their first run
on a machine) never compile it; below it the einsum runs. Numba is imported on first use only
(``import analogff`` stays fast). Tried and dropped: a fused Adam loop (3× the CPU time of
`updates.Adam.step`'s chunked NumPy passes: unvectorised clip, sqrt and divide).
"""

from __future__ import annotations

import functools

import numpy as np

# Elements (array size, or batch × layer width) from which the fused loops are used: the
# paper preset's arrays (784-2000-2000, batch 1000) are above it, the small preset's below
JIT_MIN = 1 << 20

@functools.cache
def _group_outer_kernel():
    """The compiled loop (built on first use)."""
    from numba import njit, prange

    @njit(parallel=True, cache=True)
    def group_outer(z, d, k, out):
        """out[g, i, j] = Σ_b z[b, g·k + i] · d[b, g·k + j], summed over b in order from 0
        in float32 (as np.einsum("bgi,bgj->gij") sums it)."""
        B = z.shape[0]
        for g in prange(out.shape[0]):
            acc = np.zeros((k, k), dtype=np.float32)
            o = g * k
            for b in range(B):
                for i in range(k):
                    zi = z[b, o + i]
                    for j in range(k):
                        acc[i, j] += zi * d[b, o + j]
            out[g] = acc

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
    out = np.empty((G, k, k), dtype=np.float32)
    _group_outer_kernel()(np.ascontiguousarray(z), np.ascontiguousarray(d), k, out)
    return out
