"""Input encodings with their DAC / row-driver models, registered by name (``input_mode``).

``e_line`` is the energy of one full charge of the driven line: ``C_line · V_line · V_analog``
(the line swings to V_line = V_read, or V_analog on charge-domain arrays; the charge comes from
the analog periphery rail; `reports.components.Costs.e_line`).
Amplitude-coded array energy from the ledger (Σ (x·V_read)²·G·t_read) is converted to each
encoding by ``array_factor``; all laws are per slice (one read), `Costs` sums over slices.
"""

from __future__ import annotations

import math

from .base import FF, ConverterContext, DACModel, register_dac

# capacitor / R-2R DAC unit, 1 fF (a modelling choice: an 8-b DAC of such units gives ≈ 0.3 pJ,
# as BRAHMS' 0.291 pJ at 40 nm [S11])
DAC_C_UNIT = 1.0 * FF
# 1-bit row driver: ISAAC 0.17 µm² at 32 nm [S11], logic area (∝ F²)
DRIVER_A_UM2_32NM = 0.17
# multi-bit DAC area per unit element: BRAHMS 8 b 438 µm² @ 40 nm, Albireo 8 b 153 µm² @ 7 nm
# [S11] -> a_u = 1.71 µm² · (F/40)^0.60 (two-point power law)
_A40, _A7 = 438.0 / 256, 153.0 / 256
DAC_A_UNIT_EXP = math.log(_A40 / _A7) / math.log(40 / 7)
DAC_A_UNIT_UM2_40NM = _A40


def _driver_area(ctx: ConverterContext) -> float:
    return DRIVER_A_UM2_32NM * (ctx.node_nm / 32.0) ** 2


def _pulse_generator(bits: int, ctx: ConverterContext) -> float:
    """Per-row pulse generator for one read: a ``bits``-bit register loaded once and compared
    with the broadcast counter in each of the window's 2^(bits−1) clock periods (a B-bit
    equality compare ≈ B/2 register-bit toggles) [J]."""
    return bits * ctx.e_reg_bit_j + 2 ** (bits - 1) * bits * ctx.e_reg_bit_j / 2


@register_dac
class Voltage(DACModel):
    """Multi-level voltage DAC per row: one read per slice (default: the whole input)."""

    name = "voltage"
    summary = "multi-level voltage: line charge + 2^B·C_u·V_a² (B > 1) per slice"
    sliceable = True

    def energy_j(self, bits, e_line, ctx, density):
        core = 0.0 if bits == 1 else 2 ** bits * DAC_C_UNIT * ctx.v_analog ** 2
        return e_line + core

    def area_um2(self, bits, ctx):
        a = _driver_area(ctx)
        if bits > 1:
            a += 2 ** bits * DAC_A_UNIT_UM2_40NM * (ctx.node_nm / 40.0) ** DAC_A_UNIT_EXP
        return a


@register_dac
class BitSerial(DACModel):
    """One read per input bit through a 1-bit driver; a row is pulsed only for its 1-bits when
    ``input_bit_density`` d is set (else every bit toggles the line)."""

    name = "bit_serial"
    summary = "bit-serial: one read per bit; d line charges per bit; array ×(d/activity)"

    def split(self, bits, slice_bits):
        return [1] * bits

    def energy_j(self, bits, e_line, ctx, density):
        return density * e_line

    def area_um2(self, bits, ctx):
        return _driver_area(ctx)

    def array_factor(self, bits, t_read, clock_hz, activity, density):
        return density / max(activity, 1e-6)


@register_dac
class PWM(DACModel):
    """Pulse-width: one read whose pulse lasts |x|·T, T = 2^(B−1) clock periods (sign as
    polarity, HERMES [S14]); one line charge per conversion whatever the width."""

    name = "pwm"
    summary = "pulse width: one line charge + pulse generator; window 2^(B−1)/f_clk"

    def window_s(self, bits, t_read, clock_hz):
        return 2 ** (bits - 1) / clock_hz

    def energy_j(self, bits, e_line, ctx, density):
        return e_line + _pulse_generator(bits, ctx)

    def area_um2(self, bits, ctx):
        return _driver_area(ctx) + bits * 2 * ctx.a_reg_bit_um2

    def array_factor(self, bits, t_read, clock_hz, activity, density):
        # V_read for |x|·T instead of (x·V_read)² for t_read; E|x| ≈ sqrt(E[x²])
        return self.window_s(bits, t_read, clock_hz) / t_read / math.sqrt(max(activity, 1e-6))


@register_dac
class PulseCount(DACModel):
    """Pulse count: the magnitude (``dac_bits`` − 1 bits, sign as polarity) is applied as
    |x| unit pulses (width t_read, one per clock period), in slices of ``input_slice_bits`` magnitude bits
    (2^s − 1 pulses at most per slice, integrated in analog; NeuRRAM [S12], Sinangil's
    read-wordline pulses [S17]). Each pulse charges the line once."""

    name = "pulse_count"
    summary = "pulse count: E|x|·(2^s−1) line charges and t_read steps per slice of s bits"
    sliceable = True

    def split(self, bits, slice_bits):
        return super().split(max(1, bits - 1), slice_bits)

    def steps(self, bits):
        return 2 ** bits - 1

    def window_s(self, bits, t_read, clock_hz):
        # one pulse (of width t_read) per clock period
        return self.steps(bits) / clock_hz

    def energy_j(self, bits, e_line, ctx, density):
        return self.steps(bits) * density * e_line + _pulse_generator(bits + 1, ctx)

    def area_um2(self, bits, ctx):
        return _driver_area(ctx) + bits * 2 * ctx.a_reg_bit_um2

    def array_factor(self, bits, t_read, clock_hz, activity, density):
        # V_read for E|x|·(2^s−1) unit reads instead of (x·V_read)² for one
        return self.steps(bits) * math.sqrt(max(activity, 1e-6)) / max(activity, 1e-6)
