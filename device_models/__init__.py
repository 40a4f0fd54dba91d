"""What one memristive device does: the `DeviceModel` and its presets. Imports none of our packages."""

from .model import DeviceModel, DeviceParameterError, FIELD_INFO, RESPONSES, POLICIES
from .presets import UnknownPresetError, get_device, list_presets, load_preset, parse_device_toml

__all__ = ["DeviceModel", "DeviceParameterError", "FIELD_INFO", "RESPONSES", "POLICIES",
           "UnknownPresetError", "get_device", "list_presets", "load_preset", "parse_device_toml"]
from .response import nominal_step, pulse_step, pulse_train  # noqa: E402

__all__ += ["nominal_step", "pulse_step", "pulse_train"]
