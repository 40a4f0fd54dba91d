"""The crossbar kernels give bit-identical reads whether they were compiled in the process or
loaded from Numba's on-disk cache, at one thread or two.

With fast-math flags ("reassoc", "contract") a kernel compiled in one process and the same
kernel loaded from the cache in another summed in different orders; a 16-bit ADC (level
boundaries 256x denser than 8 bits) turns such last-bit differences into different codes
within a few hundred reads, so this probe failed in ~15 s where a whole training run needed
about 100 batches to part (crossbar/kernel_config.py).

The reads run in the processes of tests/conftest.py's `cold_and_warm_processes` (a fresh
process on a new cache compiles, two more load), before each runs the simulate that
tests/analogff/test_reproducibility.py compares: one cold compile serves both tests.
"""

from __future__ import annotations


def test_reads_equal_from_fresh_compile_and_from_cache(cold_and_warm_processes):
    runs = cold_and_warm_processes
    assert runs["cache_after_cold"], "the cold process wrote no Numba cache"
    cold = runs["cold"]["reads"]
    assert len(cold) == 64                                   # a sha256 of the reads
    assert runs["warm, 2 threads"]["reads"] == cold          # loads them
    assert runs["warm, 1 thread"]["reads"] == cold           # loads them, one thread
