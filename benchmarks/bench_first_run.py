"""First run on a machine (cold Numba cache) against the same run warm.

    python benchmarks/bench_first_run.py [--runs 1] [-- simulate options ...]

Runs ``analogff simulate`` (default options unless given after ``--``) in a fresh interpreter
with a fresh, empty ``NUMBA_CACHE_DIR`` (cold: every kernel the run uses is compiled and
cached), then again with that cache (warm), and prints the two wall times and their difference
(target: at most 10 s). Timings include interpreter start and imports; both runs are the same
command, so the difference is the compilation.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time


def _run(args, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", "from analogff.cli import main; main()",
                        "simulate", *args], env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"simulate failed ({p.returncode}): {p.stderr.strip().splitlines()[-1:]}")
    return dt


def main() -> None:
    argv = sys.argv[1:]
    runs = 1
    if argv[:1] == ["--runs"]:
        runs, argv = int(argv[1]), argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    print(f"analogff simulate {' '.join(argv) or '(defaults)'}")
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="numba-cold-") as cache:
            cold = _run(argv, cache)
            warm = _run(argv, cache)
        print(f"  cold cache {cold:6.1f} s   warm {warm:6.1f} s   first-run cost {cold - warm:5.1f} s "
              f"(target <= 10 s)")


if __name__ == "__main__":
    main()
