"""`analogff deploy`: train in float (or load weights), program onto devices, evaluate over time."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from .common import (cli_errors, console, device_field_help, err_console, field_help_cli,
                     hardware_options, resolve_hardware)

DEFAULT_TIMES = "1,3600,86400,2592000,31557600"      # 1 s, 1 h, 1 day, 30 days, 1 year


def register(app: typer.Typer) -> None:
    @app.command(help=(
        "Deploy a float-trained network on analog devices and follow its accuracy over time.\n\n"
        "Trains the ideal float twin of the run (or loads --weights), programs the weights onto "
        "the analog tiles of the chosen device (with its programming noise; weights beyond a "
        "matrix's range clip, and the clipped share is printed), then measures test accuracy "
        "at each --eval-times point after programming while the devices drift.\n\n"
        "Examples:\n\n"
        "  analogff deploy --algo bp --device pcm-gst --epochs 5\n\n"
        "  analogff deploy --algo bp --device pcm-gst --drift-nu 0.1 --eval-times 1,3600,86400 "
        "--store drift.db"))
    @cli_errors
    @hardware_options
    def deploy(
        algo: Optional[str] = typer.Option(None, help=field_help_cli("algo")),
        dataset: Optional[str] = typer.Option(None, help=field_help_cli("dataset")),
        limit: Optional[int] = typer.Option(None, help=field_help_cli("limit")),
        noise: Optional[float] = typer.Option(None, help=field_help_cli("noise")),
        drift_nu: Optional[float] = typer.Option(None, help=device_field_help("drift_nu")),
        prog_noise: Optional[float] = typer.Option(None, help=device_field_help("prog_noise")),
        hidden: Optional[str] = typer.Option(None, help=field_help_cli("hidden")),
        epochs: Optional[int] = typer.Option(None, help="Float training epochs."),
        batch_size: Optional[int] = typer.Option(None, help=field_help_cli("batch_size")),
        lr: Optional[float] = typer.Option(None, help=field_help_cli("lr")),
        seed: Optional[int] = typer.Option(None, help=field_help_cli("seed")),
        eval_times: str = typer.Option(DEFAULT_TIMES, help="Seconds after programming at which to measure test accuracy, increasing, comma-separated."),
        weights: Optional[Path] = typer.Option(None, help="Trained network (.npz as --save-weights writes: one array per matrix name, plus the digital state) instead of training in float; the training options (--epochs, --lr, --batch-size, --limit, and a --config file's optimizer and dev_fraction) are then refused."),
        save_weights: Optional[Path] = typer.Option(None, help="Write the float-trained network here (.npz: matrices and digital state)."),
        config: Optional[Path] = typer.Option(None, help="TOML file with run options (the command line overrides it)."),
        store: Optional[Path] = typer.Option(None, help="Append the deploy record to this results store (the report draws accuracy vs time)."),
        json_out: bool = typer.Option(False, "--json", help="Print the record as JSON on stdout."),
        hardware: Optional[Path] = None,
        hardware_overrides: Optional[dict] = None,
    ) -> None:
        import numpy as np

        from analogff.config import from_dict, load_toml
        from analogff.deploy import deploy as run_deploy
        from analogff.deploy import parse_times, trained_arrays
        from analogff.errors import ConfigError

        times = parse_times(eval_times)
        opts = dict(load_toml(config)) if config is not None else {}
        cli = dict(algo=algo, dataset=dataset, limit=limit, noise=noise, drift_nu=drift_nu,
                   prog_noise=prog_noise, hidden=hidden, epochs=epochs,
                   batch_size=batch_size, lr=lr, seed=seed)
        opts.update({k: v for k, v in cli.items() if v is not None})
        opts.update(hardware_overrides or {})
        cfg = from_dict(opts, hardware=resolve_hardware(hardware, {}))
        given = None
        if weights is not None:
            if not weights.is_file():
                raise ConfigError(f"--weights {str(weights)!r} does not exist")
            try:
                with np.load(weights) as z:
                    given = {k: z[k] for k in z.files}
            except (OSError, ValueError) as exc:
                raise ConfigError(f"--weights {weights}: not a readable .npz file ({exc})") \
                    from None
        results = None
        if store is not None:
            from analogff.store import ResultsStore
            results = ResultsStore(store)
        with err_console.status(f"deploy: {'loading' if given else 'training'} {cfg.algo} in "
                                "float, programming, evaluating over time"):
            record, fnet = run_deploy(cfg, times, weights=given)
        if save_weights is not None:
            np.savez(save_weights, **trained_arrays(fnet))
        if results is not None:
            results.add(record)
            results.close()
        if json_out:
            sys.stdout.write(json.dumps(record, default=float) + "\n")
            return
        console.print(_table(record))
        if store is not None:
            console.print(f"record appended to {store}")


def _fmt_time(t: float) -> str:
    for unit, s in (("year", 31557600.0), ("day", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if t >= s:
            return f"{t / s:.3g} {unit}"
    return f"{t:.3g} s"


def _table(rec: dict):
    from rich.table import Table

    c, m = rec["config"], rec["metrics"]
    origin = "weights given" if rec["deploy"]["weights"] == "given" else "trained in float"
    t = Table(title=f"{c['algo'].upper()} on {c['dataset']}, {origin}, deployed on "
                    f"{c['device']} (seed {c['seed']})")
    t.add_column("after programming")
    t.add_column("test accuracy", justify="right")
    t.add_row("float (before programming)", f"{100 * m['float_test_accuracy']:.2f} %")
    for ts, acc in m["accuracy_vs_time"].items():
        t.add_row(_fmt_time(float(ts)), f"{100 * acc:.2f} %")
    clipped = rec["deploy"]["clipped_fraction"]
    worst = max(clipped.items(), key=lambda kv: kv[1]) if clipped else ("–", 0.0)
    t.caption = (f"weights beyond a matrix's range (clipped at programming): at most "
                 f"{100 * worst[1]:.2g} % ({worst[0]})")
    return t
