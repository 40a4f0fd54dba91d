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
