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


def test_a_run_whose_device_takes_the_general_kernel_has_that_one_compiled(monkeypatch,
                                                                          kernels_run):
    """``general``: the second process is asked for the general kernel (``--general``), and
    what it runs takes exactly that kernel."""
    argv = []

    class _Started:                      # a stand-in for the process: only its arguments matter
        def poll(self):
            return 0

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(warmup.subprocess, "Popen",
                        lambda args, **kw: argv.append(args) or _Started())
    parallel, serial = K.apply_update, K.SERIAL["apply_update"]
    try:
        if warmup.compile_pulses_in_background(general=True):
            assert argv[0][-3:] == ["-m", "crossbar.warmup", "--general"]
    finally:
        K.apply_update, K.SERIAL["apply_update"] = parallel, serial
    ran = kernels_run()
    warmup.compile_pulse_kernels(general=True)
    assert ran == ["_update_chunks"]
    ran.clear()
    warmup.compile_pulse_kernels()
    assert ran == ["_update_chunks_lean"]
