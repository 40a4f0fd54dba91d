"""`analogff report STORE --out DIR`: the study report (HTML; figures as SVG, PDF and 300-dpi
PNG; tables as CSV and LaTeX)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import cli_errors, console, fail, hardware_options


def register(app: typer.Typer) -> None:
    @app.command("report")
    @cli_errors
    @hardware_options
    def report(
        store: Path = typer.Argument(..., help="Results store (SQLite file written by "
                                     "`analogff simulate` / `analogff sweep`)."),
        out: Path = typer.Option(Path("report"), "--out", "-o",
                                 help="Output directory (replaced atomically)."),
        hardware: Optional[Path] = None,
        hardware_overrides: Optional[dict] = None,
    ) -> None:
        """Write index.html, figures (SVG, PDF, 300-dpi PNG) and tables (CSV,
        LaTeX) for the finished runs in STORE.

        Runs that differ only in the seed are one configuration: every point
        is a mean over seeds with a 95 % t-interval; n < 3 is flagged.
        Figures: energy per training sample and per inference vs accuracy (a
        Pareto front per algorithm, swept knobs as marker and shade), one
        figure per swept knob, a sensitivity tornado around the base point
        (the middle value of each knob), energy, area and per-matrix
        breakdowns and analog vs digital at the base point, accuracy vs time
        after programming (simulate --eval-times, analogff deploy). Captions
        say what was held constant.

        Runs made with --curve add test accuracy vs cumulative training
        energy (one line per algorithm, a panel per dataset × matched family)
        and a table of the energy to reach 50/80/90/95 % (reached/n seeds);
        runs made with --matched add a table of what the matched comparison
        cannot match (PFF's extra arrays, negative passes, ...).

        Every run is priced on the chip it stored. --hardware FILE (the fields it writes) and
        the single-field options re-price every run on its own chip with those fields changed:
        only fields the simulator did not use (node, ADC type, supplies, clock, buffers, ...);
        a simulated one (device, tiles, converter bits, ...) is refused (sweep it instead).
        """
        from crossbar.chip import HardwareError, read_fields
        from reports.report import ReportError, build_report

        changes = {}
        try:
            if hardware is not None:
                changes.update(read_fields(hardware))
        except HardwareError as exc:
            raise fail(str(exc)) from None
        changes.update(hardware_overrides or {})
        from analogff.boundary import check_output_dir
        from analogff.store import ResultsStore
        # the store checks results/sweep/simulate make (a newer schema, not a store, corrupt)
        ResultsStore(store, create=False).close()
        check_output_dir(out, "--out")  # a file there, or nowhere to write: before any work
        try:
            index = build_report(store, out, hardware_changes=changes or None)
        except ReportError as exc:
            raise fail(str(exc)) from None
        console.print(f"Report written: {index}  (open it in a browser)")
