"""Pricing rules: sums, ADC bit scaling, array term by hand, node scaling, estimate extras."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analogff.estimate import build_ledgers, estimate
from reports import COMPONENTS, Hardware, price_digital, price_ledger, tile_mvm
from reports import technology as T
from reports.components import Costs


def build_ledger(hw, network, algo, batch=1, K=None):
    """The training ledger of one batch: the real algorithm on the counting backend."""
    return build_ledgers(hw, network, algo, batch=batch, K=K)[0]


def _hand_ledger(adc_bits=8):
    return {
        "matrices": {"W": {"analog": True, "rows": 4, "cols": 3, "tile_rows": 4, "tile_cols": 3,
                           "n_tiles": 1, "dac_bits": 8, "adc_bits": adc_bits, "device": "ideal",
                           "v_read": 0.2, "t_read": 1e-8, "g_min": 1e-6, "g_max": 1e-5,
                           "mapping": "differential"},
                     "digital": {"analog": False}},
        "entries": [
            {"phase": "positive", "matrix": "W", "mvm_vectors": 5, "macs": 60,
             "dac_conversions": 20, "adc_conversions": 15, "cell_read_energy_j": 3.0e-15},
            {"phase": "update", "matrix": "W", "update_calls": 1, "pulses_up": 7,
             "pulses_down": 2, "pulse_energy_j": 9e-13},
            {"phase": "positive", "matrix": "digital", "dig_mac": 10, "dig_cmp": 3,
             "sram_read_bits": 64, "dram_write_bits": 8},
        ],
    }


@pytest.mark.parametrize("adc_type", ["sar", "flash", "cco"])
@pytest.mark.parametrize("algo", ["pff", "ff", "bp"])
def test_total_is_sum_of_parts(algo, adc_type):
    hw = Hardware(tile_rows=8, tile_cols=8, cols_per_adc=4, adc_type=adc_type)
    led = build_ledger(hw, [16, 20, 20, 4], algo, batch=4, K=3 if algo == "pff" else None)
    p = price_ledger(led, hw)
    assert list(p["by_component_j"]) == list(COMPONENTS)
    assert p["total_j"] == math.fsum(p["by_component_j"].values())
    assert p["total_j"] > 0
    assert math.isclose(math.fsum(p["by_phase_j"].values()), p["total_j"], rel_tol=1e-12)
    assert math.isclose(math.fsum(p["by_matrix_j"].values()), p["total_j"], rel_tol=1e-12)
    for ph, row in p["by_phase_component_j"].items():
        assert math.isclose(math.fsum(row.values()), p["by_phase_j"][ph], rel_tol=1e-12)
    assert math.isclose(p["area_mm2"], math.fsum(p["area_breakdown_mm2"].values()), rel_tol=1e-12)
    d = price_digital(led, 22, "int8")
    assert d["total_j"] == math.fsum(d["by_component_j"].values())


def test_hand_ledger_components():
    hw = Hardware()
    c = Costs(hw)
    p = price_ledger(_hand_ledger(), hw)
    bc = p["by_component_j"]
    assert bc["array"] == pytest.approx(3.0e-15, rel=1e-12)           # taken from the ledger
    assert bc["write_pulses"] == pytest.approx(9e-13, rel=1e-12)      # taken from the ledger
    assert bc["adc"] == pytest.approx(15 * c.e_adc(8), rel=1e-12)
    assert bc["dac"] == pytest.approx(20 * c.e_dac(3 * 2), rel=1e-12)
    assert bc["dram"] == pytest.approx(8 * T.dram_energy_per_bit("ddr"), rel=1e-12)
    assert bc["verify"] == 0.0


def test_sar_law_by_hand():
    """SAR: (B+1) cycles of (c_logic·F + 2^B·c_cmp)·V² + a 2^B unit capacitor DAC + the
    thermal envelope."""
    from reports.converters import thermal_envelope_j
    from reports.converters.adc import SAR_C_CMP, SAR_C_STEP_PER_NM, SAR_C_UNIT

    c = Costs(Hardware(node_nm=65, v_analog=0.85))
    for b in (1, 4, 8, 12):
        hand = ((b + 1) * (SAR_C_STEP_PER_NM * 65 + 2 ** b * SAR_C_CMP) + 2 ** b * SAR_C_UNIT) \
            * 0.85 ** 2 + thermal_envelope_j(b)
        assert c.e_adc(b) == pytest.approx(hand, rel=1e-12)
    # the measured CIM converter it was fitted to (Jia 2020, 8 b, 1.79 pJ at 0.85 V): within 25 %
    assert c.e_adc(8) == pytest.approx(1.79e-12, rel=0.25)
    # 2x per bit (capacitor DAC) turns into 4x per bit (thermal) at high resolution
    assert c.e_adc(20) / c.e_adc(19) == pytest.approx(4.0, rel=0.02)
    # through price_ledger the ADC term is conversions x E(B)
    p4 = price_ledger(_hand_ledger(4), Hardware(adc_bits=4))["by_component_j"]["adc"]
    p8 = price_ledger(_hand_ledger(8), Hardware(adc_bits=8))["by_component_j"]["adc"]
    c22 = Costs(Hardware())
    assert p8 / p4 == pytest.approx(c22.e_adc(8) / c22.e_adc(4), rel=1e-12)


def test_flash_costs_more_area_than_sar_at_8_bits():
    sar, flash = Costs(Hardware(adc_type="sar")), Costs(Hardware(adc_type="flash"))
    assert flash.a_adc(8) > sar.a_adc(8)
    assert flash.t_adc(8) < sar.t_adc(8)


def test_array_term_is_v2gt_by_hand_on_a_tiny_tile():
    from crossbar import AnalogMatrix, Ledger, Periphery
    from device_models import load_preset

    dev = load_preset("ideal")
    led = Ledger("positive")
    m = AnalogMatrix(3, 4, device=dev, ledger=led, name="W",
                     periphery=Periphery(dac_bits=2, adc_bits=8, tile_rows=2, tile_cols=2))
    W = np.array([[0.5, -1.0, 0.0, 0.25], [1.0, 0.0, -0.5, 0.75], [0.0, 0.5, 1.0, -0.25]],
                 dtype=np.float32)
    m.program(W)
    x = np.array([[1.0, -1.0, 0.0, 1.0], [0.0, 1.0, 1.0, -1.0]], dtype=np.float32)
    m.forward(x)
    # by hand: q = x (2-bit DAC, levels ±1), G± = g_min + (1/2 ± W/2)·Δg, E = Σ (qV)²·G·t
    Wt = W.T.astype(np.float64)
    gp = dev.g_min + (0.5 + 0.5 * Wt) * (dev.g_max - dev.g_min)
    gm = dev.g_min + (0.5 - 0.5 * Wt) * (dev.g_max - dev.g_min)
    hand = 0.0
    for b in range(2):
        for i in range(4):
            for j in range(3):
                hand += (x[b, i] * dev.v_read) ** 2 * (gp[i, j] + gm[i, j]) * dev.t_read
    d = led.to_dict()
    e = [r for r in d["entries"] if r["matrix"] == "W" and r["phase"] == "positive"][0]
    assert e["cell_read_energy_j"] == pytest.approx(hand, rel=1e-5)
    p = price_ledger(d, Hardware(tile_rows=2, tile_cols=2, cols_per_adc=1))
    assert p["by_component_j"]["array"] == pytest.approx(hand, rel=1e-5)


def test_node_scaling_moves_logic_not_array():
    led = _hand_ledger()
    a = price_ledger(led, Hardware(node_nm=22))["by_component_j"]
    b = price_ledger(led, Hardware(node_nm=65))["by_component_j"]
    assert a["array"] == b["array"]
    assert a["write_pulses"] == b["write_pulses"]
    assert a["dram"] == b["dram"]
    ratio = T.logic_energy_scale(65) / T.logic_energy_scale(22)
    assert b["digital_logic"] / a["digital_logic"] == pytest.approx(ratio, rel=1e-12)
    # the ADC is not logic: its switched capacitance scales with F, its supply as V²
    ca, cb = Costs(Hardware(node_nm=22)), Costs(Hardware(node_nm=65))
    assert b["adc"] / a["adc"] == pytest.approx(cb.e_adc(8) / ca.e_adc(8), rel=1e-12)
    assert 1.0 < b["adc"] / a["adc"] < ratio
    assert b["dac"] > a["dac"]


def test_node_table():
    assert T.logic_energy_scale(45) == 1.0 and T.area_scale(45) == 1.0
    for n in (130, 90, 65, 45, 32, 22, 14, 7):
        assert n in T.NODES
    assert T.vdd(130) == 1.3 and T.vdd(7) == 0.7
    assert T.mac_energy("int8", 45) == pytest.approx(0.23e-12)
    assert T.sram_energy_per_bit(8 * 1024, 45) == pytest.approx(10e-12 / 64)
    assert T.sram_energy_per_bit(1024 * 1024, 45) == pytest.approx(100e-12 / 64)


def test_estimate_bp_pays_transposed_periphery():
    net = [64, 40, 40, 10]
    hw = Hardware(tile_rows=32, tile_cols=32, transposed_readout="separate_periphery")
    bp, ff, pff = (estimate(hw, net, a, batch=10, K=4 if a == "pff" else None)
                   for a in ("bp", "ff", "pff"))
    assert bp.train["area_breakdown_mm2"]["transposed_periphery"] > 0
    assert ff.train["area_breakdown_mm2"]["transposed_periphery"] == 0
    assert "backward" in bp.train["by_phase_j"] and "negative" in ff.train["by_phase_j"]
    assert {"positive", "negative", "generative", "transposed", "update"} <= set(pff.train["by_phase_j"])
    # higher-precision backward conversions cost more
    hi = estimate(hw.replace(adc_bits_transposed=12), net, "bp", batch=10)
    assert hi.train["by_phase_j"]["backward"] > bp.train["by_phase_j"]["backward"]
    for e in (bp, ff, pff):
        assert e.digital["int8"]["train"]["total_j"] > 0
        assert e.digital["int8"]["inference_batch1"]["total_j"] > \
            e.digital["int8"]["inference_batched"]["total_j"] > 0
        assert e.tile["tops_per_w"] > 0 and e.tile["tops_per_mm2"] > 0
        df = e.to_dataframe()
        assert {"scope", "breakdown", "key", "value", "unit"} <= set(df.columns)
    # program-and-verify makes writes dearer
    pv = estimate(hw.replace(program_verify=True), net, "ff", batch=10)
    assert pv.train["by_component_j"]["verify"] > 0 and pv.train_j > ff.train_j


def test_estimate_rejects_bad_network():
    with pytest.raises(ValueError, match="network"):
        estimate(Hardware(), [10, 5], "pff")
    with pytest.raises(ValueError, match="algo"):
        estimate(Hardware(), [10, 5, 2], "sgd")


def test_power_gating_and_digital_reuse():
    hw = Hardware(tile_rows=8, tile_cols=8, cols_per_adc=4)
    led = build_ledger(hw, [16, 20, 20, 4], "ff", batch=8)
    gated = price_ledger(led, hw)["by_component_j"]["leakage"]
    always = price_ledger(led, hw.replace(power_gating=False))["by_component_j"]["leakage"]
    assert 0 < gated <= always
    # inferred reuse = vectors per update (FF: 8 positive + 8 negative rows per update)
    d_none = price_digital(led, 22, "int8")["total_j"]
    assert d_none == pytest.approx(price_digital(led, 22, "int8", batch=16)["total_j"], rel=1e-12)
    d_one = price_digital(led, 22, "int8", batch=1)
    assert d_one["by_component_j"]["buffers_sram"] > \
        price_digital(led, 22, "int8")["by_component_j"]["buffers_sram"]
    # fp16 weights of a big network do not fit 1 MB: DRAM traffic appears
    big = build_ledger(hw, [784, 1000, 1000, 10], "bp", batch=4)
    assert price_digital(big, 22, "fp16", sram_kb=1024)["by_component_j"]["dram_weights"] > 0
    assert price_digital(big, 22, "fp16", sram_kb=64 * 1024)["by_component_j"]["dram_weights"] == 0


# ---- input coding (PWM, bit density) and core scope ------------------------------------------
def _tile_hw(**kw):
    base = dict(tile_rows=16, tile_cols=8, cols_per_adc=4, device="ideal")
    base.update(kw)
    return Hardware(**base)


def test_pwm_inputs_by_hand():
    hw = _tile_hw(input_mode="pwm", dac_bits=6, clock_hz=2e9, input_activity=0.16)
    c = Costs(hw)
    T_win = 2 ** 5 / 2e9                                       # 2^(B-1) clock periods
    assert c.t_pwm_window() == pytest.approx(T_win, rel=1e-12)
    assert c.read_window() == pytest.approx(T_win, rel=1e-12)
    line = c.c_line(8 * 2) * c.v_read * c.vdd
    e_reg = 0.009e-12 * T.logic_energy_scale(22)            # 1-b register toggle at 22 nm
    gen = 6 * e_reg + 32 * 6 * e_reg / 2     # load B bits + B/2 toggles per window clock
    assert c.e_pwm_generator() == pytest.approx(gen, rel=1e-12)
    assert c.e_dac(8 * 2) == pytest.approx(line + gen, rel=1e-12)   # no DAC core
    t = tile_mvm(hw, c)
    # array: every cell conducts V² G for |x|·T, E|x| = sqrt(activity)
    hand = 16 * 8 * 2 * c.v_read ** 2 * c.g_mean * T_win * math.sqrt(0.16)
    assert t["by_component_j"]["array"] == pytest.approx(hand, rel=1e-12)
    assert t["by_component_j"]["dac"] == pytest.approx(16 * (line + gen), rel=1e-12)
    # one read of the full window, one SAR conversion per column of an ADC group
    # plus the line settling to half an LSB: (B+1)·ln2·R_drv·C_line
    settle = 9 * math.log(2) * 2e3 * c.c_line(8 * 2)
    lat = 1 / 2e9 + T_win + settle + 4 * c.t_adc(8) + 1 / 2e9
    assert t["latency_s"] == pytest.approx(lat, rel=1e-12)
    # throughput: the conversions of one vector overlap the next read
    assert t["period_s"] == pytest.approx(max(T_win + settle, 4 * c.t_adc(8)), rel=1e-12)


def test_input_bit_density_by_hand_and_default_unchanged():
    dense = _tile_hw(input_mode="bit_serial", dac_bits=8, input_activity=0.25)
    sparse = dense.replace(input_bit_density=0.18)
    cd, cs = Costs(dense), Costs(sparse)
    line = cd.c_line(8 * 2) * cd.v_read * cd.vdd
    assert cd.e_dac(16) == pytest.approx(8 * line, rel=1e-12)           # default: every bit
    assert cs.e_dac(16) == pytest.approx(8 * 0.18 * line, rel=1e-12)
    assert cd.array_input_factor() == pytest.approx(0.5 * 8 / 0.25, rel=1e-12)
    assert cs.array_input_factor() == pytest.approx(0.18 * 8 / 0.25, rel=1e-12)
    ts = tile_mvm(sparse)
    hand = 16 * 8 * 2 * cs.v_read ** 2 * cs.g_mean * cs.t_read * 8 * 0.18   # 1-bits only
    assert ts["by_component_j"]["array"] == pytest.approx(hand, rel=1e-12)
    assert tile_mvm(dense)["energy_j"] > ts["energy_j"]
    # the ADC still converts every bit-plane
    assert ts["by_component_j"]["adc"] == tile_mvm(dense)["by_component_j"]["adc"]


def test_core_scope_is_macro_plus_buffer_and_postprocessing():
    for kw in ({}, dict(input_mode="pwm"), dict(input_mode="bit_serial", cell_bits=2)):
        macro_hw = _tile_hw(**kw)
        core_hw = macro_hw.replace(scope="core")
        m, k = tile_mvm(macro_hw), tile_mvm(core_hw)
        c = Costs(core_hw)
        assert k["energy_j"] == math.fsum(k["by_component_j"].values())
        post = 8 * (T.op_energy("int32_add", 22) + 0.029e-12 * T.logic_energy_scale(22))
        assert k["by_component_j"]["digital_logic"] == pytest.approx(post, rel=1e-12)
        io = (16 + 8) * core_hw.dac_bits * c.e_io_bit()
        assert k["by_component_j"]["buffers_sram"] == pytest.approx(io, rel=1e-12)
        assert "buffers_sram" not in m["by_component_j"]
        n_adc = math.ceil(8 * c.n_weight_slices / 4)
        assert k["area_breakdown_um2"]["postprocess"] == pytest.approx(
            n_adc * c.a_postprocess_lane(), rel=1e-12)
        assert k["area_mm2"] == pytest.approx(
            m["area_mm2"] + (n_adc * c.a_postprocess_lane() + c.a_io_buffer(16, 8)) * 1e-6,
            rel=1e-12)
        assert k["latency_s"] == m["latency_s"]
        # core = macro + added energy + leakage of the added area
        added = {"postprocess": k["area_breakdown_um2"]["postprocess"],
                 "io_buffer": k["area_breakdown_um2"]["io_buffer"]}
        added_leak = c.leakage_w(added) * k["period_s"]
        # (the macro leaves out the rescale multiply / cross-tile sums, the core adds them)
        acc = k["by_component_j"]["accumulate"]
        assert "accumulate" not in m["by_component_j"]
        assert k["energy_j"] == pytest.approx(m["energy_j"] + post + io + acc + added_leak,
                                              rel=1e-12)
        assert k["tops_per_w"] < m["tops_per_w"] and k["tops_per_mm2"] < m["tops_per_mm2"]


def test_new_options_leave_network_estimates_of_defaults_unchanged():
    hw = Hardware(tile_rows=8, tile_cols=8, cols_per_adc=4)
    a = estimate(hw, [16, 20, 20, 4], "ff", batch=4)
    b = estimate(hw.replace(scope="core"), [16, 20, 20, 4], "ff", batch=4)
    assert a.train_j == b.train_j and a.inference_j == b.inference_j   # scope: tile figure only
    p = price_ledger(build_ledger(hw, [16, 12, 4], "bp", batch=2), hw.replace(input_mode="pwm"))
    assert p["total_j"] == math.fsum(p["by_component_j"].values())


# ---- CCO ADC (current-controlled oscillator powered by the column current) -------------------
def test_cco_adc_takes_the_rail_share_of_the_column_charge():
    """A CCO conversion = the rail's (Vdd − V_read)·Q for the column charge Q the array term
    heats with V_read·Q, plus its counter and its bit-line regulator's bias over the counting
    time; the total charge drawn is Vdd·Q."""
    sar_hw = _tile_hw(input_mode="pwm", dac_bits=6, clock_hz=1e9, node_nm=14)
    hw = sar_hw.replace(adc_type="cco")
    c = Costs(hw)
    t, ts = tile_mvm(hw), tile_mvm(sar_hw)
    arr = t["by_component_j"]["array"]
    assert arr == ts["by_component_j"]["array"]                   # the array term is unchanged
    counter = (2 * 2 ** 7 + 8) * 0.009e-12 * T.logic_energy_scale(14) / T.logic_energy_scale(45)
    # + the bit-line regulator's 5 µA for the 2^8 x 300 ps it counts (longer than the window)
    counter += 5e-6 * T.vdd(14) * 2 ** 8 * 300e-12
    assert c.e_adc(8) == pytest.approx(counter, rel=1e-12)
    n_conv = 8                                                     # one per column (1 slice)
    oscillator = arr * (T.vdd(14) - c.v_read) / c.v_read
    assert t["by_component_j"]["adc"] == pytest.approx(n_conv * counter + oscillator, rel=1e-12)
    # array + oscillator = the column charge drawn from Vdd
    q = arr / c.v_read
    assert arr + oscillator == pytest.approx(T.vdd(14) * q, rel=1e-12)
    assert t["energy_j"] == math.fsum(t["by_component_j"].values())
    assert t["by_component_j"]["integrator"] == 0.0 < ts["by_component_j"]["integrator"]
    assert t["area_breakdown_um2"]["integrator"] == 0.0
    # counting overlaps the 32 ns window (2^8 x 300 ps = 77 ns does not): the rest adds
    assert c.t_adc(8) == pytest.approx(2 ** 8 * 300e-12 - 32e-9 + 1e-9, rel=1e-12)
    wide = Costs(hw.replace(dac_bits=9))                         # 256 ns window
    assert wide.t_adc(8) == pytest.approx(1e-9, rel=1e-12)         # only the latch clock


def test_cco_adc_follows_the_simulated_cell_energy():
    """Priced from a ledger, the oscillator term scales with the recorded Σ V²·G·t."""
    led = _hand_ledger()
    hw = Hardware(adc_type="cco")
    c = Costs(hw)
    a = price_ledger(led, hw)["by_component_j"]["adc"]
    led["entries"][0]["cell_read_energy_j"] *= 3
    b = price_ledger(led, hw)["by_component_j"]["adc"]
    f = (c.vdd - c.v_read) / c.v_read
    assert b - a == pytest.approx(2 * 3.0e-15 * f, rel=1e-9)
    assert a == pytest.approx(15 * c.e_adc(8) + 3.0e-15 * f, rel=1e-12)
    assert Costs(Hardware(adc_type="sar")).cco_supply_factor() == 0.0


@pytest.mark.parametrize("node", [22.5, 28, True, "22"])
def test_technology_refuses_an_untabulated_node_not_truncates_it(node):
    """22.5 nm was read as 22 nm (int()), and the SRAM area took any node; both refuse it."""
    for f in (T.logic_energy_scale, T.sram_area_per_bit_um2, T.vdd):
        with pytest.raises(T.UnknownNodeError, match=f"^node_nm = {node!r} is not allowed"):
            f(node)
    assert T.sram_area_per_bit_um2(np.int64(45)) == T.sram_area_per_bit_um2(45) == \
        pytest.approx(T.SRAM_CELL_F2_LARGE_NODES * 0.045 ** 2 / T.SRAM_ARRAY_EFFICIENCY)


@pytest.mark.parametrize("slots", [1, 31])
def test_a_stochastic_update_is_timed_and_driven_window_by_window(slots):
    """A stochastic update of a batch of ten fires ten windows of ``update_slots`` slots
    (`crossbar.coincidence`; the ledger's nine ``extra_update_windows``): it lasts ten times
    ``update_slots·t_write`` and its line drivers are priced per window, with the update's
    pulses spread over the windows."""
    hw = Hardware(update_slots=slots)
    c = Costs(hw)
    one, ten = _hand_ledger(), _hand_ledger()
    ten["entries"][1]["extra_update_windows"] = 9
    p1, p10 = price_ledger(one, hw), price_ledger(ten, hw)
    assert (p10["latency_by_phase_s"]["update"] - p1["latency_by_phase_s"]["update"]
            == pytest.approx(9 * slots * c.t_write, rel=1e-9))
    drivers = p10["by_phase_component_j"]["update"]["write_drivers"]
    assert drivers == pytest.approx(10 * c.e_update_drivers(4, 3, 9 / 10), rel=1e-12)
    assert p1["by_phase_component_j"]["update"]["write_drivers"] == pytest.approx(
        c.e_update_drivers(4, 3, 9), rel=1e-12)
    # the pulses themselves cost the same however many windows carry them
    assert (p10["by_component_j"]["write_pulses"] == p1["by_component_j"]["write_pulses"])
