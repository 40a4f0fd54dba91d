"""`analogff energy`: energy, latency and area of a network on described hardware (no training)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .common import cli_errors, console, fail, fmt_si


def register(app: typer.Typer) -> None:
    @app.command("energy")
    @cli_errors
    def energy(
        hardware: Optional[Path] = typer.Option(
            None, "--hardware", help="Hardware TOML file (fields of reports.Hardware: list them "
            "with --fields; example: reports/hardware_example.toml); default: 22 nm, 256x256 "
            "tiles, 8-bit DAC/ADC."),
        network: str = typer.Option("784,500,500,10", "--network",
                                    help="Layer sizes: input, hidden..., classes."),
        algo: str = typer.Option("pff", "--algo", help="pff | ff | bp"),
        batch: int = typer.Option(100, "--batch", help="Images per mini-batch (updates are "
                                  "batch-summed)."),
        steps: Optional[int] = typer.Option(None, "--steps", help="PFF settling steps K "
                                            "(default 12)."),
        pulse_density: float = typer.Option(0.1, "--pulse-density", help="Mean write pulses "
                                            "per device per update call."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
        list_fields: bool = typer.Option(False, "--fields", help="List every hardware field "
                                         "(default, allowed values, meaning) and exit."),
    ) -> None:
        """Energy, latency, area and TOPS/W of a network on described hardware, vs digital.

        Counts the events of one training sample and one inference of --network trained with
        --algo (no training), prices them with the hardware model of reports/ and prints them
        per phase and per component, next to an int8 and an fp16 digital accelerator.
        """
        from reports import Hardware, HardwareError, estimate

        if list_fields:
            _print_fields()
            return
        try:
            hw = Hardware.from_toml(hardware) if hardware is not None else Hardware()
        except HardwareError as exc:
            raise fail(str(exc)) from None
        try:
            sizes = [int(s) for s in network.split(",") if s.strip()]
        except ValueError:
            raise fail(f"--network {network!r} must be comma-separated layer sizes, "
                       "e.g. 784,500,500,10") from None
        try:
            est = estimate(hw, sizes, algo.lower(), batch=batch, K=steps,
                           pulse_density=pulse_density)
        except (ValueError, HardwareError) as exc:
            raise fail(str(exc)) from None
        if as_json:
            typer.echo(json.dumps(est.to_dict(), indent=2, default=float))
            return
        _print(est)


def _print_fields() -> None:
    from reports.hardware import field_specs

    from rich.table import Table

    t = Table(title="Hardware fields (TOML: top-level keys or a \\[hardware] table; "
              "example: reports/hardware_example.toml)", title_justify="left")
    t.add_column("field", no_wrap=True)
    for col in ("default", "allowed", "meaning"):
        t.add_column(col)
    for row in field_specs():
        t.add_row(*row)
    console.print(t)


def _table(title: str, first: str, *right: str):
    """A left-titled rich table: one left-aligned column, then right-aligned ones."""
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    t.add_column(first)
    for name in right:
        t.add_column(name, justify="right")
    return t


def _share(v: float, total: float) -> str:
    return f"{100 * v / total:.1f} %"


def _print(est) -> None:
    hw = est.hardware
    console.print(f"[bold]{est.algo.upper()}[/] on {','.join(map(str, est.network))} · "
                  f"{hw.node_nm} nm · device {hw.device} · tiles {hw.tile_rows}×{hw.tile_cols} · "
                  f"DAC {hw.dac_bits} b ({hw.input_mode}) · ADC {hw.adc_bits} b "
                  f"{hw.adc_type.upper()} / {hw.cols_per_adc} cols · batch {est.batch}"
                  + (f" · K {est.K}" if est.K else ""))

    t = _table("Energy and latency", "quantity", "per training sample", "per inference")
    t.add_row("[bold]analog total[/]", fmt_si(est.train_j, "J"), fmt_si(est.inference_j, "J"))
    t.add_row("latency (throughput)", fmt_si(est.train["latency_s"], "s"),
              fmt_si(est.inference["latency_s"], "s"))
    for prec, d in est.digital.items():
        t.add_row(f"digital {prec} baseline", fmt_si(d["train"]["total_j"], "J"),
                  fmt_si(d["inference"]["total_j"], "J"))
        t.add_row(f"  ratio digital {prec} / analog",
                  f"{d['train']['total_j'] / est.train_j:.3g}×" if est.train_j else "-",
                  f"{d['inference']['total_j'] / est.inference_j:.3g}×" if est.inference_j else "-")
    console.print(t)

    t = _table("Energy per phase", "phase", "energy", "share", "latency")
    for scope, p in (("train", est.train), ("inference", est.inference)):
        tot = p["total_j"] or 1.0
        for ph, v in p["by_phase_j"].items():
            t.add_row(f"{scope}: {ph}", fmt_si(v, "J"), _share(v, tot),
                      fmt_si(p["latency_by_phase_s"].get(ph, 0.0), "s"))
    console.print(t)

    t = _table("Energy per component", "component", "per training sample", "share",
               "per inference", "share")
    tt, ti = est.train["total_j"] or 1.0, est.inference["total_j"] or 1.0
    for k in est.train["by_component_j"]:
        a, b = est.train["by_component_j"][k], est.inference["by_component_j"][k]
        t.add_row(k, fmt_si(a, "J"), _share(a, tt), fmt_si(b, "J"), _share(b, ti))
    console.print(t)

    t = _table(f"Area (total {est.area_mm2:.3g} mm²)", "block", "area", "share")
    for k, v in est.train["area_breakdown_mm2"].items():
        t.add_row(k, f"{v:.4g} mm²", _share(v, est.area_mm2 or 1))
    console.print(t)

    tl = est.tile
    level = ("core level: macro + I/O buffer + post-processing" if hw.scope == "core"
             else "macro level, no buffers")
    t = _table(f"One {hw.tile_rows}×{hw.tile_cols} tile MVM ({level})", "metric", "value")
    t.add_row("energy", fmt_si(tl["energy_j"], "J"))
    t.add_row("energy per MAC", f"{tl['fj_per_mac']:.3g} fJ")
    t.add_row("latency", fmt_si(tl["latency_s"], "s"))
    t.add_row("area", f"{tl['area_mm2']:.4g} mm²")
    t.add_row("TOPS/W", f"{tl['tops_per_w']:.3g}")
    t.add_row("TOPS/mm²", f"{tl['tops_per_mm2']:.3g}")
    console.print(t)
    console.print(f"[dim]Assumes {est.pulse_density:g} write pulses per device per update; "
                  "model and sources: reports/README.md[/]")
