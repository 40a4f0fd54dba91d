"""Pulse trains cut by ``max_pulses`` are counted: per row by every pulse kernel (general,
lean; the own-law kernel in tests/crossbar/test_own_law_rows.py) and every count scheme, and
per update in the ledger (``trains_capped``), as clipped conversions are
(``adc_saturated``)."""

from __future__ import annotations

import numpy as np
import pytest

from crossbar import pulse_updates, pulses
from crossbar.analog import AnalogMatrix
from crossbar.periphery import Periphery

CAP = 31


def _whole_requests(shape, seed) -> np.ndarray:
    """Whole-pulse requests (rounding keeps them exactly: no draw decides a count), most
    within the cap, about one in ten beyond it either way, some exactly at it."""
    rng = np.random.default_rng(seed)
    A = rng.integers(-3, 4, shape).astype(np.float32)
    far = rng.random(shape) < 0.1
    A[far] = rng.choice([-80.0, -CAP - 1.0, CAP + 1.0, 45.0], far.sum())
    A[rng.random(shape) < 0.02] = CAP
    return A


def _args(m: AnalogMatrix, mode: int, A: np.ndarray):
    c = np.copy
    dev = pulse_updates.Devices(c(m.wp), c(m.wm), m.d2dp, m.d2dm, m._has_d2d, m._differential,
                                m._full, m._lawp, m._lawm, c(m._touchp), c(m._touchm))
    wear = pulse_updates.Wear(c(m.stuckp), c(m.stuckm), c(m.countp), c(m.countm), c(m.tprogp),
                              c(m.tprogm), m._drift, m.time)
    return (mode, c(A), np.zeros_like(A), CAP, dev, wear, m._params, 777)


@pytest.mark.parametrize("stuck_free", [True, False])      # the lean kernel, the general one
@pytest.mark.parametrize("mode", [pulses.DETERMINISTIC, pulses.MIXED, pulses.STOCHASTIC])
@pytest.mark.parametrize("device", ["ecram", "rram-taox", "pcm-gst"])
def test_each_row_counts_the_devices_whose_request_exceeds_the_cap(device, mode, stuck_free):
    m = AnalogMatrix(30, 50, device, Periphery(max_pulses=CAP), seed=2)
    A = _whole_requests(m.wp.shape, 3)
    out = pulse_updates.apply_update(*_args(m, mode, A), stuck_free=stuck_free)
    # V = 0: the stochastic scheme's count is rint(A) too
    assert out.capped.tolist() == (np.abs(A) > CAP).sum(axis=1).tolist()
    assert out.capped.sum() > 100


def test_the_ledger_counts_the_capped_trains_of_each_update_and_omits_none():
    m = AnalogMatrix(20, 30, "rram-taox", seed=1)       # stored (30, 20)
    pulses_per_weight = m._pulses_per_weight()
    A = _whole_requests((20, 30), 8)
    m.apply_delta(A / np.float32(pulses_per_weight))
    assert m.ledger.get("trains_capped") == int((np.abs(A) > m.periphery.max_pulses).sum())
    small = AnalogMatrix(20, 30, "rram-taox", seed=1)
    small.apply_delta(np.full((20, 30), 2 / pulses_per_weight, np.float32))
    assert small.ledger.get("trains_capped") == 0
    assert all("trains_capped" not in e for e in small.ledger.to_dict()["entries"])
