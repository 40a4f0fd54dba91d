"""Shared fixtures for the reports tests: small run stores built from the estimate machinery."""

from __future__ import annotations

import pytest

from reports.report import record_from_estimate, write_store

NET = [16, 12, 12, 4]


def make_records(n_noise=(0.0, 0.05), algos=("pff", "ff", "bp")):
    recs = []
    for algo, base in zip(algos, (0.9, 0.85, 0.95)):
        for noise in n_noise:
            for adc in (4, 8):
                cfg = {"algo": algo, "device": "ideal", "noise": noise, "dac_bits": 8,
                       "adc_bits": adc, "tile_size": 8, "dataset": "digits", "batch_size": 10,
                       "seed": 0, "ideal": False, "update": "deterministic"}
                acc = base - noise - (0.05 if adc == 4 else 0.0)  # test data, not results
                recs.append(record_from_estimate(
                    cfg, {"train_accuracy": acc, "test_accuracy": acc, "final_loss": 0.0,
                          "ideal_test_accuracy": base},
                    network=NET, batch=10, n_train=100, n_test=20, K=3))
    return recs


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    p = tmp_path_factory.mktemp("store") / "runs.db"
    write_store(p, make_records())
    return p
