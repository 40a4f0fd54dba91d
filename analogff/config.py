"""`SimConfig`: one experiment's configuration (what `analogff simulate` takes).

Flat on purpose: every field is a CLI option of ``simulate`` and a valid sweep key. Validation
happens here, at the boundary, with messages that name the option and the allowed range.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ALGOS = ("pff", "ff", "bp")
OPTIMIZERS = ("sgd", "adam")
UPDATES = ("deterministic", "stochastic", "mixed")
PRESETS = ("small", "paper")


@dataclass(frozen=True)
class SimConfig:
    """One run. ``None`` means "use the algorithm preset's / device's value"."""

    algo: str = "pff"
    preset: str = "small"          # hyperparameter preset: small (digits, ~1 min) | paper
    dataset: str = "digits"
    limit: int | None = None       # subsample the training set to this many examples
    device: str = "ecram"
    noise: float | None = None     # read noise σ as a fraction of g_max - g_min (None: device's)
    dac_bits: int = 8
    adc_bits: int = 8
    states: int | None = None      # override the device's number of states
    tile_size: int = 256
    out_bound: float = 0.05        # ADC range, fraction of a tile's full scale
    update: str = "deterministic"
    optimizer: str | None = None   # sgd (pulsed, crossbar-native) | adam (digital, as released)
    hidden: str | None = None      # e.g. "500,500"
    steps: int | None = None       # settling steps K (PFF)
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    seed: int = 0
    ideal: bool = False            # run the float twin (IdealMatrix everywhere)
    wire_resistance: float = 0.0   # Ω per cell pitch (IR drop)

    def __post_init__(self) -> None:
        def choice(name, allowed):
            v = getattr(self, name)
            if v not in allowed:
                raise ConfigError(f"{name} = {v!r} is not allowed; choose one of: {', '.join(allowed)}")

        choice("algo", ALGOS)
        choice("preset", PRESETS)
        choice("update", UPDATES)
        if self.optimizer is not None:
            choice("optimizer", OPTIMIZERS)

        def rng(name, lo, hi, integer=False, optional=False):
            v = getattr(self, name)
            if v is None and optional:
                return
            is_num = isinstance(v, (int, float)) and not isinstance(v, bool)
            if integer and not (isinstance(v, int) and not isinstance(v, bool)):
                raise ConfigError(f"{name} = {v!r} must be an integer in [{lo}, {hi}]")
            if not is_num or not math.isfinite(v) or v < lo or v > hi:
                raise ConfigError(f"{name} = {v!r} is out of range; allowed [{lo}, {hi}]")

        rng("noise", 0.0, 10.0, optional=True)
        rng("dac_bits", 2, 24, integer=True)
        rng("adc_bits", 2, 24, integer=True)
        rng("states", 2, 10**9, integer=True, optional=True)
        rng("tile_size", 2, 65536, integer=True)
        if not (0.0 < self.out_bound <= 1.0):
            raise ConfigError(f"out_bound = {self.out_bound!r} is out of range; allowed (0, 1]")
        rng("limit", 10, 10**9, integer=True, optional=True)
        rng("steps", 1, 1000, integer=True, optional=True)
        rng("epochs", 1, 100000, integer=True, optional=True)
        rng("batch_size", 1, 10**6, integer=True, optional=True)
        rng("lr", 1e-12, 100.0, optional=True)
        rng("seed", 0, 2**63 - 1, integer=True)
        rng("wire_resistance", 0.0, 1e9)
        if self.hidden is not None:
            self.hidden_sizes()  # validates

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
        return from_dict({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def config_hash(self) -> str:
        """SHA-256 (hex, 16 chars) of the canonical JSON of every field, seed included."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


FIELD_TYPES: dict[str, type] = {}
for _f in fields(SimConfig):
    _t = typing.get_type_hints(SimConfig)[_f.name]
    _args = [a for a in typing.get_args(_t) if a is not type(None)]
    FIELD_TYPES[_f.name] = _args[0] if _args else _t


def coerce(key: str, value: Any) -> Any:
    """Convert a string (from a grid or CLI) or TOML value to the field's type.

    Raises `ConfigError` naming the key for unknown keys and untypeable values.
    """
    key = key.replace("-", "_")
    if key not in FIELD_TYPES:
        raise ConfigError(f"unknown option {key!r}; known: {', '.join(FIELD_TYPES)}")
    t = FIELD_TYPES[key]
    if value is None:
        return None
    if isinstance(value, str):
        s = value.strip()
        if s.lower() in ("none", "null", "default") and key in _OPTIONAL:
            return None
        try:
            if t is bool:
                if s.lower() in ("1", "true", "yes", "on"):
                    return True
                if s.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            if t is int:
                return int(s)
            if t is float:
                return float(s)
            return s
        except ValueError:
            raise ConfigError(f"{key} = {value!r} is not a valid {t.__name__}") from None
    if t is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if t is str and isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if t is str and isinstance(value, int) and key == "hidden":
        return str(value)
    return value


_OPTIONAL = {f.name for f in fields(SimConfig) if f.default is None}


def from_dict(d: dict[str, Any]) -> SimConfig:
    """A validated `SimConfig` from a (possibly partial, possibly string-valued) dict."""
    return SimConfig(**{k.replace("-", "_"): coerce(k, v) for k, v in d.items()})


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a run config TOML (top-level keys or a ``[simulate]`` table) as a dict."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    data = data.get("simulate", data)
    return {k.replace("-", "_"): coerce(k, v) for k, v in data.items()}
