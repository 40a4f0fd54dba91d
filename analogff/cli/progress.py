"""The `simulate` progress bar: one bar for the whole run (every epoch's batches), live elapsed
time and ETA, a note while the Numba kernels compile on a machine's first run, and the
per-epoch monitor accuracy labelled as such (the final accuracy is on the whole test set).
"""

from __future__ import annotations

import glob
import os
import time
from typing import Callable

MONITOR_EXAMPLES = 300     # analogff.experiment.monitor_accuracy's default subset


def kernels_cached() -> bool:
    """True if Numba's on-disk cache holds crossbar kernels (in-tree ``__pycache__`` or
    ``$NUMBA_CACHE_DIR``). False means this run compiles them (about a minute here)."""
    import crossbar

    # with $NUMBA_CACHE_DIR set, Numba caches there and only there
    root = (os.environ.get("NUMBA_CACHE_DIR")
            or os.path.join(os.path.dirname(crossbar.__file__), "__pycache__"))
    return bool(glob.glob(os.path.join(root, "**", "*.nbi"), recursive=True))


def run_with_progress(cfg, hp, con, monitor: bool, run: Callable[[Callable], dict]) -> dict:
    """Call ``run(progress_callback)`` under one progress bar for the whole run."""
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    kind = "ideal" if cfg.ideal else cfg.device
    name = f"{cfg.algo} on {cfg.dataset} ({kind})"
    acc_label = f"acc@{MONITOR_EXAMPLES}" if monitor else "acc"
    cols = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  " + acc_label + " {task.fields[acc]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    epochs = int(hp["epochs"])
    compiling = not cfg.ideal and not kernels_cached()
    first = "compiling Numba kernels (first run on this machine, cached afterwards)" \
        if compiling else "building the network"
    if compiling:
        from analogff.experiment import make_device
        from crossbar.pulse_updates import device_takes_general_kernel
        from crossbar.warmup import compile_pulses_in_background

        # the pulse kernel the run will take compiles in a second process meanwhile
        compile_pulses_in_background(general=device_takes_general_kernel(make_device(cfg)))
    t0 = time.perf_counter()
    with Progress(*cols, console=con, transient=False, refresh_per_second=4) as prog:
        task = prog.add_task(f"{name}: {first}", total=None, loss="–", acc="–")
        started = [False]

        def progress(kind_, **k):
            if kind_ == "batch":
                if not started[0]:
                    started[0] = True
                    waited = time.perf_counter() - t0
                    if waited > 5 and compiling:
                        con.print(f"kernels compiled and cached in {waited:.0f} s",
                                  highlight=False)
                nb = int(k["batches"])
                prog.update(task, total=nb * int(k["epochs"]),
                            completed=int(k["epoch"]) * nb + int(k["batch"]) + 1,
                            description=f"{name} epoch {k['epoch'] + 1}/{k['epochs']}",
                            loss=f"{k['loss']:.4f}")
            elif kind_ == "epoch":
                acc = k.get("accuracy")
                prog.update(task, loss=f"{k['loss']:.4f}",
                            acc="–" if acc is None else f"{100 * acc:.1f} %")
            elif kind_ == "evaluated":
                prog.update(task, description=f"{name} done ({epochs} epochs)")

        return run(progress)


def final_accuracy_line(record: dict, monitor: bool) -> str:
    """One line naming the final accuracy, and what the bar's per-epoch figure was."""
    m, s = record["metrics"], record["samples"]
    line = (f"final test accuracy: {100 * m['test_accuracy']:.2f} % on all {s['test']:,} test "
            "examples")
    if monitor:
        line += (f" (the bar's acc@{MONITOR_EXAMPLES} is a per-epoch check on the first "
                 f"{MONITOR_EXAMPLES} test examples only)")
    return line
