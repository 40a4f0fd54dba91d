"""Analog vs ideal-float speed of the crossbar core, side by side in one process.

    python benchmarks/bench_crossbar.py [--repeats 15]

Forward: batch 1000, shapes 784→500, 2000→2000, 500→10, 8-bit DAC/ADC, read noise on
(σ = 0.05), 256×256 tiles, against ``x @ W`` in float32. Update: deterministic pulsed update
of 2000×2000 from a batch of 1000 against the float ``W += lr·dᵀx``, sized to ask ~1 pulse per
device (the ideal device takes its pulses in closed form; ecram has c2c noise, so every
device's train is drawn: aggregated with one deviate, or pulse by pulse near a bound).
Prints the median time of each, the two timed alternately call by call, and the ratio.
Numba's compile is done (and cached) before timing. The thread
hand-off defaults of analogff._threads (OPENBLAS_THREAD_TIMEOUT, GOMP_SPINCOUNT) apply unless
set in the environment; the README's figures use them.
"""

from __future__ import annotations

import analogff._threads  # noqa: F401  (before numpy: thread hand-off defaults)
import argparse
import math
import os
import statistics
import time

import numpy as np

from crossbar import AnalogMatrix, IdealMatrix, Periphery
from device_models import load_preset


def paired(fn_ideal, fn_analog, repeats):
    """Median times of the two, called alternately (one warm-up each), so that a slow spell of
    this shared machine hits both sides of a ratio alike."""
    fn_ideal()
    fn_analog()
    ti, ta = [], []
    for _ in range(repeats):
        for fn, ts in ((fn_ideal, ti), (fn_analog, ta)):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return statistics.median(ti), statistics.median(ta)


def import_times() -> None:
    """Wall time of fresh imports, each in its own interpreter (median of 3)."""
    import subprocess
    import sys

    for mod in ("analogff", "analogff.cli", "crossbar.analog"):
        code = f"import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"
        ts = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                   check=True).stdout) for _ in range(3)]
        print(f"import {mod:<16} {statistics.median(ts):.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    dev = load_preset("ideal")
    per = Periphery(dac_bits=8, adc_bits=8, read_noise=0.05, tile_rows=256, tile_cols=256)
    import_times()
    print(f"threads: numba={os.environ.get('NUMBA_NUM_THREADS', 'default')}, cores={os.cpu_count()}")
    print(f"{'operation':<34}{'ideal ms':>10}{'analog ms':>11}{'ratio':>8}")
    ratios = []
    for n_in, n_out in [(784, 500), (2000, 2000), (500, 10)]:
        x = rng.random((1000, n_in), dtype=np.float32)
        W = (rng.standard_normal((n_out, n_in)) / math.sqrt(n_in)).astype(np.float32)
        ideal = IdealMatrix(n_out, n_in)
        ideal.program(W)
        ana = AnalogMatrix(n_out, n_in, dev, per, seed=1, w_max=float(np.abs(W).max()))
        ana.program(W)
        Wt = np.ascontiguousarray(W.T)
        t_f, t_a = paired(lambda: x @ Wt, lambda: ana.forward(x), args.repeats)
        ratios.append(t_a / t_f)
        print(f"{f'forward {n_in}->{n_out}, batch 1000':<34}{t_f*1e3:>10.2f}{t_a*1e3:>11.2f}{t_a/t_f:>8.2f}")
    gm = math.exp(sum(map(math.log, ratios)) / len(ratios))
    print(f"{'forward geometric mean':<34}{'':>10}{'':>11}{gm:>8.2f}")

    n = 2000
    x = rng.random((1000, n), dtype=np.float32)
    d = rng.standard_normal((1000, n)).astype(np.float32)
    Wf = np.zeros((n, n), dtype=np.float32)
    lr = np.float32(0.01)

    def float_update():
        Wf.__iadd__(lr * (d.T @ x))

    # scale the request to ~1 pulse per device on average: typical of one training step
    mean_abs = float(np.abs(d.T @ x).mean()) * float(lr)
    for dev_name in ("ideal", "ecram"):
        dv = load_preset(dev_name)
        w_max = mean_abs * dv.states
        ana = AnalogMatrix(n, n, dv, per, seed=1, w_max=w_max)
        t_f, t_a = paired(float_update, lambda: ana.update(x, d, float(lr)), args.repeats)
        pulses = (ana.ledger.get("pulses_up") + ana.ledger.get("pulses_down")) / (args.repeats + 1)
        label = f"update 2000x2000 det., {dev_name}"
        print(f"{label:<34}{t_f*1e3:>10.2f}{t_a*1e3:>11.2f}{t_a/t_f:>8.2f}"
              f"   ({pulses / n / n:.2f} pulses/device)")


if __name__ == "__main__":
    main()
