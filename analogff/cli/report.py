"""`analogff report STORE --out DIR`: the energy-vs-accuracy report (HTML + PNG + CSV)."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import cli_errors, console, fail


def register(app: typer.Typer) -> None:
    @app.command("report")
    @cli_errors
    def report(
        store: Path = typer.Argument(..., help="Results store (SQLite file written by "
                                     "`analogff simulate` / `analogff sweep`)."),
        out: Path = typer.Option(Path("report"), "--out", "-o",
                                 help="Output directory (replaced atomically)."),
    ) -> None:
        """Write index.html, PNG figures and CSV tables for every finished run in STORE."""
        from reports.report import ReportError, build_report

        try:
            index = build_report(store, out)
        except ReportError as exc:
            raise fail(str(exc)) from None
        console.print(f"Report written: {index}  (open it in a browser)")
