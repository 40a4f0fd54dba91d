"""Thread hand-off between OpenBLAS and Numba's OpenMP pool on small machines.

Both pools spin-wait after their work by default (OpenBLAS for ~2^28 cycles, libgomp for
300 000 spins), so when a BLAS product is followed by a Numba kernel (every analog read) each
pool found the cores busy with the other's spinning threads; on 2 cores a small read stalled
for 8-40 ms. Never spinning (OMP_WAIT_POLICY=PASSIVE) cured that but made every parallel
kernel pay a sleeping thread's wake-up (~0.1-0.2 ms, measured): a 500→10 read then took 3× the
float product. So OpenBLAS sleeps almost at once and libgomp spins briefly (3000 spins, tens
of µs): long enough to bridge consecutive Numba kernels of one read or training step, short
enough that it never holds a core through a BLAS product (a 2000×2000 read measured the same
as with PASSIVE). Only defaults: a value already in the environment wins, and OMP_WAIT_POLICY,
if set, overrides GOMP_SPINCOUNT. Must run before numpy is imported (OpenBLAS reads its
variable when it loads) and before Numba's first parallel kernel.
"""

import os
import sys

_WAS_SET = "OPENBLAS_THREAD_TIMEOUT" in os.environ
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")  # OpenBLAS: spin 2^4 cycles, then sleep
os.environ.setdefault("GOMP_SPINCOUNT", "3000")         # libgomp (Numba's omp layer): brief spin
if not _WAS_SET and "numpy" in sys.modules:
    # numpy loaded first (a notebook's `import numpy as np`, a Dask worker): too late for the
    # OpenBLAS default, so say so (`crossbar.blas_spin`; imported only then: `import analogff`
    # stays free of numpy)
    from crossbar.blas_spin import warn_if_spinning

    warn_if_spinning("analogff", stacklevel=4)
