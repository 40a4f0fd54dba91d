"""Calibration chips: every file loads and prices, sums hold, a bad file is one line."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from reports import Hardware, tile_mvm
from reports import calibration as cal
from reports import components as K

FILES = cal.chip_files()


def test_the_set_covers_what_the_issue_asks():
    chips = [cal.load_chip(f) for f in FILES]
    tech = [c.technology for c in chips]
    assert len(chips) >= 6 or len(chips) >= 5 and tech.count("rram") >= 1
    assert tech.count("rram") >= 1 and tech.count("pcm") >= 1
    assert any(c.hardware.get("array_type") == "charge" for c in chips)
    assert {"fit", "held_out"} <= {c.role for c in chips}
    # a published sweep over input/output bits and one over supply voltage
    bits = [c for c in chips if len({(p.overrides.get("adc_bits"), p.overrides.get("dac_bits"))
                                     for p in c.points}) >= 4]
    volts = [c for c in chips if len({p.overrides.get("v_logic") for p in c.points}) >= 4]
    assert bits and volts
    for c in chips:
        assert c.citation and c.measured and c.assumed


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_every_chip_loads_and_prices(path):
    chip = cal.load_chip(path)
    rows = cal.price_chip(chip)
    assert len(rows) == len(chip.points)
    for r in rows:
        t = r["tile"]
        assert t["energy_j"] == math.fsum(t["by_component_j"].values()) > 0
        assert t["area_mm2"] == pytest.approx(sum(t["area_breakdown_um2"].values()) * 1e-6)
        assert t["period_s"] <= t["latency_s"] + 1e-18
        for m, v in r["ratio"].items():
            assert math.isfinite(v) and v > 0, m
        for k, v in r["shares_est"].items():
            assert 0 <= v <= 1, k


def test_summary_counts_and_table(capsys):
    assert cal.main([str(f) for f in FILES]) == 0
    out = capsys.readouterr().out
    assert "TOPS/W est/pub" in out and "held_out" in out and "within 2x" in out


def test_summary_is_the_one_reports_readme_states():
    """reports/README.md's calibration summary, by role: (within 2x, points, worst ratio)."""
    rows = [r for f in FILES for r in cal.price_chip(cal.load_chip(f))]
    s = cal.summary(rows)
    got = {role: {m: (k, n, round(w, 2)) for m, (k, n, w) in d.items()} for role, d in s.items()}
    assert got["fit"]["tops_per_w"][:2] == (10, 10)
    assert got["held_out"]["tops_per_w"] == (19, 19, 0.51)
    assert got["fit"]["tops_per_mm2"][:2] == (10, 10)
    assert got["held_out"]["tops_per_mm2"] == (7, 7, 1.69)
    assert got["all"]["tops"][:2] == (15, 15)
    assert got["all"]["latency_s"] == (2, 4, 5.05)
    assert got["fit"]["shares"] == (28, 28, 0.75)
    assert got["held_out"]["shares"] == (4, 4, 1.53)


def test_hermes_array_is_its_published_unit_cell_rows():
    """HERMES: one ADC per unit-cell row, each ADC (4 µm pitch) as high as two unit cells, so
    the cell is 2 µm high; the chip file takes it square: the array of 256 x 256 weights is
    256 x 256 x 2 µm x 2 µm, whatever the pricer's per-device bookkeeping (2 polarity devices
    per weight), in both HERMES files (the 64-core chip is 64 of the same core)."""
    for name in ("hermes_khaddam_2022.toml", "hermes_legallo_2023.toml"):
        row = cal.price_chip(cal.load_chip(cal.CHIPS_DIR / name))[0]
        assert row["tile"]["area_breakdown_um2"]["array"] == pytest.approx(
            256 * 256 * 2.0 * 2.0, rel=1e-4)
    core, chip = (cal.price_chip(cal.load_chip(cal.CHIPS_DIR / n))[0] for n in
                  ("hermes_khaddam_2022.toml", "hermes_legallo_2023.toml"))
    assert chip["estimate"]["tops"] == pytest.approx(64 * chip["tile"]["tops"])
    assert chip["tile"]["period_s"] == pytest.approx(core["tile"]["period_s"])


def test_bad_chip_file_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    good = FILES[0].read_text()
    cases = {
        "not toml": "name = \n",
        "unknown key": good + "\nfoo = 1\n",
        "bad hardware": good.replace("[hardware]", "[hardware]\nadc_bits = 99", 1),
    }
    for label, text in cases.items():
        bad.write_text(text)
        r = subprocess.run([sys.executable, "-m", "reports.calibration", str(bad)],
                           capture_output=True, text=True)
        assert r.returncode == 2, label
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "bad.toml" in lines[0], (label, r.stderr)
        assert "Traceback" not in r.stderr + r.stdout


def test_charge_overhead_is_what_jia_2020_leaves(monkeypatch):
    """The one constant fitted on Jia 2020 (the charge-domain cell overhead) is recovered from
    its measured 9.7 pJ per column and cycle at 0.85 V."""
    chip = cal.load_chip(cal.CHIPS_DIR / "jia_2020.toml")
    monkeypatch.setattr(K, "C_CHARGE_CELL_OVERHEAD_65", 0.0)
    t = cal.price_chip(chip)[0]["tile"]["by_component_j"]
    rest = t["dac"] + t["array"] + t["wordline"]
    c_o = (9.7e-12 * 256 - rest) / (2304 * 256 * 0.85 ** 2)
    assert c_o == pytest.approx(2.43e-15, rel=0.02)


@pytest.mark.parametrize("kw", [
    dict(array_type="charge", cell_bits=1, weight_bits=4, weight_accumulation="analog"),
    dict(input_mode="bit_serial", input_accumulation="analog", adc_type="integrating",
         wordline_switching="per_bit", input_slice_bits=3),
    dict(input_mode="pulse_count", dac_bits=5, input_slice_bits=2, analog_bias_a=1e-6),
    dict(leakage_model="flat", v_logic=0.7, v_analog=1.0, v_wordline=1.2, scope="core"),
])
def test_tile_sum_of_parts_for_every_option(kw):
    t = tile_mvm(Hardware(tile_rows=32, tile_cols=16, cols_per_adc=4, **kw))
    assert t["energy_j"] == math.fsum(t["by_component_j"].values())
    assert all(v >= 0 for v in t["by_component_j"].values())
    assert t["tops_per_w"] == pytest.approx(2 * 32 * 16 / t["energy_j"] / 1e12)
    assert t["tops"] == pytest.approx(2 * 32 * 16 / t["period_s"] / 1e12)


def test_supply_domains_scale_their_own_blocks():
    base = Hardware(tile_rows=32, tile_cols=16, cols_per_adc=4, input_mode="bit_serial")
    a = tile_mvm(base)["by_component_j"]
    b = tile_mvm(base.replace(v_wordline=2 * 0.9))["by_component_j"]  # 22 nm nominal 0.9 V
    assert b["wordline"] == pytest.approx(4 * a["wordline"], rel=1e-9)
    assert b["adc"] == a["adc"] and b["dac"] == a["dac"]
    c = tile_mvm(base.replace(v_logic=0.45))["by_component_j"]
    assert c["control"] == pytest.approx(a["control"] / 4, rel=1e-9)
    assert c["adc"] == a["adc"]


def test_bit_serial_reads_and_conversions_overlap_inside_a_vector():
    """k bits converted one by one through a pipelined SAR form a two-stage pipeline:
    latency = DAC + r + (k-1)·max(r, c) + c + latch, never above the stages in a row and never
    below the period; one conversion per vector (the default chip) keeps the stages in a row."""
    from reports.components import Costs
    from reports.estimate import read_timing

    hw = Hardware(tile_rows=32, tile_cols=16, cols_per_adc=4, input_mode="bit_serial",
                  dac_bits=6)
    c = Costs(hw)
    cells, conv_cols = 16 * c.devices_per_weight(), 16
    lat, per = read_timing(c, cells, conv_cols, 1, hw.adc_bits)
    k = 6
    r = c.array_time_per_vector(cells) / k
    cv = 4 * c.t_adc(hw.adc_bits)
    clk = 1 / hw.clock_hz
    assert lat == pytest.approx(c.t_dac() + r + (k - 1) * max(r, cv) + cv + clk, rel=1e-12)
    assert per == pytest.approx(k * max(r, cv), rel=1e-12)
    assert per < lat < c.t_dac() + k * (r + cv) + clk
    one = Costs(hw.replace(input_mode="voltage"))
    lat1, _ = read_timing(one, cells, conv_cols, 1, hw.adc_bits)
    assert lat1 == (one.t_dac() + one.array_time_per_vector(cells) + 4 * one.t_adc(8) + clk)
    # a converter that counts during the read (CCO) does not overlap: both stages in full
    cco = Costs(hw.replace(adc_type="cco"))
    lat_c, per_c = read_timing(cco, cells, conv_cols, 1, hw.adc_bits)
    full = cco.array_time_per_vector(cells) + k * 4 * cco.t_adc(hw.adc_bits)
    assert lat_c == pytest.approx(cco.t_dac() + full + clk) and per_c == pytest.approx(full)


# ---- training costs from device physics ---------------------------------------------------
def _write_ledger(up, down, recorded=5e-12):
    return {"matrices": {"W": {"analog": True, "rows": 4, "cols": 3, "tile_rows": 4,
                               "tile_cols": 3, "n_tiles": 1}},
            "entries": [{"phase": "update", "matrix": "W", "update_calls": 1,
                         "pulses_up": up, "pulses_down": down, "pulse_energy_j": recorded}]}


def test_write_physics_by_device_family():
    from reports import price_ledger
    from reports.components import Costs

    fams = {"ecram": "gate_charge", "fefet-hzo": "gate_charge", "rram-taox": "compliance",
            "pcm-gst": "phase_change", "ideal": "channel"}
    for dev, model in fams.items():
        c = Costs(Hardware(device=dev))
        assert c.write_model == model
        d = c.dev
        up, dn = c.e_pulse_up_down()
        if model == "gate_charge":      # Q·V through the gate, far below the channel proxy
            q = 1.2e-15 if dev == "fefet-hzo" else 1e-17
            assert (up, dn) == pytest.approx((q * d.v_write_up, q * d.v_write_down))
            assert up < d.v_write_up ** 2 * c.g_mean * d.t_write_up
        if model == "compliance":       # SET limited by the 100 µA compliance
            assert up == pytest.approx(d.v_write_up * min(d.v_write_up * d.g_max, 100e-6)
                                       * d.t_write_up)
        if model == "phase_change":     # RESET at the melting current
            assert dn == pytest.approx(d.v_write_down * 300e-6 * d.t_write_down)
        p = price_ledger(_write_ledger(7, 2), Hardware(device=dev))["by_component_j"]
        if model == "channel":          # the simulator's recorded V²·G·t is kept
            assert p["write_pulses"] == pytest.approx(5e-12)
        else:
            assert p["write_pulses"] == pytest.approx(7 * up + 2 * dn)
    hw = Hardware(device="rram-taox", write_current_a=1e-6)
    c = Costs(hw)
    assert c.e_pulse_up_down()[0] == pytest.approx(c.dev.v_write_up * 1e-6 * c.dev.t_write_up)
    forced = Costs(Hardware(device="ecram", write_model="channel"))
    assert forced.write_model == "channel"


def test_verify_cycle_shares_the_row_line_charge():
    from reports.components import Costs
    c = Costs(Hardware(device="rram-taox"))
    a, b = c.e_verify_read(64), c.e_verify_read(256)
    assert b < a                 # a longer row spreads its line charge over more cells
    assert a > c.e_adc(c.hw.adc_bits)


def test_optimiser_state_is_priced_where_it_lives():
    from reports import price_ledger
    from reports.estimate import memory_spill
    led = {"matrices": {"digital": {"analog": False}},
           "entries": [{"phase": "update", "matrix": "digital", "sram_read_bits": 1e6,
                        "sram_write_bits": 1e6}],
           "memory": {"peak_bits": 4.5 * 2 ** 23,                 # 4 MiB of Adam moments
                      "buffer_peak_bits": {"optimizer.adam0": 4 * 2 ** 23,
                                           "pff.state": 0.5 * 2 ** 23}}}
    small, big = Hardware(sram_kb=1024), Hardware(sram_kb=8 * 1024)
    # the hot 0.5 MiB stays on chip; of the 4 MiB of moments only 0.5 MiB fits in 1 MiB
    assert memory_spill(led, small, "update") == pytest.approx(3.5 / 4)
    assert memory_spill(led, small, "positive") == 0.0
    assert memory_spill(led, big, "update") == 0.0
    ps, pb = price_ledger(led, small)["by_component_j"], price_ledger(led, big)["by_component_j"]
    assert pb["dram"] == 0 and ps["dram"] > 0
    assert sum(ps.values()) > sum(pb.values())


def test_digital_baseline_holds_the_same_state_in_the_same_memory():
    """The digital accelerator pays DRAM for the optimiser state that does not fit its SRAM,
    as the analog chip does (same spill rule; its SRAM also keeps the weights when they fit)."""
    from reports import price_digital, technology as T
    from reports.estimate import memory_spill
    sb = 2e6
    led = {"matrices": {"digital": {"analog": False}},
           "entries": [{"phase": "update", "matrix": "digital", "sram_read_bits": sb / 2,
                        "sram_write_bits": sb / 2}],
           "memory": {"peak_bits": 4.5 * 2 ** 23,
                      "buffer_peak_bits": {"optimizer.adam0": 4 * 2 ** 23,
                                           "pff.state": 0.5 * 2 ** 23}}}
    spill = memory_spill(led, Hardware(sram_kb=1024), "update")
    d = price_digital(led, 22, "int8", sram_kb=1024)["by_component_j"]
    assert d["dram"] == pytest.approx(spill * sb * T.dram_energy_per_bit("ddr"), rel=1e-12)
    assert d["buffers_sram"] == pytest.approx((1 - spill) * sb
                                              * T.sram_energy_per_bit(1024 * 1024, 22), rel=1e-12)
    # weights kept in the same SRAM leave less room for the state: more of it spills
    led_w = dict(led, matrices={"W": {"analog": False, "rows": 1024, "cols": 1024},
                                "digital": {"analog": False}})
    assert price_digital(led_w, 22, "int8", sram_kb=1024)["by_component_j"]["dram"] > d["dram"]
    # with room for everything nothing spills
    assert price_digital(led, 22, "int8", sram_kb=8 * 1024)["by_component_j"]["dram"] == 0.0


def test_digital_baseline_leaks_like_the_analog_chip():
    from reports import price_digital
    from reports.components import leakage_density_w_per_mm2
    led = {"matrices": {"W": {"analog": False, "rows": 64, "cols": 32}},
           "entries": [{"phase": "mvm", "matrix": "W", "mvm_vectors": 10, "macs": 20480}]}
    flat = price_digital(led, 22, "int8", leakage_model="flat")["by_component_j"]["leakage"]
    blk = price_digital(led, 22, "int8", leakage_model="per_block")["by_component_j"]["leakage"]
    assert 0 < blk < flat          # low-power densities are far below the flat 0.01 W/mm²
    assert leakage_density_w_per_mm2("sram", 22) > leakage_density_w_per_mm2("logic", 22)
    assert leakage_density_w_per_mm2("logic", 7) > leakage_density_w_per_mm2("logic", 130)
    with pytest.raises(ValueError, match="leakage_model = 'hot' is not allowed; choose one of: per_block, flat"):
        price_digital(led, 22, "int8", leakage_model="hot")
