"""`Periphery`: the converters, tiling, mapping and update scheme around the arrays."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

UPDATE_SCHEMES = ("deterministic", "stochastic", "mixed")
INPUT_SCALINGS = ("abs-max", "fixed")
MAPPINGS = ("differential", "reference")


class PeripheryParameterError(ValueError):
    """A periphery parameter is out of range (message names field, value, range)."""


def _int_in(name: str, v: Any, lo: int, hi: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise PeripheryParameterError(f"{name} = {v!r} is out of range; allowed integers {lo}..{hi}")


def _float_in(name: str, v: Any, lo: float, hi: float, lo_open: bool = False) -> None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and \
        (v > lo if lo_open else v >= lo) and v <= hi
    if not ok:
        lb = "(" if lo_open else "["
        raise PeripheryParameterError(f"{name} = {v!r} is out of range; allowed {lb}{lo:g}, {hi:g}]")


@dataclass(frozen=True)
class Periphery:
    """DAC/ADC, tiling, noise override, weight mapping and update scheme of an `AnalogMatrix`.

    ``out_bound`` is the ADC's input range as a fraction of a tile's full scale (the column
    sum reached with every used row at full input and full weight), floored at one cell's full
    scale; conversions beyond it are clipped and counted. ``read_noise`` (if not None) overrides the device's read noise σ
    (fraction of g_max - g_min). ``wire_resistance`` (Ω per cell pitch) switches on the IR-drop
    solver.
    """

    dac_bits: int = 8
    adc_bits: int = 8
    out_bound: float = 0.05
    input_scaling: str = "abs-max"   # abs-max: per input vector | fixed: clip at in_bound
    in_bound: float = 1.0
    tile_rows: int = 256
    tile_cols: int = 256
    read_noise: float | None = None
    mapping: str = "differential"    # differential pair | single device + reference column
    update: str = "deterministic"    # deterministic | stochastic | mixed
    max_pulses: int = 31             # cap on pulses per device per update
    bl: int = 31                     # stochastic pulse-train length (Gokmen-Vlasov)
    wire_resistance: float = 0.0     # Ω per cell pitch along rows and columns
    access_resistance: float = 0.0   # Ω in series with each cell (1T1R)

    def __post_init__(self) -> None:
        # symmetric mid-tread converters have 2^b - 1 levels: b >= 2
        _int_in("dac_bits", self.dac_bits, 2, 24)
        _int_in("adc_bits", self.adc_bits, 2, 24)
        _float_in("out_bound", self.out_bound, 0.0, 1.0, lo_open=True)
        if self.input_scaling not in INPUT_SCALINGS:
            raise PeripheryParameterError(
                f"input_scaling = {self.input_scaling!r} is unknown; allowed: {', '.join(INPUT_SCALINGS)}")
        _float_in("in_bound", self.in_bound, 0.0, 1e12, lo_open=True)
        _int_in("tile_rows", self.tile_rows, 1, 1 << 16)
        _int_in("tile_cols", self.tile_cols, 1, 1 << 16)
        if self.read_noise is not None:
            _float_in("read_noise", self.read_noise, 0.0, 10.0)
        if self.mapping not in MAPPINGS:
            raise PeripheryParameterError(
                f"mapping = {self.mapping!r} is unknown; allowed: {', '.join(MAPPINGS)}")
        if self.update not in UPDATE_SCHEMES:
            raise PeripheryParameterError(
                f"update = {self.update!r} is unknown; allowed: {', '.join(UPDATE_SCHEMES)}")
        _int_in("max_pulses", self.max_pulses, 1, 1 << 20)
        _int_in("bl", self.bl, 1, 1 << 16)
        _float_in("wire_resistance", self.wire_resistance, 0.0, 1e9)
        _float_in("access_resistance", self.access_resistance, 0.0, 1e12)

    def replace(self, **changes: Any) -> "Periphery":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
