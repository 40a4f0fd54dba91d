"""Settings shared by the Numba kernels (each with its reason)."""

from __future__ import annotations

# No fast-math flags in the Numba kernels: with "reassoc"/"contract" LLVM may reorder a sum or
# fuse a multiply-add differently in a kernel compiled in this process and in the same kernel
# loaded from the on-disk cache. The results then differ in the last bit, an ADC code flips
# where a column current sits on a level boundary, and the runs part: the default
# `analogff simulate --noise 0.05` diverged at batch 97 (of 348) between a cold and a warm
# cache. Strict IEEE order costs ~5-10 % on the narrow reads (benchmarks/bench_crossbar.py)
# and makes a run a pure function of its config and seed (tests/analogff/test_reproducibility.py).
_FASTMATH = False
# batch rows per parallel work item in the read kernels (fixed, so thread count cannot matter;
# a multiple of 4 for kernels.read_narrow's register blocking)
_ROWS_PER_CHUNK = 16
# elements from which NumPy work (BLAS, ufunc passes) is split between the kernel threads
# (`crossbar.threads.run_spans`); below it a call stays on the calling thread: handing a run
# to another thread costs ~50 µs, about what 64 Ki elements take
THREADED_FROM = 1 << 16
