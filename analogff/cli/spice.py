"""`analogff spice`: one crossbar tile in ngspice vs the ideal and IR-drop models."""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from analogff import signals
from analogff.errors import ConfigError
from device_models.checks import check_number

from .common import cli_errors, console, fail, options_given

MAX_SIZE = 256      # rows and columns of one tile (what the IR-drop model is checked at)
MAX_INPUTS = 10000
MAX_SEED = 2**63 - 1
# the IR-drop model's ranges (crossbar.irdrop.IRDropSolver), so that both sides can run
MAX_WIRE_OHMS, MAX_ACCESS_OHMS = 1e9, 1e12

# ngspice's .op time per input vector, measured here (ngspice 39, 2-core machine, loaded):
# with wire segments the circuit is a 2-D mesh of 2·rows·cols nodes and ngspice's sparse LU
# grows steeply with it: 16x16 0.04 s, 32x32 0.38 s, 48x48 3.0-3.7 s, 64x64 17-20 s, i.e.
# ~cells^3 at the top (128x128 ran past 400 s, 256x256 ~19 h). Without wires (wire_resistance
# 0) only the cells remain: 256x256 in 3.6 s, 128x128 with access resistors 1.1 s.
_SPICE_TIME = {True: (64 * 64, 20.0, 3.0), False: (256 * 256, 3.6, 1.5)}  # cells, s, exponent
MAX_SPICE_S = 600.0      # refuse runs estimated beyond 10 minutes
PROGRESS_S = 5.0         # show a progress bar for runs estimated beyond this


def estimate_spice_s(rows: int, cols: int, wire_resistance: float, inputs: int) -> float:
    """Estimated ngspice wall time (s) for ``inputs`` vectors on a rows x cols tile, from the
    measured scaling above."""
    cells, t_ref, k = _SPICE_TIME[wire_resistance > 0]
    return inputs * t_ref * (rows * cols / cells) ** k


def _check_time(sizes: list[tuple[int, int]], wire_resistance: float, inputs: int) -> float:
    est = sum(estimate_spice_s(r, c, wire_resistance, inputs) for r, c in sizes)
    if est > MAX_SPICE_S:
        r, c = max(sizes, key=lambda rc: rc[0] * rc[1])
        cells, t_ref, k = _SPICE_TIME[True]
        biggest = int((cells * (MAX_SPICE_S / (inputs * t_ref)) ** (1 / k)) ** 0.5)
        raise fail(f"{r}x{c} with {inputs} input vector(s) would take ngspice about "
                   f"{_duration(est)} (measured here: 64x64 with wires ~20 s per vector, growing "
                   f"~cells^3); allowed up to {_duration(MAX_SPICE_S)}: use --size <= {biggest}"
                   f"{' or fewer --inputs' if inputs > 1 else ''}, or --wire-resistance 0")
    return est


def _duration(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.0f} h"


def _check_size(name: str, value: int) -> int:
    check_number(name, value, 1, MAX_SIZE, integer=True, error=ConfigError)
    return value


def _check_ohms(name: str, value: float, hi: float) -> float:
    check_number(name, value, 0.0, hi, unit="ohms", error=ConfigError)
    return value


def _parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise fail(f"--sweep-sizes {text!r} is malformed; expected comma-separated integers, "
                   f"e.g. 16,32,64") from None
    if not sizes:
        raise fail("--sweep-sizes is empty; expected comma-separated integers, e.g. 16,32,64")
    for n in sizes:
        _check_size("a --sweep-sizes entry", n)
    return sizes


def _write_atomic(path: Path, text: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".netlist-", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def compare_tile(rows: int, cols: int, wire: float, access: float, g_min: float, g_max: float,
                 v_read: float, inputs: int, seed: int, progress=None, poll=None) -> dict:
    """Random tile and inputs; column currents from ngspice, the ideal and the IR-drop model.

    Returns relative errors (vs ngspice) and wall times in seconds.
    """
    import numpy as np

    from crossbar.irdrop import IRDropSolver, ideal_currents
    from crossbar.spice import relative_errors, run_spice

    rng = np.random.default_rng(seed)
    G = rng.uniform(g_min, g_max, size=(rows, cols))
    V = rng.uniform(0.0, v_read, size=(inputs, rows))
    i_spice, t_spice = run_spice(G, V, wire, access, progress=progress, poll=poll)
    t0 = time.perf_counter()
    i_ideal = ideal_currents(G, V)
    t_ideal = time.perf_counter() - t0
    t0 = time.perf_counter()
    i_ir = IRDropSolver(G, wire, access).solve(V)
    t_ir = time.perf_counter() - t0
    e_ideal = relative_errors(i_ideal, i_spice)
    e_ir = relative_errors(i_ir, i_spice)
    return {"rows": rows, "cols": cols, "G": G, "V": V,
            "ideal_max": float(e_ideal.max()), "ideal_mean": float(e_ideal.mean()),
            "ideal_far": float(e_ideal[:, -1].mean()), "ideal_near": float(e_ideal[:, 0].mean()),
            "ir_max": float(e_ir.max()), "ir_mean": float(e_ir.mean()),
            "t_spice": t_spice, "t_ideal": t_ideal, "t_ir": t_ir}


@contextmanager
def _progress(est: float, inputs: int, what: str = "ngspice"):
    """A progress bar on stderr (input vectors solved, elapsed, estimate) for runs estimated
    beyond PROGRESS_S; yields the per-vector callback (None for short runs)."""
    if est < PROGRESS_S:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
        TimeElapsedColumn

    from .common import err_console
    cols = [TextColumn(f"[bold]{what}[/] (estimated {_duration(est)})"), BarColumn(),
            MofNCompleteColumn(), TextColumn("input vectors"), TimeElapsedColumn()]
    with Progress(*cols, console=err_console, transient=True) as prog:
        task = prog.add_task("spice", total=inputs)
        yield lambda done: prog.update(task, completed=done)


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.3g}" if ms < 1000 else f"{ms:,.0f}"


def _speedup(t_ref: float, t: float) -> str:
    return f"{t_ref / t:,.0f}×" if t > 0 else "—"


def register(app: typer.Typer) -> None:
    @app.command("spice")
    @cli_errors
    def spice(
        ctx: typer.Context,
        size: int = typer.Option(16, "--size", "-n", help="Tile size N (N rows × N columns)."),
        rows: Optional[int] = typer.Option(None, "--rows", help="Rows (input lines); overrides --size."),
        cols: Optional[int] = typer.Option(None, "--cols", help="Columns (output lines); overrides --size."),
        wire_resistance: float = typer.Option(1.0, "--wire-resistance", help="Wire resistance per cell pitch, ohms (0 = ideal wires)."),
        access_resistance: float = typer.Option(0.0, "--access-resistance", help="Access-device resistance in series with each cell, ohms."),
        device: str = typer.Option("rram-taox", "--device", help="Device preset: conductance range and read voltage (analogff devices)."),
        seed: int = typer.Option(0, "--seed", help="Seed for the random conductances and inputs."),
        inputs: int = typer.Option(4, "--inputs", "-k", help="Number of random input vectors (volts in [0, v_read])."),
        netlist: Optional[Path] = typer.Option(None, "--netlist", help="Write the SPICE netlist of the first input vector to FILE."),
        sweep_sizes: Optional[str] = typer.Option(None, "--sweep-sizes", help="Comma-separated N×N sizes, e.g. 16,32,64: IR-drop error growth table (--size, --rows and --cols then size only the --netlist)."),
    ) -> None:
        """Check a crossbar tile against ngspice: ideal model (I = vG) and IR-drop model vs SPICE.

        Random conductances (uniform in the device's \\[g_min, g_max]) and input voltages in
        \\[0, v_read]; wires of --wire-resistance ohms per cell pitch along rows and columns;
        columns at virtual ground. Relative error = |I_model - I_spice| / |I_spice|. Needs
        ngspice and PySpice: apt-get install ngspice libngspice0; pip install "analogff\\[spice]".
        """
        import numpy as np

        from crossbar.spice import SpiceRunError, SpiceUnavailableError, spice_unavailable_reason, tile_netlist
        from device_models import load_preset

        if rows is not None and cols is not None and options_given(ctx, ("size",)):
            raise ConfigError("--size does not apply with both --rows and --cols; drop it")
        if sweep_sizes is not None and netlist is None:
            moot = options_given(ctx, ("size", "rows", "cols"))
            if moot:
                raise ConfigError(f"{moot[0]} does not apply with --sweep-sizes (each size is "
                                  "an N×N tile; the tile size only sizes a --netlist); drop it")
        r = _check_size("--rows" if rows is not None else "--size", rows if rows is not None else size)
        c = _check_size("--cols" if cols is not None else "--size", cols if cols is not None else size)
        _check_ohms("--wire-resistance", wire_resistance, MAX_WIRE_OHMS)
        _check_ohms("--access-resistance", access_resistance, MAX_ACCESS_OHMS)
        check_number("--inputs", inputs, 1, MAX_INPUTS, integer=True, error=ConfigError)
        check_number("--seed", seed, 0, MAX_SEED, integer=True, error=ConfigError)
        sizes = _parse_sizes(sweep_sizes) if sweep_sizes is not None else None
        if netlist is not None:
            from analogff.boundary import check_output_file
            check_output_file(netlist, "--netlist")
        dev = load_preset(device)
        g_min, g_max, v_read = float(dev.g_min), float(dev.g_max), float(dev.v_read)

        if netlist is not None:
            rng = np.random.default_rng(seed)
            G = rng.uniform(g_min, g_max, size=(r, c))
            V = rng.uniform(0.0, v_read, size=(inputs, r))
            text = tile_netlist(G, V[0], wire_resistance, access_resistance,
                                title=f"analogff tile, device {device}, seed {seed}, input 0")
            try:
                _write_atomic(netlist, text)
            except OSError as exc:
                raise fail(f"cannot write netlist {netlist}: {exc.strerror or exc}") from None
            console.print(f"netlist ({r}×{c}, {len(text.splitlines())} lines) written to {netlist}")

        reason = spice_unavailable_reason()
        if reason is not None:
            raise fail(reason)
        est = _check_time([(n, n) for n in sizes] if sizes else [(r, c)], wire_resistance,
                          inputs)

        wire_desc = (f"wire {wire_resistance:g} Ω/segment"
                     + (f", access {access_resistance:g} Ω" if access_resistance > 0 else ""))
        dev_desc = f"device {device} (G {g_min * 1e6:.3g}–{g_max * 1e6:.3g} µS, v_read {v_read:g} V)"
        from rich import box
        from rich.table import Table
        try:
            if sizes is None:
                with _progress(est, inputs) as step:
                    res = compare_tile(r, c, wire_resistance, access_resistance, g_min, g_max,
                                       v_read, inputs, seed, progress=step,
                                       poll=signals.check if step else None)
                t = Table(title=f"{r}×{c} tile vs ngspice — {wire_desc}; {dev_desc}; "
                                f"{inputs} input vectors")
                for col in ("model", "max rel. err", "mean rel. err", "time (ms)", "speedup"):
                    t.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
                t.add_row("ngspice .op", "(reference)", "", _ms(res["t_spice"]), "1×")
                t.add_row("ideal v·G", f"{res['ideal_max']:.2e}", f"{res['ideal_mean']:.2e}",
                          _ms(res["t_ideal"]), _speedup(res["t_spice"], res["t_ideal"]))
                t.add_row("IR-drop", f"{res['ir_max']:.2e}", f"{res['ir_mean']:.2e}",
                          _ms(res["t_ir"]), _speedup(res["t_spice"], res["t_ir"]))
                console.print(t)
                notes = ["relative error = |I_model − I_spice| / |I_spice| over all columns and "
                         "inputs; the IR-drop time includes its factorisation"]
                if wire_resistance > 0:
                    notes.append(f"ideal model, mean rel. error: nearest column {res['ideal_near']:.2e}, "
                                 f"farthest column {res['ideal_far']:.2e}")
                for note in notes:
                    console.print(note, highlight=False)
            else:
                t = Table(title=f"IR-drop error growth vs ngspice — {wire_desc}; {dev_desc}; "
                                f"{inputs} input vectors per size", box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1),
                          show_edge=False)
                for col in ("N×N", "ideal max", "ideal mean", "IR max", "IR mean", "SPICE ms",
                            "IR ms", "speedup"):
                    t.add_column(col, justify="right", no_wrap=True)
                for n in sizes:
                    with _progress(estimate_spice_s(n, n, wire_resistance, inputs), inputs,
                                   f"{n}x{n}") as step:
                        res = compare_tile(n, n, wire_resistance, access_resistance, g_min,
                                           g_max, v_read, inputs, seed, progress=step,
                                           poll=signals.check if step else None)
                    t.add_row(f"{n}×{n}", f"{res['ideal_max']:.2e}", f"{res['ideal_mean']:.2e}",
                              f"{res['ir_max']:.2e}", f"{res['ir_mean']:.2e}", _ms(res["t_spice"]),
                              _ms(res["t_ir"]), _speedup(res["t_spice"], res["t_ir"]))
                console.print(t)
                console.print("columns: relative error |I_model − I_spice| / |I_spice| (max and mean "
                              "over all columns and inputs) of the ideal model v·G and of the IR-drop "
                              "model; wall times in ms (IR-drop including its factorisation); speedup "
                              "= ngspice time / IR-drop time", highlight=False)
        except (SpiceUnavailableError, SpiceRunError) as exc:
            raise fail(str(exc)) from None
