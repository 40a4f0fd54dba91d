"""Whether a large float32 array holds no NaN or infinity, from its bits, on the kernel threads.

Every write request and every ideal read is checked for NaN and infinity before anything moves
(`base.check_finite`, `MatrixBase._check`). ``np.isfinite(a).all()`` does it on one thread
through a boolean temporary: at the paper's size (a 2000 x 2000 Adam step, a 1000 x 2000
read) about 0.15 s of a 3.5 s ideal batch. Here: a float32 is NaN or infinite exactly when its
eight exponent bits are all ones, so the array is finite exactly when the largest of
``bits & 0x7F800000`` over it is below ``0x7F800000``: an integer max, which vectorises, split
between the kernel threads (`crossbar.threads.run_spans`). Same answer as NumPy's for every
array; smaller or other arrays keep NumPy's test (`base.all_finite`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import _jitcache  # noqa: F401  (cache stamped with every kernel module: see there)
from .threads import run_spans

_EXPONENT = np.uint32(0x7F800000)   # a float32's exponent bits; all set: inf or NaN


@njit(cache=True, nogil=True)
def _max_exponent(u):
    """max over i of ``u[i] & 0x7F800000`` (u: the uint32 bits of a flat float32 array). The
    casts keep it in 32-bit lanes."""
    m = np.uint32(0)
    for i in range(u.shape[0]):
        m = np.uint32(max(m, np.uint32(u[i] & _EXPONENT)))
    return m


def all_finite_f32(a: np.ndarray, threads: int | None = None) -> bool:
    """``np.isfinite(a).all()`` for a C-contiguous float32 array ``a``."""
    bits = a.reshape(-1).view(np.uint32)
    tops = run_spans(lambda s, e: _max_exponent(bits[s:e]), bits.size, threads)
    return max(tops) < _EXPONENT
