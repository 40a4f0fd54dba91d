"""The paper-scale batch's elementwise steps on several threads change no number: Adam's
passes split between threads, its compiled one-pass form, and transposed writes in runs of
rows, each compared with its one-thread NumPy form element for element."""

from __future__ import annotations

import numpy as np
import pytest

from analogff.algorithms import updates
from analogff.algorithms.updates import Adam
from crossbar.transpose import add_transposed, scaled_transpose


# gradient values at the edges of Adam's arithmetic: NaN and ±inf (clipped, or kept as NaN),
# signed zeros, the clip bound and its float32 neighbours, overflow and subnormals
EDGES = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.99999994, 1.0000001,
                  -1.0000001, 3.4e38, -3.4e38, 1e-30, -1e-30, 1e-45, -1e-45], dtype=np.float32)


def _adam_steps(monkeypatch, threads: int, shape=(300, 700), steps=3, compiled=True,
                edges=False):
    # compiled: the one-pass kernel (fused.adam_span); else NumPy's passes (as for float64)
    monkeypatch.setattr(updates, "ADAM_THREADED_FROM", 1)
    monkeypatch.setattr(updates, "ADAM_COMPILED_FROM", 1 if compiled else 1 << 62)
    monkeypatch.setattr(updates, "ADAM_CHUNK_THREADED", 1 << 12)   # many chunks per run
    monkeypatch.setattr(updates, "_threads", lambda: threads)
    rng = np.random.default_rng(11)
    opt = Adam(1.0, clip=1.0)
    outs = []
    for k in range(steps):
        g = rng.standard_normal(shape, dtype=np.float32) * 3
        if edges:
            g.reshape(-1)[k * 7:k * 7 + EDGES.size] = EDGES
        outs.append(opt.step(0, g, None, lr=1e-3 * (k + 1)))
    return outs, opt.m[0], opt.v[0]


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint32)   # equal bits: NaN = NaN, and 0.0 != -0.0


@pytest.mark.parametrize("threads", [1, 2])
def test_compiled_adam_pass_equals_numpy_passes_bit_for_bit(monkeypatch, threads):
    numpy_ = _adam_steps(monkeypatch, 1, compiled=False, edges=True)
    compiled = _adam_steps(monkeypatch, threads, compiled=True, edges=True)
    for a, b in zip(numpy_[0], compiled[0]):
        assert np.array_equal(_bits(a), _bits(b))
    for a, b in zip(numpy_[1:], compiled[1:]):   # the moments, NaN where g was NaN
        assert np.array_equal(_bits(a), _bits(b))
    assert np.isnan(numpy_[0][0].reshape(-1)[0]) and np.isfinite(numpy_[0][0].reshape(-1)[1])


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


@pytest.mark.parametrize("stored", [False, True])
@pytest.mark.parametrize("shape", [(700, 300), (300, 700), (5, 40000)])
def test_transposed_writes_in_runs_equal_the_whole_array_expressions(shape, stored):
    """A change (out, in) written into (in, out): in blocks of rows, or, when the change is
    the transpose view of an (in, out) array (``stored``, Adam's step), walked in order."""
    rng = np.random.default_rng(5)
    src = rng.standard_normal(shape, dtype=np.float32)
    if stored:
        src = np.ascontiguousarray(src.T).T
        assert not src.flags.c_contiguous and src.T.flags.c_contiguous
    dst = rng.standard_normal(shape[::-1], dtype=np.float32)
    k = np.float32(12.5)
    want_add, want_scaled = dst + src.T, src.T * k
    for threads in (1, 2, 3):
        d = dst.copy()
        add_transposed(d, src, threads=threads)
        assert np.array_equal(d, want_add)
        s = scaled_transpose(src, k, threads=threads)
        assert s.flags.c_contiguous and np.array_equal(s, want_scaled)

