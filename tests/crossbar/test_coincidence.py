"""The stochastic scheme's coincidences (`crossbar.coincidence`): their moments against their
definition, and a batch firing one window of ``bl`` slots per sample in both backends."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossbar import Ledger, Periphery
from crossbar.analog import AnalogMatrix
from crossbar.coincidence import coincidence_moments
from crossbar.counting import CountingMatrix


def _by_definition(x, d, k, bl):
    """Mean and variance summed slot by slot's Bernoulli trials, sample by sample (float64)."""
    cx = np.sqrt(abs(k) / bl * np.abs(d).max() / np.abs(x).max())
    cd = np.sqrt(abs(k) / bl * np.abs(x).max() / np.abs(d).max())
    mean = np.zeros((x.shape[1], d.shape[1]))
    var = np.zeros_like(mean)
    clipped = near = 0   # streams asking for more than one pulse a slot; those within 1e-5 of it
    for xb, db in zip(x.astype(np.float64), d.astype(np.float64)):
        sx, sd = np.abs(xb) * cx, np.abs(db) * cd
        px, pd = np.minimum(sx, 1), np.minimum(sd, 1)
        clipped += int((sx > 1).sum() + (sd > 1).sum())
        near += int((np.abs(sx - 1) < 1e-5).sum() + (np.abs(sd - 1) < 1e-5).sum())
        p = np.outer(px, pd)                      # a slot's coincidence probability
        mean += bl * np.sign(k) * np.outer(np.sign(xb), np.sign(db)) * p
        var += bl * p * (1 - p)
    return mean, var, clipped, near


@settings(max_examples=60, deadline=None)
@given(b=st.integers(1, 6), k=st.floats(-50, 50).filter(lambda v: abs(v) > 1e-3),
       bl=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_the_moments_are_the_slots_bernoulli_sums(b, k, bl, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(b, 5)).astype(np.float32)
    d = rng.normal(size=(b, 4)).astype(np.float32)
    mo = coincidence_moments(x, d, np.float32(k), bl)
    mean, var, clipped, near = _by_definition(x, d, float(np.float32(k)), bl)
    np.testing.assert_allclose(mo.mean, mean, rtol=2e-5, atol=2e-5 * bl * b)
    np.testing.assert_allclose(mo.var, var, rtol=2e-5, atol=2e-5 * bl * b)
    assert mo.windows == b
    # float32 scales against float64 ones: a probability within 1e-5 of 1 may land either side
    assert abs(mo.clipped - clipped) <= near
    assert np.all(np.abs(mo.mean) <= b * bl * (1 + 1e-6))    # at most one pulse a slot
    if not (np.abs(x).max() * np.abs(d).max() * abs(k) > bl):   # no line clipped at 1
        np.testing.assert_allclose(mo.mean, np.float32(k) * (x.T @ d), rtol=1e-4, atol=1e-4)


def test_nothing_fires_without_inputs_errors_or_rate():
    x, d = np.ones((3, 4), np.float32), np.ones((3, 2), np.float32)
    assert coincidence_moments(0 * x, d, 1.0, 31) is None
    assert coincidence_moments(x, 0 * d, 1.0, 31) is None
    assert coincidence_moments(x, d, 0.0, 31) is None


@pytest.mark.parametrize("backend", [AnalogMatrix, CountingMatrix])
def test_a_batch_fires_one_window_per_sample(backend):
    """Every line fires in every slot (px = pd = 1): each device takes B·bl = 6 × 4 pulses in
    both backends, none cut (the cap is four per window, one window per sample), and the
    ledger files the five windows beyond the call's first."""
    B, bl = 6, 4
    led = Ledger()
    m = backend(8, 10, "ideal", Periphery(update="stochastic", bl=bl, max_pulses=bl),
                seed=3, ledger=led, w_max=100.0)
    x, d = np.ones((B, 10), np.float32), np.ones((B, 8), np.float32)
    k = m._pulses_per_weight()
    m.update(x, d, 2 * bl / k)          # k·|x||d| = 2·bl > bl: both lines at probability 1
    e = led.to_dict()["entries"][0]
    assert e.get("pulses_up", 0) + e.get("pulses_down", 0) == B * bl * 80
    assert e.get("trains_capped", 0) == 0
    assert e["extra_update_windows"] == B - 1 and e["update_calls"] == 1
    assert e["rng_draws"] == B * (10 + 8) * bl
    assert e["streams_clipped"] == B * (10 + 8)   # every line asked for √2 pulses a slot
