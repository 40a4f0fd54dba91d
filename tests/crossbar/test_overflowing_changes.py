"""Weight changes that overflow float32 on their way to the pulse kernel: a step that is
±inf fires the pulse cap; a product or accumulator that is NaN (inf − inf) is refused before
any device moves."""

from __future__ import annotations

import numpy as np
import pytest

from crossbar.analog import AnalogMatrix
from crossbar.base import NonFiniteInputError


def test_a_step_that_overflows_fires_the_pulse_cap_and_stays_finite():
    """apply_delta does not scan its scaled step for NaN (finite × finite is never NaN): a
    step that overflows to ±inf is capped at max_pulses per device, as the kernel's rounding
    promises, and the state stays finite."""
    m = AnalogMatrix(4, 6, device="ecram", seed=1)
    dW = np.full((4, 6), 3e38, dtype=np.float32)
    dW[::2] *= -1
    with np.errstate(over="ignore"):
        m.apply_delta(dW)
    cap = m.periphery.max_pulses
    fired = m.ledger.get("pulses_up") + m.ledger.get("pulses_down")
    assert fired == cap * dW.size and np.isfinite(m.weights()).all()


def test_an_accumulator_that_overflows_to_nan_is_refused_and_moves_nothing():
    """mixed scheme: one huge positive update leaves +inf in the digital accumulator (it fires
    the pulse cap); the next, negative one makes it inf − inf = NaN: refused, nothing moves."""
    m = AnalogMatrix(3, 2, device="ecram", seed=1)
    m.periphery = m.periphery.replace(update="mixed")
    x = np.ones((1, 2), dtype=np.float32)
    d = np.ones((1, 3), dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        m.update(x, d, 1e38)
        before = m.conductances()[0].copy()
        fired = m.ledger.get("pulses_up") + m.ledger.get("pulses_down")
        with pytest.raises(NonFiniteInputError, match="overflowed to NaN"):
            m.update(x, d, -1e38)
    assert np.array_equal(m.conductances()[0], before)
    assert m.ledger.get("pulses_up") + m.ledger.get("pulses_down") == fired
