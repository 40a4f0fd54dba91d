"""The ADC range is out_bound x full scale, floored at one full-scale cell."""

import numpy as np

from crossbar import Periphery
from crossbar.analog import AnalogMatrix, adc_range


def test_range_formula():
    assert adc_range(0.05, 256) == 0.05 * 256
    assert adc_range(0.05, 10) == 1.0


def test_one_hot_input_on_a_small_tile_never_saturates():
    # a label (one-hot) read through a 10-row array at full weight: the column sum is one cell
    m = AnalogMatrix(8, 10, "ideal", Periphery(read_noise=0.0, out_bound=0.05), seed=0)
    m.program(np.ones((8, 10), np.float32))
    y = m.forward(np.eye(10, dtype=np.float32) * 5)
    assert m.ledger.get("adc_saturated") == 0
    np.testing.assert_allclose(y, 5.0, rtol=1e-2)
