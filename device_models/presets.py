"""Device presets: TOML data files in ``device_models/presets/``, one per device.

Each file holds a ``[device]`` table with `DeviceModel` fields (SI units) and a ``source``
string citing the measurement the numbers were taken from.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from importlib import resources

from .model import DeviceModel, DeviceParameterError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class UnknownPresetError(KeyError):
    """No preset of that name. The message lists the known ones."""

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


def _preset_dir():
    return resources.files("device_models") / "presets"


@lru_cache(maxsize=None)
def list_presets() -> tuple[str, ...]:
    """Names of the bundled presets, sorted."""
    return tuple(sorted(p.name[:-5] for p in _preset_dir().iterdir() if p.name.endswith(".toml")))


# what a user's device file must set: without them an empty (or truncated) file ran as a
# default noise-free device in silence; every other field has a documented default
REQUIRED_IN_FILE = ("name", "g_min", "g_max", "states")


def parse_device_toml(text: str, origin: str = "<string>",
                      required: tuple[str, ...] = ()) -> DeviceModel:
    """Build a `DeviceModel` from TOML text with a ``[device]`` table (or top-level keys);
    ``required``: fields the text must set."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeviceParameterError(f"{origin}: not valid TOML ({exc})") from None
    table = data.get("device", data)
    if not isinstance(table, dict):
        raise DeviceParameterError(f"{origin}: device = {table!r} must be a table ([device])")
    try:
        model = DeviceModel(**table)  # the values given are checked first, then what is missing
    except TypeError as exc:  # unknown field
        raise DeviceParameterError(f"{origin}: {exc}") from None
    except DeviceParameterError as exc:
        raise DeviceParameterError(f"{origin}: {exc}") from None
    missing = [k for k in required if k not in table]
    if missing:
        raise DeviceParameterError(
            f"{origin}: does not set {', '.join(missing)}; a device file must set "
            f"{', '.join(required)} (other fields default: see `analogff devices show ecram`)")
    return model


@lru_cache(maxsize=None)
def load_preset(name: str) -> DeviceModel:
    """The bundled preset ``name`` (e.g. ``"rram-taox"``)."""
    if name not in list_presets():
        raise UnknownPresetError(
            f"unknown device preset {name!r}; known presets: {', '.join(list_presets())}")
    text = (_preset_dir() / f"{name}.toml").read_text(encoding="utf-8")
    return parse_device_toml(text, origin=f"preset {name}")


def get_device(name_or_path: str) -> DeviceModel:
    """A preset by name, or a device TOML file by path (anything ending in ``.toml``)."""
    if name_or_path.endswith(".toml"):
        from pathlib import Path

        from .textfile import read_utf8
        p = Path(name_or_path)
        text = read_utf8(p, "device file", DeviceParameterError, missing=UnknownPresetError)
        return parse_device_toml(text, origin=str(p), required=REQUIRED_IN_FILE)
    return load_preset(name_or_path)
