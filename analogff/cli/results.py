"""`analogff results STORE`: list, filter, group (mean ± 95 % CI over seeds) and export runs."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .common import cli_errors, console

# column -> (header with unit, scale, format)
_METRICS = {
    "test_accuracy": ("test acc (%)", 100.0, "{:.2f}"),
    "train_accuracy": ("train acc (%)", 100.0, "{:.2f}"),
    "energy_per_train_sample_j": ("E/train (J)", 1.0, "{:.3g}"),
    "energy_per_inference_j": ("E/infer (J)", 1.0, "{:.3g}"),
    "wall_s": ("wall (s)", 1.0, "{:.1f}"),
}
_GROUP_METRICS = ("test_accuracy", "energy_per_train_sample_j", "energy_per_inference_j")
_ALWAYS = ("id", "status")
_HIDDEN_CONFIG = ("seed",)


def mean_ci(values) -> tuple[float, float, int]:
    """Mean, half-width of the 95 % confidence interval (Student t over n-1 dof) and n.
    The half-width is NaN for fewer than two finite values."""
    import numpy as np
    from scipy import stats

    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    n = int(v.size)
    if n == 0:
        return math.nan, math.nan, 0
    m = float(v.mean())
    if n < 2:
        return m, math.nan, n
    half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return m, half, n


def group_table(df, keys: list[str]):
    """One row per group: keys, n, and ``<metric>_mean`` / ``<metric>_ci95`` columns."""
    import pandas as pd

    rows = []
    for gkey, sub in df.groupby(keys, dropna=False, sort=True):
        gkey = gkey if isinstance(gkey, tuple) else (gkey,)
        row: dict[str, Any] = dict(zip(keys, gkey))
        row["n"] = len(sub)
        for m in _GROUP_METRICS:
            mean, half, _ = mean_ci(sub[m].tolist())
            row[f"{m}_mean"] = mean
            row[f"{m}_ci95"] = half
        rows.append(row)
    return pd.DataFrame(rows)


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


def register(app: typer.Typer) -> None:
    @app.command("results")
    @cli_errors
    def results(
        store: Annotated[Path, typer.Argument(help="Results store written by analogff sweep.")],
        where: Annotated[Optional[str], typer.Option(
            "--where", help="Filter: <column> <op> <value> clauses joined by and/or, e.g. "
                            "\"adc_bits>=6 and algo=pff\" (ops: = != < <= > >=).")] = None,
        group_by: Annotated[Optional[str], typer.Option(
            "--group-by", help="Comma-separated columns, e.g. noise,algo: mean ± 95 % CI "
                               "(t-distribution over the remaining runs, i.e. seeds) of test "
                               "accuracy and energy; finished runs only.")] = None,
        csv: Annotated[Optional[Path], typer.Option(
            "--csv", help="Also write the rows (or the groups) to this CSV file.")] = None,
        parquet: Annotated[Optional[Path], typer.Option(
            "--parquet", help="Also write the rows (or the groups) to this Parquet file.")] = None,
        limit: Annotated[int, typer.Option(
            "--limit", help="Show at most this many rows (exports are complete).")] = 200,
    ) -> None:
        """List the runs in a results store: varied parameters, accuracy, energy, time."""
        from rich.table import Table

        from analogff.errors import AnalogffError
        from analogff.store import ResultsStore

        if not store.exists():
            raise AnalogffError(f"results store {str(store)!r} does not exist; create it with "
                                f"analogff sweep --store {store}")
        import sqlite3

        with ResultsStore(store, create=False) as st:
            try:
                df = st.to_dataframe(where=where)
            except sqlite3.DatabaseError as exc:
                raise AnalogffError(f"{store} is a corrupt analogff results store (SQLite says: "
                                    f"{exc}); it was left untouched") from None
            columns = st.columns
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
            out = group_table(done, keys) if len(done) else None
            if out is None or not len(out):
                console.print(f"no finished runs to group in {title}", highlight=False)
                return
            t = Table(title=f"{title}, grouped by {', '.join(keys)} (mean ± 95 % CI)")
            for k in keys:
                t.add_column(k)
            t.add_column("n", justify="right")
            for m in _GROUP_METRICS:
                t.add_column(_METRICS[m][0], justify="right")
            for r in out.to_dict("records"):
                cells = [_fmt(r[k]) for k in keys] + [str(int(r["n"]))]
                for m in _GROUP_METRICS:
                    _, scale, fmt = _METRICS[m]
                    cells.append(f"{_fmt(r[f'{m}_mean'], fmt, scale)} ± "
                                 f"{_fmt(r[f'{m}_ci95'], fmt, scale)}")
                t.add_row(*cells)
            console.print(t)
            export = out
        else:
            if not len(df):
                console.print(f"no runs in {title}", highlight=False)
            else:
                _print_runs(df, title, limit)
            export = df
        if csv is not None:
            _write_atomic(export, csv, "csv")
            console.print(f"wrote {csv}", highlight=False)
        if parquet is not None:
            _write_atomic(export, parquet, "parquet")
            console.print(f"wrote {parquet}", highlight=False)


def _print_runs(df, title: str, limit: int) -> None:
    from rich.table import Table

    from analogff.store import CONFIG_COLUMNS

    varied = [c for c in CONFIG_COLUMNS if c in df.columns and c not in _HIDDEN_CONFIG
              and df[c].astype(str).nunique(dropna=False) > 1]
    if "algo" not in varied:
        varied.insert(0, "algo")
    cols = list(_ALWAYS) + varied + ["seed"]
    t = Table(title=title)
    for c in cols:
        t.add_column(c, justify="right" if c in ("id", "seed") else "left")
    shown = {m: v for m, v in _METRICS.items() if m != "train_accuracy"}  # exports have all
    for m, (header, _, _) in shown.items():
        t.add_column(header, justify="right")
    errors = []
    for r in df.head(limit).to_dict("records"):
        cells = [_fmt(r[c]) for c in cols]
        if cells[1] == "failed":
            cells[1] = "[red]failed[/]"
        for m, (_, scale, fmt) in shown.items():
            cells.append(_fmt(r[m], fmt, scale))
        if isinstance(r["error"], str) and r["error"]:
            errors.append(f"run {r['id']} ({r['config_hash']}) failed: {_fmt(r['error'])}")
        t.add_row(*cells)
    console.print(t)
    for line in errors:
        console.print(line, highlight=False)
    if len(df) > limit:
        console.print(f"... {len(df) - limit} more rows (use --where, --limit or --csv)")
