"""Shared CLI helpers: one-line errors, the console, SI formatting."""

from __future__ import annotations

import functools
import math

import typer
from rich.console import Console

from analogff.errors import USER_ERRORS

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> "typer.Exit":
    """Print ``Error: message`` on one line to stderr and return the Exit to raise."""
    err_console.print(f"[bold red]Error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def cli_errors(fn):
    """Turn user errors raised inside a command into one line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            raise fail(str(exc)) from None
        except FileNotFoundError as exc:
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper


_SI = ((1e-18, "a"), (1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"),
       (1.0, ""), (1e3, "k"), (1e6, "M"), (1e9, "G"))


def fmt_si(v: float | None, unit: str = "") -> str:
    """Three significant digits with an SI prefix: ``fmt_si(1.234e-6, "J")`` -> ``1.23 µJ``;
    counts without a unit: ``fmt_si(25e6)`` -> ``25 M``. None or non-finite -> ``n/a``."""
    if v is None or not math.isfinite(v):
        return "n/a"
    if v == 0:
        return f"0 {unit}".rstrip()
    for f, p in _SI:
        if abs(v) < f * 1000:
            return f"{v / f:.3g} {p}{unit}".rstrip()
    return f"{v / 1e9:.3g} G{unit}"
