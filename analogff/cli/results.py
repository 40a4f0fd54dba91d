"""`analogff results STORE`: list, filter, group over seeds (mean ± 95 % t-interval, n) and
export runs."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from device_models.checks import check_number

from .common import cli_errors, console, print_flagged

# column -> (header, kind): kind "pct" = fraction printed as %, "si:<unit>" = SI prefix
_METRICS = {
    "test_accuracy": ("acc %", "pct"),
    "train_accuracy": ("train acc %", "pct"),
    "energy_per_train_sample_j": ("E/train", "si:J"),
    "energy_per_inference_j": ("E/infer", "si:J"),
    "wall_s": ("wall", "si:s"),
}
# derived from the run record (`reports.report.hardware_metrics`): --hw shows these
_HW_METRICS = {
    "latency_per_inference_s": ("t/infer", "si:s"),
    "tops_per_w": ("TOPS/W", "num"),
    "tops_per_mm2": ("TOPS/mm²", "num"),
    "area_mm2": ("mm²", "num"),
    "peak_buffer_bits": ("buf bit", "si:bit"),
    "train_chip_mm2": ("train mm²", "num"),
}
_GROUP_METRICS = ("test_accuracy", "energy_per_train_sample_j", "energy_per_inference_j")
# what the short headers mean, printed under every table
_LEGEND = ("acc % = test accuracy (%); E/train, E/infer = analog energy (J) per training "
           "sample / per inference; wall = wall-clock time (s)")
_HW_LEGEND = ("acc % = test accuracy (%); t/infer = latency per inference (s); TOPS/W, "
              "TOPS/mm² per inference (1 MAC = 2 ops); mm² = chip area; buf bit = peak "
              "on-chip buffer while training; train mm² = the chip this algorithm needs to "
              "train (transposed periphery only where read transposed, SRAM = peak buffer)")
_ALWAYS = ("id",)
_HIDDEN_CONFIG = ("seed",)
# a matched comparison's family is shown whenever a run has one, even if every run shares it
_SHOWN_IF_SET = ("matched",)
# energy to accuracy (runs with --curve): one column per test-accuracy target in the records,
# named by reports.report.target_key (energy_to_<pct>pct_j), as in the report's table
_TARGET_PREFIX = "energy_to_"


def _target_header(col: str) -> str:
    return f"E→{col[len(_TARGET_PREFIX):-len('pct_j')]}%"


_TARGET_LEGEND = ("E→90% = cumulative training energy (J) until the test accuracy first "
                  "reached 90 % (end of that epoch; runs with --curve; – = never reached)")


def mean_ci(values) -> tuple[float, float, int]:
    """Mean, half-width of the 95 % confidence interval (Student t over n-1 dof) and n.
    The half-width is NaN for fewer than two finite values."""
    from reports.stats import t_interval

    return t_interval(values)


def group_table(df, keys: list[str], metrics=_GROUP_METRICS):
    """One row per configuration: ``keys`` plus every other configuration column that varies
    (runs that differ in anything but the seed are never pooled), ``n``, ``few_seeds`` and
    ``<metric>_mean`` / ``<metric>_ci95`` (t-interval half-width over the seeds).
    Returns ``(table, added_keys)``."""
    from analogff.store import CONFIG_COLUMNS
    from reports.stats import seed_groups

    cols = list(CONFIG_COLUMNS) + (["mode"] if "mode" in df.columns else [])
    out, _keys, added = seed_groups(df, cols, list(metrics), by=keys)
    out = out.rename(columns={f"{m}_ci": f"{m}_ci95" for m in metrics})
    return out, added


def _cell(v: Any, kind: str) -> str:
    from reports.stats import si

    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if kind == "pct":                 # the header says (%)
        return f"{100 * v:.1f}"
    if kind.startswith("si:"):
        return si(v, kind[3:])
    return f"{v:.3g}"


def _pm(mean: Any, half: Any, kind: str) -> str:
    """``mean ± half`` with one unit, the half-width in the mean's SI prefix."""
    from reports.stats import si_scale

    m = _cell(mean, kind)
    if half is None or not isinstance(half, float) or not math.isfinite(half) or m == "–":
        return m
    if kind == "pct":
        return f"{100 * mean:.1f}±{100 * half:.1f}"
    if kind.startswith("si:"):
        f, unit = si_scale(abs(mean) or abs(half), kind[3:])
        return f"{_fixed_pm(mean / f, half / f)} {unit}"
    return _fixed_pm(mean, half)


def _fixed_pm(mean: float, half: float) -> str:
    """``mean±half`` in fixed point, both to the decimals that give the mean three significant
    digits (``508±240``, ``5.08±0.31``): an exponent on the half-width alone (``2.4e+02``) read
    as a different scale from the mean."""
    d = 0 if mean == 0 else max(0, 2 - math.floor(math.log10(abs(mean))))
    return f"{mean:.{d}f}±{half:.{d}f}"


def _fmt(v: Any, fmt: str = "{}", scale: float = 1.0) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return fmt.format(v * scale if scale != 1.0 else v)
    from rich.markup import escape

    return escape(str(v))


def _write_atomic(df, path: Path, kind: str) -> None:
    from analogff.errors import AnalogffError

    path = Path(path)
    if not path.parent.exists():
        raise AnalogffError(f"cannot write {path}: directory {str(path.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    os.close(fd)
    try:
        if kind == "csv":
            df.to_csv(tmp, index=False)
        else:
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise AnalogffError("--parquet needs pyarrow: pip install pyarrow") from None
            df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _table(title: str, hw: bool = False, targets: bool = False):
    from rich import box
    from rich.table import Table

    # a compact frame so that the usual study (a few knobs) fits an 80-column terminal
    return Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
                 title_justify="left", collapse_padding=True,
                 caption=(_HW_LEGEND if hw else _LEGEND) + ("; " + _TARGET_LEGEND
                                                            if targets else ""),
                 caption_justify="left")


def register(app: typer.Typer) -> None:
    @app.command("results")
    @cli_errors
    def results(
        store: Annotated[Path, typer.Argument(help="Results store written by analogff sweep.")],
        where: Annotated[Optional[str], typer.Option(
            "--where", help="Filter: <column> <op> <value> clauses joined by and/or, e.g. "
                            "\"adc_bits>=6 and algo=pff\" (ops: = != < <= > >=).")] = None,
        group_by: Annotated[Optional[str], typer.Option(
            "--group-by", help="Comma-separated columns, e.g. noise,algo: one row per "
                               "configuration with mean ± 95 % t-interval over its seeds and "
                               "n. Every other column that varies is added to the grouping "
                               "(runs that differ in anything but the seed are never pooled); "
                               "n < 3 is flagged. Finished runs only. Energy to an accuracy "
                               "target is the mean over the seeds that reached it (k/n).")] = None,
        hw: Annotated[bool, typer.Option(
            "--hw", help="Show inference latency, TOPS/W, TOPS/mm² and chip area (from each "
                         "run's priced record) instead of the energy columns.")] = False,
        csv: Annotated[Optional[Path], typer.Option(
            "--csv", help="Also write the rows (or the groups) to this CSV file.")] = None,
        parquet: Annotated[Optional[Path], typer.Option(
            "--parquet", help="Also write the rows (or the groups) to this Parquet file.")] = None,
        limit: Annotated[int, typer.Option(
            "--limit", help="Show at most this many rows (exports are complete).")] = 200,
    ) -> None:
        """List the runs in a results store: varied parameters, accuracy, energy, time.

        Units: accuracies in %, energies in J and times in s with SI
        prefixes (µJ, nJ, ms); exports (--csv, --parquet) keep plain SI
        numbers (fractions, J, s).

        Matched comparisons (simulate/sweep --matched): the family column
        (pulsed | mixed | adam) is shown whenever a run has one; filter with
        --where "matched=adam", group with --group-by matched,algo. Runs made
        with --curve add energy to accuracy: E→50% ... E→95% = cumulative
        training energy until the test accuracy first reached that target
        (exported as energy_to_<target>pct_j, J).

        ADC saturation: runs with a matrix whose ADCs clipped more than 5 %
        of its conversions, and runs whose widened ADC range was capped at
        full scale, are listed under the table (as sweep lists its points);
        exports carry adc_saturation_worst (fraction),
        adc_saturation_worst_matrix and adc_range_capped for every run.

        Pulse cap: runs with a matrix whose updates asked for more pulses
        than the chip's update slots for over 5 % of its weights are listed
        under the table; exports carry pulse_cap_worst (fraction of that
        matrix's weight updates cut to the slots) and pulse_cap_worst_matrix.
        """
        from analogff.errors import AnalogffError
        from analogff.store import ResultsStore

        if not store.exists():
            raise AnalogffError(f"results store {str(store)!r} does not exist; create it with "
                                f"analogff sweep --store {store}")
        from analogff.boundary import check_output_file
        check_number("--limit", limit, 0, None, integer=True, unit="rows", error=AnalogffError)
        for opt, path in (("--csv", csv), ("--parquet", parquet)):  # before any work
            if path is not None:
                check_output_file(path, opt)
        import sqlite3

        with ResultsStore(store, create=False) as st:
            try:
                df = st.to_dataframe(where=where, include_record=True)
            except sqlite3.DatabaseError as exc:
                raise AnalogffError(f"{store} is a corrupt analogff results store (SQLite says: "
                                    f"{exc}); it was left untouched") from None
            columns = st.columns
        recs = _parsed_records(df)
        df = _complete_config(df, recs)
        if hw:
            df = _add_hw_metrics(df, recs)
        targets = [] if hw or recs is None else _add_curve_metrics(df, recs)
        flagged = ([], []) if recs is None else _add_adc_metrics(df, recs)
        cut = [] if recs is None else _add_pulse_cap_metrics(df, recs)
        df = df.drop(columns=["record"], errors="ignore")
        # `analogff deploy` records (float-trained, then programmed) are a mode of their own:
        # never pooled with runs trained on the devices
        df["mode"] = ["deploy" if str(h).startswith("deploy-") else "train"
                      for h in df["config_hash"]]
        metrics = (("test_accuracy",) + tuple(_HW_METRICS)) if hw else _GROUP_METRICS
        title = f"{store}: {len(df)} run{'s' if len(df) != 1 else ''}" + (
            f" where {where}" if where else "")

        if group_by is not None:
            keys = [k.strip().replace("-", "_") for k in group_by.split(",") if k.strip()]
            if not keys:
                raise AnalogffError("--group-by is empty; e.g. --group-by noise,algo")
            bad = [k for k in keys if k not in columns or k == "record"]
            if bad:
                raise AnalogffError(f"--group-by: unknown column {bad[0]!r}; known: "
                                    f"{', '.join(c for c in columns if c != 'record')}")
            done = df[df["status"] == "done"]
            if not len(done):
                console.print(f"no finished runs to group in {title}", highlight=False)
                return
            reached = [f"{t}_reached" for t in targets]
            out, added = group_table(done, keys, tuple(metrics) + tuple(targets) + tuple(reached))
            _print_groups(out, keys + added, added, metrics, title, targets)
            export = out
        else:
            if not len(df):
                console.print(f"no runs in {title}", highlight=False)
            else:
                _print_runs(df, title, limit, hw, targets)
            export = df.drop(columns=[f"{t}_reached" for t in targets], errors="ignore")
        _print_adc_flags(*flagged)
        if cut:
            from analogff.pulse_cap import cut_heading

            print_flagged(cut_heading(len(cut), "run"), cut)
        if csv is not None:
            _write_atomic(export, csv, "csv")
            console.print(f"wrote {csv}", highlight=False)
        if parquet is not None:
            _write_atomic(export, parquet, "parquet")
            console.print(f"wrote {parquet}", highlight=False)


def _parsed_records(df) -> list[dict] | None:
    """Every run's record, parsed once for the columns read from it ({} for a run without
    one); None when the rows carry no records."""
    import json

    if "record" not in df.columns:
        return None
    return [json.loads(r) if isinstance(r, str) else {} for r in df["record"]]


def _complete_config(df, recs):
    """Config fields a store created by an older analogff has no column for (e.g. a device
    override added since), read from each run's record, so that grouping sees every field
    (runs that differ in one are never pooled)."""
    from analogff.store import CONFIG_COLUMNS

    missing = [c for c in CONFIG_COLUMNS if c not in df.columns]
    if not missing or recs is None:
        return df
    cfgs = [r.get("config") or {} for r in recs]
    for c in missing:
        df[c] = [cf.get(c) for cf in cfgs]
    return df


def _add_hw_metrics(df, recs):
    """Latency per inference, TOPS/W, TOPS/mm² and area of every run, from its record."""
    from reports.report import hardware_metrics

    rows = [hardware_metrics(r) if r else {} for r in recs or [{}] * len(df)]
    for k in _HW_METRICS:
        df[k] = [r.get(k, math.nan) for r in rows]
    return df


def _add_adc_metrics(df, recs) -> tuple[list, list]:
    """ADC saturation of every run from its record (`analogff.saturation`): the share of its
    conversions the worst-clipping matrix saturated (``adc_saturation_worst``, a fraction;
    NaN for runs without converters, the ideal twin), that matrix
    (``adc_saturation_worst_matrix``) and the matrices whose widened range was capped at full
    scale (``adc_range_capped``, comma-separated). Returns the runs to flag under the table,
    as (run, what) pairs: (clipping beyond SATURATION_WARN_FRACTION, capped ranges)."""
    from analogff.saturation import SATURATION_WARN_FRACTION, capped_ranges, worst_matrix

    worst = [worst_matrix(r.get("ledger") or {}) for r in recs]
    capped = [sorted(capped_ranges(r)) for r in recs]
    df["adc_saturation_worst"] = [w[1] if w else math.nan for w in worst]
    df["adc_saturation_worst_matrix"] = [w[0] if w else "" for w in worst]
    df["adc_range_capped"] = [", ".join(c) for c in capped]
    capped_runs = [(f"run {i}", ", ".join(c)) for i, c in zip(df["id"], capped) if c]
    return _runs_beyond(df["id"], worst, SATURATION_WARN_FRACTION), capped_runs


def _add_pulse_cap_metrics(df, recs) -> list:
    """Pulse trains cut to the chip's update slots in every run, from its record
    (`analogff.pulse_cap`): the worst matrix's share of its weight updates
    (``pulse_cap_worst``, a fraction; NaN for runs without analog updates, and for records
    from before the count existed) and that matrix (``pulse_cap_worst_matrix``). Returns the
    runs to flag under the table (beyond CAP_WARN_FRACTION), as (run, what) pairs."""
    from analogff.pulse_cap import CAP_WARN_FRACTION, worst_capped_matrix

    worst = [worst_capped_matrix(r.get("ledger") or {})
             if "trains_capped" in (r.get("counts") or {}) else None for r in recs]
    df["pulse_cap_worst"] = [w[1] if w else math.nan for w in worst]
    df["pulse_cap_worst_matrix"] = [w[0] if w else "" for w in worst]
    return _runs_beyond(df["id"], worst, CAP_WARN_FRACTION)


def _runs_beyond(ids, worst: list, limit: float) -> list[tuple[str, str]]:
    """(run, its worst matrix and share) for the runs whose worst (matrix, share), or None,
    is beyond ``limit``: the lines under the table."""
    from analogff.saturation import share_text

    return [(f"run {i}", share_text(*w)) for i, w in zip(ids, worst) if w and w[1] > limit]


def _print_adc_flags(clipping: list, capped: list) -> None:
    """Under the table, as `analogff sweep` says them after its points: runs with a matrix
    that clipped often, runs whose widened ADC range was capped."""
    from analogff.saturation import capped_heading, clipping_heading

    if clipping:
        print_flagged(clipping_heading(len(clipping), "run"), clipping)
    if capped:
        print_flagged(capped_heading(len(capped), "run", "these matrices"), capped)


def _add_curve_metrics(df, recs) -> list[str]:
    """Energy to each accuracy target from every run's record (``curve.energy_to_targets``,
    J; NaN where the target was never reached or the run has no curve), plus
    ``<column>_reached`` (1/0, NaN without a curve) so that groups count the seeds that got
    there. Returns the energy columns, lowest target first."""
    from reports.report import target_columns, target_key

    curves = [r.get("curve") or {} for r in recs]
    targets = sorted({t for c in curves for t in (c.get("energy_to_targets") or {})},
                     key=float)
    runs = [target_columns(c) for c in curves]
    cols = [target_key(t) for t in targets]
    for col in cols:
        for k in (col, f"{col}_reached"):
            df[k] = [r.get(k, math.nan) for r in runs]
    return cols


def _print_groups(out, keys: list[str], added: list[str], metrics, title: str,
                  targets=()) -> None:
    from reports.stats import MIN_SEEDS, few_seeds_note

    kinds = {**_METRICS, **_HW_METRICS}
    t = _table(f"{title}, per configuration (mean ± 95 % t-interval over seeds)",
               hw="tops_per_w" in metrics, targets=bool(targets))
    for k in keys:
        t.add_column(k, no_wrap=True, min_width=min(len(k), 8))
    t.add_column("n", justify="right")
    for m in metrics:
        t.add_column(kinds[m][0], justify="right", no_wrap=True)
    for c in targets:
        t.add_column(_target_header(c), justify="right", no_wrap=True)
    for r in out.to_dict("records"):
        n = int(r["n"])
        cells = [_fmt(r[k]) for k in keys]
        cells.append(f"[bold red]{n}![/]" if n < MIN_SEEDS else str(n))
        for m in metrics:
            cells.append(_pm(r[f"{m}_mean"], r[f"{m}_ci95"], kinds[m][1]))
        for c in targets:
            cells.append(_reached_cell(r, c, n))
        t.add_row(*cells)
    console.print(t)
    if added:
        console.print(f"also grouped by {', '.join(added)}: runs that differ in anything but "
                      "the seed are never pooled", highlight=False)
    note = few_seeds_note(out)
    if note:
        console.print(f"[bold red]{note.split(':', 1)[0]}[/]:{note.split(':', 1)[1]}",
                      highlight=False)


def _reached_cell(r: dict, col: str, n: int) -> str:
    """``mean±ci unit (k/n)`` over the seeds that reached the target, or ``– (0/n)``."""
    frac = r.get(f"{col}_reached_mean")
    if frac is None or not math.isfinite(frac):
        return "–"                                  # no run of this group has a curve
    k = int(round(frac * n))
    return f"{_pm(r[f'{col}_mean'], r[f'{col}_ci95'], 'si:J')} ({k}/{n})"


def _print_runs(df, title: str, limit: int, hw: bool = False, targets=()) -> None:
    from analogff.store import CONFIG_COLUMNS

    varied = [c for c in list(CONFIG_COLUMNS) + ["mode"] if c in df.columns
              and c not in _HIDDEN_CONFIG and (df[c].astype(str).nunique(dropna=False) > 1
                                               or (c in _SHOWN_IF_SET and df[c].notna().any()))]
    if "algo" not in varied:
        varied.insert(0, "algo")
    show_status = bool((df["status"] != "done").any())
    cols = list(_ALWAYS) + (["status"] if show_status else []) + varied + ["seed"]
    t = _table(title, hw, targets=bool(targets))
    for c in cols:
        t.add_column(c, justify="right" if c in ("id", "seed") else "left", no_wrap=True,
                     min_width=min(len(c), 8))
    shown = {"test_accuracy": _METRICS["test_accuracy"]}
    if hw:
        shown.update(_HW_METRICS)
    else:
        shown.update({m: v for m, v in _METRICS.items() if m not in ("train_accuracy",
                                                                      "test_accuracy")})
        shown.update({c: (_target_header(c), "si:J") for c in targets})
    for m, (header, _kind) in shown.items():
        t.add_column(header, justify="right", no_wrap=True, min_width=len(header))
    errors = []
    for r in df.head(limit).to_dict("records"):
        cells = [_fmt(r[c]) for c in cols]
        if show_status and r["status"] == "failed":
            cells[1] = "[red]failed[/]"
        for m, (_, kind) in shown.items():
            cells.append(_cell(r.get(m), kind))
        if isinstance(r["error"], str) and r["error"]:
            errors.append(f"run {r['id']} ({r['config_hash']}) failed: {_fmt(r['error'])}")
        t.add_row(*cells)
    console.print(t)
    for line in errors:
        console.print(line, highlight=False)
    if len(df) > limit:
        console.print(f"... {len(df) - limit} more rows (use --where, --limit or --csv)")
