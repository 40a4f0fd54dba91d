"""The chip's ``update_slots`` is what the simulator and the counting backend fire: the most
pulses a device takes per update (``max_pulses``) and the stochastic train length (``bl``),
so the simulated chip and the priced one (update time ``update_slots·t_write``) are one."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from analogff.cli import app
from analogff.config import from_dict
from analogff.estimate import build_ledgers
from analogff.experiment import build, make_periphery
from crossbar.chip import Hardware, HardwareError, reprice_chip

QUICK = ["--algo", "bp", "--hidden", "20", "--epochs", "1", "--limit", "120",
         "--batch-size", "30", "--no-monitor", "--json"]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 65536))
def test_the_periphery_fires_the_chips_update_slots(slots):
    pe = make_periphery(from_dict({"update_slots": slots}))
    assert pe.max_pulses == pe.bl == slots


def test_every_analog_matrix_of_a_run_takes_them():
    net = build(from_dict({"algo": "pff", "update_slots": 7, "update": "stochastic",
                           "optimizer": "sgd"}))
    assert {(m.periphery.max_pulses, m.periphery.bl) for m in net.algo.matrices} == {(7, 7)}


def _pulses(ledger) -> float:
    return sum(e.get("pulses_up", 0) + e.get("pulses_down", 0) for e in ledger["entries"])


def test_the_counting_backend_caps_its_expected_pulses_at_them():
    """`analogff energy`'s ledger: with one slot no weight takes more than one pulse per
    update call; PFF's Adam steps ask for more, so one slot fires fewer than 31."""
    net = (64, 40, 40, 10)
    one, _ = build_ledgers(Hardware(update_slots=1), net, "pff", batch=20)
    many, _ = build_ledgers(Hardware(update_slots=31), net, "pff", batch=20)
    info = one["matrices"]
    weights = sum(info[e["matrix"]]["rows"] * info[e["matrix"]]["cols"] * e["update_calls"]
                  for e in one["entries"] if e.get("update_calls"))
    assert _pulses(one) <= weights
    assert _pulses(one) < 0.2 * _pulses(many)


def test_a_run_with_fewer_slots_cuts_more_trains_and_fires_fewer_pulses():
    rec = {}
    for slots in (2, 31):
        r = CliRunner().invoke(app, ["simulate", "--update-slots", str(slots), "--optimizer",
                                     "sgd", "--lr", "2", *QUICK])
        assert r.exit_code == 0, r.output
        rec[slots] = json.loads(r.stdout.strip().splitlines()[-1])
        assert rec[slots]["hardware"]["update_slots"] == slots
    assert rec[2]["counts"]["trains_capped"] > rec[31]["counts"]["trains_capped"]
    assert rec[2]["counts"]["pulses"] < rec[31]["counts"]["pulses"]


def test_a_stored_run_cannot_be_repriced_with_other_slots():
    with pytest.raises(HardwareError, match="update_slots = 15: the run was simulated with "
                                            "update_slots = 31"):
        reprice_chip(Hardware(), {"update_slots": 15})
    assert reprice_chip(Hardware(), {"update_slots": 31}) == Hardware()
