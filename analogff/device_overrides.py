"""Device parameters a run may override: each a `simulate` option, a sweep axis and a store
column, for sensitivity studies (``analogff sweep --grid c2c=0,0.1,0.3 --grid drift_nu=0,0.05``).

``None`` (the default) keeps the device preset's value; a value replaces it unchanged for every
device of the run and is validated by `device_models.DeviceModel` (one line naming the field
and its range). Names are the `DeviceModel` field names; ``states`` (an older option) is a
`SimConfig` field of its own and works the same way.
"""

from __future__ import annotations

from typing import Any

# field -> (type, help for --help)
DEVICE_FIELDS: dict[str, tuple[type, str]] = {
    "c2c": (float, "cycle-to-cycle write noise: std of each pulse's step (fraction; see the "
                   "device's c2c_model)"),
    "d2d": (float, "device-to-device variation: relative std of each device's step size"),
    "nonlinearity_up": (float, "potentiation nonlinearity P_max/A of the exponential response "
                               "(0 = linear)"),
    "nonlinearity_down": (float, "depression nonlinearity P_max/A (0 = linear)"),
    "gamma_up": (float, "linear-step response: relative step decrease at the upper bound"),
    "gamma_down": (float, "linear-step response: relative step decrease at the lower bound"),
    "up_down": (float, "up/down step asymmetry a in (-1, 1): up step x (1+a), down x (1-a)"),
    "prog_noise": (float, "programming error std, fraction of g_max - g_min"),
    "drift_nu": (float, "drift exponent ν in g(t) = g(t0)(t/t0)^-ν"),
    "stuck_off": (float, "fraction of devices stuck at g_min from the start"),
    "stuck_on": (float, "fraction of devices stuck at g_max from the start"),
    "endurance": (float, "write pulses a device survives before it sticks (0 = unlimited)"),
}


def overrides(cfg: Any) -> dict[str, Any]:
    """The device fields ``cfg`` sets (not None)."""
    return {k: getattr(cfg, k) for k in DEVICE_FIELDS if getattr(cfg, k, None) is not None}


def apply(device, cfg: Any):
    """``device`` with ``cfg``'s overrides (validated by `DeviceModel`)."""
    ch = overrides(cfg)
    return device.replace(**ch) if ch else device


def check(cfg: Any, device_name: str) -> None:
    """Raise `ConfigError` (one line) if an override is outside the device model's range."""
    from device_models import DeviceParameterError, get_device

    from .errors import ConfigError

    ch = overrides(cfg)
    if not ch:
        return
    try:
        dev = get_device(device_name)
    except (KeyError, ValueError, OSError):
        return      # an unknown device is reported where the device is resolved
    try:
        # a shape parameter the device's pulse response does not read is refused there
        # (DeviceModel: it would change nothing), as is any value out of range
        dev.replace(**ch)
    except DeviceParameterError as exc:
        raise ConfigError(str(exc)) from None
