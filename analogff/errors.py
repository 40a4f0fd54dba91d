"""User-facing errors: anything in `USER_ERRORS` is bad input, shown as one line by the CLI."""

from __future__ import annotations

from crossbar import NonFiniteInputError, PeripheryParameterError, ShapeError
from device_models import DeviceParameterError, UnknownPresetError


class AnalogffError(Exception):
    """Bad input or a missing resource; the message says what and how to fix it."""


class ConfigError(AnalogffError, ValueError):
    """A configuration value is invalid (names the option, value and allowed range)."""


class UnusedOption(ConfigError):
    """An option the rest of the run gives nothing to do: ``option`` names it, ``axis`` the
    run field that makes it moot (``algo``: an algorithm without it; ``ideal``: the float
    twin, which simulates no device). A sweep names the way out: zip the two."""

    def __init__(self, message: str, option: str, axis: str) -> None:
        super().__init__(message)
        self.option, self.axis = option, axis


class DatasetNotFoundError(AnalogffError, FileNotFoundError):
    """A dataset could not be found (names where we looked and how to get it)."""


class DivergedError(AnalogffError, ArithmeticError):
    """Training produced NaN or infinity."""


USER_ERRORS = (AnalogffError, DeviceParameterError, PeripheryParameterError, UnknownPresetError,
               ShapeError, NonFiniteInputError)
