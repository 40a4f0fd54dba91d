"""Elementwise writes through a transpose, in blocks of source rows.

A matrix change arrives as ``(out, in)`` (the algorithms' layout) while the arrays are stored
``(in, out)`` (array rows are the input lines). ``dst += src.T`` on whole 2000 × 2000 float32
arrays walks one of the two with a stride of a full row and misses cache at every element;
taking ``TRANSPOSE_BLOCK`` source rows at a time keeps both sides' lines in cache. Each element
gets exactly the operation the whole-array expression gives it, so results are identical.
A change that is itself the transpose view of an ``(in, out)`` array (Adam's step, formed in
the stored layout) needs no blocks: it is walked in memory order, a plain add or scale.
Large transposes also split their source rows into contiguous runs, one per kernel thread
(NumPy releases the GIL inside a ufunc): each element is still written once, by one
operation, so the result does not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np

from .kernel_config import THREADED_FROM

# source rows per block: 256 rows × 2000 columns of float32 is 2 MB, the destination's
# matching 256-column strip is read and written in 1 KB runs per row (the fastest of
# 32-512 measured on a 2000 × 2000 add: 2.9× the whole-array expression)
TRANSPOSE_BLOCK = 256


def _add_rows(a: int, b: int, src: np.ndarray, dst: np.ndarray) -> None:
    """``dst[:, a:b] += src[a:b].T``, block by block."""
    for j in range(a, b, TRANSPOSE_BLOCK):
        e = min(j + TRANSPOSE_BLOCK, b)
        dst[:, j:e] += src[j:e].T


def _scaled_rows(a: int, b: int, src: np.ndarray, k: np.floating, out: np.ndarray) -> None:
    """``out[:, a:b] = src[a:b].T * k``, block by block."""
    for j in range(a, b, TRANSPOSE_BLOCK):
        e = min(j + TRANSPOSE_BLOCK, b)
        np.multiply(src[j:e].T, k, out=out[:, j:e])


def _add_plain(a: int, b: int, srcT: np.ndarray, dst: np.ndarray) -> None:
    """``dst[a:b] += srcT[a:b]`` (srcT = src.T, C-contiguous: no transpose to walk)."""
    dst[a:b] += srcT[a:b]


def _scaled_plain(a: int, b: int, srcT: np.ndarray, k: np.floating, out: np.ndarray) -> None:
    """``out[a:b] = srcT[a:b] * k`` (srcT = src.T, C-contiguous)."""
    np.multiply(srcT[a:b], k, out=out[a:b])


def _stored_transposed(src: np.ndarray) -> bool:
    """Whether ``src`` is the transpose view of a C-contiguous array (a change formed in the
    stored layout, e.g. Adam's step): then ``src.T`` is walked in memory order."""
    return src.ndim == 2 and not src.flags.c_contiguous and src.T.flags.c_contiguous


def _in_runs(work, src: np.ndarray, threads: int | None, *args) -> None:
    """``work(a, b, src, *args)`` over the rows of ``src`` in contiguous runs, one per thread
    (`crossbar.threads.run_spans`; small sources on the calling thread only)."""
    from .threads import run_spans   # on first use: ``import crossbar`` stays Numba-free
    run_spans(work, src.shape[0], threads if src.size >= THREADED_FROM else 1, src, *args)


def add_transposed(dst: np.ndarray, src: np.ndarray, threads: int | None = None) -> None:
    """``dst += src.T`` (dst (n, m), src (m, n))."""
    if _stored_transposed(src):
        _in_runs(_add_plain, src.T, threads, dst)
    else:
        _in_runs(_add_rows, src, threads, dst)


def scaled_transpose(src: np.ndarray, k: np.floating, threads: int | None = None) -> np.ndarray:
    """``src.T * k`` as a C-contiguous array."""
    out = np.empty(src.shape[::-1], dtype=np.result_type(src, k))
    if _stored_transposed(src):
        _in_runs(_scaled_plain, src.T, threads, k, out)
    else:
        _in_runs(_scaled_rows, src, threads, k, out)
    return out
