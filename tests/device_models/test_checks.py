"""`device_models.checks`: the one range and choice check behind devices, the periphery, the
chip and run configs (properties with hypothesis, and the one wording at every boundary)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from device_models.checks import (allowed_range, check_choice, check_flag, check_number,
                                   check_text, plain)

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


class Refused(ValueError):
    pass


@given(lo=finite, width=st.floats(0, 1e6), value=st.floats(allow_nan=True,
                                                            allow_infinity=True),
       lo_open=st.booleans(), hi_open=st.booleans())
def test_a_number_passes_exactly_when_it_is_inside_the_range(lo, width, value, lo_open,
                                                               hi_open):
    hi = lo + width
    inside = math.isfinite(value) and (value > lo if lo_open else value >= lo) and \
        (value < hi if hi_open else value <= hi)
    try:
        check_number("x", value, lo, hi, lo_open=lo_open, hi_open=hi_open, error=Refused)
        passed = True
    except Refused as e:
        passed = False
        msg = str(e)
        assert msg.startswith(f"x = {value!r} is out of range; allowed ")
        assert msg.endswith(allowed_range(lo, hi, lo_open=lo_open, hi_open=hi_open))
        assert "\n" not in msg
    assert passed == inside


@given(lo=st.integers(-10**6, 10**6), width=st.integers(0, 10**6),
       value=st.one_of(st.integers(-3 * 10**6, 3 * 10**6), st.floats(), st.booleans(),
                       st.text(max_size=3), st.none()))
def test_an_integer_field_takes_python_ints_in_range_only(lo, width, value):
    hi = lo + width
    is_int = isinstance(value, int) and not isinstance(value, bool)
    try:
        check_number("n", value, lo, hi, integer=True, error=Refused)
        passed = True
    except Refused as e:
        passed = False
        assert str(e).endswith(f"allowed integers {lo}..{hi}")
        if not is_int:            # a float such as 10.0 or 10.5 would be truncated
            assert "must be an integer" in str(e)
    assert passed == (is_int and lo <= value <= hi)


@pytest.mark.parametrize("value", [True, False, "1", None, [1.0], np.nan, np.inf, -np.inf])
def test_bools_strings_and_non_finite_values_are_never_numbers_in_range(value):
    with pytest.raises(Refused):
        check_number("x", value, None, None, error=Refused)


def test_unbounded_and_open_ranges_read_as_intervals():
    assert allowed_range(0.0, None) == "[0, inf)"
    assert allowed_range(None, 1.0, hi_open=True) == "(-inf, 1)"
    assert allowed_range(0.0, 1.0, lo_open=True, unit="s") == "(0, 1] s"
    assert allowed_range(1, None, integer=True) == "integers 1 or more"
    assert allowed_range(None, 5, integer=True) == "integers up to 5"
    assert allowed_range(2, 24, integer=True, unit="bit") == "integers 2..24 bit"


@given(value=st.one_of(st.sampled_from(["a", "b", "c", "A", ""]), st.integers(0, 3),
                       st.floats(0, 3), st.booleans()))
def test_a_choice_is_one_of_the_allowed_values_of_the_same_type(value):
    for allowed in (("a", "b"), (1, 2)):
        ok = any(type(value) is type(a) and value == a for a in allowed)
        try:
            check_choice("k", value, allowed, error=Refused)
            assert ok
        except Refused as e:
            assert not ok
            assert str(e) == (f"k = {value!r} is not allowed; choose one of: "
                              f"{', '.join(str(a) for a in allowed)}")


def test_an_integer_too_large_for_a_float_is_refused_not_overflowed():
    with pytest.raises(Refused, match=r"is out of range; allowed integers 0\.\.9"):
        check_number("seed", 10**400, 0, 9, integer=True, error=Refused)
    check_number("n", 10**400, 0, None, integer=True, error=Refused)   # unbounded: taken


@given(value=st.one_of(st.booleans(), st.integers(), st.floats(), st.text(), st.none()))
def test_a_flag_is_a_bool_and_a_text_a_non_empty_string(value):
    for check, ok, kind in ((check_flag, isinstance(value, bool), "true or false"),
                            (check_text, isinstance(value, str) and value != "",
                             "a non-empty string")):
        if ok:
            check("f", value, error=Refused)
        else:
            with pytest.raises(Refused) as e:
                check("f", value, error=Refused)
            assert str(e.value) == f"f = {value!r} must be {kind}"


def test_numpy_scalars_are_plain_only_when_asked():
    assert plain(np.int64(3)) == 3 and type(plain(np.int64(3))) is int
    assert type(plain(np.float32(0.5))) is float and plain("x") == "x"
    with pytest.raises(Refused, match="must be an integer"):
        check_number("n", np.int64(3), 0, 5, integer=True, error=Refused)


def _device(**kw):
    from device_models import DeviceModel
    DeviceModel(**kw)


def _periphery(**kw):
    from crossbar import Periphery
    Periphery(**kw)


def _hardware(**kw):
    from crossbar.chip import Hardware
    Hardware(**kw)


def _config(**kw):
    from analogff.config import from_dict
    from_dict(kw)


@pytest.mark.parametrize("make, kw, name", [
    (_device, {"c2c": -1.0}, "c2c"), (_device, {"states": 1}, "states"),
    (_periphery, {"adc_bits": 40}, "adc_bits"), (_periphery, {"out_bound": 0.0}, "out_bound"),
    (_hardware, {"tile_rows": 0}, "hardware field tile_rows"),
    (_hardware, {"clock_hz": -1.0}, "hardware field clock_hz"),
    (_config, {"noise": 11.0}, "noise"), (_config, {"limit": 5}, "limit"),
])
def test_every_boundary_refuses_in_the_same_words(make, kw, name):
    """Devices, periphery, chip and run config: one line, the field, the value as given and
    the allowed range, in one wording."""
    with pytest.raises(ValueError) as e:
        make(**kw)
    value = next(iter(kw.values()))
    assert re.fullmatch(rf"{re.escape(name)} = {re.escape(repr(value))} is out of range; "
                        r"allowed (integers \S+|[\[(]\S+, \S+[\])])( .+)?", str(e.value)), \
        str(e.value)


@pytest.mark.parametrize("make, kw, name", [
    (_device, {"response": "cubic"}, "response"), (_periphery, {"update": "x"}, "update"),
    (_hardware, {"adc_type": "x"}, "hardware field adc_type"),
    (_config, {"update": "x"}, "update"),
])
def test_every_boundary_refuses_a_choice_in_the_same_words(make, kw, name):
    with pytest.raises(ValueError) as e:
        make(**kw)
    assert str(e.value).startswith(f"{name} = 'x' is not allowed; choose one of: ") or \
        str(e.value).startswith(f"{name} = 'cubic' is not allowed; choose one of: ")


@pytest.mark.parametrize("make, kw, text", [
    (_hardware, {"power_gating": 1}, "hardware field power_gating = 1 must be true or false"),
    (_hardware, {"dram_type": ""}, "hardware field dram_type = '' must be a non-empty string"),
    (_device, {"name": ""}, "name = '' must be a non-empty string"),
])
def test_every_boundary_refuses_a_flag_or_text_in_the_same_words(make, kw, text):
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        make(**kw)
