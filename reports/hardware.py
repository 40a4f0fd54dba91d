"""The chip description the pricer takes: `crossbar.chip.Hardware` (one vocabulary for the
simulator and the energy model; re-exported here for ``reports`` users)."""

from crossbar.chip import (ADC_TYPES, Hardware, HardwareError, field_specs)  # noqa: F401
