"""A chip field set where the rest of the chip gives it nothing to do is refused
(`crossbar.chip.Hardware._refuse_moot_fields`). Each rule is checked against the pricer: the
field must change nothing the pricer returns where it is refused (the base chip priced with
the field's effect undone), and must change something where it is allowed."""

from __future__ import annotations

import pytest

from crossbar.chip import Hardware, HardwareError
from reports.components import Costs

NET = [64, 40, 40, 10]


def _priced(hw: Hardware) -> list:
    """Everything the pricer returns for ``hw`` on PFF and BP, the chip itself left out."""
    from analogff.estimate import estimate

    def flat(d, p=""):
        if isinstance(d, dict):
            return [x for k, v in d.items() if k != "hardware" for x in flat(v, f"{p}.{k}")]
        if isinstance(d, list):
            return [x for i, v in enumerate(d) for x in flat(v, f"{p}[{i}]")]
        return [(p, d)]

    return [flat(estimate(hw, NET, algo, batch=10).to_dict()) for algo in ("pff", "bp")]


class _Unchecked(Hardware):
    """A Hardware that skips the moot-field rules, to price what a refused chip would."""

    def _refuse_moot_fields(self, model: str) -> None:
        pass


# (field, value, context where it has no effect, context where it applies)
RULES = [
    ("adc_design_bits", 10, dict(adc_type="flash"), dict(adc_type="sar")),
    ("sar_clocking", "asynchronous", dict(adc_type="cco"), dict(adc_type="sar")),
    ("input_bit_density", 0.3, dict(input_mode="voltage"), dict(input_mode="bit_serial")),
    ("input_bit_density", 0.3, dict(input_mode="pwm"), dict(input_mode="bit_serial")),
    ("write_charge_c", 5e-15, dict(device="rram-taox"), dict(device="ecram")),
    ("write_charge_c", 5e-15, dict(write_model="channel"), dict(write_model="gate_charge")),
    # 1 µA: below the RRAM's own SET current (V·G_max), so the compliance limit bites
    ("write_current_a", 1e-6, dict(device="ecram"), dict(device="rram-taox")),
    ("write_current_a", 1e-6, dict(device="pcm-gst", write_model="gate_charge"),
     dict(device="pcm-gst", write_model="compliance")),
    ("c_mac", 2e-15, dict(array_type="resistive"), dict(array_type="charge")),
    ("leakage_w_per_mm2", 0.05, dict(leakage_model="per_block"), dict(leakage_model="flat")),
    ("weight_accumulation", "analog", dict(cell_bits=0), dict(cell_bits=2)),
    ("input_accumulation", "analog", dict(input_mode="voltage"),
     dict(input_mode="voltage", input_slice_bits=2)),
    ("input_accumulation", "analog", dict(input_mode="pwm"), dict(input_mode="bit_serial")),
    ("input_slice_bits", 2, dict(input_mode="bit_serial"),
     dict(input_mode="bit_serial", input_accumulation="analog")),
]


@pytest.mark.parametrize("field, value, moot, applies", RULES)
def test_a_field_is_refused_exactly_where_it_changes_nothing(field, value, moot, applies):
    with pytest.raises(HardwareError, match=f"^hardware field {field} = {value!r} has no "
                                            "effect on .*; allowed only with "):
        Hardware(**moot, **{field: value})
    if field != "input_slice_bits":   # the pricer cannot price slices of a bit-serial input
        assert _priced(_Unchecked(**moot, **{field: value})) == _priced(Hardware(**moot))
    base = {"input_mode": "bit_serial"} if field == "input_slice_bits" else {}
    assert _priced(Hardware(**applies, **{field: value})) != _priced(Hardware(**{**base,
                                                                             **applies}))


def test_write_model_auto_is_the_device_family():
    assert Hardware(device="ecram").priced_write_model() == "gate_charge"
    assert Hardware(device="rram-taox").priced_write_model() == "compliance"
    assert Hardware(device="pcm-gst").priced_write_model() == "phase_change"
    assert Hardware(device="ideal").priced_write_model() == "channel"
    assert Hardware(device="ecram", write_model="channel").priced_write_model() == "channel"
    assert Costs(Hardware(device="pcm-gst")).write_model == "phase_change"


@pytest.mark.parametrize("field, value", [("wire_resistance", 2.0)])
def test_unpriced_fields_change_no_price_and_energy_refuses_them(field, value):
    """`crossbar.chip.UNPRICED_FIELDS` act only through a simulated run's events: the pricer
    returns the same for any value, so `analogff energy` refuses them as options."""
    from typer.testing import CliRunner

    from analogff.cli import app
    from crossbar.chip import UNPRICED_FIELDS

    assert field in UNPRICED_FIELDS
    assert _priced(Hardware(**{field: value})) == _priced(Hardware())
    flag = "--" + field.replace("_", "-")
    r = CliRunner().invoke(app, ["energy", flag, str(value)])
    assert r.exit_code == 2
    assert r.output.strip().startswith(f"Error: {flag} only changes a simulated run")
