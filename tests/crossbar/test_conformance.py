"""Every matrix type honours the interface `MatrixBase` declares (in the spirit of
scikit-learn's ``parametrize_with_checks``): one list of checks, run against each type."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from crossbar import Periphery
from crossbar.analog import AnalogMatrix
from crossbar.base import MatrixBase, NonFiniteInputError, ShapeError
from crossbar.blockdiag import BlockDiagonal
from crossbar.ideal import IdealMatrix

OUT, IN = 6, 20
# an ADC range wide enough not to clip these small random matrices
PER = Periphery(tile_rows=8, tile_cols=8, read_noise=0.0, out_bound=1.0)


def _counting(out, inp, **kw):
    from crossbar.counting import CountingMatrix
    return CountingMatrix(out, inp, "ideal", kw.pop("periphery", PER), **kw)


FACTORIES = {
    "ideal": lambda out, inp, periphery=None, **kw: IdealMatrix(out, inp, **kw),
    "analog-ideal-device": lambda out, inp, **kw: AnalogMatrix(
        out, inp, "ideal", kw.pop("periphery", PER), **kw),
    "analog-ecram-noisy": lambda out, inp, **kw: AnalogMatrix(
        out, inp, "ecram", kw.pop("periphery", Periphery(tile_rows=8, tile_cols=8,
                                                         read_noise=0.02, out_bound=1.0)), **kw),
    "analog-reram-sb": lambda out, inp, **kw: AnalogMatrix(
        out, inp, "reram-sb", kw.pop("periphery", PER), **kw),
    "counting": _counting,
}
INTERFACE = ["forward", "transposed", "update", "apply_delta", "program", "weights",
             "advance_time", "forward_tiles", "rng_state", "set_rng_state"]


def _check_interface(make):
    m = make(OUT, IN, seed=0)
    assert isinstance(m, MatrixBase)
    for name in INTERFACE:
        assert callable(getattr(m, name)), name
    for name in ("forward", "transposed", "update", "apply_delta", "program", "weights",
                 "advance_time"):
        assert getattr(type(m), name) is not getattr(MatrixBase, name), \
            f"{type(m).__name__} does not implement {name}"
    assert m.shape == (OUT, IN)


def _check_shapes(make):
    m = make(OUT, IN, seed=0)
    x = np.random.default_rng(1).uniform(-1, 1, (5, IN)).astype(np.float32)
    d = np.random.default_rng(2).uniform(-1, 1, (5, OUT)).astype(np.float32)
    assert m.forward(x).shape == (5, OUT)
    assert m.transposed(d).shape == (5, IN)
    t = m.forward_tiles(x)
    assert t.ndim == 3 and t.shape[0] == 5 and t.shape[2] == OUT
    assert m.weights().shape == (OUT, IN)
    assert m.forward(x[0]).shape == (1, OUT)


def _check_bad_input(make):
    m = make(OUT, IN, seed=0)
    with pytest.raises(ShapeError):
        m.forward(np.zeros((3, IN + 1), dtype=np.float32))
    with pytest.raises(ShapeError):
        m.transposed(np.zeros((3, OUT + 1), dtype=np.float32))
    with pytest.raises(ShapeError):
        m.apply_delta(np.zeros((IN, OUT), dtype=np.float32))
    with pytest.raises(ShapeError):
        m.program(np.zeros((IN, OUT), dtype=np.float32))
    bad = np.zeros((2, IN), dtype=np.float32)
    bad[0, 3] = np.nan
    with pytest.raises((NonFiniteInputError, ValueError)):
        m.forward(bad)
    with pytest.raises(ShapeError):
        m.update(np.zeros((3, IN), np.float32), np.zeros((4, OUT), np.float32), 0.1)
    # a change or weights with NaN or infinity are refused before anything is written
    w0, ledger0 = m.weights(), m.ledger.to_dict()
    for value in (np.nan, np.inf):
        W = np.full((OUT, IN), 0.01, dtype=np.float32)
        W[2, 5] = value
        for call in (m.apply_delta, m.program):
            with pytest.raises(NonFiniteInputError, match="NaN or infinity"):
                call(W)
    np.testing.assert_array_equal(m.weights(), w0)
    assert m.ledger.to_dict() == ledger0
    for bad in (OUT + 0.5, True, 0):   # a float / bool shape is refused, not truncated
        with pytest.raises(ShapeError):
            make(bad, IN, seed=0)
    x1, d1 = np.zeros((1, IN), np.float32), np.zeros((1, OUT), np.float32)
    for lr in (float("nan"), float("inf"), True, "0.1"):   # one lr rule for every type
        with pytest.raises(ValueError):
            m.update(x1, d1, lr)


def _check_program_and_read(make):
    m = make(OUT, IN, seed=0)
    W = np.random.default_rng(3).uniform(-0.5, 0.5, (OUT, IN)).astype(np.float32)
    m.program(W)
    dv = getattr(m, "device", None)   # write noise: a read sees each device ± write_noise·s
    tol = 0.06 + (5 * np.sqrt(2) * dv.write_noise / dv.states if dv is not None else 0.0)
    assert np.abs(m.weights() - W).max() < tol
    x = np.random.default_rng(4).uniform(-1, 1, (8, IN)).astype(np.float32)
    y = m.forward(x)
    ref = x @ m.weights().T
    assert np.abs(y - ref).max() < 0.1 * np.abs(ref).max() + 0.05
    # the tiles' outputs add up to the read (up to each tile's own ADC rounding)
    assert np.abs(m.forward_tiles(x).sum(axis=1) - ref).max() < 0.1 * np.abs(ref).max() + 0.05


def _check_update_direction(make):
    m = make(OUT, IN, seed=0)
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (16, IN)).astype(np.float32)
    d = rng.uniform(-1, 1, (16, OUT)).astype(np.float32)
    w0 = m.weights()
    for _ in range(5):   # pulses add up; write noise (redrawn at each write) does not
        m.update(x, d, 0.04)
    want = 0.2 * (d.T @ x)
    got = m.weights() - w0
    assert np.corrcoef(got.ravel(), want.ravel())[0, 1] > 0.5
    w1 = m.weights()
    for _ in range(5):
        m.apply_delta(-want / 5)
    assert np.corrcoef((m.weights() - w1).ravel(), -want.ravel())[0, 1] > 0.5


def _check_rng_state_round_trip(make):
    m = make(OUT, IN, seed=0)
    x = np.random.default_rng(6).uniform(-1, 1, (4, IN)).astype(np.float32)
    st = m.rng_state()
    a = m.forward(x)
    m.set_rng_state(st)
    np.testing.assert_array_equal(m.forward(x), a)


def _check_unknown_keyword_is_an_error(make):
    with pytest.raises(TypeError):
        make(OUT, IN, seed=0, colour="red")


def _check_time(make):
    m = make(OUT, IN, seed=0)
    m.advance_time(10.0)
    m.forward(np.ones((1, IN), dtype=np.float32))


CHECKS = [_check_interface, _check_shapes, _check_bad_input, _check_program_and_read,
          _check_update_direction, _check_rng_state_round_trip,
          _check_unknown_keyword_is_an_error, _check_time]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__[7:])
@pytest.mark.parametrize("kind", list(FACTORIES))
def test_matrix_conforms(kind, check):
    if kind == "counting":
        pytest.importorskip("crossbar.counting")
    check(FACTORIES[kind])


def test_ideal_matrix_refuses_unknown_keywords():
    with pytest.raises(TypeError, match="colour"):
        IdealMatrix(3, 4, colour="red")


@pytest.mark.parametrize("kind", ["ideal", "analog-ideal-device"])
def test_block_diagonal_uses_the_public_interface(kind):
    inner = FACTORIES[kind](4, 12, seed=0, periphery=Periphery(tile_rows=4, tile_cols=4,
                                                               read_noise=0.0))
    blk = BlockDiagonal(inner, 4)
    blocks = np.random.default_rng(0).uniform(-0.5, 0.5, (3, 4, 4)).astype(np.float32)
    blk.program_blocks(blocks)
    x = np.random.default_rng(1).uniform(-1, 1, (2, 12)).astype(np.float32)
    want = np.einsum("bgi,gik->bgk", x.reshape(2, 3, 4), blocks).reshape(2, 12)
    assert np.abs(blk.forward(x) - want).max() < 0.05
    src = inspect.getsource(BlockDiagonal)
    assert "._wt" not in src and "._rng" not in src


@pytest.mark.parametrize("B", [1, 2, 3, 500])
def test_ideal_block_stack_read_is_the_per_group_blas_product(B):
    """The ideal block-diagonal read gives, bit for bit, NumPy's batched product of the groups
    with the stack as the inner matrix's transpose lays it out (the records' numbers), written
    straight into its result."""
    inner = IdealMatrix(10, 200)
    r = np.random.default_rng(B)
    blk = BlockDiagonal(inner, 10)
    blk.program_blocks(r.uniform(-0.05, 0.05, (20, 10, 10)).astype(np.float32))
    x = np.maximum(r.standard_normal((B, 200)), 0).astype(np.float32)
    view = inner.weights().T.reshape(20, 10, 10)
    want = np.matmul(x.reshape(B, 20, 10).transpose(1, 0, 2), view).transpose(1, 0, 2)
    got = blk.forward(x)
    assert got.flags.c_contiguous
    assert np.array_equal(got.view(np.uint32), want.reshape(B, 200).view(np.uint32))
