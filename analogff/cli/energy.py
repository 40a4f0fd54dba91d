"""`analogff energy`: energy, latency and area of a network on described hardware (no training)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from device_models.checks import check_choice

from .common import (cli_errors, console, fail, field_help_cli, fmt_si, hardware_options,
                     options_given, resolve_hardware)


def register(app: typer.Typer) -> None:
    @app.command("energy")
    @cli_errors
    @hardware_options
    def energy(
        ctx: typer.Context,
        network: str = typer.Option("784,500,500,10", "--network",
                                    help="Layer sizes: input, hidden..., classes."),
        algo: str = typer.Option("pff", "--algo", help=field_help_cli("algo"), show_default=False),
        batch: int = typer.Option(100, "--batch", help="Images per training batch (updates "
                                  "are batch-summed); the digital baseline's batched "
                                  "inference uses the same batch."),
        steps: Optional[int] = typer.Option(None, "--steps", help=field_help_cli("steps")),
        preset: str = typer.Option("small", "--preset", help=field_help_cli("preset"),
                                   show_default=False),
        optimizer: Optional[str] = typer.Option(None, "--optimizer",
                                                help=field_help_cli("optimizer")),
        update: str = typer.Option("deterministic", "--update", help=field_help_cli("update"),
                                   show_default=False),
        pulse_density: Optional[float] = typer.Option(
            None, "--pulse-density", help="Write pulses per device per update call; default: "
            "the expected pulses of the algorithm's own updates."),
        fit_area: Optional[str] = typer.Option(
            None, "--fit-area", help="Die areas in mm², e.g. 10,50,100: print the widest "
            "network of --network's shape (its input, number of hidden layers and classes; "
            "every hidden layer that width) whose chip to train fits each, instead of "
            "pricing --network."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
        list_fields: bool = typer.Option(False, "--fields", help="List every hardware field "
                                         "(default, allowed values, meaning) and exit."),
        store: Optional[Path] = typer.Option(None, "--store", help="With --run: the results "
                                             "store holding the run."),
        run: Optional[int] = typer.Option(None, "--run", help="Price a stored run (its id in "
                                          "`analogff results`) instead of a network: its "
                                          "ledger on its own chip, the numbers simulate, "
                                          "results and report show."),
        hardware: Optional[Path] = None,
        hardware_overrides: Optional[dict] = None,
    ) -> None:
        """Energy, latency, area and TOPS/W of a network on a described chip, vs digital.

        Runs the real algorithm (one training batch of --batch images and one inference) on
        the counting backend, which records the events an analog run would (conversions per
        tile, cell reads, expected pulses, digital work) without the analog arithmetic, and
        prices them with the same function that prices simulated runs. Prints the result per
        phase and per component, next to int8 and fp16 digital accelerators (inference at
        batch 1 and batched).
        """
        from analogff.config import UPDATES
        from analogff.errors import ConfigError
        from analogff.estimate import estimate
        from crossbar.chip import UNPRICED_FIELDS

        if list_fields:
            _print_fields()
            return
        if run is not None or store is not None:
            if run is None or store is None:
                raise ConfigError("--store and --run go together: --store results.db --run ID")
            if hardware is not None or hardware_overrides:
                raise ConfigError("--run prices the run on the chip it was simulated on; "
                                  "--hardware and hardware options do not apply")
            given = options_given(ctx, _NETWORK_OPTIONS)
            if given:
                raise ConfigError(f"{given[0]} does not apply with --run (the run is priced as "
                                  "it was trained: its own network, algorithm and batch); "
                                  "drop it")
            est = _stored_run(store, run)
            if as_json:
                typer.echo(json.dumps(est.to_dict(), indent=2, default=float))
            else:
                _print(est)
            return
        unpriced = [f for f in UNPRICED_FIELDS if f in (hardware_overrides or {})]
        if unpriced:
            raise ConfigError(f"--{unpriced[0].replace('_', '-')} only changes a simulated run "
                              "(through its events); energy prices the chip without simulating "
                              "it: drop it, or use analogff simulate")
        hw = resolve_hardware(hardware, hardware_overrides or {})
        try:
            sizes = [int(s) for s in network.split(",") if s.strip()]
        except ValueError:
            raise fail(f"--network {network!r} must be comma-separated layer sizes, "
                       "e.g. 784,500,500,10") from None
        check_choice("--update", update, UPDATES, error=ConfigError)
        if fit_area is not None:
            moot = options_given(ctx, ("steps", "pulse_density"))
            if moot:
                raise ConfigError(f"{moot[0]} does not change the chip's area; drop it with "
                                  "--fit-area")
            _fit_areas(hw, sizes, algo.lower(), fit_area, batch=batch, preset=preset,
                       optimizer=optimizer, update=update, as_json=as_json)
            return
        est = estimate(hw, sizes, algo.lower(), batch=batch, K=steps, preset=preset,
                       optimizer=optimizer, update=update, pulse_density=pulse_density)
        if as_json:
            typer.echo(json.dumps(est.to_dict(), indent=2, default=float))
            return
        _print(est)


# what `energy` prices when it prices a network, not a stored run
_NETWORK_OPTIONS = ("network", "algo", "batch", "steps", "preset", "optimizer", "update",
                    "pulse_density", "fit_area")


def _fit_areas(hw, sizes: list[int], algo: str, areas: str, *, batch: int, preset: str,
               optimizer, update: str, as_json: bool) -> None:
    """The widest network of ``sizes``' shape whose chip to train fits each area
    (`analogff.scaling.largest_width`)."""
    from analogff.errors import ConfigError
    from analogff.scaling import Shape, largest_width

    try:
        limits = [float(a) for a in areas.split(",") if a.strip()]
    except ValueError:
        limits = []
    if not limits or not all(0 < a < 1e6 for a in limits):
        raise ConfigError(f"--fit-area {areas!r} must be die areas in mm² between 0 and 1e6, "
                          "e.g. 10,50,100")
    if len(sizes) < 3:
        raise ConfigError(f"--network {','.join(map(str, sizes))} needs an input, at least one "
                          "hidden layer and the classes, e.g. 784,500,500,10")
    shape = Shape(n_in=sizes[0], n_classes=sizes[-1], depth=len(sizes) - 2)
    known: dict[int, float] = {}
    fits = [{"area_limit_mm2": a, **largest_width(hw, algo, a, shape, batch=batch, known=known,
                                                  optimizer=optimizer, update=update,
                                                  preset=preset)} for a in limits]
    if as_json:
        typer.echo(json.dumps({"hardware": hw.to_dict(), "algo": algo, "n_in": shape.n_in,
                               "hidden_layers": shape.depth, "n_classes": shape.n_classes,
                               "batch": batch, "fits": fits}, indent=2, default=float))
        return
    t = _table(f"Widest {shape.n_in}-w×{shape.depth}-{shape.n_classes} network whose chip to "
               f"train {algo.upper()} fits (batch {batch})", "die", "width w", "its chip",
               "w + step needs")
    for f in fits:
        nxt = "-" if f["next_width"] is None else \
            f"{f['next_width']}: {f['next_area_mm2']:.4g} mm²"
        w = str(f["width"]) + (" (the search's widest, still fits)" if f["capped"] else
                               "" if f["converged"] else " (bracket)")
        t.add_row(f"{f['area_limit_mm2']:g} mm²", w, f"{f['area_mm2']:.4g} mm²", nxt)
    t.caption = ("chip to train: every matrix's tiles, transposed periphery where read "
                 "transposed, SRAM sized to the peak buffer; exact: w fits, w + step does not")
    console.print(t)


def _stored_run(store: Path, run: int):
    """A stored run priced by `reports.run_energy.price_run` (as the runner priced it)."""
    from analogff.errors import AnalogffError
    from analogff.estimate import EnergyEstimate
    from analogff.store import ResultsStore
    from crossbar.chip import HardwareError
    from reports import tile_mvm
    from reports.run_energy import hardware_of_record, price_run

    with ResultsStore(store, create=False) as st:
        recs = st.records(where=f"id={int(run)}")
    if not recs:
        raise AnalogffError(f"{store} has no run with id {run}; list them with "
                            f"analogff results {store}")
    rec = recs[0]
    if rec.get("status") != "done" or not isinstance(rec.get("ledger"), dict):
        raise AnalogffError(f"run {run} in {store} did not finish; nothing to price")
    try:
        hw = hardware_of_record(rec)
    except (HardwareError, TypeError) as exc:   # a field since renamed, removed or refused
        raise AnalogffError(f"run {run} in {store}: this version cannot read its stored chip "
                            f"({exc}); results and report show its stored energy") from None
    if hw is None:
        raise AnalogffError(f"run {run} in {store} was written before runs stored their chip "
                            "(record schema 1); re-run it with this version to price it")
    s = rec["samples"]
    batch = int((rec.get("energy") or {}).get("digital_inference_batch")
                or rec["hyperparameters"]["batch_size"])
    rp = price_run(rec["ledger"], hw, train_samples=max(int(s["train_total"]), 1),
                   test_samples=max(int(s["test"]), 1), inference_batch=batch)
    hp = rec.get("hyperparameters") or {}
    return EnergyEstimate(hardware=hw, network=tuple(hp.get("hidden") or ()),
                          algo=rec["config"]["algo"], batch=batch, K=hp.get("steps"),
                          price=rp, tile=tile_mvm(hw),
                          source=f"run {run} of {store} ({s['train_total']:,} training "
                                 f"samples, {s['test']:,} inferences)")


def _print_fields() -> None:
    from rich.table import Table

    from crossbar.chip import field_specs

    t = Table(title="Hardware fields: one chip for simulate, sweep, report and energy "
              "(TOML: top-level keys or a \\[hardware] table, example: "
              "reports/hardware_example.toml; options: --FIELD-NAME; sweeps: --grid "
              "field=v1,v2)", title_justify="left")
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
    what = est.source or ",".join(map(str, est.network))
    console.print(f"[bold]{est.algo.upper()}[/] on {what} · "
                  f"{hw.node_nm} nm · device {hw.device} · tiles {hw.tile_rows}×{hw.tile_cols} · "
                  f"DAC {hw.dac_bits} b ({hw.input_mode}) · ADC {hw.adc_bits} b "
                  f"{hw.adc_type.upper()} / {hw.cols_per_adc} cols · batch {est.batch}"
                  + (f" · K {est.K}" if est.K else ""))
    from analogff.pulse_cap import priced_batch_note
    from analogff.saturation import capped_range_notes
    for line in capped_range_notes({"ledger": est.train_ledger,
                                    "hardware": {"out_bound": hw.out_bound}}):
        console.print(line)
    note = None if est.source else priced_batch_note(est.train_ledger, hw.update_slots)
    if note is not None:   # a stored run's own counts: `simulate` and `results` name them
        console.print(note, markup=False, highlight=False)

    t = _table("Energy and latency", "quantity", "per training sample", "per inference")
    t.add_row("[bold]analog total[/]", fmt_si(est.train_j, "J"), fmt_si(est.inference_j, "J"))
    t.add_row("latency (throughput)", fmt_si(est.train["latency_s"], "s"),
              fmt_si(est.inference["latency_s"], "s"))
    def ratio(v: float, ref: float) -> str:
        return f"{v / ref:.3g}×" if ref else "-"

    for prec, d in est.digital.items():
        tr = d["train"]["total_j"]
        for key, label in (("inference_batch1", "batch 1"),
                           ("inference_batched", f"batch {est.batch}")):
            inf = d[key]["total_j"]
            t.add_row(f"digital {prec}, inference {label}", fmt_si(tr, "J"), fmt_si(inf, "J"))
            t.add_row(f"  ratio digital {prec} ({label}) / analog", ratio(tr, est.train_j),
                      ratio(inf, est.inference_j))
    t.caption = ("digital training fetches the weights once per update; inference at batch "
                 f"1 fetches them per vector, batched once per {est.batch} vectors; the analog "
                 "chip does not depend on the batch")
    console.print(t)

    from analogff.algorithms import get

    order = {ph: i for i, ph in enumerate(get(est.algo).phases)}   # the registry's phases
    t = _table("Energy per phase", "phase", "energy", "share", "latency")
    for scope, p in (("train", est.train), ("inference", est.inference)):
        tot = p["total_j"] or 1.0
        for ph, v in sorted(p["by_phase_j"].items(), key=lambda kv: order.get(kv[0], -1)):
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

    mem, tc = est.price.memory, est.price.training_chip
    if mem and tc:   # on-chip memory and the chip this algorithm needs to train
        t = _table(f"Memory and the chip to train (total {tc['area_mm2']:.3g} mm²)",
                   "quantity", "value")
        t.add_row("peak buffer (activations, errors)", fmt_si(mem["peak_activation_bits"], "bit"))
        t.add_row("peak buffer (per-weight optimiser state)", fmt_si(mem["peak_state_bits"], "bit"))
        t.add_row("bits moved per training sample", fmt_si(mem["moved_bits_per_train_sample"], "bit"))
        for k, v in tc["area_breakdown_mm2"].items():
            t.add_row(f"area: {k}", f"{v:.4g} mm²")
        t.caption = ("transposed-read periphery only on matrices the algorithm reads transposed; "
                     "SRAM sized to the peak buffer"
                     + ("" if tc["buffer_fits_sram"] else
                        f" (exceeds the chip's sram_kb = {hw.sram_kb:g} KiB)"))
        console.print(t)

    tl = est.tile
    level = ("core level: macro + I/O buffer + post-processing" if hw.scope == "core"
             else "macro level, no buffers")
    t = _table(f"One {hw.tile_rows}×{hw.tile_cols} tile MVM ({level})", "metric", "value")
    t.add_row("energy", fmt_si(tl["energy_j"], "J"))
    t.add_row("energy per MAC", f"{tl['fj_per_mac']:.3g} fJ")
    t.add_row("latency (one vector)", fmt_si(tl["latency_s"], "s"))
    if "period_s" in tl:   # vectors stream one per period: the throughput
        t.add_row("period (throughput)", fmt_si(tl["period_s"], "s") + f", {tl['tops']:.3g} TOPS")
    t.add_row("area", f"{tl['area_mm2']:.4g} mm²")
    t.add_row("TOPS/W", f"{tl['tops_per_w']:.3g}")
    t.add_row("TOPS/mm²", f"{tl['tops_per_mm2']:.3g}")
    console.print(t)
    pd = est.pulse_density
    pulses = (f"{pd:g} write pulses per device per update (--pulse-density)" if pd is not None
              else "the expected write pulses of the algorithm's own updates")
    src = ("the run's own ledger, as simulated" if est.source else
           f"the real {est.algo.upper()} on the counting backend (one training batch, one "
           f"inference; {pulses})")
    console.print(f"[dim]Events: {src}; model and sources: reports/README.md[/]")
