"""Matched comparisons and energy to accuracy through `sweep`, `results` and `report`.

One module-scoped store from a real small sweep: PFF, FF and BP x matched families pulsed and
adam x two seeds, every run with --curve (300 digits training images, 20-20 hidden, 3 epochs),
so that some accuracy targets are reached by some seeds and not by others.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from analogff.cli import app

runner = CliRunner()
TARGETS = ("0.5", "0.8", "0.9", "0.95")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("matched") / "m.db"
    r = runner.invoke(app, ["sweep", "--algo", "pff,ff,bp", "--grid", "matched=pulsed,adam",
                            "--curve", "--epochs", "3", "--limit", "300", "--hidden", "20,20",
                            "--seeds", "2", "--workers", "1", "--store", str(path)])
    assert r.exit_code == 0, r.output
    return path


@pytest.fixture(scope="module")
def records(store):
    from analogff.store import ResultsStore

    with ResultsStore(store, create=False) as st:
        recs = st.records(status="done")
    assert len(recs) == 12
    return recs


def _hit(rec, t):
    h = rec["curve"]["energy_to_targets"][t]
    return math.nan if h is None else h["train_energy_j"]


def _col(t):
    return f"energy_to_{100 * float(t):g}pct_j"


def _runs_of(records, row):
    """The runs of `row`'s family and algorithm."""
    return [rec for rec in records if rec["config"]["matched"] == row["matched"]
            and rec["config"]["algo"] == row["algo"]]


def _reached(runs, t):
    """The training energies at which those of `runs` that reached target t reached it."""
    return [e for e in (_hit(rec, t) for rec in runs) if not math.isnan(e)]


def test_sweep_stores_the_family_the_curve_and_what_is_not_matched(records):
    for rec in records:
        assert rec["config"]["matched"] in ("pulsed", "adam") and rec["config"]["curve"]
        assert rec["matched"]["family"] == rec["config"]["matched"]
        assert set(rec["curve"]["energy_to_targets"]) == set(TARGETS)
        assert len(rec["curve"]["points"]) == 3
    # the fixture is useful only if some targets are reached and some are not
    hits = [rec["curve"]["energy_to_targets"]["0.5"] for rec in records]
    assert any(h is not None for h in hits) and any(h is None for h in hits)


def test_results_shows_family_and_energy_to_targets_with_units(store, records, tmp_path):
    csv = tmp_path / "runs.csv"
    r = runner.invoke(app, ["results", str(store), "--where", "matched=adam", "--csv", str(csv)],
                      env={"COLUMNS": "120"})
    assert r.exit_code == 0, r.output
    out = " ".join(r.stdout.split())           # the legend wraps at the terminal width
    # one family only: still shown (it is what these runs are), with the target columns
    assert "matched" in out and "adam" in out and "pulsed" not in out
    for h in ("E→50%", "E→80%", "E→90%", "E→95%"):
        assert h in out
    assert "cumulative training energy (J)" in out and "never reached" in out
    df = pd.read_csv(csv)
    assert len(df) == 6 and set(df["matched"]) == {"adam"}
    by_hash = {rec["config_hash"]: rec for rec in records}
    for row in df.to_dict("records"):
        rec = by_hash[row["config_hash"]]
        for t in TARGETS:
            want, got = _hit(rec, t), row[_col(t)]
            assert (math.isnan(want) and math.isnan(got)) or got == pytest.approx(want, rel=1e-12)
    assert not any(c.endswith("_reached") for c in df.columns)


def test_results_group_by_family_counts_the_seeds_that_reached_each_target(store, records,
                                                                            tmp_path):
    csv = tmp_path / "g.csv"
    r = runner.invoke(app, ["results", str(store), "--group-by", "matched,algo", "--csv",
                            str(csv)], env={"COLUMNS": "160"})
    assert r.exit_code == 0, r.output
    g = pd.read_csv(csv)
    assert len(g) == 6 and set(g["n"]) == {2}
    _check_energy_to_targets(g, records, rel=1e-12)
    for row in g.to_dict("records"):   # the printed cell says how many seeds got there
        assert f"({len(_reached(_runs_of(records, row), '0.5'))}/2)" in r.stdout


def _check_energy_to_targets(g, records, rel=None):
    """One row per (family, algorithm): per target, how many seeds reached it and the mean
    energy over those that did (NaN when none did)."""
    assert {tuple(k) for k in g[["matched", "algo"]].values} == {
        (m, a) for m in ("pulsed", "adam") for a in ("pff", "ff", "bp")}
    for row in g.to_dict("records"):
        mine = _runs_of(records, row)
        for t in TARGETS:
            hit = _reached(mine, t)
            assert round(row[f"{_col(t)}_reached_mean"] * row["n"]) == len(hit)
            if hit:
                assert row[f"{_col(t)}_mean"] == pytest.approx(sum(hit) / len(hit), rel=rel)
            else:
                assert math.isnan(row[f"{_col(t)}_mean"])


def _check_tables(out, records):
    # energy to targets per (algo, family): the mean over the seeds that reached it
    g = pd.read_csv(out / "energy_to_targets.csv")
    _check_energy_to_targets(g, records)
    for row in g.to_dict("records"):
        mine = _runs_of(records, row)
        assert row["test_accuracy_mean"] == pytest.approx(
            sum(rec["metrics"]["test_accuracy"] for rec in mine) / len(mine))
    # what is not matched: exactly the statements stored with the runs, per algorithm
    m = pd.read_csv(out / "matched_unmatched.csv")
    assert len(m) == 6
    for rec in records:
        row = m[(m["family"] == rec["config"]["matched"]) & (m["algo"] == rec["config"]["algo"])]
        assert row["not_matched"].iloc[0] == "; ".join(rec["matched"]["unmatched"])


def test_energy_to_accuracy_figure_and_tables(records, tmp_path):
    """The report's pieces on the sweep's records: the figure's files, one line per
    algorithm in each family's panel, the energy-to-target and not-matched tables."""
    from reports.figures import curve_panels, curve_rows, fig_energy_to_accuracy
    from reports.report import _config_columns, _curve_sections

    recs = list(enumerate(records, 1))
    cols = _config_columns(recs)
    rows = curve_rows(recs)
    assert len(rows) == 12 * 3                                  # 12 runs x 3 epochs
    fig = fig_energy_to_accuracy(rows, cols, tmp_path)
    assert fig is not None and fig.stem == "energy_to_accuracy"
    for ext in ("png", "svg", "pdf"):
        assert (tmp_path / f"energy_to_accuracy.{ext}").stat().st_size > 0
    assert "one line per algorithm" in fig.caption and "matched" in fig.caption
    panels = curve_panels(pd.DataFrame(rows), cols)
    assert sorted(v["matched"] for v, _ in panels) == ["adam", "pulsed"]
    for _v, sub in panels:
        assert sorted(set(sub["algo"])) == ["bp", "ff", "pff"] and len(sub) == 3 * 2 * 3
    parts, files = _curve_sections(recs, cols, tmp_path)
    html = "\n".join(parts)
    assert "Energy to accuracy (runs made with --curve)" in html and "(2/2)" in html
    assert "what it cannot match" in html and "PFF has 10 arrays" in html
    assert {"energy_to_targets.csv", "energy_to_targets.tex", "matched_unmatched.csv",
            "matched_unmatched.tex"} <= set(files)
    _check_tables(tmp_path, records)


@pytest.mark.slow   # test_energy_to_accuracy_figure_and_tables checks the same figure and tables
def test_report_of_a_matched_curve_store(store, records, tmp_path):
    """The whole report (every figure: slow) carries the figure and the two tables."""
    from reports import build_report

    out = tmp_path / "rep"
    build_report(store, out)
    for ext in ("png", "svg", "pdf"):
        assert (out / f"energy_to_accuracy.{ext}").stat().st_size > 0
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Accuracy vs cumulative training energy" in page
    assert "Energy to accuracy (runs made with --curve)" in page
    assert "what it cannot match" in page and "negative copy" in page
    _check_tables(out, records)


def test_curve_panels_split_by_dataset_and_family_and_hold_other_knobs_at_base():
    from reports.figures import curve_panels

    rows = [{"algo": a, "dataset": ds, "matched": fam, "noise": nz, "seed": s, "epoch": 1,
             "limit": 2000 if ds == "fashion-mnist" else None}
            for a in ("pff", "bp") for ds in ("digits", "fashion-mnist")
            for fam in ("pulsed", "adam") for nz in (0.0, 0.02, 0.05) for s in (0, 1)]
    panels = curve_panels(pd.DataFrame(rows), ["algo", "dataset", "matched", "noise", "limit"])
    keys = [(v["dataset"], v["matched"]) for v, _ in panels]
    assert sorted(keys) == sorted((ds, f) for ds in ("digits", "fashion-mnist")
                                  for f in ("pulsed", "adam"))
    for vals, sub in panels:
        assert vals["noise"] == 0.02                       # the middle value, in every panel
        assert set(sub["noise"]) == {0.02} and set(sub["dataset"]) == {vals["dataset"]}
        assert len(sub) == 4                               # 2 algorithms x 2 seeds
        assert "limit" not in vals                         # one value within a dataset


def test_a_knob_unset_in_some_runs_is_one_value():
    """A knob set only for some runs (the study's Fashion-MNIST limit, digits' None) is a
    float column with NaN: one "default" value, not one NaN per run (the report's knob
    figure looked each run's value up among them and failed)."""
    from reports.figures import values_of

    df = pd.DataFrame([{"limit": None}, {"limit": 2000}, {"limit": None}])
    assert df["limit"].dtype == float
    assert values_of(df["limit"]) == [None, 2000.0]
    assert values_of(pd.Series(["ecram", None, "pcm-gst"])) == [None, "ecram", "pcm-gst"]
