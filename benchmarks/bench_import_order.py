"""What importing numpy before analogff costs: the paper-scale PFF batch in two fresh processes.

    python benchmarks/bench_import_order.py [--rounds 2]

OpenBLAS reads ``OPENBLAS_THREAD_TIMEOUT`` once, when numpy loads it. `analogff._threads` sets
it (and Numba's spin count) before numpy loads, so OpenBLAS's idle thread sleeps almost at once
after a product; a program that imports numpy first keeps OpenBLAS's default, ~0.1 s of
busy-waiting after every product. A run holds BLAS at one thread (`crossbar.products`), so
that thread should never wake: this measures that it costs nothing. Each round runs one
process per import order, alternately, without the variable in their environment; each
process times the ideal and the analog (ecram) paper batch of `bench_paper_scale.py`
(784-2000-2000, K = 12, batch 500 + 500) as a run computes it, best of 3 after a warm-up
batch, and the script prints the times and their ratios.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _args import Parser, at_least  # one-line refusals, exit 2

HERE = Path(__file__).resolve().parent

# one process: import numpy first or not, then time the two paper batches
_CHILD = """
import sys
if sys.argv[1] == "numpy-first":
    import numpy  # noqa: F401
sys.path.insert(0, sys.argv[2])
import time
import bench_paper_scale as paper
from crossbar.products import one_blas_thread
for ideal in (True, False):
    net = paper._net(ideal, "ecram")
    x, y = net.data.x_train[:paper.BATCH], net.data.y_train[:paper.BATCH]
    with one_blas_thread():                       # as a run
        net.algo.train_batch(x, y)                # compile and warm up
        ts = []
        for _ in range(3):
            t = time.perf_counter()
            net.algo.train_batch(x, y)
            ts.append(time.perf_counter() - t)
    print(min(ts))
"""

ORDERS = ("analogff-first", "numpy-first")


def _run(order: str) -> tuple[float, float]:
    """(ideal, analog) seconds per batch, best of 3, in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run([sys.executable, "-c", _CHILD, order, str(HERE)], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    ap = Parser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=at_least(1), default=2, help="rounds of the two processes")
    a = ap.parse_args()
    t = {o: [] for o in ORDERS}
    for r in range(a.rounds):
        for order in ORDERS:
            t[order].append(_run(order))
            print(f"round {r + 1}, {order:15s} ideal {t[order][-1][0]:.2f} s, "
                  f"analog {t[order][-1][1]:.2f} s per batch", flush=True)
    for k, name in ((0, "ideal"), (1, "analog")):
        first = min(x[k] for x in t["analogff-first"])
        late = min(x[k] for x in t["numpy-first"])
        print(f"{name} batch, best: analogff first {first:.2f} s, numpy first {late:.2f} s "
              f"({late / first:.2f}x)")


if __name__ == "__main__":
    main()
