"""Evaluation protocol (dev split, best-dev checkpoint, priced learning curve) and matched
comparisons (analogff/algorithms/protocol.py, matched.py)."""

from __future__ import annotations

import numpy as np
import pytest

from analogff.algorithms.protocol import energy_to_targets, split_dev
from analogff.config import SimConfig
from analogff.data import load_dataset
from analogff.errors import ConfigError
from analogff.experiment import hyperparameters, run_experiment

FAST = dict(algo="bp", ideal=True, hidden="50,50", epochs=4, batch_size=50)


def test_dev_split_is_stratified_disjoint_and_seeded():
    d = load_dataset("digits")
    tr, xd, yd = split_dev(d, 0.1, seed=3)
    assert len(tr.y_train) + len(yd) == len(d.y_train)
    counts = np.bincount(yd, minlength=10) / np.bincount(d.y_train, minlength=10)
    assert np.all(np.abs(counts - 0.1) < 0.02)
    _, xd2, _ = split_dev(d, 0.1, seed=3)
    np.testing.assert_array_equal(xd, xd2)
    rows = {r.tobytes() for r in tr.x_train}
    assert sum(r.tobytes() in rows for r in xd) <= 5  # digits has a few duplicate images


def test_curve_does_not_change_training_and_its_last_point_is_the_priced_training():
    a = run_experiment(SimConfig(**FAST))
    b = run_experiment(SimConfig(curve=True, **FAST))
    assert a["metrics"]["test_accuracy"] == b["metrics"]["test_accuracy"]
    assert a["ledger"] == b["ledger"]
    pts = b["curve"]["points"]
    assert [p["epoch"] for p in pts] == [1, 2, 3, 4]
    e = [p["train_energy_j"] for p in pts]
    assert all(x < y for x, y in zip(e, e[1:]))  # cumulative
    total = b["energy"]["per_train_sample_j"] * b["samples"]["train_total"]
    assert e[-1] == pytest.approx(total, rel=1e-9)
    assert pts[-1]["test_accuracy"] == b["metrics"]["test_accuracy"]


def test_best_dev_checkpoint_is_what_gets_tested():
    rec = run_experiment(SimConfig(curve=True, dev_fraction=0.2, **dict(FAST, epochs=6)))
    cur = rec["curve"]
    best = max(cur["points"], key=lambda p: p["dev_accuracy"])
    assert cur["best_dev_epoch"] == best["epoch"]
    assert rec["metrics"]["test_accuracy"] == best["test_accuracy"]
    assert rec["samples"]["train_per_epoch"] == len(load_dataset("digits").y_train) - cur["dev_size"]


def test_energy_to_targets_takes_the_first_epoch_reaching_each():
    pts = [{"epoch": 1, "samples": 10, "test_accuracy": 0.7, "train_energy_j": 1.0},
           {"epoch": 2, "samples": 20, "test_accuracy": 0.92, "train_energy_j": 2.0},
           {"epoch": 3, "samples": 30, "test_accuracy": 0.91, "train_energy_j": 3.0}]
    got = energy_to_targets(pts, (0.5, 0.9, 0.95))
    assert got["0.5"]["train_energy_j"] == 1.0 and got["0.9"]["epoch"] == 2
    assert got["0.95"] is None


@pytest.mark.parametrize("family,rule", [("pulsed", "scaled"), ("adam", "adam")])
def test_matched_gives_every_algorithm_the_same_network_budget_and_rule(family, rule):
    hps = {a: hyperparameters(SimConfig(algo=a, matched=family)) for a in ("pff", "ff", "bp")}
    for hp in hps.values():
        assert hp["hidden"] == (200, 200) and hp["epochs"] == 12 and hp["batch_size"] == 50
        assert hp["optimizer"] == rule
    # the user's own settings still win
    assert hyperparameters(SimConfig(algo="ff", matched=family, epochs=3))["epochs"] == 3


def test_matched_states_what_is_not_matched_and_refuses_contradictions():
    rec = run_experiment(SimConfig(algo="ff", matched="mixed", update="mixed", ideal=True,
                                   epochs=1, hidden="20,20"))
    m = rec["matched"]
    assert m["rule"] == "scaled" and m["update"] == "mixed"
    assert any("negative" in n for n in m["unmatched"])
    with pytest.raises(ConfigError, match="update = 'mixed'"):
        SimConfig(matched="mixed")
    with pytest.raises(ConfigError, match="optimizer"):
        SimConfig(matched="pulsed", optimizer="adam")
