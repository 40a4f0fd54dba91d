"""Shared physics of the converter models: operating context, thermal limit, registries.

Units: joules, seconds, µm², volts, metres for nothing (feature size in nm, named ``_nm``).

Sources (cited in ``reports/converters/README.md``):

* [Murmann-survey] B. Murmann, "ADC Performance Survey 1997-2025", github bmurmann/ADC-survey:
  Schreier figure of merit ``FoM_S = SNDR + 10·log10(f_s / (2·P))`` [dB]; the best designs
  at high resolution sit near 180 dB (p90 176-182 dB at 10-11 ENOB, ISSCC+VLSI 2010-2025).
* [Murmann-CICC08] B. Murmann, "A/D converter trends: power dissipation, scaling and
  digitally assisted architectures", IEEE CICC 2008: the fundamental energy per conversion of
  a thermal-noise-limited converter is of order ``8·k·T·SNR``.
* [Jonsson] B. E. Jonsson, "ADC performance evolution: thermal FOM" (converterpassion blog):
  state-of-the-art energy grows 4× per bit above ~9-10 bits (thermal regime) and ~2× per bit
  below it (capacitor-array / switching regime).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

from device_models.checks import check_choice

K_BOLTZMANN = 1.380649e-23   # J/K
T_KELVIN = 300.0              # operating temperature assumed for noise [K]
# thermal-regime envelope of the survey (best designs at 10-12 b) [Murmann-survey]
FOM_S_THERMAL_DB = 180.0
FF = 1e-15
PJ = 1e-12
# Analog front end of a column read by current: an amplifier that holds the bit line (virtual
# ground, or a regulated read voltage) with its capacitor, turning the column current into what
# the converter measures (a TIA / integrator before a sampling ADC; the bit-line regulator and
# current mirror of an oscillator ADC). NeuRRAM's integrator: 350 µm² at 130 nm, its published
# block area as Accelergy's component library carries it [S11].
# Its size is set by device matching (offset σ ∝ A_VT/√(W·L): Pelgrom et al., IEEE JSSC 24(5),
# 1433 (1989); Kinget, IEEE JSSC 40(6), 1212 (2005)) and by its capacitor, not by the
# lithography, so a converter's own front end (the CCO's) is not moved with the logic scale:
# node-independent (an upper bound where A_VT shrinks with thinner gate oxides). The
# per-column integrator keeps it on the logic scale (`reports.components.Costs.a_integrator`
# says why).
ANALOG_FRONT_END_A_UM2 = 350.0


def snr_ideal(bits: float) -> float:
    """SNR (linear power ratio) of an ideal ``bits``-bit quantiser: 6.02·B + 1.76 dB."""
    return 1.5 * 4.0 ** bits


def thermal_floor_j(bits: float) -> float:
    """Fundamental energy per conversion, ``8·k·T·SNR`` [J] [Murmann-CICC08]. No converter
    model may price a conversion below this (tested)."""
    return 8.0 * K_BOLTZMANN * T_KELVIN * snr_ideal(bits)


def thermal_envelope_j(bits: float) -> float:
    """Energy of the best converters in the thermal regime: Schreier FoM 180 dB, i.e.
    ``SNR / (2·10^(FoM_S/10))`` [J] [Murmann-survey]; 4× per bit; ~15× above
    `thermal_floor_j`. Every ADC law adds it, so each meets this envelope at high resolution."""
    return snr_ideal(bits) / (2.0 * 10.0 ** (FOM_S_THERMAL_DB / 10.0))


def ktc_capacitance_f(bits: float, v_full_scale: float) -> float:
    """Smallest sampling capacitance whose kT/C noise stays below the quantisation noise of
    ``bits`` bits over ``v_full_scale`` [F]: ``kT/C ≤ (V_fs/2^B)²/12``."""
    lsb = v_full_scale / 2.0 ** bits
    return 12.0 * K_BOLTZMANN * T_KELVIN / (lsb * lsb)


@dataclass(frozen=True)
class ConverterContext:
    """Where a converter works: node [nm], analog supply [V], logic supply [V], clock [Hz],
    and the time the array lines are driven per read [s] (oscillator ADCs count during it)."""

    node_nm: int
    v_analog: float
    v_logic: float
    clock_hz: float
    read_window_s: float = 0.0
    # logic energy of a 1-bit register toggle at this node and v_logic [J] (counters)
    e_reg_bit_j: float = 0.0
    # logic area of a 1-bit register at this node [µm²]
    a_reg_bit_um2: float = 0.0
    # resolution the converter is built for (0: the bits it runs at); a SAR run below it keeps
    # its design's comparator and capacitor array
    design_bits: int = 0
    # how a SAR times its bit cycles: "synchronous" (B+1 periods of clock_hz) or
    # "asynchronous" (self-timed cycles, `adc.sar_async_time_s`)
    sar_clocking: str = "synchronous"


class ADCModel:
    """One ADC architecture. Subclasses set ``name`` and implement the three laws."""

    name: str = ""
    summary: str = ""
    # True if the converter integrates the column signal itself (no separate integrator)
    integrates: bool = False
    # True if the conversion needs a separate sample-and-hold (SAR/flash sample on their own
    # capacitor array or comparators; an integrating neuron holds its charge on a sampler)
    needs_sample_hold: bool = False
    # False if a conversion cannot overlap the next read (it converts the charge on the
    # integrating capacitor, or counts while the column current flows)
    pipelined: bool = True

    def energy_j(self, bits: int, ctx: ConverterContext) -> float:  # pragma: no cover
        raise NotImplementedError

    def time_s(self, bits: int, ctx: ConverterContext) -> float:  # pragma: no cover
        raise NotImplementedError

    def area_um2(self, bits: int, ctx: ConverterContext) -> float:  # pragma: no cover
        raise NotImplementedError

    def supply_factor(self, ctx: ConverterContext, v_read: float) -> float:
        """Energy this ADC draws per joule of array term (only oscillator ADCs powered by the
        column current draw any)."""
        return 0.0


class DACModel:
    """One input encoding with its driver. Subclasses set ``name``.

    An input of ``dac_bits`` is applied as one or more reads (``split``: the bits of each
    slice). Per slice the model gives the line-drive window (``window_s``), the unit
    time-steps an integrator takes (``steps``), the driver energy (``energy_j``, given the
    energy of one full line charge ``e_line``), and the factor that turns the ledger's
    amplitude-coded array energy (∝ x²·t_read) into this encoding's (``array_factor``)."""

    name: str = ""
    summary: str = ""
    # may the user choose the slice width (input_slice_bits)?
    sliceable: bool = False

    def split(self, bits: int, slice_bits: int | None) -> list[int]:
        """Bits carried by each read of one ``bits``-bit input."""
        if slice_bits is None or slice_bits >= bits:
            return [bits]
        n = -(-bits // slice_bits)
        return [slice_bits] * (n - 1) + [bits - slice_bits * (n - 1)]

    def window_s(self, bits: int, t_read: float, clock_hz: float) -> float:
        return t_read

    def steps(self, bits: int) -> int:
        return 1

    def energy_j(self, bits: int, e_line: float, ctx: ConverterContext, density: float
                 ) -> float:  # pragma: no cover
        raise NotImplementedError

    def area_um2(self, bits: int, ctx: ConverterContext) -> float:  # pragma: no cover
        raise NotImplementedError

    def array_factor(self, bits: int, t_read: float, clock_hz: float, activity: float,
                     density: float) -> float:
        return 1.0


_M = TypeVar("_M")


class Registry(dict):
    """name -> model instance, filled by the ``register`` decorator."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def register(self, cls: type[_M]) -> type[_M]:
        inst = cls()
        if not inst.name or inst.name in self:
            raise ValueError(f"{self.kind} model {cls.__name__} needs a unique name")
        self[inst.name] = inst
        return cls

    def get_model(self, name: str):
        check_choice(self.kind, name, tuple(self))
        return self[name]


ADCS: Registry = Registry("adc_type")
DACS: Registry = Registry("input_mode")
register_adc: Callable = ADCS.register
register_dac: Callable = DACS.register

