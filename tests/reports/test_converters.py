"""Converter laws: thermal limit, monotonic in bits, units, registry, anchor points."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossbar.chip import ADC_TYPES, DESIGN_BITS_ADC_TYPES, INPUT_MODES, NODES, HardwareError
from reports import Hardware
from reports.components import Costs
from reports.converters import (ADCS, DACS, ConverterContext, get_adc, get_dac, ktc_capacitance_f,
                                snr_ideal, thermal_envelope_j, thermal_floor_j)
from reports.converters import adc as A

K_T = 1.380649e-23 * 300.0


def _ctx(node=22, v=0.8, clock=1e9, window=0.0):
    return ConverterContext(node_nm=node, v_analog=v, v_logic=v, clock_hz=clock,
                            read_window_s=window, e_reg_bit_j=1e-15, a_reg_bit_um2=1.0)


def test_registry_matches_the_chip_description():
    assert tuple(ADCS) == ADC_TYPES and tuple(DACS) == INPUT_MODES
    for name in ADC_TYPES:
        assert get_adc(name).name == name and get_adc(name).summary
    with pytest.raises(ValueError, match="adc_type = 'delta-sigma' is not allowed; choose one of"):
        get_adc("delta-sigma")


def test_thermal_limits_by_hand():
    assert snr_ideal(8) == pytest.approx(10 ** ((6.02 * 8 + 1.76) / 10), rel=0.01)
    assert thermal_floor_j(10) == pytest.approx(8 * K_T * 1.5 * 4 ** 10, rel=1e-12)
    # the survey envelope (FoM_S 180 dB) sits above the fundamental floor at every resolution
    for b in range(1, 17):
        assert thermal_envelope_j(b) > thermal_floor_j(b)
        assert thermal_envelope_j(b + 1) / thermal_envelope_j(b) == pytest.approx(4.0)
    # kT/C: noise power kT/C equals the quantisation noise LSB²/12
    c = ktc_capacitance_f(10, 1.0)
    assert K_T / c == pytest.approx((1.0 / 2 ** 10) ** 2 / 12, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(ADC_TYPES), bits=st.integers(1, 15),
       node=st.sampled_from(NODES), v=st.floats(0.3, 2.5))
def test_adc_laws_meet_the_thermal_limit_and_never_fall_with_bits(name, bits, node, v):
    m, ctx = get_adc(name), _ctx(node, v)
    e, e1 = m.energy_j(bits, ctx), m.energy_j(bits + 1, ctx)
    assert e >= thermal_floor_j(bits) and e >= thermal_envelope_j(bits)
    assert e1 >= e
    assert math.isfinite(m.time_s(bits, ctx)) and m.time_s(bits, ctx) > 0
    assert m.area_um2(bits, ctx) > 0 and m.area_um2(bits + 1, ctx) >= m.area_um2(bits, ctx)


@pytest.mark.parametrize("name", ["sar", "flash", "integrating"])
def test_adc_energy_is_cv2_in_its_supply_and_grows_with_the_node(name):
    m = get_adc(name)
    lo, hi = m.energy_j(6, _ctx(65, 0.6)), m.energy_j(6, _ctx(65, 1.2))
    th = thermal_envelope_j(6)
    assert (hi - th) / (lo - th) == pytest.approx(4.0, rel=0.05)   # flash encoder is logic
    assert m.energy_j(6, _ctx(130, 1.0)) > m.energy_j(6, _ctx(22, 1.0))


def test_adc_anchor_points():
    # SAR: every converter it was fitted to (4-9 b, 32 and 65 nm) within 1.3x with two
    # constants (logic ∝ F, comparator ∝ 2^B); Jia's measured in-memory SAR within 25 %
    for _n, node, b, e, v, area, _s in A.SAR_DATA:
        ctx = _ctx(node, v)
        assert 1 / 1.3 < get_adc("sar").energy_j(b, ctx) / e < 1.3
        assert 0.5 < get_adc("sar").area_um2(b, ctx) / area < 2.0
    assert get_adc("sar").energy_j(8, _ctx(65, 0.85)) == pytest.approx(1.79e-12, rel=0.25)
    # the comparator term does not shrink with the node: an 8-b SAR at 22 nm costs more than
    # half of one at 65 nm (measured in-memory SARs: ~2.5 pJ/V² at both), logic-only would be 1/3
    assert get_adc("sar").energy_j(8, _ctx(22, 1.0)) > 0.5 * get_adc("sar").energy_j(8, _ctx(65, 1.0))
    # integrating neuron: 0.3 pJ per step at 130 nm, 1.8 V (NeuRRAM)
    e8 = get_adc("integrating").energy_j(8, _ctx(130, 1.8))
    assert e8 == pytest.approx(8 * 0.3e-12 + thermal_envelope_j(8), rel=1e-9)
    # flash: 2^B - 1 TIMELY comparators
    assert get_adc("flash").energy_j(4, _ctx(65, 1.1)) > 15 * 0.042e-12
    # CCO: counts 2^B x 300 ps; only what exceeds the read window adds
    cco = get_adc("cco")
    assert cco.time_s(8, _ctx(window=0.0)) == pytest.approx(256 * 300e-12 + 1e-9)
    assert cco.time_s(8, _ctx(window=1e-6)) == pytest.approx(1e-9)
    assert not cco.pipelined and not get_adc("integrating").pipelined and get_adc("sar").pipelined


def test_cco_area_is_its_analog_front_end_plus_a_node_scaled_counter():
    """The CCO's bit-line regulator (whose bias its energy prices) has an area that does not
    shrink with the node; only the oscillator and counter (TIMELY's TDC, ∝ F, ∝ bits) do."""
    from reports.converters.base import ANALOG_FRONT_END_A_UM2 as FE
    cco = get_adc("cco")
    assert cco.area_um2(8, _ctx(65)) == pytest.approx(FE + 310.0)
    assert cco.area_um2(8, _ctx(14)) == pytest.approx(FE + 310.0 * 14 / 65)
    assert cco.area_um2(4, _ctx(14)) == pytest.approx(FE + 310.0 * 14 / 65 / 2)
    assert cco.area_um2(8, _ctx(7)) > FE == 350.0


def test_integrator_area_is_not_the_front_end_constant():
    """The per-column integrator keeps NeuRRAM's 350 µm² moved with the logic scale (one per
    column behind shared ADCs; see reports/README.md): equal at 130 nm, smaller below."""
    from reports.converters.base import ANALOG_FRONT_END_A_UM2 as FE
    at = {n: Costs(Hardware(node_nm=n, adc_type="sar")).a_integrator() for n in (130, 22)}
    assert at[130] == pytest.approx(FE) and at[22] < FE / 10


def test_cco_energy_includes_its_regulator_bias_for_the_integration_time():
    """CCO energy = counter toggles + I_q·V_analog·t_count + thermal, I_q = 5 % of the 100 µA
    full scale (HERMES), t_count = max(2^B·300 ps, read window): a longer window costs exactly
    the extra bias, and the bias scales with the supply."""
    cco = get_adc("cco")
    assert cco.bias_current_a() == pytest.approx(A.CCO_IQ_FRACTION * A.CCO_I_FULL_SCALE_A)
    short, long_ = _ctx(14, 0.8, window=0.0), _ctx(14, 0.8, window=1e-6)
    counter = (2 * 2 ** 7 + 8) * short.e_reg_bit_j
    assert cco.energy_j(8, short) == pytest.approx(
        counter + 5e-6 * 0.8 * 256 * 300e-12 + thermal_envelope_j(8), rel=1e-12)
    assert cco.energy_j(8, long_) - cco.energy_j(8, short) == pytest.approx(
        5e-6 * 0.8 * (1e-6 - 256 * 300e-12), rel=1e-9)
    hi = _ctx(14, 1.6, window=1e-6)
    bias = cco.bias_current_a() * cco.active_s(8, long_)
    assert cco.energy_j(8, hi) - cco.energy_j(8, long_) == pytest.approx(bias * 0.8, rel=1e-9)


def test_dac_encodings_by_hand():
    ctx = _ctx(22, 0.8)
    e_line = 1e-13
    bs, v, pwm, pc = (get_dac(n) for n in ("bit_serial", "voltage", "pwm", "pulse_count"))
    assert bs.split(6, None) == [1] * 6 and v.split(8, 3) == [3, 3, 2] and v.split(8, None) == [8]
    assert pc.split(8, 4) == [4, 3]                         # 7 magnitude bits, sign = polarity
    assert bs.energy_j(1, e_line, ctx, 0.5) == pytest.approx(0.5 * e_line)
    assert v.energy_j(8, e_line, ctx, 1.0) == pytest.approx(e_line + 256e-15 * 0.64)
    assert pwm.window_s(8, 1e-9, 1e9) == pytest.approx(128e-9)
    assert pc.window_s(4, 1e-9, 1e9) == pytest.approx(15e-9) and pc.steps(4) == 15
    # array factors: bit-serial d/activity per bit, PWM window/t_read/sqrt(activity)
    assert bs.array_factor(1, 1e-9, 1e9, 0.25, 0.5) == pytest.approx(2.0)
    assert pwm.array_factor(8, 1e-9, 1e9, 0.25, 0.5) == pytest.approx(128 / 0.5)


def test_the_chip_refuses_slices_where_they_mean_nothing():
    with pytest.raises(HardwareError, match="input_slice_bits = 2 has no effect on input_mode "
                                            "= 'pwm'"):
        Hardware(input_mode="pwm", input_slice_bits=2)
    ok = Costs(Hardware(input_mode="bit_serial", dac_bits=7, input_accumulation="analog",
                        input_slice_bits=4))
    assert ok.slice_bits == [1] * 7 and ok.conversion_groups == [4, 3]
    assert ok.integration_steps_per_vector() == 15 + 7     # 2^g - 1 per group (time weighting)
    assert ok.conv_per_read == (2, 1)


def test_sar_built_for_more_bits_keeps_its_comparator_and_array():
    """A SAR run below its design resolution (adc_design_bits) pays its design's comparator
    and capacitor array for fewer cycles: between a native B-bit and a native B_d-bit SAR."""
    sar = get_adc("sar")
    ctx = _ctx(22, 0.9)
    built8 = replace(ctx, design_bits=8)
    assert sar.energy_j(6, ctx) < sar.energy_j(6, built8) < sar.energy_j(8, ctx)
    assert sar.energy_j(8, built8) == sar.energy_j(8, ctx)          # runs at its design
    assert sar.energy_j(10, built8) == sar.energy_j(10, ctx)        # design below run: run bits
    assert sar.area_um2(6, built8) == sar.area_um2(8, ctx)
    # never falls with bits at a fixed design
    es = [sar.energy_j(b, built8) for b in range(1, 9)]
    assert all(b >= a for a, b in zip(es, es[1:]))


def test_adc_design_bits_below_adc_bits_is_refused():
    from reports import Hardware

    with pytest.raises(HardwareError) as ei:
        Hardware(adc_bits=8, adc_design_bits=6)
    assert "\n" not in str(ei.value) and "adc_design_bits = 6" in str(ei.value)
    assert Hardware(adc_bits=6, adc_design_bits=8).adc_design_bits == 8


@pytest.mark.parametrize("adc", sorted(set(ADC_TYPES) - set(DESIGN_BITS_ADC_TYPES)))
def test_adc_design_bits_on_an_adc_that_ignores_it_is_refused(adc):
    """Only a SAR's energy/area depend on its design resolution: elsewhere the value would be
    dropped in silence, so the chip refuses it in one line naming the field."""
    with pytest.raises(HardwareError) as ei:
        Hardware(adc_type=adc, adc_bits=6, adc_design_bits=8)
    assert "\n" not in str(ei.value) and "adc_design_bits = 8" in str(ei.value)


# ---- SAR clocking: synchronous (B+1 clock periods) or asynchronous (self-timed cycles) ------
def test_async_sar_time_law_by_hand_and_its_anchors():
    """(B+1)²·ln2·τ_F·F: exact on Kull 2013 (the fit), within 1.3x of Chen & Brodersen 2006
    (held out); monotone in bits and in the node; the clock does not enter."""
    sar = get_adc("sar")
    a = lambda node, clock=1e9: replace(_ctx(node, clock=clock), sar_clocking="asynchronous")
    assert sar.time_s(8, a(32)) == pytest.approx(1 / 1.2e9, rel=1e-12)
    assert sar.time_s(6, a(130)) * 600e6 == pytest.approx(1.23, abs=0.01)
    assert sar.time_s(8, a(22)) == pytest.approx(81 * math.log(2) * A.SAR_ASYNC_TAU_S_PER_NM * 22)
    assert sar.time_s(8, a(22, 1e9)) == sar.time_s(8, a(22, 2e8))
    for node in NODES:
        ts = [sar.time_s(b, a(node)) for b in range(1, 17)]
        assert all(t > 0 and math.isfinite(t) for t in ts)
        assert all(u > t for t, u in zip(ts, ts[1:]))
    for b in range(1, 17):
        tn = [sar.time_s(b, a(n)) for n in sorted(NODES)]
        assert all(u > t for t, u in zip(tn, tn[1:]))
    # synchronous stays (B+1) clock periods
    assert sar.time_s(8, _ctx(22, clock=1e9)) == 9e-9


@settings(max_examples=60, deadline=None)
@given(bits=st.integers(1, 16), node=st.sampled_from(NODES), slow=st.floats(1.0, 1e3))
def test_sync_sar_is_never_faster_than_async_when_its_clock_respects_a_settled_cycle(
        bits, node, slow):
    """A clocked SAR's period can be no shorter than one settled bit cycle,
    (B+1)·ln2·τ(F); at or below that clock the synchronous conversion is the slower one."""
    sar = get_adc("sar")
    cycle = (bits + 1) * math.log(2) * A.SAR_ASYNC_TAU_S_PER_NM * node
    ctx = _ctx(node, clock=1.0 / (cycle * slow))
    t_sync = sar.time_s(bits, ctx)
    t_async = sar.time_s(bits, replace(ctx, sar_clocking="asynchronous"))
    assert t_sync >= t_async * (1 - 1e-12)


def test_sar_clocking_default_is_synchronous_and_changes_time_only():
    """Default chip: synchronous, priced exactly as before the field existed; asynchronous
    moves the converter's time (and so latency and period), not its energy per conversion
    or area."""
    hw = Hardware()
    assert hw.sar_clocking == "synchronous"
    sync, asyn = Costs(hw), Costs(hw.replace(sar_clocking="asynchronous"))
    assert sync.t_adc(8) == 9 / hw.clock_hz
    assert asyn.t_adc(8) == A.sar_async_time_s(8, 22) < sync.t_adc(8)
    assert asyn.e_adc(8) == sync.e_adc(8) and asyn.a_adc(8) == sync.a_adc(8)


def test_sar_clocking_bad_values_are_refused_in_one_line():
    with pytest.raises(HardwareError) as ei:
        Hardware(sar_clocking="self-timed")
    msg = str(ei.value)
    assert "\n" not in msg and "sar_clocking = 'self-timed'" in msg
    assert "synchronous, asynchronous" in msg
    for adc in sorted(set(ADC_TYPES) - {"sar"}):
        with pytest.raises(HardwareError) as ei:
            Hardware(adc_type=adc, sar_clocking="asynchronous")
        assert "\n" not in str(ei.value) and "sar_clocking = 'asynchronous'" in str(ei.value)
        assert Hardware(adc_type=adc).sar_clocking == "synchronous"


@pytest.mark.parametrize("args", [["--sar-clocking", "fast"],
                                  ["--adc-type", "flash", "--sar-clocking", "asynchronous"]])
def test_sar_clocking_bad_value_exits_2_with_one_line(args):
    from typer.testing import CliRunner

    from analogff.cli import app
    r = CliRunner().invoke(app, ["energy", *args])
    lines = [ln for ln in r.output.strip().splitlines() if ln.strip()]
    assert r.exit_code == 2 and len(lines) == 1 and "sar_clocking" in lines[0], r.output
    assert "Traceback" not in r.output


def test_sar_clocking_default_leaves_run_hashes_as_they_were():
    """Stored sweeps skip runs by config_hash: the default clocking is left out of the hash
    (as before the field existed), any other value is in it."""
    from analogff.config import from_dict

    base = from_dict({})
    assert from_dict({"sar_clocking": "synchronous"}).config_hash() == base.config_hash()
    assert from_dict({"sar_clocking": "asynchronous"}).config_hash() != base.config_hash()
