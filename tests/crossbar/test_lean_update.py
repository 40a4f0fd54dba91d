"""The lean pulse kernel (`_update_chunks_lean`, taken when no device can stick) gives every
device the same state, pulse count, energy and write mark as the general kernel
(`_update_chunks`), for every preset it serves, both mappings, deterministic and mixed counts;
and `apply_update` takes it exactly when its conditions hold."""

from __future__ import annotations

import numpy as np
import pytest

from crossbar import pulse_updates, pulses
from crossbar.analog import AnalogMatrix
from crossbar.periphery import Periphery

# every preset whose updates the lean kernel takes (pcm-gst refreshes its potentiate-only pairs
# and keeps a drift clock: always the general kernel, asserted below)
PRESETS = ["ecram", "epiram", "fefet-hzo", "gokmen-vlasov", "ideal", "reram-sb", "rram-agsi",
           "rram-taox"]


def _args(m: AnalogMatrix, mode: int, A: np.ndarray):
    """apply_update's arguments for matrix ``m`` (its arrays and ``A`` copied, so two calls
    start equal: the mixed scheme keeps its remainder in ``A``)."""
    c = np.copy
    dev = pulse_updates.Devices(c(m.wp), c(m.wm), m.d2dp, m.d2dm, m._has_d2d, m._differential,
                                m._full, m._lawp, m._lawm, c(m._touchp), c(m._touchm))
    wear = pulse_updates.Wear(c(m.stuckp), c(m.stuckm), c(m.countp), c(m.countm), c(m.tprogp),
                              c(m.tprogm), m._drift, m.time)
    return (mode, c(A), np.zeros_like(A), m.periphery.max_pulses, dev, wear, m._params, 12345)


def _written(args) -> tuple:
    """What an update writes besides its totals: A (mixed: the remainders), the states, the
    write marks."""
    dev = args[4]
    return args[1], dev.wp, dev.wm, dev.touchp, dev.touchm


@pytest.mark.parametrize("mapping", ["differential", "reference"])
@pytest.mark.parametrize("mode", [pulses.DETERMINISTIC, pulses.MIXED])
@pytest.mark.parametrize("device", PRESETS)
def test_lean_kernel_equals_general_kernel(device, mode, mapping, kernels_run):
    m = AnalogMatrix(40, 70, device, Periphery(mapping=mapping), seed=3)
    R, C = m.wp.shape                               # stored (in, out)
    rng = np.random.default_rng(4)
    # a spread of trains: most short, some long enough for the vectorised own-law pass
    A = (rng.standard_normal((R, C)) * rng.choice([0.5, 3.0, 40.0], (R, 1))).astype(np.float32)
    lean, general = _args(m, mode, A), _args(m, mode, A)
    ran = kernels_run()
    out_l = pulse_updates.apply_update(*lean, stuck_free=m._stuck_free)
    out_g = pulse_updates.apply_update(*general, stuck_free=False)
    assert ran == ["_update_chunks_lean", "_update_chunks"]     # two kernels were compared
    for a, b in zip(out_l, out_g):                  # pulses up, down, energy per row
        assert np.array_equal(a, b)
    for a, b in zip(_written(lean), _written(general)):
        assert np.array_equal(a, b)
    assert out_l[0].sum() + out_l[1].sum() > 0      # devices did move


def test_apply_update_takes_the_lean_kernel_only_when_nothing_can_stick(kernels_run):
    calls = kernels_run()
    m = AnalogMatrix(8, 8, "ecram", seed=0)
    A = np.ones(m.wp.shape, np.float32)
    pulse_updates.apply_update(*_args(m, pulses.DETERMINISTIC, A), stuck_free=True)
    pulse_updates.apply_update(*_args(m, pulses.DETERMINISTIC, A), stuck_free=False)
    pulse_updates.apply_update(*_args(m, pulses.STOCHASTIC, A), stuck_free=True)
    pcm = AnalogMatrix(8, 8, "pcm-gst", seed=0)     # refresh and drift clock
    pulse_updates.apply_update(*_args(pcm, pulses.DETERMINISTIC, A), stuck_free=pcm._stuck_free)
    assert calls == ["_update_chunks_lean"] + ["_update_chunks"] * 3
    # what AnalogMatrix passes: stuck devices or an endurance make it False
    assert AnalogMatrix(8, 8, "ecram", seed=0)._stuck_free
    from device_models.presets import get_device
    dv = get_device("ecram")
    assert not AnalogMatrix(8, 8, dv.replace(endurance=1e6), seed=0)._stuck_free
    assert not AnalogMatrix(8, 8, dv.replace(stuck_off=0.01), seed=0)._stuck_free
    assert not AnalogMatrix(8, 8, dv.replace(stuck_on=0.01), seed=0)._stuck_free


@pytest.mark.parametrize("mapping", ["differential", "reference"])
def test_the_warm_up_predicts_the_kernel_a_device_takes(mapping, kernels_run):
    """`device_takes_general_kernel` (which kernel `crossbar.warmup` compiles ahead) says what
    `apply_update` runs, deterministic and mixed, for every preset and for devices made to
    stick, wear out or drift."""
    from device_models import list_presets
    from device_models.presets import get_device

    ecram = get_device("ecram")
    devices = [get_device(n) for n in list_presets()] + [
        ecram.replace(endurance=1e6), ecram.replace(stuck_off=0.01), ecram.replace(stuck_on=0.01),
        ecram.replace(drift_nu=0.05), ecram.replace(drift_nu_std=0.01)]
    calls = kernels_run()
    for dev in devices:
        for scheme in ("deterministic", "mixed"):
            m = AnalogMatrix(8, 8, dev, Periphery(mapping=mapping, update=scheme), seed=0)
            calls.clear()
            m.update(np.ones((2, 8), np.float32), np.ones((2, 8), np.float32), 0.05)
            general = pulse_updates.device_takes_general_kernel(dev)
            assert calls == (["_update_chunks"] if general else ["_update_chunks_lean"]), \
                (dev.name, scheme)
    assert pulse_updates.device_takes_general_kernel(get_device("pcm-gst"))  # the warm-up's
