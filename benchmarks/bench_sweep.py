"""Sweep engine benchmark: throughput of 2 local workers vs 1, and overhead per point.

    python benchmarks/bench_sweep.py            # 8 small real points (analogff run_experiment)
    python benchmarks/bench_sweep.py --quick    # smaller points

Prints, for 1 and 2 workers:
- cold: a fresh pool, as `analogff sweep` starts one (includes spawning the workers and each
  worker's first-run warm-up: imports, Numba cache loads);
- warm: a pool whose workers have already run one point (steady state of a long sweep);
- the throughput ratio 2 workers / 1 worker (target >= 1.7x);
- the overhead per point (target <= 50 ms): how long a worker idles between the end of one
  point and the start of its next (result back to the client, store write, next point sent),
  (workers x wall - time inside the points) / points (adds the tail imbalance), the client's
  store-write time per point, and the wall time per point of a sweep whose point function
  does nothing (pure scheduling + IPC + store write).

The figures depend on what else runs on the machine: the 2 cores here are shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analogff.config import SimConfig  # noqa: E402
from analogff.store import ResultsStore  # noqa: E402
from analogff.sweep import LocalPool, build_spec, default_point, expand, run_sweep  # noqa: E402


def null_point(cfg: SimConfig) -> dict:
    """A point that does no work: what is left of a sweep is the engine's own overhead."""
    return {"status": "done", "config": cfg.to_dict(), "seed": cfg.seed,
            "metrics": {"train_accuracy": 1.0, "test_accuracy": 1.0, "final_loss": 0.0,
                        "ideal_test_accuracy": None},
            "timing": {"wall_s": 0.0, "train_s": 0.0, "eval_s": 0.0}}


def timed_point(cfg: SimConfig) -> dict:
    """A real point that notes which worker ran it and when (wall clock, shared by processes)."""
    t0, c0 = time.time(), time.process_time()
    rec = default_point(cfg)
    rec["bench"] = {"pid": os.getpid(), "start": t0, "end": time.time(),
                    "cpu": time.process_time() - c0}
    return rec


def worker_gaps(records: list[dict]) -> list[float]:
    """Idle time of each worker between the end of one point and the start of its next:
    result back to the client, store write, next point submitted and received."""
    by_pid: dict[int, list[tuple[float, float]]] = {}
    for r in records:
        b = r["bench"]
        by_pid.setdefault(b["pid"], []).append((b["start"], b["end"]))
    gaps = []
    for spans in by_pid.values():
        spans.sort()
        gaps += [s2 - e1 for (_, e1), (s2, _) in zip(spans, spans[1:])]
    return gaps


def warm_point(cfg: SimConfig) -> dict:
    """Run a real point, then idle a moment so that every worker of the pool gets one."""
    rec = default_point(cfg)
    time.sleep(1.0)
    return rec


def points(quick: bool) -> list[SimConfig]:
    # ~1.4 s per point here (one thread); --quick: ~0.25 s
    base = dict(algo="bp", epochs=8 if quick else 20, limit=1000 if quick else None,
                hidden="64" if quick else "128", dataset="digits")
    return expand(build_spec(["noise=0,0.01,0.02,0.05"], base=base, seeds=2))


def warm_pool(pool: LocalPool, quick: bool, tmp: Path) -> None:
    warm = expand(build_spec([], base=dict(algo="bp", epochs=1, limit=100, hidden="8",
                                           seed=1000), seeds=pool.workers))
    with ResultsStore(tmp / f"warmup{pool.workers}.db") as st:
        run_sweep(warm, st, point_fn=warm_point, pool=pool)


def measure(pts, workers: int, tmp: Path, tag: str, quick: bool, warm: bool,
            point_fn=None) -> dict:
    with LocalPool(workers) as pool:
        if warm:
            warm_pool(pool, quick, tmp)
        with ResultsStore(tmp / f"{tag}.db") as st:
            res = run_sweep(pts, st, point_fn=point_fn or timed_point, pool=pool)
            if res.failed:
                raise SystemExit(f"{tag}: {res.failed} points failed: {res.failures[:2]}")
            recs = st.records() if point_fn is None else []
            gaps = worker_gaps(recs)
            cpu = sum(r["bench"]["cpu"] for r in recs)
    if res.failed:
        raise SystemExit(f"{tag}: {res.failed} points failed: {res.failures[:2]}")
    inside = sum(res.point_s)
    return {"wall": res.wall_s, "inside": inside, "n": res.ran, "workers": workers,
            "overhead_ms": (workers * res.wall_s - inside) / res.ran * 1e3,
            "store_ms": res.client_s / res.ran * 1e3,
            "point_s": statistics.mean(res.point_s),
            "gap_ms": statistics.mean(gaps) * 1e3 if gaps else float("nan"),
            "gap_max_ms": max(gaps) * 1e3 if gaps else float("nan"),
            "efficiency": inside / (workers * res.wall_s),
            "cpu_share": cpu / inside if recs else float("nan")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller points")
    ap.add_argument("--null-points", type=int, default=40,
                    help="points of the no-work sweep that measures pure overhead")
    args = ap.parse_args()
    pts = points(args.quick)
    print(f"{len(pts)} points: {pts[0].algo}, epochs={pts[0].epochs}, limit={pts[0].limit}, "
          f"hidden={pts[0].hidden}, noise x seeds; cpu_count={os.cpu_count()}, "
          f"threads per worker={LocalPool(1).threads}, load average before="
          f"{os.getloadavg()[0]:.1f}")
    rows = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for warm in (False, True):
            for w in (1, 2):
                tag = f"{'warm' if warm else 'cold'}{w}"
                t0 = time.perf_counter()
                rows[tag] = measure(pts, w, tmp, tag, args.quick, warm)
                r = rows[tag]
                print(f"  {tag}: wall {r['wall']:.2f} s, mean point {r['point_s']:.2f} s, "
                      f"overhead {r['overhead_ms']:.1f} ms/point, store write "
                      f"{r['store_ms']:.1f} ms/point, worker idle between points "
                      f"{r['gap_ms']:.1f} ms (max {r['gap_max_ms']:.1f}), parallel efficiency "
                      f"{r['efficiency']:.2f}, CPU time / wall time inside points "
                      f"{r['cpu_share']:.2f}  ({time.perf_counter() - t0:.1f} s total)",
                      flush=True)
        null_pts = expand(build_spec([], base=dict(epochs=1), seeds=args.null_points))
        rows["null2"] = measure(null_pts, 2, tmp, "null2", args.quick, warm=False,
                                point_fn=null_point)
        with LocalPool(2) as pool:   # warm pool, then the null sweep: steady-state overhead
            with ResultsStore(tmp / "nullwarm-a.db") as st:
                run_sweep(null_pts[:4], st, point_fn=null_point, pool=pool)
            with ResultsStore(tmp / "nullwarm-b.db") as st:
                res = run_sweep(null_pts, st, point_fn=null_point, pool=pool)
        rows["null2warm"] = {"wall": res.wall_s, "n": res.ran,
                             "store_ms": res.client_s / res.ran * 1e3}

    cold = rows["cold1"]["wall"] / rows["cold2"]["wall"]
    warm = rows["warm1"]["wall"] / rows["warm2"]["wall"]
    n2 = rows["null2"]
    nw = rows["null2warm"]
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print()
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| throughput 2 workers / 1 worker, warm workers | {warm:.2f}x | >= 1.7x |")
    print(f"| throughput 2 workers / 1 worker, cold start (incl. worker start-up) | {cold:.2f}x | |")
    print(f"| CPU time / wall time inside points, warm 1 worker -> 2 workers | "
          f"{rows['warm1']['cpu_share']:.2f} -> {rows['warm2']['cpu_share']:.2f} "
          f"(< 1: the cores were busy with other work) | |")
    print(f"| overhead per point, 2 warm workers: worker idle between consecutive points | "
          f"{rows['warm2']['gap_ms']:.1f} ms (max {rows['warm2']['gap_max_ms']:.1f} ms) | <= 50 ms |")
    print(f"| overhead per point incl. tail imbalance: (2 x wall - point time) / points | "
          f"{rows['warm2']['overhead_ms']:.1f} ms | |")
    print(f"| parallel efficiency, 2 warm workers: point time / (2 x wall) | "
          f"{rows['warm2']['efficiency']:.2f} | |")
    print(f"| store write per point (client) | {rows['warm2']['store_ms']:.1f} ms | |")
    print(f"| no-work sweep, 2 warm workers: wall per point | "
          f"{nw['wall'] / nw['n'] * 1e3:.1f} ms | <= 50 ms |")
    print(f"| no-work sweep, 2 workers incl. spawning them: wall per point | "
          f"{n2['wall'] / n2['n'] * 1e3:.1f} ms ({n2['n']} points) | |")


if __name__ == "__main__":
    main()
