"""The one range and choice check behind every validated value: device models
(`device_models.model`), the periphery and the chip (`crossbar.periphery`, `crossbar.chip`),
run configs (`analogff.config`) and the few checked arguments of the crossbar's other parts.

One rule and one wording everywhere: a value is used exactly as given, or refused in one line
that names the field, the value and what is allowed (``adc_bits = 40 is out of range; allowed
integers 2..24``). Nothing is clamped, rounded or replaced. Each caller passes its own error
class (``error=``), so a device file's bad value is a `DeviceParameterError`, a run option's a
`ConfigError`, and so on.

Types are strict: a bool is neither a number nor an integer, a float is not an integer (10.5
would be truncated), a string is not a number; NaN and infinity are outside every range.
The module sits in `device_models` because that is the package every other one imports and
which imports none of them.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np


def plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds (np.bool_ -> bool, np.int64 -> int, ...);
    anything else unchanged. For callers that take numpy scalars as the numbers they hold
    (the checks themselves do not: np.int64 is not a Python int)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def allowed_range(lo: float | None, hi: float | None, *, integer: bool = False,
                  lo_open: bool = False, hi_open: bool = False, unit: str = "") -> str:
    """How a range reads in a message: ``integers 2..24``, ``integers 0 or more``,
    ``integers up to 5``, ``any integer``, ``[0, 10]``, ``(0, inf) S`` (open ends in round
    brackets; None is unbounded)."""
    u = f" {unit}" if unit else ""
    if integer:
        if lo is None and hi is None:
            return f"any integer{u}"
        if hi is None:
            return f"integers {lo} or more{u}"
        if lo is None:
            return f"integers up to {hi}{u}"
        return f"integers {lo}..{hi}{u}"
    lo_s = "-inf" if lo is None else f"{lo:g}"
    hi_s = "inf" if hi is None else f"{hi:g}"
    return f"{'(' if lo_open or lo is None else '['}{lo_s}, {hi_s}" \
           f"{')' if hi_open or hi is None else ']'}{u}"


def check_number(name: str, value: Any, lo: float | None = None, hi: float | None = None, *,
                 integer: bool = False, lo_open: bool = False, hi_open: bool = False,
                 unit: str = "", error: type[Exception] = ValueError) -> None:
    """Refuse ``value`` with ``error`` unless it is a number (a Python int if ``integer``)
    inside the range: ``lo`` / ``hi`` inclusive unless ``lo_open`` / ``hi_open``, None for
    no bound, finite in any case. ``unit`` is named after the range."""
    shown = repr(value)
    rng = allowed_range(lo, hi, integer=integer, lo_open=lo_open, hi_open=hi_open, unit=unit)
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        kind = "an integer" if integer else "a number"
        raise error(f"{name} = {shown} must be {kind}; allowed {rng}")
    # an int is always finite (and may be too large for a float: math.isfinite would raise)
    ok = (isinstance(value, int) or math.isfinite(value)) and \
        (lo is None or (value > lo if lo_open else value >= lo)) and \
        (hi is None or (value < hi if hi_open else value <= hi))
    if not ok:
        raise error(f"{name} = {shown} is out of range; allowed {rng}")


def check_choice(name: str, value: Any, allowed: Sequence, *,
                 error: type[Exception] = ValueError) -> None:
    """Refuse ``value`` with ``error`` unless it is one of ``allowed``, of the same type (22.0
    is not the node 22, True is not 1)."""
    if not any(type(value) is type(a) and value == a for a in allowed):
        raise error(f"{name} = {value!r} is not allowed; choose one of: "
                    f"{', '.join(str(a) for a in allowed)}")


def check_flag(name: str, value: Any, *, error: type[Exception] = ValueError) -> None:
    """Refuse ``value`` with ``error`` unless it is a bool (1 and "yes" are not)."""
    if not isinstance(value, bool):
        raise error(f"{name} = {value!r} must be true or false")


def check_text(name: str, value: Any, *, error: type[Exception] = ValueError) -> None:
    """Refuse ``value`` with ``error`` unless it is a non-empty string."""
    if not isinstance(value, str) or not value:
        raise error(f"{name} = {value!r} must be a non-empty string")
