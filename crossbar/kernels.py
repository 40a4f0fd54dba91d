"""The Numba kernels of the analog matrix, by concern, and their serial twins.

Matrix products stay with BLAS (numpy ``@``); the kernels do the per-element and per-device
work, each touching its arrays once. All randomness is counter-based (``crossbar.rng``), keyed
per call and streamed per row, so results do not depend on the number of threads.

| module | holds |
|---|---|
| ``crossbar.converters`` | the input DAC (``dac_quantize``) and the output ADC (``adc_tiles``) |
| ``crossbar.reads`` | the fused narrow read (``read_narrow``), effective weights (``effective``) |
| ``crossbar.diagonal_reads`` | large stacks of square blocks read along their diagonals (``read_stack``) |
| ``crossbar.pulses`` | the physics of a pulse train and of a row's passes, the parameter layout |
| ``crossbar.pulse_updates`` | the pulse update row by row (``apply_update``, ``Devices``) |
| ``crossbar.own_law`` | the update's fast path for rows of own-law devices with many pulses |
| ``crossbar.drift`` | power-law drift of the stored states (``drift``) |
| ``crossbar.normals`` | rows of normal / uniform deviates, the frozen inverse-CDF tables |
| ``crossbar.kernel_config`` | settings shared by the kernels (fastmath flags, rows per chunk) |
| ``crossbar.threads`` | how a kernel's rows run on threads (fixed chunks, one run per thread) |

This module re-exports the kernels (``kernels.apply_update`` …) and builds ``SERIAL``.
"""

from __future__ import annotations

from . import _jitcache  # noqa: F401  (cache stamped with every kernel module: see there)
from .converters import adc_tiles, dac_quantize  # noqa: F401
from .pulses import *  # noqa: F401,F403  (parameter layout: P_*, UP_*, DN_*, L_*, modes)
from .pulse_updates import Devices, RowTotals, Wear, apply_update  # noqa: F401
from .drift import drift
from .reads import _effective_rows as effective_rows  # noqa: F401  (one run of chunks)
from .reads import effective, read_narrow  # noqa: F401
from .diagonal_reads import STACK_INPUTS_FROM, diagonals, is_stack, read_stack  # noqa: F401
from .normals import _fill_normals, tablefull_ref  # noqa: F401  (re-exported for tests)
from .threads import serial_twin

# Small calls run the serial twins: each kernel on the calling thread only (handing a run to
# another thread costs more than a small kernel's work). The same compiled code, so the same
# numbers; looked up by the kernel's name (`crossbar.analog.kernel_for`).
SERIAL = {k.__name__: serial_twin(k)
          for k in (dac_quantize, adc_tiles, read_narrow, read_stack, effective, drift,
                    apply_update)}
