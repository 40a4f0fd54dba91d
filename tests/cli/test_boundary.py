"""The input boundary (analogff/boundary.py): bad files, types, contradictions, resources and
output paths get one line and exit 2 before any training; nothing existing is touched."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from analogff.boundary import BoundaryError, check_output_dir, check_output_file, check_type
from analogff.cli import app

runner = CliRunner()


def one_line_exit2(r, *needles):
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), r.output
    assert "Traceback" not in r.output
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("text, needles", [
    ("epochs = 1\nadc_bits = 4\n[simulate]\nnoise = 0.05\n",
     ("top-level keys (epochs, adc_bits)", "[simulate]")),
    ("simulate = 5\n", ("simulate = 5 must be a table",)),
    ("device = 5\n", ("device = 5 must be a string",)),
    ("out_bound = [1]\n", ("out_bound = [1] must be a number", "list")),
    ("out_bound = true\n", ("out_bound = true must be a number", "boolean")),
    ("ideal = 5\n", ("ideal = 5 must be true or false",)),
    ("epochs = 1.5\n", ("epochs = 1.5 must be an integer",)),
    ("[hardware]\nadc_bits = '4'x\n", ("not valid TOML",)),
])
def test_config_file_refused_in_one_line(tmp_path, text, needles):
    p = tmp_path / "run.toml"
    p.write_text(text)
    one_line_exit2(runner.invoke(app, ["simulate", "--config", str(p)]), *needles)


def test_non_utf8_config_names_file_and_byte(tmp_path):
    p = tmp_path / "run.toml"
    p.write_bytes(b"noise = 0.05\n# caf\xe9\n")
    one_line_exit2(runner.invoke(app, ["simulate", "--config", str(p)]),
                   "not UTF-8", "0xe9", "line 2")


def test_config_that_is_a_directory(tmp_path):
    one_line_exit2(runner.invoke(app, ["simulate", "--config", str(tmp_path)]), "is a directory")


def test_batch_larger_than_training_set_refused():
    one_line_exit2(runner.invoke(app, ["simulate", "--batch-size", "1000000", "--limit", "100"]),
                   "batch_size = 1000000", "100 examples", "1..100")


def test_huge_network_refused_before_allocating():
    one_line_exit2(runner.invoke(app, ["simulate", "--hidden", "100000,100000"]),
                   "hidden = 100000,100000", "GiB", "available")


def test_save_images_onto_existing_file_refused_before_training(tmp_path):
    f = tmp_path / "img"
    f.write_text("keep me")
    one_line_exit2(runner.invoke(app, ["simulate", "--save-images", str(f)]), "is a file")
    assert f.read_text() == "keep me"


def test_numpy_scalars_are_numbers_and_bool_is_not():
    from analogff.config import SimConfig, from_dict
    from crossbar.chip import Hardware

    cfg = from_dict(dict(adc_bits=np.int64(6), seed=np.int64(3), noise=np.float32(0.5)))
    assert cfg.adc_bits == 6 and type(cfg.adc_bits) is int and type(cfg.seed) is int
    assert type(Hardware(adc_bits=np.int64(6)).adc_bits) is int
    assert type(SimConfig(seed=np.int64(2)).seed) is int
    with pytest.raises(BoundaryError, match="boolean"):
        from_dict(dict(noise=True))
    assert check_type("x", np.float64(2.0), float) == 2.0
    with pytest.raises(BoundaryError, match="list"):
        check_type("x", [1], int)


def test_output_checks(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(BoundaryError, match="is a directory"):
        check_output_file(tmp_path / "d", "--csv")
    with pytest.raises(BoundaryError, match="already exists"):
        (tmp_path / "f").write_text("x")
        check_output_file(tmp_path / "f", "--out", overwrite=False)
    with pytest.raises(BoundaryError, match="is a file"):
        check_output_dir(tmp_path / "f", "--out")
    with pytest.raises(BoundaryError, match="is a file, not a directory"):
        check_output_file(tmp_path / "f" / "x.csv", "--csv")
    assert check_output_dir(tmp_path / "new" / "deeper", "--out")
    assert not (tmp_path / "new").exists()          # checking creates nothing


def test_library_refuses_empty_set_and_bad_labels():
    from analogff.config import from_dict
    from analogff.data import load_dataset
    from analogff.experiment import run_experiment

    cfg = from_dict(dict(ideal=True, epochs=1, limit=50, algo="bp", hidden="10"))
    d = load_dataset("digits", limit=50)
    d.x_train, d.y_train = d.x_train[:0], d.y_train[:0]
    with pytest.raises(BoundaryError, match="no training examples"):
        run_experiment(cfg, data=d)
    d = load_dataset("digits", limit=50)
    d.y_train = d.y_train.copy()
    d.y_train[0] = 10
    with pytest.raises(BoundaryError, match="label 10 outside 0..9"):
        run_experiment(cfg, data=d)


def _store(tmp_path):
    from analogff.store import ResultsStore

    p = tmp_path / "runs.db"
    ResultsStore(p).close()
    return p


def test_results_export_paths_checked_first(tmp_path):
    db = _store(tmp_path)
    one_line_exit2(runner.invoke(app, ["results", str(db), "--csv", str(tmp_path)]),
                   "is a directory")
    one_line_exit2(runner.invoke(app, ["results", str(db), "--parquet", str(tmp_path)]),
                   "is a directory")
    one_line_exit2(runner.invoke(app, ["results", str(db), "--limit", "-1"]),
                   "--limit = -1")


def test_report_refuses_newer_schema_and_file_as_out(tmp_path):
    import sqlite3

    db = _store(tmp_path)
    f = tmp_path / "afile"
    f.write_text("keep")
    one_line_exit2(runner.invoke(app, ["report", str(db), "--out", str(f)]), "is a file")
    assert f.read_text() == "keep"
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA user_version=99")
    one_line_exit2(runner.invoke(app, ["report", str(db), "--out", str(tmp_path / "r")]),
                   "newer analogff")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("content, needles", [
    (b'name = "x"\n# \xff\n', ("not UTF-8", "0xff", "line 2")),
    (b"", ("does not set name, g_min, g_max, states",)),
    (b"g_min = 1e-6\n", ("does not set name, g_max, states",)),
    (b"device = 5\n", ("must be a table",)),
])
@pytest.mark.parametrize("command", [["devices", "show"], ["simulate", "--device"]])
def test_bad_device_file_one_line(tmp_path, content, needles, command):
    p = tmp_path / "dev.toml"
    p.write_bytes(content)
    one_line_exit2(runner.invoke(app, [*command, str(p)]), *needles)


@pytest.mark.parametrize("grid, needles", [
    ("dataset=mnist", ("sweep point (dataset=mnist)", "not found")),
    ("hidden=15,20;20,20", ("sweep point (hidden=15,20)", "multiples")),
    ("batch_size=5000", ("sweep point (batch_size=5000)", "1437 examples")),
    ("device=bogus", ("sweep point (device=bogus)", "unknown device preset")),
])
def test_sweep_points_checked_before_the_sweep_starts(tmp_path, monkeypatch, grid, needles):
    monkeypatch.setenv("ANALOGFF_DATA", str(tmp_path / "nodata"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    import analogff.data as data
    monkeypatch.setattr(data, "search_dirs", lambda name: [tmp_path / "nodata" / name])
    db = tmp_path / "s.db"
    one_line_exit2(runner.invoke(app, ["sweep", "--grid", grid, "--store", str(db)]), *needles)
    assert not db.exists()          # nothing ran, no store left behind


def test_refused_scheduler_port_one_line_at_once(tmp_path):
    import socket
    import time

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                        # nothing listens there now
    t = time.monotonic()
    one_line_exit2(runner.invoke(app, ["sweep", "--grid", "seed=1,2", "--store",
                                       str(tmp_path / "s.db"), "--scheduler",
                                       f"tcp://127.0.0.1:{port}"]), "connection refused")
    assert time.monotonic() - t < 10
    assert not (tmp_path / "s.db").exists()


def test_workers_with_a_scheduler_is_refused(tmp_path):
    """The cluster's workers run the points: --workers was ignored with a printed note."""
    one_line_exit2(runner.invoke(app, ["sweep", "--grid", "seed=1,2", "--store",
                                       str(tmp_path / "s.db"), "--workers", "2", "--scheduler",
                                       "tcp://127.0.0.1:1"]),
                   "--workers does not apply with --scheduler")
    assert not (tmp_path / "s.db").exists()


def test_estimate_checks_hw_and_takes_numpy_integers():
    from analogff.errors import ConfigError
    from analogff.estimate import estimate
    from crossbar.chip import Hardware

    with pytest.raises(ConfigError, match="hw = None must be a crossbar.chip.Hardware"):
        estimate(None, (64, 20, 20, 10))
    e = estimate(Hardware(), (64, 20, 20, 10), batch=np.int64(10))
    assert e.batch == 10 and type(e.batch) is int


@pytest.mark.parametrize("command, what", [(["energy", "--hardware"], "hardware file"),
                                           (["sweep", "--dry-run", "--config"], "sweep file")])
def test_hardware_and_sweep_files_non_utf8_or_directory(tmp_path, command, what):
    p = tmp_path / "f.toml"
    p.write_bytes(b"# ok\n# \xfe\n")
    one_line_exit2(runner.invoke(app, [*command, str(p)]), what, "not UTF-8", "0xfe", "line 2")
    one_line_exit2(runner.invoke(app, [*command, str(tmp_path)]), what, "is a directory")


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_worker_threads_from_the_environment_refused_not_raised_to_one(tmp_path, monkeypatch,
                                                                      value):
    """ANALOGFF_WORKER_THREADS is used as given or refused in one line (it was raised to 1 in
    silence); nothing is written."""
    monkeypatch.setenv("ANALOGFF_WORKER_THREADS", value)
    db = tmp_path / "s.db"
    one_line_exit2(runner.invoke(app, ["sweep", "--grid", "seed=1,2", "--store", str(db),
                                       ]),
                   f"ANALOGFF_WORKER_THREADS = {value if value != 'two' else repr(value)} ",
                   "allowed integers 1 or more")
    assert not db.exists()


def test_local_pool_refuses_non_positive_sizes():
    from analogff.errors import ConfigError
    from analogff.sweep import LocalPool

    for kw, name in (({"workers": 0}, "workers = 0"), ({"threads": -1}, "threads = -1"),
                     ({"workers": True}, "workers = True")):
        with pytest.raises(ConfigError, match=name):
            LocalPool(**kw)
    pool = LocalPool(3, threads=2)
    assert (pool.workers, pool.threads) == (3, 2)
