"""analogff.scaling: the fast training-chip area equals the full batch's, and the largest
network that fits an area brackets it with exact evaluations."""

from __future__ import annotations

import pytest

from analogff.errors import ConfigError
from analogff.scaling import Shape, cost, largest_width, ledger, train_chip_area
from crossbar.chip import Hardware
from reports.training_memory import training_chip

HW = Hardware()
SMALL = Shape(n_in=24, n_classes=10, depth=2)


@pytest.mark.parametrize("algo", ["bp", "ff", "pff"])
def test_fast_area_equals_the_full_batch(algo):
    led = ledger(HW, algo, 30, SMALL, batch=50)          # K = 12 for PFF, batch 50
    assert train_chip_area(HW, algo, 30, SMALL, batch=50) == pytest.approx(
        training_chip(led, HW)["area_mm2"], rel=1e-12)


@pytest.mark.parametrize("algo", ["bp", "ff", "pff"])
@pytest.mark.parametrize("optimizer,update", [("adam", "deterministic"), ("scaled", "mixed")])
def test_fast_area_with_per_weight_state(algo, optimizer, update):
    from analogff.estimate import build_ledgers

    tl, _ = build_ledgers(HW, SMALL.network(30), algo, batch=50, optimizer=optimizer,
                          update=update, preset="paper")
    assert train_chip_area(HW, algo, 30, SMALL, batch=50, optimizer=optimizer,
                           update=update) == pytest.approx(training_chip(tl, HW)["area_mm2"],
                                                           rel=1e-12)


def test_largest_width_brackets_the_area():
    target = train_chip_area(HW, "ff", 300, SMALL) * 1.001
    r = largest_width(HW, "ff", target, SMALL, rel_tol=0.0)
    assert r["area_mm2"] <= target < r["next_area_mm2"]
    assert r["next_width"] == r["width"] + 1 and r["width"] >= 300
    assert r["area_mm2"] == train_chip_area(HW, "ff", r["width"], SMALL)


def test_refusals():
    with pytest.raises(ConfigError, match="depth = 3 is not available for pff"):
        cost(HW, "pff", 100, Shape(depth=3))
    with pytest.raises(ConfigError, match="multiple of 10"):
        cost(HW, "pff", 105)
    with pytest.raises(ConfigError, match="must be > 0"):
        largest_width(HW, "bp", 0.0)


def test_cost_row_has_every_metric():
    r = cost(HW, "bp", 40, SMALL)
    for k in ("energy_per_train_sample_j", "latency_per_train_sample_s", "train_chip_mm2",
              "peak_buffer_bits", "moved_bits_per_train_sample"):
        assert r[k] > 0


def _cli(*args):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "analogff", "energy", *args],
                          capture_output=True, text=True, timeout=600)


def test_energy_fit_area_cli():
    import json

    r = _cli("--algo", "ff", "--network", "64,16,16,10", "--batch", "8", "--fit-area", "0.5",
             "--json")
    assert r.returncode == 0, r.stderr
    fit = json.loads(r.stdout)["fits"][0]
    assert fit["area_mm2"] <= 0.5 < fit["next_area_mm2"] and fit["width"] > 16
    bad = _cli("--fit-area", "0,x")
    assert bad.returncode == 2 and "--fit-area '0,x' must be die areas" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr
