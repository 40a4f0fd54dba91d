"""A real small sweep (digits, one epoch) through `results` and `report`, rendered in Chromium.

One module-scoped store: PFF and BP x two read-noise levels x two seeds, 60 training images.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analogff.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def sweep_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("study")
    store = d / "study.db"
    r = runner.invoke(app, ["sweep", "--grid", "noise=0,0.05", "--grid", "epochs=1",
                            "--grid", "limit=60", "--algo", "pff,bp", "--seeds", "2",
                            "--workers", "1", "--store", str(store)])
    assert r.exit_code == 0, r.output
    return store


@pytest.fixture(scope="module")
def report_dir(sweep_store, tmp_path_factory):
    """The report of the sweep as `analogff report` writes it: the suite's one report with
    every figure rendered in all three formats (the other report tests render less)."""
    out = tmp_path_factory.mktemp("rep") / "report"
    r = runner.invoke(app, ["report", str(sweep_store), "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_results_groups_by_configuration_warns_and_fits_80_columns(sweep_store):
    r = runner.invoke(app, ["results", str(sweep_store), "--group-by", "algo"],
                      env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "also grouped by noise" in out                  # never pooled over noise
    assert "warning" in out and "< 3" in out               # n = 2 seeds
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "±" in out and ("µJ" in out or "nJ" in out)     # SI prefixes, not raw joules
    r = runner.invoke(app, ["results", str(sweep_store), "--hw"], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    assert "TOPS/W" in r.stdout and max(len(x) for x in r.stdout.splitlines()) <= 80


def test_results_group_csv_is_per_configuration(sweep_store, tmp_path):
    import pandas as pd

    csv = tmp_path / "g.csv"
    r = runner.invoke(app, ["results", str(sweep_store), "--group-by", "noise", "--csv",
                            str(csv)])
    assert r.exit_code == 0, r.output
    g = pd.read_csv(csv)
    assert len(g) == 4 and set(g["n"]) == {2} and g["few_seeds"].all()
    assert {"noise", "algo"} <= set(g.columns)


def test_report_files_formats_and_tables(report_dir):
    from PIL import Image

    names = {p.name for p in report_dir.iterdir()}
    stems = {"energy_vs_accuracy", "energy_vs_accuracy_by_algo", "accuracy_vs_noise",
             "energy_breakdown", "analog_vs_digital", "per_matrix", "area_breakdown",
             "sensitivity"}
    for s in stems:
        assert {f"{s}.png", f"{s}.svg", f"{s}.pdf"} <= names, s
        dpi = Image.open(report_dir / f"{s}.png").info.get("dpi")
        assert dpi is not None and round(dpi[0]) == 300
        assert (report_dir / f"{s}.pdf").read_bytes()[:5] == b"%PDF-"
    for t in ("configurations", "runs", "per_matrix"):
        tex = (report_dir / f"{t}.tex").read_text()
        assert "\\toprule" in tex and "\\end{tabular}" in tex
        assert (report_dir / f"{t}.csv").exists()
    html = (report_dir / "index.html").read_text()
    assert "Chip priced" in html and "node_nm" in html and "TOPS/W" in html
    assert "fewer than 3 seeds" in html and "Held constant" in html
    for s in stems:
        assert f'src="{s}.png"' in html and f'href="{s}.svg"' in html


def test_per_matrix_area_and_energy_add_up(sweep_store):
    """Per-matrix areas plus the shared SRAM and digital lanes are the chip area; per-matrix
    energies never exceed the run's total; TOPS/W is 2·MACs / energy per inference."""
    from reports.report import load_records, run_metrics
    from reports.run_energy import split_ledger

    for rid, rec in load_records(sweep_store)[:4]:
        m = run_metrics(rid, rec)
        row, mats, area = m["runs"][0], m["matrices"], m["area"]
        shared = sum(a["mm2"] for a in area if a["block"] in ("sram", "digital"))
        assert sum(x["area_mm2"] for x in mats) + shared == pytest.approx(row["area_mm2"],
                                                                            rel=1e-9)
        assert 0 < sum(x["energy_per_train_sample_j"] for x in mats) < \
            row["energy_per_train_sample_j"]
        for x in mats:
            assert 0 <= x["adc_saturation_train"] <= 1
            # the share of the matrix's weight updates the pulse cap cut, from its entries
            ents = [e for e in split_ledger(rec["ledger"])[0]["entries"]
                    if e["matrix"] == x["matrix"]]
            updates = sum(e.get("update_calls", 0) for e in ents) * \
                rec["ledger"]["matrices"][x["matrix"]]["rows"] * \
                rec["ledger"]["matrices"][x["matrix"]]["cols"]
            analog = rec["ledger"]["matrices"][x["matrix"]].get("analog")
            if "trains_capped" in rec["counts"] and analog and updates:
                assert x["pulse_cap_train"] == pytest.approx(
                    sum(e.get("trains_capped", 0) for e in ents) / updates, rel=1e-12)
            else:
                assert math.isnan(x["pulse_cap_train"])
        macs = sum(e.get("macs", 0) for e in split_ledger(rec["ledger"])[1]["entries"])
        ops_per_inf = 2 * macs / rec["samples"]["test"]
        assert row["tops_per_w"] == pytest.approx(
            ops_per_inf / row["energy_per_inference_j"] / 1e12, rel=1e-9)
        # the report re-prices the stored ledger on the stored chip: same numbers as the run
        assert row["energy_per_train_sample_j"] == pytest.approx(
            rec["energy"]["per_train_sample_j"], rel=1e-9)


CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists(
    "/usr/bin/chromium") else None)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_real_sweep_report_renders_in_headless_chromium(report_dir, tmp_path):
    import numpy as np
    from PIL import Image

    shot = tmp_path / "shot.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
           "--window-size=1300,4000", (report_dir / "index.html").resolve().as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20000
    im = np.asarray(Image.open(shot).convert("L").resize((130, 400)))
    assert np.unique(im).size > 50                       # figures, not a blank page
    # the images loaded: a broken <img> leaves the figure band nearly uniform
    band = im[40:200]
    assert band.std() > 10


def test_sensitivity_is_the_difference_of_configuration_means(report_dir, sweep_store):
    import pandas as pd

    from reports.figures import make_study, sensitivity_rows
    from reports.report import _config_columns, analyse, load_records

    recs = load_records(sweep_store)
    d = analyse(recs)
    st = make_study(pd.DataFrame(d["runs"]), pd.DataFrame(d["energy"]), pd.DataFrame(d["area"]),
                    pd.DataFrame(d["matrices"]), _config_columns(recs))
    assert st.knobs == ["noise"] and st.base == {"noise": 0.0}
    g = pd.read_csv(report_dir / "configurations.csv")
    rows = sensitivity_rows(st)
    assert {(r["algo"], r["value"]) for r in rows} == {("pff", 0.05), ("bp", 0.05)}
    for r in rows:
        acc = g[g["algo"] == r["algo"]].set_index("noise")["test_accuracy_mean"]
        assert r["delta"] == pytest.approx(acc[0.05] - acc[0.0])
