"""First run on a machine (cold Numba cache) against the same run warm.

    python benchmarks/bench_first_run.py [--runs 1] [-- simulate options ...]

Runs ``analogff simulate`` (default options unless given after ``--``) in a fresh interpreter
with a fresh, empty ``NUMBA_CACHE_DIR`` (cold: every kernel the run uses is compiled and
cached), then again with that cache (warm), and prints the two wall times, their difference
(the first-run cost; the target: at most 10 s on an idle 2-core machine) and, from the
cold run, the compile time of each top-level kernel compiled in that process (CPU seconds of
the compiling thread, its callees included; the pulse kernels compile in a second process
meanwhile, `crossbar.warmup`, and are listed only if this one had to compile them). Timings
include interpreter start and imports; both runs are the same command, so the difference is
the compilation. Wall times on a loaded machine are not comparable with an idle one's; the
CPU seconds of each run (its process and the second one, user + system) are, nearly: their
cold-minus-warm difference is what compiling cost in all. Last, the pulse kernels' compile is
timed alone in a fresh cache (what the second process compiles).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from argparse import ArgumentTypeError

from _args import at_least  # one-line refusals, exit 2

TARGET_S = 10.0  # the target: a first run at most this much longer than the same run warm

# run in the timed interpreter: simulate, and the compile time of every top-level kernel
# (Numba's "numba:compile" events at nesting depth 0) written to $FIRST_RUN_LOG at exit
_CHILD = r"""
import atexit, json, os, sys, time
from numba.core import event

depth, log = [0], {}

class _Timer(event.Listener):
    def on_start(self, ev):
        depth[0] += 1
        if depth[0] == 1:
            self.t0 = time.thread_time()

    def on_end(self, ev):
        depth[0] -= 1
        if depth[0] == 0:
            f = ev.data["dispatcher"].py_func
            name = f.__module__.rsplit(".", 1)[-1] + "." + f.__name__
            log[name] = log.get(name, 0.0) + time.thread_time() - self.t0

event.register("numba:compile", _Timer())
atexit.register(lambda: json.dump(log, open(os.environ["FIRST_RUN_LOG"], "w")))
import crossbar.warmup as _warmup
_start = _warmup.compile_pulses_in_background

def _started(general=False):   # which pulse kernel the run asked the second process for
    log[_GENERAL_KEY] = general
    return _start(general=general)

_warmup.compile_pulses_in_background = _started
from analogff.cli import main
main()
"""
# the key under which the child notes the second process's kernel (not a kernel's name)
_GENERAL_KEY = "(second process: general kernel)"
_CHILD = _CHILD.replace("_GENERAL_KEY", repr(_GENERAL_KEY))


# the pulse kernels' compile alone (crossbar.warmup's work, general or lean as the run asked),
# timed like the run's kernels
_PULSES = _CHILD.replace("from analogff.cli import main\nmain()",
                         "from crossbar.warmup import compile_pulse_kernels\n"
                         "compile_pulse_kernels(general='--general' in sys.argv)")


def _cpu_children() -> float:
    """CPU seconds (user + system) of the waited-for child processes so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(args, cache_dir, log, code=_CHILD):
    """(wall s, CPU s of the process and its children, {kernel: compile CPU s})."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, FIRST_RUN_LOG=log)
    t, c = time.perf_counter(), _cpu_children()
    p = subprocess.run([sys.executable, "-c", code, "simulate", *args], env=env,
                       capture_output=True, text=True)
    dt, dc = time.perf_counter() - t, _cpu_children() - c
    if p.returncode != 0:   # its last line, and its status: 2 for a refused option
        last = (p.stderr.strip().splitlines() or ["(no message)"])[-1]
        print(f"bench_first_run.py: simulate exited {p.returncode}: {last}", file=sys.stderr)
        sys.exit(p.returncode)
    with open(log) as f:
        return dt, dc, json.load(f)


def _print_compiled(title: str, compiled: dict) -> None:
    print(f"  {title}: {sum(compiled.values()):.1f} s CPU")
    for name, s in sorted(compiled.items(), key=lambda kv: -kv[1]):
        print(f"    {s:5.1f} s  {name}")


def main() -> None:
    argv = sys.argv[1:]
    runs = 1
    if argv[:1] == ["--runs"]:
        try:
            runs, argv = at_least(1)(argv[1] if len(argv) > 1 else ""), argv[2:]
        except ArgumentTypeError as exc:
            print(f"bench_first_run.py: argument --runs: {exc}", file=sys.stderr)
            sys.exit(2)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    print(f"analogff simulate {' '.join(argv) or '(defaults)'}  ({os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.1f} at start)")
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="numba-cold-") as cache:
            log = os.path.join(cache, "compile-log.json")
            cold, cold_cpu, compiled = _run(argv, cache, log)
            warm, warm_cpu, _ = _run(argv, cache, log)
        general = compiled.pop(_GENERAL_KEY, False)
        with tempfile.TemporaryDirectory(prefix="numba-cold-") as cache:
            log = os.path.join(cache, "compile-log.json")
            _, _, pulses = _run(["--general"] if general else [], cache, log, _PULSES)
            pulses.pop(_GENERAL_KEY, None)
        cost = cold - warm
        print(f"  cold cache {cold:6.1f} s   warm {warm:6.1f} s   first-run cost {cost:5.1f} s "
              f"(target <= {TARGET_S:.0f} s: {'met' if cost <= TARGET_S else 'NOT met'})")
        print(f"  CPU, run + second process: cold {cold_cpu:6.1f} s   warm {warm_cpu:6.1f} s   "
              f"difference {cold_cpu - warm_cpu:5.1f} s")
        _print_compiled("compiled in the run's process", compiled)
        _print_compiled("compiled in the second process (timed alone, fresh cache)", pulses)
    print(f"  load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
