"""`Hardware`: the one flat, validated description of the chip, for the simulator and the pricer.

Users write it as a TOML file (top-level keys or a ``[hardware]`` table) without training
anything::

    node_nm = 22
    device = "rram-taox"
    tile_rows = 256
    tile_cols = 256
    dac_bits = 8        # DAC
    adc_bits = 8        # ADC
    adc_type = "sar"
    cols_per_adc = 8

The same value travels unchanged from the command line (``--hardware FILE`` plus one option
per field), a sweep axis (``--grid node_nm=22,7``) or a run record into the simulator (which
takes what it needs: device, tiles, converter bits, ADC range, wires) and into the pricer
(which takes all of it). Nothing is renamed, clamped or replaced on the way.

Every field has a default; unknown or out-of-range fields and contradictions (columns per ADC
above the tile's columns, active rows above its rows) raise `HardwareError` with one line
naming the field and the allowed range. Units are SI (V, s, Hz, W) unless a name says otherwise.
`Hardware.check_simulable` refuses, in one line, what the pricer can price but the simulator
cannot simulate (1-bit converters, transposed reads at other bits than forward reads).
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from device_models.checks import (allowed_range, check_choice, check_flag, check_number,
                                   check_text)
from device_models.textfile import read_utf8


if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# CMOS nodes the technology tables of `reports.technology` cover (checked there at import)
NODES: tuple[int, ...] = (130, 90, 65, 45, 32, 22, 16, 14, 10, 7)
# off-chip memories priced by `reports.technology.DRAM_J_PER_BIT`
DRAM_TYPES: tuple[str, ...] = ("ddr", "gddr5", "hbm2")
ADC_TYPES = ("sar", "flash", "cco", "integrating")      # = reports.converters.ADCS
INPUT_MODES = ("voltage", "bit_serial", "pwm", "pulse_count")  # = reports.converters.DACS
WORDLINE_SWITCHING = ("none", "per_vector", "per_bit")
ACCUMULATIONS = ("digital", "analog")
ARRAY_TYPES = ("resistive", "charge")
WEIGHT_MAPPINGS = ("differential", "single")
LEAKAGE_MODELS = ("per_block", "flat")
WRITE_MODELS = ("auto", "channel", "gate_charge", "compliance", "phase_change")
SCOPES = ("macro", "core")
TRANSPOSED_READOUTS = ("none", "shared_transposable", "separate_periphery")


# converter bits the simulator accepts (crossbar.Periphery): symmetric mid-tread converters
# have 2^b - 1 levels, so b >= 2; above 24 bits float32 arithmetic cannot resolve a level
SIM_BITS = (2, 24)


# ADC types whose energy and area depend on the resolution they were designed for, not only on
# the bits they run at (a SAR keeps its comparator and capacitor array: reports.converters.SAR);
# any other type would ignore adc_design_bits, so it is refused there rather than dropped
DESIGN_BITS_ADC_TYPES = ("sar",)
# how a SAR times its bit cycles (reports.converters.SAR.time_s): synchronous, B+1 cycles of
# clock_hz; asynchronous, each cycle self-timed by its DAC settling and comparator decision
SAR_CLOCKINGS = ("synchronous", "asynchronous")
# input codings whose bits a read may carry in slices (input_slice_bits): the DACs with
# sliceable = True in reports.converters (checked there at import)
SLICEABLE_INPUT_MODES = ("voltage", "pulse_count")
# write physics of write_model = "auto": the first key found in the device's preset or model
# name (reports.components prices each; "channel", V²·G·t, for any other device)
WRITE_FAMILIES = (("ecram", "gate_charge"), ("fefet", "gate_charge"), ("pcm", "phase_change"),
                  ("rram", "compliance"), ("reram", "compliance"), ("epiram", "compliance"))


class HardwareError(ValueError):
    """A hardware description is invalid (the message names the field and allowed values)."""


# field -> (kind, lo, hi, unit, help).  kind: int | float | str | bool | opt_float | opt_int
_SPEC: dict[str, tuple[str, Any, Any, str, str]] = {
    "node_nm": ("int", None, None, "nm", "CMOS node of the periphery"),
    "device": ("str", None, None, "", "device preset name (or a device .toml path)"),
    "tile_rows": ("int", 1, 65536, "", "rows (input lines) per tile"),
    "tile_cols": ("int", 1, 65536, "", "columns (output lines, weight pairs) per tile"),
    "dac_bits": ("int", 1, 16, "bit", "input resolution (DAC bits, or bit-serial slices)"),
    "input_mode": ("str", INPUT_MODES, None, "",
                   "voltage: one multi-bit DAC level per read; bit_serial: dac_bits 1-bit reads; "
                   "pwm: one read, input coded as a pulse of up to 2^(dac_bits-1) clock periods; "
                   "pulse_count: one read of up to 2^(dac_bits-1) unit pulses"),
    "input_bit_density": ("opt_float", 0.0, 1.0, "",
                          "bit_serial only: fraction of input bits that are 1 (default: dense "
                          "inputs, every line toggles per bit, half the bits conduct)"),
    "cell_bits": ("int", 0, 16, "bit",
                  "bits per device; 0 = analog (one device pair holds a whole weight)"),
    "weight_bits": ("int", 1, 32, "bit", "weight precision of digital copies/baseline"),
    "adc_bits": ("int", 1, 16, "bit", "ADC resolution (forward)"),
    "adc_bits_transposed": ("opt_int", 1, 16, "bit",
                            "ADC bits for transposed reads (default: adc_bits, as simulated; "
                            "simulate accepts only adc_bits)"),
    "out_bound": ("float", 1e-6, 1.0, "",
                  "ADC input range, fraction of a tile's full-scale column sum (conversions "
                  "beyond it clip and are counted)"),
    "adc_type": ("str", ADC_TYPES, None, "",
                 "ADC architecture (reports/converters): sar (successive approximation), "
                 "flash (comparator bank), cco (current-controlled oscillator + counter, "
                 "powered by the column current), integrating (charge-integrating neuron, "
                 "one step per output bit)"),
    "cols_per_adc": ("int", 1, 65536, "", "columns sharing one ADC (time-multiplexed)"),
    "rows_active": ("int", 0, 65536, "", "rows active per conversion (0 = all rows of the tile)"),
    "wire_resistance": ("float", 0.0, 1e9, "Ω",
                        "wire resistance per cell pitch (the simulator's IR-drop solver; slow)"),
    "v_read": ("opt_float", 1e-3, 10.0, "V", "read voltage (default: the device's)"),
    "t_read": ("opt_float", 1e-12, 1e-3, "s",
               "read pulse / integration time (default: the device's)"),
    "clock_hz": ("float", 1e6, 1e11, "Hz", "digital clock"),
    "transposed_readout": ("str", TRANSPOSED_READOUTS, None, "", "how transposed reads are done"),
    "sram_kb": ("float", 1.0, 1e6, "KiB", "on-chip SRAM buffer size"),
    "dram_type": ("str", DRAM_TYPES, None, "", "off-chip memory"),
    "program_verify": ("bool", None, None, "", "writes are program-and-verify loops"),
    "verify_iterations": ("int", 1, 1000, "", "pulse+read iterations per verified write"),
    "update_slots": ("int", 1, 65536, "",
                     "pulse slots per parallel update: the most pulses a device takes in one "
                     "update (the simulator cuts longer trains to it and counts them) and the "
                     "stochastic scheme's coincidence slots per sample (BL); an update "
                     "lasts update_slots x t_write, a stochastic one that per batch row"),
    "cell_f2": ("float", 1.0, 1e5, "F²", "area of one device (1T1R: 48 F², NeuroSim)"),
    "g_fraction": ("float", 0.0, 1.0, "", "mean programmed conductance, fraction of g_min..g_max"),
    "input_activity": ("float", 0.0, 1.0, "", "mean (x/x_max)² of inputs (synthetic estimates)"),
    "leakage_w_per_mm2": ("float", 0.0, 10.0, "W/mm²", "periphery leakage power density"),
    "power_gating": ("bool", None, None, "", "idle tiles are power-gated (leak only while used)"),
    "digital_lanes": ("int", 1, 1 << 20, "", "parallel digital periphery ops per clock"),
    "scope": ("str", SCOPES, None, "",
              "what tile TOPS/W and TOPS/mm² include: macro, or core (+ I/O buffer and "
              "per-output affine scaling + ReLU, as published core figures do)"),
    # ---- supply domains, encodings, blocks (pricer only; reports/README.md gives the laws) --
    "v_logic": ("opt_float", 0.1, 5.0, "V",
                "logic supply (digital periphery, counters, SRAM, clock); default: the node's "
                "nominal Vdd"),
    "v_analog": ("opt_float", 0.1, 10.0, "V",
                 "analog periphery supply (ADC, integrator, sample-and-hold, row drivers); "
                 "default: the node's nominal Vdd"),
    "v_wordline": ("opt_float", 0.1, 10.0, "V",
                   "wordline (access-gate) swing of 1T1R / SRAM cells; default: the node's "
                   "nominal Vdd"),
    "wordline_switching": ("str", WORDLINE_SWITCHING, None, "",
                           "when access gates toggle: none (selectorless crossbar), per_vector "
                           "(once per read vector), per_bit (once per input bit: the wordline "
                           "carries the input bits, as in NeuRRAM)"),
    "input_slice_bits": ("opt_int", 1, 16, "bit",
                         "voltage / pulse_count inputs: bits per read (slices converted "
                         "separately, shift-added); bit_serial with analog input accumulation: "
                         "bits integrated per conversion; default: the whole input"),
    "input_accumulation": ("str", ACCUMULATIONS, None, "",
                           "bit-serial / multi-slice inputs: digital (each slice converted, "
                           "shift-added) or analog (slices integrated / charge-shared with "
                           "binary weights, one conversion per vector)"),
    "weight_accumulation": ("str", ACCUMULATIONS, None, "",
                            "weight slices (cell_bits > 0): digital (each slice column "
                            "converted, shift-added) or analog (binary-weighted currents / "
                            "charges combined before one conversion)"),
    "weight_mapping": ("str", WEIGHT_MAPPINGS, None, "",
                       "resistive arrays: differential (a device pair per weight slice) or "
                       "single (one device per slice, offset / reference column)"),
    "array_type": ("str", ARRAY_TYPES, None, "",
                   "resistive (current summing, V²·G·t per cell) or charge (a capacitor per "
                   "cell, C·V² per toggled cell: SRAM charge-domain MAC)"),
    "c_mac": ("float", 1e-18, 1e-12, "F",
              "charge-domain array: capacitance per cell (1.2 fF: Jia 2020 metal-fringe cap)"),
    "analog_bias_a": ("float", 0.0, 1e-2, "A",
                      "static bias current per ADC (reference buffers, preamps) drawn from "
                      "v_analog while the tile reads (0: dynamic converters)"),
    "leakage_model": ("str", LEAKAGE_MODELS, None, "",
                      "per_block: leakage per block type and node (logic, SRAM; analog blocks "
                      "leak only their logic); flat: leakage_w_per_mm2 x periphery area"),
    "write_model": ("str", WRITE_MODELS, None, "",
                    "write-pulse physics: auto (by device family), channel (V²·G·t through the "
                    "device), gate_charge (3-terminal ECRAM/FeFET: Q_gate·V), compliance (RRAM "
                    "SET capped at write_current_a, RESET through the filament), phase_change "
                    "(PCM: partial SET through the cell, RESET at write_current_a)"),
    "write_charge_c": ("opt_float", 1e-21, 1e-12, "C",
                       "gate_charge: charge moved per write pulse (default: FeFET 1.2 fC = "
                       "2·P_r·A, ECRAM 10 aC)"),
    "write_current_a": ("opt_float", 1e-9, 1e-2, "A",
                        "compliance: RRAM SET current limit (default 100 µA); phase_change: "
                        "PCM RESET current (default 300 µA)"),
    "adc_design_bits": ("opt_int", 1, 16, "bit",
                        "resolution the ADCs are built for (>= adc_bits); a SAR run at fewer "
                        "bits keeps its comparator and capacitor array (default: adc_bits)"),
    "sar_clocking": ("str", SAR_CLOCKINGS, None, "",
                     "SAR bit-cycle timing: synchronous, (adc_bits+1) periods of clock_hz; "
                     "asynchronous, self-timed cycles of DAC settling + comparator decision, "
                     "(adc_bits+1)²·ln2·τ(node) (asynchronous only with adc_type = sar)"),
}


@dataclass(frozen=True)
class Hardware:
    """The analog accelerator: node, device, tile geometry, converters, memories, options.

    Defaults: 22 nm, ECRAM devices, 256x256 tiles, 8-bit DAC/ADC over 5 % of full scale, one
    SAR ADC per 8 columns, ideal wires, transposable tiles, 1 MiB on-chip SRAM, DDR DRAM,
    open-loop writes, macro-level tile figures.
    ``v_read``/``t_read`` default to the device preset's values.
    """

    node_nm: int = 22
    device: str = "ecram"
    tile_rows: int = 256
    tile_cols: int = 256
    dac_bits: int = 8
    input_mode: str = "voltage"
    input_bit_density: float | None = None
    cell_bits: int = 0
    weight_bits: int = 8
    adc_bits: int = 8
    adc_bits_transposed: int | None = None
    out_bound: float = 0.05
    adc_type: str = "sar"
    cols_per_adc: int = 8
    rows_active: int = 0
    wire_resistance: float = 0.0
    v_read: float | None = None
    t_read: float | None = None
    clock_hz: float = 1e9
    transposed_readout: str = "shared_transposable"
    sram_kb: float = 1024.0
    dram_type: str = "ddr"
    program_verify: bool = False
    verify_iterations: int = 10
    update_slots: int = 31
    cell_f2: float = 48.0
    g_fraction: float = 0.25
    input_activity: float = 0.25
    leakage_w_per_mm2: float = 0.01
    power_gating: bool = True
    digital_lanes: int = 256
    scope: str = "macro"
    v_logic: float | None = None
    v_analog: float | None = None
    v_wordline: float | None = None
    wordline_switching: str = "per_vector"
    input_slice_bits: int | None = None
    input_accumulation: str = "digital"
    weight_accumulation: str = "digital"
    weight_mapping: str = "differential"
    array_type: str = "resistive"
    c_mac: float = 1.2e-15
    analog_bias_a: float = 0.0
    leakage_model: str = "per_block"
    write_model: str = "auto"
    write_charge_c: float | None = None
    write_current_a: float | None = None
    adc_design_bits: int | None = None
    sar_clocking: str = "synchronous"

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if type(v).__module__ == "numpy" and getattr(v, "ndim", None) == 0:  # numpy scalar
                object.__setattr__(self, f.name, v.item())  # (np.bool_ -> bool too)
            _check(f.name, getattr(self, f.name))
        if self.cols_per_adc > self.tile_cols:
            raise HardwareError(f"hardware field cols_per_adc = {self.cols_per_adc} exceeds "
                                f"tile_cols = {self.tile_cols}; allowed 1..tile_cols")
        if self.rows_active > self.tile_rows:
            raise HardwareError(f"hardware field rows_active = {self.rows_active} exceeds "
                                f"tile_rows = {self.tile_rows}; allowed 0 (all) ..tile_rows")
        from device_models import get_device
        try:
            dev = get_device(self.device)
        except Exception as exc:  # unknown preset, bad file
            raise HardwareError(f"device = {self.device!r}: {exc}") from None
        self._refuse_moot_fields(_write_model(self.write_model, self.device, dev.name))
        if self.adc_design_bits is not None and self.adc_design_bits < self.adc_bits:
            raise HardwareError(f"hardware field adc_design_bits = {self.adc_design_bits} is "
                                f"below adc_bits = {self.adc_bits}; allowed adc_bits..16")

    def _refuse_moot_fields(self, model: str) -> None:
        """A field set (other than its default) where the rest of the chip gives it nothing to
        do (a charge array's capacitance on a resistive array, ...) would change only the
        description: refused, naming where it applies. Each rule is what the pricer reads
        (reports.components); ``model`` is the priced write model."""
        several_reads = self.input_mode == "bit_serial" or (
            self.input_mode in SLICEABLE_INPUT_MODES and self.input_slice_bits is not None)
        adc = f"adc_type = {self.adc_type!r}"
        rules = (  # field, applies here, this chip, where it applies
            ("adc_design_bits", self.adc_type in DESIGN_BITS_ADC_TYPES, adc,
             f"adc_type in {', '.join(DESIGN_BITS_ADC_TYPES)}"),
            ("sar_clocking", self.adc_type == "sar", adc,
             "adc_type = 'sar' (other types: 'synchronous')"),
            ("input_bit_density", self.input_mode == "bit_serial",
             f"input_mode = {self.input_mode!r}", "input_mode = 'bit_serial'"),
            ("write_charge_c", model == "gate_charge", f"the {model!r} write model",
             "write_model gate_charge (auto: ECRAM, FeFET)"),
            ("write_current_a", model in ("compliance", "phase_change"),
             f"the {model!r} write model",
             "write_model compliance or phase_change (auto: RRAM, PCM)"),
            ("c_mac", self.array_type == "charge", f"array_type = {self.array_type!r}",
             "array_type = 'charge'"),
            ("leakage_w_per_mm2", self.leakage_model == "flat",
             f"leakage_model = {self.leakage_model!r}", "leakage_model = 'flat'"),
            ("weight_accumulation", self.cell_bits > 0, f"cell_bits = {self.cell_bits}",
             "cell_bits > 0 (weights in slices)"),
            ("input_accumulation", several_reads,
             f"input_mode = {self.input_mode!r} with one read per vector",
             "bit_serial inputs, or voltage / pulse_count inputs with input_slice_bits"),
            ("input_slice_bits", self.input_mode in SLICEABLE_INPUT_MODES or (
                self.input_mode == "bit_serial" and self.input_accumulation == "analog"),
             f"input_mode = {self.input_mode!r} with input_accumulation = "
             f"{self.input_accumulation!r}", "input_mode voltage or pulse_count, or bit_serial "
             "with input_accumulation = 'analog'"),
        )
        for name, applies, here, where in rules:
            if getattr(self, name) != _DEFAULTS[name] and not applies:
                raise HardwareError(f"hardware field {name} = {getattr(self, name)!r} has no "
                                    f"effect on {here}; allowed only with {where}")

    def priced_write_model(self) -> str:
        """The write physics the pricer uses: ``write_model``, or for ``auto`` the device's
        family (`WRITE_FAMILIES`, by preset and model name; else ``channel``)."""
        return _write_model(self.write_model, self.device, self.device_model().name)

    # ---- derived ------------------------------------------------------------------------
    @property
    def transposed_adc_bits(self) -> int:
        """ADC bits used for transposed (backward) reads."""
        return self.adc_bits_transposed if self.adc_bits_transposed is not None else \
            self.adc_bits

    def check_simulable(self) -> None:
        """Raise `HardwareError` (one line) for what the pricer accepts but the simulator
        (`crossbar.AnalogMatrix`) cannot simulate; the message gives the range both accept."""
        for name in ("dac_bits", "adc_bits"):
            check_simulable_field(name, getattr(self, name))
        t = self.adc_bits_transposed
        if t is not None and t != self.adc_bits:
            raise HardwareError(f"hardware field adc_bits_transposed = {t} cannot be simulated: "
                                f"the simulator reads transposed with the forward ADC; leave it "
                                f"unset or set it to adc_bits = {self.adc_bits}")

    def device_model(self):
        """The `DeviceModel` named by ``device``."""
        from device_models import get_device
        return get_device(self.device)

    def read_voltage(self) -> float:
        return self.v_read if self.v_read is not None else self.device_model().v_read

    def read_time(self) -> float:
        return self.t_read if self.t_read is not None else self.device_model().t_read

    # ---- construction / printing -------------------------------------------------------
    def replace(self, **changes: Any) -> "Hardware":
        unknown = set(changes) - set(_SPEC)
        if unknown:
            raise HardwareError(_unknown_msg(sorted(unknown)[0]))
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], origin: str = "") -> "Hardware":
        pre = f"{origin}: " if origin else ""
        for k in d:
            if k not in _SPEC:
                raise HardwareError(pre + _unknown_msg(k))
        vals = {k: (float(v) if _SPEC[k][0] in ("float", "opt_float") and isinstance(v, int)
                    and not isinstance(v, bool) else v) for k, v in d.items()}
        try:
            return cls(**vals)
        except HardwareError as exc:
            raise HardwareError(pre + str(exc)) from None

    @classmethod
    def from_toml(cls, path: str | Path) -> "Hardware":
        """Load a hardware TOML file (top-level keys or a ``[hardware]`` table)."""
        return cls.from_dict(read_fields(path), origin=str(path))

    def rows(self) -> list[tuple[str, str, str]]:
        """(field, value, meaning) rows for printing."""
        out = []
        for f in fields(self):
            v = getattr(self, f.name)
            kind, _lo, _hi, unit, help_ = _SPEC[f.name]
            if v is None:
                if f.name == "v_read":
                    s = f"{self.read_voltage():g} V (device)"
                elif f.name == "t_read":
                    s = f"{self.read_time():g} s (device)"
                elif f.name == "adc_bits_transposed":
                    s = f"{self.transposed_adc_bits} bit (= adc_bits)"
                elif f.name == "input_bit_density":
                    s = "dense (default)"
                elif f.name in ("v_logic", "v_analog", "v_wordline"):
                    s = "node Vdd (default)"
                elif f.name == "input_slice_bits":
                    s = "whole input (default)"
                elif f.name in ("write_charge_c", "write_current_a"):
                    s = "by device family (default)"
                else:
                    s = "default"
            else:
                s = f"{v:g}" if isinstance(v, float) else str(v)
                if unit and not isinstance(v, (str, bool)):
                    s += f" {unit}"
            out.append((f.name, s, help_))
        return out

    def __str__(self) -> str:
        rows = self.rows()
        w = max(len(n) for n, _, _ in rows)
        return "Hardware\n" + "\n".join(f"  {n:<{w}}  {v}" for n, v, _ in rows)


def read_fields(path: str | Path) -> dict[str, Any]:
    """The fields a hardware TOML file writes (top-level keys or a ``[hardware]`` table), as
    written, each checked (`HardwareError` names the file and the field); fields it leaves out
    are not in the dict."""
    p = Path(path)
    text = read_utf8(p, "hardware file", HardwareError)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise HardwareError(f"{p}: not valid TOML ({msg})") from None
    if "hardware" in data:
        if not isinstance(data["hardware"], dict) or len(data) != 1:
            extra = [k for k in data if k != "hardware"]
            raise HardwareError(f"{p}: " + _unknown_msg(extra[0] if extra else "hardware"))
        data = data["hardware"]
    Hardware.from_dict(data, origin=str(p))          # every field checked
    return {k: (float(v) if _SPEC[k][0] in ("float", "opt_float") and isinstance(v, int)
                and not isinstance(v, bool) else v) for k, v in data.items()}


# fields the simulator used: a run's events depend on them, so a report cannot re-price a
# stored run with other values (sweep them instead)
SIMULATED_FIELDS = ("device", "tile_rows", "tile_cols", "dac_bits", "adc_bits",
                    "adc_bits_transposed", "out_bound", "wire_resistance", "v_read", "t_read",
                    "update_slots")
# the simulated fields the pricer never reads and `analogff energy` cannot use: the wires act
# only through a simulated run's currents (out_bound is not here: energy names the matrices
# whose widened ADC range it would cap)
UNPRICED_FIELDS = ("wire_resistance",)


def reprice_chip(stored: Hardware, changes: dict[str, Any], what: str = "the run") -> Hardware:
    """``stored`` (a run's chip) with pricing-only ``changes`` (a what-if re-pricing of the same
    simulated events). A change to a `SIMULATED_FIELDS` field is refused in one line."""
    for k, v in changes.items():
        if k in SIMULATED_FIELDS and getattr(stored, k) != v:
            raise HardwareError(f"hardware field {k} = {v!r}: {what} was simulated with {k} = "
                                f"{getattr(stored, k)!r}; re-pricing cannot change what was "
                                "simulated (sweep it instead)")
    return stored.replace(**changes) if changes else stored


def field_specs() -> list[tuple[str, str, str, str]]:
    """(field, default, allowed values, meaning) of every hardware field, in file order."""
    defaults = {n: v for n, v, _ in Hardware().rows()}
    out = []
    for name, (kind, lo, hi, unit, help_) in _SPEC.items():
        if isinstance(lo, tuple):
            allowed = " | ".join(lo)
        elif kind == "bool":
            allowed = "true | false"
        elif name == "node_nm":
            allowed = ", ".join(str(n) for n in NODES) + " nm"
        elif name == "device":
            allowed = "a preset (analogff devices) or a device .toml path"
        else:   # as the refusals word it (device_models.checks)
            allowed = allowed_range(lo, hi, integer=kind.endswith("int"), unit=unit)
            if kind.startswith("opt_"):
                allowed += " (or unset)"
        if name in ("dac_bits", "adc_bits"):   # what a simulated run also needs
            allowed += f"; simulate: {SIM_BITS[0]}..{min(SIM_BITS[1], hi)}"
        elif name == "adc_bits_transposed":
            allowed += "; simulate: unset or = adc_bits"
        default = defaults[name]
        if kind == "bool":
            default = default.lower()       # as written in TOML
        out.append((name, default, allowed, help_))
    return out


# each field's default (a field set to anything else where it has no effect is refused)
_DEFAULTS = {f.name: f.default for f in fields(Hardware)}


def _write_model(write_model: str, device: str, model_name: str) -> str:
    """The write physics priced: ``write_model``, or for ``auto`` the family whose key is in
    the device's preset or model name (`WRITE_FAMILIES`; else ``channel``)."""
    if write_model != "auto":
        return write_model
    name = f"{device} {model_name}".lower()
    return next((model for key, model in WRITE_FAMILIES if key in name), "channel")


def _unknown_msg(name: str) -> str:
    return f"unknown hardware field {name!r}; known fields: {', '.join(_SPEC)}"


def _check(name: str, v: Any) -> None:
    kind, lo, hi, unit, _ = _SPEC[name]
    field = f"hardware field {name}"
    if kind.startswith("opt_"):
        if v is None:
            return
        kind = kind[4:]
    if name == "node_nm":
        check_choice(field, v, NODES, error=HardwareError)
    elif kind in ("int", "float"):
        check_number(field, v, lo, hi, integer=kind == "int", unit=unit, error=HardwareError)
    elif kind == "bool":
        check_flag(field, v, error=HardwareError)
    elif kind == "str":
        check_text(field, v, error=HardwareError)
        if lo is not None:
            check_choice(field, v, lo, error=HardwareError)


def check_simulable_field(name: str, v: Any) -> None:
    """Refuse a converter width outside what both the simulator and the pricer accept, naming
    that range (called before the pricer's own range check, so the message gives both)."""
    if name not in ("dac_bits", "adc_bits") or isinstance(v, bool) or not isinstance(v, int):
        return
    lo, hi = SIM_BITS[0], min(SIM_BITS[1], _SPEC[name][2])
    if not lo <= v <= hi:
        raise HardwareError(f"hardware field {name} = {v} cannot be simulated and priced; "
                            f"allowed integers {lo}..{hi} (simulator {SIM_BITS[0]}..{SIM_BITS[1]}"
                            f", pricer {_SPEC[name][1]}..{_SPEC[name][2]})")


def field_names() -> tuple[str, ...]:
    """Every hardware field, in file order."""
    return tuple(_SPEC)


def field_type(name: str) -> type:
    """The Python type of a field's values (int, float, str or bool; optional fields too)."""
    if name not in _SPEC:
        raise HardwareError(_unknown_msg(name))
    kind = _SPEC[name][0].removeprefix("opt_")
    return {"int": int, "float": float, "str": str, "bool": bool}[kind]


def field_optional(name: str) -> bool:
    """True if the field may be unset (None: the device's value or another field's)."""
    return _SPEC[name][0].startswith("opt_")


def parse_field(name: str, value: Any) -> Any:
    """A field's value from a string (command line, ``--grid``) or a TOML value, typed for the
    field and not yet range-checked (`Hardware` does that). ``none`` / ``default`` unsets an
    optional field. Raises `HardwareError` naming the field."""
    t = field_type(name)
    try:
        return parse_scalar(value, t, field_optional(name))
    except ValueError:
        raise HardwareError(f"hardware field {name} = {value!r} is not a valid "
                            f"{t.__name__}") from None


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_UNSET = ("none", "null", "default")


def parse_scalar(value: Any, t: type, optional: bool) -> Any:
    """``value`` typed as ``t`` (int, float, str or bool): a string (command line, ``--grid``)
    is parsed (``none`` / ``null`` / ``default`` unsets an ``optional`` field; booleans as
    true/false, yes/no, on/off, 1/0), an int becomes a float where ``t`` is float, anything
    else is returned as given for the caller's range check. Raises ValueError when a string
    does not parse. Shared by the chip's fields and `analogff.config`'s run fields."""
    if value is None:
        return None
    if isinstance(value, str):
        s = value.strip()
        if s.lower() in _UNSET and optional:
            return None
        if t is bool:
            if s.lower() in _TRUE:
                return True
            if s.lower() in _FALSE:
                return False
            raise ValueError(s)
        return t(s) if t in (int, float) else s
    if t is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
