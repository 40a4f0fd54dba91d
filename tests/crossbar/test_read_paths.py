"""The read paths give the same numbers: small reads convert all tiles in one call, large
ones tile by tile, and narrow reads (few output lines) run fused in one kernel."""

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
    monkeypatch.setattr(analog, "_NARROW", 0)  # 11 output lines would take the fused kernel
    for limit in (10**9, 0):
        monkeypatch.setattr(analog, "_BATCHED_LIMIT", limit)
        m = AnalogMatrix(11, 28, dev, per, seed=3)
        m.program(W)
        outs.append((m.forward_tiles(x) if split else m.forward(x), m.ledger.get("adc_saturated")))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    assert outs[0][1] == outs[1][1]


_LEDGER_KEYS = ("mvm_vectors", "transposed_vectors", "macs", "dac_conversions", "dac_clipped",
                "adc_conversions", "adc_saturated", "cell_read_energy_j")


@pytest.mark.parametrize("kind", ["forward", "transposed", "tiles"])
@pytest.mark.parametrize("scaling", ["abs-max", "fixed"])
def test_narrow_fused_read_equals_blas_path(monkeypatch, kind, scaling):
    """kernels.read_narrow fuses DAC, tile sums, noise and ADC; it must give the numbers and
    the ledger of the unfused path (same noise streams; the ADC absorbs summation order)."""
    per = Periphery(read_noise=0.05, tile_rows=16, tile_cols=16, adc_bits=7, dac_bits=6,
                    out_bound=0.3, input_scaling=scaling, in_bound=1.5)
    rng = np.random.default_rng(1)
    W = rng.uniform(-1, 1, (6, 40)).astype(np.float32)
    n = 6 if kind == "transposed" else 40
    x = (2 * rng.standard_normal((37, n))).astype(np.float32)  # fixed scaling clips some
    results = []
    for narrow in (16, 0):
        monkeypatch.setattr(analog, "_NARROW", narrow)
        m = AnalogMatrix(6, 40, "rram-taox", per, seed=5)
        m.program(W)
        y = {"forward": m.forward, "transposed": m.transposed, "tiles": m.forward_tiles}[kind](x)
        results.append((y, {k: m.ledger.get(k) for k in _LEDGER_KEYS}))
    (y_fused, led_fused), (y_blas, led_blas) = results
    np.testing.assert_array_equal(y_fused, y_blas)
    for k in _LEDGER_KEYS:
        assert led_fused[k] == pytest.approx(led_blas[k], rel=1e-6), k
    if scaling == "fixed":
        assert led_fused["dac_clipped"] > 0


@pytest.mark.parametrize("narrow", [16, 0])
def test_nonfinite_rows_are_caught_in_the_dac_pass(monkeypatch, narrow):
    """Finiteness is checked inside the DAC kernel (no separate pass): any row, any position,
    NaN or ±inf, on both read paths; the ledger records nothing for the failed read."""
    monkeypatch.setattr(analog, "_NARROW", narrow)
    m = AnalogMatrix(5, 300, "ideal", Periphery(read_noise=0.05), seed=0)
    x = np.ones((50, 300), np.float32)
    for bad in (np.nan, np.inf, -np.inf):
        for row, col in ((0, 0), (49, 299), (17, 150)):
            xb = x.copy()
            xb[row, col] = bad
            with pytest.raises(analog.NonFiniteInputError, match="input contains NaN"):
                m.forward(xb)
    with pytest.raises(analog.NonFiniteInputError, match="transposed input contains NaN"):
        m.transposed(np.full((3, 5), np.inf, np.float32))
    assert m.ledger.get("mvm_vectors") == 0 and m.ledger.get("transposed_vectors") == 0


@pytest.mark.parametrize("update", ["deterministic", "stochastic", "mixed"])
def test_serial_twins_equal_pool_kernels(monkeypatch, update):
    """Small calls run serial twins of the kernels (kernels.SERIAL); forcing every call onto
    the thread pool, or every call onto the twins, gives identical reads and weights."""
    from device_models import DeviceModel

    dv = DeviceModel(name="t", states=100, response="exponential", nonlinearity_up=2.0,
                     nonlinearity_down=2.0, c2c=0.2, d2d=0.1, read_noise=0.05)
    per = Periphery(tile_rows=16, tile_cols=16, update=update)
    rng = np.random.default_rng(4)
    W = rng.uniform(-0.5, 0.5, (20, 40)).astype(np.float32)
    x = rng.standard_normal((30, 40)).astype(np.float32)
    d = rng.standard_normal((30, 20)).astype(np.float32)
    runs = []
    for pool in (True, False):
        monkeypatch.setattr(analog, "kernel_for", lambda k, *_, pool=pool: (
            k if pool else analog.K.SERIAL[k.__name__]))
        m = AnalogMatrix(20, 40, dv, per, seed=2)
        m.program(W)
        out = [m.forward(x), m.transposed(d)]
        for _ in range(3):
            m.update(x, d, 0.05)
        out += [m.forward(x), m.weights(), np.array([m.ledger.get("pulses_up"),
                                                     m.ledger.get("pulses_down")])]
        runs.append(out)
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    assert runs[0][-1].sum() > 0


@pytest.mark.parametrize("noise", [0.05, 0.0])
@pytest.mark.parametrize("kind", ["forward", "transposed", "tiles"])
def test_a_large_read_cut_in_halves_equals_its_tiles_read_whole(monkeypatch, kind, noise):
    """A large read runs in two halves of rows, each from its DAC through every tile's product
    and conversion (`AnalogMatrix._read_in_halves`); the numbers, the saturations and the
    ledger are those of the DAC over all rows, then each whole tile's product converted
    afterwards, at one and at two kernel threads, with read noise and without."""
    import numba

    per = Periphery(read_noise=noise, adc_bits=8, out_bound=0.02)
    rng = np.random.default_rng(4)
    W = rng.uniform(-1, 1, (512, 512)).astype(np.float32)
    x = rng.standard_normal((64, 512)).astype(np.float32)
    # the path is taken: a read above the batched limit, two 256-line tiles into 512
    # outputs, cut after two chunks of 16 rows
    monkeypatch.setattr(analog, "_BATCHED_LIMIT", 0)
    assert AnalogMatrix(512, 512, "ideal", per)._rows_cut(64, np.array([0, 256, 512]), 512,
                                                          False) == 32
    cut = analog.row_cut
    outs = []
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            for path in (cut, lambda *a, **k: None):
                monkeypatch.setattr(analog, "row_cut", path)
                m = AnalogMatrix(512, 512, "ideal", per, seed=3)
                m.program(W)
                y = {"forward": m.forward, "transposed": m.transposed,
                     "tiles": m.forward_tiles}[kind](x)
                outs.append((y, {k: m.ledger.get(k) for k in _LEDGER_KEYS}))
    finally:
        numba.set_num_threads(before)
    for y, led in outs[1:]:
        np.testing.assert_array_equal(y, outs[0][0])
        assert led == outs[0][1]
    assert outs[0][1]["adc_saturated"] > 0


@pytest.mark.parametrize("row", [0, 63])
def test_a_large_read_with_nan_in_either_half_raises_and_records_nothing(monkeypatch, row):
    """A NaN in a row of either half of a large read (`AnalogMatrix._read_in_halves`) is one
    NonFiniteInputError naming the matrix, and the ledger records no read."""
    per = Periphery(read_noise=0.05, adc_bits=8, out_bound=0.02)
    monkeypatch.setattr(analog, "_BATCHED_LIMIT", 0)
    m = AnalogMatrix(512, 512, "ideal", per, seed=3, name="big")
    x = np.random.default_rng(4).standard_normal((64, 512)).astype(np.float32)
    assert m._rows_cut(64, m.row_edges, 512, False) == 32   # the path is taken
    x[row, 7] = np.nan
    with pytest.raises(analog.NonFiniteInputError, match="big: input contains NaN"):
        m.forward(x)
    assert m.ledger.get("mvm_vectors") == 0 and m.ledger.get("adc_conversions") == 0


@pytest.mark.parametrize("device", ["ecram", "rram-taox", "reram-sb"])
@pytest.mark.parametrize("mapping", ["differential", "reference"])
def test_effective_weights_after_an_update_are_those_a_read_would_compute(device, mapping):
    """An update computes each run of rows' effective weights and conductance sums right
    after their pulses (`apply_update`'s ``then``, `AnalogMatrix._fire`): the same bits as
    computing them at the next read from the stored states. With write noise (reram-sb) the
    states a read sees are known only after the kernel: the read computes them then."""
    m = AnalogMatrix(100, 300, device, Periphery(mapping=mapping), seed=2)  # threaded kernel
    rng = np.random.default_rng(6)
    x = rng.uniform(0, 1, (8, 300)).astype(np.float32)
    d = rng.standard_normal((8, 100)).astype(np.float32)
    assert m.wp.size >= analog._SMALL_UPDATE
    for step in range(3):
        m.update(x, d, 0.05)
        written = device == "reram-sb"
        assert m._dirty == written                   # recomputed at the read with write noise
        m.forward(x)
        Wn, gsum = m._Wn.copy(), m._gsum.copy()
        m._dirty = True                               # the same weights, computed at a read
        m.forward(x)
        np.testing.assert_array_equal(m._Wn, Wn)
        np.testing.assert_array_equal(m._gsum, gsum)
        wp, wm = m._read_states()
        assert np.any(wp != m.wp) == written         # write noise offsets are in the read
    assert m.ledger.get("pulses_up") > 0
