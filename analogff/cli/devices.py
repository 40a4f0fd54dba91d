"""`analogff devices`: list, show and plot device presets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from .common import cli_errors, console, fail

# device values at four significant digits (a preset's 1.234 µS step shows as it is written)
_DIGITS = 4


def si(value: float, unit: str) -> str:
    """``value`` with an SI prefix at four digits, e.g. ``si(5e-8, "s") == "50 ns"``
    (`reports.stats.si`)."""
    from reports.stats import si as _si
    return _si(value, unit, _DIGITS, missing=f"{value:g} {unit}")


def _pulse_cell(d, compact: bool) -> str:
    sep = "/" if compact else " / "
    up = f"{d.v_write_up:g}{sep}{d.t_write_up * 1e9:g}"
    dn = f"{d.v_write_down:g}{sep}{d.t_write_down * 1e9:g}"
    arrow = "" if compact else " "
    if d.policy == "potentiate-only":
        return f"↑{arrow}{up}\nreset {dn}"
    return up if up == dn else f"↑{arrow}{up}\n↓{arrow}{dn}"


def _short_source(source: str) -> str:
    """The first two ``;``-separated parts of a source, without parentheses and boilerplate."""
    import re
    parts = [re.sub(r"\s*\([^)]*\)", "", p).strip() for p in source.split(";")[:2]]
    parts = [p.replace("MLP+NeuroSim", "NeuroSim").replace("manual ", "")
             .replace(" and RealDevice defaults", "") for p in parts if p]
    return "; ".join(parts)


def _list_table(wide: bool):
    """The preset table; ``wide`` adds the source column (narrow terminals list sources below)."""
    from rich import box
    from rich.table import Table

    from device_models import list_presets, load_preset
    t = Table(title="Device presets  (analogff devices show NAME: every parameter)",
              box=box.SIMPLE_HEAD, padding=(0, 1) if wide else (0, 0), pad_edge=False)
    t.add_column("name", no_wrap=True)
    t.add_column("G_min–G_max\n(µS)", justify="right")
    t.add_column("on/off", justify="right")
    t.add_column("states", justify="right")
    t.add_column("response")
    t.add_column("c2c\n(×step)", justify="right")
    t.add_column("read σ\n(×ΔG)", justify="right")
    t.add_column("write pulse\n(V / ns)", justify="right")
    if wide:
        t.add_column("source", overflow="fold")
    for n in list_presets():
        d = load_preset(n)
        resp = d.response + ("\n(↑ only)" if d.policy == "potentiate-only" else "")
        lo, hi = f"{d.g_min * 1e6:.3g}", f"{d.g_max * 1e6:.3g}"
        g = f"{lo}–{hi}" if wide or len(lo) + len(hi) < 8 else f"{lo}–\n{hi}"
        row = [n, g, f"{d.on_off:.3g}", str(d.states), resp, f"{d.c2c:g}", f"{d.read_noise:g}",
               _pulse_cell(d, compact=not wide)]
        if wide:
            row.append(_short_source(d.source))
        t.add_row(*row)
    return t


def _format_value(name: str, value, unit: str) -> str:
    if isinstance(value, str):
        return value
    if unit in ("S", "V", "s", "J"):
        if name == "pulse_energy" and value == 0:
            return "0 J (computed as V²·G·t)"
        return si(float(value), unit)
    if unit == "pulses" and value == 0:
        return "0 (unlimited)"
    if unit.startswith("frac"):
        return f"{value:g}" + (f"  ({value * 100:.3g} %)" if 0 < value < 10 else "")
    return f"{value:g}"


def _show_table(d):
    from rich.table import Table

    from device_models import FIELD_INFO
    t = Table(title=f"{d.name}", title_justify="left")
    t.add_column("parameter", no_wrap=True)
    t.add_column("value", no_wrap=True)
    t.add_column("unit")
    t.add_column("meaning")
    for name, (unit, meaning) in FIELD_INFO.items():
        t.add_row(name, _format_value(name, getattr(d, name), unit), unit, meaning)
    t.add_section()
    t.add_row("G range", si(d.g_range, "S"), "S", "g_max − g_min")
    t.add_row("Δg_min", si(d.dg_min, "S"), "S", "nominal step of one pulse (range / states)")
    t.add_row("on/off", f"{d.on_off:.4g}", "", "g_max / g_min")
    t.add_row("R_on", si(1.0 / d.g_max, "Ω"), "Ω", "1 / g_max")
    return t


def _plot(d, out: Path, pulses: int, devices: int, seed: int) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from device_models.response import delta_vs_state, pulse_train

    noisy = pulse_train(d, pulses, pulses, n_devices=devices, seed=seed) * 1e6
    nominal = pulse_train(d.nominal(), pulses, pulses, n_devices=1)[0] * 1e6
    x = np.arange(noisy.shape[1])
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11.0, 4.2), dpi=120,
                                  gridspec_kw={"width_ratios": [1.6, 1.0]})
    try:
        # ΔG vs G: one nominal pulse up and one down at every conductance (the view in which
        # response shapes, asymmetric bounds and the symmetry point show at a glance)
        g, dup, ddn = delta_vs_state(d)
        ax2.plot(g * 1e6, dup * 1e9, color="tab:red", label="up pulse")
        ax2.plot(g * 1e6, ddn * 1e9, color="tab:blue", label="down pulse")
        ax2.axhline(0.0, color="grey", lw=0.5)
        ax2.set_xlabel("conductance G (µS)")
        ax2.set_ylabel("ΔG per pulse (nS)")
        ax2.set_title("ΔG vs G (nominal device)", fontsize=10)
        ax2.legend(loc="best", fontsize=8)
        for k in range(devices):
            ax.plot(x, noisy[k], lw=0.7, alpha=0.7,
                    label=f"{devices} devices (d2d {d.d2d:g}, c2c {d.c2c:g})" if k == 0 else None)
        ax.plot(x, nominal, color="black", lw=1.6, label="nominal (no noise)")
        ax.axvline(pulses, color="grey", ls=":", lw=0.8)
        ax.axhline(d.g_min * 1e6, color="grey", lw=0.5)
        ax.axhline(d.g_max * 1e6, color="grey", lw=0.5)
        down_note = " (down pulses refused: potentiate-only)" if d.policy == "potentiate-only" else ""
        ax.set_title(f"{d.name}: {pulses} up then {pulses} down pulses{down_note}", fontsize=10)
        ax.set_xlabel("pulse number")
        ax.set_ylabel("conductance (µS)")
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        fmt = out.suffix[1:].lower() or "png"
        supported = fig.canvas.get_supported_filetypes()
        if fmt not in supported:
            raise fail(f"cannot write {out.name!r}: unknown image format {fmt!r}; use one of "
                       f"{', '.join(sorted(supported))}")
        # write next to the target, then rename: an error never leaves a partial file behind
        import tempfile
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fig.savefig(fh, format=fmt)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; use the usual mode
            os.replace(tmp, out)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    finally:
        plt.close(fig)


def register(app: typer.Typer) -> None:
    devices_app = typer.Typer(
        help="The device presets: list them, show one, plot its pulse response.",
        invoke_without_command=True, no_args_is_help=False)

    @devices_app.callback()
    @cli_errors
    def _list(ctx: typer.Context) -> None:
        """List the device presets as a table (units in the headers)."""
        if ctx.invoked_subcommand is not None:
            return
        from device_models import list_presets, load_preset
        wide = console.width >= 130
        console.print(_list_table(wide))
        if not wide:
            console.print("[bold]sources[/]", highlight=False)
            for n in list_presets():
                console.print(f"  {n}: {_short_source(load_preset(n).source)}", highlight=False)
        console.print("c2c: std of a pulse's step, × the step (multiplicative devices) or × "
                      "the nominal step 1/states (additive); read σ: std per read, "
                      "× (g_max − g_min), or × G (proportional devices).", highlight=False)

    @devices_app.command("show")
    @cli_errors
    def show(name: str = typer.Argument(..., help="preset name, or path to a device .toml")) -> None:
        """Every parameter of one device, with units and meaning."""
        from device_models import get_device
        d = get_device(name)
        console.print(_show_table(d))
        console.print(f"[bold]description:[/] {d.description or '(none)'}", highlight=False)
        console.print(f"[bold]source:[/] {d.source or '(none)'}", highlight=False)

    @devices_app.command("plot")
    @cli_errors
    def plot(
        name: str = typer.Argument(..., help="preset name, or path to a device .toml"),
        output: Path = typer.Option(..., "--output", "-o", help="image file to write (.png)"),
        pulses: Optional[int] = typer.Option(
            None, "--pulses", "-n", min=1, max=1_000_000,
            help="up pulses, then as many down pulses [default: the device's states]"),
        devices: int = typer.Option(5, "--devices", "-k", min=1, max=200,
                                    help="devices drawn with d2d/c2c noise"),
        seed: int = typer.Option(0, "--seed", help="random seed"),
    ) -> None:
        """Plot conductance (µS) vs pulse number (up, then down; noisy devices and the nominal
        curve) and, beside it, ΔG per up and down pulse vs G."""
        from device_models import get_device
        d = get_device(name)
        n = pulses if pulses is not None else d.states
        parent = output.parent if str(output.parent) else Path(".")
        if not parent.is_dir():
            raise fail(f"cannot write {str(output)!r}: directory {str(parent)!r} does not exist")
        if output.is_dir():
            raise fail(f"cannot write {str(output)!r}: it is a directory")
        try:
            _plot(d, output, n, devices, seed)
        except OSError as exc:  # permission denied, disk full, ...: one line, no partial file
            raise fail(f"cannot write {str(output)!r}: {exc.strerror or exc}") from None
        console.print(f"wrote {output}  ({d.name}: {n} up + {n} down pulses, {devices} devices, "
                      f"seed {seed})", highlight=False)

    app.add_typer(devices_app, name="devices")
