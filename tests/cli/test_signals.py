"""SIGINT and SIGTERM during `simulate --store` and `sweep`: the process stops within seconds
with one line and exit 130 / 143, no traceback (not even from inside a Numba kernel), the
store stays valid, nothing half-run is stored, and the sweep resumes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parents[1]   # tests/: sweep_points.py


def _start(args, env=None):
    e = dict(os.environ, **(env or {}))
    e["PYTHONPATH"] = os.pathsep.join([str(HELPERS), e.get("PYTHONPATH", "")])
    return subprocess.Popen([sys.executable, "-m", "analogff", *args], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(cond, timeout=240.0):
    t = time.monotonic()
    while not cond():
        assert time.monotonic() - t < timeout, "the command did not get going"
        time.sleep(0.2)


def _stop(p, sig):
    t = time.monotonic()
    p.send_signal(sig)
    out, err = p.communicate(timeout=60)
    return time.monotonic() - t, out, err


def _children(pid):
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().split(")")[-1].split()[1]) == pid:
                    kids.append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    return kids


def _one_line(err, code):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert "Traceback" not in err and "SystemError" not in err, err
    assert lines[-1] == f"interrupted by {signal.Signals(code - 128).name}; unfinished runs " \
                        f"were not stored (exit {code})", err


# Both signals share one handler (analogff.signals.SIGNALS); only the number differs. The default
# run takes each command with one signal and each signal once (simulate + SIGINT, sweep + SIGTERM);
# the other pairs are `slow`: a run of ~10 s each on an idle machine, mostly waiting.
@pytest.mark.parametrize("sig", [
    signal.SIGINT,
    # covered by simulate + SIGINT (same path) and sweep + SIGTERM (exit 143, its line)
    pytest.param(signal.SIGTERM, marks=pytest.mark.slow)])
def test_simulate_store_stops_on_signal(tmp_path, sig):
    db = tmp_path / "runs.db"
    p = _start(["simulate", "--store", str(db), "--json", "--epochs", "200", "--limit", "200",
                "--noise", "0.05"])
    _wait_for(lambda: db.exists() or p.poll() is not None)
    time.sleep(4.0)                      # inside training: kernels are running
    assert p.poll() is None, p.communicate()[1]
    dt, out, err = _stop(p, sig)
    assert p.returncode == 128 + sig, err
    assert dt < 10.0
    _one_line(err, 128 + sig)
    assert out == ""                     # no record printed
    with sqlite3.connect(db) as con:     # valid, and holds no half-run record
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


@pytest.mark.parametrize("sig", [
    # covered by sweep + SIGTERM (same path, resume) and simulate + SIGINT (exit 130, its line)
    pytest.param(signal.SIGINT, marks=pytest.mark.slow),
    signal.SIGTERM])
def test_sweep_stops_on_signal_and_resumes(tmp_path, sig):
    db = tmp_path / "sweep.db"
    args = ["sweep", "--grid", "seed=1,2,3,4", "--store", str(db), "--workers", "2",
            "--point-fn", "sweep_points:slow"]
    p = _start(args, env={"SWEEP_TEST_SLEEP": "60"})
    _wait_for(lambda: len(_children(p.pid)) >= 2 or p.poll() is not None)
    time.sleep(2.0)                      # workers running their (60 s) points
    assert p.poll() is None, p.communicate()[1]
    kids = _children(p.pid)
    dt, out, err = _stop(p, sig)
    assert p.returncode == 128 + sig, err
    assert dt < 10.0                     # the running points did not run on
    _one_line(err, 128 + sig)
    time.sleep(1.0)
    assert not [k for k in kids if Path(f"/proc/{k}").exists()
                and "Z" not in (Path(f"/proc/{k}/stat").read_text().split(")")[-1].split()[0])]
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    r = _start(args, env={"SWEEP_TEST_SLEEP": "0"})   # resume: every point runs, once
    out, err = r.communicate(timeout=240)
    assert r.returncode == 0, err
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 4


def test_spice_stops_on_sigint_during_a_long_ngspice_run():
    from crossbar.spice import spice_unavailable_reason

    if spice_unavailable_reason() is not None:
        pytest.skip("ngspice not installed")
    # 64x64 with wire resistance: ngspice takes ~2.3 s per vector on the AVX-512 VMs (17-20 s
    # on the earlier ones); 16 vectors (~37 s) outlast the wait below with a wide margin. The
    # signal goes 0.5 s after libngspice is mapped into the process (the availability check
    # loads it; the circuit is built and the first vector running ~0.15 s later, measured),
    # i.e. early in the first vector's .op, which ngspice cannot interrupt: more than its own
    # 1 s halt wait is left of it (exit code and both streams are printed if the process has
    # ended by then)
    p = _start(["spice", "--size", "64", "--inputs", "16"])
    maps = Path(f"/proc/{p.pid}/maps")

    def loaded():
        try:
            return "libngspice" in maps.read_text()
        except OSError:                  # the process has just ended
            return True

    _wait_for(lambda: p.poll() is not None or loaded())
    time.sleep(0.5)
    if p.poll() is not None:
        out, err = p.communicate()
        pytest.fail(f"spice ended before the signal: exit {p.returncode}\n{out}\n{err}")
    dt, out, err = _stop(p, signal.SIGINT)
    assert p.returncode == 130, err       # not -11: the circuit is not removed under ngspice
    assert dt < 10.0                      # at most the rest of one vector (~2.3 s here)
    _one_line(err, 130)
    # ngspice cannot stop inside a .op: its "Couldn't stop ngspice" must not reach the user
    assert [ln for ln in err.splitlines() if ln.strip()] == [err.strip()], err
    assert "cffi" not in err
