"""`Periphery`: the converters, tiling, mapping and update scheme around the arrays."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from device_models.checks import check_choice, check_number

UPDATE_SCHEMES = ("deterministic", "stochastic", "mixed")
INPUT_SCALINGS = ("abs-max", "fixed")
MAPPINGS = ("differential", "reference")


class PeripheryParameterError(ValueError):
    """A periphery parameter is out of range (message names field, value, range)."""


# every field's check: `device_models.checks`, refusing with this module's error
_number = functools.partial(check_number, error=PeripheryParameterError)
_choice = functools.partial(check_choice, error=PeripheryParameterError)


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
    max_pulses: int = 31             # cap on pulses per device per update window
    bl: int = 31                     # stochastic train length per sample (Gokmen-Vlasov)
    wire_resistance: float = 0.0     # Ω per cell pitch along rows and columns
    access_resistance: float = 0.0   # Ω in series with each cell (1T1R)

    def __post_init__(self) -> None:
        # symmetric mid-tread converters have 2^b - 1 levels: b >= 2
        _number("dac_bits", self.dac_bits, 2, 24, integer=True)
        _number("adc_bits", self.adc_bits, 2, 24, integer=True)
        _number("out_bound", self.out_bound, 0.0, 1.0, lo_open=True)
        _choice("input_scaling", self.input_scaling, INPUT_SCALINGS)
        _number("in_bound", self.in_bound, 0.0, 1e12, lo_open=True)
        _number("tile_rows", self.tile_rows, 1, 1 << 16, integer=True)
        _number("tile_cols", self.tile_cols, 1, 1 << 16, integer=True)
        if self.read_noise is not None:
            _number("read_noise", self.read_noise, 0.0, 10.0)
        _choice("mapping", self.mapping, MAPPINGS)
        _choice("update", self.update, UPDATE_SCHEMES)
        _number("max_pulses", self.max_pulses, 1, 1 << 20, integer=True)
        _number("bl", self.bl, 1, 1 << 16, integer=True)
        _number("wire_resistance", self.wire_resistance, 0.0, 1e9, unit="ohms")
        _number("access_resistance", self.access_resistance, 0.0, 1e12, unit="ohms")

    def replace(self, **changes: Any) -> "Periphery":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
