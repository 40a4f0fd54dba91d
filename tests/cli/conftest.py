"""Shared fixtures for the CLI tests: a small run store whose ledgers come from the real
algorithms on the counting backend (`analogff.estimate.build_ledgers`), for `report`."""

from __future__ import annotations

import functools

import pytest

from reports import Hardware
from reports.report import record_from_ledgers

NET = [16, 20, 20, 4]   # PFF's hidden layers are multiples of its competition group (10)


@functools.lru_cache(maxsize=None)
def _ledgers(algo: str, adc: int):
    from analogff.estimate import build_ledgers

    hw = Hardware(device="ideal", dac_bits=8, adc_bits=adc, tile_rows=8, tile_cols=8)
    K = 3 if algo == "pff" else None     # settling steps are PFF's only
    return hw, build_ledgers(hw, NET, algo, batch=10, K=K)


def make_records(n_noise=(0.0, 0.05), algos=("pff", "ff", "bp")):
    recs = []
    for algo, base in zip(algos, (0.9, 0.85, 0.95)):
        for noise in n_noise:
            for adc in (4, 8):
                hw, (tl, il) = _ledgers(algo, adc)
                cfg = {"algo": algo, "noise": noise, "dataset": "digits", "batch_size": 10,
                       "seed": 0, "ideal": False, "update": "deterministic"}
                acc = base - noise - (0.05 if adc == 4 else 0.0)  # test data, not results
                recs.append(record_from_ledgers(
                    cfg, {"train_accuracy": acc, "test_accuracy": acc, "final_loss": 0.0,
                          "ideal_test_accuracy": base},
                    hardware=hw, train_ledger=tl, inference_ledger=il, batch=10, n_train=100,
                    n_test=20))
    return recs


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    """A real results store (analogff.store: the commands check what they open)."""
    from analogff.store import ResultsStore

    p = tmp_path_factory.mktemp("store") / "runs.db"
    with ResultsStore(p) as st:
        for rec in make_records():
            st.add(rec)
    return p
