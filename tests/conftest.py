"""Test-wide setup: the same thread hand-off defaults the CLI uses (before numpy loads), the
split of the suite over pytest-xdist workers, and the one set of cold- and warm-cache processes
the reproducibility tests share."""

import analogff._threads  # noqa: F401

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# pytest-xdist's workers get COLUMNS=80 in their environment; rich reads it once, when the CLI's
# console is created, so a test's own COLUMNS (CliRunner env) would be ignored there. Without it
# rich reads the width at every print, in the serial run and in a worker alike.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

# Reads that tell a kernel compiled in the process from one loaded from Numba's cache: a 16-bit
# ADC (level boundaries 256x denser than 8 bits) turns a last-bit difference of a sum into
# another code within a few hundred reads. Narrow (read_narrow) and wide (DAC + BLAS + ADC tiles)
# reads, forward and transposed. Then the process runs `analogff simulate` with the rest of its
# arguments, as `python -m analogff` does.
_COLD_WARM = """
import analogff._threads  # noqa: F401  (first, as in `python -m analogff`)
import hashlib
import runpy
import sys

import numpy as np
from crossbar import Periphery
from crossbar.analog import AnalogMatrix

rng = np.random.default_rng(1)
h = hashlib.sha256()
for out, inp, batch in ((200, 200, 50), (10, 200, 50), (200, 64, 400), (500, 784, 300)):
    m = AnalogMatrix(out, inp, "ecram", Periphery(adc_bits=16, read_noise=0.05), seed=3)
    m.program(rng.uniform(-0.5, 0.5, (out, inp)).astype(np.float32))
    for _ in range(60):
        h.update(m.forward(rng.standard_normal((batch, inp)).astype(np.float32)).tobytes())
        h.update(m.transposed(rng.standard_normal((batch, out)).astype(np.float32)).tobytes())
with open(sys.argv[1], "w") as fh:
    fh.write(h.hexdigest())
sys.argv = ["analogff", *sys.argv[2:]]
runpy.run_module("analogff", run_name="__main__", alter_sys=True)
"""

# the default analog PFF network (200-200 hidden, ecram, Adam steps applied as pulses, read
# noise 0.05) on a 100-example subset for two epochs: its 200x200 matrices take the parallel
# update kernel and the evaluation reads the parallel read kernels, the training reads their
# serial twins, so every kernel the default run uses is compiled (cold) or loaded (warm)
SIMULATE_ARGS = ["simulate", "--noise", "0.05", "--limit", "100", "--epochs", "2",
                 "--no-monitor", "--json"]


def _start(tmp, cache: str, threads: int, name: str):
    """One process of the group. ``threads`` 1: every pool at one thread (Numba, OpenMP, BLAS),
    as a sweep worker runs (`analogff.sweep.THREAD_ENV_VARS`); else Numba at ``threads`` and
    the others at the machine's defaults, as `analogff simulate` runs."""
    from analogff.sweep import THREAD_ENV_VARS

    env = dict(os.environ, NUMBA_CACHE_DIR=cache, NUMBA_NUM_THREADS=str(threads))
    if threads == 1:
        env.update({v: "1" for v in THREAD_ENV_VARS})
    env.pop("NUMBA_DISABLE_JIT", None)
    digest = tmp / f"{name}.sha256"
    p = subprocess.Popen([sys.executable, "-c", _COLD_WARM, str(digest), *SIMULATE_ARGS],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p, digest


def _finish(started) -> tuple:
    """Wait for a started process: (return code, stdout, stderr, digest path)."""
    p, digest = started
    try:
        out, err = p.communicate(timeout=900)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, out, err, digest


def _parse(finished) -> dict:
    code, out, err, digest = finished
    assert code == 0, err[-2000:]
    rec = json.loads(out)
    rec.pop("timing")
    return {"reads": digest.read_text(), "record": rec}


_FIXTURE = "cold_and_warm_processes"
# the cold process, started as soon as collection ends; then, as soon as it has ended, its
# output, the cache listing and the two warm processes (`_start_warm`)
_EARLY: dict = {}


def _needs_cold_and_warm(item) -> bool:
    return _FIXTURE in getattr(item, "fixturenames", ())


_COLD_WARM_GROUP = "cold-and-warm-processes"
_BLAS_LIMIT: list = []   # the worker's threadpoolctl limit, held for the whole session


def _is_worker() -> bool:
    """Whether this process is a pytest-xdist worker (the default run: `-n 2` in pyproject)."""
    return "PYTEST_XDIST_WORKER" in os.environ


def pytest_configure(config):
    """On a pytest-xdist worker: one kernel thread and one BLAS thread by default, since the
    workers already fill the cores (threads beside them only wait for one another). Set at run
    time, not in the environment, so that the processes tests start (simulate, sweeps, the cold
    and warm processes) keep the machine's defaults; tests of thread counts pass ``threads``."""
    if _is_worker():
        import numba
        import numpy  # noqa: F401  (BLAS loaded, so that threadpoolctl finds it)
        from threadpoolctl import threadpool_limits

        numba.set_num_threads(1)
        _BLAS_LIMIT.append(threadpool_limits(limits=1))


@pytest.hookimpl(tryfirst=True)   # before pytest-xdist reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(session, config, items):
    """Serial run: the tests on the cold and warm processes run last, so that the cold one
    (started below) compiles while the rest of the suite runs. Distributed run: each test file
    is one group (its module-scoped fixtures are built once, on one worker), and the two files
    that share the cold and warm processes are one group, scheduled first: its worker waits
    for the processes while the other workers run the rest."""
    cold_warm = [i for i in items if _needs_cold_and_warm(i)]
    rest = [i for i in items if not _needs_cold_and_warm(i)]
    if not _is_worker():
        items[:] = rest + cold_warm
        return
    for item in items:
        group = _COLD_WARM_GROUP if _needs_cold_and_warm(item) else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
    items[:] = cold_warm + rest


def pytest_collection_finish(session):
    """Serial run: start the cold-cache process when the selected tests include one that needs
    it: it compiles every kernel (tens of seconds, mostly on one core) while the other tests
    run beside it, instead of after them. On a pytest-xdist worker every worker
    collects every test and none knows yet which it will run: the fixture starts it there."""
    if session.config.option.collectonly or _is_worker():
        return
    if any(_needs_cold_and_warm(item) for item in session.items):
        tmp = Path(tempfile.mkdtemp(prefix="analogff-cold-warm-"))
        _EARLY.update(tmp=tmp, cold=_start(tmp, str(tmp / "numba-cache"), 2, "cold"))


def _start_warm(tmp) -> None:
    """Record the cold process's output and cache, then start the two warm processes (they
    only read the cache: side by side, their imports and cache loads are single-threaded)."""
    cold = _finish(_EARLY.pop("cold"))
    cache = str(tmp / "numba-cache")
    _EARLY["cold_done"] = cold
    _EARLY["cache_after_cold"] = sorted(os.listdir(cache)) if os.path.isdir(cache) else []
    if cold[0] == 0:
        _EARLY["warm"] = [_start(tmp, cache, 1, "warm1"), _start(tmp, cache, 2, "warm2")]


def pytest_runtest_logfinish(nodeid, location):
    """After each test: once the cold process has ended, start the warm ones at once, so they
    too run beside the rest of the suite instead of after it (~10 s at the end)."""
    started = _EARLY.get("cold")
    if started is not None and started[0].poll() is not None:
        _start_warm(_EARLY["tmp"])


def _kill(started) -> None:
    p = started[0]
    if p.poll() is None:
        p.kill()
        p.wait()


def pytest_sessionfinish(session):
    for started in [_EARLY.pop("cold", None), *_EARLY.pop("warm", [])]:
        if started is not None:   # never used (-x, Ctrl-C)
            _kill(started)
    if "tmp" in _EARLY:
        shutil.rmtree(_EARLY.pop("tmp"), ignore_errors=True)


@pytest.fixture(scope="session")
def cold_and_warm_processes(tmp_path_factory):
    """Three fresh processes on one new Numba cache: the first compiles every kernel (and fills
    the cache) at two threads, then two load them, at one and at two threads. Each gives the
    16-bit-ADC reads' digest ("reads") and the simulate record without its wall-clock timings
    ("record"); "cache_after_cold" lists the cache directory after the first.

    Shared by tests/crossbar/test_cache_reproducible.py and
    tests/analogff/test_reproducibility.py: one cold compile serves both (it is most of their
    cost)."""
    if "tmp" not in _EARLY:   # not started when collection ended (e.g. run by node id)
        tmp = tmp_path_factory.mktemp("cold-warm")
        _EARLY.update(tmp=tmp, cold=_start(tmp, str(tmp / "numba-cache"), 2, "cold"))
    if "cold" in _EARLY:        # still running: wait for it here
        _start_warm(_EARLY["tmp"])
    cold = _parse(_EARLY["cold_done"])
    cache_after_cold = _EARLY["cache_after_cold"]
    warm = _EARLY.pop("warm")
    try:
        warm1, warm2 = (_parse(_finish(w)) for w in warm)
    finally:   # one failed: the other is not left running
        for w in warm:
            _kill(w)
    return {"cold": cold, "cache_after_cold": cache_after_cold,
            "warm, 1 thread": warm1, "warm, 2 threads": warm2}
