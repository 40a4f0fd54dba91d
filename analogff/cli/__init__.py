"""The `analogff` command line. Each module in this package with a ``register(app)``
function adds its command(s); modules are discovered, so adding a command touches one file.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="analogff",
    help=(
        "Can forward-only learning (PFF) train on noisy analog crossbars, and what does it cost?\n\n"
        "Simulate memristive crossbar tiles, train PFF / FF / backprop on them, price every "
        "conversion and pulse in energy and area, sweep device parameters and report.\n\n"
        "Start with:  analogff simulate --noise 0.05"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

_ORDER = ["simulate", "sweep", "results", "report", "energy", "spice", "devices"]


def _register_all() -> None:
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name != "common"]
    names.sort(key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))
    for name in names:
        mod = importlib.import_module(f"{__name__}.{name}")
        reg = getattr(mod, "register", None)
        if reg is not None:
            reg(app)


_register_all()


def main() -> None:
    from analogff import signals

    signals.install()  # SIGINT/SIGTERM: one line and exit 130/143, never a traceback
    app()
