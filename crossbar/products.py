"""Float32 matrix products whose bits do not depend on the number of threads.

OpenBLAS splits a large product over its threads, and a product split so sums some of its
terms in another order: at the paper's scale (784-2000-2000, batch 1000) the same run gave
other numbers on one BLAS thread than on two (`docs/performance-log.md`, 2026-12-04). Here
every product runs on one BLAS thread, and a large one is cut into two halves of rows, a
choice made from its shape alone, which the kernels' threads (`crossbar.threads`) compute at
once, or one after the other on one thread: the same bits at any thread count.

On one BLAS thread each row of a product is summed alike wherever the rows are cut, so the
halves give the bits of the whole product, except where a part is small enough for OpenBLAS's
small-matrix kernels or is one row (a matrix-vector product): those sum in another order, so
a part is never that small (`PART_MIN_WORK`, `PART_MIN_ROWS`). Two halves, not one part per
thread: each part repacks the right operand; on two threads, blocks of 128 rows took 1.06-1.23x
the time of numpy's product on two BLAS threads and halves 0.99-1.11x (`docs/performance-log.md`,
2026-12-04). On more cores a product so uses two of them.

`one_blas_thread` holds BLAS at one thread for a block of code (a run: `analogff.experiment`),
so that the products not made here (scikit-learn's Gaussian mixture, small digital layers)
keep their one-thread bits too.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import numpy as np

from .threads import run_spans

# Each half at least this many multiply-adds (M·K·N): far above OpenBLAS's small-matrix
# kernels (SkylakeX float32: M·K·N <= 100³), whose sums differ from its large kernels'
PART_MIN_WORK = 1 << 22
# and at least this many rows: never a one-row (matrix-vector) part
PART_MIN_ROWS = 16


def row_cut(rows: int, work_per_row: int, align: int = 1) -> int | None:
    """Where a product of ``rows`` rows (``work_per_row`` multiply-adds each) is cut in two:
    after half of its ``align``-row chunks (rounded down; ``align`` = the kernels' row chunk
    for a read that converts each half where it was computed), if both halves are large enough
    (`PART_MIN_WORK`, `PART_MIN_ROWS`); else None (one part). From the shape only, never from
    the thread count."""
    cut = (rows + align - 1) // align // 2 * align
    small = min(cut, rows - cut)
    if small >= PART_MIN_ROWS and small * work_per_row >= PART_MIN_WORK:
        return cut
    return None


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` for 2-D ``a`` (M, K) and ``b`` (K, N) (views, transposed ones too), into
    ``out`` (M, N) if given; on one BLAS thread, in two halves of rows on the kernels' threads
    when large (`row_cut`). The bits of ``np.matmul`` on one BLAS thread."""
    M, K = a.shape
    N = b.shape[1]
    cut = row_cut(M, K * N)
    if cut is None and _HELD[0]:
        # one part, BLAS already held at one thread (inside a run): nothing to hand out or
        # set (the context and the hand-off cost ~3.5 µs, ~10 % of a small read's product)
        return np.matmul(a, b, out=out)
    if out is None:
        out = np.empty((M, N), dtype=np.result_type(a, b))
    edges = [0, M] if cut is None else [0, cut, M]

    def part(p0: int, p1: int) -> None:
        for p in range(p0, p1):
            r0, r1 = edges[p], edges[p + 1]
            np.matmul(a[r0:r1], b, out=out[r0:r1])

    with one_blas_thread():
        run_spans(part, len(edges) - 1, None)
    return out


_LOCK = threading.Lock()
_HELD = [0]            # how many blocks hold BLAS at one thread (nested, or on other threads)
_SAVED: list = []      # each BLAS library's controller and its thread count before the first
_CTL: list = []        # [the loaded BLAS libraries' threadpoolctl controllers], found once


def _controllers() -> list:
    """threadpoolctl's controllers of the loaded BLAS libraries (found once: ~3 ms)."""
    if not _CTL:
        from threadpoolctl import ThreadpoolController

        _CTL.append([c for c in ThreadpoolController().lib_controllers
                     if c.user_api == "blas"])
    return _CTL[0]


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread inside the block (any depth, any thread: the first to enter sets it,
    the last to leave restores each library's count; ~1 µs)."""
    with _LOCK:
        if _HELD[0] == 0:
            _SAVED[:] = [(c, c.get_num_threads()) for c in _controllers()]
            for c, n in _SAVED:
                if n != 1:
                    c.set_num_threads(1)
        _HELD[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _HELD[0] -= 1
            if _HELD[0] == 0:
                for c, n in _SAVED:
                    if n != 1:
                        c.set_num_threads(n)
