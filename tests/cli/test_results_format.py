"""`analogff results` cells: mean ± half-width in fixed point on one scale."""

from hypothesis import given, strategies as st

from analogff.cli.results import _pm


def test_half_width_shares_the_means_scale_and_unit():
    assert _pm(508e-6, 240e-6, "si:J") == "508±240 µJ"      # was 508±2.4e+02 µJ
    assert _pm(5.08, 0.31, "x") == "5.08±0.31"
    assert _pm(0.5, 0.02, "pct") == "50.0±2.0"


@given(st.floats(1e-6, 1e6), st.floats(0, 1e6))
def test_no_exponent_and_both_parse_back(mean, half):
    cell = _pm(mean, half, "x")
    assert "e" not in cell
    m, h = (float(v) for v in cell.split("±"))
    # the mean keeps three significant digits (fixed point may show more for large means)
    assert abs(m - mean) <= 0.005 * mean + 1e-12
    assert h >= 0


def test_fmt_si_never_prints_an_exponent_and_reads_back():
    """`fmt_si` (simulate's and energy's tables): three digits, an SI prefix, no "1e+03"
    at a prefix boundary (999.7 nJ is "1 µJ"), within rounding of the value."""
    from analogff.cli.common import fmt_si

    assert fmt_si(999.7e-9, "J") == "1 µJ" and fmt_si(999.4e-9, "J") == "999 nJ"
    assert fmt_si(None) == "n/a" and fmt_si(0, "J") == "0 J"
    mult = {"a": 1e-18, "f": 1e-15, "p": 1e-12, "n": 1e-9, "µ": 1e-6, "m": 1e-3, "": 1.0,
            "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}

    @given(st.floats(1e-17, 1e16), st.booleans())
    def check(v, neg):
        v = -v if neg else v
        num, rest = fmt_si(v, "J").split(" ")
        assert "e" not in num
        back = float(num) * mult[rest[:-1]]
        assert abs(back - v) <= 0.005 * abs(v)

    check()
