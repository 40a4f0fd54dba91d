"""sweep takes every simulate option as a fixed value; simulate takes the device overrides,
--eval-times, shows one bar for the whole run and names the final accuracy."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from analogff.cli import app

runner = CliRunner()


def test_sweep_fixed_options_are_base_values_of_every_point(tmp_path):
    db = tmp_path / "r.db"
    r = runner.invoke(app, ["sweep", "--dataset", "digits", "--epochs", "3", "--c2c", "0.1",
                            "--limit", "100", "--grid", "noise=0,0.05", "--dry-run",
                            "--store", str(db)])
    assert r.exit_code == 0, r.output
    assert "2 points" in r.stdout
    from analogff.cli.run_options import sweep_fields
    from analogff.sweep import build_spec, expand

    pts = expand(build_spec(["noise=0,0.05"], None, [], None,
                            base={"epochs": 3, "c2c": 0.1, "limit": 100}))
    assert [(p.epochs, p.c2c, p.limit) for p in pts] == [(3, 0.1, 100)] * 2
    # the sweep's own points are these: the dry run lists their config hashes (without the
    # fixed options the hashes differ)
    for p in pts:
        assert p.config_hash()[:16] in r.stdout
    assert {"dataset", "epochs", "c2c", "drift_nu"} <= set(sweep_fields())


def test_sweep_fixed_option_and_grid_key_together_is_refused(tmp_path):
    r = runner.invoke(app, ["sweep", "--epochs", "3", "--grid", "epochs=1,2", "--dry-run",
                            "--store", str(tmp_path / "r.db")])
    assert r.exit_code == 2 and "epochs" in r.output
    assert len([x for x in r.output.strip().splitlines() if x.strip()]) == 1


def test_simulate_device_override_eval_times_and_final_accuracy(tmp_path):
    r = runner.invoke(app, ["simulate", "--algo", "bp", "--limit", "60", "--epochs", "1",
                            "--hidden", "20", "--device", "pcm-gst", "--drift-nu", "0.08",
                            "--eval-times", "1,86400", "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    assert rec["config"]["drift_nu"] == 0.08
    assert set(rec["metrics"]["accuracy_vs_time"]) == {"1", "86400"}
    r = runner.invoke(app, ["simulate", "--algo", "bp", "--limit", "60", "--epochs", "2",
                            "--hidden", "20"], env={"COLUMNS": "120"})
    assert r.exit_code == 0, r.output
    assert "final test accuracy" in r.stdout and "ETA" in r.stdout
    r = runner.invoke(app, ["simulate", "--eval-times", "5,1"])
    assert r.exit_code == 2 and "eval_times" in r.output
    # a sweep fixes it for every point: each record carries its accuracy over time
    db = tmp_path / "t.db"
    r = runner.invoke(app, ["sweep", "--algo", "bp", "--limit", "60", "--epochs", "1",
                            "--hidden", "20", "--device", "pcm-gst", "--eval-times", "1,3600",
                            "--grid", "drift_nu=0,0.1", "--workers", "1", "--store", str(db)])
    assert r.exit_code == 0, r.output
    from analogff.store import ResultsStore
    with ResultsStore(db, create=False) as st:
        recs = st.records()
    assert len(recs) == 2
    assert all(set(x["metrics"]["accuracy_vs_time"]) == {"1", "3600"} for x in recs)


def test_results_never_pools_a_field_an_older_store_has_no_column_for(tmp_path):
    """A store created before a config field existed (no column) still groups by it: the
    value is read from each run's record."""
    import os
    import sqlite3
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # sweep_points
    from sweep_points import fake_record

    from analogff.config import SimConfig
    from analogff.store import ResultsStore

    db = tmp_path / "old.db"
    with ResultsStore(db) as st:
        for c2c in (0.0, 0.3):
            for seed in range(2):
                st.add(fake_record(SimConfig(c2c=c2c, seed=seed)))
    con = sqlite3.connect(db)
    con.execute('ALTER TABLE runs DROP COLUMN "c2c"')      # as if written before c2c existed
    con.commit()
    con.close()
    r = runner.invoke(app, ["results", str(db), "--group-by", "algo", "--csv",
                            str(tmp_path / "g.csv")])
    assert r.exit_code == 0, r.output
    assert "also grouped by c2c" in r.stdout
    import pandas as pd
    g = pd.read_csv(tmp_path / "g.csv")
    assert len(g) == 2 and set(g["n"]) == {2}
