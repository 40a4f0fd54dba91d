"""Physics tests of `crossbar.AnalogMatrix` (and `IdealMatrix`).

Every test compares the simulator with a formula of the contract (README.md, "The physics,
defined once"; crossbar/analog.py and device_models/model.py docstrings) computed here
independently, with statistical tolerances derived from the sample size (fixed seeds, so the
tests are deterministic; bounds are at the ~1e-6 level so a correct model never fails them).
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import stats

from crossbar import IdealMatrix, NonFiniteInputError, Periphery, PeripheryParameterError, \
    ShapeError
from crossbar.analog import AnalogMatrix
from device_models import DeviceModel, load_preset
from device_models.model import DeviceParameterError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ALPHA = 1e-6  # two-sided significance of the statistical bounds


def fine(**kw) -> Periphery:
    """Converters so fine that quantisation is below float32 resolution of the outputs."""
    base = dict(dac_bits=24, adc_bits=24, out_bound=1.0, read_noise=0.0)
    base.update(kw)
    return Periphery(**base)


def dev(**kw) -> DeviceModel:
    base = dict(name="test", g_min=1e-6, g_max=10e-6, states=10000, response="linear")
    base.update(kw)
    return DeviceModel(**base)


def rand_w(rng, out, inp, lim=0.9):
    return rng.uniform(-lim, lim, (out, inp)).astype(np.float32)


def quantise(x: np.ndarray, bits: int, abs_max: bool = True, in_bound: float = 1.0):
    """The DAC of the contract, in NumPy float32: returns (q in [-1, 1], scale s, clipped)."""
    x = np.asarray(x, dtype=np.float32)
    L = np.float32(max(2 ** (bits - 1) - 1, 1))
    if abs_max:
        s = np.abs(x).max(axis=1)
        s = np.where(s > 0, s, np.float32(1)).astype(np.float32)
    else:
        s = np.full(x.shape[0], in_bound, dtype=np.float32)
    v = x * (L / s)[:, None]
    clipped = int((np.abs(v) > L).sum()) if not abs_max else 0
    q = np.rint(np.clip(v, -L, L)) / L
    return q.astype(np.float32), s, clipped


def chi2_bounds(n: int, alpha: float = ALPHA):
    """Bounds on sample variance / true variance for n samples."""
    lo = stats.chi2.ppf(alpha / 2, n - 1) / (n - 1)
    hi = stats.chi2.ppf(1 - alpha / 2, n - 1) / (n - 1)
    return lo, hi


# ------------------------------------------------------------------------------------------
# ideal reads
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mapping", ["differential", "reference"])
def test_ideal_tile_equals_matmul_and_conductance_currents(mapping):
    rng = np.random.default_rng(1)
    W = rand_w(rng, 20, 30)
    x = rng.standard_normal((16, 30)).astype(np.float32)
    m = AnalogMatrix(20, 30, "ideal", fine(mapping=mapping), seed=3)
    m.program(W)
    y = m.forward(x)
    ref = x.astype(np.float64) @ W.T.astype(np.float64)
    scale = np.abs(x).astype(np.float64) @ np.abs(W.T).astype(np.float64)
    assert np.all(np.abs(y - ref) <= 2e-6 * scale + 1e-7)
    np.testing.assert_allclose(m.weights(), W, atol=2e-7)

    # the same thing at the conductance level: I = Gᵀv with v = (x / s)·v_read
    dv = m.device
    gp, gm = m.conductances()
    assert gp.shape == (30, 20)
    s = np.abs(x).max(axis=1, keepdims=True).astype(np.float64)
    v = x / s * dv.v_read
    if mapping == "differential":
        current = v @ gp - v @ gm
        y_from_i = current / (dv.v_read * dv.g_range) * s
    else:
        assert gm is None
        g_ref = np.full_like(gp, 0.5 * (dv.g_min + dv.g_max))
        current = v @ gp - v @ g_ref
        y_from_i = 2.0 * current / (dv.v_read * dv.g_range) * s
    assert np.all(np.abs(y - y_from_i) <= 2e-6 * scale + 1e-7)


def test_tiled_equals_untiled_up_to_quantisation():
    rng = np.random.default_rng(2)
    W = rand_w(rng, 20, 30)
    x = rng.standard_normal((12, 30)).astype(np.float32)
    a = AnalogMatrix(20, 30, "ideal", fine(), seed=0)
    b = AnalogMatrix(20, 30, "ideal", fine(tile_rows=7, tile_cols=5), seed=0)
    a.program(W)
    b.program(W)
    np.testing.assert_allclose(b.forward(x), a.forward(x), rtol=0, atol=2e-5)
    d = rng.standard_normal((5, 20)).astype(np.float32)
    np.testing.assert_allclose(b.transposed(d), a.transposed(d), rtol=0, atol=2e-5)

    # coarse converters: DAC is identical (per-vector scale), so the difference is at most
    # half an ADC step per tile conversion plus half a step of the untiled conversion
    pa = Periphery(dac_bits=6, adc_bits=6, out_bound=1.0, read_noise=0.0)
    a = AnalogMatrix(20, 30, "ideal", pa, seed=0)
    b = AnalogMatrix(20, 30, "ideal", pa.replace(tile_rows=7, tile_cols=5), seed=0)
    a.program(W)
    b.program(W)
    half = 2 ** 5 - 1
    s = np.abs(x).max(axis=1, keepdims=True)
    rows = [7, 7, 7, 7, 2]
    bound = s * (sum(rows) / (2 * half) + 30 / (2 * half)) * (1 + 1e-5)
    diff = np.abs(b.forward(x) - a.forward(x))
    assert np.all(diff <= bound)
    assert diff.max() > 0  # the two really quantise differently


def test_ideal_matrix_is_exact():
    rng = np.random.default_rng(3)
    W = rand_w(rng, 20, 30)
    x = rng.standard_normal((7, 30)).astype(np.float32)
    d = rng.standard_normal((7, 20)).astype(np.float32)
    m = IdealMatrix(20, 30)
    m.program(W)
    assert np.array_equal(m.forward(x), x @ W.T)
    assert np.array_equal(m.transposed(d), d @ W)
    m.update(x, d, 0.01)
    np.testing.assert_allclose(m.weights(), W + np.float32(0.01) * (d.T @ x), rtol=1e-6, atol=1e-7)


def test_transposed_ideal_and_ledger():
    rng = np.random.default_rng(4)
    W = rand_w(rng, 20, 30)
    d = rng.standard_normal((9, 20)).astype(np.float32)
    m = AnalogMatrix(20, 30, "ideal", fine(tile_rows=7, tile_cols=5), seed=0)
    m.program(W)
    out = m.transposed(d)
    ref = d.astype(np.float64) @ W.astype(np.float64)
    scale = np.abs(d).astype(np.float64) @ np.abs(W).astype(np.float64)
    assert out.shape == (9, 30)
    assert np.all(np.abs(out - ref) <= 3e-6 * scale + 1e-7)
    assert m.ledger.get("transposed_vectors") == 9
    assert m.ledger.get("mvm_vectors") == 0


# ------------------------------------------------------------------------------------------
# read noise
# ------------------------------------------------------------------------------------------
def _noise_samples(mapping, sigma, model="additive", transposed=False, tiles=(256, 256),
                   n=3000, seed=5, **pkw):
    rng = np.random.default_rng(seed)
    out_f, in_f = 20, 30
    W = rand_w(rng, out_f, in_f)
    device = dev(read_noise_model=model)
    kw = dict(mapping=mapping, tile_rows=tiles[0], tile_cols=tiles[1], **pkw)
    noisy = AnalogMatrix(out_f, in_f, device, fine(read_noise=sigma, **kw), seed=11, w_max=0.5)
    clean = AnalogMatrix(out_f, in_f, device, fine(read_noise=0.0, **kw), seed=11, w_max=0.5)
    noisy.program(0.5 * W)
    clean.program(0.5 * W)
    n_in = out_f if transposed else in_f
    x1 = (rng.standard_normal(n_in) * 0.7).astype(np.float32)
    x = np.repeat(x1[None, :], n, axis=0)
    read = (lambda m: m.transposed(x)) if transposed else (lambda m: m.forward(x))
    e = read(noisy).astype(np.float64) - read(clean).astype(np.float64)
    return noisy, x1, e


@pytest.mark.parametrize("mapping,k,transposed,tiles,fixed", [
    ("differential", 2.0, False, (256, 256), False),
    ("differential", 2.0, False, (7, 5), False),     # noise of tiles adds up to the same formula
    ("reference", 4.0, False, (256, 256), False),
    ("differential", 2.0, True, (7, 5), False),
    ("differential", 2.0, False, (7, 5), True),      # fixed input scaling: s = in_bound
])
def test_additive_read_noise_has_formula_std(mapping, k, transposed, tiles, fixed):
    sigma = 0.05
    pkw = dict(input_scaling="fixed", in_bound=4.0) if fixed else {}
    m, x1, e = _noise_samples(mapping, sigma, transposed=transposed, tiles=tiles, **pkw)
    n = e.shape[0]
    s = 4.0 if fixed else np.abs(x1).max()
    assert np.abs(x1).max() < 4.0
    q = x1 / s  # fine DAC
    sd = m.w_max * s * sigma * math.sqrt(k * float((q.astype(np.float64) ** 2).sum()))
    var = e.var(axis=0, ddof=1)
    lo, hi = chi2_bounds(n, ALPHA / e.shape[1])
    assert np.all(var / sd ** 2 > lo) and np.all(var / sd ** 2 < hi), (var / sd ** 2)
    # zero mean, and no correlation between columns (independent cells)
    assert np.all(np.abs(e.mean(axis=0)) < 5.5 * sd / math.sqrt(n))
    c = np.corrcoef(e.T)[np.triu_indices(e.shape[1], 1)]
    assert np.all(np.abs(c) < 5.5 / math.sqrt(n))
    # pooled over all columns the variance is much tighter
    lo, hi = chi2_bounds(e.size)
    assert lo < var.mean() / sd ** 2 < hi


@pytest.mark.parametrize("mapping,transposed", [("differential", False), ("reference", False),
                                                ("differential", True)])
def test_proportional_read_noise_has_formula_std(mapping, transposed):
    sigma = 0.04
    m, x1, e = _noise_samples(mapping, sigma, model="proportional", tiles=(7, 5),
                              transposed=transposed)
    n = e.shape[0]
    dv = m.device
    s = np.abs(x1).max()
    q2 = (x1.astype(np.float64) / s) ** 2
    gp, gm = m.conductances()
    # each cell: std σ·G (in units of Δg: σ·G/Δg); weight = w_max·(G⁺ − G⁻)/Δg, or
    # w_max·(2G − g_min − g_max)/Δg for the reference mapping
    if mapping == "differential":
        a2 = (gp ** 2 + gm ** 2) / dv.g_range ** 2
    else:
        a2 = 4.0 * gp ** 2 / dv.g_range ** 2
    sd = m.w_max * s * sigma * np.sqrt(a2 @ q2 if transposed else q2 @ a2)
    ratio = e.var(axis=0, ddof=1) / sd ** 2
    lo, hi = chi2_bounds(n, ALPHA / e.shape[1])
    assert np.all(ratio > lo) and np.all(ratio < hi), ratio
    # and it really is different from the additive model on these conductances
    sd_add = m.w_max * s * sigma * math.sqrt((2.0 if mapping == "differential" else 4.0) * q2.sum())
    assert np.abs(sd / sd_add - 1).max() > 0.1


def test_read_noise_is_fresh_each_read_and_seeded():
    def make():
        m = AnalogMatrix(8, 10, "ideal", fine(read_noise=0.1), seed=42)
        m.program(np.full((8, 10), 0.3, dtype=np.float32))
        return m

    x = np.linspace(-1, 1, 10, dtype=np.float32)[None, :]
    a, b = make(), make()
    ya1, ya2 = a.forward(x), a.forward(x)
    yb1, yb2 = b.forward(x), b.forward(x)
    assert not np.array_equal(ya1, ya2)
    assert np.array_equal(ya1, yb1) and np.array_equal(ya2, yb2)


# ------------------------------------------------------------------------------------------
# converters
# ------------------------------------------------------------------------------------------
def _identity_matrix(n, periphery):
    m = AnalogMatrix(n, n, "ideal", periphery, seed=0)
    m.program(np.eye(n, dtype=np.float32))
    return m


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_dac_levels_symmetric_abs_max(bits):
    n = 200
    m = _identity_matrix(n, Periphery(dac_bits=bits, adc_bits=24, out_bound=1.0, read_noise=0.0))
    rng = np.random.default_rng(bits)
    x = np.vstack([np.linspace(-1.3, 1.3, n), rng.standard_normal(n) * 2,
                   rng.uniform(0, 0.01, n)]).astype(np.float32)
    y = m.forward(x).astype(np.float64)
    s = np.abs(x).max(axis=1, keepdims=True)
    L = 2 ** (bits - 1) - 1
    k = y / s * L
    adc_err = 0.5 * n / (2 ** 23 - 1) * L  # half an ADC step, in DAC level units
    assert np.all(np.abs(k - np.rint(k)) < adc_err + 1e-4)  # on the level grid k/L
    k = np.rint(k).astype(int)
    assert np.all(np.abs(k) <= L)
    for row in range(x.shape[0]):
        levels = np.unique(k[row])
        assert len(levels) <= 2 ** bits - 1
        j = np.argmax(np.abs(x[row]))
        assert abs(k[row, j]) == L  # the abs-max input maps to full scale
        np.testing.assert_allclose(y[row, j], x[row, j], rtol=1e-5)
    if bits <= 4:
        assert len(np.unique(k[0])) == 2 ** bits - 1  # a fine ramp uses every level
    # symmetric: -x gives exactly -y
    assert np.array_equal(m.forward(-x), -m.forward(x))
    # and equals the NumPy DAC of the contract
    q, _, _ = quantise(x, bits)
    np.testing.assert_allclose(k, np.rint(q * L), atol=0)


def test_dac_fixed_scaling_clips_and_counts():
    n = 64
    pe = Periphery(dac_bits=8, adc_bits=24, out_bound=1.0, read_noise=0.0,
                   input_scaling="fixed", in_bound=0.5)
    m = _identity_matrix(n, pe)
    rng = np.random.default_rng(8)
    x = rng.uniform(-1, 1, (10, n)).astype(np.float32)
    x[np.abs(np.abs(x) - 0.5) < 1e-3] = 0.2  # keep clear of the boundary
    y = m.forward(x)
    over = np.abs(x) > 0.5
    assert m.ledger.get("dac_clipped") == int(over.sum()) > 0
    np.testing.assert_allclose(y[over], 0.5 * np.sign(x[over]), rtol=1e-6)
    q, s, clipped = quantise(x, 8, abs_max=False, in_bound=0.5)
    assert clipped == int(over.sum())
    np.testing.assert_allclose(y, q * 0.5, atol=0.5 * 0.5 * n / (2 ** 23 - 1) + 1e-7)
    # abs-max scaling never clips
    m2 = _identity_matrix(n, pe.replace(input_scaling="abs-max"))
    m2.forward(x * 10)
    assert m2.ledger.get("dac_clipped") == 0


@pytest.mark.parametrize("tiles", [(256, 256), (7, 5)])
def test_adc_saturation_counted(tiles):
    rng = np.random.default_rng(9)
    out_f, in_f, B = 20, 30, 40
    bits, ob = 6, 0.08
    pe = Periphery(dac_bits=8, adc_bits=bits, out_bound=ob, read_noise=0.0,
                   tile_rows=tiles[0], tile_cols=tiles[1])
    m = AnalogMatrix(out_f, in_f, "ideal", pe, seed=0)
    W = rand_w(rng, out_f, in_f, 1.0)
    m.program(W)
    x = rng.standard_normal((B, in_f)).astype(np.float32)
    y = m.forward(x)
    q, s, _ = quantise(x, 8)
    Wn = m.weights().T.astype(np.float64)  # normalised (w_max = 1), (in, out)
    H = 2 ** (bits - 1) - 1
    expected = 0
    total = np.zeros((B, out_f))
    for a in range(0, in_f, tiles[0]):
        b = min(a + tiles[0], in_f)
        P = q[:, a:b].astype(np.float64) @ Wn[a:b]
        step = max(ob * (b - a), 1.0) / H  # range floored at one full-scale cell
        code = P / step
        # nothing sits on a rounding edge, so the count is unambiguous
        assert np.min(np.abs(np.abs(code) - (H + 0.5))) > 1e-3
        expected += int((np.abs(np.rint(code)) > H).sum())
        total += np.clip(np.rint(code), -H, H) * step
    assert expected > 0
    assert m.ledger.get("adc_saturated") == expected
    np.testing.assert_allclose(y, total * s[:, None], rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------
# pulsed updates
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("w_max", [1.0, 0.25])
def test_deterministic_update_exact_pulses_and_energy(w_max):
    out_f, in_f = 6, 8
    rng = np.random.default_rng(10)
    device = load_preset("ideal")  # linear, 10000 states
    pe = fine(max_pulses=31)
    m = AnalogMatrix(out_f, in_f, device, pe, seed=0, w_max=w_max)
    x = rng.integers(-2, 3, (3, in_f)).astype(np.float32)
    d = rng.integers(-2, 3, (3, out_f)).astype(np.float32)
    lr = w_max / device.states  # k = lr·states/w_max = 1: exactly dᵀx pulses, no rounding
    n = (d.T @ x).astype(np.int64)  # (out, in) requested pulses
    assert np.abs(n).max() <= 31 and np.abs(n).sum() > 0
    g0 = m.conductances()
    m.update(x, d, lr)
    np.testing.assert_allclose(m.weights(), n * w_max / device.states, atol=1e-6 * w_max)
    led = m.ledger
    assert led.get("pulses_up") + led.get("pulses_down") == np.abs(n).sum()
    assert led.get("update_calls") == 1
    # from mid-range every pulse potentiates (G+ for ΔW>0, G- for ΔW<0): pulse energy is
    # V²·G·t at the pre-pulse conductance (g_min + Δg/2)
    assert led.get("pulses_down") == 0
    g_mid = device.g_min + 0.5 * device.g_range
    e = np.abs(n).sum() * device.v_write_up ** 2 * g_mid * device.t_write_up
    np.testing.assert_allclose(led.get("pulse_energy_j"), e, rtol=1e-6)
    gp, gm = m.conductances()
    # exactly one device of each pair moved
    moved_p = np.abs(gp - g0[0]) > 0
    moved_m = np.abs(gm - g0[1]) > 0
    assert not np.any(moved_p & moved_m)
    assert np.array_equal(moved_p | moved_m, (n != 0).T)


def test_deterministic_update_caps_at_max_pulses():
    device = load_preset("ideal")
    m = AnalogMatrix(2, 2, device, fine(max_pulses=3), seed=0)
    x = np.array([[1.0, -1.0]], dtype=np.float32)
    d = np.array([[10.0, 2.0]], dtype=np.float32)
    m.update(x, d, 1.0 / device.states)
    n = np.clip(d.T @ x, -3, 3)
    np.testing.assert_allclose(m.weights(), n / device.states, atol=1e-6)
    assert m.ledger.get("pulses_up") + m.ledger.get("pulses_down") == np.abs(n).sum()


def test_deterministic_stochastic_rounding_is_unbiased():
    device = load_preset("ideal")
    out_f, in_f = 40, 50
    m = AnalogMatrix(out_f, in_f, device, fine(), seed=1)
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, (4, in_f)).astype(np.float32)
    d = rng.uniform(-1, 1, (4, out_f)).astype(np.float32)
    lr = 0.7 / device.states  # ~|n| ≲ 3 pulses, mostly fractional
    req = np.float64(np.float32(lr * device.states)) * (d.T.astype(np.float64) @ x)  # pulses
    reps = 20
    got = np.zeros_like(req)
    for _ in range(reps):
        w0 = m.weights().astype(np.float64)
        m.update(x, d, lr)
        step = (m.weights() - w0) * device.states
        assert np.all(np.abs(step - np.rint(step)) < 1e-2)  # whole pulses only
        step = np.rint(step)
        # each device gets floor(n) or ceil(n) pulses
        assert np.all((step == np.floor(req)) | (step == np.ceil(req)))
        got += step
    # the total error is a sum of independent Bernoulli rounding errors (var f(1-f) each)
    err = got - reps * req
    frac = req - np.floor(req)
    var = reps * frac * (1 - frac)
    assert abs(err.sum()) < 5.5 * math.sqrt(var.sum())
    # i.e. the mean weight change equals lr·dᵀx
    dw = got / reps / device.states
    target = np.float32(lr) * (d.T.astype(np.float64) @ x)
    assert abs((dw - target).mean()) < 5.5 * math.sqrt(var.sum()) / reps / device.states / err.size
    # and per device too: z-scores have unit variance
    ok = (frac > 0.05) & (frac < 0.95)
    z = err[ok] / np.sqrt(var[ok])
    assert 0.7 < z.var() < 1.3


def test_mixed_update_accumulates_digitally():
    device = load_preset("ideal")
    m = AnalogMatrix(3, 4, device, fine(update="mixed"), seed=0)
    x = np.ones((1, 4), dtype=np.float32)
    d = np.array([[1.0, -1.0, 0.5]], dtype=np.float32)
    lr = 0.25 / device.states  # 0.25 pulse per call on columns 0,1 and 0.125 on column 2
    w0 = m.weights()
    for _ in range(3):
        m.update(x, d, lr)
    assert m.ledger.get("pulses_up") + m.ledger.get("pulses_down") == 0
    assert np.array_equal(m.weights(), w0)
    assert m.ledger.get("update_calls") == 3
    assert m.ledger.get("dig_add") == 3 * 12
    m.update(x, d, lr)  # accumulator reaches ±1 pulse on rows 0, 1
    w = m.weights()
    np.testing.assert_allclose(w[0], 1 / device.states, atol=1e-7)
    np.testing.assert_allclose(w[1], -1 / device.states, atol=1e-7)
    np.testing.assert_allclose(w[2], 0, atol=1e-7)
    assert m.ledger.get("pulses_up") + m.ledger.get("pulses_down") == 8
    for _ in range(4):
        m.update(x, d, lr)
    np.testing.assert_allclose(m.weights()[2], 1 / device.states, atol=1e-7)  # 8 × 0.125
    np.testing.assert_allclose(m.weights()[0], 2 / device.states, atol=1e-7)


def test_mixed_update_carries_pulses_beyond_the_cap():
    """The accumulator gives up only what it transferred: a 5-pulse request under a 2-pulse
    cap fires 2 + 2 + 1 over three updates (later ones ask nothing) and then nothing."""
    device = load_preset("ideal")
    m = AnalogMatrix(2, 3, device, fine(update="mixed", max_pulses=2), seed=0)
    x = np.ones((1, 3), dtype=np.float32)
    d = np.array([[1.0, -1.0]], dtype=np.float32)
    zero = np.zeros_like(d)
    fired = []
    for i in range(5):
        before = m.ledger.get("pulses_up") + m.ledger.get("pulses_down")
        m.update(x, d if i == 0 else zero, 5.25 / device.states)
        fired.append(m.ledger.get("pulses_up") + m.ledger.get("pulses_down") - before)
    assert fired == [12, 12, 6, 0, 0]            # 6 devices x (2, 2, 1)
    np.testing.assert_allclose(m.weights()[0], 5 / device.states, atol=1e-6)
    np.testing.assert_allclose(m.weights()[1], -5 / device.states, atol=1e-6)


def test_stochastic_update_mean_is_lr_dtx():
    device = load_preset("ideal")
    out_f, in_f = 20, 30
    m = AnalogMatrix(out_f, in_f, device, fine(update="stochastic", bl=31), seed=2)
    rng = np.random.default_rng(12)
    x = rng.uniform(-1, 1, (5, in_f)).astype(np.float32)
    d = rng.uniform(-1, 1, (5, out_f)).astype(np.float32)
    lr = 1.0 / device.states  # expected |n| ≲ 5 pulses
    k = float(np.float32(lr * device.states))
    mean = k * (d.T.astype(np.float64) @ x)  # pulses, (out, in)
    # coincidence probabilities px·pd never clip here: k·max|x|·max|d| <= BL
    assert k * np.abs(x).max() * np.abs(d).max() <= 31
    reps = 60
    w0 = m.weights().astype(np.float64)
    for _ in range(reps):
        m.update(x, d, lr)
    got = (m.weights() - w0) * device.states
    err = got - reps * mean
    # variance of one update's count ≤ Σ_b BL·p(1-p) + rounding; p = |k x d|/BL
    p = np.abs(k * d.T[:, None, :] * x.T[None, :, :]) / 31  # (out, in, B)
    var = reps * ((31 * p * (1 - p)).sum(axis=2) + 1 / 12)
    z = err / np.sqrt(var)
    assert abs(z.mean()) < 5.5 / math.sqrt(z.size)
    assert 0.5 < z.var() < 1.5
    # mean weight change equals lr·dᵀx
    slope = (got * mean).sum() / (reps * (mean * mean).sum())
    assert abs(slope - 1) < 0.02
    assert m.ledger.get("rng_draws") == reps * 5 * (in_f + out_f) * 31


# ------------------------------------------------------------------------------------------
# pulse response: the Numba kernel against the NumPy reference of device_models
# ------------------------------------------------------------------------------------------
def _ref_step(device: DeviceModel, w: float, up: bool) -> float:
    """The formulas of device_models/model.py docstring, written out here."""
    s, a = 1.0 / device.states, device.up_down
    if device.response == "linear":
        step = s * (1 + a) if up else s * (1 - a)
    elif device.response == "soft-bounds":
        step = 2 * s * (1 + a) * (1 - w) if up else 2 * s * (1 - a) * w
    else:
        nl = device.nonlinearity_up if up else device.nonlinearity_down
        if nl == 0:
            step = s * (1 + a) if up else s * (1 - a)
        else:
            A = device.states / nl
            b = 1 / (1 - math.exp(-device.states / A))
            step = (b - (w if up else 1 - w)) * (1 - math.exp(-1 / A))
    return min(max(w + step, 0.0), 1.0) if up else min(max(w - step, 0.0), 1.0)


def _kernel_train(device, n_up, n_down):
    """Conductance after each single pulse of a 1×1 single-device (reference-mapped) matrix."""
    m = AnalogMatrix(1, 1, device, fine(mapping="reference", max_pulses=1), seed=0, w_max=1.0)
    m.program(np.array([[-1.0]], dtype=np.float32))  # G = g_min
    lr = 2.0 / device.states  # exactly one pulse per call (reference: Δw_min = 2 w_max/states)
    one = np.ones((1, 1), dtype=np.float32)
    g = [m.conductances()[0][0, 0]]
    for k in range(n_up + n_down):
        m.update(one, one if k < n_up else -one, lr)
        g.append(m.conductances()[0][0, 0])
    return np.array(g), m


@pytest.mark.parametrize("params", [
    dict(response="linear", states=40, up_down=0.0),
    dict(response="linear", states=40, up_down=0.3),
    dict(response="soft-bounds", states=30, up_down=-0.2),
    dict(response="exponential", states=40, nonlinearity_up=3.0, nonlinearity_down=1.5),
    dict(response="exponential", states=40, nonlinearity_up=2.0, nonlinearity_down=0.0,
         up_down=0.25),  # the zero-nonlinearity direction falls back to linear
])
def test_pulse_train_matches_reference(params):
    device = dev(**params)
    n_up, n_down = 60, 60  # climbs, saturates at g_max, comes back and saturates at g_min
    g, m = _kernel_train(device, n_up, n_down)
    w = 0.0
    ref = [w]
    for k in range(n_up + n_down):
        w = _ref_step(device, w, k < n_up)
        ref.append(w)
    ref = device.g_min + np.array(ref) * device.g_range
    np.testing.assert_allclose(g, ref, rtol=0, atol=1e-6 * device.g_range)
    # climbs monotonically then descends; reaches (or nearly) the bounds
    assert np.all(np.diff(g[: n_up + 1]) >= 0) and np.all(np.diff(g[n_up:]) <= 0)
    assert g.max() <= device.g_max and g.min() >= device.g_min
    if params["response"] != "soft-bounds":
        assert g[n_up] == pytest.approx(device.g_max, rel=1e-6)
        assert g[-1] == pytest.approx(device.g_min, rel=1e-5)
    try:
        from device_models.response import pulse_train
    except ImportError:  # pragma: no cover - the NumPy reference is optional here
        return
    ref2 = pulse_train(device, n_up, n_down, n_devices=1, seed=0)[0]
    np.testing.assert_allclose(g, ref2, rtol=0, atol=1e-6 * device.g_range)


@pytest.mark.parametrize("params", [
    dict(response="exponential", states=40, nonlinearity_up=0.5, nonlinearity_down=2.0, c2c=2.0),
    dict(response="soft-bounds", states=30, up_down=0.2, c2c=0.5, d2d=0.2),
])
def test_noisy_pulse_trains_match_reference_in_distribution(params):
    response = pytest.importorskip("device_models.response")
    device = dev(**params)
    out_f, in_f, n_up, n_down = 40, 50, 25, 25
    N = out_f * in_f
    m = AnalogMatrix(out_f, in_f, device, fine(mapping="reference", max_pulses=1), seed=1)
    m.program(-np.ones((out_f, in_f), np.float32))  # every device at g_min
    x = np.ones((1, in_f), np.float32)
    d = np.ones((1, out_f), np.float32)
    ours = [m.conductances()[0].ravel()]
    for k in range(n_up + n_down):
        m.update(x, d if k < n_up else -d, 2.0 / device.states)  # one pulse per device
        ours.append(m.conductances()[0].ravel())
    ours = np.array(ours).T  # (N, steps)
    ref = response.pulse_train(device, n_up, n_down, n_devices=N, seed=3)
    k = ours.shape[1]
    z = stats.norm.isf(ALPHA / 2 / k)
    for j in range(1, k):
        a, b = ours[:, j], ref[:, j]
        assert abs(a.mean() - b.mean()) < z * math.sqrt((a.var() + b.var()) / N), j
        f = a.var(ddof=1) / b.var(ddof=1)
        assert stats.f.ppf(ALPHA / 2 / k, N - 1, N - 1) < f < stats.f.isf(ALPHA / 2 / k, N - 1, N - 1), j


def test_tiny_exponential_nonlinearity_is_linear():
    lin = dev(response="linear", states=40, up_down=0.2)
    g_lin, _ = _kernel_train(lin, 30, 30)
    for nl in (5e-324, 1e-15):
        expo = dev(response="exponential", states=40, up_down=0.2, nonlinearity_up=nl,
                   nonlinearity_down=nl)
        g, _ = _kernel_train(expo, 30, 30)
        np.testing.assert_allclose(g, g_lin, rtol=0, atol=1e-6 * lin.g_range)


def test_multi_pulse_update_equals_single_pulses():
    device = dev(response="soft-bounds", states=50)
    g1, _ = _kernel_train(device, 20, 0)
    m = AnalogMatrix(1, 1, device, fine(mapping="reference", max_pulses=31), seed=0)
    m.program(np.array([[-1.0]], dtype=np.float32))
    m.update(np.ones((1, 1), np.float32), np.ones((1, 1), np.float32), 2.0 * 20 / device.states)
    assert m.conductances()[0][0, 0] == pytest.approx(g1[-1], rel=1e-6)


# ------------------------------------------------------------------------------------------
# bounds (property test)
# ------------------------------------------------------------------------------------------
hyp = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def _device_and_updates(draw):
    response = draw(st.sampled_from(["linear", "soft-bounds", "exponential"]))
    kw = dict(response=response, states=draw(st.integers(2, 60)),
              up_down=draw(st.floats(-0.9, 0.9)),
              c2c=draw(st.sampled_from([0.0, 0.1, 0.5, 3.0])),
              d2d=draw(st.sampled_from([0.0, 0.1, 0.5, 2.0])),
              policy=draw(st.sampled_from(["bidirectional", "bidirectional", "potentiate-only"])))
    if response == "exponential":
        kw["nonlinearity_up"] = draw(st.floats(0.0, 8.0))
        kw["nonlinearity_down"] = draw(st.floats(0.0, 8.0))
    pe = dict(mapping=draw(st.sampled_from(["differential", "reference"])),
              update=draw(st.sampled_from(["deterministic", "stochastic", "mixed"])),
              max_pulses=draw(st.integers(1, 40)))
    steps = draw(st.lists(st.tuples(st.floats(-50, 50), st.integers(0, 2**31 - 1)),
                          min_size=1, max_size=6))
    return kw, pe, steps, draw(st.integers(0, 1000))


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_device_and_updates())
def test_updates_never_leave_conductance_window(case):
    kw, pe, steps, seed = case
    device = dev(**kw)
    m = AnalogMatrix(5, 4, device, fine(**pe), seed=seed)
    rng = np.random.default_rng(seed)
    m.program(rng.uniform(-1.2, 1.2, (5, 4)).astype(np.float32))
    for lr, s in steps:
        r = np.random.default_rng(s)
        x = (r.standard_normal((3, 4)) * r.uniform(0, 3)).astype(np.float32)
        d = (r.standard_normal((3, 5)) * r.uniform(0, 3)).astype(np.float32)
        m.update(x, d, lr)
        for g in m.conductances():
            if g is None:
                continue
            assert np.all(np.isfinite(g))
            assert np.all(g >= device.g_min) and np.all(g <= device.g_max)
        w = m.weights()
        assert np.all(np.abs(w) <= m.w_max * (1 + 1e-6))


# ------------------------------------------------------------------------------------------
# variability, faults, wear, drift
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_d2d_step_factor_has_set_std(sign):
    d2d = 0.15
    device = dev(d2d=d2d, states=1000)
    m = AnalogMatrix(100, 100, device, fine(), seed=7)
    g0p, g0m = m.conductances()
    one = np.ones((1, 100), dtype=np.float32)
    m.update(one, sign * one, 1.0 / device.states)  # one nominal pulse per device
    gp, gm = m.conductances()
    # from mid-range, ΔW > 0 potentiates G+ and ΔW < 0 potentiates G-
    moved = (gp - g0p) if sign > 0 else (gm - g0m)
    other = (gm - g0m) if sign > 0 else (gp - g0p)
    assert np.all(other == 0)
    f = (moved / device.dg_min).ravel()
    n = f.size
    assert abs(f.mean() - 1) < 5.5 * d2d / math.sqrt(n)
    lo, hi = chi2_bounds(n)
    assert lo < f.var(ddof=1) / d2d ** 2 < hi


@pytest.mark.parametrize("c2c", [0.2, 3.0])
def test_c2c_step_noise_has_set_std_and_is_fresh_per_pulse(c2c):
    # the step is multiplied by (1 + c2c·N(0,1)), not clipped: large c2c (the NeuroSim-derived
    # presets have 3.4-4.7) means some pulses move the device backwards, mean step stays nominal
    device = dev(c2c=c2c, states=1000)
    m = AnalogMatrix(100, 100, device, fine(), seed=8)
    one = np.ones((1, 100), dtype=np.float32)
    steps = []
    for _ in range(2):
        # one pulse per pair (whichever device the pair rule picks), then one back
        w0 = m.weights().astype(np.float64)
        m.update(one, one, 1.0 / device.states)
        steps.append(((m.weights() - w0) * device.states / m.w_max).ravel())
        m.update(one, -one, 1.0 / device.states)
    f = steps[0]
    assert abs(f.mean() - 1) < 5.5 * c2c / math.sqrt(f.size)
    lo, hi = chi2_bounds(f.size)
    assert lo < f.var(ddof=1) / c2c ** 2 < hi
    # a new draw at every pulse: the same device's two steps are uncorrelated
    assert abs(np.corrcoef(steps[0], steps[1])[0, 1]) < 5.5 / math.sqrt(f.size)


def test_stuck_devices_have_set_fractions_and_never_move():
    device = dev(stuck_on=0.1, stuck_off=0.15, states=200, c2c=0.1, drift_nu=0.1)
    R = C = 100
    m = AnalogMatrix(C, R, device, fine(), seed=3)
    gp, gm = m.conductances()
    n = 2 * R * C
    g = np.concatenate([gp.ravel(), gm.ravel()])
    on = np.isclose(g, device.g_max, rtol=0, atol=1e-12)
    off = np.isclose(g, device.g_min, rtol=0, atol=1e-12)
    for frac, mask in ((0.1, on), (0.15, off)):
        sd = math.sqrt(frac * (1 - frac) / n)
        assert abs(mask.mean() - frac) < 5.5 * sd
    stuck_p = np.isclose(gp, device.g_max, atol=1e-12) | np.isclose(gp, device.g_min, atol=1e-12)
    stuck_m = np.isclose(gm, device.g_max, atol=1e-12) | np.isclose(gm, device.g_min, atol=1e-12)
    sp, sm = gp[stuck_p].copy(), gm[stuck_m].copy()
    rng = np.random.default_rng(4)
    for i in range(6):
        x = rng.standard_normal((4, R)).astype(np.float32)
        d = rng.standard_normal((4, C)).astype(np.float32)
        m.update(x, d, 0.05 * (-1) ** i)
        m.program(rng.uniform(-1, 1, (C, R)).astype(np.float32))
        m.advance_time(100.0)
        gp2, gm2 = m.conductances()
        assert np.array_equal(gp2[stuck_p], sp) and np.array_equal(gm2[stuck_m], sm)
    # the healthy devices did move
    assert np.mean(gp2[~stuck_p] != gp[~stuck_p]) > 0.9


def test_endurance_device_stops_after_n_pulses():
    device = dev(states=100, endurance=10)
    g, m = _kernel_train(device, 15, 0)
    steps = np.diff(g)
    np.testing.assert_allclose(steps[:10], device.dg_min, rtol=1e-5)
    assert np.all(steps[10:] == 0)
    # a single update of 25 pulses on a fresh device moves it by exactly `endurance` steps
    m = AnalogMatrix(1, 1, device, fine(mapping="reference", max_pulses=31), seed=0)
    m.program(np.array([[-1.0]], dtype=np.float32))
    one = np.ones((1, 1), np.float32)
    m.update(one, one, 2.0 * 25 / device.states)
    g1 = m.conductances()[0][0, 0]
    assert g1 == pytest.approx(device.g_min + 10 * device.dg_min, rel=1e-5)
    # worn out means stuck: neither pulses nor programming move it any more
    m.update(one, -one, 2.0 * 5 / device.states)
    m.program(np.array([[0.8]], dtype=np.float32))
    assert m.conductances()[0][0, 0] == g1


def _drift_matrix(seed=0, nu_std=0.0):
    device = dev(drift_nu=0.06, drift_nu_std=nu_std, drift_t0=1.0)
    m = AnalogMatrix(30, 40, device, fine(), seed=seed)
    rng = np.random.default_rng(5)
    m.program(rng.uniform(-0.5, 0.5, (30, 40)).astype(np.float32))
    return m


def test_drift_follows_power_law_and_composes():
    a, b = _drift_matrix(), _drift_matrix()
    g0p, g0m = a.conductances()
    for dt in (0.5, 3.0, 20.0, 76.5):
        a.advance_time(dt)
    b.advance_time(100.0)
    assert a.time == b.time == 100.0
    for ga, gb, g0 in zip(a.conductances(), b.conductances(), (g0p, g0m)):
        np.testing.assert_allclose(ga, gb, rtol=2e-6)
        # programmed at t = 0, ages below t0 count as t0: G(100) = G(t0)·(100/t0)^(−ν)
        np.testing.assert_allclose(ga / g0, 100.0 ** -0.06, rtol=2e-6)


def test_drift_exponent_spread_and_restart_after_pulse():
    m = _drift_matrix(seed=1, nu_std=0.01)
    g0p, _ = m.conductances()
    m.advance_time(1000.0)
    g1p, g1m = m.conductances()
    nu = -np.log(g1p / g0p) / math.log(1000.0)
    assert abs(nu.mean() - 0.06) < 5.5 * 0.01 / math.sqrt(nu.size)
    lo, hi = chi2_bounds(nu.size)
    assert lo < nu.var(ddof=1) / 0.01 ** 2 < hi * 1.001
    # pulse some G+ devices at t = 1000: their drift clock restarts
    x = np.zeros((1, 40), np.float32)
    x[0, :10] = 1
    d = np.ones((1, 30), np.float32)
    m.update(x, d, 1.0 / m.device.states)
    g2p, g2m = m.conductances()
    pulsed = g2p != g1p
    assert pulsed[:10].all() and not pulsed[10:].any()
    m.advance_time(10.0)
    g3p, g3m = m.conductances()
    nu_p = -np.log(g1p / g0p) / math.log(1000.0)  # each device's own ν
    np.testing.assert_allclose(g3p[pulsed] / g2p[pulsed], 10.0 ** -nu_p[pulsed], rtol=2e-5)
    np.testing.assert_allclose(g3p[~pulsed] / g2p[~pulsed], (1010 / 1000) ** -nu_p[~pulsed],
                               rtol=2e-5)


# ------------------------------------------------------------------------------------------
# reproducibility across thread counts
# ------------------------------------------------------------------------------------------
_REPRO = textwrap.dedent("""
    import hashlib, numpy as np, numba
    from crossbar.analog import AnalogMatrix
    from crossbar import Periphery
    from device_models import DeviceModel
    dv = DeviceModel(name="r", states=200, response="soft-bounds", c2c=0.3, d2d=0.2,
                     read_noise=0.03, prog_noise=0.02, stuck_off=0.01, drift_nu=0.05,
                     drift_nu_std=0.01, endurance=50)
    h = hashlib.sha256()
    rng = np.random.default_rng(0)
    # large enough (> 2e5 elements per kernel call) that kernels really run multi-threaded
    for (out_f, in_f, B, tiles) in ((50, 70, 96, (32, 24)), (400, 520, 520, (256, 256))):
        x = rng.standard_normal((B, in_f)).astype(np.float32)
        d = rng.standard_normal((B, out_f)).astype(np.float32)
        for upd, model in (("deterministic", "additive"), ("stochastic", "proportional"),
                           ("mixed", "additive")):
            pe = Periphery(tile_rows=tiles[0], tile_cols=tiles[1], update=upd, out_bound=0.2)
            m = AnalogMatrix(out_f, in_f, dv.replace(read_noise_model=model), pe, seed=123)
            m.program(rng.uniform(-1, 1, (out_f, in_f)).astype(np.float32))
            for _ in range(2):
                h.update(m.forward(x).tobytes())
                h.update(m.transposed(d).tobytes())
                m.update(x, d, 0.01)
                m.advance_time(5.0)
            h.update(m.weights().tobytes())
            h.update(repr(sorted(m.ledger.by_phase()["default"].items())).encode())
    print(numba.get_num_threads(), h.hexdigest())
""")


def _start_repro(threads: int) -> subprocess.Popen:
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen([sys.executable, "-c", _REPRO], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO)


def _repro_result(p: subprocess.Popen) -> tuple[str, str]:
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    n, digest = out.split()
    return n, digest


def test_same_seed_same_results_with_1_and_2_threads():
    # side by side: each process's import is single-threaded, so the pair takes about one's time
    procs = [_start_repro(1), _start_repro(2)]
    try:
        (n1, h1), (n2, h2) = (_repro_result(p) for p in procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert (n1, n2) == ("1", "2")
    assert h1 == h2


def test_apply_delta_fires_the_same_under_stochastic_and_deterministic():
    """An arbitrary change (Adam's step) has no row and column streams: under the stochastic
    scheme apply_delta fires the deterministic scheme's rounded counts. Runs refuse adam with
    update = stochastic on this ground (analogff.experiment.hyperparameters); if this test
    fails, that refusal is wrong."""
    def run(update):
        dv = dev(c2c=0.2, d2d=0.1, read_noise=0.05, states=300)
        m = AnalogMatrix(10, 12, dv, Periphery(update=update), seed=9)
        rng = np.random.default_rng(1)
        m.program(rng.uniform(-1, 1, (10, 12)).astype(np.float32))
        m.apply_delta(0.05 * rng.standard_normal((10, 12)).astype(np.float32))
        return m.conductances()[0].copy(), [m.ledger.get(k) for k in
                                            ("pulses_up", "pulses_down", "pulse_energy_j")]

    gd, ld = run("deterministic")
    gs, ls = run("stochastic")
    assert np.array_equal(gd, gs) and ld == ls
    assert ld[0] + ld[1] > 0


def test_same_seed_same_results_in_process():
    def run():
        dv = dev(c2c=0.2, d2d=0.1, read_noise=0.05, prog_noise=0.03, states=300)
        m = AnalogMatrix(10, 12, dv, Periphery(update="stochastic"), seed=9)
        rng = np.random.default_rng(1)
        m.program(rng.uniform(-1, 1, (10, 12)).astype(np.float32))
        x = rng.standard_normal((5, 12)).astype(np.float32)
        d = rng.standard_normal((5, 10)).astype(np.float32)
        m.update(x, d, 0.1)
        return hashlib.sha256(m.forward(x).tobytes() + m.weights().tobytes()).hexdigest()

    assert run() == run()


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw,field", [
    (dict(adc_bits=0), "adc_bits"), (dict(dac_bits=25), "dac_bits"),
    (dict(read_noise=-0.1), "read_noise"), (dict(out_bound=0.0), "out_bound"),
    (dict(tile_rows=0), "tile_rows"), (dict(update="adam"), "update"),
    (dict(mapping="single"), "mapping"), (dict(max_pulses=0), "max_pulses"),
    (dict(read_noise=float("nan")), "read_noise"),
])
def test_bad_periphery_names_field(kw, field):
    with pytest.raises(PeripheryParameterError, match=field):
        Periphery(**kw)


@pytest.mark.parametrize("kw,field", [
    (dict(g_max=0.5e-6), "g_max"), (dict(states=1), "states"),
    (dict(states=10.5), "states"), (dict(c2c=-0.1), "c2c"), (dict(d2d=float("inf")), "d2d"),
    (dict(read_noise=-1.0), "read_noise"), (dict(response="quadratic"), "response"),
    (dict(up_down=1.0), "up_down"), (dict(stuck_on=0.7, stuck_off=0.7), "stuck"),
    (dict(drift_t0=0.0), "drift_t0"), (dict(g_min=-1.0), "g_min"),
    (dict(endurance=-1), "endurance"),  # ranges without an upper bound
    (dict(read_noise_model="pink"), "read_noise_model"),
])
def test_bad_device_names_field(kw, field):
    with pytest.raises(DeviceParameterError, match=field):
        dev(**kw)


@pytest.mark.parametrize("scheme", ["deterministic", "stochastic", "mixed"])
def test_empty_batch_is_a_no_op(scheme):
    m = AnalogMatrix(4, 6, "ideal", Periphery(read_noise=0.1, update=scheme), seed=0)
    w0 = m.weights()
    assert m.forward(np.zeros((0, 6), np.float32)).shape == (0, 4)
    assert m.transposed(np.zeros((0, 4), np.float32)).shape == (0, 6)
    m.update(np.zeros((0, 6)), np.zeros((0, 4)), 0.1)
    assert np.array_equal(m.weights(), w0)
    assert m.ledger.get("mvm_vectors") == 0 and m.ledger.get("pulses_up") == 0


def test_bad_inputs_raise_clear_errors():
    m = AnalogMatrix(4, 6, "ideal", Periphery(), seed=0)
    x = np.zeros((2, 6), np.float32)
    for bad in (np.nan, np.inf, -np.inf):
        xb = x.copy()
        xb[1, 3] = bad
        with pytest.raises(NonFiniteInputError, match="NaN or infinity"):
            m.forward(xb)
    with pytest.raises(NonFiniteInputError):
        m.transposed(np.full((1, 4), np.nan))
    with pytest.raises(ShapeError, match=r"expected \(batch, 6\)"):
        m.forward(np.zeros((2, 5)))
    with pytest.raises(ShapeError):
        m.forward(np.zeros((2, 6, 1)))
    with pytest.raises(ShapeError):
        m.transposed(np.zeros((2, 6)))
    with pytest.raises(ShapeError, match="rows"):
        m.update(np.zeros((3, 6)), np.zeros((2, 4)), 0.1)
    with pytest.raises(ShapeError):
        m.update(np.zeros((2, 4)), np.zeros((2, 6)), 0.1)
    with pytest.raises(NonFiniteInputError):
        m.update(x, np.full((2, 4), np.nan), 0.1)
    with pytest.raises(ValueError, match="lr"):
        m.update(x, np.ones((2, 4)), float("nan"))
    with pytest.raises(ShapeError):
        m.program(np.zeros((6, 4)))
    with pytest.raises(ValueError, match="NaN"):
        m.program(np.full((4, 6), np.nan))
    with pytest.raises(ValueError, match="dt"):
        m.advance_time(-1.0)
    with pytest.raises(ShapeError):
        AnalogMatrix(0, 3)
    with pytest.raises(ValueError, match="w_max"):
        AnalogMatrix(2, 3, w_max=-1.0)
    with pytest.raises(ShapeError):
        IdealMatrix(2, 3).update(np.zeros((2, 3)), np.zeros((3, 2)), 0.1)
    # errors are ValueErrors (the CLI turns them into one line)
    assert issubclass(NonFiniteInputError, ValueError) and issubclass(ShapeError, ValueError)
    assert issubclass(PeripheryParameterError, ValueError)


def test_potentiate_only_pairs_never_depress_and_refresh_keeps_weight():
    device = dev(states=100, policy="potentiate-only")
    m = AnalogMatrix(1, 1, device, fine(max_pulses=31), seed=0)
    one = np.ones((1, 1), np.float32)
    lr = 8.0 / device.states  # 8 pulses per call
    pattern = [1, 1, -1, 1, 1, 1, -1, 1, 1, 1, 1, -1, -1, 1, 1, 1, -1, 1]  # |W| <= 0.64
    w_expected = 0.0
    refreshed = False
    for sgn in pattern:
        gp0, gm0 = (g[0, 0] for g in m.conductances())
        down0 = m.ledger.get("pulses_down")
        m.update(one, sgn * one, lr)
        w_expected += sgn * 8 / device.states
        gp, gm = (g[0, 0] for g in m.conductances())
        if m.ledger.get("pulses_down") > down0:
            # refresh: both devices RESET (two down pulses), the difference re-programmed on one
            assert m.ledger.get("pulses_down") - down0 == 2
            assert min(gp, gm) == device.g_min
            assert max(gp, gm) == pytest.approx(device.g_min + abs(w_expected) * device.g_range)
            refreshed = True
        else:
            # potentiate-only: positive requests raise G+, negative ones raise G-
            assert (gp > gp0 and gm == gm0) if sgn > 0 else (gm > gm0 and gp == gp0)
        assert m.weights()[0, 0] == pytest.approx(w_expected, abs=1.5e-6)
    assert refreshed
