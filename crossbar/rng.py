"""Counter-based random numbers for Numba kernels: reproducible whatever the thread count.

Every random number is a pure function of ``(key, stream, position)``: a kernel working on
batch row ``b`` starts the SplitMix64 sequence at ``stream = b`` and walks it along the row, so
which thread handles a row cannot change what it draws. Keys come from a
``numpy.random.Generator`` owned by the matrix (one fresh 64-bit key per call), never from
per-thread state.

Normal deviates use an inverse-CDF table with 2**16 equal-probability cells: the top 16 bits of
a 32-bit draw pick the cell, the low 16 bits interpolate linearly inside it, and the two
outermost cells (probability 2**-15 together) use an exact rational inverse-CDF (Acklam's
approximation, relative error < 1.2e-9). The variance of the result differs from 1 by
< 1e-5 (see tests/crossbar/test_rng.py); it costs about one hash and one table lookup per
draw, several times cheaper than ``Generator.standard_normal``. Two 16-bit variants (four
deviates per 64-bit draw) serve the hot kernels: read noise uses one table entry per 16-bit
input (``NORMAL_TABLE_16``, exact tails redrawn; ``crossbar.normals._fill_normals``), the
pulse kernel's c2c draws a 4096-cell table with 16 points per cell (``normal_from_bits16``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

from . import _jitcache  # noqa: F401  (cache stamped with every kernel module: see there)

_CELLS_BITS = 16
_CELLS = 1 << _CELLS_BITS


def _build_table(cells: int = _CELLS) -> np.ndarray:
    from scipy.special import ndtri

    k = np.arange(cells + 1, dtype=np.float64)
    t = ndtri(k / cells)
    t[0], t[-1] = t[1], t[-2]  # never used for interpolation (tail cells are exact)
    return t.astype(np.float32)


NORMAL_TABLE = _build_table()
# the pulse kernel's c2c table: 4096 cells (16 KB, stays in L1), 16 interpolation points per
# cell, so one 64-bit draw gives four deviates (read noise uses NORMAL_TABLE_16 below)
SMALL_CELLS = 4096
NORMAL_TABLE_SMALL = _build_table(SMALL_CELLS)


def _build_full_table() -> np.ndarray:
    from scipy.special import ndtri

    k = np.arange(_CELLS, dtype=np.float64)
    return ndtri((k + 0.5) / _CELLS).astype(np.float32)  # entries 0 and 65535: tails, exact


# the read-noise table (crossbar.normals._fill_normals): one entry per 16-bit input, the normal
# quantile at the centre of each of 65536 equal-probability cells (256 KB: lives in L2); the
# two end cells are placeholders the kernel replaces by exact tail draws. One load per deviate
# instead of two loads and an interpolation: the noise of a read costs less than half as much.
# (The 4096-cell table above stays with the pulse kernel's c2c draws, which are not hot.)
NORMAL_TABLE_16 = _build_full_table()

# SplitMix64 (Steele, Lea & Flood 2014; constants as in Vigna's reference code): the increment
# is 2**64 / golden ratio (odd, so the sequence visits every 64-bit state), the two multipliers
# are the finaliser's (Stafford's "Mix13"), chosen for full avalanche
_GOLDEN = uint64(0x9E3779B97F4A7C15)
_M1 = uint64(0xBF58476D1CE4E5B9)
_M2 = uint64(0x94D049BB133111EB)
# added to a stream's index before hashing it with the key: without it stream 0 would hash as
# mix64(key ^ mix64(0)) = mix64(key), i.e. start where the key's own hash does (any odd
# constant unrelated to the three above separates them)
_STREAM_SALT = uint64(0x632BE59BD9B4E019)


@njit(inline="always", cache=True)
def mix64(z):
    """SplitMix64 finaliser: a bijective 64-bit hash."""
    z = (z ^ (z >> uint64(30))) * _M1
    z = (z ^ (z >> uint64(27))) * _M2
    return z ^ (z >> uint64(31))


@njit(inline="always", cache=True)
def stream_start(key, stream):
    """State for stream ``stream`` (e.g. a batch row) under ``key``."""
    return mix64(uint64(key) ^ mix64(uint64(stream) * _GOLDEN + _STREAM_SALT))


@njit(inline="always", cache=True)
def next_u64(state):
    """Advance a SplitMix64 state; returns (new_state, 64 random bits)."""
    state = state + _GOLDEN
    return state, mix64(state)


@njit(cache=True)
def _tail_inverse(u):
    """Acklam's rational approximation of the normal inverse CDF (tails, u < 0.02425)."""
    c0, c1, c2 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00
    c3, c4, c5 = -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00
    d0, d1, d2, d3 = 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00
    if u < 0.5:
        q = math.sqrt(-2.0 * math.log(u))
        return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / \
            ((((d0 * q + d1) * q + d2) * q + d3) * q + 1.0)
    q = math.sqrt(-2.0 * math.log(1.0 - u))
    return -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / \
        ((((d0 * q + d1) * q + d2) * q + d3) * q + 1.0)


@njit(inline="always", cache=True)
def normal_from_bits(bits32, table):
    """A standard normal deviate from 32 random bits (see module docstring)."""
    cell = bits32 >> uint64(16)
    frac = np.float32(bits32 & uint64(0xFFFF)) * np.float32(1.0 / 65536.0)
    if cell == uint64(0) or cell == uint64(_CELLS - 1):
        u = (np.float64(bits32) + 0.5) / 4294967296.0
        return np.float32(_tail_inverse(u))
    c = np.int64(cell)
    lo = table[c]
    return lo + (table[c + 1] - lo) * frac


@njit(inline="always", cache=True)
def normal_from_bits16(bits16, table, st):
    """A standard normal deviate from 16 random bits with the 4096-cell table; returns
    (deviate, state). The top 12 bits pick the cell, the low 4 bits one of 16 points across it
    (cell midpoints of 16 sub-cells); the two outermost cells (probability 1/2048) draw 32 fresh
    bits from the stream and use the exact tail inverse."""
    cell = bits16 >> uint64(4)
    if cell == uint64(0) or cell == uint64(SMALL_CELLS - 1):
        st, r = next_u64(st)
        u = (np.float64(cell) + (np.float64(r >> uint64(32)) + 0.5) / 4294967296.0) / SMALL_CELLS
        return np.float32(_tail_inverse(u)), st
    frac = (np.float32(bits16 & uint64(15)) + np.float32(0.5)) * np.float32(1.0 / 16.0)
    c = np.int64(cell)
    lo = table[c]
    return lo + (table[c + 1] - lo) * frac, st


@njit(inline="always", cache=True)
def next_normal16(st, r, left, table):
    """The next deviate of a 16-bit stream: four per 64-bit draw ``r``, most significant part
    first (``left`` = how many of r's parts remain; a new draw when none do), each through
    `normal_from_bits16`. Returns (deviate, st, r, left). The one order in which the pulse
    kernels and `fill_normal16` consume a stream."""
    if left == 0:
        st, r = next_u64(st)
        left = 4
    left -= 1
    g, st = normal_from_bits16((r >> uint64(16 * left)) & uint64(0xFFFF), table, st)
    return g, st, r, left


@njit(cache=True)
def fill_normal16(out, key, table):
    """Fill a 2-D float32 array with N(0,1) from the 16-bit generator, stream = row."""
    for b in range(out.shape[0]):
        st = stream_start(key, b)
        r = uint64(0)
        left = 0
        for j in range(out.shape[1]):
            out[b, j], st, r, left = next_normal16(st, r, left, table)


@njit(inline="always", cache=True)
def uniform_from_bits(bits32):
    """A uniform deviate in (0, 1) from 32 random bits."""
    return (np.float32(bits32 >> uint64(8)) + np.float32(0.5)) * np.float32(1.0 / 16777216.0)


@njit(cache=True)
def fill_normal(out, key, table):
    """Fill a 2-D float32 array with N(0,1), stream = row (testing and small arrays)."""
    for b in range(out.shape[0]):
        st = stream_start(key, b)
        n = out.shape[1]
        j = 0
        while j < n:
            st, r = next_u64(st)
            out[b, j] = normal_from_bits(r >> uint64(32), table)
            if j + 1 < n:
                out[b, j + 1] = normal_from_bits(r & uint64(0xFFFFFFFF), table)
            j += 2


def new_key(rng: np.random.Generator) -> int:
    """A fresh 64-bit key from the matrix's own generator (as a Python int)."""
    return int(rng.integers(0, 2**63 - 1, dtype=np.int64))
