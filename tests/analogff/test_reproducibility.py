"""A run is a pure function of its config and seed: the same record from a cold Numba cache
(every kernel compiled in the process) and a warm one (every kernel loaded from disk), at one
thread and at two.

Each run is a separate `analogff simulate --json` process with its own NUMBA_CACHE_DIR and
NUMBA_NUM_THREADS, as a user (or a fresh sweep worker) runs it. The configuration is the
default analog PFF network (200-200 hidden, ecram, Adam steps applied as pulses, read noise
0.05) on a 100-example subset for two epochs: its 200x200 matrices take the parallel update
kernel and the evaluation reads take the parallel read kernels, while the training reads take
their serial twins, so every kernel the default run uses is compiled here and compared.
Records are compared exactly, field by field, except wall-clock timings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import crossbar

ARGS = ["simulate", "--noise", "0.05", "--limit", "100", "--epochs", "2", "--no-monitor",
        "--json"]


def _run(cache: str, threads: int) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, NUMBA_NUM_THREADS=str(threads))
    env.pop("NUMBA_DISABLE_JIT", None)
    p = subprocess.run([sys.executable, "-m", "analogff", *ARGS], env=env, capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    rec = json.loads(p.stdout)
    rec.pop("timing")
    return rec


def _differences(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            yield from _differences(a.get(k), b.get(k), f"{path}/{k}")
    elif a != b:
        yield f"{path}: {a!r} != {b!r}"


def test_same_record_cold_and_warm_cache_one_and_two_threads(tmp_path):
    cache = str(tmp_path / "numba-cache")
    cold = _run(cache, threads=2)          # compiles every kernel (and fills the cache)
    assert os.listdir(cache), "the cold run wrote no Numba cache"
    warm1 = _run(cache, threads=1)         # loads them, one thread
    warm2 = _run(cache, threads=2)         # loads them, two threads
    for name, rec in (("warm cache, 1 thread", warm1), ("warm cache, 2 threads", warm2)):
        diff = list(_differences(cold, rec))
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

    def probe(cache):
        env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / cache),
                   PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
        p = subprocess.run([sys.executable, "-c", _PROBE.format(root=str(root))], env=env,
                           capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert p.returncode == 0, p.stderr[-2000:]
        return json.loads(p.stdout)

    before = probe("warm")
    rng = root / "crossbar" / "rng.py"
    src = rng.read_text()
    assert "_GOLDEN = uint64(0x9E3779B97F4A7C15)" in src
    rng.write_text(src.replace("_GOLDEN = uint64(0x9E3779B97F4A7C15)",
                               "_GOLDEN = uint64(0x9E3779B97F4A7C17)"))
    warm = probe("warm")
    cold = probe("cold")
    assert cold != before        # the edit changes the numbers
    assert warm == cold          # and the warm cache follows it
