"""crossbar.threads: a kernel's chunks are split into contiguous runs that cover every chunk
once, in row order, whatever the number of threads."""

import threading

import pytest

from crossbar import threads
from crossbar.kernel_config import _ROWS_PER_CHUNK


def test_chunks_round_up():
    assert [threads.chunks(r) for r in (0, 1, _ROWS_PER_CHUNK, _ROWS_PER_CHUNK + 1)] == \
        [0, 1, 1, 2]


@pytest.mark.parametrize("n_threads", [None, 1, 2, 3, 64])
@pytest.mark.parametrize("rows", [0, 5, 16, 100, 1000])
def test_runs_cover_every_chunk_once_in_order(rows, n_threads):
    lock = threading.Lock()
    seen = []

    def kernel(c0, c1, tag):
        with lock:
            seen.append((c0, c1))
        return (tag, c0, c1)

    runs = threads.run_chunks(kernel, rows, n_threads, "t")
    nchunk = threads.chunks(rows)
    # results in row order, contiguous, covering 0 … nchunk exactly once
    assert [r[0] for r in runs] == ["t"] * len(runs)
    edges = [r[1] for r in runs] + [runs[-1][2]]
    assert edges[0] == 0 and edges[-1] == nchunk
    assert all(a < b for a, b in zip(edges, edges[1:])) if nchunk else edges == [0, 0]
    assert sorted(seen) == sorted((r[1], r[2]) for r in runs)
    if n_threads == 1:
        assert len(runs) == 1


def test_serial_twin_runs_on_the_calling_thread():
    calls = []

    def kernel(x, threads=None):
        calls.append((threading.get_ident(), threads))
        return x

    twin = threads.serial_twin(kernel)
    assert twin.__name__ == "kernel_serial"
    assert twin(7) == 7
    assert calls == [(threading.get_ident(), 1)]
