"""Fixtures of the crossbar tests."""

import pytest

from crossbar import pulse_updates


@pytest.fixture
def kernels_run(monkeypatch):
    """Call it to start recording: returns the list, filled as they run, of the names of the
    Numba kernels `apply_update` hands to `run_chunks_in_turn` (not the caller's ``then``)."""
    def start() -> list:
        ran = []
        real = pulse_updates.run_chunks_in_turn
        monkeypatch.setattr(pulse_updates, "run_chunks_in_turn",
                            lambda steps, *a, **kw: ran.extend(
                                k.__name__ for k, _ in steps if hasattr(k, "py_func"))
                            or real(steps, *a, **kw))
        return ran

    return start
