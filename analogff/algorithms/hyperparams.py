"""Hyperparameter helpers of every algorithm: the hidden sizes parsed, an algorithm's
defaults resolved against what a run gives, unknown keys and non-integer counts refused in one
line (`ConfigError`)."""

from __future__ import annotations

from typing import Any

from device_models.checks import check_number, plain

from ..errors import ConfigError


def parse_hidden(value: Any) -> tuple[int, ...]:
    """``(500, 500)``, ``[500, 500]``, ``"500,500"`` or ``500`` -> ``(500, 500)``/``(500,)``.
    Every size a whole number >= 1, else one ConfigError (500.7 is refused, not run as 500)."""
    if isinstance(value, str):
        items: list = [p for p in value.replace(" ", "").split(",") if p]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    sizes = []
    for p in items:
        v = plain(p)
        if isinstance(v, str) and v.lstrip("-").isdigit():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            sizes = []
            break
        sizes.append(v)
    if not sizes:
        raise ConfigError(f"hidden = {value!r} must be one or more positive layer sizes, "
                          f"e.g. 500,500")
    return tuple(sizes)


def refuse_unknown(defaults: dict, hp: dict | None) -> None:
    """ConfigError naming the first key of ``hp`` that ``defaults`` (an algorithm's
    hyperparameters) do not have: a misspelt or foreign key would otherwise do nothing."""
    unknown = sorted(set(hp or {}) - set(defaults))
    if unknown:
        raise ConfigError(f"unknown hyperparameter {unknown[0]!r}; known: {', '.join(defaults)}")


def hp_int(hp: dict, name: str, lo: int = 1) -> int:
    """``hp[name]``, an integer >= ``lo`` (a numpy integer is the int it holds), else a one-line
    ConfigError: 2.5 settling steps are refused, not run as 2."""
    v = plain(hp[name])
    check_number(name, v, lo, None, integer=True, error=ConfigError)
    return v


def resolve_hp(defaults: dict, hp: dict | None) -> dict:
    """Defaults overridden by every key of ``hp`` whose value is not None; a key the defaults
    do not have is refused (`refuse_unknown`), not dropped."""
    refuse_unknown(defaults, hp)
    out = dict(defaults)
    for k, v in (hp or {}).items():
        if v is not None:
            out[k] = v
    out["hidden"] = parse_hidden(out["hidden"])
    return out
