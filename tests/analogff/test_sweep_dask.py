"""Sweeps on Dask: a LocalCluster gives the records local processes give (fake and real
points), `--scheduler` reaches an existing cluster, an unreachable one is one line. Apart from
test_sweep.py so that the two pytest workers can share the sweep tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HELPERS = HERE.parent   # tests/: sweep_points.py
if str(HELPERS) not in sys.path:
    sys.path.insert(0, str(HELPERS))

from typer.testing import CliRunner  # noqa: E402

from analogff.cli import app  # noqa: E402
from analogff.errors import ConfigError  # noqa: E402
from analogff.store import ResultsStore  # noqa: E402
from analogff.sweep import build_spec, expand, run_sweep  # noqa: E402
from sweep_points import export_to_workers, points, without_timing  # noqa: E402

HAVE_EXPERIMENT = (ROOT / "analogff" / "experiment.py").exists()


@pytest.fixture(autouse=True)
def _importable_points(monkeypatch):
    export_to_workers(monkeypatch)   # Dask's workers import the point functions


# ---- Dask ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HELPERS), str(ROOT), old) if p)
    try:
        # the dashboard on a free port: None means distributed's default 8787, which another
        # cluster on the machine (or a parallel test process) may hold
        cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                           dashboard_address=":0", silence_logs=40)
    finally:   # the worker processes have their environment now
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_local_cluster_equals_local_executor(tmp_path, dask_client):
    pts = points(grid=("adc_bits=4,5,6", "noise=0,0.02"), seeds=2)
    local = ResultsStore(tmp_path / "local.db")
    dask = ResultsStore(tmp_path / "dask.db")
    r1 = run_sweep(pts, local, point_fn="sweep_points:flaky", workers=2)
    r2 = run_sweep(pts, dask, point_fn="sweep_points:flaky", client=dask_client)
    assert r2.executor == "dask" and r2.workers == 2
    assert (r1.done, r1.failed) == (r2.done, r2.failed) == (8, 4)
    a = {r["config_hash"]: without_timing(r) for r in local.records()}
    b = {r["config_hash"]: without_timing(r) for r in dask.records()}
    assert a == b
    # resume works the same way on Dask
    assert run_sweep(pts, dask, point_fn="sweep_points:flaky", client=dask_client).ran == 0
    local.close()
    dask.close()


def test_dask_scheduler_address(tmp_path, dask_client):
    """`--scheduler tcp://...` connects a new client to an existing cluster."""
    addr = dask_client.scheduler.address
    res = CliRunner().invoke(app, ["sweep", "--grid", "adc_bits=4,6", "--store",
                                   str(tmp_path / "r.db"), "--scheduler", addr,
                                   "--point-fn", "sweep_points:fast"])
    assert res.exit_code == 0, res.output
    assert ResultsStore(tmp_path / "r.db").count("done") == 2


def test_unreachable_scheduler_is_a_config_error(tmp_path):
    store = ResultsStore(tmp_path / "r.db")
    with pytest.raises(ConfigError, match="cannot connect to the Dask scheduler") as ei:
        run_sweep(points(), store, point_fn="sweep_points:fast", scheduler="tcp://127.0.0.1:9",
                  connect_timeout=1.0)
    assert "\n" not in str(ei.value) and store.count() == 0
    store.close()


TINY = dict(epochs=1, limit=200, hidden="20,20", ideal=True)   # PFF: groups of 10


@pytest.mark.skipif(not HAVE_EXPERIMENT, reason="analogff.experiment not written yet")
def test_real_experiment_dask_equals_local(tmp_path, dask_client):
    pts = expand(build_spec(["algo=bp,pff"], base=TINY, seeds=2))
    local = ResultsStore(tmp_path / "local.db")
    dask = ResultsStore(tmp_path / "dask.db")
    r1 = run_sweep(pts, local, workers=2)
    r2 = run_sweep(pts, dask, client=dask_client)
    assert r1.failed == 0, [e for _, e in r1.failures]
    assert (r1.done, r2.done) == (4, 4)
    a = {r["config_hash"]: without_timing(r) for r in local.records()}
    b = {r["config_hash"]: without_timing(r) for r in dask.records()}
    assert a == b
    df = local.to_dataframe()
    assert df["test_accuracy"].between(0, 1).all() and (df["wall_s"] > 0).all()
    local.close()
    dask.close()
