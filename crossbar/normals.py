"""Random numbers inside the kernels: rows of normal and uniform deviates from the
counter-based generator (``crossbar.rng``), streamed per (key, stream) so that a row's numbers
do not depend on which thread draws them, and the inverse-CDF tables the kernels freeze.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from . import _jitcache  # noqa: F401  (cache stamped with every kernel module: see there)

from .rng import NORMAL_TABLE as _NT
from .rng import NORMAL_TABLE_16 as _NTF
from .rng import NORMAL_TABLE_SMALL as _NT16
from .rng import _tail_inverse, mix64, next_u64, stream_start

# a tail redraw hashes (stream start, position j) with this added to j, so that its 53 bits are
# independent of the stream's own SplitMix64 outputs (which step by _GOLDEN from the start);
# an odd constant unrelated to the generator's (PCG's multiplier)
_TAIL_SALT = uint64(0x5851F42D4C957F2D)

# numba needs the tables as globals it can freeze; a 1-tuple keeps the name stable
table_ref = (_NT,)
table16_ref = (_NT16,)
tablefull_ref = (_NTF,)


@njit(cache=True)
def _fill_normals(g, key, stream, table):
    """g[:] = N(0,1) deviates of stream ``stream``: four 16-bit deviates per 64-bit draw,
    most significant part first, each one load from the 65536-entry table ``table``
    (crossbar.rng.NORMAL_TABLE_16). Inputs 0 and 65535 (|z| > 4.17, probability 2**-15) are
    then redrawn from the exact tail inverse with 53 bits hashed from (stream, position): a
    second pass, so that the first has no branch and no serial dependence."""
    s0 = stream_start(key, stream)
    st = s0
    m = g.shape[0]
    j = 0
    while j + 4 <= m:
        st, r = next_u64(st)
        g[j] = table[np.int64(r >> uint64(48))]
        g[j + 1] = table[np.int64((r >> uint64(32)) & uint64(0xFFFF))]
        g[j + 2] = table[np.int64((r >> uint64(16)) & uint64(0xFFFF))]
        g[j + 3] = table[np.int64(r & uint64(0xFFFF))]
        j += 4
    if j < m:
        st, r = next_u64(st)
        for k in range(m - j):
            g[j + k] = table[np.int64((r >> uint64(16 * (3 - k))) & uint64(0xFFFF))]
    if _has_tail(g, table[0], table[65535]):
        _fix_tails(g, s0, table)


@njit(cache=True)
def _has_tail(g, lo, hi):
    """Whether g holds a tail cell's placeholder (the table's two end entries, which no other
    input maps to); a vectorised scan."""
    t = False
    for j in range(g.shape[0]):
        t |= (g[j] == lo) | (g[j] == hi)
    return t


@njit(cache=True)
def _fix_tails(g, s0, table):
    """Redraw the entries of g that hold a tail cell's placeholder (see _fill_normals)."""
    lo, hi = table[0], table[65535]
    for j in range(g.shape[0]):
        v = g[j]
        if v == lo or v == hi:
            r = mix64(s0 ^ mix64(uint64(j) + _TAIL_SALT))
            cell = 0.0 if v == lo else 65535.0
            u = (cell + (np.float64(r >> uint64(11)) + 0.5) / 9007199254740992.0) / 65536.0
            g[j] = np.float32(_tail_inverse(u))



# a 16-bit part k (0-65535) of a draw is the uniform (k + 1/2) / 65536
_U16 = np.float32(1.0 / 65536.0)
_HALF = np.float32(0.5)


@njit(cache=True)
def _fill_uniforms16(u, key, stream):
    """u[:] = uniforms in (0, 1) with 16-bit resolution, four per 64-bit draw, most
    significant part first (written out four at a time: a loop over the parts with a bounds
    test did not vectorise, 2x slower on a 2000-wide row)."""
    st = stream_start(key, stream)
    m = u.shape[0]
    j = 0
    while j + 4 <= m:
        st, r = next_u64(st)
        u[j] = (np.float32(r >> uint64(48)) + _HALF) * _U16
        u[j + 1] = (np.float32((r >> uint64(32)) & uint64(0xFFFF)) + _HALF) * _U16
        u[j + 2] = (np.float32((r >> uint64(16)) & uint64(0xFFFF)) + _HALF) * _U16
        u[j + 3] = (np.float32(r & uint64(0xFFFF)) + _HALF) * _U16
        j += 4
    if j < m:
        st, r = next_u64(st)
        for k in range(m - j):
            u[j + k] = (np.float32((r >> uint64(16 * (3 - k))) & uint64(0xFFFF)) + _HALF) * _U16


# the fused narrow read calls this once per (row, tile) for a handful of outputs: as a call it
# costs more than its work (~30 ns), so it takes an inlined twin
_fill_normals_inline = njit(inline="always")(_fill_normals.py_func)
