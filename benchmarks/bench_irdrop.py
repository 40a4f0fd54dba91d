"""IR-drop model vs ngspice, and the cost of a forward read with IR drop vs the ideal read.

    python benchmarks/bench_irdrop.py                 # both parts (ngspice part needs PySpice)
    python benchmarks/bench_irdrop.py --no-spice      # only the 256×256 read cost
    python benchmarks/bench_irdrop.py --sparse        # also time method="sparse" at 256×256

Part 1: a 64×64 tile with wires (1 Ω per pitch by default), random conductances in the device's
[g_min, g_max] and inputs in [0, v_read]: column currents from ngspice (.op, shared library) and
from `IRDropSolver` (each method, construction included), max relative difference and speedup.
Part 2: a 256×256 tile read with a batch of 1000 input vectors: ideal ``v @ G`` vs the IR-drop
model (construction of G_eff once per conductance state, then one product per batch).
Times are wall-clock (CPU time beside them), best of --repeat runs or more (5x for the
products and solves of part 2; ngspice and --sparse: one run), on whatever thread settings
the environment has.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import analogff._threads  # noqa: F401,E402  (before numpy: thread hand-off defaults)
import numpy as np  # noqa: E402

from crossbar.irdrop import IRDropSolver, ideal_currents  # noqa: E402
from crossbar.spice import relative_errors, spice_unavailable_reason  # noqa: E402

from _args import Parser, at_least, device_preset, positive_float  # one-line refusals, exit 2


def best_of(fn, repeat):
    """(best wall seconds, CPU seconds of that run, result) over `repeat` runs."""
    best, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        t, c = time.perf_counter() - t0, time.process_time() - c0
        if t < best:
            best, cpu = t, c
    return best, cpu, out


def device_range(name):
    from device_models import load_preset
    d = load_preset(name)   # a known preset: --device is checked when parsed
    return name, float(d.g_min), float(d.g_max), float(d.v_read)


def part_spice(args, g_min, g_max, v_read, rows_out):
    from crossbar.spice import run_spice
    n, K = args.spice_size, args.inputs
    rng = np.random.default_rng(args.seed)
    G = rng.uniform(g_min, g_max, size=(n, n))
    V = rng.uniform(0.0, v_read, size=(K, n))
    c0 = time.process_time()
    i_spice, t_spice = run_spice(G, V, args.wire_resistance)
    c_spice = time.process_time() - c0
    e_ideal = relative_errors(ideal_currents(G, V), i_spice).max()
    rows_out.append(("ngspice .op (per vector)", f"{t_spice / K * 1e3:.0f}", f"{c_spice / K * 1e3:.0f}",
                     "reference", "1×"))
    rows_out.append(("ideal v·G", "", "", f"{e_ideal:.2e}", ""))
    for method in IRDropSolver.METHODS:
        t, c, I = best_of(lambda: IRDropSolver(G, args.wire_resistance, method=method).solve(V),
                          args.repeat)
        err = relative_errors(I, i_spice).max()
        rows_out.append((f"IR-drop {method} (build + solve, per vector)", f"{t / K * 1e3:.2f}",
                         f"{c / K * 1e3:.2f}", f"{err:.2e}", f"{t_spice / t:,.0f}×"))


def part_read(args, g_min, g_max, v_read, rows_out):
    n, B, rep = args.read_size, args.batch, args.repeat
    rng = np.random.default_rng(args.seed + 1)
    G = rng.uniform(g_min, g_max, size=(n, n))
    V = rng.uniform(0.0, v_read, size=(B, n))
    G32, V32 = G.astype(np.float32), V.astype(np.float32)
    t64, c64, _ = best_of(lambda: V @ G, rep * 5)
    t32, c32, _ = best_of(lambda: V32 @ G32, rep * 5)
    t_build, c_build, s = best_of(lambda: IRDropSolver(G, args.wire_resistance, method="effective"), rep)
    t_solve, c_solve, I = best_of(lambda: s.solve(V), rep * 5)
    geff32 = s.effective_conductance().astype(np.float32)
    t_s32, c_s32, _ = best_of(lambda: V32 @ geff32, rep * 5)
    t_first, c_first, _ = best_of(lambda: IRDropSolver(G, args.wire_resistance).solve(V), rep)
    drop = (V @ G - I) / I

    def row(what, t, c, ref):
        rows_out.append((what, f"{t * 1e3:.2f}", f"{c * 1e3:.2f}", f"{t / ref:,.2f}×"))

    row("ideal v·G, float64 (reference)", t64, c64, t64)
    row("ideal v·G, float32", t32, c32, t64)
    row("IR-drop read, G_eff cached, float64", t_solve, c_solve, t64)
    row("IR-drop read, G_eff cached, float32 product", t_s32, c_s32, t64)
    row("IR-drop G_eff build (once per conductance state)", t_build, c_build, t64)
    row("IR-drop first read after an update (auto)", t_first, c_first, t64)
    if args.sparse:
        t_sp, c_sp, I_sp = best_of(
            lambda: IRDropSolver(G, args.wire_resistance, method="sparse").solve(V), 1)
        row(f"IR-drop sparse LU: factorise + {B} right-hand sides", t_sp, c_sp, t64)
        rows_out.append(("  sparse vs G_eff currents, max rel. diff",
                         f"{relative_errors(I, I_sp).max():.1e}", "", ""))
    return float(drop.max()), float(drop.mean())


def main(argv=None):
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--device", type=device_preset, default="rram-taox")
    p.add_argument("--wire-resistance", type=positive_float, default=1.0,
                   help="ohms per cell pitch of wire")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--spice-size", type=at_least(2), default=64)
    p.add_argument("--inputs", type=at_least(1), default=2,
                   help="input vectors for the ngspice part")
    p.add_argument("--read-size", type=at_least(2), default=256)
    p.add_argument("--batch", type=at_least(1), default=1000)
    p.add_argument("--repeat", type=at_least(1), default=3)
    p.add_argument("--no-spice", action="store_true")
    p.add_argument("--sparse", action="store_true", help="also time method='sparse' on the big read")
    args = p.parse_args(argv)

    from rich.console import Console
    from rich.table import Table
    console = Console()
    name, g_min, g_max, v_read = device_range(args.device)
    threads = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS") if os.environ.get(k)}
    console.print(f"device {name}: G {g_min * 1e6:.3g}–{g_max * 1e6:.3g} µS, v_read {v_read:g} V; "
                  f"wire {args.wire_resistance:g} Ω/pitch; {os.cpu_count()} CPUs; threads {threads or 'default'}",
                  highlight=False)

    if not args.no_spice:
        reason = spice_unavailable_reason()
        if reason:
            console.print(f"ngspice part skipped: {reason}", highlight=False)
        else:
            rows = []
            part_spice(args, g_min, g_max, v_read, rows)
            t = Table(title=f"IR-drop model vs ngspice: {args.spice_size}×{args.spice_size}, "
                            f"{args.inputs} input vectors")
            for c in ("model", "wall ms", "CPU ms", "max rel. err", "speedup"):
                t.add_column(c, justify="left" if c == "model" else "right")
            for r in rows:
                t.add_row(*r)
            console.print(t)

    rows = []
    dmax, dmean = part_read(args, g_min, g_max, v_read, rows)
    t = Table(title=f"Forward read: {args.read_size}×{args.read_size} tile, batch {args.batch}")
    for c in ("what", "wall ms", "CPU ms", "wall vs ideal f64"):
        t.add_column(c, justify="left" if c == "what" else "right")
    for r in rows:
        t.add_row(*r)
    console.print(t)
    console.print(f"IR drop at this size: the ideal model overestimates column currents by "
                  f"{dmean:.2%} on average, {dmax:.2%} at worst (wall = best of {args.repeat}+ "
                  f"runs; ngspice: one run per vector)", highlight=False)


if __name__ == "__main__":
    main()
