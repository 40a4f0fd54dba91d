"""The first run's second process (crossbar.warmup): pulse kernels wait for it, then run as
they would have, and the run's numbers do not change."""

from __future__ import annotations

import os

import numpy as np
import pytest

from crossbar import kernels as K
from crossbar import warmup
from crossbar.analog import AnalogMatrix


def _updated(seed: int) -> np.ndarray:
    m = AnalogMatrix(6, 5, "ecram", seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        m.update(rng.standard_normal((4, 5)).astype(np.float32),
                 rng.standard_normal((4, 6)).astype(np.float32), 0.05)
    return m.weights()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the second process needs two cores")
def test_pulse_kernels_wait_for_the_second_process_then_run_unchanged(monkeypatch):
    parallel, serial = K.apply_update, K.SERIAL["apply_update"]
    before = _updated(3)
    started = []
    popen = warmup.subprocess.Popen

    def recording_popen(*args, **kwargs):
        started.append(popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(warmup.subprocess, "Popen", recording_popen)
    try:
        assert warmup.compile_pulses_in_background()
        assert K.apply_update is not parallel                  # the first call waits
        assert K.SERIAL["apply_update"] is not serial
        with_warmup = _updated(3)
        assert K.apply_update is parallel                      # then the kernels themselves
        assert K.SERIAL["apply_update"] is serial
    finally:
        K.apply_update, K.SERIAL["apply_update"] = parallel, serial
    np.testing.assert_array_equal(before, with_warmup)
    # the second process itself compiled and exited cleanly (a failing one would leave this
    # process compiling on its own: same numbers, no gain)
    assert len(started) == 1 and started[0].wait(timeout=600) == 0
