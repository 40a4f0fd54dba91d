"""`analogff simulate`: train one network on analog (or ideal) tiles and report accuracy and cost."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from analogff.config import TRAINING_FIELDS
from analogff.pulse_cap import pulse_cap_warnings, stream_clip_warnings, worst_capped_matrix
from analogff.saturation import capped_range_notes, saturation_warnings, worst_matrix

from .run_options import run_options
from .common import (cli_errors, console, err_console, field_help_cli, fmt_si, hardware_options,
                     resolve_hardware)


def _capped_cell(rec: dict, counts: dict) -> str:
    """The trains the pulse cap cut, and the worst matrix's share of its weight updates
    ("n/a" for an ideal run, and for a record from before the count existed)."""
    worst = worst_capped_matrix(rec.get("ledger") or {})
    if worst is None or "trains_capped" not in counts:
        return "n/a"
    return f"{fmt_si(counts['trains_capped'])} (worst {worst[0]}: {100 * worst[1]:.2f} %)"


def summary_table(rec: dict):
    from rich.table import Table

    c, m, e, k, s = rec["config"], rec["metrics"], rec["energy"], rec["counts"], rec["samples"]
    kind = "ideal float twin" if c["ideal"] else f"analog, device {c['device']}"
    t = Table(title=f"{c['algo'].upper()} on {c['dataset']} ({kind}, seed {c['seed']})",
              show_header=True)
    t.add_column("quantity")
    t.add_column("value", justify="right")
    t.add_row("test accuracy", f"{100 * m['test_accuracy']:.2f} %")
    t.add_row("train accuracy", f"{100 * m['train_accuracy']:.2f} %")
    t.add_row("training samples seen", f"{s['train_total']:,} ({s['epochs']} epochs)")
    t.add_row("write pulses", fmt_si(k["pulses"]))
    t.add_row("pulse trains cut to update slots", _capped_cell(rec, k))
    t.add_row("ADC conversions (saturated)",
              f"{fmt_si(k['adc_conversions'])} ({fmt_si(k['adc_saturated'])})")
    worst = worst_matrix(rec.get("ledger") or {})
    t.add_row("ADC saturation, worst matrix",
              "n/a" if worst is None else f"{worst[0]}: {100 * worst[1]:.2f} %")
    t.add_row("DAC conversions", fmt_si(k["dac_conversions"]))
    t.add_row("transposed read vectors", fmt_si(k["transposed_vectors"]))
    t.add_row("energy / training sample", fmt_si(e["per_train_sample_j"], "J"))
    t.add_row("energy / inference", fmt_si(e["per_inference_j"], "J"))
    t.add_row("digital int8 / training sample", fmt_si(e.get("digital_per_train_sample_j"), "J"))
    t.add_row("digital int8 / inference, batch 1", fmt_si(e.get("digital_per_inference_j"), "J"))
    if e.get("digital_inference_batch") is not None:
        t.add_row(f"digital int8 / inference, batch {e['digital_inference_batch']}",
                  fmt_si(e.get("digital_per_inference_batched_j"), "J"))
    t.add_row("wall time (train / eval)", f"{rec['timing']['wall_s']:.1f} s "
              f"({rec['timing']['train_s']:.1f} / {rec['timing']['eval_s']:.1f})")
    # the digital baseline's inference at batch 1 re-reads the weights for every vector; the
    # batched figure fetches them once per batch (reports.run_energy); training reuses them
    # over each update interval
    hw = rec.get("hardware") or {}
    t.caption = (f"energy model: {e['model']}; chip: {hw.get('node_nm', '?')} nm, "
                 f"{hw.get('tile_rows', '?')}×{hw.get('tile_cols', '?')} tiles, "
                 f"DAC {hw.get('dac_bits', '?')} b, ADC {hw.get('adc_bits', '?')} b "
                 f"{str(hw.get('adc_type', '?')).upper()}; digital batch 1 re-reads the "
                 "weights per vector")
    return t


def phase_table(rec: dict):
    from rich.table import Table

    ph = rec["energy"].get("train_by_phase_j") or {}
    if not ph:
        return None
    t = Table(title="Training energy per sample, by phase")
    t.add_column("phase")
    t.add_column("energy", justify="right")
    t.add_column("share", justify="right")
    tot = sum(ph.values()) or 1.0
    for p, v in sorted(ph.items(), key=lambda kv: -kv[1]):
        t.add_row(p, fmt_si(v, "J"), f"{100 * v / tot:.1f} %")
    return t


def save_images(net, out_dir: Path, seed: int) -> list[Path]:
    """PNG grids: inputs; reconstructions and samples only for an algorithm with
    ``reconstruct`` (PFF's generative circuit)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from analogff.experiment import monitoring

    d = net.data
    h, w = d.image_shape
    x = d.x_test[:32]
    grids = {"inputs": x}
    with monitoring(net):
        if hasattr(net.algo, "reconstruct"):
            grids["reconstructions"] = net.algo.reconstruct(x)
            if hasattr(net.algo, "fit_prior"):  # PFF samples from a GMM over its latent codes
                net.algo.fit_prior(d.x_train[:2000], seed=seed)
            grids["samples"] = net.algo.sample(32, np.random.default_rng(seed))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, imgs in grids.items():
        fig, axes = plt.subplots(4, 8, figsize=(8, 4.4))
        for ax, im in zip(axes.ravel(), imgs):
            ax.imshow(np.asarray(im).reshape(h, w), cmap="gray", vmin=0, vmax=1)
            ax.axis("off")
        fig.suptitle(f"{name} ({d.name})")
        p = out_dir / f"{name}.png"
        tmp = p.with_suffix(".tmp.png")
        fig.savefig(tmp, dpi=80)
        plt.close(fig)
        tmp.replace(p)
        paths.append(p)
    return paths


def register(app: typer.Typer) -> None:
    @app.command(help=(
        "Train a network on simulated analog crossbar tiles and report accuracy and cost.\n\n"
        "Runs PFF (default), FF or backprop with every matrix on analog tiles of the chosen "
        "device: forward reads through DAC, noisy array and ADC; weight changes as device "
        "pulses. Prints test accuracy, pulses, conversions and energy per training sample and "
        "per inference. Add --ideal for the float twin of the same run.\n\n"
        "Examples:\n\n"
        "  analogff simulate --noise 0.05\n\n"
        "  analogff simulate --algo bp --device rram-taox --adc-bits 6 --store results.db\n\n"
        "  analogff simulate --config run.toml --seed 3 --json"))
    @cli_errors
    @hardware_options
    @run_options(TRAINING_FIELDS, panel=None, first=True)   # + the device overrides
    def simulate(
        tile_size: Optional[int] = typer.Option(None, help="Shorthand: sets both --tile-rows and --tile-cols to N (not stored: the run records tile_rows and tile_cols)."),
        ideal: Optional[bool] = typer.Option(None, "--ideal/--analog", help=field_help_cli("ideal")),
        config: Optional[Path] = typer.Option(None, help="TOML file with any of these options (top-level, or \\[simulate] and \\[hardware] tables); applied over --hardware, under the command line."),
        store: Optional[Path] = typer.Option(None, help="Append the run record to this SQLite results store."),
        json_out: bool = typer.Option(False, "--json", help="Print the run record as JSON on stdout (progress goes to stderr)."),
        save_images_dir: Optional[Path] = typer.Option(None, "--save-images", help="Write PNG grids here: inputs; PFF also reconstructions and samples."),
        monitor: bool = typer.Option(True, help="Measure test accuracy on 300 examples after each epoch (not counted, does not change results)."),
        run_overrides: Optional[dict] = None,
        hardware: Optional[Path] = None,
        hardware_overrides: Optional[dict] = None,
    ) -> None:
        from analogff.config import from_dict, load_toml
        from analogff.errors import ConfigError

        base = resolve_hardware(hardware, {})
        over = dict(hardware_overrides or {})
        if tile_size is not None:
            if "tile_rows" in over or "tile_cols" in over:
                raise ConfigError("--tile-size sets both tile_rows and tile_cols; give either "
                                  "it or --tile-rows/--tile-cols")
            over.update(tile_rows=tile_size, tile_cols=tile_size)
        opts = {}
        if config is not None:
            opts.update(load_toml(config))
        opts.update(run_overrides or {})    # the run fields given (--algo, ..., --c2c, ...)
        if ideal is not None:
            opts["ideal"] = ideal
        opts.update(over)
        cfg = from_dict(opts, hardware=base)
        # resolve everything that can fail before any training starts
        from analogff.experiment import hyperparameters, make_device, make_periphery
        hp = hyperparameters(cfg)
        if not cfg.ideal:
            make_device(cfg)
            make_periphery(cfg)
        from analogff.data import load_dataset
        data = load_dataset(cfg.dataset, limit=cfg.limit, seed=cfg.seed)  # fails before the bar
        from analogff.boundary import check_output_dir, check_run
        check_run(cfg, hp, data)  # batch vs training set, labels, memory (analogff/boundary.py)
        if save_images_dir is not None:
            check_output_dir(save_images_dir, "--save-images")
        results = None
        if store is not None:  # a corrupt or foreign store fails here, before any training
            from analogff.store import ResultsStore
            results = ResultsStore(store)
            results.check_writable()
        from analogff.experiment import run_experiment

        from .progress import final_accuracy_line, run_with_progress
        record = run_with_progress(
            cfg, hp, err_console if json_out else console, monitor,
            lambda cb: run_experiment(cfg, cb, data=data, keep_network=True, monitor=monitor))
        net = record.pop("_network")
        if results is not None:
            results.add(record)
            results.close()
        if save_images_dir is not None:
            paths = save_images(net, save_images_dir, cfg.seed)
            err_console.print("images: " + ", ".join(str(p) for p in paths))
        if json_out:
            sys.stdout.write(json.dumps(record, default=float) + "\n")
        else:
            console.print(summary_table(record))
            pt = phase_table(record)
            if pt is not None:
                console.print(pt)
            from analogff.algorithms.protocol import summary_lines
            for line in summary_lines(record):  # energy to accuracy, best dev, unmatched
                console.print(line, markup=False, highlight=False)
            console.print(final_accuracy_line(record, monitor), highlight=False)
            if store is not None:
                console.print(f"record appended to {store}")
        for line in (capped_range_notes(record) + saturation_warnings(record)
                     + pulse_cap_warnings(record) + stream_clip_warnings(record)):
            err_console.print(line, markup=False, highlight=False, soft_wrap=True)
