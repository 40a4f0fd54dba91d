"""Grouping over seeds: never pool configurations, t intervals match the formula, n < 3 warns."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sst

from reports.stats import (MIN_SEEDS, few_seeds_note, pareto_front, seed_groups, si, t_interval,
                           varied)


def _runs():
    rows = []
    for algo in ("pff", "bp"):
        for adc in (4, 8):
            for seed in range(3 if adc == 8 else 2):
                rows.append({"algo": algo, "adc_bits": adc, "noise": 0.05, "seed": seed,
                             "dataset": "digits",
                             "acc": 0.5 + 0.1 * (adc == 8) + 0.01 * seed + 0.2 * (algo == "bp")})
    return pd.DataFrame(rows)


def test_grouping_never_pools_other_knobs():
    df = _runs()
    table, keys, added = seed_groups(df, ["algo", "adc_bits", "noise", "dataset", "seed"],
                                     ["acc"], by=["algo"])
    assert keys == ["algo", "adc_bits"] and added == ["adc_bits"]   # noise, dataset constant
    assert len(table) == 4                                       # 2 algos x 2 ADC settings
    assert sorted(table["n"]) == [2, 2, 3, 3]
    for _, r in table.iterrows():
        sub = df[(df.algo == r.algo) & (df.adc_bits == r.adc_bits)]["acc"]
        assert r["acc_mean"] == pytest.approx(sub.mean())
        half = sst.t.ppf(0.975, len(sub) - 1) * sub.std(ddof=1) / math.sqrt(len(sub))
        assert r["acc_ci"] == pytest.approx(half)
        assert r["few_seeds"] == (len(sub) < MIN_SEEDS)
    note = few_seeds_note(table)
    assert note is not None and "2 of 4 configurations" in note and "n = 2" in note


def test_no_warning_with_enough_seeds_and_nan_interval_for_one():
    df = _runs()
    t, _k, _a = seed_groups(df[df.adc_bits == 8], ["algo", "adc_bits", "seed"], ["acc"])
    assert few_seeds_note(t) is None
    m, h, n = t_interval([0.7])
    assert (m, n) == (0.7, 1) and math.isnan(h)
    assert t_interval([None, float("nan"), "x"])[2] == 0


def test_none_and_nan_are_one_value_and_seed_is_never_a_knob():
    df = pd.DataFrame({"noise": [None, np.nan, None], "seed": [0, 1, 2], "a": [1, 2, 3]})
    assert varied(df, ["noise", "seed"]) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=12))
def test_t_interval_matches_scipy(xs):
    m, h, n = t_interval(xs)
    lo, hi = sst.t.interval(0.95, n - 1, loc=np.mean(xs), scale=sst.sem(xs)) \
        if np.std(xs) > 0 else (np.mean(xs), np.mean(xs))
    assert n == len(xs) and m == pytest.approx(np.mean(xs), abs=1e-9)
    assert h == pytest.approx((hi - lo) / 2, rel=1e-6, abs=1e-9)


def test_pareto_front_is_non_dominated():
    pts = [(1.0, 0.5), (2.0, 0.4), (3.0, 0.9), (0.5, 0.2), (3.0, 0.8), (4.0, 0.9)]
    front = pareto_front(pts)
    assert front == [(0.5, 0.2), (1.0, 0.5), (3.0, 0.9)]
    for e, a in pts:
        if (e, a) not in front:
            assert any(fe <= e and fa >= a for fe, fa in front)


@pytest.mark.parametrize("v, unit, s", [(2.48e-6, "J", "2.48 µJ"), (999.7e-9, "J", "1 µJ"),
                                        (0.5, "s", "500 ms"), (0, "J", "0 J"),
                                        (None, "J", "–"), (3.2e12, "OP/s", "3.2 TOP/s")])
def test_si(v, unit, s):
    assert si(v, unit) == s


@given(st.floats(1e-17, 1e16), st.booleans(), st.integers(2, 5))
def test_si_has_no_exponent_and_reads_back_at_any_digits(v, neg, digits):
    """The one SI formatter (tables, figures, command line): no "1e+03" at a prefix
    boundary, the value back within the rounding of ``digits`` significant digits."""
    v = -v if neg else v
    num, rest = si(v, "J", digits).split(" ")
    assert "e" not in num
    mult = {"a": 1e-18, "f": 1e-15, "p": 1e-12, "n": 1e-9, "µ": 1e-6, "m": 1e-3, "": 1.0,
            "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[rest[:-1]]
    assert abs(float(num) * mult - v) <= 0.5 * 10.0 ** (1 - digits) * abs(v)
    assert abs(float(num)) < 1000 or rest[:-1] == "T"     # the largest prefix that fits
