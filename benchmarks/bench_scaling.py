"""Scaling study: PFF, FF and BP as the network grows (the claims of docs/findings.md, "Claims
about forward-only learning as networks grow").

Energy and latency per training sample, the chip each algorithm needs to train, and its
on-chip buffer peak, versus width (depth 2: 784 - w - w - 10) and depth (FF and BP,
784 - 1000 x d - 10, d = 2-6 and 8; PFF only at the released two-layer design), priced from the
real algorithms on the counting backend (`analogff.scaling`: one training batch of 50 and
one inference, no training) on two devices and two nodes; and the widest 784 - w - w - 10
network whose training chip fits 10, 50 and 100 mm² (ecram, 22 nm).

Update family: the matched ``pulsed`` one for all three (per-array adaptive rate, no
per-weight digital state). PFF: the released design (K = 12, groups of 10, latent 20 and the
generative circuit), hidden sizes multiples of 10.

Two stages, so the figures can be re-priced when the energy model changes without re-running
the algorithms: ``build`` runs the algorithms and caches their ledgers (device-dependent,
node-independent) in ``--cache``; ``price`` prices the cached ledgers with the current
model, writes ``docs/figures/scaling_*.png|svg`` and ``scaling.csv`` next to them, and
prints the tables. ``all`` does both. ``project`` times and prices each
algorithm's paper preset on full Fashion-MNIST into ``--cache``/project.json (``price``
prints it); ``project-energy`` re-prices that file's energy alone.

    python3 benchmarks/bench_scaling.py all                 # ~30 min here (2 shared cores)
    python3 benchmarks/bench_scaling.py build --part width  # parts: width, depth, fit
    python3 benchmarks/bench_scaling.py price               # seconds, from the cache
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analogff.scaling import Shape, largest_width, ledger, price  # noqa: E402
from crossbar.chip import Hardware  # noqa: E402

from _args import Parser  # one-line refusals, exit 2

ALGOS = ("bp", "ff", "pff")
WIDTHS = (100, 250, 500, 1000, 2000, 4000)
DEPTH_WIDTH = 1000
DEPTHS = (2, 3, 4, 5, 6, 8)
DEVICES = ("ecram", "rram-taox")
NODES = (22, 45)
AREAS_MM2 = (10.0, 50.0, 100.0)
# the fit part searches each width exactly (rel_tol 0: w fits, w + step does not; PFF steps
# of 10); one area evaluation is a batch-1 ledger (seconds at w ~ 6000 here)
FIT_REL_TOL = 0.0
COLORS = {"bp": "#333333", "ff": "#1f77b4", "pff": "#d62728"}
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / \
    "analogff" / "scaling_ledgers"


def _hw(device: str, node: int = 22, **kw) -> Hardware:
    return Hardware().replace(device=device, node_nm=node, **kw)


def _load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _save(path: Path, d: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(d))
    tmp.replace(path)


def build(part: str, cache: Path) -> None:
    """Run the algorithms on the counting backend; cache every ledger (resumable)."""
    f = cache / f"{part}.json"
    done = _load(f)
    t0, c0 = time.time(), time.process_time()
    if part in ("width", "depth"):
        pts = ([(d, a, w, 2) for d in DEVICES for a in ALGOS for w in WIDTHS]
               if part == "width" else
               [(d, a, DEPTH_WIDTH, n) for d in DEVICES for a in ("bp", "ff") for n in DEPTHS])
        for dev, algo, w, depth in pts:
            key = f"{dev}|{algo}|{w}|{depth}"
            if key in done:
                continue
            t = time.time()
            done[key] = ledger(_hw(dev), algo, w, Shape(depth=depth))
            _save(f, done)
            print(f"{part}: {key} {time.time() - t:.1f} s", flush=True)
    elif part == "fit":
        # widest network whose training chip fits each area; areas of the width sweep's
        # ledgers seed the brackets (same chip); every evaluated width is kept
        from reports.training_memory import training_chip

        sweep = _load(cache / "width.json")
        hw = _hw("ecram", 22)
        for algo in ALGOS:
            known = {int(k): v for k, v in done.get(f"known|{algo}", {}).items()}
            for key, led in sweep.items():
                dev, a, w, depth = key.split("|")
                if dev == "ecram" and a == algo and depth == "2":
                    known.setdefault(int(w), training_chip(led, hw)["area_mm2"])
            for area in AREAS_MM2:
                key = f"{algo}|{area:g}"
                if key in done:
                    continue
                t, c = time.time(), time.process_time()
                done[key] = largest_width(hw, algo, area, known=known, rel_tol=FIT_REL_TOL)
                done[f"known|{algo}"] = {str(k): v for k, v in known.items()}
                _save(f, done)
                print(f"fit: {key} -> {done[key]} {time.time() - t:.1f} s wall, "
                      f"{time.process_time() - c:.1f} s CPU", flush=True)
    else:
        raise SystemExit(f"part = {part!r} is unknown; choose width, depth or fit")
    print(f"{part}: built in {time.time() - t0:.0f} s wall, {time.process_time() - c0:.0f} s "
          "CPU (wall time depends on the machine's other jobs)", flush=True)


# ---- pricing and figures ------------------------------------------------------------------
def _rows(cache: Path) -> list[dict]:
    rows = []
    for part in ("width", "depth"):
        for key, led in _load(cache / f"{part}.json").items():
            dev, algo, w, depth = key.split("|")
            for node in NODES:
                for tr in (("shared_transposable", "separate_periphery") if algo == "bp"
                           else ("shared_transposable",)):
                    r = price(led, _hw(dev, node, transposed_readout=tr), algo, int(w),
                              Shape(depth=int(depth)))
                    r["sweep"] = part
                    rows.append(r)
    return rows


METRICS = (("energy_per_train_sample_j", "energy / training sample [J]"),
           ("latency_per_train_sample_s", "latency / training sample [s]"),
           ("train_chip_mm2", "chip to train [mm²]"),
           ("peak_buffer_bits", "peak on-chip buffer [bit]"))


def _sel(rows, **kw):
    return [r for r in rows if all(r.get(k) == v for k, v in kw.items())]


def _crossings(xs, ratios):
    """x intervals where the ratio crosses 1 (log-linear interpolation), or []."""
    out = []
    for (x0, r0), (x1, r1) in zip(zip(xs, ratios), zip(xs[1:], ratios[1:])):
        if (r0 - 1) * (r1 - 1) < 0:
            t = math.log(r0) / (math.log(r0) - math.log(r1))
            out.append(x0 * (x1 / x0) ** t)
    return out


def figures(rows: list[dict], outdir: Path) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    notes = []
    combos = [(d, n) for d in DEVICES for n in NODES]
    styles = {c: s for c, s in zip(combos, ("-", "--", ":", "-."))}
    for sweep, xkey, xlabel, base in (
            ("width", "width", "hidden width w (784-w-w-10)", {"depth": 2}),
            ("depth", "depth", f"hidden layers d (784-{DEPTH_WIDTH}×d-10)",
             {"width": DEPTH_WIDTH})):
        fig, axes = plt.subplots(2, 3, figsize=(13, 7.2))
        ax_list = list(axes.flat)
        for ax, (m, label) in zip(ax_list[:4], METRICS):
            for algo in ALGOS:
                pts = sorted(_sel(rows, sweep=sweep, algo=algo, device="ecram", node_nm=22,
                                  transposed_readout="shared_transposable"),
                             key=lambda r: r[xkey])
                if not pts:
                    continue
                ax.plot([r[xkey] for r in pts], [r[m] for r in pts], "o-", color=COLORS[algo],
                        label=algo.upper(), ms=4)
            if m == "train_chip_mm2":
                pts = sorted(_sel(rows, sweep=sweep, algo="bp", device="ecram", node_nm=22,
                                  transposed_readout="separate_periphery"),
                             key=lambda r: r[xkey])
                ax.plot([r[xkey] for r in pts], [r[m] for r in pts], "s--", color=COLORS["bp"],
                        mfc="none", ms=4, label="BP, separate transposed periphery")
            ax.set_xscale("log" if sweep == "width" else "linear")
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel(label)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
        for ax, fo in zip(ax_list[4:], ("ff", "pff")):
            if not _sel(rows, sweep=sweep, algo=fo):
                ax.axis("off")
                ax.text(0.5, 0.5, f"{fo.upper()}: the released two-layer design only\n"
                        "(no deeper PFF was made): see the width sweep", ha="center",
                        va="center", fontsize=10, transform=ax.transAxes)
                continue
            for (dev, node) in combos:
                ratios = {}
                for m, col in (("energy_per_train_sample_j", "C0"), ("train_chip_mm2", "C2"),
                               ("peak_buffer_bits", "C3")):
                    num = {r[xkey]: r[m] for r in _sel(rows, sweep=sweep, algo=fo, device=dev,
                                                       node_nm=node,
                                                       transposed_readout="shared_transposable")}
                    den = {r[xkey]: r[m] for r in _sel(rows, sweep=sweep, algo="bp", device=dev,
                                                       node_nm=node,
                                                       transposed_readout="shared_transposable")}
                    xs = sorted(set(num) & set(den))
                    if not xs:
                        continue
                    rs = [num[x] / den[x] for x in xs]
                    ratios[m] = (xs, rs)
                    ax.plot(xs, rs, styles[(dev, node)], color=col, marker=".",
                            label=f"{m.split('_')[0] if m != 'train_chip_mm2' else 'area'}"
                                  f" {dev} {node} nm")
                    cr = _crossings(xs, rs)
                    notes.append(f"{sweep}: {fo.upper()}/BP {m} ({dev}, {node} nm): "
                                 f"{rs[0]:.3g} at {xkey} {xs[0]} -> {rs[-1]:.3g} at {xs[-1]}; "
                                 + (f"crosses 1 near {xkey} " + ", ".join(f"{c:.3g}" for c in cr)
                                    if cr else "does not cross 1"))
            for (dev, node) in combos:   # the chip against a BP chip with its own
                # transposed read-out (column drivers, row ADCs): the other periphery option
                num = {r[xkey]: r["train_chip_mm2"] for r in _sel(
                    rows, sweep=sweep, algo=fo, device=dev, node_nm=node,
                    transposed_readout="shared_transposable")}
                den = {r[xkey]: r["train_chip_mm2"] for r in _sel(
                    rows, sweep=sweep, algo="bp", device=dev, node_nm=node,
                    transposed_readout="separate_periphery")}
                xs = sorted(set(num) & set(den))
                if xs:
                    rs = [num[x] / den[x] for x in xs]
                    cr = _crossings(xs, rs)
                    notes.append(f"{sweep}: {fo.upper()}/BP(separate transposed periphery) "
                                 f"chip ({dev}, {node} nm): " + ", ".join(
                                     f"{rr:.3g} at {x}" for x, rr in zip(xs, rs)) + "; "
                                 + (f"crosses 1 near {xkey} " + ", ".join(f"{c:.3g}" for c in cr)
                                    if cr else "does not cross 1"))
            ax.axhline(1.0, color="k", lw=0.8)
            ax.set_xscale("log" if sweep == "width" else "linear")
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel(f"{fo.upper()} / BP")
            ax.set_title(f"{fo.upper()} / BP: energy (blue), chip (green), buffer (red)",
                         fontsize=9)
            ax.grid(True, which="both", alpha=0.3)
            if ax is ax_list[4]:
                ax.legend(fontsize=5, ncol=2)
        fig.suptitle(f"Scaling with {sweep}: ecram at 22 nm (top; lines per algorithm); "
                     f"ratios on ecram / rram-taox at 22 / 45 nm (bottom). Batch 50, pulsed "
                     f"updates, no training", fontsize=10)
        fig.tight_layout()
        for ext in ("png", "svg"):
            p = outdir / f"scaling_{sweep}.{ext}"
            fig.savefig(p, dpi=110 if ext == "png" else None)
        plt.close(fig)
    return notes


def price_all(cache: Path, outdir: Path) -> None:
    t0 = time.time()
    rows = _rows(cache)
    outdir.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    flat = [{**{k: v for k, v in r.items() if not isinstance(v, dict)},
             **{f"J_{k}": v for k, v in r["by_component_j"].items()},
             **{f"J_phase_{k}": v for k, v in r["train_by_phase_j"].items()}} for r in rows]
    pd.DataFrame(flat).to_csv(outdir / "scaling.csv", index=False, float_format="%.5g")
    notes = figures(rows, outdir)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "reports",
                            "crossbar", "analogff", "device_models"],
                           capture_output=True, text=True).stdout.split("\n")
    dirty = [ln[3:] for ln in dirty if ln.strip() and not ln.startswith("??")]
    print(f"priced at commit {commit}" + (f" with uncommitted changes in {', '.join(dirty)}"
                                          if dirty else " (no uncommitted model changes)")
          + f" in {time.time() - t0:.0f} s")
    for d, n in ((d, n) for d in DEVICES for n in NODES):
        print(f"\n{d}, {n} nm: width sweep (784-w-w-10), batch 50")
        print(f"{'algo':5}{'w':>6}{'E/sample':>11}{'t/sample':>11}{'chip mm²':>10}"
              f"{'buffer bit':>12}")
        for algo in ALGOS:
            for r in sorted(_sel(rows, sweep="width", algo=algo, device=d, node_nm=n,
                                 transposed_readout="shared_transposable"),
                            key=lambda r: r["width"]):
                print(f"{algo:5}{r['width']:>6}{r['energy_per_train_sample_j']:>11.3g}"
                      f"{r['latency_per_train_sample_s']:>11.3g}{r['train_chip_mm2']:>10.3g}"
                      f"{r['peak_buffer_bits']:>12.3g}")
    print()
    for line in notes:
        print(line)
    proj = _load(cache / "project.json")
    if proj:
        print("\nthe paper's 784-2000-2000 on full Fashion-MNIST (each algorithm's paper preset; "
              "hours measured here on a loaded machine, energy on ecram 22 nm):")
        for algo, r in proj.items():
            print(f"  {algo}: batch {r['batch']}, {r['epochs']} epochs, {r['optimizer']}: "
                  f"{r['ideal_projected_h']:.3g} h ideal / {r['analog_projected_h']:.3g} h "
                  f"analog; {r['energy_train_total_j']:.3g} J to train "
                  f"({r['energy_per_train_sample_j']:.3g} J/sample), {r['energy_test_j']:.3g} J "
                  f"to test; chip to train {r['train_chip_mm2']:.3g} mm², buffer "
                  f"{r['peak_buffer_bits']:.3g} bit")
    fit = _load(cache / "fit.json")
    if fit:
        # the search ran at build time: check that the area model has not moved since, on
        # the width sweep's chips (same device, node and batch)
        from reports.training_memory import training_chip

        sweep, worst = _load(cache / "width.json"), 0.0
        for key, led in sweep.items():
            dev, algo, w, depth = key.split("|")
            then = fit.get(f"known|{algo}", {}).get(w)
            if dev == "ecram" and depth == "2" and then:
                now = training_chip(led, _hw("ecram", 22))["area_mm2"]
                worst = max(worst, abs(now / then - 1))
        print(f"\narea model since the search: largest relative change {worst:.2g} on the "
              "width sweep's chips" + ("" if worst < 1e-9 else
                                       " -> re-run `build --part fit` for current areas"))
        print("\nwidest 784-w-w-10 network whose training chip fits (ecram, 22 nm, batch 50):")
        for key, r in fit.items():
            if not key.startswith("known"):
                how = "" if r.get("converged", True) else " (search stopped: a bracket)"
                print(f"  {key.replace('|', ' at ')} mm²: w = {r['width']} "
                      f"({r['area_mm2']:.4g} mm²; w = {r['next_width']} needs "
                      f"{r['next_area_mm2']:.4g} mm²; {r['evaluations']} evaluations){how}")


# ---- beyond the toy scale: the paper's 784-2000-2000 on full Fashion-MNIST ----------------
PAPER_NET = (784, 2000, 2000, 10)
FASHION_TRAIN, FASHION_TEST = 60000, 10000


def project(out: Path) -> None:
    """Projected cost of each algorithm's ``paper`` preset (784-2000-2000, batch 500, 60
    epochs; PFF with Adam as released) on full Fashion-MNIST: time on this machine (one
    timed training batch and one timed 500-image prediction, ideal and analog ecram, scaled
    to 120 batches x 60 epochs and 10,000 test images per epoch) and energy (the counting
    estimate at batch 500: per training sample x 3.6 M samples to train, per inference x
    10,000 to test)."""
    import analogff._threads  # noqa: F401
    import numpy as np

    from analogff.algorithms import get
    from analogff.config import from_dict
    from analogff.data import Dataset
    from analogff.experiment import build as build_net

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (1000, 784)).astype(np.float32)
    y = rng.integers(0, 10, 1000).astype(np.int64)
    data = Dataset("random-fashion-shape", x, y, x[:500], y[:500], 10, (28, 28), "random")
    res = {}
    for algo in ALGOS:
        hp = {**get(algo).defaults, **get(algo).presets["paper"]}
        B, epochs = int(hp["batch_size"]), int(hp["epochs"])
        batches = math.ceil(FASHION_TRAIN / B) * epochs
        row = {"batch": B, "epochs": epochs, "optimizer": hp.get("optimizer")}
        for ideal in (True, False):
            net = build_net(from_dict({"algo": algo, "preset": "paper", "ideal": ideal,
                                       "device": "ecram", "dataset": "fashion-mnist"}),
                            data=data)
            net.algo.train_batch(x[:B], y[:B])     # warm-up (compile)
            t = time.perf_counter()
            net.algo.train_batch(x[:B], y[:B])
            t_batch = time.perf_counter() - t
            t = time.perf_counter()
            net.algo.predict(x[:500])
            t_pred = time.perf_counter() - t
            tag = "ideal" if ideal else "analog"
            row[f"{tag}_s_per_batch"] = t_batch
            row[f"{tag}_projected_h"] = (t_batch * batches
                                         + t_pred * FASHION_TEST / 500 * epochs) / 3600
            print(f"project: {algo} {tag}: {t_batch:.2f} s per batch of {B}, predict 500 in "
                  f"{t_pred:.2f} s -> {row[f'{tag}_projected_h']:.1f} h for {epochs} epochs "
                  "(test set evaluated every epoch)", flush=True)
        res[algo] = row
        _project_energy(algo, row)
    _save(out, res)


def _project_energy(algo: str, row: dict) -> None:
    """The energy part of `project` (re-run alone by ``project-energy`` after a model change)."""
    from analogff.estimate import estimate

    B, epochs = row["batch"], row["epochs"]
    est = estimate(_hw("ecram", 22), PAPER_NET, algo, batch=B, preset="paper",
                   digital_precisions=("int8",))
    row["energy_per_train_sample_j"] = est.train_j
    row["energy_train_total_j"] = est.train_j * FASHION_TRAIN * epochs
    row["energy_test_j"] = est.inference_j * FASHION_TEST
    row["peak_buffer_bits"] = est.price.memory["peak_bits"]
    row["train_chip_mm2"] = est.price.training_chip["area_mm2"]
    print(f"project: {algo} energy {row['energy_train_total_j']:.3g} J to train "
          f"({est.train_j:.3g} J/sample), {row['energy_test_j']:.3g} J to test; chip "
          f"{row['train_chip_mm2']:.3g} mm², buffer {row['peak_buffer_bits']:.3g} bit",
          flush=True)


def main() -> None:
    ap = Parser(description=__doc__.split("\n\n")[0])
    ap.add_argument("stage", choices=("build", "price", "all", "project", "project-energy"))
    ap.add_argument("--part", choices=("width", "depth", "fit", "every"), default="every")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "figures")
    a = ap.parse_args()
    t0 = time.time()
    if a.stage == "project":
        project(a.cache / "project.json")
    if a.stage == "project-energy":   # re-price the projection on the current model
        f = a.cache / "project.json"
        res = _load(f)
        for algo, row in res.items():
            _project_energy(algo, row)
            _save(f, res)
    if a.stage in ("build", "all"):
        for part in (("width", "depth", "fit") if a.part == "every" else (a.part,)):
            build(part, a.cache)
    if a.stage in ("price", "all"):
        price_all(a.cache, a.out)
    print(f"total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
