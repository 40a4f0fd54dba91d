"""`analogff devices`: list, show and plot device presets."""

from __future__ import annotations

import typer

from .common import cli_errors, console


def register(app: typer.Typer) -> None:
    devices_app = typer.Typer(help="The device presets: list them, show one, plot its pulse response.",
                              invoke_without_command=True, no_args_is_help=False)

    @devices_app.callback()
    @cli_errors
    def _list(ctx: typer.Context) -> None:
        """List the device presets as a table."""
        if ctx.invoked_subcommand is not None:
            return
        from rich.table import Table

        from device_models import list_presets, load_preset
        t = Table(title="Device presets (analogff devices show NAME for every parameter)")
        for col in ("name", "G range (µS)", "states", "response", "c2c", "read σ", "source"):
            t.add_column(col)
        for n in list_presets():
            d = load_preset(n)
            t.add_row(n, f"{d.g_min*1e6:.3g}–{d.g_max*1e6:.3g}", str(d.states), d.response,
                      f"{d.c2c:g}", f"{d.read_noise:g}", d.source.split(";")[0][:60])
        console.print(t)

    app.add_typer(devices_app, name="devices")
