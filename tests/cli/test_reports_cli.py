"""`analogff energy` and `analogff report` end to end, and a headless-browser look at the report."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analogff.cli import app

runner = CliRunner()


def test_energy_tables():
    r = runner.invoke(app, ["energy", "--network", "64,30,30,10", "--algo", "pff", "--steps", "3"])
    assert r.exit_code == 0, r.output
    for s in ("per training sample", "per inference", "TOPS/W", "TOPS/mm²", "digital int8",
              "mm²", "adc", "generative", "J", "batch 1", "batch 100", "counting backend"):
        assert s in " ".join(r.output.split())


@pytest.mark.parametrize("args, words", [
    (["--network", "64,35,30,10", "--algo", "pff"], ["multiples", "10", "35"]),
    (["--cols-per-adc", "64", "--tile-cols", "32"], ["cols_per_adc", "tile_cols"]),
    (["--rows-active", "300"], ["rows_active", "tile_rows"]),
    (["--device", "no-such-device"], ["device", "no-such-device"]),
    (["--algo", "sgd"], ["algo", "pff"]),
    (["--adc-type", "pipeline"], ["adc_type", "sar"]),
])
def test_energy_contradictions_are_one_line(args, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["energy", *args])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.output, r.output
    for w in words:
        assert w in lines[0]
    assert list(tmp_path.iterdir()) == []            # nothing written


def test_energy_options_override_the_hardware_file(tmp_path):
    hw = tmp_path / "hw.toml"
    hw.write_text("[hardware]\nnode_nm = 65\nadc_bits = 6\n")
    r = runner.invoke(app, ["energy", "--hardware", str(hw), "--adc-bits", "7", "--node-nm",
                            "7", "--network", "64,32,10", "--algo", "bp", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["hardware"]["node_nm"] == 7 and d["hardware"]["adc_bits"] == 7


def test_energy_json_with_hardware_file(tmp_path):
    hw = tmp_path / "hw.toml"
    hw.write_text('node_nm = 65\nadc_bits = 6\ntransposed_readout = "separate_periphery"\n')
    r = runner.invoke(app, ["energy", "--hardware", str(hw), "--network", "64,32,10",
                            "--algo", "bp", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["hardware"]["node_nm"] == 65 and d["algo"] == "bp"
    assert d["per_train_sample"]["total_j"] > 0
    assert d["per_train_sample"]["area_breakdown_mm2"]["transposed_periphery"] > 0
    assert {"int8", "fp16"} <= set(d["digital"])


def test_energy_fields_lists_every_hardware_field():
    from dataclasses import fields

    from reports import Hardware
    from reports.hardware import field_specs

    names = [f.name for f in fields(Hardware)]
    specs = field_specs()
    assert [r[0] for r in specs] == names
    allowed = dict((r[0], r[2]) for r in specs)
    assert allowed["adc_type"].startswith("sar | flash | cco")
    assert allowed["program_verify"] == "true | false"
    assert allowed["adc_bits"] == "integers 1..16 bit; simulate: 2..16"
    r = runner.invoke(app, ["energy", "--fields"])
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    for n in names:
        assert n in flat
    assert "reports/hardware_example.toml" in flat


def test_energy_core_scope_cco_tile_figures(tmp_path):
    """A HERMES-like hardware file: the tile table says it is core level and prices the CCO."""
    hw = tmp_path / "hw.toml"
    hw.write_text('node_nm = 14\ninput_mode = "pwm"\nadc_type = "cco"\ncols_per_adc = 1\n'
                  'scope = "core"\n')
    r = runner.invoke(app, ["energy", "--hardware", str(hw), "--network", "64,32,10",
                            "--algo", "bp", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["hardware"]["adc_type"] == "cco"
    tile = d["tile_mvm"]["by_component_j"]
    assert tile["adc"] > tile["array"] > 0      # 0.8 V rail vs the device's read voltage
    r = runner.invoke(app, ["energy", "--hardware", str(hw), "--network", "64,32,10",
                            "--algo", "bp"])
    assert r.exit_code == 0, r.output
    assert "tile MVM (core level" in " ".join(r.output.split())    # the title may wrap


@pytest.mark.parametrize("text, field", [("output_bits = 8\n", "output_bits"),
                                         ("adc_bits = 99\n", "adc_bits")])
def test_energy_bad_hardware_is_one_line(tmp_path, text, field):
    hw = tmp_path / "hw.toml"
    hw.write_text(text)
    r = runner.invoke(app, ["energy", "--hardware", str(hw)])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and field in lines[0] and "Traceback" not in r.output


def test_energy_bad_network():
    r = runner.invoke(app, ["energy", "--network", "64,x"])
    assert r.exit_code == 2 and "network" in r.output


def test_report_end_to_end(store, tmp_path, monkeypatch):
    # Every figure is built and drawn (layout, ticks, SI labels), but written only as a
    # 30-dpi PNG: rendering at 300 dpi in PNG, SVG and PDF (about 6 s of this test's 9 s of
    # CPU) is checked, through the same command, by test_report_study.py's report_dir fixture
    # and test_report_files_formats_and_tables
    import matplotlib.pyplot as plt

    import reports.figures

    def png_only(fig, out, stem):
        fig.savefig(out / f"{stem}.png", dpi=30)
        plt.close(fig)

    monkeypatch.setattr(reports.figures, "save", png_only)
    out = tmp_path / "rep"
    r = runner.invoke(app, ["report", str(store), "--out", str(out)])
    assert r.exit_code == 0, r.output
    names = {p.name for p in out.iterdir()}
    assert {"index.html", "runs.csv", "energy_breakdown.csv", "area_breakdown.csv",
            "accuracy_vs_noise.png", "energy_vs_accuracy.png", "energy_breakdown.png",
            "area_breakdown.png", "analog_vs_digital.png"} <= names
    html = (out / "index.html").read_text()
    for png in (n for n in names if n.endswith(".png")):
        assert f'src="{png}"' in html
    assert "http://" not in html and "https://" not in html  # self-contained
    import pandas as pd
    df = pd.read_csv(out / "runs.csv")
    assert len(df) == 12 and df["energy_per_train_sample_j"].gt(0).all()
    assert (df["digital_int8_per_train_sample_j"] > 0).all()
    # rerun replaces the directory (not merged into it) and leaves no temporary directories
    # behind. The replacing is build_report's own; the figures and tables are checked above, so
    # the rerun writes only a page (a second real build cost ~12 s of CPU)
    import reports.report

    monkeypatch.setattr(reports.report, "_write_all",
                        lambda records, tmp, store: (tmp / "index.html").write_text("rerun"))
    r = runner.invoke(app, ["report", str(store), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]
    assert [p.name for p in out.iterdir()] == ["index.html"]
    assert (out / "index.html").read_text() == "rerun"


def test_report_missing_and_corrupt_store(tmp_path):
    out = tmp_path / "rep"
    r = runner.invoke(app, ["report", str(tmp_path / "nope.db"), "--out", str(out)])
    assert r.exit_code == 2 and "does not exist" in r.output and not out.exists()
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    r = runner.invoke(app, ["report", str(bad), "--out", str(out)])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1 and not out.exists()
    import sqlite3
    s = tmp_path / "corrupt.db"
    con = sqlite3.connect(s)
    con.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, status TEXT, record TEXT)")
    con.execute("INSERT INTO runs (status, record) VALUES ('done', '{not json')")
    con.commit()
    con.close()
    r = runner.invoke(app, ["report", str(s), "--out", str(out)])
    assert r.exit_code == 2 and "corrupt" in r.output and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.db", "corrupt.db"]


CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@pytest.mark.slow   # test_report_study renders a real sweep's report in Chromium (same check)
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_report_renders_in_headless_chromium(store, tmp_path):
    from reports import build_report
    index = build_report(store, tmp_path / "rep")
    shot = tmp_path / "shot.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
           "--window-size=1400,3000", Path(index).resolve().as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20000
    from PIL import Image
    im = Image.open(shot).convert("L")
    # the page is not blank: the figures put many distinct grey levels on the screen
    import numpy as np
    assert np.unique(np.asarray(im.resize((200, 430)))).size > 50


def test_report_refuses_to_replace_a_foreign_directory(store, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    r = runner.invoke(app, ["report", str(store), "--out", str(out)])
    assert r.exit_code == 2 and "notes.txt" in r.output
    assert (out / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_report_reprices_on_a_what_if_chip_but_never_a_simulated_field(store, tmp_path):
    from reports.reprice import reprice_record
    from reports.run_energy import hardware_of_record, price_run

    from reports.report import load_records

    rec = load_records(store)[0][1]
    new = reprice_record(rec, {"node_nm": 7, "adc_type": "flash"})
    assert new["hardware"]["node_nm"] == 7 and rec["hardware"]["node_nm"] == 22
    assert {i["adc_type"] for i in new["ledger"]["matrices"].values() if i.get("analog")} \
        == {"flash"}

    def priced(r):
        s = r["samples"]
        return price_run(r["ledger"], hardware_of_record(r), train_samples=s["train_total"],
                         test_samples=s["test"], inference_batch=10).summary()

    assert priced(new)["per_train_sample_j"] != priced(rec)["per_train_sample_j"]
    chip = tmp_path / "chip.toml"
    chip.write_text("[hardware]\nadc_bits = 6\n")
    for args in (["--adc-bits", "6"], ["--hardware", str(chip)], ["--tile-rows", "16"]):
        out = tmp_path / "no"
        r = runner.invoke(app, ["report", str(store), "--out", str(out), *args])
        assert r.exit_code == 2 and "was simulated with" in r.output, r.output
        assert len(r.output.strip().splitlines()) == 1 and not out.exists()


def test_energy_run_with_a_chip_this_version_refuses_is_one_line(store, tmp_path):
    """A stored chip this version no longer accepts (here a charge array's c_mac on a
    resistive array, refused since the moot-field rules) is named in one line, not a
    traceback; results still lists the run."""
    import shutil
    import sqlite3

    db = tmp_path / "old.db"
    shutil.copy(store, db)
    con = sqlite3.connect(db)
    rid, text = con.execute("SELECT id, record FROM runs ORDER BY id LIMIT 1").fetchone()
    rec = json.loads(text)
    rec["hardware"]["c_mac"] = 2e-15
    con.execute("UPDATE runs SET record = ? WHERE id = ?", (json.dumps(rec), rid))
    con.commit()
    con.close()
    r = runner.invoke(app, ["energy", "--store", str(db), "--run", str(rid)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    lines = [ln for ln in r.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "this version cannot read its stored chip" in lines[0]
    assert "c_mac" in lines[0]
    assert runner.invoke(app, ["results", str(db)]).exit_code == 0


@pytest.mark.parametrize("opt, value", [("--steps", "3"), ("--pulse-density", "0.1")])
def test_fit_area_refuses_options_that_do_not_change_the_area(opt, value):
    r = runner.invoke(app, ["energy", "--fit-area", "10", opt, value])
    assert r.exit_code == 2
    assert r.output.strip() == f"Error: {opt} does not change the chip's area; drop it with " \
        "--fit-area"


def test_energy_says_which_matrices_the_update_slots_cut_in_the_priced_batch():
    """On the counting backend the cut trains are expected counts: one update slot cuts most of
    the first batch's Adam steps (one note, the matrices worst first, with their shares);
    1000 slots cut none, and no note is printed."""
    net = ["--network", "64,30,30,10", "--algo", "pff", "--steps", "3"]
    one = runner.invoke(app, ["energy", "--update-slots", "1", *net])
    assert one.exit_code == 0, one.output
    text = " ".join(one.output.split())
    note = text.split("note: in the priced batch the 1 update slots cut the pulse trains of ")[1]
    listed = note.split(" (expected")[0]
    shares = [(m, float(p)) for m, p in re.findall(r"(\w+) \((\d+) %\)", listed)]
    assert {m for m, _ in shares} >= {"W1", "W2", "G1", "G2"}
    assert [p for _, p in shares] == sorted((p for _, p in shares), reverse=True)
    many = runner.invoke(app, ["energy", "--update-slots", "1000", *net])
    assert many.exit_code == 0 and "note: in the priced batch" not in many.output
