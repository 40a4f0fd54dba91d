"""Analog vs ideal-float speed of the crossbar core, side by side in one process.

    python benchmarks/bench_crossbar.py [--repeats 15] [--breakdown]

Forward: batch 1000, shapes 784→500, 2000→2000, 500→10, 8-bit DAC/ADC, read noise on
(σ = 0.05), 256×256 tiles, against ``x @ W`` in float32. Update: deterministic pulsed update
of 2000×2000 from a batch of 1000 against the float ``W += lr·dᵀx``, sized to ask ~1 pulse per
device (the ideal device takes its pulses in closed form; ecram has c2c noise, so every
device's train is drawn: aggregated with one deviate, or pulse by pulse near a bound).
Prints the import times of analogff, analogff.cli and crossbar.analog (fresh interpreters,
median of 3) and the thread settings, then the median time of each, the two timed
alternately call by call (at least ``--repeats``
times, more for short calls: about 0.5 s of timing per pair), and the ratio.
Numba's compile is done (and cached) before timing. The thread
hand-off defaults of analogff._threads (OPENBLAS_THREAD_TIMEOUT, GOMP_SPINCOUNT) apply unless
set in the environment; the README's figures use them.
"""

from __future__ import annotations

import analogff._threads  # noqa: F401  (before numpy: thread hand-off defaults)
import math
import os
import statistics
import time

import numpy as np

from crossbar import AnalogMatrix, IdealMatrix, Periphery
from device_models import load_preset

from _args import Parser, at_least  # one-line refusals, exit 2


def paired(fn_ideal, fn_analog, repeats, min_seconds=0.5):
    """Median times of the two, called alternately (one warm-up each), so that a slow spell of
    this shared machine hits both sides of a ratio alike. Short calls are repeated until the
    pair has been timed for about ``min_seconds``: a 0.2 ms read timed 15 times gives a
    median that one late thread wake-up can move by half."""
    t0 = time.perf_counter()
    fn_ideal()
    fn_analog()
    once = time.perf_counter() - t0
    repeats = max(repeats, min(2000, math.ceil(min_seconds / max(once, 1e-9))))
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
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=at_least(1), default=15)
    ap.add_argument("--breakdown", action="store_true",
                    help="also print where the analog read and update time goes")
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
        calls = [0]   # paired() may repeat a short call more often than --repeats

        def analog_update(ana=ana, calls=calls):
            calls[0] += 1
            ana.update(x, d, float(lr))

        t_f, t_a = paired(float_update, analog_update, args.repeats)
        pulses = (ana.ledger.get("pulses_up") + ana.ledger.get("pulses_down")) / calls[0]
        label = f"update 2000x2000 det., {dev_name}"
        print(f"{label:<34}{t_f*1e3:>10.2f}{t_a*1e3:>11.2f}{t_a/t_f:>8.2f}"
              f"   ({pulses / n / n:.2f} pulses/device)")
    if args.breakdown:
        breakdown(args.repeats)


def breakdown(repeats: int) -> None:
    """Where the time goes: tile products, read noise (the same read with σ = 0), per deviate;
    and the pulsed update per device on one thread."""
    import numba

    rng = np.random.default_rng(0)
    print("\nbreakdown (median ms; noise = read with σ = 0.05 minus the same read with σ = 0)")
    print(f"{'read':<16}{'float':>8}{'tile products':>15}{'read σ=0':>10}{'read':>8}"
          f"{'noise':>8}{'deviates':>10}{'ns/deviate':>12}")
    for n_in, n_out in [(784, 500), (2000, 2000), (500, 10)]:
        x = rng.random((1000, n_in), dtype=np.float32)
        W = (rng.standard_normal((n_out, n_in)) / math.sqrt(n_in)).astype(np.float32)
        mats = {}
        for sigma in (0.0, 0.05):
            per = Periphery(dac_bits=8, adc_bits=8, read_noise=sigma)
            mats[sigma] = AnalogMatrix(n_out, n_in, "ideal", per, seed=1,
                                       w_max=float(np.abs(W).max()))
            mats[sigma].program(W)
        m = mats[0.05]
        Wn, edges = m._Wn, m.row_edges
        q = x / x.max(axis=1, keepdims=True)
        P = np.empty((1000, n_out), dtype=np.float32)

        def products():
            for a, b in zip(edges[:-1], edges[1:]):
                np.matmul(q[:, a:b], Wn[a:b], out=P)

        Wt = np.ascontiguousarray(W.T)
        t_f, t_p = paired(lambda: x @ Wt, products, repeats)
        t_0, t_n = paired(lambda: mats[0.0].forward(x), lambda: m.forward(x), repeats)
        devs = 1000 * n_out * (len(edges) - 1)
        print(f"{f'{n_in}->{n_out}':<16}{t_f*1e3:>8.2f}{t_p*1e3:>15.2f}{t_0*1e3:>10.2f}"
              f"{t_n*1e3:>8.2f}{(t_n-t_0)*1e3:>8.2f}{devs:>10.3g}{(t_n-t_0)/devs*1e9:>12.2f}")
    n = 200
    numba.set_num_threads(1)
    print(f"\n{'update (one thread)':<34}{'ns/device':>10}  (200x200 via apply_delta, ~10 pulses)")
    for dev_name in ("ideal", "ecram"):
        m = AnalogMatrix(n, n, dev_name, Periphery(), seed=0, w_max=1.0)
        m.program(rng.uniform(-0.5, 0.5, (n, n)).astype(np.float32))
        dW = (rng.standard_normal((n, n)) * 12 / m._pulses_per_weight()).astype(np.float32)
        ts = []
        for k in range(2 * repeats + 2):
            t = time.perf_counter()
            m.apply_delta(dW if k % 2 == 0 else -dW)
            ts.append(time.perf_counter() - t)
        print(f"{dev_name:<34}{statistics.median(ts[2:]) / (n * n) * 1e9:>10.1f}")


if __name__ == "__main__":
    main()
