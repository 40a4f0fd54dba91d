"""The ledger's on-chip memory: live total, peak, peak per phase, what made the peak."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossbar import Ledger


def test_peak_is_the_largest_total_held_at_once():
    led = Ledger("a")
    led.hold("x", 10)
    led.hold("y", 5)          # 15 held
    led.release("x")          # 5
    led.phase = "b"
    led.hold("y", 7)          # resize: 7
    led.hold("z", 6)          # 13 < 15
    m = led.memory()
    assert m["peak_bits"] == 15
    assert m["at_peak"] == {"x": 10, "y": 5}
    assert m["peak_by_phase"] == {"a": 15, "b": 13}
    assert m["buffer_peak_bits"] == {"x": 10, "y": 7, "z": 6}
    assert led.held_bits() == 13


def test_events_of_a_phase_see_the_buffers_held_then():
    led = Ledger("fwd")
    led.hold("act", 100)
    led.phase = "update"
    led.digital(dig_add=1)    # no new hold, but 100 bits are held while "update" works
    assert led.memory()["peak_by_phase"]["update"] == 100


def test_round_trip_reset_and_merge():
    led = Ledger("p")
    led.hold("s", 64)
    led.digital(sram_write_bits=64)
    d = json.loads(json.dumps(led.to_dict()))
    assert Ledger.from_dict(d).memory() == led.memory()
    led.reset()               # counts gone, the held buffer stays and the peak restarts there
    assert led.to_dict()["memory"]["peak_bits"] == 64 and led.to_dict()["entries"] == []
    led.release("s")
    other = Ledger("q")
    other.hold("t", 200)
    led.merge(other, scale=3.0)   # a capacity is not scaled
    assert led.memory()["peak_bits"] == 200


def test_a_ledger_without_buffers_has_no_memory_key():
    led = Ledger("p")
    led.digital(dig_add=3)
    assert "memory" not in led.to_dict()


def test_suspended_and_bad_sizes():
    led = Ledger()
    with led.suspended():
        led.hold("x", 5)
    assert led.memory()["peak_bits"] == 0
    with pytest.raises(ValueError, match="bits must be >= 0"):
        led.hold("x", -1)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.one_of(st.none(),
                                                             st.integers(0, 10**6))),
                max_size=30))
def test_peak_equals_the_max_of_running_totals(ops):
    led, live, peak = Ledger(), {}, 0
    for name, bits in ops:
        if bits is None:
            led.release(name)
            live.pop(name, None)
        else:
            led.hold(name, bits)
            live[name] = bits
            peak = max(peak, sum(live.values()))
        assert led.held_bits() == sum(live.values())
    assert led.memory()["peak_bits"] == peak
