"""A small study from Python: a device, a chip, a sweep over read noise, a DataFrame, a figure.

Run it from the repository root::

    python examples/study_from_python.py --out study/          # ~1 min on 2 cores

It writes ``study/device.toml`` (the device built below), ``study/study.db`` (an analogff
results store: ``analogff results study/study.db`` and ``analogff report study/study.db``
read it too) and ``study/accuracy_vs_noise.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from analogff.config import from_dict
from analogff.experiment import run_experiment
from analogff.store import ResultsStore
from crossbar.chip import Hardware
from device_models import get_device, parse_device_toml
from reports.stats import seed_groups


def build_device(path: Path):
    """An ECRAM-like device with half the preset's cycle-to-cycle write noise, saved as TOML
    (a chip names its device by preset or by file)."""
    dev = get_device("ecram").replace(name="ecram-low-c2c", c2c=0.15)
    def toml_value(v) -> str:   # per value: a string holding "True" stays as written
        if isinstance(v, bool):
            return "true" if v else "false"
        return json.dumps(v) if isinstance(v, str) else repr(v)

    lines = ["[device]"] + [f"{k} = {toml_value(v)}" for k, v in dev.to_dict().items()
                            if v is not None]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert parse_device_toml(path.read_text(encoding="utf-8")) == dev   # round trip
    return dev


def run_study(store: Path, chip: Hardware, noises, algos, seeds, epochs: int, limit: int):
    """Every (algorithm, read noise, seed) on the chip; one record per run in the store."""
    with ResultsStore(store) as st:
        done = st.done_hashes()
        for algo in algos:
            for noise in noises:
                for seed in seeds:
                    cfg = from_dict({**chip.to_dict(), "algo": algo, "noise": noise,
                                     "epochs": epochs, "limit": limit, "seed": seed})
                    if cfg.config_hash() in done:
                        continue
                    st.add(run_experiment(cfg))


def draw(df, out: Path) -> Path:
    """Accuracy vs read noise per algorithm: mean ± 95 % t-interval over seeds."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups, _keys, _added = seed_groups(df, ["algo", "noise"], ["test_accuracy"],
                                        by=["algo", "noise"])
    fig, ax = plt.subplots(figsize=(4.2, 3.0), layout="constrained")
    for algo, g in groups.groupby("algo"):
        ax.errorbar(g["noise"], 100 * g["test_accuracy_mean"],
                    yerr=100 * g["test_accuracy_ci"].fillna(0), marker="o", capsize=2,
                    label=f"{algo.upper()} (n = {int(g['n'].min())} seeds)")
    ax.set_xlabel("read noise σ (fraction of g_max − g_min)")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(frameon=False, fontsize=8)
    path = out / "accuracy_vs_noise.png"
    fig.savefig(path, dpi=300)
    plt.close(fig)
    return path


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("study"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=600, help="training images (digits)")
    ap.add_argument("--seeds", type=int, default=3)
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    dev_file = a.out / "device.toml"
    build_device(dev_file)
    chip = Hardware(device=str(dev_file), adc_bits=6, tile_rows=128, tile_cols=128)
    print(chip)
    run_study(a.out / "study.db", chip, noises=(0.0, 0.05), algos=("pff", "bp"),
              seeds=range(a.seeds), epochs=a.epochs, limit=a.limit)
    with ResultsStore(a.out / "study.db", create=False) as st:
        df = st.to_dataframe(status="done")
    print(df[["algo", "noise", "seed", "test_accuracy", "energy_per_train_sample_j"]]
          .to_string(index=False))
    print(f"figure: {draw(df, a.out)}")


if __name__ == "__main__":
    main()
