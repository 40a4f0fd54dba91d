"""`SimConfig`: one experiment's configuration (what `analogff simulate` takes).

Two parts: the training and algorithm fields (algorithm, preset, data, optimiser, ...) and the
chip, ``hardware``: one `crossbar.chip.Hardware` value (device, tiles, converters, ADC range,
wires, node, clock, buffers, ...) that the simulator and the pricer both take unchanged.

Flat at the edges: `to_dict` / `from_dict` see one flat dict whose keys are the training fields
and every hardware field, so that every field is a CLI option of ``simulate``, a sweep key, a
results-store column and a key of the run record's ``config``. Validation happens here, at the
boundary, with messages that name the option and the allowed range.
"""

from __future__ import annotations

import hashlib
import json
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from crossbar.chip import (Hardware, HardwareError, check_simulable_field, field_names,
                           field_optional, field_type, parse_field, parse_scalar)
from crossbar.periphery import UPDATE_SCHEMES
from device_models.checks import check_choice, check_number, plain

from .algorithms.updates import RULES as OPTIMIZERS  # the update rules' one list
from .errors import ConfigError

UPDATES = UPDATE_SCHEMES                # the pulse schemes' one list (crossbar.periphery)
PRESETS = ("small", "paper")
# the numeric run fields' ranges (field: lo, hi, integer), checked by `SimConfig` through
# `device_models.checks` and named by the options' help
RANGES: dict[str, tuple[float, float, bool]] = {
    "noise": (0.0, 10.0, False),
    "states": (2, 10**9, True),
    "limit": (10, 10**9, True),
    "steps": (1, 1000, True),
    "epochs": (1, 100000, True),
    "batch_size": (1, 10**6, True),
    "lr": (1e-12, 100.0, False),
    "seed": (0, 2**63 - 1, True),
    "dev_fraction": (0.0, 0.5, False),
}
HARDWARE_FIELDS: tuple[str, ...] = field_names()

# a former option that is now two hardware fields: refused with a pointer, never mapped
_REPLACED = {"tile_size": "tile_size is now two hardware fields: give tile_rows and tile_cols "
                          "(the simulate command's --tile-size N sets both)"}


def algorithm_names() -> tuple[str, ...]:
    """Registered algorithm names (`analogff.algorithms`)."""
    from .algorithms import names
    return names()


def _hardware_error(exc: HardwareError) -> ConfigError:
    return ConfigError(str(exc))


@dataclass(frozen=True)
class SimConfig:
    """One run. ``None`` means "use the algorithm preset's / device's value".

    Hardware fields read through: ``cfg.adc_bits`` is ``cfg.hardware.adc_bits``.
    """

    algo: str = "pff"
    preset: str = "small"          # hyperparameter preset: small (digits, ~1 min) | paper
    dataset: str = "digits"
    limit: int | None = None       # subsample the training set to this many examples
    noise: float | None = None     # read noise σ: std σ·(g_max - g_min), or σ·G on proportional
    #                                devices (None: the device's)
    states: int | None = None      # override the device's number of states
    # device overrides for sensitivity studies (analogff/device_overrides.py; None: device's)
    c2c: float | None = None
    d2d: float | None = None
    nonlinearity_up: float | None = None
    nonlinearity_down: float | None = None
    gamma_up: float | None = None
    gamma_down: float | None = None
    up_down: float | None = None
    prog_noise: float | None = None
    drift_nu: float | None = None
    stuck_off: float | None = None
    stuck_on: float | None = None
    endurance: float | None = None
    # after training: test accuracy at these seconds after programming while the devices
    # drift, e.g. "1,3600,86400" (analogff/deploy.py; stored as metrics.accuracy_vs_time)
    eval_times: str | None = None
    update: str = "deterministic"
    optimizer: str | None = None   # sgd | scaled | factored (pulsed, crossbar-native) | adam
                                   # (digital, as released for PFF); None: the preset's
    hidden: str | None = None      # e.g. "500,500"
    steps: int | None = None       # settling steps K (PFF)
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    seed: int = 0
    ideal: bool = False            # run the float twin (IdealMatrix everywhere)
    matched: str | None = None     # pulsed | mixed | adam: PFF/FF/BP with the same sizes, budget
                                   # and update family (analogff/algorithms/matched.py)
    dev_fraction: float = 0.0      # hold out this share of the training set as a dev set and
                                   # keep the best-dev weights (0: no dev split)
    curve: bool = False            # after every epoch: test accuracy and cumulative training
                                   # energy (energy to accuracy targets)
    hardware: Hardware = field(default_factory=Hardware)   # the chip (simulated and priced)

    def __post_init__(self) -> None:
        for f in fields(self):  # numpy scalars are numbers: stored as Python's (plain JSON)
            object.__setattr__(self, f.name, plain(getattr(self, f.name)))

        for name, allowed in (("algo", algorithm_names()), ("preset", PRESETS),
                              ("update", UPDATES), ("optimizer", OPTIMIZERS)):
            v = getattr(self, name)
            if v is not None or name not in _OPTIONAL:
                check_choice(name, v, allowed, error=ConfigError)
        for name, (lo, hi, integer) in RANGES.items():
            v = getattr(self, name)
            if v is not None or name not in _OPTIONAL:
                check_number(name, v, lo, hi, integer=integer, error=ConfigError)
        from .algorithms.matched import check as check_matched
        check_matched(self.matched, self.update, self.optimizer)
        if self.hidden is not None:
            self.hidden_sizes()  # validates
        from .device_overrides import check as check_device_overrides
        check_device_overrides(self, self.hardware.device)
        if self.eval_times is not None:
            from .deploy import parse_times
            parse_times(self.eval_times)     # one line naming eval_times
        if not isinstance(self.hardware, Hardware):
            raise ConfigError(f"hardware = {self.hardware!r} must be a Hardware description")
        try:
            self.hardware.check_simulable()
        except HardwareError as exc:
            raise _hardware_error(exc) from None

    def __getattr__(self, name: str) -> Any:
        # only reached for names that are not SimConfig fields: the chip's fields read through
        if name in HARDWARE_FIELDS:
            return getattr(object.__getattribute__(self, "hardware"), name)
        raise AttributeError(name)

    # ---- helpers ------------------------------------------------------------------------
    def hidden_sizes(self) -> tuple[int, ...] | None:
        if self.hidden is None:
            return None
        try:
            sizes = tuple(int(s) for s in str(self.hidden).split(",") if s.strip())
        except ValueError:
            sizes = ()
        if not sizes or any(s < 1 or s > 100000 for s in sizes):
            raise ConfigError(
                f"hidden = {self.hidden!r} must be comma-separated positive layer sizes, e.g. 500,500")
        return sizes

    def replace(self, **changes: Any) -> "SimConfig":
        """A copy with flat changes (training or hardware fields)."""
        return from_dict({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        """Flat: the training fields and every hardware field (no ``hardware`` key)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "hardware"}
        d.update(self.hardware.to_dict())
        return d

    def config_hash(self) -> str:
        """SHA-256 (hex, 16 chars) of the canonical JSON of every field, seed included, except
        fields added later while they are unset (device overrides and ``eval_times`` at None,
        ``sar_clocking`` at "synchronous"), so that earlier hashes stay valid."""
        from .device_overrides import DEVICE_FIELDS
        # unset device overrides are left out, so adding one kept every earlier hash
        d = {k: v for k, v in self.to_dict().items()
             if not ((k in DEVICE_FIELDS or k == "eval_times") and v is None)
             and not (k == "sar_clocking" and v == "synchronous")}   # added later: same
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


FIELD_TYPES: dict[str, type] = {}
for _f in fields(SimConfig):
    if _f.name == "hardware":
        continue
    _t = typing.get_type_hints(SimConfig)[_f.name]
    _args = [a for a in typing.get_args(_t) if a is not type(None)]
    FIELD_TYPES[_f.name] = _args[0] if _args else _t
TRAINING_FIELDS: tuple[str, ...] = tuple(FIELD_TYPES)
for _n in HARDWARE_FIELDS:
    FIELD_TYPES[_n] = field_type(_n)

_OPTIONAL = {f.name for f in fields(SimConfig) if f.default is None} | \
    {n for n in HARDWARE_FIELDS if field_optional(n)}


def _unknown(key: str) -> ConfigError:
    if key in _REPLACED:
        return ConfigError(_REPLACED[key])
    return ConfigError(f"unknown option {key!r}; known: {', '.join(FIELD_TYPES)}")


def coerce(key: str, value: Any) -> Any:
    """Convert a string (from a grid or CLI) or TOML value to the field's type.

    Raises `ConfigError` naming the key for unknown keys and untypeable values.
    """
    key = key.replace("-", "_")
    if key not in FIELD_TYPES:
        raise _unknown(key)
    from .boundary import check_type
    value = plain(value)  # numpy scalars are numbers
    if value is not None and not isinstance(value, str) and not (
            key == "hidden" and isinstance(value, (int, list))):
        value = check_type(key, value, FIELD_TYPES[key])  # strict: bool is not a number
    if key in HARDWARE_FIELDS:
        try:
            return parse_field(key, value)
        except HardwareError as exc:
            raise _hardware_error(exc) from None
    t = FIELD_TYPES[key]
    try:
        value = parse_scalar(value, t, key in _OPTIONAL)
    except ValueError:
        raise ConfigError(f"{key} = {value!r} is not a valid {t.__name__}") from None
    if t is str and isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if t is str and isinstance(value, int) and key == "hidden":
        return str(value)
    return value


def from_dict(d: dict[str, Any], hardware: Hardware | None = None) -> SimConfig:
    """A validated `SimConfig` from a flat (possibly partial, possibly string-valued) dict of
    training and hardware fields; hardware fields not in ``d`` come from ``hardware`` (default:
    `Hardware()`)."""
    train: dict[str, Any] = {}
    chip: dict[str, Any] = {}
    for k, v in d.items():
        key = k.replace("-", "_")
        val = coerce(key, v)
        (chip if key in HARDWARE_FIELDS else train)[key] = val
    base = hardware if hardware is not None else Hardware()
    try:
        for k, v in chip.items():   # a run is simulated and priced: both ranges apply
            check_simulable_field(k, v)
        hw = base.replace(**chip) if chip else base
    except HardwareError as exc:
        raise _hardware_error(exc) from None
    return SimConfig(**train, hardware=hw)


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a run config TOML as a flat dict: top-level keys, or a ``[simulate]`` table of
    training fields with an optional ``[hardware]`` table beside it (hardware fields may also
    be written at the top level or in ``[simulate]``)."""
    from .boundary import load_toml as read_toml, run_config_table

    p = Path(path)
    # one line for a missing/unreadable/non-UTF-8/invalid file, a non-table [simulate] or
    # [hardware], and top-level keys beside [simulate] (analogff/boundary.py)
    data = run_config_table(read_toml(p, "config file"), p)
    flat: dict[str, Any] = {}
    for table in ("simulate", "hardware"):
        sub = data.pop(table, None)
        if sub is None:
            continue
        if not isinstance(sub, dict):
            raise ConfigError(f"{p}: {table} must be a table ([{table}])")
        if table == "hardware":
            bad = [k for k in sub if k.replace("-", "_") not in HARDWARE_FIELDS]
            if bad:
                raise ConfigError(f"{p} [hardware]: unknown hardware field {bad[0]!r}; known "
                                  f"fields: {', '.join(HARDWARE_FIELDS)}")
        flat.update(sub)
    flat.update(data)
    try:
        return {k.replace("-", "_"): coerce(k, v) for k, v in flat.items()}
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from None
