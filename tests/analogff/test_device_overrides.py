"""Device overrides (c2c, d2d, nonlinearity, asymmetry, drift, stuck, endurance): config field,
sweep axis, device the run simulates, one-line refusal out of range, hashes kept."""

from __future__ import annotations

import hashlib
import json

import pytest

from analogff.config import SimConfig, from_dict
from analogff.device_overrides import DEVICE_FIELDS
from analogff.errors import ConfigError
from analogff.experiment import make_device
from device_models import get_device


def test_overrides_reach_the_simulated_device_unchanged():
    vals = {"c2c": 0.05, "d2d": 0.2, "nonlinearity_up": 0.5, "nonlinearity_down": 1.5,
            "up_down": -0.3, "prog_noise": 0.02, "drift_nu": 0.06, "stuck_off": 0.01,
            "stuck_on": 0.02, "endurance": 1e6}
    assert set(vals) | {"gamma_up", "gamma_down"} == set(DEVICE_FIELDS)
    cfg = from_dict({**{k: str(v) for k, v in vals.items()}, "device": "rram-taox"})
    dev = make_device(cfg)
    for k, v in vals.items():
        assert getattr(dev, k) == v
    base = get_device("rram-taox")
    assert make_device(from_dict({"device": "rram-taox"})) == base


@pytest.mark.parametrize("key, value", [("c2c", -0.1), ("up_down", 1.0), ("stuck_on", 2.0),
                                        ("drift_nu", 5.0), ("endurance", -1)])
def test_out_of_range_is_one_line_naming_the_field(key, value):
    with pytest.raises(ConfigError) as ei:
        from_dict({key: value})
    msg = str(ei.value)
    assert key in msg and "\n" not in msg and "allowed" in msg


def test_unset_overrides_keep_the_hash_and_a_set_one_changes_it():
    cfg = SimConfig()
    # fields added later are left out of the hash at their default (sar_clocking too)
    d = {k: v for k, v in cfg.to_dict().items() if k not in DEVICE_FIELDS
         and k != "eval_times" and not (k == "sar_clocking" and v == "synchronous")}
    blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
    assert cfg.config_hash() == hashlib.sha256(blob.encode()).hexdigest()[:16]
    assert from_dict({"c2c": 0.1}).config_hash() != cfg.config_hash()


def test_a_shape_parameter_the_response_does_not_read_is_refused():
    """ECRAM's preset uses the linear-step response: nonlinearity_* would change nothing."""
    with pytest.raises(ConfigError) as ei:
        from_dict({"device": "ecram", "nonlinearity_down": 0.5})
    msg = str(ei.value)
    assert "no effect" in msg and "linear-step" in msg and "gamma_down" in msg
    dev = make_device(from_dict({"device": "ecram", "gamma_up": 0.2, "gamma_down": 0.3}))
    assert (dev.gamma_up, dev.gamma_down) == (0.2, 0.3)
    with pytest.raises(ConfigError, match="exponential"):
        from_dict({"device": "rram-taox", "gamma_up": 0.2})
