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


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the second process needs two cores")
@pytest.mark.parametrize("own_laws", [True, False])
def test_the_second_process_compiles_the_kernel_of_the_runs_kind_of_device(own_laws,
                                                                          monkeypatch):
    """`python -m crossbar.warmup own-laws|shared-law` updates a matrix whose devices take the
    lean kernel of that kind (the run's other kind would find nothing compiled for it)."""
    from crossbar import pulses

    ran = []
    real = pulses.run_chunks
    monkeypatch.setattr(pulses, "run_chunks",
                        lambda kernel, *a, **kw: ran.append(kernel) or real(kernel, *a, **kw))
    warmup.compile_pulse_kernels(own_laws=own_laws)
    assert ran == [pulses._update_chunks_lean_laws if own_laws
                   else pulses._update_chunks_lean_shared]
    started = []
    monkeypatch.setattr(warmup.subprocess, "Popen",
                        lambda args, **kw: started.append(args) or _Done())
    parallel, serial = K.apply_update, K.SERIAL["apply_update"]
    try:
        assert warmup.compile_pulses_in_background(own_laws=own_laws)
    finally:
        K.apply_update, K.SERIAL["apply_update"] = parallel, serial
    assert started[0][-3:] == ["-m", "crossbar.warmup",
                               "own-laws" if own_laws else "shared-law"]


class _Done:
    """A second process that has already ended."""

    def poll(self):
        return 0

    def wait(self, timeout=None):
        return 0
