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
