"""Does forward-only learning pay on analog hardware? The matched study, and the crossbar-native
PFF benchmark.

Three modes:

``python benchmarks/bench_forward_only.py native [--fashion] [--seeds 0,1,2]``
    Crossbar-native PFF (the ``scaled`` and ``factored`` rules: pulsed outer products at an
    adaptive rate per array / per row and column, no per-weight digital state) against
    Adam-PFF (as released: two 32-bit moments per weight) and plain pulsed SGD, at ``--noise 0.05`` on the default device, same network and
    budget. Prints test accuracy, training energy per sample and its update phase, and the
    ratio of Adam's update energy to each rule's.

``python benchmarks/bench_forward_only.py study [options] --out DIR``
    The matched comparison (``--matched pulsed|mixed|adam``): PFF, FF and BP with the same
    layer sizes, examples seen and update family, on each dataset × device × noise × seed,
    every run with ``curve`` on (test accuracy and cumulative training energy after every
    epoch). Runs go to ``DIR/study.db`` (an analogff results store; points already there are
    skipped, so an interrupted study resumes); then ``DIR`` gets ``runs.csv``, ``summary.md``
    (tables) and ``curve_<dataset>.png`` (test accuracy vs cumulative training energy, one
    line per algorithm, mean over seeds and noise levels; a panel per family and device). The
    defaults are the full study (2 datasets × 3 devices × 3 noise levels × 3 seeds × 3 families
    × 3 algorithms = 486 runs): 7 676 s (2.13 h) on this shared 2-core machine with
    ``--workers 2`` (digits 36 min, Fashion-MNIST 1.5 h; per Fashion-MNIST run PFF 74-183 s, FF
    12-35 s, BP 3-8 s with the machine's load), a little more than the two hours it was sized for;
    ``--datasets``, ``--devices``, ``--noise``, ``--seeds``, ``--families``, ``--epochs`` and
    ``--fashion-limit`` reduce it. The wall time is printed and written to summary.md.

``python benchmarks/bench_forward_only.py summary --out DIR [--store DIR/study.db] [options]``
    Runs nothing: writes the same files (and the forward-only vs BP tables) from the finished
    runs of the study's points already in the store (e.g. while the study still runs, into
    another directory). Same grid options as ``study``.

summary.md also compares forward-only learning with BP run by run: for each (dataset, device,
noise, seed, family), the energy each algorithm spent to reach each accuracy target, and who
got there with less (or at all); and the training energy per sample by component.
"""

from __future__ import annotations

import csv
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from _args import (Parser, at_least, choice_csv, float_csv, int_csv, main_of,  # one-line
                   positive_float, preset_csv)                         # refusals, exit 2

ALGOS = ("pff", "ff", "bp")
FAMILIES = ("pulsed", "mixed", "adam")
DEVICES = ("ecram", "rram-taox", "pcm-gst")
NOISE = (0.0, 0.02, 0.05)
SEEDS = (0, 1, 2)
DATASETS = ("digits", "fashion-mnist")
# Fashion-MNIST is run on a stratified subset (sized for two hours in all; measured: 2.13 h)
FASHION_LIMIT = 2000
FASHION_EPOCHS = 6


# ---- one run -----------------------------------------------------------------------------
def _config(algo, dataset, device, noise, seed, family, epochs, fashion_limit):
    from analogff.config import from_dict

    d = {"algo": algo, "dataset": dataset, "device": device, "noise": noise, "seed": seed,
         "matched": family, "update": "mixed" if family == "mixed" else "deterministic",
         "curve": True}
    if dataset != "digits":
        d["limit"] = fashion_limit
        d["epochs"] = epochs or FASHION_EPOCHS
    elif epochs:
        d["epochs"] = epochs
    return from_dict(d)


def _run(cfg_dict: dict) -> dict:
    from analogff.config import from_dict
    from analogff.experiment import run_experiment

    try:
        return run_experiment(from_dict(cfg_dict))
    except Exception as exc:  # a failed point is recorded and reported, not fatal
        cfg = from_dict(cfg_dict)
        return {"schema": 2, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                "config": cfg.to_dict(), "config_hash": cfg.config_hash(), "seed": cfg.seed}


# ---- native mode -------------------------------------------------------------------------
def native(args) -> None:
    from analogff.config import SimConfig
    from analogff.experiment import run_experiment

    ds = "fashion-mnist" if args.fashion else "digits"
    extra = dict(limit=args.fashion_limit, hidden="200,200", epochs=args.fashion_epochs) \
        if args.fashion else {}
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        for rule in args.rules.split(","):
            t = time.perf_counter()
            rec = run_experiment(SimConfig(algo="pff", dataset=ds, noise=0.05, optimizer=rule,
                                           seed=seed, lr=args.lr, **extra))
            e = rec["energy"]
            rows.append({"seed": seed, "rule": rule, "acc": rec["metrics"]["test_accuracy"],
                         "train_j": e["per_train_sample_j"],
                         "update_j": e["train_by_phase_j"].get("update", 0.0),
                         "wall_s": time.perf_counter() - t})
            r = rows[-1]
            print(f"{ds} seed {seed} {rule:6s}: {100 * r['acc']:.1f} %  training "
                  f"{r['train_j'] * 1e9:.0f} nJ/sample, update {r['update_j'] * 1e9:.0f} "
                  f"nJ/sample  ({r['wall_s']:.0f} s)", flush=True)
    print(f"\nPFF on {ds}, --noise 0.05, default device (ecram), "
          f"{'limit %d, %d epochs, ' % (args.fashion_limit, args.fashion_epochs) if args.fashion else ''}"
          "mean over seeds " + args.seeds)
    print("| rule | test accuracy (per seed) | mean | update energy / sample | "
          "Adam's update energy ÷ this | training energy / sample |")
    print("|---|---|---|---|---|---|")
    by = {r: [x for x in rows if x["rule"] == r] for r in args.rules.split(",")}
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    adam_u = mean([x["update_j"] for x in by["adam"]]) if "adam" in by else float("nan")
    for rule, xs in by.items():
        u = mean([x["update_j"] for x in xs])
        per_seed = " / ".join(f"{100 * x['acc']:.1f}" for x in xs)
        print(f"| {rule} | {per_seed} % | "
              f"{100 * mean([x['acc'] for x in xs]):.1f} % | {u * 1e9:.0f} nJ | "
              f"{adam_u / u:.1f}× | {mean([x['train_j'] for x in xs]) * 1e9:.0f} nJ |")


# ---- study mode --------------------------------------------------------------------------
def study(args) -> None:
    from analogff.store import ResultsStore

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store = ResultsStore(out / "study.db")
    points = _points(args)
    done = store.done_hashes()
    todo = [p for p in points if p.config_hash() not in done]
    print(f"{len(points)} points, {len(points) - len(todo)} already in {out / 'study.db'}, "
          f"running {len(todo)} on {args.workers} worker(s)", flush=True)
    t0 = time.perf_counter()
    if todo:
        with ProcessPoolExecutor(max_workers=args.workers) as ex:
            futs = {ex.submit(_run, p.to_dict()): p for p in todo}
            for i, f in enumerate(as_completed(futs), 1):
                rec = f.result()
                store.add(rec, sweep="forward_only")
                c = rec["config"]
                acc = rec.get("metrics", {}).get("test_accuracy")
                print(f"[{i}/{len(todo)} {time.perf_counter() - t0:.0f} s] {c['dataset']} "
                      f"{c['device']} noise {c['noise']} seed {c['seed']} {c['matched']} "
                      f"{c['algo']}: " + (f"{100 * acc:.1f} %" if acc is not None
                                          else rec.get("error")), flush=True)
    wall = time.perf_counter() - t0
    hashes = {p.config_hash() for p in points}
    recs = [r for r in store.records(status="done") if r["config_hash"] in hashes]
    store.close()
    report(recs, out, wall, args)


def _points(args) -> list:
    return [_config(a, ds, dev, nz, sd, fam, args.epochs, args.fashion_limit)
            for ds in args.datasets.split(",") for dev in args.devices.split(",")
            for nz in [float(x) for x in args.noise.split(",")]
            for sd in [int(x) for x in args.seeds.split(",")]
            for fam in args.families.split(",") for a in ALGOS]


def summary(args) -> None:
    """The study's tables and figures from the runs already in a store (runs nothing)."""
    from analogff.store import ResultsStore

    out = Path(args.out)
    store_path = Path(args.store) if args.store else out / "study.db"
    if not store_path.is_file():
        from analogff.errors import ConfigError   # main_of: one line, exit 2

        raise ConfigError(f"--store {store_path} does not exist")
    out.mkdir(parents=True, exist_ok=True)
    hashes = {p.config_hash() for p in _points(args)}
    with ResultsStore(store_path, create=False) as store:
        recs = [r for r in store.records(status="done") if r["config_hash"] in hashes]
    print(f"{len(recs)} of the {len(hashes)} points are finished in {store_path}")
    report(recs, out, None, args)


def _row(r: dict) -> dict:
    c, e, cur = r["config"], r["energy"], r.get("curve", {})
    ph = e.get("train_by_phase_j", {})
    row = {"dataset": c["dataset"], "device": c["device"], "noise": c["noise"],
           "seed": c["seed"], "family": c["matched"], "algo": c["algo"],
           "test_accuracy": r["metrics"]["test_accuracy"],
           "train_j_per_sample": e["per_train_sample_j"],
           "inference_j": e["per_inference_j"],
           "train_samples": r["samples"]["train_total"],
           "wall_s": r["timing"]["wall_s"]}
    for p in ("positive", "negative", "generative", "transposed", "backward", "update", "init"):
        row[f"phase_{p}_j"] = ph.get(p, 0.0)
    for k, v in (e.get("by_component_j") or {}).items():   # per training sample
        row[f"comp_{k}_j"] = v
    for t, hit in (cur.get("energy_to_targets") or {}).items():
        row[f"to_{t}_j"] = None if hit is None else hit["train_energy_j"]
    return row


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def report(recs: list[dict], out: Path, wall: float, args) -> None:
    rows = [_row(r) for r in recs]
    if not rows:
        print("no finished runs")
        return
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with open(out / "runs.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    when = (f"Wall time of the runs made in this invocation: {wall:.0f} s on {args.workers} "
            "worker(s) (shared machine)" if wall is not None else
            "Summarised from the store (no runs made by this invocation)")
    lines = [f"# Matched forward-only study: {len(rows)} runs",
             "", f"Configuration: datasets {args.datasets}; devices {args.devices}; noise "
             f"{args.noise}; seeds {args.seeds}; families {args.families}; epochs "
             f"{args.epochs or 'matched default (digits 12, Fashion ' + str(FASHION_EPOCHS) + ')'}; "
             f"Fashion-MNIST limit {args.fashion_limit}. {when}; the "
             f"runs' own wall times add up to {sum(r['wall_s'] for r in rows):.0f} s.", ""]
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["device"], r["noise"], r["family"], r["algo"]),
                          []).append(r)
    targets = sorted({k for r in rows for k in r if k.startswith("to_")},
                     key=lambda k: float(k[3:-2]))
    lines += ["## Accuracy and energy (mean over seeds)", "",
              "| dataset | device | noise | family | algo | seeds | test acc | training / "
              "sample | inference | " + " | ".join(f"energy to {100 * float(t[3:-2]):g} %"
                                                   for t in targets) + " |",
              "|" + "---|" * (9 + len(targets))]
    for (ds, dev, nz, fam, algo), g in sorted(groups.items()):
        tgt = []
        for t in targets:
            vals = [x[t] for x in g]
            hit = [v for v in vals if v is not None]
            tgt.append("–" if not hit else f"{_mean(hit) * 1e3:.3g} mJ ({len(hit)}/{len(vals)})")
        lines.append(f"| {ds} | {dev} | {nz:g} | {fam} | {algo} | {len(g)} | "
                     f"{100 * _mean([x['test_accuracy'] for x in g]):.1f} % | "
                     f"{_mean([x['train_j_per_sample'] for x in g]) * 1e9:.1f} nJ | "
                     f"{_mean([x['inference_j'] for x in g]) * 1e9:.2f} nJ | " + " | ".join(tgt) + " |")
    lines += ["", "Energy to a target: mean cumulative training energy of the runs that reached it "
              "(reached / runs); – : no run reached it.", "",
              "## Training energy per sample by phase (mean over devices, noise and seeds)", "",
              "| dataset | family | algo | positive | negative | generative | transposed | "
              "backward | update | init |", "|---|---|---|---|---|---|---|---|---|---|"]
    g2: dict = {}
    for r in rows:
        g2.setdefault((r["dataset"], r["family"], r["algo"]), []).append(r)
    for (ds, fam, algo), g in sorted(g2.items()):
        cells = [f"{_mean([x[f'phase_{p}_j'] for x in g]) * 1e9:.2f}" for p in
                 ("positive", "negative", "generative", "transposed", "backward", "update", "init")]
        lines.append(f"| {ds} | {fam} | {algo} | " + " | ".join(cells) + " |")
    lines += ["", "(nJ per training sample.)", ""]
    lines += versus_bp(rows) + components(rows)
    figs = curves(recs, out)
    lines += ["## Figures", ""] + [f"![{p.stem}]({p.name})" for p in figs]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwrote {out / 'runs.csv'}, {out / 'summary.md'} and {len(figs)} figure(s)")


def _sd(xs):
    xs = [x for x in xs if x is not None]
    if len(xs) < 2:
        return float("nan")
    m = sum(xs) / len(xs)
    return (sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) ** 0.5


def versus_bp(rows: list[dict]) -> list[str]:
    """Forward-only (PFF, FF) against BP, run by run: the same dataset, device, noise, seed and
    family. For each accuracy target: in how many of these pairs each side reached it with
    less training energy (or reached it at all), and the ratio of the energies where both
    did. Then the accuracy and per-sample energy per (dataset, family) over all settings."""
    by = {(r["dataset"], r["device"], r["noise"], r["seed"], r["family"], r["algo"]): r
          for r in rows}
    targets = sorted({k for r in rows for k in r if k.startswith("to_")},
                     key=lambda k: float(k[3:-2]))
    lines = ["## Forward-only vs BP, pair by pair (same dataset, device, noise, seed, family)",
             "", "Per accuracy target: pairs where the forward-only run reached it with less "
             "cumulative training energy than BP (`FO<BP`), with as much or more (`FO≥BP`), reached it and "
             "BP did not (`FO only`), BP reached it and it did not (`BP only`); neither: not "
             "counted. Ratio: forward-only ÷ BP energy where both reached it (min–median–max).",
             "", "| dataset | family | algo | target | pairs | FO<BP | FO≥BP | FO only | BP only | "
             "neither | energy ratio FO/BP |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    combos = sorted({(k[0], k[4]) for k in by})
    for ds, fam in combos:
        for algo in ("pff", "ff"):
            for t in targets:
                n = lt = gt = fo = bp = none = 0
                ratios = []
                for k, r in by.items():
                    if k[0] != ds or k[4] != fam or k[5] != algo:
                        continue
                    b = by.get(k[:5] + ("bp",))
                    if b is None:
                        continue
                    n += 1
                    x, y = r.get(t), b.get(t)
                    if x is not None and y is not None:
                        ratios.append(x / y)
                        lt += x < y
                        gt += x >= y
                    elif x is not None:
                        fo += 1
                    elif y is not None:
                        bp += 1
                    else:
                        none += 1
                ratios.sort()
                rr = (f"{ratios[0]:.3g}–{ratios[len(ratios) // 2]:.3g}–{ratios[-1]:.3g}"
                      if ratios else "–")
                lines.append(f"| {ds} | {fam} | {algo} | {100 * float(t[3:-2]):g} % | {n} | "
                             f"{lt} | {gt} | {fo} | {bp} | {none} | {rr} |")
    lines += ["", "## Accuracy and energy per (dataset, family): mean ± sd over every device, "
              "noise level and seed", "", "| dataset | family | algo | runs | test acc | "
              "min–max | training / sample | inference |", "|---|---|---|---|---|---|---|---|"]
    g: dict = {}
    for r in rows:
        g.setdefault((r["dataset"], r["family"], ALGOS.index(r["algo"])), []).append(r)
    for (ds, fam, ai), xs in sorted(g.items()):
        acc = [100 * x["test_accuracy"] for x in xs]
        lines.append(f"| {ds} | {fam} | {ALGOS[ai]} | {len(xs)} | {_mean(acc):.1f} ± "
                     f"{_sd(acc):.1f} % | {min(acc):.1f}–{max(acc):.1f} % | "
                     f"{_mean([x['train_j_per_sample'] for x in xs]) * 1e9:.3g} nJ | "
                     f"{_mean([x['inference_j'] for x in xs]) * 1e9:.3g} nJ |")
    lines += cheapest(rows, targets) + by_setting(rows, "device") + by_setting(rows, "noise")
    return lines + [""]


def cheapest(rows: list[dict], targets: list[str]) -> list[str]:
    """Across families too: every (algo, family) ranked by its median energy to each target
    over the runs that reached it, with how many of its runs reached it."""
    lines = ["", "## Every algorithm and family to each target, cheapest first (median over "
             "the runs that reached it)", "", "| dataset | target | ranking: algo family "
             "median energy (reached/runs) |", "|---|---|---|"]
    for ds in sorted({r["dataset"] for r in rows}):
        for t in targets:
            opts = []
            for fam in FAMILIES:
                for algo in ALGOS:
                    xs = [r for r in rows if r["dataset"] == ds and r["family"] == fam
                          and r["algo"] == algo]
                    hit = sorted(r[t] for r in xs if r.get(t) is not None)
                    if xs and hit:
                        opts.append((hit[len(hit) // 2], f"{algo.upper()} {fam} "
                                     f"{hit[len(hit) // 2] * 1e3:.3g} mJ ({len(hit)}/{len(xs)})"))
            lines.append(f"| {ds} | {100 * float(t[3:-2]):g} % | "
                         + " < ".join(x for _e, x in sorted(opts)) + " |")
    return lines


def by_setting(rows: list[dict], key: str) -> list[str]:
    """Test accuracy (mean ± sd over the other settings and seeds) per ``key`` value."""
    lines = ["", f"## Test accuracy by {key} (mean ± sd over the other settings and seeds)", "",
             f"| dataset | {key} | algo | " + " | ".join(FAMILIES) + " |",
             "|" + "---|" * (3 + len(FAMILIES))]
    for ds in sorted({r["dataset"] for r in rows}):
        for v in sorted({r[key] for r in rows if r["dataset"] == ds}):
            for algo in ALGOS:
                cells = []
                for fam in FAMILIES:
                    acc = [100 * r["test_accuracy"] for r in rows if r["dataset"] == ds
                           and r[key] == v and r["algo"] == algo and r["family"] == fam]
                    cells.append(f"{_mean(acc):.1f} ± {_sd(acc):.1f} ({len(acc)})" if acc
                                 else "–")
                lines.append(f"| {ds} | {v:g} | {algo} | " + " | ".join(cells) + " |"
                             if isinstance(v, float) else
                             f"| {ds} | {v} | {algo} | " + " | ".join(cells) + " |")
    return lines


def components(rows: list[dict]) -> list[str]:
    """Training energy per sample by hardware component, mean over noise levels and seeds,
    per (dataset, device, family, algo): the components that are at least 1 % anywhere."""
    comps = sorted({k for r in rows for k in r if k.startswith("comp_")})
    g: dict = {}
    for r in rows:
        g.setdefault((r["dataset"], r["device"], r["family"], ALGOS.index(r["algo"])),
                     []).append(r)
    means = {k: {c: _mean([x.get(c, 0.0) for x in xs]) for c in comps} for k, xs in g.items()}
    keep = [c for c in comps if any(m[c] >= 0.01 * sum(m.values()) for m in means.values())]
    lines = ["## Training energy per sample by component (nJ; mean over noise levels and seeds)",
             "", "| dataset | device | family | algo | " + " | ".join(c[5:-2] for c in keep)
             + " | other | total |", "|" + "---|" * (len(keep) + 6)]
    for (ds, dev, fam, ai), m in sorted(means.items()):
        tot = sum(m.values())
        lines.append(f"| {ds} | {dev} | {fam} | {ALGOS[ai]} | " + " | ".join(
            f"{m[c] * 1e9:.3g}" for c in keep) + f" | {(tot - sum(m[c] for c in keep)) * 1e9:.3g}"
            f" | {tot * 1e9:.3g} |")
    return lines + [""]


def curves(recs: list[dict], out: Path) -> list[Path]:
    """Test accuracy vs cumulative training energy, one line per algorithm (mean over the
    seeds and noise levels present, one point per epoch), one figure per dataset: a panel per
    (family, device), rows = families, columns = devices, one energy axis per row."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict = {}
    for r in recs:
        c = r["config"]
        groups.setdefault(c["dataset"], {}).setdefault((c["matched"], c["device"]), {}) \
            .setdefault(c["algo"], []).append(r)
    paths = []
    for ds, panels in sorted(groups.items()):
        fams = [f for f in FAMILIES if any(k[0] == f for k in panels)]
        devs = [d for d in DEVICES if any(k[1] == d for k in panels)]
        fig, axes = plt.subplots(len(fams), len(devs), figsize=(max(3.3 * len(devs), 5.0),
                                 2.6 * len(fams) + 0.4), squeeze=False, sharey=True,
                                 sharex="row")
        for (fam, dev), by_algo in panels.items():
            ax = axes[fams.index(fam)][devs.index(dev)]
            for algo in ALGOS:
                runs = by_algo.get(algo, [])
                if not runs:
                    continue
                n = min(len(r["curve"]["points"]) for r in runs)
                e = [_mean([r["curve"]["points"][i]["train_energy_j"] for r in runs])
                     for i in range(n)]
                a = [_mean([r["curve"]["points"][i]["test_accuracy"] for r in runs])
                     for i in range(n)]
                ax.plot([x * 1e3 for x in e], [100 * y for y in a], marker="o", ms=2.5,
                        color={"pff": "C0", "ff": "C1", "bp": "C2"}[algo],
                        label=f"{algo.upper()} ({len(runs)} runs)")
            ax.set_xscale("log")
            ax.grid(True, which="both", alpha=0.3)
            ax.set_title(f"{fam}, {dev}", fontsize=9)
            ax.legend(fontsize=7, loc="lower right")
        for ax in axes[-1]:
            ax.set_xlabel("cumulative training energy [mJ]")
        for row in axes:
            row[0].set_ylabel("test accuracy [%]")
        fig.suptitle(f"{ds}: matched families (rows) × devices (columns)\nmean over seeds "
                     "and noise levels, one point per epoch", fontsize=9)
        fig.tight_layout()
        p = out / f"curve_{ds}.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    return paths


def main(argv=None) -> None:
    ap = Parser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    n = sub.add_parser("native", help="crossbar-native PFF vs Adam-PFF at --noise 0.05")
    n.add_argument("--fashion", action="store_true", help="Fashion-MNIST subset instead of digits")
    n.add_argument("--seeds", type=int_csv, default="0,1,2")
    n.add_argument("--rules", default="adam,scaled,factored,sgd",
                   help="update rules to compare (updates.py); the ratio needs adam")
    n.add_argument("--lr", type=positive_float, default=None,
                   help="one rate for every rule (default: each rule's own default)")
    n.add_argument("--fashion-limit", type=at_least(1), default=FASHION_LIMIT)
    n.add_argument("--fashion-epochs", type=at_least(1), default=FASHION_EPOCHS)
    s = sub.add_parser("study", help="the matched PFF/FF/BP study")
    s.add_argument("--out", required=True, help="output directory (store, CSV, tables, figures)")
    s.add_argument("--datasets", type=choice_csv(DATASETS), default=",".join(DATASETS))
    s.add_argument("--devices", type=preset_csv, default=",".join(DEVICES))
    s.add_argument("--noise", type=float_csv, default=",".join(str(x) for x in NOISE))
    s.add_argument("--seeds", type=int_csv, default=",".join(str(x) for x in SEEDS))
    s.add_argument("--families", type=choice_csv(FAMILIES), default=",".join(FAMILIES))
    s.add_argument("--epochs", type=at_least(1), default=None,
                   help="epochs for every run (default: the matched budget's 12 on digits, "
                        f"{FASHION_EPOCHS} on Fashion-MNIST)")
    s.add_argument("--fashion-limit", type=at_least(1), default=FASHION_LIMIT)
    s.add_argument("--workers", type=at_least(1), default=2)
    m = sub.add_parser("summary", help="tables and figures from the runs already in a store "
                                       "(runs nothing)")
    m.add_argument("--out", required=True, help="output directory (CSV, tables, figures)")
    m.add_argument("--store", default=None, help="the study's store (default: OUT/study.db)")
    for a in ("datasets", "devices", "noise", "seeds", "families", "epochs", "fashion_limit"):
        m._add_action(next(x for x in s._actions if x.dest == a))
    m.set_defaults(workers=None)
    args = ap.parse_args(argv)
    {"native": native, "study": study, "summary": summary}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main_of(main))
