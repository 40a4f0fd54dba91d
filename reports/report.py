"""The study report: reads a results store, writes index.html + figures + tables.

``build_report(store, out_dir)`` reads ``SELECT id, record FROM runs WHERE status='done'``
(JSON run records, docs/CONTRACTS.md), prices each run's ledger with `price_ledger` /
`price_digital` (through `reports.run_energy.price_run`, as the runner does) on the chip the
run stored (records without one show their own stored energy), and writes into a temporary directory next to ``out_dir`` that
is moved into place only when everything succeeded.

Runs are grouped into configurations that differ only in the seed (`reports.stats`): every
figure and table shows means over seeds with Student-t intervals and n, and warns when n < 3.
Figures (`reports.figures`, each as PNG at 300 dpi, SVG and PDF): the energy-vs-accuracy
Pareto plot (training and inference), one figure per swept knob, energy / area / per-matrix
breakdowns and analog vs digital at the study's base point. Tables (`reports.tables`, CSV and
LaTeX): configurations (summary), runs, per-matrix; CSV: energy and area breakdowns.

Runs made with ``--curve`` (test accuracy and cumulative training energy after every epoch)
add the figure of test accuracy vs cumulative training energy, one line per algorithm
(`figures.fig_energy_to_accuracy`), and a table of the energy to reach each accuracy target
(``energy_to_targets``); runs made with ``--matched`` add the table of what a matched
comparison holds equal and what it cannot match (``matched_unmatched``), read from the records.
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

from crossbar.ledger import weight_updates

from .estimate import COMPONENTS, area_breakdown
from .hardware import Hardware, HardwareError
from .run_energy import INFERENCE_PHASES, hardware_of_record, price_run, split_ledger

# every name a report writes ends in one of these: an --out directory holding anything else
# is not a report and is never replaced
REPORT_SUFFIXES = (".html", ".png", ".svg", ".pdf", ".csv", ".tex")


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


def hardware_of(rec: dict[str, Any]) -> tuple[Hardware | None, str | None]:
    """(the chip a run was simulated and priced on, None) from its stored ``hardware``; or
    (None, why) for a record written before the chip was stored, or whose chip this version
    cannot read (a field since renamed or removed): such a run is shown with its own stored
    energy summary, never re-priced on a guessed chip, and the report says so."""
    if not isinstance(rec.get("hardware"), dict):
        return None, "the record predates stored chip descriptions"
    try:
        return hardware_of_record(rec), None
    except (HardwareError, TypeError) as exc:
        return None, str(exc).split(";")[0]


def _inference_batch(rec: dict[str, Any]) -> int:
    """The digital baseline's inference batch the run was priced with (1 if unknown)."""
    for v in ((rec.get("energy") or {}).get("digital_inference_batch"),
              (rec.get("hyperparameters") or {}).get("batch_size")):
        if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
            return v
    return 1


def _macs(ledger: dict) -> float:
    return math.fsum(_num(e.get("macs") or 0) for e in ledger.get("entries", []))


def _matrix_rows(rid: int, algo: str, led: dict, hw: Hardware, rp,
                 cap_counted: bool) -> list[dict[str, Any]]:
    """One row per analog matrix: energy per training sample and per inference, area, ADC
    saturation (fraction of conversions clipped) in training and at test, and the fraction of
    its weight updates whose pulse train was cut to the chip's update slots (NaN for an ideal
    matrix, without updates, and when the record predates the count: ``cap_counted``
    false)."""
    rows = []
    of: dict[Any, list[dict[str, Any]]] = {}   # each matrix's entries, in ledger order
    for e in led["entries"]:
        of.setdefault(e.get("matrix"), []).append(e)
    for name, info in (led.get("matrices") or {}).items():
        if name == "digital" or "rows" not in info:
            continue
        sat = {"train": [0.0, 0.0], "inference": [0.0, 0.0]}
        cut = [0.0, 0.0]   # trains cut, weight updates (one per weight and update call)
        for e in of.get(name, []):
            k = "inference" if e.get("phase") in INFERENCE_PHASES else "train"
            sat[k][0] += _num(e.get("adc_saturated") or 0)
            sat[k][1] += _num(e.get("adc_conversions") or 0)
            cut[0] += _num(e.get("trains_capped") or 0)
            cut[1] += weight_updates(e, info)
        area = area_breakdown({"matrices": {name: info}, "entries": of.get(name, [])}, hw)
        rows.append({
            "run": rid, "algo": algo, "matrix": name,
            "shape": f"{info.get('cols')}×{info.get('rows')}",
            "energy_per_train_sample_j": rp.train["by_matrix_j"].get(name, 0.0),
            "energy_per_inference_j": rp.inference["by_matrix_j"].get(name, 0.0),
            "area_mm2": math.fsum(v for k, v in area.items() if k not in ("sram", "digital")),
            "adc_saturation_train": sat["train"][0] / sat["train"][1] if sat["train"][1]
            else math.nan,
            "adc_saturation_inference": sat["inference"][0] / sat["inference"][1]
            if sat["inference"][1] else math.nan,
            "pulse_cap_train": cut[0] / cut[1] if cap_counted and info.get("analog") and cut[1]
            else math.nan,
        })
    return rows


def hardware_metrics(rec: dict[str, Any]) -> dict[str, float]:
    """Inference latency [s], TOPS/W, TOPS/mm² (1 MAC = 2 operations) and chip area [mm²] of a
    run, from its stored energy summary and ledger (NaN where the record lacks them)."""
    en = rec.get("energy") or {}
    samples = rec.get("samples") or {}
    n_test = _num(samples.get("test"))
    e_inf = _num(en.get("per_inference_j"))
    lat = _num(en.get("latency_per_inference_s"))
    area = _num(en.get("area_mm2"))
    led = rec.get("ledger")
    ops = math.nan
    if isinstance(led, dict) and n_test > 0:
        ops = 2.0 * _macs(split_ledger(led)[1]) / n_test
    mem, tchip = en.get("memory") or {}, en.get("training_chip") or {}
    return {"latency_per_inference_s": lat, "area_mm2": area,
            # on-chip buffer peak [bit] and the die this algorithm needs to train [mm²]
            "peak_buffer_bits": _num(mem.get("peak_bits")),
            "train_chip_mm2": _num(tchip.get("area_mm2")),
            "tops_per_w": ops / e_inf / 1e12 if e_inf > 0 else math.nan,
            "tops_per_mm2": ops / lat / area / 1e12 if lat > 0 and area > 0 else math.nan}


def run_metrics(rid: int, rec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Everything the report shows about one run: a flat row (config, accuracy, energy,
    latency, throughput, area), and long-format energy, area, per-matrix and chip rows."""
    cfg, met = rec["config"], rec["metrics"]
    samples = rec.get("samples") or {}
    row: dict[str, Any] = {"run": rid}
    row.update({k: v for k, v in cfg.items() if not isinstance(v, (dict, list))})
    row.update({
        "algo": str(cfg.get("algo", "?")), "device": str(cfg.get("device", "?")),
        "ideal": bool(cfg.get("ideal", False)), "dataset": str(cfg.get("dataset", "")),
        "noise": _device_noise(cfg), "seed": rec.get("seed", cfg.get("seed")),
        "train_accuracy": _num(met.get("train_accuracy")),
        "test_accuracy": _num(met.get("test_accuracy")),
    })
    energy, area, matrices, chips = [], [], [], []

    def add_energy(by: str, key: str, j: float) -> None:
        energy.append({"run": rid, "algo": row["algo"], "by": by, "key": key,
                       "j_per_train_sample": j})

    led = rec.get("ledger")
    hw, why = hardware_of(rec)
    row["repriced"] = hw is not None
    row["not_repriced_because"] = why
    n_train, n_test = samples.get("train_total"), samples.get("test")
    if (hw is not None and isinstance(led, dict) and led.get("entries")
            and isinstance(n_train, int) and n_train > 0 and isinstance(n_test, int)
            and n_test > 0):
        rp = price_run(led, hw, train_samples=n_train, test_samples=n_test,
                       inference_batch=_inference_batch(rec))
        summary = rp.summary()
        pt, pi = rp.train, rp.inference
        row["energy_per_train_sample_j"] = pt["total_j"]
        row["energy_per_inference_j"] = pi["total_j"]
        row["area_mm2"] = pt["area_mm2"]
        row["latency_per_train_sample_s"] = pt["latency_s"]
        row["latency_per_inference_s"] = pi["latency_s"]
        for prec, d in summary["digital"].items():
            row[f"digital_{prec}_per_train_sample_j"] = d["per_train_sample_j"]
            row[f"digital_{prec}_per_inference_j"] = d["per_inference_batch1_j"]
        for ph, v in pt["by_phase_j"].items():
            add_energy("phase", ph, v)
        for comp in COMPONENTS:
            add_energy("component", comp, pt["by_component_j"].get(comp, 0.0))
        for k, v in pt["area_breakdown_mm2"].items():
            area.append({"run": rid, "algo": row["algo"], "block": k, "mm2": v})
        matrices = _matrix_rows(rid, row["algo"], led, hw, rp,
                                "trains_capped" in (rec.get("counts") or {}))
        chips.append({"run": rid, **hw.to_dict()})
        rec = {**rec, "energy": summary}
    else:  # a record without its chip or ledger: its own stored energy summary
        en = rec.get("energy") or {}
        row["energy_per_train_sample_j"] = _num(en.get("per_train_sample_j"))
        row["energy_per_inference_j"] = _num(en.get("per_inference_j"))
        row["area_mm2"] = _num(en.get("area_mm2"))
        row["latency_per_train_sample_s"] = _num(en.get("train_latency_per_sample_s"))
        row["latency_per_inference_s"] = _num(en.get("latency_per_inference_s"))
        row["digital_int8_per_train_sample_j"] = _num(en.get("digital_per_train_sample_j"))
        row["digital_int8_per_inference_j"] = _num(en.get("digital_per_inference_j"))
        row["digital_fp16_per_train_sample_j"] = math.nan
        row["digital_fp16_per_inference_j"] = math.nan
        for ph, v in (en.get("train_by_phase_j") or {}).items():
            add_energy("phase", ph, _num(v))
        for comp, v in (en.get("by_component_j") or {}).items():
            add_energy("component", comp, _num(v))
    hm = hardware_metrics(rec)
    row["tops_per_w"], row["tops_per_mm2"] = hm["tops_per_w"], hm["tops_per_mm2"]
    row["peak_buffer_bits"], row["train_chip_mm2"] = hm["peak_buffer_bits"], hm["train_chip_mm2"]
    return {"runs": [row], "energy": energy, "area": area, "matrices": matrices,
            "hardware": chips}


def analyse(records: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """One row per run plus long-format energy / area / per-matrix / hardware rows."""
    out: dict[str, list] = {"runs": [], "energy": [], "area": [], "matrices": [], "hardware": []}
    for rid, rec in records:
        for k, v in run_metrics(rid, rec).items():
            out[k].extend(v)
    return out




# ---- energy to accuracy and matched comparisons (runs made with --curve / --matched) ------
def target_key(target: str) -> str:
    """Column of the energy to reach ``target`` (a fraction as stored, "0.9"): J."""
    return f"energy_to_{100 * float(target):g}pct_j"


def target_columns(curve: dict[str, Any]) -> dict[str, float]:
    """One run's energy to each accuracy target, as columns: ``energy_to_<pct>pct_j`` =
    cumulative training energy [J] at the end of the first epoch whose test accuracy reached
    the target (NaN if never, or not recorded) and ``..._reached`` = 1 or 0; {} when the
    curve (``record["curve"]``) has no ``energy_to_targets``. The one reading of the record
    for the report and for ``analogff results``."""
    out: dict[str, float] = {}
    for t, hit in (curve.get("energy_to_targets") or {}).items():
        out[target_key(t)] = _num(hit.get("train_energy_j")) if hit else math.nan
        out[target_key(t) + "_reached"] = 1.0 if hit else 0.0
    return out


def energy_to_rows(records: list[tuple[int, dict[str, Any]]]) -> tuple[list[dict], list[str]]:
    """(one row per analog run with a curve, the targets): the run's flat config, seed, test
    accuracy, final energy per training sample and per inference (stored), and for every
    target ``energy_to_<pct>pct_j`` (cumulative training energy [J] at the end of the first
    epoch whose test accuracy reached it; NaN if never) and ``..._reached`` (1 or 0)."""
    rows, targets = [], set()
    for rid, rec in records:
        cur = rec.get("curve") or {}
        if "energy_to_targets" not in cur or rec["config"].get("ideal"):
            continue
        targets |= set(cur["energy_to_targets"] or {})
        row = {k: v for k, v in rec["config"].items() if not isinstance(v, (dict, list))}
        row.update({"run": rid, "seed": rec.get("seed", row.get("seed")),
                    "test_accuracy": _num(rec["metrics"].get("test_accuracy")),
                    "energy_per_train_sample_j": _num(cur.get("final_per_train_sample_j")),
                    "energy_per_inference_j": _num(cur.get("final_per_inference_j"))})
        row.update(target_columns(cur))
        rows.append(row)
    return rows, sorted(targets, key=float)


def energy_to_table(rows: list[dict], targets: list[str], config_columns: list[str]):
    """Per configuration (algo + every knob that varies among these runs; seeds pooled):
    mean ± t-interval of test accuracy, final energies, and of the energy to each target over
    the seeds that reached it, with ``<target>_text`` = "mean ± ci (k/n)". Returns
    ``(table, knobs)``."""
    import pandas as pd

    from .figures import NOT_KNOBS
    from .stats import seed_groups, varied
    from .tables import cell

    df = pd.DataFrame(rows)
    knobs = [k for k in varied(df, config_columns) if k not in NOT_KNOBS]
    tk = [target_key(t) for t in targets]
    metrics = ["test_accuracy", "energy_per_train_sample_j", "energy_per_inference_j"] + tk
    g, _k, _a = seed_groups(df, ["algo"] + knobs, metrics + [f"{c}_reached" for c in tk],
                            by=["algo"] + knobs)
    for c in tk:
        k = [int(round(f * n)) if math.isfinite(f) else 0
             for f, n in zip(g[f"{c}_reached_mean"], g["n"])]
        g[f"{c}_text"] = [f"{cell(r, c, 'si±:J')} ({ki}/{int(r['n'])})"
                          for r, ki in zip(g.to_dict("records"), k)]
    return g, knobs


def energy_to_columns(targets: list[str], knobs: list[str]) -> list[tuple[str, str, str]]:
    return ([("algo", "algo", "text")] + [(k, k, "text") for k in knobs] +
            [("n", "n (seeds)", "int"), ("test_accuracy", "test acc.", "pct±"),
             ("energy_per_train_sample_j", "energy / train sample", "si±:J"),
             ("energy_per_inference_j", "energy / inference", "si±:J")] +
            [(f"{target_key(t)}_text", f"energy to {100 * float(t):g} % (reached/n)", "text")
             for t in targets])


def matched_rows(records: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """What each matched comparison holds equal and what it cannot (the records' ``matched``
    field, written by the simulator): one row per (family, algorithm, budget), its
    statements in ``notes`` (a list) and ``not_matched`` (joined by "; ")."""
    seen: dict[tuple, dict[str, Any]] = {}
    for _rid, rec in records:
        m = rec.get("matched")
        if not isinstance(m, dict):
            continue
        algo = str(rec["config"].get("algo", "?"))
        budget = ", ".join(f"{k} {v}" for k, v in (m.get("budget") or {}).items())
        notes = [str(n) for n in m.get("unmatched") or []]
        seen.setdefault((m.get("family"), algo, budget, tuple(notes)), {
            "family": m.get("family"), "algo": algo, "rule": m.get("rule"),
            "update": m.get("update"), "matched": budget, "notes": notes,
            "not_matched": "; ".join(notes)})
    order = {a: i for i, a in enumerate(("pff", "ff", "bp"))}
    return sorted(seen.values(), key=lambda r: (str(r["family"]), order.get(r["algo"], 9),
                                                r["matched"]))


_MATCHED_COLS = [("family", "family", "text"), ("algo", "algo", "text"),
                 ("rule", "update rule", "text"), ("update", "pulse scheme", "text"),
                 ("matched", "held equal", "text"), ("not_matched", "not matched", "text")]


def _matched_html(rows: list[dict[str, Any]]) -> str:
    """The matched table, one statement per line in the last column."""
    head = "".join(f"<th class=l>{html.escape(h)}</th>" for _k, h, _kind in _MATCHED_COLS)
    body = "".join(
        "<tr>" + "".join(f"<td class=l>{html.escape(str(r[k]))}</td>"
                         for k, _h, _kind in _MATCHED_COLS[:-1])
        + "<td class='l wrap'>" + "<br>".join(html.escape(n) for n in r["notes"]) + "</td></tr>"
        for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _curve_sections(records, cols, tmp: Path) -> tuple[list[str], list[str]]:
    """(HTML sections, files written): the energy-to-accuracy table and the matched
    comparison's table of what it cannot match, when the store's runs have them."""
    import pandas as pd

    from . import tables

    parts, files = [], []
    rows, targets = energy_to_rows(records)
    if rows:
        g, knobs = energy_to_table(rows, targets, cols)
        spec = energy_to_columns(targets, knobs)
        files += tables.write(g.drop(columns=[c for c in g.columns if c.endswith("_text")]),
                              tmp, "energy_to_targets")
        (tmp / "energy_to_targets.tex").write_text(tables.latex(
            g.to_dict("records"), spec, "Energy to accuracy per configuration: cumulative "
            "training energy until the test accuracy first reached each target (mean ± 95 % "
            "t-interval over the seeds that reached it; reached/n).", "tab:energy_to_targets"),
            encoding="utf-8")
        files.append("energy_to_targets.tex")
        parts += ["<h2>Energy to accuracy (runs made with --curve)</h2>",
                  tables.html_table(g.to_dict("records"), spec, highlight="few_seeds"),
                  "<p class=note>Cumulative training energy until the test accuracy first "
                  "reached each target (scored after every epoch, so the energy at the end of "
                  "that epoch), as priced when the run was made on the chip it stored; mean ± "
                  "95 % t-interval over the seeds that reached it, reached/n seeds; – : no seed "
                  "reached it. Energy per training sample and per inference: the run's final "
                  "figures. Also as <a href=\"energy_to_targets.csv\">CSV</a> and "
                  "<a href=\"energy_to_targets.tex\">LaTeX</a>.</p>"]
    mrows = matched_rows(records)
    if mrows:
        files += tables.write(pd.DataFrame(mrows).drop(columns=["notes"]), tmp,
                              "matched_unmatched",
                              _MATCHED_COLS, "What a matched comparison holds equal and what "
                              "it cannot match, per algorithm.")
        parts += ["<h2>Matched comparison: what it cannot match</h2>",
                  "<p class=note>Runs made with --matched share the layer sizes, the examples "
                  "seen (epochs × batch) and the update family; the rows below are what still "
                  "differs between the algorithms (stored with every run).</p>",
                  _matched_html(mrows)]
    return parts, files


# ---- HTML ---------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1250px;
color:#222;padding:0 1em}
h1{font-size:1.6em} h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
figure{margin:1em 0} figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#444;font-size:.92em;max-width:60em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right} td{white-space:nowrap}
th{background:#f2f2f2} td.l,th.l{text-align:left} tr.warn td{background:#fff4e5}
td.wrap{white-space:normal;max-width:40em}
.note{color:#555;font-size:.9em} .warn-box{border-left:4px solid #c60;background:#fff4e5;
padding:.4em .8em;margin:.8em 0}
details{margin:.5em 0} summary{cursor:pointer;color:#333}
"""

_RUN_COLS = [("run", "run", "int"), ("algo", "algo", "text"), ("device", "device", "text"),
             ("ideal", "ideal", "bool"), ("dataset", "dataset", "text"),
             ("noise", "noise σ", "num"), ("dac_bits", "DAC bits", "text"),
             ("adc_bits", "ADC bits", "text"), ("update", "update", "text"),
             ("matched", "matched family", "text"), ("seed", "seed", "text"), ("train_accuracy", "train acc.", "pct"),
             ("test_accuracy", "test acc.", "pct"),
             ("energy_per_train_sample_j", "analog / train sample", "si:J"),
             ("energy_per_inference_j", "analog / inference", "si:J"),
             ("digital_int8_per_train_sample_j", "digital int8 / train sample", "si:J"),
             ("digital_fp16_per_train_sample_j", "digital fp16 / train sample", "si:J"),
             ("latency_per_inference_s", "latency / inference", "si:s"),
             ("tops_per_w", "TOPS/W", "num"), ("tops_per_mm2", "TOPS/mm²", "num"),
             ("area_mm2", "area (mm²)", "num"),
             ("peak_buffer_bits", "peak buffer (training)", "si:bit"),
             ("train_chip_mm2", "chip to train (mm²)", "num")]

_GROUP_COLS = [("n", "n (seeds)", "int"),
               ("test_accuracy", "test acc.", "pct±"),
               ("energy_per_train_sample_j", "energy / train sample", "si±:J"),
               ("energy_per_inference_j", "energy / inference", "si±:J"),
               ("latency_per_inference_s", "latency / inference", "si±:s"),
               ("tops_per_w", "TOPS/W", "num±"), ("tops_per_mm2", "TOPS/mm²", "num±"),
               ("area_mm2", "area (mm²)", "num")]

_MATRIX_COLS = [("algo", "algo", "text"), ("matrix", "matrix", "text"),
                ("shape", "shape (out×in)", "text"),
                ("energy_per_train_sample_j", "energy / train sample", "si:J"),
                ("energy_per_inference_j", "energy / inference", "si:J"),
                ("area_mm2", "area (mm²)", "num"),
                ("adc_saturation_train", "ADC clipped (train)", "pct"),
                ("adc_saturation_inference", "ADC clipped (test)", "pct"),
                ("pulse_cap_train", "pulse trains cut (train)", "pct")]


def group_columns(knobs: list[str]) -> list[tuple[str, str, str]]:
    """Columns of the configuration (summary) table: algorithm, knobs, then the metrics."""
    return [("algo", "algo", "text")] + [(k, k, "text") for k in knobs] + [
        (k, h, ("num" if kind == "num" and k == "area_mm2" else kind))
        for k, h, kind in _GROUP_COLS if k != "area_mm2"] + [("area_mm2", "area (mm²)", "num±")]


def _chip_html(hw_rows: list[dict[str, Any]]) -> str:
    """The chip description(s) priced: a one-line summary, then every field (collapsed):
    shared by every run, or the values it takes where runs differ."""
    import re

    if not hw_rows:
        return ""
    names = [k for k in hw_rows[0] if k != "run"]
    vary = [k for k in names if len({json.dumps(r.get(k), sort_keys=True)
                                     for r in hw_rows}) > 1]
    try:
        base = Hardware.from_dict({k: v for k, v in hw_rows[0].items() if k != "run"})
        rows = base.rows()
    except (HardwareError, TypeError, AttributeError):
        rows = [(k, str(hw_rows[0].get(k)), "") for k in names]

    def value(n: str, v: str) -> str:
        if n in vary:
            return "varies: " + ", ".join(sorted({str(r.get(n)) for r in hw_rows}))
        m = re.search(r"\(= (\w+)\)", v)       # a default derived from a varying field
        if m and m.group(1) in vary:
            return f"= {m.group(1)} (varies)"
        return v

    vals = {n: value(n, v) for n, v, _h in rows}
    summary = " · ".join(f"{n} {vals[n]}" for n in ("node_nm", "device", "tile_rows",
                                                     "tile_cols", "dac_bits", "adc_bits",
                                                     "adc_type", "out_bound") if n in vals)
    tr = "".join(f"<tr><td class=l>{html.escape(n)}</td><td class=l>{html.escape(vals[n])}"
                 f"</td><td class='l wrap'>{html.escape(h)}</td></tr>" for n, _v, h in rows)
    return (f"<details><summary>Chip priced: {html.escape(summary)} (one <code>Hardware</code> "
            "description stored with each run; click for every field"
            f"{', and what varies' if vary else ''})</summary><table><thead><tr>"
            "<th class=l>field</th><th class=l>value</th><th class=l>meaning</th></tr></thead>"
            f"<tbody>{tr}</tbody></table></details>")


# figures are shown at half their 300-dpi pixel width (150 px per inch): every figure at the
# same scale, a narrow one narrow
SCREEN_PX_PER_PNG_PX = 0.5


def _img_width(png: Path) -> str:
    """``width=N `` for an <img> of ``png`` (from its IHDR header), or nothing."""
    import struct

    try:
        with open(png, "rb") as fh:
            head = fh.read(24)
        w = struct.unpack(">I", head[16:20])[0]
    except (OSError, struct.error):
        return ""
    return f"width={round(w * SCREEN_PX_PER_PNG_PX)} "


def _html(study, figs, data, store: str, groups_note: str | None, tmp_dir: Path,
          sections: list[str] | None = None) -> str:
    from .figures import describe
    from .stats import MIN_SEEDS
    from .tables import html_table

    runs, g = data["runs"], study.groups
    n_an = len(study.analog)
    knobs = ", ".join(study.knobs) or "none besides the algorithm"
    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
             f"<title>analogff report</title><style>{_CSS}</style></head><body>",
             "<h1>analogff: energy vs accuracy</h1>",
             f"<p class=note>Store: {html.escape(store)} · {len(runs)} finished runs "
             f"({n_an} analog) in {0 if g is None else len(g)} configurations · swept: "
             f"{html.escape(knobs)} · base point for breakdowns: "
             f"{html.escape(describe(study.base) or 'the only configuration')}. Energies per "
             "training sample and per inference from each run's ledger, priced by reports/ "
             "(see reports/README.md for the model and its sources).</p>",
             _chip_html(data["hardware"])]
    if groups_note:
        parts.append(f"<p class=warn-box>{html.escape(groups_note)}</p>")
    stale = [r for r in runs if not r.get("repriced")]
    if stale:
        why = sorted({str(r.get("not_repriced_because")) for r in stale})
        parts.append(f"<p class=warn-box>{len(stale)} of {len(runs)} runs were not re-priced "
                     f"({html.escape('; '.join(why))}): their own stored energy summaries are "
                     "shown, and their per-matrix rows, chip and digital fp16 baseline are "
                     "missing.</p>")
    parts.append("<h2>Configurations (mean ± 95 % t-interval over seeds)</h2>")
    if g is not None and len(g):
        parts.append(html_table(g.to_dict("records"), group_columns(study.knobs),
                                highlight="few_seeds"))
        parts.append(f"<p class=note>Shaded rows: fewer than {MIN_SEEDS} seeds. Latency and "
                     "TOPS per inference from the pricer's latency model (matrices pipelined, "
                     "digital periphery serial); 1 MAC = 2 operations. Also as "
                     "<a href=\"configurations.csv\">CSV</a> and "
                     "<a href=\"configurations.tex\">LaTeX</a>.</p>")
    parts.extend(sections or [])
    for f in figs:
        links = " · ".join(f"<a href=\"{f.stem}.{ext}\">{ext.upper()}</a>"
                           for ext in ("svg", "pdf", "png"))
        parts.append(f"<h2>{html.escape(f.title)}</h2><figure><img src=\"{f.stem}.png\" "
                     f"{_img_width(tmp_dir / f'{f.stem}.png')}"
                     f"alt=\"{html.escape(f.title)}\"><figcaption>{html.escape(f.caption)} "
                     f"<span class=note>({links})</span></figcaption></figure>")
    mats = data["matrices"]
    if mats:
        from .figures import base_runs
        ids = set(base_runs(study)["run"])
        sel = [m for m in mats if m["run"] in ids]
        parts.append("<h2>Per-matrix table (base point, every seed)</h2>")
        parts.append(html_table(sel, [("run", "run", "int")] + _MATRIX_COLS))
    parts.append("<h2>Every run</h2>")
    parts.append(html_table(runs, _RUN_COLS))
    links = " · ".join(f"<a href=\"{n}\">{n}</a>" for n in data["files"])
    parts.append(f"<p class=note>Data: {links}</p></body></html>")
    return "\n".join(parts)


def _config_columns(records: list[tuple[int, dict[str, Any]]]) -> list[str]:
    cols: dict[str, None] = {}
    for _rid, rec in records:
        for k, v in rec["config"].items():
            if not isinstance(v, (dict, list)):
                cols[k] = None
    return list(cols)


def _write_all(records, tmp: Path, store: str) -> None:
    import pandas as pd

    from . import tables
    from .figures import all_figures, make_study
    from .stats import few_seeds_note

    from .figures import curve_rows, fig_accuracy_vs_time, fig_energy_to_accuracy, time_rows

    cols = _config_columns(records)
    times = time_rows(records)
    # deploy records (float-trained, then programmed) train nothing on the chip: they appear
    # in the accuracy-vs-time figure and table only
    records = [(rid, rec) for rid, rec in records if rec.get("mode") != "deploy"]
    data = analyse(records)
    data["files"] = []
    if not records:
        (tmp / "index.html").write_text(_html_time_only(times, cols, tmp, store, data),
                                        encoding="utf-8")
        return
    runs = pd.DataFrame(data["runs"])
    energy = pd.DataFrame(data["energy"], columns=["run", "algo", "by", "key",
                                                   "j_per_train_sample"])
    area = pd.DataFrame(data["area"], columns=["run", "algo", "block", "mm2"])
    mats = pd.DataFrame(data["matrices"], columns=["run", "algo", "matrix", "shape",
                                                   "energy_per_train_sample_j",
                                                   "energy_per_inference_j", "area_mm2",
                                                   "adc_saturation_train",
                                                   "adc_saturation_inference",
                                                   "pulse_cap_train"])
    study = make_study(runs, energy, area, mats, cols)
    figs = all_figures(study, tmp)
    drift = fig_accuracy_vs_time(times, cols, tmp)
    if drift is not None:
        figs.append(drift)
    curve = fig_energy_to_accuracy(curve_rows(records), cols, tmp)
    if curve is not None:   # right after the energy-vs-accuracy Pareto figures
        figs.insert(min(2, len(figs)), curve)
    sections, files = _curve_sections(records, cols, tmp)
    if times:
        files += tables.write(pd.DataFrame(times), tmp, "accuracy_vs_time")
    files += tables.write(study.groups, tmp, "configurations", group_columns(study.knobs),
                          "Test accuracy, energy, latency and throughput per configuration "
                          "(mean ± 95 % Student-t interval over n seeds).")
    files += tables.write(runs, tmp, "runs", _RUN_COLS, "Every finished run.")
    files += tables.write(mats, tmp, "per_matrix", [("run", "run", "int")] + _MATRIX_COLS,
                          "Per-matrix energy, area and ADC saturation of every run.")
    files += tables.write(energy, tmp, "energy_breakdown")
    files += tables.write(area, tmp, "area_breakdown")
    files += tables.write(pd.DataFrame(data["hardware"]), tmp, "hardware")
    data["files"] = files
    (tmp / "index.html").write_text(_html(study, figs, data, store, few_seeds_note(study.groups),
                                          tmp, sections),
                                    encoding="utf-8")


def _html_time_only(times, cols, tmp: Path, store: str, data) -> str:
    """A report of deploy records only: the accuracy-vs-time figure and its table."""
    import pandas as pd

    from . import tables
    from .figures import fig_accuracy_vs_time

    f = fig_accuracy_vs_time(times, cols, tmp)
    files = tables.write(pd.DataFrame(times), tmp, "accuracy_vs_time") if times else []
    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
             f"<title>analogff report</title><style>{_CSS}</style></head><body>",
             "<h1>analogff: accuracy over time</h1>",
             f"<p class=note>Store: {html.escape(store)} · deployment records only (weights "
             "trained in float and programmed onto the devices).</p>"]
    if f is not None:
        parts.append(f"<h2>{html.escape(f.title)}</h2><figure><img src=\"{f.stem}.png\" "
                     f"alt=\"{html.escape(f.title)}\"><figcaption>{html.escape(f.caption)}"
                     "</figcaption></figure>")
    links = " · ".join(f"<a href=\"{n}\">{n}</a>" for n in files)
    parts.append(f"<p class=note>Data: {links}</p></body></html>")
    return "\n".join(parts)


def build_report(store: str | os.PathLike, out_dir: str | os.PathLike,
                 hardware_changes: dict[str, Any] | None = None) -> Path:
    """Write ``index.html``, figures (PNG/SVG/PDF) and tables (CSV/LaTeX) for ``store`` into
    ``out_dir``. ``hardware_changes``: re-price every run on its own chip with these
    pricing-only fields changed (`reports.reprice`; a simulated field is refused).

    Everything is written to a temporary directory beside ``out_dir`` and moved into place at
    the end; on any error nothing is left behind (an existing ``out_dir`` is kept).
    Returns the path of ``index.html``.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ReportError(f"--out {str(out)!r} exists and is not a directory")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir()
                         if p.is_dir() or not p.name.endswith(REPORT_SUFFIXES))
        if foreign:
            raise ReportError(f"--out {str(out)!r} exists and holds files that are not part of "
                              f"a report (e.g. {foreign[0]!r}); choose a new or empty directory")
    records = load_records(store)
    if hardware_changes:
        from crossbar.chip import HardwareError

        from .reprice import reprice_record
        try:
            records = [(rid, reprice_record(rec, hardware_changes)) for rid, rec in records]
        except HardwareError as exc:
            raise ReportError(str(exc)) from None
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    try:
        _write_all(records, tmp, str(store))
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


def record_from_ledgers(config: dict[str, Any], metrics: dict[str, Any], *,
                        hardware: Hardware, train_ledger: dict[str, Any],
                        inference_ledger: dict[str, Any], batch: int, epochs: int = 1,
                        n_train: int = 1000, n_test: int = 200, seed: int = 0
                        ) -> dict[str, Any]:
    """A run record (docs/CONTRACTS.md, schema 2) from the ledgers of one training batch of
    ``batch`` samples and of one inference (``analogff.estimate.build_ledgers``: the real
    algorithm on the counting backend; reports never imports analogff, so the caller builds
    them), scaled to ``n_train`` training samples and ``n_test`` inferences and priced by
    `price_run` (for tests and demos; the metrics are whatever the caller passes)."""
    f_train = n_train / batch
    entries = [{**e, **{k: v * f_train for k, v in e.items() if k not in ("phase", "matrix")}}
               for e in train_ledger["entries"]]
    entries += [{**e, **{k: v * n_test for k, v in e.items() if k not in ("phase", "matrix")},
                 "phase": "inference"} for e in inference_ledger["entries"]]
    led = {"matrices": {**inference_ledger["matrices"], **train_ledger["matrices"]},
           "entries": entries}
    energy = price_run(led, hardware, train_samples=n_train, test_samples=n_test,
                       inference_batch=batch).summary()
    cfg = {**dict(config), **hardware.to_dict()}
    return {
        "schema": 2, "status": "done", "error": None, "config": cfg,
        "hardware": hardware.to_dict(),
        # a stable digest: Python's hash() of a str is salted per process
        "config_hash": "demo" + hashlib.sha256(
            json.dumps({**cfg, "seed": seed}, sort_keys=True).encode()).hexdigest()[:12],
        "seed": seed, "metrics": dict(metrics), "hyperparameters": {"batch_size": batch},
        "samples": {"train_per_epoch": n_train // epochs, "epochs": epochs, "test": n_test,
                    "train_total": n_train},
        "ledger": led, "energy": energy,
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
