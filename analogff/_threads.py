"""Thread hand-off between OpenBLAS and Numba's OpenMP pool on small machines.

Both pools spin-wait after their work by default, so when a BLAS product is followed by a
Numba kernel (every analog read) each pool finds the cores busy with the other's spinning
threads; on 2 cores a small read stalled for 8-40 ms. With these settings neither spins.
Only defaults: a value already in the environment wins. Must run before numpy is imported
(OpenBLAS reads its variable when it loads) and before Numba's first parallel kernel.
"""

import os

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")  # OpenBLAS: spin 2^4 cycles, then sleep
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")     # libgomp (Numba's omp layer): sleep
