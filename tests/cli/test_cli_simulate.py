"""`analogff simulate` end to end: typer's runner, a real subprocess, one-line errors."""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from analogff.cli import app

runner = CliRunner()
QUICK = ["--epochs", "1", "--limit", "120", "--hidden", "20,20", "--steps", "2",
         "--batch-size", "30", "--no-monitor"]
QUICK_NO_STEPS = [a for a in QUICK if a not in ("--steps", "2")]   # settling steps are PFF's only


def test_simulate_analog_json_record():
    r = runner.invoke(app, ["simulate", "--noise", "0.05", "--json", *QUICK])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    assert rec["status"] == "done" and rec["config"]["noise"] == 0.05
    assert 0.0 <= rec["metrics"]["test_accuracy"] <= 1.0
    assert rec["counts"]["pulses"] > 0 and rec["counts"]["adc_conversions"] > 0
    assert rec["energy"]["per_train_sample_j"] > 0 and rec["energy"]["per_inference_j"] > 0
    # PFF's only transposed reads are of the small generative matrix G3
    tr = [e for e in rec["ledger"]["entries"] if e.get("transposed_vectors")]
    assert tr and {e["matrix"] for e in tr} == {"G3"}


def test_simulate_is_reproducible_and_monitor_does_not_change_results():
    a = runner.invoke(app, ["simulate", "--json", "--seed", "3", *QUICK])
    b = runner.invoke(app, ["simulate", "--json", "--seed", "3", *QUICK[:-1], "--monitor"])
    ra = json.loads(a.stdout.strip().splitlines()[-1])
    rb = json.loads(b.stdout.strip().splitlines()[-1])
    assert ra["metrics"] == rb["metrics"] and ra["counts"] == rb["counts"]


def test_simulate_summary_table_store_and_images(tmp_path):
    db = tmp_path / "r.db"
    r = runner.invoke(app, ["simulate", "--ideal", "--store", str(db), "--save-images",
                            str(tmp_path / "img"), *QUICK])
    assert r.exit_code == 0, r.output
    assert "test accuracy" in r.stdout and "energy / training sample" in r.stdout
    assert sorted(p.name for p in (tmp_path / "img").iterdir()) == [
        "inputs.png", "reconstructions.png", "samples.png"]
    with sqlite3.connect(db) as con:
        assert con.execute("select count(*) from runs where status='done'").fetchone()[0] == 1


def test_config_file_and_cli_override(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('algo = "bp"\nhidden = "16"\nepochs = 1\nlimit = 120\nseed = 5\n')
    r = runner.invoke(app, ["simulate", "--config", str(cfg), "--seed", "7", "--json", "--ideal"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    assert rec["config"]["algo"] == "bp" and rec["config"]["seed"] == 7


@pytest.mark.parametrize("args,words", [
    (["--noise", "-0.1"], ["noise", "-0.1"]),
    (["--adc-bits", "0"], ["adc_bits", "0"]),
    (["--dataset", "cifar-99"], ["cifar-99", "digits"]),
    (["--device", "unobtainium"], ["unobtainium", "rram-taox"]),
    (["--algo", "sgd"], ["algo", "pff"]),
    (["--hidden", "15,15"], ["multiples of the competition group size 10"]),
    (["--hidden", "a,b"], ["hidden"]),
    (["--update", "magic"], ["update", "deterministic"]),
    (["--optimizer", "magic"], ["optimizer", "sgd"]),
    (["--adc-bits", "20"], ["adc_bits = 20", "2..16"]),          # was priced as 8 in silence
    (["--dac-bits", "1"], ["dac_bits = 1", "2..16"]),
    (["--adc-bits-transposed", "10"], ["adc_bits_transposed", "adc_bits"]),
    (["--tile-size", "4"], ["cols_per_adc = 8", "tile_cols = 4"]),
    (["--tile-size", "64", "--tile-rows", "32"], ["--tile-size", "tile_rows"]),
    (["--rows-active", "300"], ["rows_active", "tile_rows"]),
    (["--node-nm", "28"], ["node_nm", "22"]),
])
def test_bad_options_give_one_line(args, words):
    r = runner.invoke(app, ["simulate", *QUICK, *args])
    assert r.exit_code == 2
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in r.output + err
    for w in words:
        assert w in err, (w, err)


def test_missing_config_file_is_one_line(tmp_path):
    r = runner.invoke(app, ["simulate", "--config", str(tmp_path / "nope.toml")])
    assert r.exit_code == 2 and "nope.toml" in r.stderr and "Traceback" not in r.stderr


def test_real_subprocess_end_to_end():
    env = dict(os.environ, COLUMNS="120")
    # side by side: independent processes, each mostly its (single-threaded) imports
    procs = [subprocess.Popen([sys.executable, "-m", "analogff", "simulate", *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for args in (["--algo", "ff", "--ideal", *QUICK_NO_STEPS], ["--noise", "-1"])]
    try:
        (out, err), (_bad_out, bad_err) = (p.communicate(timeout=300) for p in procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert procs[0].returncode == 0, err
    assert "test accuracy" in out
    assert procs[1].returncode == 2 and "Traceback" not in bad_err
    assert len(bad_err.strip().splitlines()) == 1


def test_missing_dataset_is_one_line_naming_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALOGFF_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    r = runner.invoke(app, ["simulate", "--dataset", "kmnist", *QUICK])
    assert r.exit_code == 2
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in r.output
    assert str(tmp_path / "data") in err and "kmnist" in err
    assert r.stdout == ""  # nothing started: no progress bar, no table


@pytest.mark.parametrize("command", [
    ["simulate", "--algo", "bp", *QUICK],
    ["sweep", "--workers", "1", "--algo", "pff", "--algo", "bp", "--epochs", "1", "--steps", "2"],
])
def test_an_option_the_algorithm_lacks_is_refused(command, tmp_path):
    """--steps is PFF's only: with BP it is refused in one line, before anything runs (it was
    dropped without a word, and the record kept the value BP never used)."""
    db = tmp_path / "r.db"
    r = runner.invoke(app, [*command, "--store", str(db)])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.output
    assert "steps = 2 is only available for --algo pff; bp has no such option" in lines[0]
    assert ("zip it with algo" in lines[0]) == (command[0] == "sweep")   # the way out
    assert not db.exists()


@pytest.mark.parametrize("command, field, value", [
    (["simulate", "--ideal", "--noise", "0.05", *QUICK], "noise", "0.05"),
    (["simulate", "--ideal", "--c2c", "0.1", *QUICK], "c2c", "0.1"),
    (["simulate", "--ideal", "--states", "64", *QUICK], "states", "64"),
    (["sweep", "--workers", "1", "--grid", "ideal=false,true", "--grid", "noise=0,0.05",
      "--epochs", "1"], "noise", "0.0"),
])
def test_a_device_field_on_an_ideal_run_is_refused(command, field, value, tmp_path):
    """The float twin simulates no device: a device field it sets would change only the
    record (it was stored and ignored), so it is refused in one line before anything runs."""
    db = tmp_path / "r.db"
    r = runner.invoke(app, [*command, "--store", str(db)])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.output
    assert f"{field} = {value} has no effect on an ideal run" in lines[0]
    assert not db.exists()


def test_a_sweep_zips_the_float_twin_with_unset_device_fields(tmp_path):
    """The way the refusal names: the ideal point leaves noise unset ("none") in a [zip]."""
    spec = tmp_path / "z.toml"
    spec.write_text('[base]\nepochs = 1\n[zip]\nideal = [true, false]\n'
                    'noise = ["none", 0.05]\n')
    r = runner.invoke(app, ["sweep", "--config", str(spec), "--store", str(tmp_path / "z.db"),
                            "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "2 points: 0 done, 0 failed, 2 to run" in " ".join(r.output.split())


def test_stochastic_scheme_with_adam_is_refused(tmp_path):
    """Adam's steps fire the same counts under the stochastic scheme as under the
    deterministic one (test_analog: apply_delta), so the pair is refused; with a pulsed rule
    the scheme is used."""
    db = tmp_path / "r.db"
    r = runner.invoke(app, ["simulate", "--update", "stochastic", "--store", str(db), *QUICK])
    assert r.exit_code == 2, r.output
    assert r.output.startswith("Error: update = 'stochastic' has no effect with the adam rule")
    assert len(r.output.strip().splitlines()) == 1 and not db.exists()
    r = runner.invoke(app, ["simulate", "--update", "stochastic", "--optimizer", "sgd",
                            "--json", *QUICK])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["config"]["update"] == "stochastic"


def test_hardware_file_options_and_record(tmp_path):
    """--hardware FILE, a single-field override, the simulator's tiles and converters, and the
    whole chip stored in the record and the store."""
    hw = tmp_path / "chip.toml"
    hw.write_text('[hardware]\nnode_nm = 65\ndevice = "rram-taox"\ntile_rows = 32\n'
                  'tile_cols = 32\ncols_per_adc = 4\nadc_bits = 6\nadc_type = "flash"\n')
    db = tmp_path / "r.db"
    r = runner.invoke(app, ["simulate", "--hardware", str(hw), "--adc-bits", "5", "--algo", "bp",
                            "--store", str(db), "--json", *QUICK_NO_STEPS])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    assert rec["schema"] == 2
    chip = rec["hardware"]
    assert (chip["node_nm"], chip["device"], chip["adc_bits"], chip["adc_type"],
            chip["tile_rows"]) == (65, "rram-taox", 5, "flash", 32)
    assert {k: rec["config"][k] for k in chip} == chip            # flat in config too
    # the simulator used the chip: every analog matrix recorded its own converters
    mats = [i for i in rec["ledger"]["matrices"].values() if i.get("analog")]
    assert mats and all(i["adc_bits"] == 5 and i["adc_type"] == "flash"
                        and i["adc_bits_transposed"] == 5 and i["tile_cols"] == 32 for i in mats)
    assert "65 nm" in rec["energy"]["model"]
    assert rec["energy"]["digital_inference_batch"] == 30
    with sqlite3.connect(db) as con:
        row = con.execute("select node_nm, adc_type, adc_bits, tile_rows from runs").fetchone()
    assert row == (65, "flash", 5, 32)


def test_config_file_with_simulate_and_hardware_tables(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('[simulate]\nalgo = "bp"\nhidden = "16"\nepochs = 1\nlimit = 120\n'
                   '[hardware]\nnode_nm = 14\nadc_bits = 7\n')
    r = runner.invoke(app, ["simulate", "--config", str(cfg), "--ideal", "--json",
                            "--adc-bits", "6"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    assert rec["hardware"]["node_nm"] == 14 and rec["hardware"]["adc_bits"] == 6  # CLI wins
    bad = tmp_path / "bad.toml"
    bad.write_text('[hardware]\noutput_bits = 8\n')
    r = runner.invoke(app, ["simulate", "--config", str(bad)])
    assert r.exit_code == 2 and "output_bits" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_range_widened_past_full_scale_is_recorded_and_named():
    """PFF widens its generative matrices' ADC range (gen_adc_range = 6× --out-bound): at 0.5
    they would ask for ±3 of a column's full scale and get ±1; the record keeps both numbers
    and stderr names the matrices. At 0.1 (±0.6) nothing is capped and nothing is said."""
    r = runner.invoke(app, ["simulate", "--out-bound", "0.5", "--json", *QUICK])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)["ledger"]["matrices"]
    capped = sorted(m for m, v in info.items() if "out_bound_requested" in v)
    assert capped == ["G1", "G2", "G3"]
    assert all(info[m]["out_bound"] == 1.0 and info[m]["out_bound_requested"] == 3.0
               for m in capped)
    assert info["W1"]["out_bound"] == 0.5
    notes = [ln for ln in r.stderr.splitlines() if ln.startswith("note: ")]
    assert notes == ["note: G1, G2, G3: ADC range ±1 (a tile's full-scale column sum), not "
                     "the ±3 asked (--out-bound 0.5 × the algorithm's widening for these "
                     "matrices): no column sums beyond full scale"]
    r = runner.invoke(app, ["simulate", "--out-bound", "0.1", "--json", *QUICK])
    info = json.loads(r.stdout)["ledger"]["matrices"]
    assert info["G1"]["out_bound"] == pytest.approx(0.6) and "note: " not in r.stderr
    assert not any("out_bound_requested" in v for v in info.values())


def test_a_clipping_array_is_named_with_the_option_to_change():
    """A range far too narrow clips most conversions: stderr names each matrix and
    --out-bound; the table's worst-matrix row agrees with the record's ledger."""
    r = runner.invoke(app, ["simulate", "--out-bound", "0.001", *QUICK])
    assert r.exit_code == 0, r.output
    warn = [ln for ln in r.stderr.splitlines() if "ADC conversions saturated" in ln]
    assert warn and all(ln.startswith("warning: ") and "--out-bound (now 0.001)" in ln
                        for ln in warn)
    assert any(ln.startswith("warning: W1: ") for ln in warn)
    row = next(ln for ln in r.stdout.splitlines() if "ADC saturation, worst matrix" in ln)
    m = re.search(r"(\w+): ([\d.]+) %", row.split("worst matrix", 1)[1])
    shares = {w.split(":")[1].strip(): float(w.split(":")[2].split("%")[0]) for w in warn}
    assert m and m.group(1) == max(shares, key=shares.get)        # the worst warned matrix
    assert abs(float(m.group(2)) - shares[m.group(1)]) <= 0.05    # the same share (rounding)


def test_pulse_trains_cut_by_the_cap_are_counted_and_named(tmp_path):
    """Plain SGD at a learning rate far too large asks most devices for more pulses than the
    periphery's cap: stderr names each matrix over 5 % of its weight updates; the table's
    row, the record's count and `results`' export agree with the warned shares; an ideal run
    has no pulses."""
    db = str(tmp_path / "r.db")
    r = runner.invoke(app, ["simulate", "--algo", "bp", "--optimizer", "sgd", "--lr", "5",
                            "--store", db, *QUICK_NO_STEPS])
    assert r.exit_code == 0, r.output
    warn = [ln for ln in r.stderr.splitlines() if "were cut to them" in ln]
    assert {w.split(":")[1].strip() for w in warn} == {"bp.W1", "bp.W2", "bp.W3"}
    shares = {w.split(":")[1].strip(): float(w.split(":")[2].split("%")[0]) for w in warn}
    assert all("--update-slots (now 31)" in w for w in warn)
    row = next(ln for ln in r.stdout.splitlines() if "pulse trains cut to update slots" in ln)
    m = re.search(r"worst ([\w.]+): ([\d.]+) %", row)
    assert m and m.group(1) == max(shares, key=shares.get)
    assert abs(float(m.group(2)) - shares[m.group(1)]) <= 0.05
    j = runner.invoke(app, ["simulate", "--algo", "bp", "--optimizer", "sgd", "--lr", "5",
                            "--json", *QUICK_NO_STEPS])
    rec = json.loads(j.stdout.strip().splitlines()[-1])
    assert rec["counts"]["trains_capped"] == sum(e.get("trains_capped", 0)
                                                 for e in rec["ledger"]["entries"]
                                                 if e["phase"] != "inference") > 0
    ideal = runner.invoke(app, ["simulate", "--ideal", "--algo", "bp", "--store", db,
                                *QUICK_NO_STEPS])
    row = next(ln for ln in ideal.stdout.splitlines() if "pulse trains cut" in ln)
    assert "n/a" in row and "were cut to them" not in ideal.stderr
    csv = tmp_path / "runs.csv"
    assert runner.invoke(app, ["results", db, "--csv", str(csv)]).exit_code == 0
    runs = pd.read_csv(csv).set_index("ideal")
    assert runs.loc[False, "pulse_cap_worst_matrix"] == m.group(1)
    assert abs(100 * runs.loc[False, "pulse_cap_worst"] - shares[m.group(1)]) <= 0.05
    assert math.isnan(runs.loc[True, "pulse_cap_worst"])


def test_stochastic_streams_clipped_at_one_are_named():
    """Plain SGD at a rate far too large with stochastic updates: lines asked for more than one
    pulse per slot; stderr names each matrix over 5 % of its streams with the share the
    record's ledger gives, and a moderate rate says nothing."""
    r = runner.invoke(app, ["simulate", "--algo", "bp", "--optimizer", "sgd", "--update",
                            "stochastic", "--lr", "5", "--json", *QUICK_NO_STEPS])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    warn = [ln for ln in r.stderr.splitlines() if "bit streams of its stochastic" in ln]
    assert warn and all("--update-slots (now 31)" in w for w in warn)
    for w in warn:
        m = w.split(":")[1].strip()
        ents = [e for e in rec["ledger"]["entries"] if e["matrix"] == m]
        share = sum(e.get("streams_clipped", 0) for e in ents) / (
            sum(e.get("rng_draws", 0) for e in ents) / 31)
        assert abs(float(w.split(":")[2].split("%")[0]) - 100 * share) <= 0.05
    calm = runner.invoke(app, ["simulate", "--algo", "bp", "--optimizer", "sgd", "--update",
                               "stochastic", "--lr", "0.01", *QUICK_NO_STEPS])
    assert calm.exit_code == 0 and "bit streams" not in calm.stderr
