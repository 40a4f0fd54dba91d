"""A run is priced once (reports.run_energy.price_run): simulate's record, the results store,
the report and `analogff energy --run` give the same numbers for the same run."""

from __future__ import annotations

import json
import math

from typer.testing import CliRunner

from analogff.cli import app

runner = CliRunner()
QUICK = ["--epochs", "1", "--limit", "120", "--hidden", "20", "--batch-size", "30",
         "--no-monitor", "--algo", "bp", "--node-nm", "45", "--adc-type", "flash",
         "--tile-rows", "32", "--tile-cols", "32"]
KEYS = ("per_train_sample_j", "per_inference_j", "digital_per_train_sample_j",
        "digital_per_inference_j", "digital_per_inference_batched_j", "area_mm2")


def test_simulate_results_report_and_energy_agree(tmp_path):
    db = tmp_path / "r.db"
    r = runner.invoke(app, ["simulate", "--json", "--store", str(db), *QUICK])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    e = rec["energy"]
    assert e["digital_inference_batch"] == 30
    assert e["digital_per_inference_j"] > e["digital_per_inference_batched_j"] > 0

    from analogff.store import ResultsStore
    with ResultsStore(db, create=False) as st:
        row = st.to_dataframe().iloc[0]
    assert row["energy_per_train_sample_j"] == e["per_train_sample_j"]
    assert row["energy_per_inference_j"] == e["per_inference_j"]
    assert row["digital_per_inference_j"] == e["digital_per_inference_j"]
    assert row["digital_per_inference_batched_j"] == e["digital_per_inference_batched_j"]
    assert (row["node_nm"], row["adc_type"]) == (45, "flash")

    from reports.report import run_metrics
    rep = run_metrics(1, rec)["runs"][0]
    assert rep["energy_per_train_sample_j"] == e["per_train_sample_j"]
    assert rep["energy_per_inference_j"] == e["per_inference_j"]
    assert rep["digital_int8_per_train_sample_j"] == e["digital_per_train_sample_j"]
    assert rep["digital_int8_per_inference_j"] == e["digital_per_inference_j"]

    r = runner.invoke(app, ["energy", "--store", str(db), "--run", "1", "--json"])
    assert r.exit_code == 0, r.output
    en = json.loads(r.output)["energy"]
    for k in KEYS:
        assert en[k] == e[k], k
    assert math.isclose(sum(e["train_by_phase_j"].values()), e["per_train_sample_j"],
                        rel_tol=1e-12)
    r = runner.invoke(app, ["energy", "--store", str(db), "--run", "1"])
    assert r.exit_code == 0 and "run 1 of" in " ".join(r.output.split())
    r = runner.invoke(app, ["energy", "--store", str(db), "--run", "7"])
    assert r.exit_code == 2 and "no run with id 7" in r.output
    r = runner.invoke(app, ["energy", "--store", str(db), "--run", "1", "--adc-bits", "4"])
    assert r.exit_code == 2 and "chip it was simulated on" in r.output
    # the network's options were ignored with --run (a stored PFF run priced "with --algo bp")
    for opt, value in (("--algo", "bp"), ("--network", "64,32,10"), ("--batch", "100"),
                       ("--update", "deterministic"), ("--steps", "3")):
        r = runner.invoke(app, ["energy", "--store", str(db), "--run", "1", opt, value])
        assert r.exit_code == 2, (opt, r.output)
        assert r.output.strip() == f"Error: {opt} does not apply with --run (the run is priced " \
            "as it was trained: its own network, algorithm and batch); drop it"
