"""End-to-end targets of `analogff simulate`, measured in one process.

    python benchmarks/bench_simulate.py             # digits: default analog run, its ideal twin,
                                                    # and the PFF training-step overhead ratio
    python benchmarks/bench_simulate.py --fashion   # + Fashion-MNIST (10k training examples,
                                                    # 5 epochs, 500-500): ideal PFF / FF / BP and
                                                    # analog PFF at --noise 0.05 (~15 min here)

Prints test accuracy and wall time per run (the Numba cache is warmed first; the digits runs
are the command itself in a subprocess, start-up, progress bar and per-epoch monitoring
included), and the analog / ideal ratio of one PFF training step (same config, same batch).
"""

from __future__ import annotations

import analogff._threads  # noqa: F401  (before numpy: thread hand-off defaults)
import statistics
import time


from analogff.config import SimConfig
from analogff.experiment import build, run_experiment
from crossbar.products import one_blas_thread

from _args import Parser, at_least, main_of  # one-line refusals, exit 2


def warm() -> None:
    run_experiment(SimConfig(epochs=1, limit=100, hidden="20,20", steps=2, noise=0.05))


def run(label: str, cfg: SimConfig) -> dict:
    t = time.perf_counter()
    rec = run_experiment(cfg)
    wall = time.perf_counter() - t
    m = rec["metrics"]
    print(f"{label:<44} test {100 * m['test_accuracy']:6.2f} %   train {100 * m['train_accuracy']:6.2f} %"
          f"   {wall:7.1f} s   E/train-sample {rec['energy']['per_train_sample_j']:.3g} J", flush=True)
    return rec


def run_cli(label: str, args: list[str]) -> dict:
    """The command itself, as a user runs it (progress bar and per-epoch monitoring included):
    wall time from process start to exit; accuracy from its --json record."""
    import json
    import shutil
    import subprocess
    import sys

    exe = shutil.which("analogff") or sys.executable
    cmd = ([exe] if exe != sys.executable else [exe, "-m", "analogff"]) + args + ["--json"]
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - t
    rec = json.loads(out)
    m = rec["metrics"]
    print(f"{label:<44} test {100 * m['test_accuracy']:6.2f} %   train {100 * m['train_accuracy']:6.2f} %"
          f"   {wall:7.1f} s   E/train-sample {rec['energy']['per_train_sample_j']:.3g} J", flush=True)
    return rec


def step_ratio(cfg: SimConfig, repeats: int = 21) -> None:
    """Median time of one PFF training batch, analog vs its ideal twin (same data, same seed).

    The two are timed alternately, batch after batch, so that a slow spell of this shared
    machine hits both; the ratio of the medians is printed with the range of per-pair ratios."""
    nets = {ideal: build(cfg.replace(ideal=ideal)) for ideal in (False, True)}
    net = nets[False]
    d = net.data
    bs = int(net.hp["batch_size"])
    x, y = d.x_train[:bs], d.y_train[:bs]
    times: dict[bool, list[float]] = {False: [], True: []}
    with one_blas_thread():   # as a run (analogff.experiment.run_experiment)
        for n in nets.values():
            n.algo.train_batch(x, y)  # warm-up (first-call allocations)
        for _ in range(repeats):
            for ideal, n in nets.items():
                t = time.perf_counter()
                n.algo.train_batch(x, y)
                times[ideal].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    pair = sorted(a / b for a, b in zip(times[False], times[True]))
    q1, q3 = pair[len(pair) // 4], pair[(3 * len(pair)) // 4]
    print(f"PFF training step ({cfg.dataset}, hidden {net.hp['hidden']}, batch {bs}+{bs}, "
          f"K={net.hp['steps']}): ideal {1e3 * med[True]:.1f} ms, analog "
          f"{1e3 * med[False]:.1f} ms, ratio {med[False] / med[True]:.2f} "
          f"(per-batch ratios, middle half: {q1:.2f}-{q3:.2f}; {repeats} batches each)")


def main() -> None:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--fashion", action="store_true", help="also run the Fashion-MNIST comparison")
    ap.add_argument("--fashion-epochs", type=at_least(1), default=5)
    ap.add_argument("--fashion-hidden", default="500,500")
    ap.add_argument("--fashion-limit", type=at_least(0), default=10000,
                    help="training examples (stratified subset; 0 = all 60000)")
    args = ap.parse_args()
    warm()
    print("digits (the commands, end to end: analogff simulate --noise 0.05, "
          "analogff simulate --ideal)")
    run_cli("analog PFF, --noise 0.05 (default device)", ["simulate", "--noise", "0.05"])
    run_cli("ideal twin (--ideal)", ["simulate", "--ideal"])
    step_ratio(SimConfig(noise=0.05))
    if args.fashion:
        h, ep = args.fashion_hidden, args.fashion_epochs
        lim = args.fashion_limit or None
        print(f"fashion-mnist, hidden {h}, {ep} epochs each, {lim or 60000} training examples")
        base = dict(dataset="fashion-mnist", hidden=h, epochs=ep, batch_size=100, limit=lim)
        for algo in ("pff", "ff", "bp"):
            run(f"ideal {algo.upper()}", SimConfig(algo=algo, ideal=True, **base))
        run("analog PFF, --noise 0.05", SimConfig(algo="pff", noise=0.05, **base))
        step_ratio(SimConfig(dataset="fashion-mnist", hidden=h, batch_size=100, noise=0.05))


if __name__ == "__main__":
    main_of(main)
