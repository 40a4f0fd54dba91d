"""The energy-vs-accuracy report: reads a results store, writes index.html + PNG + CSV.

``build_report(store, out_dir)`` reads ``SELECT record FROM runs WHERE status='done'`` (JSON
run records, docs/CONTRACTS.md), prices each run's ledger with `price_ledger` /
`price_digital` (hardware from `hardware_for_run(config)`), and writes into a temporary
directory next to ``out_dir`` that is moved into place only when everything succeeded.

Figures (matplotlib, Agg): accuracy vs read noise per algorithm; energy per training sample
vs test accuracy with the Pareto front; stacked energy per phase and per component; area
breakdown; analog vs digital. Tables: one row per run. CSV: runs.csv, energy_breakdown.csv,
area_breakdown.csv.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from .estimate import COMPONENTS, price_digital, price_ledger
from .hardware import hardware_for_run

REPORT_FILES = frozenset({
    "index.html", "runs.csv", "energy_breakdown.csv", "area_breakdown.csv",
    "accuracy_vs_noise.png", "energy_vs_accuracy.png", "energy_breakdown.png",
    "area_breakdown.png", "analog_vs_digital.png"})
ALGO_COLORS = {"pff": "#1f77b4", "ff": "#ff7f0e", "bp": "#2ca02c"}
TRAIN_EXCLUDE = ("inference",)


class ReportError(ValueError):
    """The store cannot be read or holds nothing to report (one-line message)."""


# ---- reading -----------------------------------------------------------------------------

def load_records(store: str | os.PathLike) -> list[tuple[int, dict[str, Any]]]:
    """``(id, record)`` of every finished run in an SQLite results store."""
    p = Path(store)
    if not p.is_file():
        raise ReportError(f"results store {str(p)!r} does not exist; run `analogff simulate` "
                          "or `analogff sweep` to create one")
    try:
        con = sqlite3.connect(f"file:{p.resolve()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ReportError(f"{p}: cannot open the results store ({exc})") from None
    try:
        try:
            rows = con.execute("SELECT id, record FROM runs WHERE status='done' ORDER BY id").fetchall()
        except sqlite3.OperationalError as exc:
            if "no such column: id" in str(exc):
                rows = list(enumerate(r[0] for r in con.execute(
                    "SELECT record FROM runs WHERE status='done'").fetchall()))
            elif "no such table" in str(exc):
                raise ReportError(f"{p}: not an analogff results store (no 'runs' table)") from None
            else:
                raise ReportError(f"{p}: cannot read the results store ({exc})") from None
        except sqlite3.DatabaseError as exc:
            raise ReportError(f"{p}: not a readable SQLite results store ({exc})") from None
    finally:
        con.close()
    out = []
    for rid, text in rows:
        try:
            rec = json.loads(text)
            if not isinstance(rec, dict):
                raise ValueError("record is not a JSON object")
            for k in ("config", "metrics"):
                if not isinstance(rec.get(k), dict):
                    raise ValueError(f"missing {k!r}")
        except (TypeError, ValueError) as exc:
            raise ReportError(f"{p}: run {rid} has a corrupt record ({exc})") from None
        out.append((int(rid), rec))
    if not out:
        raise ReportError(f"{p}: no finished runs to report; run `analogff simulate` first")
    return out


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f


def _device_noise(config: dict) -> float:
    n = config.get("noise")
    if n is not None:
        return _num(n)
    try:
        from device_models import get_device
        return float(get_device(str(config.get("device"))).read_noise)
    except Exception:
        return math.nan


def analyse(records: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """One row per run plus long-format energy/area breakdowns (plain lists of dicts)."""
    runs, energy, area = [], [], []
    for rid, rec in records:
        cfg, met = rec["config"], rec["metrics"]
        samples = rec.get("samples") or {}
        n_train = max(_num(samples.get("train_total")), 0) or math.nan
        n_test = max(_num(samples.get("test")), 0) or math.nan
        row: dict[str, Any] = {
            "run": rid, "algo": str(cfg.get("algo", "?")), "device": str(cfg.get("device", "?")),
            "ideal": bool(cfg.get("ideal", False)), "dataset": str(cfg.get("dataset", "")),
            "noise": _device_noise(cfg), "dac_bits": cfg.get("dac_bits"),
            "adc_bits": cfg.get("adc_bits"), "update": cfg.get("update"),
            "seed": rec.get("seed", cfg.get("seed")),
            "train_accuracy": _num(met.get("train_accuracy")),
            "test_accuracy": _num(met.get("test_accuracy")),
        }
        led = rec.get("ledger")

        def add_energy(by: str, key: str, j: float) -> None:
            energy.append({"run": rid, "algo": row["algo"], "by": by, "key": key,
                           "j_per_train_sample": j})

        if isinstance(led, dict) and led.get("entries"):
            hw = hardware_for_run(cfg)
            p = price_ledger(led, hw)
            grid = p["by_phase_component_j"]
            train_phases = [ph for ph in grid if ph not in TRAIN_EXCLUDE]
            e_train = math.fsum(p["by_phase_j"][ph] for ph in train_phases)
            e_inf = math.fsum(p["by_phase_j"].get(ph, 0.0) for ph in TRAIN_EXCLUDE)
            row["energy_per_train_sample_j"] = e_train / n_train
            row["energy_per_inference_j"] = e_inf / n_test
            row["area_mm2"] = p["area_mm2"]
            tl = {"matrices": led.get("matrices", {}),
                  "entries": [e for e in led["entries"] if e.get("phase") not in TRAIN_EXCLUDE]}
            il = {"matrices": led.get("matrices", {}),
                  "entries": [e for e in led["entries"] if e.get("phase") in TRAIN_EXCLUDE]}
            for prec in ("int8", "fp16"):
                # weight reuse inferred from the ledger (vectors per update), as the runner does
                dt = price_digital(tl, hw.node_nm, prec, sram_kb=hw.sram_kb)["total_j"]
                di = price_digital(il, hw.node_nm, prec, sram_kb=hw.sram_kb)["total_j"]
                row[f"digital_{prec}_per_train_sample_j"] = dt / n_train
                row[f"digital_{prec}_per_inference_j"] = di / n_test
            for ph in train_phases:
                add_energy("phase", ph, p["by_phase_j"][ph] / n_train)
            for comp in COMPONENTS:
                add_energy("component", comp,
                           math.fsum(grid[ph][comp] for ph in train_phases) / n_train)
            for k, v in p["area_breakdown_mm2"].items():
                area.append({"run": rid, "algo": row["algo"], "block": k, "mm2": v})
        else:  # no ledger: use the record's own energy summary
            en = rec.get("energy") or {}
            row["energy_per_train_sample_j"] = _num(en.get("per_train_sample_j"))
            row["energy_per_inference_j"] = _num(en.get("per_inference_j"))
            row["area_mm2"] = _num(en.get("area_mm2"))
            row["digital_int8_per_train_sample_j"] = _num(en.get("digital_per_train_sample_j"))
            row["digital_int8_per_inference_j"] = _num(en.get("digital_per_inference_j"))
            row["digital_fp16_per_train_sample_j"] = math.nan
            row["digital_fp16_per_inference_j"] = math.nan
            for ph, v in (en.get("train_by_phase_j") or {}).items():
                add_energy("phase", ph, _num(v))
            for comp, v in (en.get("by_component_j") or {}).items():
                add_energy("component", comp, _num(v))
        runs.append(row)
    return {"runs": runs, "energy": energy, "area": area}


# ---- figures ------------------------------------------------------------------------------
def _prefix(vmax: float, unit: str) -> tuple[float, str]:
    for f, p in ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, "")):
        if vmax < f * 1000:
            return f, p + unit
    return 1.0, unit


def _color(algo: str) -> str:
    return ALGO_COLORS.get(algo, "#7f7f7f")


def _save(fig, out, figs: list, name: str, title: str, caption: str) -> None:
    """Write one figure as PNG into ``out`` and list it (file, title, caption) for the page."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(out / name)
    plt.close(fig)
    figs.append((name, title, caption))


def _stacked_bars(ax, tab, cmap, n_colors: int) -> None:
    """One bar per row of ``tab`` (index: algorithms), its columns stacked bottom to top."""
    bottom = None
    for i, col in enumerate(tab.columns):
        ax.bar([a.upper() for a in tab.index], tab[col], bottom=bottom, label=col,
               color=cmap(i % n_colors))
        bottom = tab[col] if bottom is None else bottom + tab[col]


def pareto_front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points (energy, accuracy) not dominated by a cheaper-and-at-least-as-accurate one."""
    front, best = [], -math.inf
    for e, a in sorted(p for p in points if math.isfinite(p[0]) and math.isfinite(p[1])):
        if a > best:
            front.append((e, a))
            best = a
    return front


def _figures(df, energy_df, area_df, out: Path) -> list[tuple[str, str, str]]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 11, "axes.titlesize": 12, "axes.grid": True,
                         "grid.alpha": 0.3, "figure.dpi": 110})
    figs = []
    algos = [a for a in ("pff", "ff", "bp") if a in set(df["algo"])] + \
        sorted(set(df["algo"]) - {"pff", "ff", "bp"})

    # 1. accuracy vs noise
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    analog = df[~df["ideal"]]
    for algo in algos:
        sub = analog[analog["algo"] == algo]
        for dev, g in sub.groupby("device"):
            g = g.dropna(subset=["noise", "test_accuracy"])
            if g.empty:
                continue
            st = g.groupby("noise")["test_accuracy"].agg(["mean", "std", "count"]).reset_index()
            lab = f"{algo.upper()} · {dev}" if sub["device"].nunique() > 1 else algo.upper()
            ax.errorbar(st["noise"], 100 * st["mean"], yerr=100 * st["std"].fillna(0),
                        marker="o", capsize=3, color=_color(algo), label=lab)
        ideal = df[(df["ideal"]) & (df["algo"] == algo)]["test_accuracy"].dropna()
        if not ideal.empty:
            ax.axhline(100 * ideal.mean(), ls=":", color=_color(algo),
                       label=f"{algo.upper()} ideal (float)")
    ax.set_xlabel("read noise σ (fraction of g_max − g_min)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Test accuracy vs read noise (mean ± std over runs)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=9)
    cap = ("Test accuracy of each algorithm as the per-read conductance noise grows (runs at "
           "the same noise level, e.g. other seeds or ADC bits, are pooled).")
    if bool(df["ideal"].any()):
        cap += " Dotted lines: the same algorithm on ideal float matrices."
    _save(fig, out, figs, "accuracy_vs_noise.png", "Accuracy vs read noise", cap)

    # 2. energy vs accuracy with Pareto front
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    pts = df.dropna(subset=["energy_per_train_sample_j", "test_accuracy"])
    pts = pts[~pts["ideal"]]
    if not pts.empty:
        f, unit = _prefix(pts["energy_per_train_sample_j"].max(), "J")
        for algo in algos:
            g = pts[pts["algo"] == algo]
            ax.scatter(g["energy_per_train_sample_j"] / f, 100 * g["test_accuracy"], s=36,
                       color=_color(algo), label=algo.upper(), alpha=0.85, edgecolor="k",
                       linewidth=0.4)
        front = pareto_front(list(zip(pts["energy_per_train_sample_j"], pts["test_accuracy"])))
        if front:
            ax.step([e / f for e, _ in front], [100 * a for _, a in front], where="post",
                    color="k", lw=1.2, label="Pareto front")
        ax.set_xscale("log")
        ax.set_xlabel(f"analog energy per training sample ({unit}, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Energy per training sample vs test accuracy")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=9)
    _save(fig, out, figs, "energy_vs_accuracy.png", "Energy vs accuracy",
          "Each point is one analog run; the black step line is the Pareto front "
          "(no other run is both cheaper and more accurate).")

    # 3. stacked breakdowns (mean over analog runs of each algorithm)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    an_ids = set(df[~df["ideal"]]["run"])
    edf = energy_df[energy_df["run"].isin(an_ids)] if not energy_df.empty else energy_df
    for ax, by, title in ((axes[0], "phase", "per phase"), (axes[1], "component", "per component")):
        sub = edf[edf["by"] == by] if not edf.empty else edf
        if sub.empty:
            ax.set_title(f"Energy {title}: no data")
            continue
        tab = sub.groupby(["algo", "key"])["j_per_train_sample"].mean().unstack(fill_value=0.0)
        tab = tab.reindex([a for a in algos if a in tab.index])
        tab = tab.loc[:, (tab > 0).any(axis=0)]
        f, unit = _prefix(tab.sum(axis=1).max() or 1.0, "J")
        _stacked_bars(ax, tab / f, plt.get_cmap("tab20"), 20)
        ax.set_ylabel(f"energy per training sample ({unit})")
        ax.set_title(f"Energy {title} (mean over runs)")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _save(fig, out, figs, "energy_breakdown.png", "Energy breakdown",
          "Stacked energy per training sample by phase (left) and by hardware component "
          "(right), averaged over the analog runs of each algorithm.")

    # 4. area breakdown
    fig, ax = plt.subplots(figsize=(8, 4.6))
    if not area_df.empty:
        tab = area_df.groupby(["algo", "block"])["mm2"].mean().unstack(fill_value=0.0)
        tab = tab.reindex([a for a in algos if a in tab.index])
        tab = tab.loc[:, (tab > 0).any(axis=0)]
        _stacked_bars(ax, tab, plt.get_cmap("tab10"), 10)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_ylabel("chip area (mm²)")
    ax.set_title("Area breakdown (arrays + periphery + buffers)")
    _save(fig, out, figs, "area_breakdown.png", "Area breakdown",
          "Chip area by block; BP's transposed-read periphery appears as "
          "'transposed_periphery'.")

    # 5. analog vs digital
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    cols = [("energy_per", "analog"), ("digital_int8_per", "digital int8"),
            ("digital_fp16_per", "digital fp16")]
    for ax, scope, title in ((axes[0], "train_sample", "per training sample"),
                             (axes[1], "inference", "per inference")):
        means = {}
        for pre, lab in cols:
            c = f"{pre}_{scope}_j"
            means[lab] = df[~df["ideal"]].groupby("algo")[c].mean() if c in df else None
        present = [a for a in algos if a in set(df[~df["ideal"]]["algo"])]
        allv = [v for m in means.values() if m is not None for v in m.values
                if isinstance(v, float) and math.isfinite(v) and v > 0]
        f, unit = _prefix(max(allv) if allv else 1.0, "J")
        w = 0.26
        for i, (lab, m) in enumerate(means.items()):
            if m is None:
                continue
            ys = [m.get(a, math.nan) / f for a in present]
            ax.bar([j + (i - 1) * w for j in range(len(present))], ys, width=w, label=lab,
                   color=("#4c72b0", "#dd8452", "#c44e52")[i])
        ax.set_xticks(range(len(present)), [a.upper() for a in present])
        ax.set_yscale("log")
        ax.set_ylabel(f"energy ({unit}, log scale)")
        ax.set_title(f"Analog vs digital, {title}")
        ax.legend(fontsize=9)
    _save(fig, out, figs, "analog_vs_digital.png", "Analog vs digital",
          "The same ledgers priced on the analog chip and on a digital accelerator at "
          "the same node (int8 and fp16 MACs, SRAM operand traffic, DRAM for weights "
          "that do not fit on chip).")
    return figs


# ---- HTML ---------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1250px;
color:#222;padding:0 1em}
h1{font-size:1.6em} h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
figure{margin:1em 0} figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:.92em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right} td{white-space:nowrap}
th{background:#f2f2f2} td.l,th.l{text-align:left}
.note{color:#555;font-size:.9em}
"""


def _fmt_cell(v: Any, unit: str = "") -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if v is None:
        return ""
    if isinstance(v, float):
        if not math.isfinite(v):
            return "–"
        if unit == "J":
            f, u = _prefix(abs(v) or 1e-15, "J")
            return f"{v / f:.3g} {u}"
        if unit == "%":
            return f"{100 * v:.1f} %"
        return f"{v:.4g}"
    return html.escape(str(v))


_RUN_COLS = [("run", "run", ""), ("algo", "algo", ""), ("device", "device", ""),
             ("ideal", "ideal", ""), ("dataset", "dataset", ""), ("noise", "noise σ", ""),
             ("dac_bits", "DAC bits", ""), ("adc_bits", "ADC bits", ""),
             ("update", "update", ""), ("seed", "seed", ""),
             ("train_accuracy", "train acc.", "%"), ("test_accuracy", "test acc.", "%"),
             ("energy_per_train_sample_j", "analog / train sample", "J"),
             ("energy_per_inference_j", "analog / inference", "J"),
             ("digital_int8_per_train_sample_j", "digital int8 / train sample", "J"),
             ("digital_fp16_per_train_sample_j", "digital fp16 / train sample", "J"),
             ("area_mm2", "area (mm²)", "")]


_LEFT_COLS = ("algo", "device", "dataset", "update")  # text columns, left-aligned


def _cls(k: str) -> str:
    return " class=l" if k in _LEFT_COLS else ""


def _runs_table(runs: list[dict]) -> str:
    head = "".join(f"<th{_cls(k)}>{html.escape(lab)}</th>" for k, lab, _u in _RUN_COLS)
    body = []
    for r in runs:
        tds = "".join(f"<td{_cls(k)}>{_fmt_cell(r.get(k), u)}</td>" for k, _lab, u in _RUN_COLS)
        body.append(f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary_table(df) -> str:
    rows = []
    for algo, g in df[~df["ideal"]].groupby("algo"):
        rows.append((algo.upper(), len(g), g["test_accuracy"].mean(),
                     g["energy_per_train_sample_j"].median(), g["energy_per_inference_j"].median(),
                     g["digital_int8_per_train_sample_j"].median(), g["area_mm2"].median()))
    head = ("<tr><th class=l>algorithm</th><th>runs</th><th>mean test acc.</th>"
            "<th>median analog / train sample</th><th>median analog / inference</th>"
            "<th>median digital int8 / train sample</th><th>median area (mm²)</th></tr>")
    body = "".join(
        f"<tr><td class=l>{html.escape(a)}</td><td>{n}</td><td>{_fmt_cell(float(acc), '%')}</td>"
        f"<td>{_fmt_cell(float(e), 'J')}</td><td>{_fmt_cell(float(ei), 'J')}</td>"
        f"<td>{_fmt_cell(float(d), 'J')}</td><td>{_fmt_cell(float(ar))}</td></tr>"
        for a, n, acc, e, ei, d, ar in rows)
    return f"<table>{head}{body}</table>"


def _html(df, runs, figs, store: str) -> str:
    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
             f"<title>analogff report</title><style>{_CSS}</style></head><body>",
             "<h1>analogff: energy vs accuracy</h1>",
             f"<p class=note>Store: {html.escape(store)} · {len(runs)} finished runs · energies "
             "per training sample and per inference from each run's ledger, priced by "
             "reports/ (hardware per run: 22 nm, the run's device, DAC/ADC bits and tile size; "
             "see reports/README.md for the model and its sources).</p>",
             "<h2>Summary</h2>", _summary_table(df)]
    for fn, title, cap in figs:
        parts.append(f"<h2>{html.escape(title)}</h2><figure><img src=\"{fn}\" "
                     f"alt=\"{html.escape(title)}\"><figcaption>{html.escape(cap)}</figcaption>"
                     "</figure>")
    parts.append("<h2>Every run</h2>")
    parts.append(_runs_table(runs))
    parts.append("<p class=note>Data: <a href=\"runs.csv\">runs.csv</a> · "
                 "<a href=\"energy_breakdown.csv\">energy_breakdown.csv</a> · "
                 "<a href=\"area_breakdown.csv\">area_breakdown.csv</a></p></body></html>")
    return "\n".join(parts)


def build_report(store: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Write ``index.html``, PNG figures and CSV files for ``store`` into ``out_dir``.

    Everything is written to a temporary directory beside ``out_dir`` and moved into place at
    the end; on any error nothing is left behind (an existing ``out_dir`` is kept).
    Returns the path of ``index.html``.
    """
    import pandas as pd

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ReportError(f"--out {str(out)!r} exists and is not a directory")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in REPORT_FILES)
        if foreign:
            raise ReportError(f"--out {str(out)!r} exists and holds files that are not part of "
                              f"a report (e.g. {foreign[0]!r}); choose a new or empty directory")
    records = load_records(store)
    data = analyse(records)
    df = pd.DataFrame(data["runs"])
    energy_df = pd.DataFrame(data["energy"], columns=["run", "algo", "by", "key",
                                                       "j_per_train_sample"])
    area_df = pd.DataFrame(data["area"], columns=["run", "algo", "block", "mm2"])
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    try:
        figs = _figures(df, energy_df, area_df, tmp)
        df.to_csv(tmp / "runs.csv", index=False)
        energy_df.to_csv(tmp / "energy_breakdown.csv", index=False)
        area_df.to_csv(tmp / "area_breakdown.csv", index=False)
        (tmp / "index.html").write_text(_html(df, data["runs"], figs, str(store)),
                                        encoding="utf-8")
        os.chmod(tmp, 0o755)
        final = out.resolve()
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent))
            old.rmdir()
            final.rename(old)
            try:
                tmp.rename(final)
            except OSError:
                old.rename(final)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out / "index.html"


# ---- demo / test stores ----------------------------------------------------------------------
STORE_SCHEMA = """CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, config_hash TEXT,
seed INTEGER, status TEXT, error TEXT, record TEXT, created REAL)"""


def record_from_estimate(config: dict[str, Any], metrics: dict[str, Any], *,
                         network: list[int], batch: int = 100, epochs: int = 1,
                         n_train: int = 1000, n_test: int = 200, K: int | None = None,
                         pulse_density: float = 0.1, seed: int = 0) -> dict[str, Any]:
    """A run record (docs/CONTRACTS.md) whose ledger is built by `estimate` machinery for
    ``n_train`` training samples and ``n_test`` inferences (for tests and demos; the metrics
    are whatever the caller passes)."""
    from .estimate import estimate

    hw = hardware_for_run(config)
    algo = config.get("algo", "pff")
    est = estimate(hw, network, algo, batch=batch, K=K, pulse_density=pulse_density)
    tl, il = est.train_ledger, est.inference_ledger
    f_train = n_train / batch
    entries = [{**e, **{k: v * f_train for k, v in e.items() if k not in ("phase", "matrix")}}
               for e in tl["entries"]]
    entries += [{**e, **{k: v * n_test for k, v in e.items() if k not in ("phase", "matrix")}}
                for e in il["entries"]]
    mats = {**il["matrices"], **tl["matrices"]}
    return {
        "schema": 1, "status": "done", "error": None, "config": dict(config),
        # a stable digest: Python's hash() of a str is salted per process
        "config_hash": "demo" + hashlib.sha256(
            json.dumps({**config, "seed": seed}, sort_keys=True).encode()).hexdigest()[:12],
        "seed": seed, "metrics": dict(metrics),
        "samples": {"train_per_epoch": n_train // epochs, "epochs": epochs, "test": n_test,
                    "train_total": n_train},
        "ledger": {"matrices": mats, "entries": entries},
        "energy": {"model": est.train["model"], "per_train_sample_j": est.train_j,
                   "per_inference_j": est.inference_j,
                   "train_by_phase_j": est.train["by_phase_j"],
                   "by_component_j": est.train["by_component_j"],
                   "digital_per_train_sample_j": est.digital["int8"]["train"]["total_j"],
                   "digital_per_inference_j": est.digital["int8"]["inference"]["total_j"],
                   "area_mm2": est.area_mm2},
        "counts": {}, "timing": {"wall_s": 0.0, "train_s": 0.0, "eval_s": 0.0},
        "versions": {},
    }


def write_store(path: str | os.PathLike, records: list[dict[str, Any]]) -> None:
    """Write records into an SQLite store with the contract's ``runs`` table (tests/demos)."""
    con = sqlite3.connect(str(path))
    try:
        con.execute(STORE_SCHEMA)
        for r in records:
            con.execute("INSERT INTO runs (config_hash, seed, status, error, record, created) "
                        "VALUES (?, ?, ?, ?, ?, 0)",
                        (r.get("config_hash"), r.get("seed"), r.get("status", "done"),
                         r.get("error"), json.dumps(r)))
        con.commit()
    finally:
        con.close()
