"""Small deterministic point functions for the sweep tests (importable in worker processes:
the tests put this directory on PYTHONPATH and name them as ``sweep_points:function``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from analogff.config import SimConfig


def export_to_workers(monkeypatch) -> None:
    """Worker processes (spawned, or Dask's) import the point functions from here: put this
    directory and the repository on their PYTHONPATH, and no default point function."""
    here = Path(__file__).resolve().parent
    pp = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH",
                       os.pathsep.join(p for p in (str(here), str(here.parent), pp) if p))
    monkeypatch.delenv("ANALOGFF_SWEEP_POINT_FN", raising=False)


def points(grid=("adc_bits=3,4,5,6",), seeds=1) -> list:
    """The sweep points of ``grid`` (``key=v1,v2`` strings) with ``seeds`` seeds each."""
    from analogff.sweep import build_spec, expand

    return expand(build_spec(list(grid), seeds=seeds))


def without_timing(rec: dict) -> dict:
    """A run record without its timings (the rest is a pure function of config and seed)."""
    return {k: v for k, v in rec.items() if k not in ("timing",)}


def fake_record(cfg: SimConfig, wall_s: float = 0.0) -> dict:
    """A run record (docs/CONTRACTS.md shape) whose numbers depend only on the config."""
    noise = cfg.noise or 0.0
    acc = round(0.95 - 2.0 * noise - 0.01 * (8 - cfg.adc_bits) + 0.001 * (cfg.seed % 7), 6)
    energy = 1e-9 * (cfg.adc_bits + cfg.dac_bits) * (1 + cfg.seed % 3)
    return {
        "schema": 1, "status": "done", "error": None,
        "config": cfg.to_dict(), "config_hash": cfg.config_hash(), "seed": cfg.seed,
        "metrics": {"train_accuracy": min(1.0, acc + 0.02), "test_accuracy": acc,
                    "final_loss": 1.0 - acc, "ideal_test_accuracy": None},
        "samples": {"train_per_epoch": 100, "epochs": 1, "test": 50, "train_total": 100},
        "ledger": {"matrices": {}, "entries": []},
        "energy": {"model": "fake", "per_train_sample_j": energy, "per_inference_j": energy / 3,
                   "train_by_phase_j": {"positive": energy}, "by_component_j": {"adc": energy},
                   "digital_per_train_sample_j": energy * 10, "digital_per_inference_j": energy,
                   "area_mm2": 0.1},
        "counts": {"pulses": 10 * cfg.adc_bits, "adc_conversions": 100, "dac_conversions": 100,
                   "adc_saturated": 0, "transposed_vectors": 0},
        "timing": {"wall_s": wall_s, "train_s": wall_s, "eval_s": 0.0},
        "versions": {"analogff": "test", "python": "3", "numpy": "x", "numba": "x"},
    }


def fast(cfg: SimConfig) -> dict:
    return fake_record(cfg)


def clipping(cfg: SimConfig) -> dict:
    """The fake record, whose W1 ADCs clip 20 % of 1000 conversions when adc_bits == 4 (1 %
    otherwise)."""
    rec = fake_record(cfg)
    sat = 200 if cfg.adc_bits == 4 else 10
    rec["ledger"]["entries"] = [{"phase": "positive", "matrix": "W1", "adc_conversions": 1000,
                                 "adc_saturated": sat}]
    return rec


def cutting(cfg: SimConfig) -> dict:
    """The fake record, whose analog W1 (100 x 10) takes 2 updates and has 300 of its 2000
    weight updates cut by the pulse cap when adc_bits == 4 (10 otherwise)."""
    rec = fake_record(cfg)
    cut = 300 if cfg.adc_bits == 4 else 10
    rec["counts"]["trains_capped"] = cut
    rec["ledger"]["matrices"] = {"W1": {"analog": True, "rows": 100, "cols": 10}}
    rec["ledger"]["entries"] = [{"phase": "update", "matrix": "W1", "update_calls": 2,
                                 "trains_capped": cut}]
    return rec


def capped(cfg: SimConfig) -> dict:
    """The fake record, whose G1 and G2 ask for 6 × out_bound as their ADC range and, above
    1/6, record it as capped at full scale (as analogff.experiment's factory does)."""
    rec = fake_record(cfg)
    ask = 6.0 * cfg.out_bound
    info = {"out_bound": min(1.0, ask), **({"out_bound_requested": ask} if ask > 1 else {})}
    rec["ledger"]["matrices"] = {"W1": {"out_bound": cfg.out_bound}, "G1": dict(info),
                                 "G2": dict(info)}
    return rec


def slow(cfg: SimConfig) -> dict:
    """Sleeps ``SWEEP_TEST_SLEEP`` seconds (default 0.3) then returns the fake record."""
    t = float(os.environ.get("SWEEP_TEST_SLEEP", "0.3"))
    time.sleep(t)
    return fake_record(cfg, t)


def flaky(cfg: SimConfig) -> dict:
    """Fails for adc_bits == 5 (a chosen bad point), works otherwise."""
    if cfg.adc_bits == 5:
        raise RuntimeError("simulated divergence at adc_bits=5")
    return fake_record(cfg)


def crash(cfg: SimConfig) -> dict:
    """Kills its own worker process for adc_bits == 5 (as a segfault or the OOM killer would)."""
    if cfg.adc_bits == 5:
        os._exit(3)
    return fake_record(cfg)


def with_pid(cfg: SimConfig) -> dict:
    """The fake record plus the id of the worker process that ran it."""
    rec = fake_record(cfg)
    rec["worker_pid"] = os.getpid()
    return rec
