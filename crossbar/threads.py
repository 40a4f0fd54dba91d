"""The kernels' threads: rows in fixed chunks, contiguous runs of chunks, one run per thread.

A threaded kernel is a Numba function compiled once, without the GIL (``nogil=True``), that
works on the chunks ``c0 … c1 - 1`` of its rows (chunk ``ch`` = rows ``ch·16 … ch·16 + 15``,
`crossbar.kernel_config._ROWS_PER_CHUNK`). `run_chunks` splits a call's chunks into up to
``threads`` contiguous runs and runs them at once: the calling thread takes the first, the
threads of `_pool` the others. Chunks are fixed and every row keeps its own random streams, so
results depend neither on the number of threads nor on where a run ends.

Threads rather than ``prange``: a parallel Numba kernel compiles its loop a second time for
Numba's thread pool (about 2 s of CPU per kernel on a machine's first run, and again for the
serial twin small calls need) and gains nothing over one long call per thread here. With the
runs handed out in Python, the pool kernel and its serial twin are one compiled function.
`run_spans` is the same split over any range, for NumPy work that releases the GIL (the
transposed writes of `crossbar.transpose`, Adam's chunked step in `analogff`).
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numba

from .kernel_config import _ROWS_PER_CHUNK


def chunks(rows: int) -> int:
    """Number of chunks of ``rows`` rows (the last one may be short)."""
    return (rows + _ROWS_PER_CHUNK - 1) // _ROWS_PER_CHUNK


def run_chunks(kernel, rows: int, threads: int | None, *args) -> list:
    """``kernel(c0, c1, *args)`` over every chunk of ``rows`` rows, in contiguous runs of
    chunks (`run_spans` over the chunks). ``kernel`` must be compiled with ``nogil=True``
    (else the runs take turns)."""
    return run_spans(kernel, chunks(rows), threads, *args)


def run_chunks_in_turn(steps, rows: int, threads: int | None) -> None:
    """Each ``(kernel, args)`` of ``steps`` over every chunk of ``rows`` rows: on each run of
    chunks (`run_spans`), ``kernel(c0, c1, *args)`` for every step in order, so one hand-off
    and one wait for all of them, and a step finds the rows the step before it wrote in cache.
    Only for steps whose row i depends on nothing but row i of the steps before it."""
    def run(c0: int, c1: int) -> None:
        for kernel, args in steps:
            kernel(c0, c1, *args)

    run_spans(run, chunks(rows), threads)


def run_spans(work, n: int, threads: int | None, *args) -> list:
    """``work(a, b, *args)`` over [0, n) in contiguous spans, at most ``threads`` at once
    (None: Numba's number of threads, ``numba.get_num_threads()``, which never exceeds
    NUMBA_NUM_THREADS; 1: on the calling thread only): the calling thread takes the first
    span, the threads of `_pool` the others. Returns what each span returned, in order.
    ``work`` must release the GIL for most of its time (a ``nogil`` kernel, NumPy passes)."""
    if threads == 1 or n <= 1:   # the serial twins' path: nothing to hand out
        return [work(0, n, *args)]
    if threads is None:
        threads = numba.get_num_threads()
    runs = max(min(threads, n), 1)
    edges = [n * k // runs for k in range(runs + 1)]
    others = [_pool().submit(work, edges[k], edges[k + 1], *args) for k in range(1, runs)]
    return [work(edges[0], edges[1], *args)] + [f.result() for f in others]


def serial_twin(kernel):
    """``kernel`` (a function taking ``threads=``) on the calling thread only, for small calls:
    handing work to another thread costs more than it saves (~50 µs). Same compiled code,
    so the same numbers."""
    twin = functools.partial(kernel, threads=1)
    twin.__name__ = kernel.__name__ + "_serial"
    twin.__doc__ = f"{kernel.__name__} on the calling thread only (for small calls)."
    return twin


_POOL: dict = {}


def _pool() -> ThreadPoolExecutor:
    """The threads that take the runs after the first: one fewer than NUMBA_NUM_THREADS (the
    most `run_chunks` asks for), so no run ever waits for a thread; idle threads wait on a
    lock, they do not spin. One pool per process: a forked child (a sweep worker) inherits
    the parent's pool object but not its threads, so work handed to it would never run."""
    pid = os.getpid()
    if pid not in _POOL:
        _POOL.clear()
        _POOL[pid] = ThreadPoolExecutor(max_workers=max(numba.config.NUMBA_NUM_THREADS - 1, 1),
                                        thread_name_prefix="crossbar-kernel")
    return _POOL[pid]
