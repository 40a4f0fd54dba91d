"""The ledger: its counts equal what was asked, per phase; cell read energy from conductances."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from crossbar import COUNTERS, IdealMatrix, Ledger, Periphery
from crossbar.analog import AnalogMatrix
from device_models import DeviceModel


def _quantise(x, bits):
    x = np.asarray(x, dtype=np.float32)
    L = np.float32(2 ** (bits - 1) - 1)
    s = np.abs(x).max(axis=1)
    s = np.where(s > 0, s, np.float32(1)).astype(np.float32)
    return (np.rint(np.clip(x * (L / s)[:, None], -L, L)) / L).astype(np.float64)


def _matrix(mapping="differential", **kw):
    dv = DeviceModel(name="led", g_min=2e-6, g_max=20e-6, states=500, v_read=0.3, t_read=20e-9,
                     v_write_up=1.5, v_write_down=1.2, t_write_up=30e-9, t_write_down=40e-9)
    pe = Periphery(dac_bits=7, adc_bits=8, out_bound=0.3, tile_rows=7, tile_cols=5,
                   mapping=mapping, **kw)
    led = Ledger()
    m = AnalogMatrix(20, 30, dv, pe, seed=4, ledger=led, name="W1")
    rng = np.random.default_rng(0)
    led.phase = "init"
    m.program(rng.uniform(-1, 1, (20, 30)).astype(np.float32))
    return m, led, rng


@pytest.mark.parametrize("mapping", ["differential", "reference"])
def test_counts_per_phase(mapping):
    m, led, rng = _matrix(mapping)
    n_row_tiles, n_col_tiles = math.ceil(30 / 7), math.ceil(20 / 5)
    n_dev = 2 * 600 if mapping == "differential" else 600
    assert led.get("programmed_devices", phase="init") == n_dev

    led.phase = "positive"
    m.forward(rng.standard_normal((6, 30)))
    m.forward(rng.standard_normal((4, 30)))
    led.phase = "transposed"
    m.transposed(rng.standard_normal((3, 20)))
    led.phase = "update"
    m.update(rng.standard_normal((5, 30)), rng.standard_normal((5, 20)), 0.01)
    m.update(rng.standard_normal((5, 30)), rng.standard_normal((5, 20)), 0.01)

    B = 10
    assert led.get("mvm_vectors", phase="positive") == B
    assert led.get("macs", phase="positive") == B * 30 * 20
    assert led.get("dac_conversions", phase="positive") == B * 30 * n_col_tiles
    assert led.get("adc_conversions", phase="positive") == B * 20 * n_row_tiles
    assert led.get("transposed_vectors", phase="positive") == 0
    assert led.get("transposed_vectors", phase="transposed") == 3
    assert led.get("macs", phase="transposed") == 3 * 600
    assert led.get("dac_conversions", phase="transposed") == 3 * 20 * n_row_tiles
    assert led.get("adc_conversions", phase="transposed") == 3 * 30 * n_col_tiles
    assert led.get("update_calls", phase="update") == 2
    assert led.get("update_calls") == 2
    assert led.get("mvm_vectors", phase="update") == 0
    assert led.get("pulses_up", phase="update") + led.get("pulses_down", phase="update") > 0
    assert led.get("pulses_up", phase="positive") == 0
    assert set(led.phases()) == {"init", "positive", "transposed", "update"}
    bp = led.by_phase()
    assert bp["positive"]["mvm_vectors"] == B and bp["update"]["update_calls"] == 2
    assert led.get("mvm_vectors", matrix="W1") == B
    assert led.get("mvm_vectors", matrix="other") == 0


def test_pulse_counts_and_energy_per_polarity():
    m, led, _ = _matrix()
    dv = m.device
    m.program(np.zeros((20, 30), np.float32))  # every device at mid-range
    led.phase = "update"
    x = np.zeros((1, 30), np.float32)
    x[0, :3] = 1
    d = np.zeros((1, 20), np.float32)
    d[0, :2] = [2, -3]
    # k = lr·states/w_max = 1: requests d·x pulses exactly, no rounding
    m.update(x, d, 1.0 / dv.states)
    # from w+ = w- = 0.5 every pulse potentiates: +2 on G+ of 3 pairs, -3 on G- of 3 pairs
    assert led.get("pulses_up", phase="update") == 3 * (2 + 3)
    assert led.get("pulses_down", phase="update") == 0
    g_mid = dv.g_min + 0.5 * dv.g_range
    e_up = dv.v_write_up ** 2 * g_mid * dv.t_write_up
    assert led.get("pulse_energy_j", phase="update") == pytest.approx(15 * e_up, rel=1e-9)
    # now the pairs sit above mid-range: the opposite request depresses the pulsed device
    gp0, gm0 = m.conductances()
    m.update(x, -d, 1.0 / dv.states)
    assert led.get("pulses_down", phase="update") == 15
    e_dn = dv.v_write_down ** 2 * dv.t_write_down * (
        2 * 3 * gp0[0, 0] + 3 * 3 * gm0[0, 1])
    assert led.get("pulse_energy_j", phase="update") == pytest.approx(15 * e_up + e_dn, rel=1e-6)
    np.testing.assert_allclose(m.weights(), 0, atol=1e-6)


@pytest.mark.parametrize("transposed", [False, True])
def test_cell_read_energy_from_conductances(transposed):
    m, led, rng = _matrix()
    dv = m.device
    led.phase = "read"
    gp, gm = m.conductances()  # (in, out)
    gsum = gp + gm
    if transposed:
        d = rng.standard_normal((7, 20)).astype(np.float32)
        d[0] = 0  # an all-zero vector costs nothing
        m.transposed(d)
        q = _quantise(d, 7)
        # Σ_b Σ_j Σ_i (q_bj v_read)² (G⁺_ij + G⁻_ij) t_read
        e = ((q * dv.v_read) ** 2 @ gsum.sum(axis=0)).sum() * dv.t_read
    else:
        x = rng.standard_normal((7, 30)).astype(np.float32)
        m.forward(x)
        q = _quantise(x, 7)
        # Σ_b Σ_i Σ_j (q_bi v_read)² (G⁺_ij + G⁻_ij) t_read
        e = np.einsum("bi,ij->", (q * dv.v_read) ** 2, gsum) * dv.t_read
    assert e > 0
    assert led.get("cell_read_energy_j", phase="read") == pytest.approx(e, rel=1e-5)
    # and it follows the conductances: after an update the same read costs differently
    before = led.get("cell_read_energy_j", phase="read")
    m.update(rng.standard_normal((3, 30)), rng.standard_normal((3, 20)), 0.5)
    gp, gm = m.conductances()
    x = np.ones((1, 30), np.float32)
    m.forward(x)
    e2 = (dv.v_read ** 2) * (gp + gm).sum() * dv.t_read
    assert led.get("cell_read_energy_j", phase="read") - before == pytest.approx(e2, rel=1e-5)


def test_clipping_counters_and_shared_ledger():
    led = Ledger()
    pe = Periphery(input_scaling="fixed", in_bound=0.5, out_bound=0.01, tile_rows=8)
    a = AnalogMatrix(4, 16, "ideal", pe, seed=0, ledger=led, name="A")
    b = AnalogMatrix(4, 16, "ideal", pe, seed=0, ledger=led, name="A")  # same name: renamed
    i = IdealMatrix(4, 16, ledger=led, name="I")
    assert a.name == "A" and b.name != "A" and set(led.matrices) == {"A", b.name, "I"}
    assert led.matrices["A"]["tile_rows"] == 8 and led.matrices["I"]["analog"] is False
    a.program(np.ones((4, 16), np.float32))
    x = np.full((2, 16), 0.3, np.float32)
    x[:, :3] = 0.9  # 3 values per vector beyond in_bound
    a.forward(x)
    assert led.get("dac_clipped", matrix="A") == 6
    # column sums 13·0.6 + 3·1 (8-row tiles: 3+5·0.6 = 6 and 8·0.6 = 4.8) >> 0.01·8
    assert led.get("adc_saturated", matrix="A") == 2 * 4 * 2
    assert led.get("adc_conversions", matrix="A") == 2 * 4 * 2
    i.forward(x)
    assert led.get("mvm_vectors") == 4 and led.get("mvm_vectors", matrix="I") == 2
    assert led.get("macs", matrix="I") == 2 * 64
    assert led.get("adc_conversions", matrix="I") == 0
    assert led.get("mvm_vectors", matrix=b.name) == 0


def test_to_dict_round_trip_and_json():
    m, led, rng = _matrix()
    led.phase = "positive"
    m.forward(rng.standard_normal((3, 30)))
    led.phase = "update"
    m.update(rng.standard_normal((2, 30)), rng.standard_normal((2, 20)), 0.02)
    led.digital(dig_mac=17, sram_read_bits=64)
    d = led.to_dict()
    d2 = json.loads(json.dumps(d))
    back = Ledger.from_dict(d2)
    assert back.to_dict() == d
    for c in COUNTERS:
        for p in led.phases():
            assert back.get(c, phase=p) == pytest.approx(led.get(c, phase=p), rel=1e-12)
    assert back.matrices == led.matrices
    assert back.get("dig_mac", phase="update", matrix="digital") == 17
    # entries list only non-zero counters
    assert all(v != 0 for row in d["entries"] for k, v in row.items() if k in COUNTERS)


def test_merge_adds_scaled_counts():
    a, b = Ledger(), Ledger()
    a.phase = b.phase = "positive"
    a.add("W", mvm_vectors=10, cell_read_energy_j=1e-9)
    b.add("W", mvm_vectors=4, cell_read_energy_j=3e-9)
    b.phase = "update"
    b.add("V", pulses_up=7)
    b.matrices["V"] = {"rows": 3}
    a.merge(b)
    assert a.get("mvm_vectors", phase="positive") == 14
    assert a.get("cell_read_energy_j") == pytest.approx(4e-9)
    assert a.get("pulses_up", phase="update", matrix="V") == 7
    assert a.matrices["V"] == {"rows": 3}
    a.merge(b, scale=2.5)
    assert a.get("mvm_vectors", phase="positive") == 24
    assert a.get("pulses_up") == pytest.approx(7 + 17.5)
    # a scaled (extrapolated) count survives the dict round trip
    assert Ledger.from_dict(a.to_dict()).get("pulses_up") == pytest.approx(24.5)


def test_unknown_counter_and_reset():
    led = Ledger()
    with pytest.raises(KeyError, match="nope"):
        led.add("W", nope=1)
    led.add("W", macs=5)
    led.reset()
    assert led.get("macs") == 0 and led.phases() == []
