"""Small reads convert all tiles in one call, large ones tile by tile: same numbers."""

import numpy as np
import pytest

import crossbar.analog as analog
from crossbar import Periphery
from crossbar.analog import AnalogMatrix


@pytest.mark.parametrize("model", ["additive", "proportional"])
@pytest.mark.parametrize("split", [False, True])
def test_batched_and_per_tile_paths_agree(monkeypatch, model, split):
    dev = analog.load_preset("ideal").replace(read_noise_model=model)
    per = Periphery(read_noise=0.05, tile_rows=7, tile_cols=5, adc_bits=6, out_bound=0.2)
    rng = np.random.default_rng(0)
    W = rng.uniform(-1, 1, (11, 28)).astype(np.float32)
    x = rng.standard_normal((9, 28)).astype(np.float32)
    outs = []
    for limit in (10**9, 0):
        monkeypatch.setattr(analog, "_BATCHED_LIMIT", limit)
        m = AnalogMatrix(11, 28, dev, per, seed=3)
        m.program(W)
        outs.append((m.forward_tiles(x) if split else m.forward(x), m.ledger.get("adc_saturated")))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    assert outs[0][1] == outs[1][1]
