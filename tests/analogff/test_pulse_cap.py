"""Pulse trains cut by the cap, by matrix: sums over phases, the share of each matrix's weight
updates, the worst matrix and the warning threshold."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analogff.pulse_cap import (CAP_WARN_FRACTION, capped_by_matrix, clipped_streams_by_matrix,
                                priced_batch_note, pulse_cap_warnings, stream_clip_warnings,
                                worst_capped_matrix)

SHAPES = {"W1": (784, 20), "W2": (20, 10), "L1": (20, 20)}


def _ledger(entries, analog=True):
    return {"matrices": {m: {"analog": analog, "rows": r, "cols": c}
                         for m, (r, c) in SHAPES.items()},
            "entries": entries}


def test_each_matrix_over_its_phases_against_its_weight_updates():
    ents = [{"phase": "update", "matrix": "W1", "update_calls": 3, "trains_capped": 100},
            {"phase": "generative", "matrix": "W1", "update_calls": 1, "trains_capped": 60},
            {"phase": "update", "matrix": "W2", "update_calls": 2},
            {"phase": "positive", "matrix": "L1", "mvm_vectors": 5},      # read only
            {"phase": "update", "matrix": "digital", "dig_mac": 7}]
    assert capped_by_matrix(_ledger(ents)) == {"W1": (160, 4 * 784 * 20), "W2": (0, 400)}
    assert worst_capped_matrix(_ledger(ents)) == ("W1", 160 / (4 * 784 * 20))
    assert capped_by_matrix(_ledger(ents, analog=False)) == {}        # the ideal twin
    assert worst_capped_matrix(_ledger(ents, analog=False)) is None


def test_warns_only_above_the_threshold_naming_the_matrix_and_its_share():
    n = 20 * 10 * 5
    at = int(CAP_WARN_FRACTION * n)
    for capped, lines in ((at, 0), (at + 1, 1)):
        ents = [{"phase": "update", "matrix": "W2", "update_calls": 5, "trains_capped": capped}]
        out = pulse_cap_warnings({"ledger": _ledger(ents)})
        assert len(out) == lines
    assert out[0].startswith("warning: W2: 5.1 % of its 1,000 weight updates asked for more "
                             "pulses than the chip's update slots")
    assert out[0].endswith("more --update-slots fire more")                 # no chip stored
    rec = {"ledger": _ledger(ents), "hardware": {"update_slots": 15}}
    assert pulse_cap_warnings(rec)[0].endswith("more --update-slots (now 15) fire more")
    assert pulse_cap_warnings({}) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(SHAPES)), st.integers(1, 50),
                          st.floats(0, 1)), min_size=1, max_size=12))
def test_counts_are_conserved_and_the_worst_share_is_the_largest(rows):
    ents = [{"phase": f"p{i}", "matrix": m, "update_calls": k,
             "trains_capped": int(f * k * SHAPES[m][0] * SHAPES[m][1])}
            for i, (m, k, f) in enumerate(rows)]
    by = capped_by_matrix(_ledger(ents))
    assert sum(c for c, _n in by.values()) == sum(e["trains_capped"] for e in ents)
    assert sum(n for _c, n in by.values()) == sum(
        e["update_calls"] * SHAPES[e["matrix"]][0] * SHAPES[e["matrix"]][1] for e in ents)
    name, share = worst_capped_matrix(_ledger(ents))
    assert share == max(c / n for c, n in by.values()) == by[name][0] / by[name][1]
    assert all(0 <= c <= n for c, n in by.values())


def test_the_priced_batch_note_lists_the_matrices_over_the_threshold_worst_first():
    ents = [{"phase": "update", "matrix": "W1", "update_calls": 1, "trains_capped": 784 * 2},
            {"phase": "update", "matrix": "W2", "update_calls": 1, "trains_capped": 150.5},
            {"phase": "update", "matrix": "L1", "update_calls": 1, "trains_capped": 4}]
    note = priced_batch_note(_ledger(ents), 31)
    assert note == ("note: in the priced batch the 31 update slots cut the pulse trains of "
                    "W2 (75 %), W1 (10 %) (expected counts; pulses are priced as fired)")
    assert priced_batch_note(_ledger(ents[2:]), 31) is None     # L1: 1 % of 400


def test_clipped_streams_are_a_share_of_the_stochastic_updates_streams():
    """A stochastic update of B samples on an R x C matrix draws B·(R + C)·slots random
    numbers for B·(R + C) streams; the warning names a matrix over the threshold."""
    slots, B = 7, 4
    streams = B * (20 + 10)
    ents = [{"phase": "update", "matrix": "W2", "update_calls": 1, "rng_draws": streams * slots,
             "streams_clipped": 7},
            {"phase": "update", "matrix": "W2", "update_calls": 1, "rng_draws": streams * slots},
            {"phase": "update", "matrix": "W1", "update_calls": 1},          # deterministic
            {"phase": "negative", "matrix": "digital", "rng_draws": 99}]      # not a stream
    assert clipped_streams_by_matrix(_ledger(ents), slots) == {"W2": (7, 2 * streams)}
    rec = {"ledger": _ledger(ents), "hardware": {"update_slots": slots}}
    assert stream_clip_warnings(rec) == []                   # 7 of 240: 2.9 %
    ents[1]["streams_clipped"] = 6                           # 13 of 240: 5.4 %
    (line,) = stream_clip_warnings(rec)
    assert line.startswith("warning: W2: 5.4 % of the bit streams of its stochastic updates")
    assert line.endswith("more --update-slots (now 7) give more")
    assert stream_clip_warnings({"ledger": _ledger(ents)}) == []   # no chip stored
