"""Noise-free devices take n pulses in closed form: it must equal n single pulses."""

from __future__ import annotations

import numpy as np
import pytest

from crossbar import Periphery
from crossbar.analog import AnalogMatrix
from device_models import DeviceModel


@pytest.mark.parametrize("dev", [
    DeviceModel(states=50, response="linear", up_down=0.2, d2d=0.2),
    DeviceModel(states=50, response="soft-bounds", up_down=-0.3, d2d=0.2),
    DeviceModel(states=50, response="exponential", nonlinearity_up=2.0, nonlinearity_down=4.0,
                d2d=0.2),
    DeviceModel(states=20, response="exponential", nonlinearity_up=1.5, nonlinearity_down=0.0,
                up_down=0.1),
], ids=["linear", "soft-bounds", "exponential", "exp-one-sided"])
@pytest.mark.parametrize("n", [2, 7, 31])
@pytest.mark.parametrize("sign", [1, -1])
def test_n_pulses_at_once_equal_n_single_pulses(dev, n, sign):
    per = Periphery(mapping="reference", max_pulses=64, read_noise=0.0)
    a = AnalogMatrix(3, 4, dev, per, seed=5, w_max=1.0)
    b = AnalogMatrix(3, 4, dev, per, seed=5, w_max=1.0)
    W0 = np.random.default_rng(0).uniform(-0.6, 0.6, (3, 4)).astype(np.float32)
    a.program(W0)
    b.program(W0)
    # reference mapping: one pulse changes W by 2 w_max / states, so this asks exactly n pulses
    one = np.full((3, 4), sign * 2.0 / dev.states, dtype=np.float32)
    a.apply_delta(n * one)
    for _ in range(n):
        b.apply_delta(one)
    np.testing.assert_allclose(a.wp, b.wp, atol=2e-6)
    assert a.ledger.get("pulses_up") + a.ledger.get("pulses_down") == n * 12
    assert ((a.wp >= 0) & (a.wp <= 1)).all()


def test_non_binding_endurance_does_not_change_noisy_pulses():
    # endurance bookkeeping must not disturb the c2c random stream (it once shared a variable)
    dev = DeviceModel(states=100, response="exponential", nonlinearity_up=1.0,
                      nonlinearity_down=2.0, c2c=0.5, d2d=0.1)
    per = Periphery(read_noise=0.0, max_pulses=31)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 6)).astype(np.float32)
    d = rng.standard_normal((8, 5)).astype(np.float32)
    out = []
    for endurance in (0.0, 1e9):
        m = AnalogMatrix(5, 6, dev.replace(endurance=endurance), per, seed=4, w_max=1.0)
        for _ in range(3):
            m.update(x, d, 0.05)
        out.append(m.weights())
    np.testing.assert_array_equal(out[0], out[1])


@pytest.mark.parametrize("dev", [
    DeviceModel(states=400, response="linear", up_down=0.1, c2c=0.8),
    DeviceModel(states=400, response="soft-bounds", c2c=0.5),
    DeviceModel(states=400, response="exponential", nonlinearity_up=2.0, nonlinearity_down=3.0,
                c2c=1.5),
], ids=["linear", "soft-bounds", "exponential"])
@pytest.mark.parametrize("sign", [1, -1])
def test_aggregated_noisy_train_has_the_per_pulse_distribution(dev, sign):
    """A train of n noisy pulses drawn at once (one deviate) vs n single pulses: the final
    states of 4000 devices have the same distribution (two-sample KS, and mean/std)."""
    from scipy import stats

    n = 12
    per = Periphery(mapping="reference", max_pulses=64, read_noise=0.0)
    W0 = np.zeros((40, 100), np.float32)  # all devices start mid-range (w = 0.5)
    one = np.full((40, 100), sign * 2.0 / dev.states, dtype=np.float32)
    a = AnalogMatrix(40, 100, dev, per, seed=11)
    b = AnalogMatrix(40, 100, dev, per, seed=12)
    a.program(W0)
    b.program(W0)
    a.apply_delta(n * one)            # aggregated (n >= AGGREGATE_MIN_PULSES)
    for _ in range(n):
        b.apply_delta(one)            # pulse by pulse
    wa, wb = a.wp.ravel().astype(np.float64), b.wp.ravel().astype(np.float64)
    assert abs(wa.mean() - 0.5) > 3 * wa.std() / np.sqrt(wa.size)  # the devices did move
    assert stats.ks_2samp(wa, wb).pvalue > 1e-3
    se = wb.std() / np.sqrt(wb.size)
    assert abs(wa.mean() - wb.mean()) < 5 * se
    assert abs(wa.std() / wb.std() - 1) < 0.1


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("n, states", [(12, 400), (1, 4000), (2, 1000), (3, 6000)],
                         ids=["long-train", "1-pulse-small-c", "2-pulse-c-2e-3",
                              "3-pulse-small-c"])
def test_vectorised_row_path_matches_per_pulse_moments_on_differential_pairs(sign, n, states):
    """Differential pairs of a noisy exponential device take kernels._aggregate_row. From
    mid-range (w+ + w- = 1) a request of +n pulses potentiates G+ and one of -n potentiates G-:
    the moved device's states must have the per-pulse recursion's mean D0(1-c)^n and variance
    D0²[((1-c)² + c²σ²)^n - (1-c)^(2n)] (D = distance to the asymptote), its partner must not
    move, and the ledger must count n potentiating pulses per pair. Short trains at a small
    rate (c <= AGGREGATE_ANY_C) are aggregated too: the same moments must hold."""
    nl, c2c = 2.0, 0.5
    dev = DeviceModel(states=states, response="exponential", nonlinearity_up=nl,
                      nonlinearity_down=nl, c2c=c2c)
    m = AnalogMatrix(40, 100, dev, Periphery(read_noise=0.0, max_pulses=64), seed=21, w_max=1.0)
    m.program(np.zeros((40, 100), np.float32))
    m.apply_delta(np.full((40, 100), sign * n / states, np.float32))  # n pulses per pair
    c = -np.expm1(-nl / states)
    tgt = 1.0 / -np.expm1(-nl)
    D0 = tgt - 0.5
    mean = tgt - D0 * (1 - c) ** n
    var = D0 ** 2 * (((1 - c) ** 2 + (c * c2c) ** 2) ** n - (1 - c) ** (2 * n))
    moved, still = (m.wp, m.wm) if sign > 0 else (m.wm, m.wp)
    w = moved.astype(np.float64).ravel()
    assert abs(w.mean() - mean) < 5 * np.sqrt(var / w.size)
    assert abs(w.std() / np.sqrt(var) - 1) < 5 / np.sqrt(2 * w.size)
    assert (still == 0.5).all()
    assert m.ledger.get("pulses_up") == n * 4000 and m.ledger.get("pulses_down") == 0
    # and back: from above mid-range a request of the opposite sign depresses the same device
    # (a pair the noisy train left below mid-range potentiates the partner instead)
    above = w + 0.5 > 1.0
    m.apply_delta(np.full((40, 100), -sign * 2 / states, np.float32))
    assert m.ledger.get("pulses_up") + m.ledger.get("pulses_down") == (n + 2) * 4000
    assert m.ledger.get("pulses_down") == 2 * above.sum()
    assert (moved.astype(np.float64).ravel()[above] < w[above]).mean() > 0.95


@pytest.mark.parametrize("n", [2, 12])
def test_rows_with_stuck_devices_follow_the_same_moments(n):
    """Rows holding a stuck device take the general per-device loop (`_apply_n`, short trains
    under kernels._train_aggregates as in the vectorised pass): the free devices' states after
    n pulses must have the per-pulse recursion's mean and variance, stuck ones must not move."""
    states, nl, c2c = 4000, 2.0, 0.5
    dev = DeviceModel(states=states, response="exponential", nonlinearity_up=nl,
                      nonlinearity_down=nl, c2c=c2c, stuck_off=0.05)
    m = AnalogMatrix(100, 40, dev, Periphery(read_noise=0.0, max_pulses=64), seed=8, w_max=1.0)
    stuck = m.stuckp.astype(bool)
    assert stuck.any(axis=1).mean() > 0.9  # nearly every row takes the general loop
    m.program(np.zeros((100, 40), np.float32))
    m.apply_delta(np.full((100, 40), n / states, np.float32))
    c = -np.expm1(-nl / states)
    tgt = 1.0 / -np.expm1(-nl)
    D0 = tgt - 0.5
    mean = tgt - D0 * (1 - c) ** n
    var = D0 ** 2 * (((1 - c) ** 2 + (c * c2c) ** 2) ** n - (1 - c) ** (2 * n))
    w = m.wp[~stuck & ~m.stuckm.astype(bool)].astype(np.float64)
    assert abs(w.mean() - mean) < 5 * np.sqrt(var / w.size)
    assert abs(w.std() / np.sqrt(var) - 1) < 5 / np.sqrt(2 * w.size)
    assert (m.wp[stuck] == 0.0).all()
