"""`analogff sweep`: run a grid of experiments in parallel into a resumable results store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from device_models.checks import check_number

from .common import (algorithm_names, cli_errors, console, fail, hardware_options,
                     print_flagged, resolve_hardware)
from .run_options import run_options, sweep_fields

_MAX_DRY_ROWS = 200


def register(app: typer.Typer) -> None:
    @app.command("sweep")
    @cli_errors
    @hardware_options
    @run_options(sweep_fields())
    def sweep(
        grid: Annotated[Optional[List[str]], typer.Option(
            "--grid", "-g", metavar="KEY=V1,V2,...",
            help="Parameter and its values (repeatable; keys are `simulate` options). "
                 "Use ';' to separate values that contain commas: hidden=500,500;1000.")] = None,
        config: Annotated[Optional[Path], typer.Option(
            "--config", "-c",
            help="Sweep file: optional \\[hardware] table (chip fields), \\[base] table, "
                 "\\[grid] table of lists, optional \\[zip] table of equal-length lists, "
                 "algo = \\[...], seeds = N.")] = None,
        algo: Annotated[Optional[List[str]], typer.Option(
            "--algo", "-a", help=f"Algorithm(s) to run: {', '.join(algorithm_names())} (repeatable, "
            "or comma-separated: --algo pff,bp).")] = None,
        seeds: Annotated[Optional[int], typer.Option(
            "--seeds", help="Replicates per point: seeds base, base+1, ..., base+N-1.")] = None,
        store: Annotated[Path, typer.Option(
            "--store", "-s", help="Results store (SQLite); points done in it (or failed, "
                                  "unless --retry-failed) are skipped.")]
        = Path("results.db"),
        workers: Annotated[Optional[int], typer.Option(
            "--workers", "-w", help="Local worker processes (default: number of cores).")] = None,
        scheduler: Annotated[Optional[str], typer.Option(
            "--scheduler", metavar="tcp://HOST:PORT",
            help="Run on an existing Dask cluster (see docs/scaling.md); its workers run the "
                 "points (--workers is refused with it).")] = None,
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", help="List the points and how many are already done; run nothing.")] = False,
        retry_failed: Annotated[bool, typer.Option(
            "--retry-failed", help="Run again the points stored as failed.")] = False,
        name: Annotated[Optional[str], typer.Option(
            "--name", help="Tag stored with every run of this sweep.")] = None,
        point_fn: Annotated[Optional[str], typer.Option(
            "--point-fn", hidden=True, envvar="ANALOGFF_SWEEP_POINT_FN",
            help="Testing/extension hook: module:function run for each point instead of "
                 "analogff.experiment.run_experiment.")] = None,
        hardware: Optional[Path] = None,
        hardware_overrides: Optional[dict] = None,
        run_overrides: Optional[dict] = None,
    ) -> None:
        """Sweep parameters: every combination of --grid values x --algo x --seeds.

        Examples:

          analogff sweep --grid noise=0,0.02,0.05 --grid adc_bits=4,6,8 --algo pff --algo bp

          analogff sweep --config sweep.toml --seeds 3 --scheduler tcp://head:8786

          analogff sweep --hardware chip.toml --grid node_nm=22,7 --grid adc_type=sar,flash

          analogff sweep --dataset fashion-mnist --epochs 5 --grid noise=0,0.05

        Every hardware field (see analogff energy --fields) is a grid key; --hardware FILE and
        the single-field options set the chip's base values, under the sweep file's \\[base]
        and the grid.
        """
        from analogff.errors import ConfigError
        from analogff.store import ResultsStore
        from analogff.sweep import (build_spec, default_worker_threads, default_workers, expand,
                                    fmt_duration, plan, resolve_point_fn, run_sweep)

        if not grid and config is None and not algo and seeds is None and hardware is None \
                and not hardware_overrides and not run_overrides:
            raise fail("nothing to sweep; give --grid KEY=V1,V2,..., --config sweep.toml, "
                       "--algo or --seeds (see analogff sweep --help)")
        if workers is not None:
            check_number("--workers", workers, 1, None, integer=True, error=ConfigError)
        if scheduler is None:
            default_worker_threads()   # $ANALOGFF_WORKER_THREADS checked before anything runs
        if scheduler is not None and "://" not in scheduler:
            raise ConfigError(f"--scheduler {scheduler!r} must look like tcp://HOST:PORT")
        if scheduler is not None and workers is not None:
            raise ConfigError("--workers does not apply with --scheduler (the cluster's own "
                              "workers run the points); drop it")
        algos = [a.strip() for v in (algo or ()) for a in v.split(",") if a.strip()]
        chip = None
        if hardware is not None or hardware_overrides:
            chip = resolve_hardware(hardware, hardware_overrides or {}).to_dict()
        fixed = dict(run_overrides or {})   # every simulate option, fixed for every point
        both = sorted(set(fixed) & {g.split("=", 1)[0].strip().replace("-", "_")
                                    for g in grid or ()})
        if both:
            raise ConfigError(f"{both[0]} is given both as --{both[0].replace('_', '-')} and "
                              f"as a --grid key; use one of them")
        spec = build_spec(grid or (), config, algos, seeds, hardware=chip, base=fixed or None)
        points = expand(spec)          # every point validated before anything runs
        if point_fn:
            resolve_point_fn(point_fn)
        varied = spec.varied_keys()
        if not point_fn:  # datasets installed, layer sizes, batch, memory (analogff/boundary.py)
            from analogff.boundary import check_points
            from analogff.sweep import describe
            check_points(points, lambda c: describe(c, varied) or "base")

        if dry_run:
            st = ResultsStore(store, create=False, check=True) if store.exists() else None
            if st is not None:
                pl = plan(points, st, retry_failed=retry_failed)
                st.close()
            else:
                pl = plan(points, _EmptyStore(), retry_failed=retry_failed)
            _print_points(points, pl, varied)
            n_done, n_failed = len(pl.done), len(pl.failed)
            console.print(f"{len(points)} points: {n_done} done, {n_failed} failed, "
                          f"{len(pl.todo)} to run (store {store})", highlight=False)
            return

        if scheduler is not None:  # refused/unresolvable: one line now, not "Timed out" in 20 s
            from analogff.boundary import check_scheduler
            check_scheduler(scheduler)
        existed = store.exists()
        st = ResultsStore(store, check=True)
        try:
            st.check_writable()
            n_workers = workers or default_workers()
            where = (f"Dask scheduler {scheduler}" if scheduler
                     else f"{n_workers} local worker{'s' if n_workers != 1 else ''}")
            bar = _Bar(len(points))
            console.print(f"sweep: {len(points)} points ({describe_spec(spec)}) on {where} "
                          f"-> {store}", highlight=False)
            from analogff import signals
            with bar, signals.raising():  # the client only waits: stop at once on a signal
                res = run_sweep(points, st, point_fn=point_fn, workers=workers,
                                scheduler=scheduler, retry_failed=retry_failed,
                                progress=bar.update, sweep_name=name)
        except BaseException:
            empty = st.count() == 0
            st.close()
            if not existed and empty:      # nothing ran: leave no new file behind
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{store}{suffix}").unlink(missing_ok=True)
            raise
        st.close()
        _print_summary(res, store, fmt_duration, varied)
        if res.failed:
            raise fail(f"{res.failed} point(s) failed (errors stored); list them with "
                       f"analogff results {store} --where \"status=failed\", rerun them with "
                       "--retry-failed", code=1)


class _EmptyStore:
    def done_hashes(self) -> set[str]:
        return set()

    def failed_hashes(self) -> set[str]:
        return set()


def describe_spec(spec) -> str:
    parts = [f"{k}×{len(set(map(str, v)))}" for k, v in spec.grid.items()]
    if spec.zip:
        parts.append(f"({'+'.join(spec.zip)})×{len(next(iter(spec.zip.values())))}")
    if len(spec.algos) > 1:
        parts.append(f"algo×{len(spec.algos)}")
    if spec.seeds > 1:
        parts.append(f"seeds×{spec.seeds}")
    return " · ".join(parts) or "1 point"


class _Bar:
    """A rich progress bar: done / running / failed counts and ETA."""

    def __init__(self, total: int):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn)

        self.progress = Progress(
            TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[green]{task.fields[done]} done[/] · [cyan]{task.fields[running]} "
                       "running[/] · [red]{task.fields[failed]} failed[/]"),
            TimeElapsedColumn(), TextColumn("ETA {task.fields[eta]}"),
            console=console, transient=False)
        self.total = total
        self.task = None

    def __enter__(self) -> "_Bar":
        self.progress.__enter__()
        self.task = self.progress.add_task("sweep", total=self.total, done=0, running=0,
                                           failed=0, eta="?")
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def update(self, p) -> None:
        from analogff.sweep import fmt_duration

        self.progress.update(self.task, completed=p.skipped + p.finished,
                             total=p.skipped + p.total, done=p.skipped + p.done,
                             running=p.running, failed=p.failed, eta=fmt_duration(p.eta_s))


def _print_points(points, pl, varied) -> None:
    from rich.table import Table

    t = Table(title="Sweep points")
    t.add_column("#", justify="right")
    t.add_column("state")
    t.add_column("hash")
    keys = [k for k in varied if k not in ("algo", "seed")] + ["algo", "seed"]
    for k in keys:
        t.add_column(k)
    style = {"done": "green", "failed": "red", "todo": ""}
    for i, cfg in enumerate(points[:_MAX_DRY_ROWS], 1):
        s = pl.state(cfg)
        t.add_row(str(i), f"[{style[s]}]{s}[/]" if style[s] else s, cfg.config_hash(),
                  *[str(getattr(cfg, k)) for k in keys])
    console.print(t)
    if len(points) > _MAX_DRY_ROWS:
        console.print(f"... and {len(points) - _MAX_DRY_ROWS} more points")


def _print_summary(res, store, fmt_duration, varied=()) -> None:
    from rich.table import Table

    t = Table(title="Sweep summary", show_header=False)
    t.add_column("", style="bold")
    t.add_column("")
    t.add_row("points in sweep", str(res.total))
    t.add_row("already in store (skipped)", str(res.skipped))
    t.add_row("ran now", str(res.ran))
    t.add_row("done", f"[green]{res.done}[/]")
    t.add_row("failed", f"[red]{res.failed}[/]" if res.failed else "0")
    t.add_row("executor", f"{res.executor} ({res.workers} worker slot{'s' if res.workers != 1 else ''})")
    t.add_row("wall time", fmt_duration(res.wall_s))
    if res.ran and res.wall_s > 0:
        t.add_row("throughput", f"{res.ran / res.wall_s * 60:.1f} points/min")
    t.add_row("store", str(store))
    console.print(t)
    for h, err in res.failures[:5]:
        console.print(f"[red]failed[/] {h}: {err}", highlight=False)
    if len(res.failures) > 5:
        console.print(f"... and {len(res.failures) - 5} more failures")
    from analogff.pulse_cap import cut_heading
    from analogff.saturation import capped_heading, clipping_heading, share_text

    # a clipped array can stop learning, cut updates slow it: say which points, which matrix
    for found, heading in ((res.clipping, clipping_heading), (res.pulse_cut, cut_heading)):
        if found:
            print_flagged(heading(len(found), "point"),
                          [(_point(h, cfg, varied), share_text(m, share))
                           for h, cfg, m, share in found])
    if res.capped:   # the range these points simulated is not the one their options ask
        names = ", ".join(sorted({m for _h, _c, ms in res.capped for m in ms}))
        print_flagged(capped_heading(len(res.capped), "point", names),
                      [(_point(h, cfg, varied), ", ".join(ms)) for h, cfg, ms in res.capped])


def _point(h: str, cfg: dict, varied) -> str:
    """A sweep point by the knobs the sweep varies (its hash if none)."""
    return ", ".join(f"{k}={cfg.get(k)}" for k in varied if k in cfg) or h
