"""Converter models: one class per ADC architecture and per input encoding (DAC / driver),
registered by name. ``reports.components.Costs`` looks them up by the chip's ``adc_type`` and
``input_mode``. See README.md here ("Adding a new converter model") for the laws and sources.
"""

from . import adc as _adc  # noqa: F401  (registers the ADCs)
from . import dac as _dac  # noqa: F401  (registers the DACs)
from .base import (ADCS, DACS, ADCModel, ConverterContext, DACModel, thermal_envelope_j,
                   thermal_floor_j, snr_ideal, ktc_capacitance_f)

from crossbar.chip import ADC_TYPES as _CHIP_ADCS, INPUT_MODES as _CHIP_MODES  # noqa: E402
from crossbar.chip import SLICEABLE_INPUT_MODES as _CHIP_SLICEABLE  # noqa: E402

# the chip description offers exactly the converters registered here
assert tuple(ADCS) == tuple(_CHIP_ADCS), f"crossbar.chip.ADC_TYPES {_CHIP_ADCS} != {tuple(ADCS)}"
assert tuple(DACS) == tuple(_CHIP_MODES), \
    f"crossbar.chip.INPUT_MODES {_CHIP_MODES} != {tuple(DACS)}"
assert tuple(n for n in DACS if DACS.get_model(n).sliceable) == tuple(_CHIP_SLICEABLE), \
    f"crossbar.chip.SLICEABLE_INPUT_MODES {_CHIP_SLICEABLE} != the sliceable DACs"


def get_adc(name: str) -> ADCModel:
    return ADCS.get_model(name)


def get_dac(name: str) -> DACModel:
    return DACS.get_model(name)


__all__ = ["ADCS", "DACS", "ADCModel", "DACModel", "ConverterContext", "get_adc", "get_dac",
           "thermal_envelope_j", "thermal_floor_j", "snr_ideal", "ktc_capacitance_f"]
