"""The crossbar kernels give bit-identical reads whether they were compiled in the process or
loaded from Numba's on-disk cache, at one thread or two.

With fast-math flags ("reassoc", "contract") a kernel compiled in one process and the same
kernel loaded from the cache in another summed in different orders; a 16-bit ADC (level
boundaries 256x denser than 8 bits) turns such last-bit differences into different codes
within a few hundred reads, so this probe failed in ~15 s where a whole training run needed
about 100 batches to part (crossbar/kernel_config.py).
"""

from __future__ import annotations

import os
import subprocess
import sys

_PROBE = """
import hashlib
import numpy as np
from crossbar import Periphery
from crossbar.analog import AnalogMatrix
rng = np.random.default_rng(1)
h = hashlib.sha256()
# narrow (read_narrow) and wide (DAC + BLAS + ADC tiles) reads, forward and transposed
for out, inp, batch in ((200, 200, 50), (10, 200, 50), (200, 64, 400), (500, 784, 300)):
    m = AnalogMatrix(out, inp, "ecram", Periphery(adc_bits=16, read_noise=0.05), seed=3)
    m.program(rng.uniform(-0.5, 0.5, (out, inp)).astype(np.float32))
    for _ in range(60):
        h.update(m.forward(rng.standard_normal((batch, inp)).astype(np.float32)).tobytes())
        h.update(m.transposed(rng.standard_normal((batch, out)).astype(np.float32)).tobytes())
print(h.hexdigest())
"""


def _digest(cache: str, threads: int) -> str:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, NUMBA_NUM_THREADS=str(threads))
    env.pop("NUMBA_DISABLE_JIT", None)
    p = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout.strip()


def test_reads_equal_from_fresh_compile_and_from_cache(tmp_path):
    cache = str(tmp_path / "numba-cache")
    cold = _digest(cache, threads=2)             # compiles the read kernels, fills the cache
    assert os.listdir(cache)
    assert _digest(cache, threads=2) == cold     # loads them
    assert _digest(cache, threads=1) == cold     # loads them, one thread
