"""Non-finite and mistyped values at the matrix interface get one clear error, never a hang
or silently NaN weights; a run whose weights go non-finite stops and says so."""

from __future__ import annotations

import time

import numpy as np
import pytest

from analogff.errors import DivergedError
from crossbar import IdealMatrix, NonFiniteInputError, ShapeError
from crossbar.analog import AnalogMatrix


def test_analog_apply_delta_nan_raises_at_once():
    m = AnalogMatrix(10, 64, "ecram")
    before = m.weights()
    t = time.perf_counter()
    with pytest.raises(NonFiniteInputError, match="NaN or infinity"):
        m.apply_delta(np.full((10, 64), np.nan))
    assert time.perf_counter() - t < 5.0     # was minutes in the pulse kernel
    np.testing.assert_array_equal(m.weights(), before)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_ideal_rejects_non_finite(bad):
    m = IdealMatrix(2, 3)
    with pytest.raises(ValueError, match="lr"):
        m.update(np.ones((1, 3)), np.ones((1, 2)), bad)
    with pytest.raises(ValueError, match="NaN or infinity"):
        m.program(np.full((2, 3), bad))
    with pytest.raises(NonFiniteInputError):
        m.apply_delta(np.full((2, 3), bad))
    assert np.isfinite(m.weights()).all()


@pytest.mark.parametrize("shape", [(10.5, 64), (True, 3), (3, "4"), (0, 3)])
def test_shapes_must_be_positive_integers(shape):
    for cls in (IdealMatrix, AnalogMatrix):
        with pytest.raises(ShapeError, match="positive integers"):
            cls(*shape)


def test_numpy_integer_shapes_are_integers():
    assert IdealMatrix(np.int64(3), np.int32(4)).shape == (3, 4)


# the overflowing product is what the test provokes: numpy's warning about it is expected
@pytest.mark.filterwarnings("ignore:invalid value encountered in matmul:RuntimeWarning")
def test_run_stops_when_float_weights_overflow(monkeypatch):
    from analogff.config import from_dict
    from analogff.experiment import build, train

    net = build(from_dict(dict(algo="bp", ideal=True, epochs=1, limit=50, hidden="20")))
    m = net.algo.matrices[0]
    real = m.update

    def overflowing(x, d, lr):
        real(x, d, lr)
        m._wt[0, 0] = np.inf   # what an overflowing float update leaves behind

    monkeypatch.setattr(m, "update", overflowing)
    with pytest.raises(DivergedError, match="training diverged at epoch 1"):
        train(net)
