"""Power-law drift of the stored states (`drift`): rows in chunks on the kernels' threads."""

from __future__ import annotations

from numba import njit

from . import _jitcache  # noqa: F401  (cache stamped with every kernel module: see there)

from .kernel_config import _ROWS_PER_CHUNK
from .threads import run_chunks


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
