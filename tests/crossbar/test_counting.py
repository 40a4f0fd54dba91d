"""The counting backend records what an AnalogMatrix records, without the analog arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from crossbar import Ledger, Periphery
from crossbar.analog import AnalogMatrix
from crossbar.coincidence import coincidence_moments
from crossbar.counting import CountingMatrix
from device_models import load_preset

# events that need the simulated conductances and noise: documented rules, not equalities
DATA_DEPENDENT = {"cell_read_energy_j", "pulses_up", "pulses_down", "pulse_energy_j",
                  "adc_saturated", "dac_clipped", "trains_capped", "streams_clipped"}


def _pair(out=7, inp=11, **per):
    dev = load_preset("ideal")
    pe = Periphery(tile_rows=4, tile_cols=3, **per)
    la, lc = Ledger("p"), Ledger("p")
    a = AnalogMatrix(out, inp, dev, pe, seed=1, ledger=la, name="M", w_max=1.0)
    c = CountingMatrix(out, inp, dev, pe, seed=1, ledger=lc, name="M", w_max=1.0)
    return a, c, la, lc


def test_info_and_shape_events_equal_and_cell_energy_follows_the_analog_formula():
    a, c, la, lc = _pair()
    assert la.matrices == lc.matrices
    rng = np.random.default_rng(0)
    W = rng.uniform(-0.9, 0.9, (7, 11)).astype(np.float32)
    for m in (a, c):
        m.program(W)
    x = rng.normal(size=(5, 11)).astype(np.float32)
    d = rng.normal(size=(3, 7)).astype(np.float32)
    for m in (a, c):
        m.forward(x)
        m.ledger.phase = "t"
        m.transposed(d)
        m.ledger.phase = "tiles"
        y = m.forward_tiles(x)
        assert y.shape == (5, 3, 7)          # 11 rows in tiles of 4
    ea = {(p, k): v for p, _m, e in la.entries() for k, v in e.items()}
    ec = {(p, k): v for p, _m, e in lc.entries() for k, v in e.items()}
    for key, v in ea.items():
        if key[1] == "cell_read_energy_j":
            # freshly programmed ideal devices: the rule is the analog formula exactly
            assert ec[key] == pytest.approx(v, rel=1e-5), key
        elif key[1] not in DATA_DEPENDENT:
            assert ec[key] == v, key
    # the float path is the product the analog read approximates
    np.testing.assert_allclose(c.forward(x), x @ W.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(c.transposed(d), d @ W, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("update", ["deterministic", "stochastic", "mixed"])
def test_update_events_and_expected_pulses(update):
    a, c, la, lc = _pair(update=update)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 11)).astype(np.float32)
    d = rng.normal(size=(6, 7)).astype(np.float32)
    for m in (a, c):
        m.update(x, d, 0.01)
        m.apply_delta(np.full((7, 11), 0.003, dtype=np.float32))
    ea, ec = dict(la.to_dict()["entries"][0]), dict(lc.to_dict()["entries"][0])
    for k in set(ea) | set(ec):
        if k not in DATA_DEPENDENT:
            assert ec.get(k, 0) == ea.get(k, 0), k
    # pulses: the expected count of the requested change (documented rule); the analog run's
    # stochastic rounding / coincidences draw around it
    dev = load_preset("ideal")
    per_w = dev.states / 1.0
    A = np.abs(0.01 * (x.T @ d) * per_w)
    B = np.full(A.shape, 0.003 * per_w)
    cap = Periphery().max_pulses
    if update == "mixed":   # the integer parts leave the digital accumulator
        acc = 0.01 * (x.T @ d) * per_w
        first = np.clip(np.trunc(acc), -cap, cap)
        expect = np.abs(first).sum() + np.abs(np.clip(np.trunc(acc - first + 0.003 * per_w),
                                                      -cap, cap)).sum()
    elif update == "stochastic":
        # the coincidences' mean: lr·dᵀx·per_w where no line fires in every slot; this
        # request clips some (px = 1): their pulses are fewer. One window per batch row.
        mo = coincidence_moments(x, d, np.float32(0.01 * per_w), Periphery().bl)
        assert np.abs(mo.mean).sum() < 0.9 * A.sum()
        expect = np.minimum(np.abs(mo.mean), cap * x.shape[0]).sum() + np.minimum(B, cap).sum()
    else:
        expect = np.minimum(A, cap).sum() + np.minimum(B, cap).sum()
    got = ec["pulses_up"] + ec.get("pulses_down", 0)
    assert got == pytest.approx(expect, rel=1e-5)
    sim = ea["pulses_up"] + ea.get("pulses_down", 0)
    assert 0.8 * expect < sim < 1.25 * expect


@pytest.mark.parametrize("update", ["deterministic", "mixed"])
def test_capped_trains_are_the_expected_count_the_simulator_draws_around(update):
    """Requests of cap + 0.5 pulses per device: stochastic rounding cuts each with probability
    1/2, so the counting backend records half the devices and the analog run draws about as
    many (binomial, five standard deviations); the mixed scheme fires whole transfers, so a
    request of cap + 1.5 is cut on every device in both."""
    a, c, la, lc = _pair(out=40, inp=50, update=update, max_pulses=6)
    per_w = load_preset("ideal").states / 1.0
    over = 6.5 if update == "deterministic" else 7.5
    dW = np.full((40, 50), over / per_w, np.float32)
    dW[::2] *= -1
    for m in (a, c):
        m.apply_delta(dW)
    got, sim = lc.get("trains_capped"), la.get("trains_capped")
    if update == "deterministic":
        assert got == pytest.approx(1000.0, rel=1e-5)
        assert abs(sim - 1000) < 5 * np.sqrt(2000 * 0.25)
    else:
        assert got == sim == 2000


def test_pulse_density_rule_and_counted_chips_the_simulator_cannot_build():
    dev = load_preset("ideal")
    led = Ledger("u")
    m = CountingMatrix(5, 4, dev, Periphery(), ledger=led, name="M", pulse_density=0.5,
                       dac_bits=1, adc_bits=12)
    m.update(np.ones((2, 4), np.float32), np.ones((2, 5), np.float32), 0.1)
    e = led.to_dict()["entries"][0]
    assert e["pulses_up"] + e["pulses_down"] == pytest.approx(0.5 * 2 * 20)
    assert led.matrices["M"]["dac_bits"] == 1 and led.matrices["M"]["adc_bits"] == 12


@pytest.mark.parametrize("w_max", [0, -1.0, float("nan"), float("inf"), True, "1"])
def test_analog_and_counting_refuse_the_same_w_max(w_max):
    for cls in (AnalogMatrix, CountingMatrix):
        with pytest.raises(ValueError, match=r"^w_max = .* (is out of range|must be a number); "
                                             r"allowed \(0, inf\)$"):
            cls(3, 2, w_max=w_max)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3"])
def test_analog_and_counting_refuse_the_same_seed(seed):
    """The seed is refused in the checks' words (NumPy refused some in its own, took True)."""
    for cls in (AnalogMatrix, CountingMatrix):
        with pytest.raises(ValueError, match=r"^seed = .*; allowed integers 0 or more$"):
            cls(3, 2, seed=seed)
    assert AnalogMatrix(3, 2, seed=np.int64(3)).rng_state() == \
        AnalogMatrix(3, 2, seed=3).rng_state()


@pytest.mark.parametrize("density", [-1, 1001, float("nan"), True, "0.5"])
def test_pulse_density_out_of_range_or_not_a_number_is_a_value_error(density):
    with pytest.raises(ValueError, match="pulse_density"):
        CountingMatrix(3, 2, pulse_density=density)
