"""A stack of square blocks read along its diagonals (crossbar.diagonal_reads) gives the numbers
of the fused narrow read, tile by tile: outputs, scales, energies, counts, noise and tails."""

import numpy as np
import pytest

import crossbar.analog as analog
import crossbar.kernels as K
from crossbar import Periphery, diagonal_reads as dr
from crossbar.analog import AnalogMatrix
from crossbar.normals import _fill_normals, tablefull_ref


def _both(x, M, steps, *, noisy=True, nf=0.02, abs_max=True, threads=None):
    """read_narrow (split) and read_stack of the same stack: (results, out, row energies)."""
    B, n = x.shape
    m = M.shape[0]
    edges = np.arange(0, n + 1, m, dtype=np.int64)
    gsum = np.linspace(1.0, 3.0, n, dtype=np.float32)
    runs = []
    for stack in (False, True):
        out = np.full((B, n // m, m), 7.0, np.float32)
        energy = np.full(B, 9.0)
        args = (127, abs_max, 1.5, edges, gsum, np.float32(nf), noisy, steps, 31.0, 12345)
        if stack:
            r = K.read_stack(x, K.diagonals(M), *args, out, energy, 0.7, threads=threads)
        else:
            r = K.read_narrow(x, M, *args, out, True, energy, 0.7, threads=threads)
        runs.append((r, out, energy))
    return runs


@pytest.mark.parametrize("B, groups, m, nf, abs_max", [
    (500, 200, 10, 0.02, True),      # the paper's lateral read
    (37, 13, 7, 0.02, True),         # rows not a multiple of the chunk, odd block
    (64, 50, 10, 0.5, True),         # strong noise: many saturated conversions
    (100, 100, 5, 0.02, False),      # fixed input scaling: clipped inputs
    (33, 40, 16, 0.0, True),         # noiseless, the widest narrow read
    (50, 30, 1, 0.02, True),         # 1 x 1 blocks
])
def test_stack_read_equals_narrow_read(B, groups, m, nf, abs_max):
    rng = np.random.default_rng(B + m)
    n = groups * m
    x = rng.standard_normal((B, n)).astype(np.float32) * (3 if not abs_max else 1)
    M = rng.uniform(-1, 1, (m, n)).astype(np.float32)
    steps = rng.uniform(0.05, 0.1, groups).astype(np.float32)
    (r0, out0, e0), (r1, out1, e1) = _both(x, M, steps, noisy=nf > 0, nf=nf, abs_max=abs_max)
    assert out0.tobytes() == out1.tobytes()
    assert e0.tobytes() == e1.tobytes() and r0[0].tobytes() == r1[0].tobytes()
    assert r0[1:] == r1[1:]
    if nf >= 0.5:
        assert r1[2] > 0
    if not abs_max:
        assert r1[1] > 0


def test_stack_read_of_a_row_with_nan_is_reported_and_equal():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((20, 15)).astype(np.float32)
    x[4, 7] = np.nan
    M = rng.uniform(-1, 1, (3, 15)).astype(np.float32)
    (r0, out0, _), (r1, out1, _) = _both(x, M, np.full(5, 0.05, np.float32), threads=1)
    assert r0[3] == r1[3] == 1
    assert out0.tobytes() == out1.tobytes()


def test_stack_noise_equals_each_groups_stream_with_tails():
    """_stack_noise writes, group by group, what _fill_normals writes for stream t·B + b,
    tails included (|z| > 4.17 occurs 2^-15 of the time: 2^17 deviates hold some)."""
    table = tablefull_ref[0]
    B, groups, m = 64, 205, 10
    g = np.empty(groups * m, np.float32)
    s0 = np.empty(groups, np.uint64)
    R = np.empty(((m + 3) // 4, groups), np.uint64)
    ref = np.empty(m, np.float32)
    tails = 0
    for b in range(B):
        dr._stack_noise(g, 99, b, B, m, s0, R, table)
        for t in range(groups):
            _fill_normals(ref, 99, t * B + b, table)
            assert g[t * m:(t + 1) * m].tobytes() == ref.tobytes()
        tails += int(np.sum(np.abs(g) > 4.17))
    assert tails > 0


def test_diagonals_hold_each_block_and_zeros_between():
    m, groups = 4, 3
    M = np.arange(1, m * m * groups + 1, dtype=np.float32).reshape(m, m * groups)
    D = K.diagonals(M)
    x = np.random.default_rng(0).standard_normal(m * groups).astype(np.float32)
    pad = np.concatenate([np.zeros(m - 1), x, np.zeros(m - 1)])
    flat = sum(pad[d:d + m * groups] * D[d] for d in range(2 * m - 1))
    blocks = [x[t * m:(t + 1) * m] @ M[:, t * m:(t + 1) * m].T for t in range(groups)]
    np.testing.assert_allclose(flat, np.concatenate(blocks), rtol=1e-6)
    assert np.count_nonzero(D) == M.size


def test_block_diagonal_read_takes_the_stack_path_with_the_same_numbers(monkeypatch):
    """Through AnalogMatrix.forward_tiles (a BlockDiagonal's read): the stack path from any
    size, then never, give the same outputs and ledger; non-square tiles keep read_narrow."""
    per = Periphery(read_noise=0.05, tile_rows=8, adc_bits=7, out_bound=0.3)
    rng = np.random.default_rng(2)
    W = rng.uniform(-1, 1, (8, 96)).astype(np.float32)
    x = rng.standard_normal((40, 96)).astype(np.float32)
    calls = []
    for name, real in (("read_stack", K.read_stack), ("SERIAL", K.SERIAL["read_stack"])):
        def read_stack(*a, _real=real, **k):   # a small read takes the serial twin
            calls.append(1)
            return _real(*a, **k)
        if name == "SERIAL":
            monkeypatch.setitem(K.SERIAL, "read_stack", read_stack)
        else:
            monkeypatch.setattr(K, "read_stack", read_stack)
    results = []
    for start in (0, 1 << 62):
        monkeypatch.setattr(K, "STACK_INPUTS_FROM", start)
        m = AnalogMatrix(8, 96, "rram-taox", per, seed=5)
        m.program(W)
        results.append((m.forward_tiles(x), m.ledger.to_dict()))
    assert len(calls) == 1
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]
    monkeypatch.setattr(K, "STACK_INPUTS_FROM", 0)
    m = AnalogMatrix(8, 96, "rram-taox", Periphery(read_noise=0.05, tile_rows=12), seed=5)
    m.forward_tiles(x)
    assert len(calls) == 1
    with pytest.raises(analog.NonFiniteInputError, match="input contains NaN"):
        x[3, 3] = np.inf
        AnalogMatrix(8, 96, "ideal", per, seed=0).forward_tiles(x)
