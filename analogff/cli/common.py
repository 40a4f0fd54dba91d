"""Shared CLI helpers: one-line errors, the console."""

from __future__ import annotations

import functools

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
