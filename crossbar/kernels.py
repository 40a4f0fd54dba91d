"""The Numba kernels of the analog matrix, by concern, and their serial twins.

Matrix products stay with BLAS (numpy ``@``); the kernels do the per-element and per-device
work, each touching its arrays once. All randomness is counter-based (``crossbar.rng``), keyed
per call and streamed per row, so results do not depend on the number of threads.

| module | holds |
|---|---|
| ``crossbar.converters`` | the input DAC (``dac_quantize``) and the output ADC (``adc_tiles``) |
| ``crossbar.reads`` | the fused narrow read (``read_narrow``), effective weights (``effective``) |
| ``crossbar.pulses`` | pulse trains (``apply_update``), drift (``drift``), the parameter layout |
| ``crossbar.normals`` | rows of normal / uniform deviates, the frozen inverse-CDF tables |
| ``crossbar.kernel_config`` | settings shared by the kernels (fastmath flags, rows per chunk) |

This module re-exports the kernels (``kernels.apply_update`` …) and builds ``SERIAL``.
"""

from __future__ import annotations

import types

from numba import njit

from . import _jitcache  # noqa: F401  (cache stamped with every kernel module: see there)
from .converters import adc_tiles, dac_quantize  # noqa: F401
from .pulses import *  # noqa: F401,F403  (parameter layout: P_*, D_*, L_*, modes)
from .pulses import apply_update, apply_update_serial, drift
from .reads import effective, read_narrow  # noqa: F401
from .normals import _fill_normals, tablefull_ref  # noqa: F401  (re-exported for tests)


# ---- serial twins -------------------------------------------------------------------------
# Small calls run these copies compiled without the thread pool: switching the pool to one
# thread (numba.set_num_threads) and back costs ~7 µs per call, and waking it ~50 µs, both more
# than a small kernel's work. Same code (prange runs as range), so the same numbers. Each twin
# gets its own qualified name so that Numba's on-disk cache keeps the two compilations apart.
def _serial(kernel):
    f = kernel.py_func
    g = types.FunctionType(f.__code__, f.__globals__, f.__name__ + "_serial", f.__defaults__,
                           f.__closure__)
    g.__qualname__ = f.__qualname__ + "_serial"
    g.__doc__ = f"{f.__name__} without the thread pool (for small calls)."
    opts = {k: v for k, v in kernel.targetoptions.items() if k not in ("parallel", "nopython")}
    return njit(cache=True, **opts)(g)


SERIAL = {k.__name__: _serial(k) for k in (dac_quantize, adc_tiles, read_narrow, effective, drift)}
# apply_update hands runs of rows to threads itself (crossbar.pulses): its twin keeps them all
SERIAL["apply_update"] = apply_update_serial
