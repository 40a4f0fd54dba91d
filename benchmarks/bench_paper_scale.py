"""One PFF training batch at the paper's scale, ideal and analog, against its matrix products.

    python benchmarks/bench_paper_scale.py [--repeats 3] [--device ecram] [--skip-analog]

The paper preset (784-2000-2000, K = 12 settling steps, lateral groups of 10, batch 500
positives + 500 negatives, Adam as released): one ``train_batch`` on ideal float matrices and
one on analog tiles (``--device``, read noise of the device, 8-bit converters), and the same
batch's matrix products alone: every forward, transposed, update and lateral product the ideal
batch asked for (recorded from its matrices), replayed with random float32 operands of the same
shapes through numpy's BLAS. Prints the median time of each, the ratios (targets: ideal within
1.3× of its products, analog within 1.5× of ideal) and the projected time of a 60-epoch MNIST
run (60000 / 500 = 120 batches per epoch). Inputs are random images (784 values in [0, 1]): the
time of a batch does not depend on their content. Numba's compile is done before timing.
"""

from __future__ import annotations

import analogff._threads  # noqa: F401  (before numpy: thread hand-off defaults)
import argparse
import statistics
import time

import numpy as np

from analogff.config import from_dict
from analogff.data import Dataset
from analogff.experiment import build

BATCH = 500
N_TRAIN = 60000
EPOCHS = 60


def _data(n: int = 1000) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (n, 784)).astype(np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    return Dataset("random-mnist-shape", x, y, x[:100], y[:100], 10, (28, 28), "random")


def _net(ideal: bool, device: str):
    cfg = from_dict({"preset": "paper", "ideal": ideal, "device": device, "dataset": "digits"})
    return build(cfg, data=_data())


class _Recorder:
    """Wraps a matrix's products to record their shapes (the ideal run's products)."""

    def __init__(self, calls):
        self.calls = calls

    def wrap(self, m):
        calls = self.calls
        for kind in ("forward", "transposed", "update", "apply_delta"):
            f = getattr(m, kind)

            def rec(*a, _f=f, _k=kind, _m=m, **kw):
                calls.append((_k, _m.shape, np.shape(a[0])))
                return _f(*a, **kw)
            setattr(m, kind, rec)


def _batch_times(net, repeats):
    x, y = net.data.x_train[:BATCH], net.data.y_train[:BATCH]
    net.algo.train_batch(x, y)   # compile and warm up
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        net.algo.train_batch(x, y)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def _products(calls, lateral, repeats):
    """Time the recorded products with random operands of the same shapes (BLAS)."""
    rng = np.random.default_rng(1)
    ops = []
    for kind, (out, inp), xs in calls:
        B = xs[0] if len(xs) == 2 else 1
        if kind == "forward":
            ops.append((rng.standard_normal((B, inp), np.float32),
                        rng.standard_normal((inp, out), np.float32), "mm"))
        elif kind == "transposed":
            ops.append((rng.standard_normal((B, out), np.float32),
                        rng.standard_normal((out, inp), np.float32), "mm"))
        elif kind == "update":   # W += lr dᵀx
            ops.append((rng.standard_normal((inp, B), np.float32),
                        rng.standard_normal((B, out), np.float32), "mm"))
        else:                    # apply_delta: an elementwise add of the step
            ops.append((rng.standard_normal((out, inp), np.float32),
                        rng.standard_normal((out, inp), np.float32), "add"))
    for B, g, k in lateral:      # block-diagonal lateral products: g blocks of k×k
        ops.append((rng.standard_normal((g, B, k), np.float32),
                    rng.standard_normal((g, k, k), np.float32), "mm"))
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        for a, b, how in ops:
            if how == "mm":
                np.matmul(a, b)
            else:
                a += b
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), len(ops)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="ecram")
    ap.add_argument("--skip-analog", action="store_true")
    a = ap.parse_args()

    ideal = _net(True, a.device)
    calls: list = []
    rec = _Recorder(calls)
    for m in ideal.algo.matrices:
        rec.wrap(m)
    lateral = []
    for blk in getattr(ideal.algo, "lat", []):
        f = blk.forward

        def lat(x, _f=f, _b=blk):
            lateral.append((np.shape(x)[0], _b.n_blocks, _b.block))
            return _f(x)
        blk.forward = lat
    x, y = ideal.data.x_train[:BATCH], ideal.data.y_train[:BATCH]
    ideal.algo.train_batch(x, y)   # one recorded batch
    n_calls = len(calls) + len(lateral)
    calls_one, lateral_one = list(calls), list(lateral)
    t_ideal = _batch_times(ideal, a.repeats)
    t_prod, n_ops = _products(calls_one, lateral_one, a.repeats)
    print(f"paper preset: 784-2000-2000, K=12, batch {BATCH}+{BATCH}, "
          f"{n_calls} matrix calls per batch ({len(lateral_one)} lateral)")
    print(f"  matrix products alone (BLAS)   {t_prod:8.2f} s")
    print(f"  ideal PFF batch                {t_ideal:8.2f} s   {t_ideal / t_prod:5.2f}x products "
          f"(target <= 1.3x)")
    epoch = N_TRAIN / BATCH
    print(f"  projected 60-epoch MNIST, ideal: {t_ideal * epoch * EPOCHS / 3600:6.1f} h")
    if not a.skip_analog:
        analog = _net(False, a.device)
        t_analog = _batch_times(analog, a.repeats)
        print(f"  analog PFF batch ({a.device:<8})   {t_analog:8.2f} s   "
              f"{t_analog / t_ideal:5.2f}x ideal (target <= 1.5x)")
        print(f"  projected 60-epoch MNIST, analog: {t_analog * epoch * EPOCHS / 3600:6.1f} h")


if __name__ == "__main__":
    main()
