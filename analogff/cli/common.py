"""Shared CLI helpers: one-line errors, the console, SI formatting."""

from __future__ import annotations

import functools

import typer
from rich.console import Console

from analogff.errors import USER_ERRORS
from analogff import signals
from analogff.signals import Interrupted

console = Console()
err_console = Console(stderr=True)


def algorithm_names() -> tuple[str, ...]:
    """The registered algorithm names (`analogff.algorithms.names`), for --algo help."""
    from analogff.algorithms import names
    return names()


def field_help_cli(name: str) -> str:
    """`field_help.field_help` for a typer option (rich markup's brackets escaped)."""
    from .field_help import field_help
    return field_help(name).replace("[", "\\[")


def device_field_help(name: str) -> str:
    """A device override's help (`analogff.device_overrides.DEVICE_FIELDS`), for typer."""
    from analogff.device_overrides import DEVICE_FIELDS
    text = DEVICE_FIELDS[name][1]
    return f"{text[0].upper()}{text[1:]}. \\[default: the device's]"


def fail(message: str, code: int = 2) -> "typer.Exit":
    """Print ``Error: message`` on one line to stderr and return the Exit to raise."""
    from rich.markup import escape  # messages name TOML tables: [simulate] is not markup
    err_console.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def cli_errors(fn):
    """Turn user errors raised inside a command into one line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            result = fn(*args, **kwargs)
            signals.check()  # a signal that came where nothing checked: still exit 130/143
            return result
        except USER_ERRORS as exc:
            raise fail(str(exc)) from None
        except FileNotFoundError as exc:
            raise fail(str(exc)) from None
        except Interrupted as exc:  # SIGINT / SIGTERM (analogff/signals.py)
            err_console.print(str(exc), highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("interrupted by SIGINT: stopped (exit 130)")
            raise typer.Exit(130) from None

    return wrapper


# items listed under a warning or note of `print_flagged`; the rest are counted
_FLAGGED_LISTED = 5


def print_flagged(head: str, items: list) -> None:
    """``head`` on stderr, then one line per ``(what it is, what happened)`` item (a sweep
    point, a stored run), at most `_FLAGGED_LISTED` of them and a count of the rest."""
    err_console.print(head, highlight=False, soft_wrap=True)
    for label, what in items[:_FLAGGED_LISTED]:
        err_console.print(f"  {label}: {what}", highlight=False)
    if len(items) > _FLAGGED_LISTED:
        err_console.print(f"  ... and {len(items) - _FLAGGED_LISTED} more", highlight=False)


def fmt_si(v: float | None, unit: str = "") -> str:
    """Three significant digits with an SI prefix: ``fmt_si(1.234e-6, "J")`` -> ``1.23 µJ``;
    counts without a unit: ``fmt_si(25e6)`` -> ``25 M``. None or non-finite -> ``n/a``
    (`reports.stats.si`, with the command line's word for a missing value)."""
    from reports.stats import si
    return si(v, unit, missing="n/a")


# ---- the chip: --hardware FILE plus one option per hardware field --------------------------
HARDWARE_FILE_HELP = ("Hardware TOML file (top-level keys or a \\[hardware] table; every field "
                      "listed by `analogff energy --fields`; example: "
                      "reports/hardware_example.toml). Single-field options override it.")


@functools.lru_cache(maxsize=1)
def _field_help() -> dict:
    from crossbar.chip import field_specs

    return {n: (d, a, m) for n, d, a, m in field_specs()}


def _hw_param(name: str):
    import inspect
    from typing import Optional

    from crossbar.chip import field_type

    default, allowed, meaning = _field_help()[name]
    dash = name.replace("_", "-")
    t = field_type(name)
    decls = (f"--{dash}/--no-{dash}",) if t is bool else (f"--{dash}",)
    opt = typer.Option(None, *decls, rich_help_panel="Hardware (the chip; see energy --fields)",
                       help=f"{meaning}; allowed {allowed}. \\[default: {default}]")
    return inspect.Parameter(f"hw__{name}", inspect.Parameter.KEYWORD_ONLY, default=opt,
                             annotation=Optional[t])


def hardware_options(fn):
    """Add ``--hardware FILE`` and one option per `crossbar.chip.Hardware` field to a command.

    The command receives ``hardware`` (the file path or None) and ``hardware_overrides`` (a
    dict of the fields given on the command line); `resolve_hardware` combines them."""
    import inspect
    from pathlib import Path
    from typing import Optional

    from crossbar.chip import field_names

    file_param = inspect.Parameter(
        "hardware", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path],
        default=typer.Option(None, "--hardware", help=HARDWARE_FILE_HELP,
                             rich_help_panel="Hardware (the chip; see energy --fields)"))
    names = field_names()
    return with_field_options(fn, drop=("hardware", "hardware_overrides"),
                              extra=[file_param] + [_hw_param(n) for n in names],
                              prefix="hw__", names=names, into="hardware_overrides")


def with_field_options(fn, *, drop, extra, prefix: str, names, into: str, first: bool = False):
    """``fn`` with its parameters ``drop`` replaced by the ``extra`` ones (one typer option
    per field, each named ``prefix + field``; after ``fn``'s own, or before them if
    ``first``); the wrapper gathers the fields of ``names`` given on the command line (not
    None) into one dict and passes it to ``fn`` as ``into``. The one body behind
    `hardware_options` and `run_options.run_options`."""
    import inspect

    sig = inspect.signature(fn, eval_str=True)
    params = [p for p in sig.parameters.values() if p.name not in drop]
    names = list(names)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        over = {}
        for n in names:
            v = kwargs.pop(f"{prefix}{n}", None)
            if v is not None:
                over[n] = v
        return fn(*args, **{into: over}, **kwargs)

    if first:   # typer passes every option by keyword: fn's own may follow keyword-only ones
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params]
    ordered = list(extra) + params if first else params + list(extra)
    wrapper.__signature__ = sig.replace(parameters=ordered)
    wrapper.__annotations__ = {p.name: p.annotation for p in ordered}
    return wrapper


def resolve_hardware(path, overrides: dict, base=None):
    """The chip: the file at ``path`` (``Hardware.from_toml``; ``base`` is then ignored), else
    ``base`` (default `Hardware()`); then the single-field ``overrides``. Raises
    `ConfigError` (one line) on any bad field."""
    from crossbar.chip import Hardware, HardwareError

    from analogff.errors import ConfigError

    try:
        hw = Hardware.from_toml(path) if path is not None else (base or Hardware())
        return hw.replace(**overrides) if overrides else hw
    except HardwareError as exc:
        raise ConfigError(str(exc)) from None


def options_given(ctx: typer.Context, names: tuple[str, ...]) -> list[str]:
    """The options among ``names`` (a command's parameter names) given on the command line,
    as their flags (``pulse_density`` -> ``--pulse-density``): for refusing an option that
    another one makes moot, where its default cannot tell whether the user set it."""
    return [f"--{n.replace('_', '-')}" for n in names
            if ctx.get_parameter_source(n).name == "COMMANDLINE"]
