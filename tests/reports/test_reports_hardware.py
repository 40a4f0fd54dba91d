"""Hardware descriptions: validation and TOML loading with one-line errors naming the field."""

from __future__ import annotations

import pytest

from reports import Hardware, HardwareError


def _toml(tmp_path, text):
    p = tmp_path / "hw.toml"
    p.write_text(text)
    return p


def test_defaults_and_print():
    hw = Hardware()
    assert hw.node_nm == 22 and hw.adc_type == "sar"
    s = str(hw)
    assert "node_nm" in s and "22 nm" in s and "cols_per_adc" in s
    assert hw.scope == "macro" and hw.input_bit_density is None and "scope" in s


def test_from_toml_top_level_and_table(tmp_path):
    hw = Hardware.from_toml(_toml(tmp_path, 'node_nm = 65\nadc_type = "flash"\nv_read = 1\n'))
    assert hw.node_nm == 65 and hw.adc_type == "flash" and hw.v_read == 1.0
    hw = Hardware.from_toml(_toml(tmp_path, '[hardware]\ntile_rows = 128\nprogram_verify = true\n'))
    assert hw.tile_rows == 128 and hw.program_verify


@pytest.mark.parametrize("text, field", [
    ("output_bits = 8\n", "output_bits"),                    # unknown field
    ("adc_bits = 0\n", "adc_bits"),              # out of range
    ("adc_bits = 4.5\n", "adc_bits"),            # wrong type
    ('adc_type = "pipeline"\n', "adc_type"),           # not allowed
    ("node_nm = 28\n", "node_nm"),                     # not a tabulated node
    ('device = "no-such-device"\n', "device"),         # unknown preset
    ("cols_per_adc = -1\n", "cols_per_adc"),
    ('program_verify = "yes"\n', "program_verify"),
    ("[hardware]\nfoo = 1\n", "foo"),
    ('input_mode = "pulse"\n', "input_mode"),
    ('scope = "chip"\n', "scope"),
    ("input_bit_density = 1.5\n", "input_bit_density"),
    ('input_bit_density = "sparse"\n', "input_bit_density"),
])
def test_bad_fields_name_the_field(tmp_path, text, field):
    with pytest.raises(HardwareError) as ei:
        Hardware.from_toml(_toml(tmp_path, text))
    msg = str(ei.value)
    assert field in msg and "\n" not in msg


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(HardwareError, match="not valid TOML"):
        Hardware.from_toml(_toml(tmp_path, "node_nm = = 3\n"))
    with pytest.raises(HardwareError, match="does not exist"):
        Hardware.from_toml(tmp_path / "missing.toml")


def test_example_file_loads():
    from pathlib import Path

    import reports
    p = Path(reports.__file__).parent / "hardware_example.toml"
    from device_models import list_presets
    if "rram-taox" not in list_presets():
        pytest.skip("rram-taox preset not installed")
    hw = Hardware.from_toml(p)
    assert hw.device == "rram-taox" and hw.adc_bits_transposed == 10


# ---- one chip: contradictions, simulator ranges, no fallback -------------------------------
@pytest.mark.parametrize("kw, words", [
    (dict(tile_cols=4), ["cols_per_adc = 8", "tile_cols = 4"]),
    (dict(rows_active=300), ["rows_active = 300", "tile_rows = 256"]),
    (dict(device="no-such-device"), ["device", "no-such-device"]),
    (dict(out_bound=0.0), ["out_bound"]),
])
def test_contradictions_and_unknown_devices_are_refused(kw, words):
    with pytest.raises(HardwareError) as ei:
        Hardware(**kw)
    msg = str(ei.value)
    assert "\n" not in msg and all(w in msg for w in words)


def test_simulator_and_pricer_ranges_agree_or_refuse():
    from crossbar import Periphery

    # every converter width the pricer takes and the simulator simulates builds both
    for b in range(2, 17):
        Hardware(dac_bits=b, adc_bits=b).check_simulable()
        Periphery(dac_bits=b, adc_bits=b)
    # outside the common range: one line naming both ranges, never a silent substitute
    for kw in (dict(adc_bits=1), dict(dac_bits=1), dict(adc_bits_transposed=10)):
        with pytest.raises(HardwareError) as ei:
            Hardware(**kw).check_simulable()
        assert "\n" not in str(ei.value) and "simulat" in str(ei.value)
    from crossbar.chip import check_simulable_field
    with pytest.raises(HardwareError, match=r"2\.\.16 \(simulator 2\.\.24, pricer 1\.\.16\)"):
        check_simulable_field("adc_bits", 20)


def test_no_hardware_for_run_fallback_remains():
    import reports
    import reports.hardware as rh
    assert not hasattr(reports, "hardware_for_run") and not hasattr(rh, "hardware_for_run")


# ---- priced per matrix, as simulated ----------------------------------------------------------
def _two_matrix_ledger(adc_w1=8, adc_t_w2=None):
    info = {"analog": True, "rows": 16, "cols": 8, "tile_rows": 16, "tile_cols": 8,
            "n_tiles": 1, "dac_bits": 8, "adc_bits": 8, "device": "ideal", "v_read": 0.2,
            "t_read": 1e-8, "g_min": 1e-6, "g_max": 1e-5, "mapping": "differential",
            "adc_type": "sar", "cols_per_adc": 4}
    w1 = {**info, "adc_bits": adc_w1}
    w2 = dict(info)
    if adc_t_w2 is not None:
        w2["adc_bits_transposed"] = adc_t_w2
    return {"matrices": {"W1": w1, "W2": w2, "digital": {"analog": False}},
            "entries": [
                {"phase": "positive", "matrix": "W1", "mvm_vectors": 10, "macs": 1280,
                 "dac_conversions": 160, "adc_conversions": 80, "cell_read_energy_j": 1e-14},
                {"phase": "positive", "matrix": "W2", "mvm_vectors": 10, "macs": 1280,
                 "dac_conversions": 160, "adc_conversions": 80, "cell_read_energy_j": 1e-14},
                {"phase": "backward", "matrix": "W2", "transposed_vectors": 5, "macs": 640,
                 "dac_conversions": 40, "adc_conversions": 80, "cell_read_energy_j": 5e-15}]}


def test_one_matrix_adc_bits_change_only_its_adc_energy_by_the_converter_law():
    from reports import price_ledger
    from reports.components import Costs

    hw = Hardware(device="ideal", tile_rows=16, tile_cols=8, cols_per_adc=4, adc_type="sar")
    c = Costs(hw)
    a = price_ledger(_two_matrix_ledger(8), hw)
    b = price_ledger(_two_matrix_ledger(5), hw)
    assert b["by_matrix_j"]["W2"] == a["by_matrix_j"]["W2"]           # untouched

    def adc_of(led, name):
        only = {"matrices": led["matrices"],
                "entries": [e for e in led["entries"] if e["matrix"] == name]}
        return price_ledger(only, hw)["by_component_j"]["adc"]

    ra = adc_of(_two_matrix_ledger(8), "W1")
    rb = adc_of(_two_matrix_ledger(5), "W1")
    assert rb / ra == pytest.approx(c.e_adc(5) / c.e_adc(8), rel=1e-12)
    assert b["by_component_j"]["adc"] - a["by_component_j"]["adc"] == pytest.approx(rb - ra,
                                                                                    rel=1e-9)
    # the chip's default bits do not reach a matrix that recorded its own
    assert price_ledger(_two_matrix_ledger(8), hw.replace(adc_bits=12))["by_matrix_j"]["W1"] == \
        a["by_matrix_j"]["W1"]


def test_transposed_reads_are_priced_at_the_recorded_bits():
    from reports import price_ledger
    from reports.components import Costs

    hw = Hardware(device="ideal", tile_rows=16, tile_cols=8, cols_per_adc=4)
    c = Costs(hw)

    def back_adc(led):
        only = {"matrices": led["matrices"],
                "entries": [e for e in led["entries"] if e["phase"] == "backward"]}
        return price_ledger(only, hw)["by_component_j"]["adc"]

    same = back_adc(_two_matrix_ledger())                 # no record: the matrix's adc_bits
    ten = back_adc(_two_matrix_ledger(adc_t_w2=10))
    assert ten / same == pytest.approx(c.e_adc(10) / c.e_adc(8), rel=1e-12)
    # the chip's adc_bits_transposed does not override what the matrix recorded
    assert back_adc(_two_matrix_ledger()) == price_ledger(
        {"matrices": _two_matrix_ledger()["matrices"],
         "entries": [_two_matrix_ledger()["entries"][2]]},
        hw.replace(adc_bits_transposed=12))["by_component_j"]["adc"]


# ---- properties: one schema for every field ---------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as hs  # noqa: E402

from crossbar.chip import field_names, parse_field  # noqa: E402

_ANY = hs.one_of(hs.integers(-10**6, 10**6), hs.floats(allow_nan=True, allow_infinity=True),
                 hs.text(max_size=12), hs.booleans(), hs.none())


@settings(max_examples=300, deadline=None)
@given(name=hs.sampled_from(field_names()), value=_ANY)
def test_any_value_of_any_field_is_kept_or_refused_in_one_line(name, value):
    try:
        hw = Hardware.from_dict({name: value})
    except HardwareError as exc:
        msg = str(exc)
        assert "\n" not in msg and name.split("_")[0] in msg
        return
    got = getattr(hw, name)
    # kept as given (ints may become floats for float fields: the same number)
    assert got == value or (isinstance(value, int) and float(value) == got)
    assert Hardware.from_dict(hw.to_dict()) == hw                    # round trip


@settings(max_examples=200, deadline=None)
@given(name=hs.sampled_from(field_names()), text=hs.text(max_size=10))
def test_strings_parse_to_the_field_type_or_refuse_in_one_line(name, text):
    try:
        v = parse_field(name, text)
    except HardwareError as exc:
        assert "\n" not in str(exc) and name in str(exc)
        return
    assert v is None or isinstance(v, (int, float, str, bool))


@settings(max_examples=100, deadline=None)
@given(adc=hs.integers(-5, 40), dac=hs.integers(-5, 40), node=hs.sampled_from([7, 22, 28, 65]))
def test_simconfig_flat_round_trip_and_refusals(adc, dac, node):
    from analogff.config import from_dict
    from analogff.errors import ConfigError

    try:
        cfg = from_dict({"adc_bits": adc, "dac_bits": dac, "node_nm": node})
    except ConfigError as exc:
        assert "\n" not in str(exc)
        assert not (2 <= adc <= 16 and 2 <= dac <= 16 and node != 28)
        return
    assert 2 <= adc <= 16 and 2 <= dac <= 16 and node != 28
    again = from_dict(cfg.to_dict())
    assert again == cfg and again.config_hash() == cfg.config_hash()
    assert (cfg.adc_bits, cfg.hardware.dac_bits, cfg.node_nm) == (adc, dac, node)
