"""ADC models, one class per architecture, registered by name (``adc_type``).

Every law is ``E(B) = E_architecture(B, F, V_analog) + E_thermal(B)``: an architecture term
fitted to measured converters (constants below, each with its data) plus the survey's
thermal-regime envelope (`base.thermal_envelope_j`, 4×/bit), so every converter meets the
thermal-noise limit at high resolution and never falls with bits. Capacitances of switches,
SAR logic and flash comparators scale with the feature size F (∝ F); the SAR comparator (sized
per LSB of the range) and capacitor arrays (sized by matching) do not; supply enters as V².
Register toggles (flash encoder, CCO counter) are `ConverterContext.e_reg_bit_j`, on the logic
energy scale. Areas come from measured converter layouts (∝ F or node-independent, per class),
except the flash encoder's register bits, which take the logic area scale
(`ConverterContext.a_reg_bit_um2`).
"""

from __future__ import annotations

import math

from .base import (ANALOG_FRONT_END_A_UM2, FF, PJ, ADCModel, ConverterContext, register_adc,
                   thermal_envelope_j)

# ---- fitted constants, with the data they were fitted to -----------------------------------
# Published SAR conversions: (name, node nm, bits, energy J, supply V, area µm², source key)
SAR_DATA = (
    ("Jia 2020 CIM column SAR (measured)", 65, 8, 1.79 * PJ, 0.85, 1940.0, "S18"),
    ("ISAAC / Kull 2013 SAR", 32, 8, 1.67 * PJ, 1.0, 1200.0, "S11"),
    ("Newton SAR", 32, 9, 2.58 * PJ, 1.0, 1500.0, "S11"),
    ("FORMS SAR", 32, 4, 0.226 * PJ, 1.0, 284.0, "S11"),
)
# capacitor-DAC unit: 1 fF, set by matching rather than by the node, so node independent (a
# modelling choice; an 8-b array of such units gives ~0.3 pJ, as the published 8-b DACs [S11])
SAR_C_UNIT = 1.0 * FF


def _sar_model_j(c_logic_per_nm: float, c_cmp: float, node_nm: float, bits: int,
                 v: float, design_bits: int = 0) -> float:
    """The SAR law at given constants [J] (see `SAR`): ``bits`` cycles run on a comparator and
    capacitor array sized for ``max(bits, design_bits)``."""
    bd = max(bits, design_bits)
    per_cycle = c_logic_per_nm * node_nm + 2 ** bd * c_cmp
    return ((bits + 1) * per_cycle + 2 ** bd * SAR_C_UNIT) * v * v + thermal_envelope_j(bits)


def _solve2(rows: list[tuple[float, float, float]]) -> tuple[float, float]:
    """Least squares of ``a·x + b·y ≈ r`` over ``rows`` of (a, b, r): 2x2 normal equations."""
    saa = sum(a * a for a, _b, _r in rows)
    sab = sum(a * b for a, b, _r in rows)
    sbb = sum(b * b for _a, b, _r in rows)
    sar = sum(a * r for a, _b, r in rows)
    sbr = sum(b * r for _a, b, r in rows)
    det = saa * sbb - sab * sab
    return (sar * sbb - sbr * sab) / det, (saa * sbr - sab * sar) / det


def _fit_sar() -> tuple[float, float]:
    """SAR constants fitted to every converter of `SAR_DATA` at once: least squares of
    log(law / published) over the four conversions (ratios over- and under-estimated alike
    count the same, as the calibration judges them), by Gauss-Newton from the linear
    relative-error solution; two constants, four points, none set per chip. Returns (logic
    capacitance per cycle per nm of F [F/nm], comparator capacitance per decision per
    level of the range [F])."""
    pts = [(node, b, e, v) for _n, node, b, e, v, _a, _s in SAR_DATA]
    cl, cc = _solve2([((b + 1) * n * v * v / e, (b + 1) * 2 ** b * v * v / e,
                       1.0 - (2 ** b * SAR_C_UNIT * v * v + thermal_envelope_j(b)) / e)
                      for n, b, e, v in pts])
    for _ in range(50):
        # residual log(m/e); derivatives in log-parameters: d log m / d log c = c·∂m/∂c / m
        rows = []
        for n, b, e, v in pts:
            m = _sar_model_j(cl, cc, n, b, v)
            rows.append(((b + 1) * n * cl * v * v / m, (b + 1) * 2 ** b * cc * v * v / m,
                         -math.log(m / e)))
        dl, dc = _solve2(rows)
        cl, cc = cl * math.exp(dl), cc * math.exp(dc)
        if abs(dl) + abs(dc) < 1e-12:
            break
    return cl, cc


# SAR energy has two switched capacitances per cycle: the SAR logic and switches (∝ F) and the
# comparator, whose input pair and latch are sized so that offset and noise stay below one LSB
# of a 2^B-level range (Pelgrom matching, kT/C): their capacitance grows with the number of
# levels and does not shrink with the node (the survey's ~2x-per-bit switching regime
# [Jonsson]). The measured in-memory 8-b SARs point the same way: ~2.5 pJ/V² at 65 nm (Jia
# 2020, fitted) and ~2.6 pJ/V² at 22 nm (Wang 2022, held out: the law gives 0.55x of it, a
# logic-only law 0.38x).
SAR_C_STEP_PER_NM, SAR_C_CMP = _fit_sar()     # ≈ 1.25 fF/nm per cycle, ≈ 0.40 fF per level
# area = B·a_bit·(F/32) + 2^B·a_cap: solved exactly from ISAAC (8 b) and FORMS (4 b), 32 nm
_A8, _A4 = 1200.0, 284.0
SAR_A_CAP_UM2 = (_A8 - 2 * _A4) / (256 - 2 * 16)             # µm² per unit capacitor
SAR_A_BIT_UM2_32NM = (_A4 - 16 * SAR_A_CAP_UM2) / 4          # µm² per bit of logic at 32 nm

# Asynchronous SAR timing. Each of the B+1 cycles (sampling + B decisions, as in the
# synchronous law) is self-timed: it ends when the capacitor DAC has settled to half an LSB
# of the B-bit range, ln(2^(B+1))·τ_dac, and the latch has regenerated from a half-LSB input
# to a logic level, τ_latch·ln(V_dd/(V_fs/2^(B+1))) ≈ ln(2^(B+1))·τ_latch (the slowest,
# smallest-input decision sets the cycle) [Chen & Brodersen 2006]. Both time constants are
# set by the node's switches and latch transistors, so τ ∝ F (gate delay ∝ feature size).
# The conversion takes (B+1)·(B+1)·ln2·τ_F·F [s]. τ_F is solved from the fastest
# single-channel asynchronous SAR in our sources (it converts at the speed limit; slower
# async SARs idle between conversions and say nothing about the law):
#   Kull et al., "A 3.1 mW 8b 1.2 GS/s single-channel asynchronous SAR ADC with alternate
#   comparators for enhanced speed in 32 nm digital SOI CMOS", IEEE JSSC 48(12), 3049 (2013)
#   (ISAAC's ADC [S11]): 8 b in 1/1.2 GHz = 833 ps, so τ(32 nm) = 14.8 ps, about one FO4
#   inverter delay at 32 nm;
# and checked on the first asynchronous SAR (held out):
#   S.-W. M. Chen, R. W. Brodersen, "A 6-bit 600-MS/s 5.3-mW asynchronous ADC in 0.13-µm
#   CMOS", IEEE JSSC 41(12), 2669 (2006): 6 b in 1.67 ns; the law gives 2.05 ns (1.23x).
# (name, node nm, bits, measured conversion time s, source)
SAR_ASYNC_DATA = (
    ("Kull 2013 async SAR (fitted)", 32, 8, 1.0 / 1.2e9, "JSSC 48(12) 3049"),
    ("Chen & Brodersen 2006 async SAR (held out)", 130, 6, 1.0 / 600e6, "JSSC 41(12) 2669"),
)
_K_NM, _K_BITS, _K_T = SAR_ASYNC_DATA[0][1:4]
SAR_ASYNC_TAU_S_PER_NM = _K_T / ((_K_BITS + 1) ** 2 * math.log(2) * _K_NM)   # ≈ 0.464 ps/nm


def sar_async_time_s(bits: int, node_nm: float) -> float:
    """Conversion time of a self-timed (asynchronous) SAR [s]: B+1 cycles, each settling the
    DAC and the latch to half an LSB of ``bits``, ``(B+1)²·ln2·τ_F·F`` (see the constants)."""
    return (bits + 1) ** 2 * math.log(2) * SAR_ASYNC_TAU_S_PER_NM * node_nm


# Flash: TIMELY's charging comparator, 0.042 pJ and 40 µm² at 65 nm, 1.1 V [S11]
FLASH_C_CMP_PER_NM = 0.042 * PJ / 1.1 ** 2 / 65
FLASH_A_CMP_UM2_65NM = 40.0

# CCO: HERMES linearised current-controlled oscillator, 300 ps per LSB [S14]
CCO_T_LSB = 300e-12
# CCO static bias: each HERMES ADC holds its bit line at V_cm with a class-AB read-voltage
# regulator whose mirrored output drives the oscillator [S14, Sec. III-A, Fig. 3(a)]; it is
# on while the converter integrates. Its full-scale input is the largest bit-line current
# the converter handles, 100 µA (measured: the calibration's I_HBL,max [S14, Sec. III-D];
# "approximately 100 µA" before the response saturates, Le Gallo et al., Nature Electronics
# 6, 680 (2023), Methods). A class-AB stage idles at a small fraction of its peak current:
# 5 % (assumption; no quiescent current is published).
CCO_I_FULL_SCALE_A = 100e-6
CCO_IQ_FRACTION = 0.05
# CCO area = its current-input front end (the bit-line regulator and mirror whose bias the
# energy above prices: `base.ANALOG_FRONT_END_A_UM2`, node-independent) + the oscillator and
# counter, TIMELY's 8-b TDC, 310 µm² at 65 nm [S11], ∝ F (its delay line and counter are sized
# by the node) and ∝ bits (one counter stage per bit)
CCO_A_UM2_65NM = 310.0

# Integrating neuron (NeuRRAM [S12]): 0.3 pJ per ADC step at 130 nm, 1.8 V; ADC part 400 µm²
INT_C_STEP_PER_NM = 0.3 * PJ / 1.8 ** 2 / 130
INT_A_UM2_130NM = 400.0


@register_adc
class SAR(ADCModel):
    """Successive approximation: B+1 cycles of logic (∝ F) and a comparator decision
    (capacitance ∝ 2^B, node-independent), plus one capacitor-DAC swing. A SAR built for
    more bits than it runs (``adc_design_bits``) keeps its design's comparator and array."""

    name = "sar"
    summary = ("successive approximation: (B+1)·(c_logic·F + 2^B·c_cmp)·V² + 2^B·C_u·V² "
               "+ thermal")

    def energy_j(self, bits: int, ctx: ConverterContext) -> float:
        return _sar_model_j(SAR_C_STEP_PER_NM, SAR_C_CMP, ctx.node_nm, bits, ctx.v_analog,
                            ctx.design_bits)

    def time_s(self, bits: int, ctx: ConverterContext) -> float:
        """Synchronous: B+1 periods of the logic clock (sampling + B decisions).
        Asynchronous: self-timed cycles, `sar_async_time_s` (node-aware, clock-independent)."""
        if ctx.sar_clocking == "asynchronous":
            return sar_async_time_s(bits, ctx.node_nm)
        return (bits + 1) / ctx.clock_hz

    def area_um2(self, bits: int, ctx: ConverterContext) -> float:
        bd = max(bits, ctx.design_bits)
        return bd * SAR_A_BIT_UM2_32NM * ctx.node_nm / 32.0 + 2 ** bd * SAR_A_CAP_UM2


@register_adc
class Flash(ADCModel):
    """Flash: 2^B − 1 comparators fire at once, plus a B-bit thermometer encoder."""

    name = "flash"
    summary = "flash: (2^B−1)·c_cmp·F·V² + encoder + thermal"

    def energy_j(self, bits: int, ctx: ConverterContext) -> float:
        cmp_ = (2 ** bits - 1) * FLASH_C_CMP_PER_NM * ctx.node_nm * ctx.v_analog ** 2
        enc = bits * 8 * ctx.e_reg_bit_j           # ~8 gate toggles per output bit
        return cmp_ + enc + thermal_envelope_j(bits)

    def time_s(self, bits: int, ctx: ConverterContext) -> float:
        return 1.0 / ctx.clock_hz

    def area_um2(self, bits: int, ctx: ConverterContext) -> float:
        return (2 ** bits - 1) * FLASH_A_CMP_UM2_65NM * ctx.node_nm / 65.0 \
            + bits * 8 * ctx.a_reg_bit_um2


@register_adc
class CCO(ADCModel):
    """Current-controlled oscillator + ripple counter (time domain). The column current is
    the oscillator's supply current, so the oscillator's energy is the rail's share of the
    column charge (`supply_factor`); the ADC's own energy is its counter plus the static
    bias of its bit-line regulator for as long as it integrates (`bias_current_a` x
    `active_s` x V_analog)."""

    name = "cco"
    summary = ("CCO: (V_a − V_read)/V_read × array term + counter toggles + I_q·V_a·t_count; "
               "300 ps/LSB")
    integrates = True
    pipelined = False

    def energy_j(self, bits: int, ctx: ConverterContext) -> float:
        # ripple counter: ~2 toggles per count at half-scale counts, plus B bits read out
        counter = (2 * 2 ** (bits - 1) + bits) * ctx.e_reg_bit_j
        bias = self.bias_current_a() * ctx.v_analog * self.active_s(bits, ctx)
        return counter + bias + thermal_envelope_j(bits)

    def bias_current_a(self) -> float:
        """Quiescent current of the bit-line regulator, `CCO_IQ_FRACTION` of its full-scale
        current `CCO_I_FULL_SCALE_A` [A]."""
        return CCO_IQ_FRACTION * CCO_I_FULL_SCALE_A

    def active_s(self, bits: int, ctx: ConverterContext) -> float:
        """Time the converter integrates per conversion [s]: the read window, or the 2^B
        counts at full scale if they take longer."""
        return max(2 ** bits * CCO_T_LSB, ctx.read_window_s)

    def time_s(self, bits: int, ctx: ConverterContext) -> float:
        return max(0.0, 2 ** bits * CCO_T_LSB - ctx.read_window_s) + 1.0 / ctx.clock_hz

    def area_um2(self, bits: int, ctx: ConverterContext) -> float:
        return ANALOG_FRONT_END_A_UM2 + CCO_A_UM2_65NM * ctx.node_nm / 65.0 * bits / 8.0

    def supply_factor(self, ctx: ConverterContext, v_read: float) -> float:
        return max(ctx.v_analog - v_read, 0.0) / v_read


@register_adc
class Integrating(ADCModel):
    """Integrating / ramp neuron ADC (NeuRRAM): the column charge is integrated on a
    capacitor, then converted by B charge-decrement-and-compare steps, one per output bit."""

    name = "integrating"
    summary = "integrating neuron: B·c_step·F·V² + thermal; B clock steps; 400 µm²·F/130"
    integrates = True
    needs_sample_hold = True
    pipelined = False

    def energy_j(self, bits: int, ctx: ConverterContext) -> float:
        return bits * INT_C_STEP_PER_NM * ctx.node_nm * ctx.v_analog ** 2 \
            + thermal_envelope_j(bits)

    def time_s(self, bits: int, ctx: ConverterContext) -> float:
        return bits / ctx.clock_hz

    def area_um2(self, bits: int, ctx: ConverterContext) -> float:
        return INT_A_UM2_130NM * ctx.node_nm / 130.0
