"""A run is a pure function of its config and seed: the same record from a cold Numba cache
(every kernel compiled in the process) and a warm one (every kernel loaded from disk), at one
thread (Numba, OpenMP and BLAS, as a sweep worker runs) and at two (BLAS at its default).

Each run is a fresh process with its own NUMBA_CACHE_DIR and NUMBA_NUM_THREADS that runs
`analogff simulate --json` as `python -m analogff` does, as a user or a fresh sweep worker runs
it (after the 16-bit-ADC reads of tests/crossbar/test_cache_reproducible.py: the two tests share
the processes, and so the cold compile, through tests/conftest.py's `cold_and_warm_processes`).
The configuration is the default analog PFF network (200-200 hidden, ecram, Adam steps applied
as pulses, read noise 0.05) on a 100-example subset for two epochs: its 200x200 matrices take
the parallel update kernel and the evaluation reads take the parallel read kernels, while the
training reads take their serial twins, so every kernel the default run uses is compiled here
and compared. Records are compared exactly, field by field, except wall-clock timings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import crossbar


def _differences(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            yield from _differences(a.get(k), b.get(k), f"{path}/{k}")
    elif a != b:
        yield f"{path}: {a!r} != {b!r}"


def test_same_record_cold_and_warm_cache_one_and_two_threads(cold_and_warm_processes):
    runs = cold_and_warm_processes
    assert runs["cache_after_cold"], "the cold run wrote no Numba cache"
    cold = runs["cold"]["record"]
    for name in ("warm, 1 thread", "warm, 2 threads"):
        diff = list(_differences(cold, runs[name]["record"]))
        assert not diff, f"{name} differs from the cold run: " + "; ".join(diff[:10])
    assert cold["counts"]["pulses"] > 0


_PROBE = """
import numpy as np
from crossbar import kernels as K
assert K.__file__.startswith({root!r}), K.__file__
g = np.zeros(6, dtype=np.float32)
K._fill_normals(g, 12345, 7, K.tablefull_ref[0])
print(g.tolist())
"""


def test_warm_cache_follows_an_edit_of_another_kernel_module(tmp_path):
    """kernels.py inlines crossbar.rng's generator: after an edit of rng.py alone, a warm
    cache must give what a cold one gives (Numba validates a function against its own file
    only; crossbar._jitcache stamps every kernel with all of them)."""
    root = tmp_path / "pkg"
    shutil.copytree(Path(crossbar.__file__).parent, root / "crossbar",
                    ignore=shutil.ignore_patterns("__pycache__"))

    def start(cache):
        env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / cache),
                   PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
        return subprocess.Popen([sys.executable, "-c", _PROBE.format(root=str(root))], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=tmp_path)

    def result(p):
        try:
            out, err = p.communicate(timeout=300)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert p.returncode == 0, err[-2000:]
        return json.loads(out)

    before = result(start("warm"))
    rng = root / "crossbar" / "rng.py"
    src = rng.read_text()
    assert "_GOLDEN = uint64(0x9E3779B97F4A7C15)" in src
    rng.write_text(src.replace("_GOLDEN = uint64(0x9E3779B97F4A7C15)",
                               "_GOLDEN = uint64(0x9E3779B97F4A7C17)"))
    # the warm-cache and the fresh-cache probe of the edited package side by side (separate
    # caches; each compiles on one core)
    pw, pc = start("warm"), start("cold")
    try:
        warm = result(pw)
    finally:
        cold = result(pc)
    assert cold != before        # the edit changes the numbers
    assert warm == cold          # and the warm cache follows it
