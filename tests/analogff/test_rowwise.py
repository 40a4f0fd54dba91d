"""PFF's compiled row passes (`analogff.algorithms.rowwise`) give bit for bit what the NumPy
expressions they stand in for give: each function against its expression on edge values and on
row lengths around NumPy's pairwise-sum blocks, and whole training batches with the compiled
passes forced on against the same batches without them (weights, losses, ledger, generator)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analogff.algorithms import fused, pff, rowwise
from analogff.config import from_dict
from analogff.data import Dataset
from analogff.experiment import build

EPS = np.float32(pff.EPS_LN)
# row lengths around the pairwise sum's cases: < 8 in order, one block of <= 128 (eight
# accumulators and a tail), longer rows split in halves at a multiple of 8
LENGTHS = [1, 7, 8, 9, 20, 127, 128, 129, 136, 257, 784, 2000]
EDGES = np.array([0.0, -0.0, 1e-45, -1e-45, 1e-30, 3e38, -3e38, np.inf, -np.inf, np.nan],
                 dtype=np.float32)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal shapes, NaNs at the same places, and equal bits everywhere else (so 0.0 != -0.0).
    A NaN's sign and payload are not compared: where a sum meets two different NaNs, which
    one it passes on depends on one add's operand order (`rowwise`'s docstring)."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    nan, bits = np.isnan(a), f"u{a.itemsize}"   # float32 or float64
    return np.array_equal(nan, np.isnan(b)) and np.array_equal(a.view(bits)[~nan],
                                                               b.view(bits)[~nan])


def test_same_compares_bits_but_not_which_nan():
    z = np.array([0.0, 1.0, np.nan], np.float32)
    assert not same(z, np.array([-0.0, 1.0, np.nan], np.float32))     # signed zeros differ
    assert not same(z, np.array([0.0, 1.0, 1.0], np.float32))         # a NaN is not a number
    other_nan = z.copy()
    other_nan.view(np.uint32)[2] = 0xFFC00001                          # sign and payload
    assert same(z, other_nan)


def test_ln_passes_on_a_nan_where_numpy_does():
    """The case hypothesis found: two NaNs of different sign in one pairwise accumulator."""
    v = np.zeros((1, 16), np.float32)
    v.view(np.uint32)[0, [0, 8]] = (0x7FC00000, 0xFFC00000)
    assert same(rowwise.ln(v, EPS), numpy_ln(v))
    assert np.isnan(rowwise.ln(v, EPS)).all()


def rows(n: int, N: int = 6, seed: int = 0, edges: bool = True) -> np.ndarray:
    r = np.random.default_rng(seed)
    v = (r.standard_normal((N, n)) * r.uniform(0.01, 100, (N, 1))).astype(np.float32)
    if edges:
        v[0, :min(n, 4)] = EDGES[:min(n, 4)]   # zeros of both signs, subnormals
        v[1] = 0                                # a zero row: the norm is 0, the result 0
        v[2, -1] = EDGES[np.random.default_rng(seed).integers(4, EDGES.size)]
    return v


def numpy_ln(v: np.ndarray) -> np.ndarray:   # pff.ln's NumPy expression (below JIT_MIN)
    assert v.size < fused.JIT_MIN
    with np.errstate(over="ignore", invalid="ignore"):   # inf and NaN are the point
        return pff.ln(v)


@pytest.mark.parametrize("n", LENGTHS)
def test_ln_rows_equal_numpy(n):
    v = rows(n)
    assert same(rowwise.ln(v, EPS), numpy_ln(v))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 5), st.integers(1, 300)),
              elements=st.floats(width=32, allow_nan=True, allow_infinity=True)))
def test_ln_rows_equal_numpy_on_any_values(v):
    assert same(rowwise.ln(v, EPS), numpy_ln(v))


def _halves(a: np.ndarray, npos: int) -> tuple:
    return (a[:npos], a[npos:]) if npos < a.shape[0] else (a, None)


@pytest.mark.parametrize("noisy", [True, False])
@pytest.mark.parametrize("n,npos", [(2000, 3), (129, 1), (20, 6)])
def test_settle_equals_numpy(n, npos, noisy):
    N = 6
    w, v, lat = rows(n, seed=1), rows(n, seed=2), 0.1 * rows(n, seed=3, edges=False)
    z = np.maximum(rows(n, seed=4, edges=False), 0)
    b = rows(n, N=1, seed=5, edges=False)[0]
    noise = (0.01 * rows(n, seed=6, edges=False)) if noisy else np.float32(0)
    alpha = np.float32(0.3)
    reads = (_halves(w, npos), _halves(v, npos))
    got = rowwise.settle(reads, b, noise, _halves(lat, npos), z, 1 - alpha, alpha)
    # NumPy (small arrays); it sums into its first read in place, as into a fresh read
    with np.errstate(over="ignore", invalid="ignore"):
        want = pff._settle((_halves(w.copy(), npos), reads[1]), b, noise, _halves(lat, npos),
                           z, alpha)
    for a, c in zip(got, want):
        assert same(a, c)


@pytest.mark.parametrize("b64,alpha", [(True, np.float32(0.3)), (False, 0.3),
                                        (False, np.float64(0.3))])
def test_settle_with_a_float64_bias_keeps_numpy_casting(monkeypatch, b64, alpha):
    """A float64 bias (NumPy adds it in float64 and rounds per step), or a mixing factor that
    is not float32 (NumPy: a Python float counts as float32, a float64 promotes; a compiled
    pass would take either as float64), is not a compiled pass's input: pff._settle gives the
    NumPy expression's numbers with the passes forced on."""
    r = np.random.default_rng(3)
    z = np.maximum(rows(40, seed=8, edges=False), 0)
    b = r.random(40) if b64 else r.random(40).astype(np.float32)
    noise = 0.01 * rows(40, seed=9, edges=False)

    def run(jit_min):
        monkeypatch.setattr(fused, "JIT_MIN", jit_min)
        reads = (_halves(rows(40, seed=1), 3), _halves(rows(40, seed=2), 3))
        return pff._settle(reads, b, noise, _halves(rows(40, seed=3), 3), z, alpha)

    for a, c in zip(run(1), run(1 << 62)):
        assert same(a, c)


def test_noisy_relu_ln_equals_numpy():
    z = np.maximum(rows(2000, N=5, seed=7, edges=False), 0)
    z[0, :2] = [-0.0, 0.0]
    eps = np.float32(0.025)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    want = pff.ln(pff._noisy_relu(z, eps, g1))
    from crossbar.pcg_normals import standard_normal_f32
    got = rowwise.noisy_relu_ln(standard_normal_f32(g2, z.shape), z, eps, EPS)
    assert same(got, want)
    assert g1.bit_generator.state == g2.bit_generator.state


def test_relu_error_equals_numpy():
    pre, target = rows(784, seed=10), rows(784, seed=11, edges=False)
    target[0, :2] = 0   # relu(±0) − 0 is +0: NumPy's maximum turns −0 into +0
    c = np.float32(2.0 / 1000)
    assert same(rowwise.relu_error(pre, target, c), c * (pff.relu(pre) - target))


def test_lateral_gradient_loop_equals_einsum(monkeypatch):
    """fused.group_outer's compiled loop (paper size and above) sums in the einsum's order."""
    monkeypatch.setattr(fused, "JIT_MIN", 1)
    z, d = rows(70, N=9, seed=12, edges=False), 1e-3 * rows(70, N=9, seed=13)
    want = np.einsum("bgi,bgj->gij", z.reshape(9, 7, 10), d.reshape(9, 7, 10))
    assert same(fused.group_outer(z, d, 10), want)


PASSES = ("ln", "noisy_relu_ln", "settle", "relu_error")


def _batches(ideal: bool, compiled: bool, monkeypatch) -> tuple:
    """Two small-preset PFF batches (Adam), with every compiled pass forced on or all off;
    also returns how often each pass of `rowwise` ran."""
    monkeypatch.setattr(fused, "JIT_MIN", 1 if compiled else 1 << 62)
    calls = dict.fromkeys(PASSES, 0)
    for name in PASSES:
        def counted(*a, _f=getattr(rowwise, name), _n=name):
            calls[_n] += 1
            return _f(*a)
        monkeypatch.setattr(rowwise, name, counted)
    r = np.random.default_rng(0)
    x = r.uniform(0, 1, (40, 64)).astype(np.float32)
    y = r.integers(0, 10, 40)
    data = Dataset("random", x, y, x[:10], y[:10], 10, (8, 8), "random")
    net = build(from_dict({"preset": "small", "ideal": ideal, "hidden": "40,40",
                           "batch_size": 20, "dataset": "digits"}), data=data)
    losses = [net.algo.train_batch(x[:20], y[:20])["loss"] for _ in range(2)]
    weights = [m.weights() for m in net.algo.matrices]
    monkeypatch.undo()
    return losses, weights, net.algo.ledger.to_dict(), net.algo.rng.bytes(8), calls


@pytest.mark.parametrize("ideal", [True, False])
def test_training_batches_equal_with_compiled_passes_forced_on(monkeypatch, ideal):
    off = _batches(ideal, False, monkeypatch)
    on = _batches(ideal, True, monkeypatch)
    assert off[0] == on[0]
    assert all(same(a, b) for a, b in zip(off[1], on[1]))
    assert off[2] == on[2] and off[3] == on[3]
    assert not any(off[4].values()) and all(on[4].values()), (off[4], on[4])   # each path ran
