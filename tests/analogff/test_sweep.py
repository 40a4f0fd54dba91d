"""Sweeps: grid expansion and typing, validation before work, resume, failures, a real SIGKILL,
and the `sweep` / `results` commands (Dask: test_sweep_dask.py)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HELPERS = HERE.parent   # tests/: sweep_points.py
if str(HELPERS) not in sys.path:
    sys.path.insert(0, str(HELPERS))

from typer.testing import CliRunner  # noqa: E402

from analogff.cli import app  # noqa: E402
from analogff.config import SimConfig, from_dict  # noqa: E402
from analogff.errors import ConfigError  # noqa: E402
from analogff.store import ResultsStore  # noqa: E402
from analogff.sweep import (Progress, build_spec, expand, load_sweep_toml,  # noqa: E402
                            parse_grid, plan, run_point, run_sweep)
import sweep_points  # noqa: E402
from sweep_points import export_to_workers, points  # noqa: E402

HAVE_EXPERIMENT = (ROOT / "analogff" / "experiment.py").exists()


@pytest.fixture(autouse=True)
def _importable_points(monkeypatch):
    export_to_workers(monkeypatch)   # worker processes import the point functions


# ---- grid parsing and expansion ------------------------------------------------------------
def test_parse_grid_types_values():
    assert parse_grid("adc_bits=4,6,8") == ("adc_bits", [4, 6, 8])
    key, vals = parse_grid("noise=0,0.02,5e-2")
    assert key == "noise" and vals == [0.0, 0.02, 0.05] and all(type(v) is float for v in vals)
    assert parse_grid("dac-bits=4") == ("dac_bits", [4])
    assert parse_grid("ideal=true,false") == ("ideal", [True, False])
    assert parse_grid("algo=pff,bp") == ("algo", ["pff", "bp"])
    assert parse_grid("hidden=16;32,32") == ("hidden", ["16", "32,32"])
    assert parse_grid("hidden=16,32") == ("hidden", ["16", "32"])
    assert parse_grid("states=none,64") == ("states", [None, 64])


@pytest.mark.parametrize("text, msg", [
    ("noise", "malformed"),
    ("=1,2", "missing parameter name"),
    ("noise=", "empty value"),
    ("noise=0,,1", "empty value"),
    ("adc_bits=4,six", "'six' is not a valid int"),
    ("foo=1,2", "unknown parameter 'foo'"),
    ("noise=0.1,abc", "noise"),
])
def test_bad_grid_strings_name_the_problem(text, msg):
    with pytest.raises(ConfigError, match=msg) as ei:
        parse_grid(text)
    assert text in str(ei.value) and "\n" not in str(ei.value)


def test_expand_crosses_grid_algos_and_seeds_in_order():
    spec = build_spec(["noise=0,0.05", "adc_bits=4,8"], algos=["pff", "bp"], seeds=2,
                      base={"epochs": 1, "seed": 10})
    pts = expand(spec)
    assert len(pts) == 2 * 2 * 2 * 2
    assert all(isinstance(p, SimConfig) and p.epochs == 1 for p in pts)
    assert [(p.noise, p.adc_bits, p.algo, p.seed) for p in pts[:5]] == [
        (0.0, 4, "pff", 10), (0.0, 4, "pff", 11), (0.0, 4, "bp", 10), (0.0, 4, "bp", 11),
        (0.0, 8, "pff", 10)]
    assert len({p.config_hash() for p in pts}) == len(pts)
    assert spec.varied_keys() == ["noise", "adc_bits", "algo", "seed"]


def test_expand_removes_duplicates():
    assert len(expand(build_spec(["adc_bits=4,4,6"]))) == 2


def test_seed_replicates_overlapping_a_seed_grid_are_refused():
    """--seeds 3 on seeds 1 and 2 would give 4 runs, not 6, without a word."""
    with pytest.raises(ConfigError, match="seed is swept too: seed 2 is reached twice"):
        expand(build_spec(["seed=1,2"], seeds=3))
    assert [p.seed for p in expand(build_spec(["seed=0,100"], seeds=3))] == \
        [0, 1, 2, 100, 101, 102]


def test_expand_validates_every_point_before_work():
    with pytest.raises(ConfigError, match=r"sweep point \(adc_bits=0\): hardware field adc_bits = 0 cannot be simulated and priced; allowed integers 2\.\.16"):
        expand(build_spec(["adc_bits=4,0"]))
    with pytest.raises(ConfigError, match="noise"):
        expand(build_spec(["noise=0,-1"]))
    with pytest.raises(ConfigError, match="algo = 'sgd' is not allowed"):
        expand(build_spec([], algos=["sgd"]))
    with pytest.raises(ConfigError, match="given twice"):
        build_spec(["noise=0", "noise=1"])
    with pytest.raises(ConfigError, match="both"):
        build_spec(["algo=pff"], algos=["bp"])


def test_sweep_toml_base_grid_zip(tmp_path):
    f = tmp_path / "sweep.toml"
    f.write_text(textwrap.dedent("""
        algo = ["pff", "bp"]
        seeds = 2
        [base]
        epochs = 1
        hidden = [16, 16]
        [grid]
        noise = [0, 0.05]
        [zip]
        adc_bits = [4, 6, 8]
        dac_bits = [5, 7, 9]
    """))
    spec = load_sweep_toml(f)
    assert spec.base == {"epochs": 1, "hidden": "16,16"} and spec.grid == {"noise": [0.0, 0.05]}
    pts = expand(spec)
    assert len(pts) == 2 * 3 * 2 * 2
    assert {(p.adc_bits, p.dac_bits) for p in pts} == {(4, 5), (6, 7), (8, 9)}
    # --grid on the command line overrides the file's grid key, --seeds its seeds
    spec2 = build_spec(["noise=0.1"], config=f, seeds=1)
    assert len(expand(spec2)) == 1 * 3 * 2 * 1


@pytest.mark.parametrize("body, msg", [
    ("[grid]\nnoise = 0.1\n", "non-empty list"),
    ("[zip]\nadc_bits = [4, 6]\ndac_bits = [4]\n", "equal lengths"),
    ("[grid]\nfoo = [1]\n", "unknown parameter 'foo'"),
    ("[runs]\nx = 1\n", "unknown entry 'runs'"),
    ("[grid]\nnoise = [0]\n[zip]\nnoise = [1]\n", "both"),
    ("[grid\n", "not valid TOML"),
    ("seeds = 0\n", "seeds"),
    ("[base]\nadc_bits = 'x'\n", "adc_bits"),
])
def test_bad_sweep_files(tmp_path, body, msg):
    f = tmp_path / "s.toml"
    f.write_text(body)
    with pytest.raises(ConfigError, match=msg):
        load_sweep_toml(f)


def test_run_point_records_exceptions():
    rec, elapsed = run_point(sweep_points.flaky, from_dict(dict(adc_bits=5)).to_dict())
    assert rec["status"] == "failed" and "RuntimeError: simulated divergence" in rec["error"]
    assert rec["config_hash"] == from_dict(dict(adc_bits=5)).config_hash() and elapsed >= 0
    rec, _ = run_point("sweep_points:fast", from_dict(dict(adc_bits=6)).to_dict())
    assert rec["status"] == "done"
    rec, _ = run_point(lambda cfg: 42, SimConfig().to_dict())
    assert rec["status"] == "failed" and "not a run record" in rec["error"]


def test_more_threads_than_the_workers_numba_pool_fail_the_point_not_capped():
    import numba

    before = {v: os.environ.get(v) for v in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS")}
    pool_before = numba.get_num_threads()
    n = numba.config.NUMBA_NUM_THREADS
    rec, _ = run_point("sweep_points:fast", SimConfig().to_dict(), threads=n + 1)
    assert rec["status"] == "failed"
    assert (f"ConfigError: threads = {n + 1} is more than this worker's Numba pool "
            f"(NUMBA_NUM_THREADS = {n}); allowed 1 to {n}") in rec["error"]
    # refused before anything was set: this process's thread settings are as they were
    assert {v: os.environ.get(v) for v in before} == before
    assert numba.get_num_threads() == pool_before


# ---- running: local processes --------------------------------------------------------------
def test_local_sweep_resume_and_progress(tmp_path):
    store = ResultsStore(tmp_path / "r.db")
    pts = points(seeds=2)
    events: list[Progress] = []

    def cb(p):
        events.append(Progress(**{**p.__dict__}))

    res = run_sweep(pts, store, point_fn="sweep_points:fast", workers=2, progress=cb)
    assert (res.total, res.skipped, res.done, res.failed) == (8, 0, 8, 0)
    assert store.count("done") == 8 and store.done_hashes() == {p.config_hash() for p in pts}
    assert events[-1].done == 8 and events[-1].eta_s == 0.0 and events[-1].running == 0
    assert max(e.running for e in events) <= 2
    # rerun: nothing to do
    res2 = run_sweep(pts, store, point_fn="sweep_points:fast", workers=2)
    assert (res2.skipped, res2.ran) == (8, 0)
    # a bigger sweep runs only the new points
    more = points(grid=("adc_bits=3,4,5,6,7",), seeds=2)
    res3 = run_sweep(more, store, point_fn=sweep_points.fast, workers=1)
    assert (res3.skipped, res3.done) == (8, 2)
    assert store.count() == 10
    store.close()


def _cli_sweep(tmp_path, monkeypatch, point_fn: str, grid: str):
    """`analogff sweep --grid <grid>` on one worker in ``tmp_path`` with ``point_fn`` (a
    sweep_points function); asserts exit 0 and returns the result."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANALOGFF_SWEEP_POINT_FN", point_fn)
    out = CliRunner().invoke(app, ["sweep", "--grid", grid, "--workers", "1"])
    assert out.exit_code == 0, out.output
    return out


def _cli_results(tmp_path):
    """`analogff results results.db --csv runs.csv` in ``tmp_path`` (where `_cli_sweep`
    wrote its store): the exported rows, with the command's stderr in ``attrs["stderr"]``."""
    import pandas as pd

    out = CliRunner().invoke(app, ["results", "results.db", "--csv", "runs.csv"])
    assert out.exit_code == 0, out.output
    runs = pd.read_csv(tmp_path / "runs.csv")
    runs.attrs["stderr"] = out.stderr
    return runs


@pytest.mark.parametrize("point_fn, attr, heading, columns, shares", [
    # W1's ADCs clip 20 % of their conversions at adc_bits 4, 1 % otherwise
    ("clipping", "clipping", "had a matrix whose ADCs clipped more than 5 %",
     ("adc_saturation_worst", "adc_saturation_worst_matrix"), (0.2, 0.01)),
    # W1's updates are cut to the update slots for 15 % of its weights at adc_bits 4, 0.5 %
    ("cutting", "pulse_cut", "had a matrix whose updates asked for more pulses than the "
     "chip's update slots", ("pulse_cap_worst", "pulse_cap_worst_matrix"), (0.15, 0.005))])
def test_points_with_a_troubled_matrix_are_listed_and_the_cli_names_them(
        point_fn, attr, heading, columns, shares, tmp_path, monkeypatch):
    """ADC saturation and the pulse cap, each beyond 5 % of a matrix's events: the sweep's
    result lists the point, its summary and `results` name it with the matrix and share, and
    the export carries each run's worst matrix."""
    store = ResultsStore(tmp_path / "r.db")
    pts = points(grid=("adc_bits=3,4,5",))
    res = run_sweep(pts, store, point_fn=f"sweep_points:{point_fn}", workers=1)
    four = next(p for p in pts if p.adc_bits == 4)
    assert res.done == 3
    assert getattr(res, attr) == [(four.config_hash(), four.to_dict(), "W1", shares[0])]
    store.close()
    out = _cli_sweep(tmp_path, monkeypatch, f"sweep_points:{point_fn}", "adc_bits=4,6")
    assert f"1 point(s) {heading}" in out.stderr
    assert f"  adc_bits=4: W1 {100 * shares[0]:.1f} %" in out.stderr
    # `results` says it again from the store, by run, and exports the worst matrix of each
    runs = _cli_results(tmp_path)
    four = runs[runs["adc_bits"] == 4]
    assert f"1 run(s) {heading}" in runs.attrs["stderr"]
    assert f"  run {four['id'].item()}: W1 {100 * shares[0]:.1f} %" in runs.attrs["stderr"]
    assert sorted(zip(runs["adc_bits"], *(runs[c] for c in columns))) == [
        (4, shares[0], "W1"), (6, shares[1], "W1")]


def test_points_with_a_capped_adc_range_are_listed_and_the_cli_names_them(tmp_path,
                                                                          monkeypatch):
    store = ResultsStore(tmp_path / "r.db")
    pts = points(grid=("out_bound=0.05,0.2,0.5",))
    res = run_sweep(pts, store, point_fn="sweep_points:capped", workers=1)
    capped = sorted((p for p in pts if p.out_bound > 1 / 6), key=lambda p: p.out_bound)
    assert res.done == 3
    assert sorted(res.capped, key=lambda c: c[1]["out_bound"]) == [
        (p.config_hash(), p.to_dict(), ["G1", "G2"]) for p in capped]
    store.close()
    out = _cli_sweep(tmp_path, monkeypatch, "sweep_points:capped", "out_bound=0.05,0.5")
    assert "note: 1 point(s) set the ADC range of G1, G2 to ±1" in out.stderr
    assert "  out_bound=0.5: G1, G2" in out.stderr and "out_bound=0.05" not in out.stderr
    runs = _cli_results(tmp_path)
    half = runs[runs["out_bound"] == 0.5]["id"].item()
    assert "note: 1 run(s) set the ADC range of these matrices to ±1" in runs.attrs["stderr"]
    assert f"  run {half}: G1, G2" in runs.attrs["stderr"]
    capped = dict(zip(runs["out_bound"], runs["adc_range_capped"].fillna("")))
    assert capped == {0.05: "", 0.5: "G1, G2"}


def test_failing_point_is_recorded_and_the_rest_finish(tmp_path):
    store = ResultsStore(tmp_path / "r.db")
    pts = points()
    res = run_sweep(pts, store, point_fn="sweep_points:flaky", workers=2)
    assert (res.done, res.failed) == (3, 1)
    (bad,) = store.records(status="failed")
    assert bad["config"]["adc_bits"] == 5 and "simulated divergence" in bad["error"]
    assert plan(pts, store).todo == []                           # failed are skipped ...
    assert len(plan(pts, store, retry_failed=True).todo) == 1    # ... unless retried
    res2 = run_sweep(pts, store, point_fn="sweep_points:fast", workers=1, retry_failed=True)
    assert (res2.skipped, res2.done) == (3, 1)
    assert store.count() == 4 and store.count("done") == 4
    store.close()


def test_worker_that_dies_blames_only_its_point(tmp_path):
    store = ResultsStore(tmp_path / "r.db")
    res = run_sweep(points(grid=("adc_bits=3,4,5,6,7",)), store, point_fn="sweep_points:crash",
                    workers=2)
    assert (res.done, res.failed) == (4, 1)
    (bad,) = store.records(status="failed")
    assert bad["config"]["adc_bits"] == 5 and "worker process died" in bad["error"]
    store.close()


def test_bad_point_fn_fails_before_work(tmp_path):
    store = ResultsStore(tmp_path / "r.db")
    with pytest.raises(ConfigError, match="cannot be imported"):
        run_sweep(points(), store, point_fn="sweep_points:nope")
    assert store.count() == 0
    store.close()


# ---- a real SIGKILL mid-run ----------------------------------------------------------------
def _count_done(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM runs WHERE status='done'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _live_in_group(pgid: int) -> list[int]:
    """Processes of a process group that are still running (zombies excluded; Linux /proc)."""
    live = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(int(d.name))
    return live


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigkill_mid_sweep_then_rerun_gives_each_point_once(tmp_path):
    db = tmp_path / "r.db"
    grid = ["--grid", "adc_bits=3,4,5,6,7,8", "--grid", "noise=0,0.01"]
    cmd = [sys.executable, "-c", "from analogff.cli import main; main()", "sweep", *grid,
           "--store", str(db), "--workers", "2"]
    env = {**os.environ, "ANALOGFF_SWEEP_POINT_FN": "sweep_points:slow",
           "SWEEP_TEST_SLEEP": "0.4", "COLUMNS": "100"}
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.time() + 60
        while _count_done(db) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() < deadline, "sweep made no progress"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        killed_at = _count_done(db)
        assert 3 <= killed_at < 12, "the sweep was not killed mid-run"
        # the killed driver's worker processes notice and exit (they never touch the store)
        deadline = time.time() + 20
        while _live_in_group(proc.pid):
            assert time.time() < deadline, f"orphaned workers left: {_live_in_group(proc.pid)}"
            time.sleep(0.1)
        # rerun to completion
        env["SWEEP_TEST_SLEEP"] = "0.05"
        out = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = con.execute("SELECT config_hash, status, record FROM runs").fetchall()
    con.close()
    expected = {c.config_hash() for c in expand(build_spec(grid[1::2]))}
    assert len(rows) == 12 and {r[0] for r in rows} == expected
    assert all(r[1] == "done" for r in rows)
    for h, _, rec in rows:
        assert json.loads(rec)["config_hash"] == h


# ---- the command line ----------------------------------------------------------------------
def _one_line_error(res, code=2):
    assert res.exit_code == code, (res.exit_code, res.output)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), res.stderr
    return lines[0]


@pytest.mark.parametrize("args, msg", [
    (["--grid", "adc_bits=4,x"], "'x' is not a valid int"),
    (["--grid", "bogus=1,2"], "unknown parameter 'bogus'"),
    (["--grid", "noise"], "malformed"),
    (["--grid", "adc_bits=4,0"], "adc_bits = 0 cannot be simulated and priced"),
    (["--grid", "adc_bits=4", "--algo", "sgd"], "algo"),
    (["--grid", "adc_bits=4", "--seeds", "0"], "seeds"),
    (["--grid", "adc_bits=4", "--workers", "0"], "workers"),
    (["--grid", "adc_bits=4", "--scheduler", "localhost:8786"], "tcp://HOST:PORT"),
    (["--config", "missing.toml"], "does not exist"),
    ([], "nothing to sweep"),
])
def test_cli_bad_input_one_line_before_any_work(tmp_path, monkeypatch, args, msg):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANALOGFF_SWEEP_POINT_FN", "sweep_points:fast")
    res = CliRunner().invoke(app, ["sweep", *args, "--store", "r.db"])
    assert msg in _one_line_error(res)
    assert not (tmp_path / "r.db").exists()


def test_cli_corrupt_store_refused_untouched(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("my notes\n")
    res = CliRunner().invoke(app, ["sweep", "--grid", "adc_bits=4", "--store", str(bad),
                                   "--point-fn", "sweep_points:fast"])
    assert "is not an analogff results store" in _one_line_error(res)
    assert bad.read_text() == "my notes\n"
    res = CliRunner().invoke(app, ["results", str(bad)])
    assert "is not an analogff results store" in _one_line_error(res)


def test_cli_sweep_dry_run_results_and_exports(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANALOGFF_SWEEP_POINT_FN", "sweep_points:flaky")
    runner = CliRunner()
    args = ["sweep", "--grid", "adc_bits=4,5,6", "--grid", "noise=0,0.01", "--seeds", "3"]
    res = runner.invoke(app, [*args, "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "18 points: 0 done, 0 failed, 18 to run" in res.stdout
    assert not (tmp_path / "results.db").exists()          # a dry run writes nothing

    res = runner.invoke(app, [*args, "--workers", "2"])
    assert res.exit_code == 1                               # some points failed
    assert "Sweep summary" in res.stdout and "6 point(s) failed" in res.stderr
    res = runner.invoke(app, [*args, "--dry-run"])
    assert "18 points: 12 done, 6 failed, 0 to run" in res.stdout

    res = runner.invoke(app, ["results", "results.db", "--where", "status=done and noise>0"])
    assert res.exit_code == 0, res.output
    assert "6 runs" in res.stdout and "(%)" in res.stdout and "(J)" in res.stdout

    res = runner.invoke(app, ["results", "results.db", "--group-by", "noise,adc-bits",
                              "--csv", "g.csv", "--parquet", "g.parquet"])
    assert res.exit_code == 0, res.output
    assert "±" in res.stdout
    import pandas as pd

    g = pd.read_csv("g.csv")
    assert len(g) == 4 and set(g["n"]) == {3}              # adc_bits=5 failed: not grouped
    row = g[(g["noise"] == 0.0) & (g["adc_bits"] == 4)].iloc[0]
    accs = [sweep_points.fake_record(from_dict(dict(adc_bits=4, noise=0.0, seed=s)))["metrics"]
            ["test_accuracy"] for s in range(3)]
    from scipy import stats
    import numpy as np
    assert row["test_accuracy_mean"] == pytest.approx(np.mean(accs))
    assert row["test_accuracy_ci95"] == pytest.approx(
        stats.t.ppf(0.975, 2) * np.std(accs, ddof=1) / np.sqrt(3))
    assert pd.read_parquet("g.parquet").equals(g) or len(pd.read_parquet("g.parquet")) == 4

    res = runner.invoke(app, ["results", "results.db", "--csv", "all.csv"])
    assert res.exit_code == 0 and len(pd.read_csv("all.csv")) == 18

    # retry the failed points with a point function that works
    monkeypatch.setenv("ANALOGFF_SWEEP_POINT_FN", "sweep_points:fast")
    res = runner.invoke(app, [*args, "--retry-failed", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert ResultsStore("results.db").count("done") == 18


@pytest.mark.parametrize("args, msg", [
    (["missing.db"], "does not exist"),
    (["r.db", "--where", "adc_bits>=6; drop table runs"], "unexpected ';'"),
    (["r.db", "--where", "nosuch=1"], "unknown column 'nosuch'"),
    (["r.db", "--group-by", "nosuch"], "unknown column 'nosuch'"),
    (["r.db", "--csv", "no/such/dir/x.csv"], "does not exist"),
])
def test_cli_results_bad_input(tmp_path, monkeypatch, args, msg):
    monkeypatch.chdir(tmp_path)
    with ResultsStore("r.db") as st:
        st.add(sweep_points.fake_record(from_dict(dict(adc_bits=6))))
    res = CliRunner().invoke(app, ["results", *args])
    assert msg in _one_line_error(res)
    assert not (tmp_path / "missing.db").exists()


@pytest.mark.skipif(not HAVE_EXPERIMENT, reason="analogff.experiment not written yet")
def test_cli_sweep_real_experiment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "sweep.toml"
    f.write_text('seeds = 2\n[base]\nepochs = 1\nlimit = 200\nideal = true\nhidden = "16"\n'
                 '[grid]\nalgo = ["bp"]\n')
    res = CliRunner().invoke(app, ["sweep", "--config", str(f), "--workers", "1"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["results", "results.db", "--group-by", "algo"])
    assert res.exit_code == 0 and "bp" in res.stdout


def test_cli_error_before_any_point_leaves_no_new_store(tmp_path, monkeypatch):
    import analogff.sweep as sweep_mod

    def no_cluster(*a, **k):
        raise ConfigError("cannot connect to the Dask scheduler at 'tcp://x:1' (test)")

    monkeypatch.setattr(sweep_mod, "run_sweep", no_cluster)
    db = tmp_path / "new.db"
    res = CliRunner().invoke(app, ["sweep", "--grid", "adc_bits=4", "--store", str(db),
                                   "--scheduler", "tcp://x:1", "--point-fn", "sweep_points:fast"])
    assert "cannot connect" in _one_line_error(res)
    assert list(tmp_path.iterdir()) == []


def test_local_pool_is_reused_across_sweeps(tmp_path):
    from analogff.sweep import LocalPool

    with LocalPool(1) as pool, ResultsStore(tmp_path / "r.db") as st:
        assert pool.threads == 1
        run_sweep(points(grid=("adc_bits=3,4",)), st, point_fn="sweep_points:with_pid", pool=pool)
        run_sweep(points(grid=("adc_bits=5,6",)), st, point_fn="sweep_points:with_pid", pool=pool)
        pids = {r["worker_pid"] for r in st.records()}
    assert len(pids) == 1 and os.getpid() not in pids


def test_an_interrupted_pool_leaves_no_manager_thread_for_the_exit_hook():
    """`LocalPool.reset(cancel=True)` (a sweep stopped by a signal) terminates the workers and
    waits for the pool's manager thread to end: Python 3.11's exit hook writes to that thread's
    wake-up pipe without a lock, and a thread still ending raced it ("OSError: [Errno 9] Bad
    file descriptor" under the interrupted sweep's one line)."""
    import threading

    from analogff.sweep import LocalPool

    pool = LocalPool(1)
    running = pool.submit(time.sleep, 60)
    t = time.monotonic()
    while not running.running():
        assert time.monotonic() - t < 60, "the worker did not start"
        time.sleep(0.05)
    pool.reset(cancel=True)
    assert time.monotonic() - t < 30              # the point did not run on
    assert not [th for th in threading.enumerate() if "ExecutorManager" in type(th).__name__]


def test_cli_sweep_algo_takes_a_comma_list_like_grid(tmp_path, monkeypatch):
    """--algo pff,bp equals --algo pff --algo bp; an unknown one is still a one-line error."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    base = ["sweep", "--grid", "noise=0,0.01", "--dry-run"]
    a = runner.invoke(app, [*base, "--algo", "pff,bp"])
    b = runner.invoke(app, [*base, "--algo", "pff", "--algo", "bp"])
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    assert "4 points: 0 done, 0 failed, 4 to run" in a.stdout
    assert a.stdout == b.stdout
    bad = runner.invoke(app, [*base, "--algo", "pff,sgd"])
    assert bad.exit_code == 2 and "algo = 'sgd' is not allowed" in bad.stderr


def test_every_hardware_field_is_a_grid_axis_and_the_chip_file_a_base(tmp_path):
    chip = tmp_path / "chip.toml"
    chip.write_text('[hardware]\nnode_nm = 45\ntile_rows = 64\ntile_cols = 64\n')
    from analogff.cli.common import resolve_hardware
    base = resolve_hardware(chip, {"cols_per_adc": 4}).to_dict()
    spec = build_spec(["node_nm=22,7", "adc_type=sar,flash"], hardware=base)
    pts = expand(spec)
    assert [(p.node_nm, p.adc_type) for p in pts] == [(22, "sar"), (22, "flash"),
                                                      (7, "sar"), (7, "flash")]
    assert all(p.tile_rows == 64 and p.cols_per_adc == 4 for p in pts)
    assert len({p.config_hash() for p in pts}) == 4
    sweep_file = tmp_path / "s.toml"
    sweep_file.write_text('[hardware]\nadc_type = "cco"\n[grid]\nnode_nm = [14, 7]\n')
    assert {p.adc_type for p in expand(build_spec(config=sweep_file))} == {"cco"}
    for bad, words in ((["tile_cols=4"], "cols_per_adc = 8 exceeds tile_cols = 4"),
                       (["node_nm=28"], "node_nm = 28"),
                       (["tile_size=64"], "tile_rows and tile_cols"),
                       (["device=nope"], "nope")):
        with pytest.raises(ConfigError, match=words):
            expand(build_spec(bad))
