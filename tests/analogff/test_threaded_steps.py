"""The paper-scale batch's elementwise steps on several threads change no number: Adam's
passes split between threads and transposed writes in runs of rows, each compared with its
one-thread form element for element."""

from __future__ import annotations

import numpy as np
import pytest

from analogff.algorithms import updates
from analogff.algorithms.updates import Adam
from crossbar.transpose import add_transposed, scaled_transpose


def _adam_steps(monkeypatch, threads: int, shape=(300, 700), steps=3):
    monkeypatch.setattr(updates, "ADAM_THREADED_FROM", 1)
    monkeypatch.setattr(updates, "ADAM_CHUNK_THREADED", 1 << 12)   # many chunks per run
    monkeypatch.setattr(updates, "_threads", lambda: threads)
    rng = np.random.default_rng(11)
    opt = Adam(1.0, clip=1.0)
    outs = [opt.step(0, rng.standard_normal(shape, dtype=np.float32) * 3, None, lr=1e-3)
            for _ in range(steps)]
    return outs, opt.m[0], opt.v[0]


def test_adam_split_between_threads_equals_one_thread(monkeypatch):
    one = _adam_steps(monkeypatch, 1)
    for threads in (2, 3):
        many = _adam_steps(monkeypatch, threads)
        for a, b in zip(one[0], many[0]):
            assert np.array_equal(a, b)
        assert np.array_equal(one[1], many[1]) and np.array_equal(one[2], many[2])
    # and the step is Adam's: the first step of a gradient g is −lr·m̂/(√v̂ + eps) =
    # −lr·g/(|g| + eps): lr in size wherever |g| is far above eps
    assert np.isclose(np.median(np.abs(one[0][0])), 1e-3, rtol=1e-4)


@pytest.mark.parametrize("shape", [(700, 300), (300, 700), (5, 40000)])
def test_transposed_writes_in_runs_equal_the_whole_array_expressions(shape):
    rng = np.random.default_rng(5)
    src = rng.standard_normal(shape, dtype=np.float32)
    dst = rng.standard_normal(shape[::-1], dtype=np.float32)
    k = np.float32(12.5)
    want_add, want_scaled = dst + src.T, src.T * k
    for threads in (1, 2, 3):
        d = dst.copy()
        add_transposed(d, src, threads=threads)
        assert np.array_equal(d, want_add)
        s = scaled_transpose(src, k, threads=threads)
        assert s.flags.c_contiguous and np.array_equal(s, want_scaled)

