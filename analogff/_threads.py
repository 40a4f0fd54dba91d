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

A run no longer wakes OpenBLAS's threads at all: it holds BLAS at one thread and splits its
large products over the kernels' threads (`crossbar.products`), so a numpy imported before
this module costs it nothing (`benchmarks/bench_import_order.py`); the OpenBLAS default still
serves products made outside a run.
"""

import os

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")  # OpenBLAS: spin 2^4 cycles, then sleep
os.environ.setdefault("GOMP_SPINCOUNT", "3000")         # libgomp (Numba's omp layer): brief spin
