"""ADC saturation by matrix: sums over phases, the worst matrix, and the warning threshold."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analogff.saturation import (SATURATION_WARN_FRACTION, capped_range_notes,
                                 saturation_by_matrix,
                                 saturation_warnings, worst_matrix)


def _record(entries, out_bound=0.05, ranges=None):
    ranges = ranges or {}
    return {"hardware": {"out_bound": out_bound},
            "ledger": {"matrices": {m: {"out_bound": r} for m, r in ranges.items()},
                       "entries": entries}}


def test_sums_each_matrix_over_its_phases_and_skips_digital_work():
    ents = [{"phase": "positive", "matrix": "W1", "adc_conversions": 100, "adc_saturated": 4},
            {"phase": "negative", "matrix": "W1", "adc_conversions": 300, "adc_saturated": 36},
            {"phase": "positive", "matrix": "W2", "adc_conversions": 50},
            {"phase": "update", "matrix": "digital", "dig_mac": 7}]
    assert saturation_by_matrix(_record(ents)["ledger"]) == {"W1": (40, 400), "W2": (0, 50)}
    assert worst_matrix(_record(ents)["ledger"]) == ("W1", 0.1)
    assert worst_matrix({"entries": [{"phase": "p", "matrix": "digital", "dig_mac": 1}]}) is None


def test_warns_only_above_the_threshold_naming_matrix_range_and_option():
    n = 1000
    at = int(SATURATION_WARN_FRACTION * n)
    ents = [{"phase": "p", "matrix": "A", "adc_conversions": n, "adc_saturated": at},
            {"phase": "p", "matrix": "B", "adc_conversions": n, "adc_saturated": at + 1},
            {"phase": "p", "matrix": "G3", "adc_conversions": n, "adc_saturated": 500}]
    lines = saturation_warnings(_record(ents, ranges={"A": 0.05, "B": 0.05, "G3": 0.3}))
    assert len(lines) == 2
    assert lines[0].startswith("warning: B: 5.1 % of its 1,000 ADC conversions saturated")
    assert "range ±0.05 of a tile's full-scale column sum)" in lines[0]
    assert "--out-bound (now 0.05)" in lines[0]
    assert lines[1].startswith("warning: G3: 50.0 %") and "--out-bound × 6" in lines[1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["W1", "W2", "L1"]), st.integers(1, 10**6),
                          st.floats(0, 1)), min_size=1, max_size=12))
def test_counts_are_conserved_and_the_worst_share_is_the_largest(rows):
    ents = [{"phase": f"p{i}", "matrix": m, "adc_conversions": n, "adc_saturated": int(f * n)}
            for i, (m, n, f) in enumerate(rows)]
    by = saturation_by_matrix({"entries": ents})
    assert sum(n for _s, n in by.values()) == sum(e["adc_conversions"] for e in ents)
    assert sum(s for s, _n in by.values()) == sum(e["adc_saturated"] for e in ents)
    name, share = worst_matrix({"entries": ents})
    assert share == max(s / n for s, n in by.values()) == by[name][0] / by[name][1]


def test_capped_ranges_are_named_once_with_what_they_asked():
    rec = _record([], out_bound=0.5, ranges={"W1": 0.5, "G1": 1.0, "G2": 1.0})
    assert capped_range_notes(rec) == []
    for m in ("G2", "G1"):
        rec["ledger"]["matrices"][m]["out_bound_requested"] = 3.0
    (line,) = capped_range_notes(rec)
    assert line.startswith("note: G1, G2: ADC range ±1 ") and "not the ±3 asked" in line
    assert "--out-bound 0.5 ×" in line and "W1" not in line


@given(st.floats(0.001, 1.0), st.floats(0.01, 50.0))
def test_widened_range_is_used_as_asked_or_capped_and_recorded(out_bound, scale):
    """The one rule of every backend's factory: the range asked is used, or full scale is
    used and the range asked is returned to be recorded."""
    from analogff.experiment import widened_out_bound

    used, capped = widened_out_bound(out_bound, scale)
    asked = out_bound * scale
    if asked > 1.0:
        assert used == 1.0 and capped == asked
    else:
        assert used == asked and capped is None


def test_counting_backend_records_a_capped_range_and_energy_says_so():
    """`analogff energy` (the counting backend) records a range its widening capped, as
    simulate does, and prints the note; a range within full scale records nothing."""
    from typer.testing import CliRunner

    from analogff.cli import app
    from analogff.estimate import build_ledgers
    from crossbar.chip import Hardware

    train, _ = build_ledgers(Hardware(out_bound=0.3), (64, 30, 30, 10), "pff", batch=4, K=2)
    asked = {m: v["out_bound_requested"] for m, v in train["matrices"].items()
             if "out_bound_requested" in v}
    assert set(asked) == {"G1", "G2", "G3"} and all(a == 0.3 * 6.0 for a in asked.values())
    assert all(train["matrices"][m]["out_bound"] == 1.0 for m in asked)
    train, _ = build_ledgers(Hardware(out_bound=0.1), (64, 30, 30, 10), "pff", batch=4, K=2)
    assert not any("out_bound_requested" in v for v in train["matrices"].values())
    res = CliRunner().invoke(app, ["energy", "--network", "64,30,30,10", "--out-bound", "0.3",
                                   "--batch", "4", "--steps", "2"])
    assert res.exit_code == 0, res.output
    assert "note: G1, G2, G3: ADC range ±1" in " ".join(res.output.split())
