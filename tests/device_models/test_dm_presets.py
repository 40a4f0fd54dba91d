"""Presets load, cite a source, carry the numbers of their source; bad parameters are refused
with a message that names the field and the allowed range."""

from __future__ import annotations

import math

import pytest

from device_models import (DeviceModel, DeviceParameterError, UnknownPresetError, get_device,
                           list_presets, load_preset, parse_device_toml)

REQUIRED = ["ideal", "rram-taox", "rram-agsi", "pcm-gst", "ecram", "fefet-hzo", "epiram",
            "reram-sb", "gokmen-vlasov"]


def test_required_presets_exist():
    assert set(REQUIRED) <= set(list_presets())


@pytest.mark.parametrize("name", list_presets())
def test_preset_loads_with_source_and_sane_si_values(name):
    d = load_preset(name)
    assert d.name == name
    assert d.source.strip(), f"{name} has no source"
    assert d.description.strip(), f"{name} has no description"
    # SI: conductances between 1 nS-ish and 1 mS, pulses between 100 ps and 1 ms, volts < 10
    assert 1e-10 <= d.g_min < d.g_max <= 1e-3
    for t in (d.t_write_up, d.t_write_down, d.t_read):
        assert 1e-10 <= t <= 1e-3
    for v in (d.v_write_up, d.v_write_down, d.v_read):
        assert 0.05 <= v <= 10
    assert 2 <= d.states <= 20000
    assert 0 <= d.read_noise <= 0.05
    # every non-ideal preset has some read noise; the ideal one is noise-free
    assert (d.read_noise == 0) == (name == "ideal")


# (name, R_on [ohm], on/off, states, c2c fraction of the window per pulse in NeuroSim)
NEUROSIM_ROWS = [
    ("rram-taox", 100e3, 10.0, 128, 0.037),
    ("rram-agsi", 26e6, 12.5, 97, 0.035),
    ("pcm-gst", 4.71e3, 19.8, 100, 0.015),
    ("fefet-hzo", 559e3, 45.0, 32, 0.005),
    ("epiram", 81e3, 50.2, 64, 0.02),
]


@pytest.mark.parametrize("name,r_on,on_off,states,c2c_window", NEUROSIM_ROWS)
def test_neurosim_rows_match_the_table(name, r_on, on_off, states, c2c_window):
    d = load_preset(name)
    assert d.g_max == pytest.approx(1.0 / r_on, rel=1e-3)
    assert d.on_off == pytest.approx(on_off, rel=1e-3)
    assert d.states == states
    assert d.response == "exponential" and d.c2c_model == "additive"
    # NeuroSim's C2C is an absolute std of c2c_window*(G_max-G_min) per pulse; ours is relative
    # to the nominal step (G_max-G_min)/states
    assert d.c2c == pytest.approx(c2c_window * states, rel=0.01)


def test_specific_device_features():
    pcm = load_preset("pcm-gst")
    assert pcm.policy == "potentiate-only"
    assert pcm.drift_nu == pytest.approx(0.05)
    assert pcm.drift_t0 == pytest.approx(20.0)
    assert load_preset("reram-sb").response == "soft-bounds"
    assert load_preset("reram-sb").d2d == pytest.approx(0.3)
    gv = load_preset("gokmen-vlasov")
    assert gv.response == "linear" and gv.d2d == pytest.approx(0.3) and gv.c2c == pytest.approx(0.3)
    assert 1150 <= gv.states <= 1300
    ec = load_preset("ecram")
    assert ec.states == 1000 and ec.response == "linear-step" and ec.gamma_up != ec.gamma_down
    assert 1e-7 <= ec.g_min < ec.g_max <= 1e-4  # a µS-range window
    assert load_preset("ideal").c2c == 0 and load_preset("ideal").d2d == 0


def test_unknown_preset_lists_known_ones():
    with pytest.raises(UnknownPresetError) as e:
        load_preset("no-such-device")
    msg = str(e.value)
    assert "no-such-device" in msg
    for n in REQUIRED:
        assert n in msg


def test_get_device_reads_a_toml_path(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text('[device]\nname = "mine"\nsource = "test"\ng_min = 2e-6\ng_max = 4e-6\n'
                 'states = 50\n', encoding="utf-8")
    d = get_device(str(p))
    assert d.name == "mine" and d.states == 50 and d.g_max == 4e-6


@pytest.mark.parametrize("changes,words", [
    ({"c2c": -0.1}, ["c2c", "-0.1", "[0, 10]"]),
    ({"d2d": -1.0}, ["d2d", "[0, 10]"]),
    ({"read_noise": 11.0}, ["read_noise", "[0, 10]"]),
    ({"g_min": 5e-6, "g_max": 5e-6}, ["g_max", "g_min", "greater"]),
    ({"g_min": 6e-6, "g_max": 5e-6}, ["g_max", "g_min"]),
    ({"g_min": -1e-6}, ["g_min", "[0, inf) S"]),
    ({"endurance": -1.0}, ["endurance", "[0, inf)"]),
    ({"drift_t0": 0.0}, ["drift_t0", "(0, inf) s"]),
    ({"response": "cubic"}, ["response", "cubic", "linear", "soft-bounds", "exponential"]),
    ({"policy": "sometimes"}, ["policy", "potentiate-only"]),
    ({"states": 1}, ["states", "1", "integers 2..1000000000"]),
    ({"states": 2.5}, ["states", "integer"]),
    ({"up_down": 1.0}, ["up_down", "(-1, 1)"]),
    ({"nonlinearity_up": -50.5}, ["nonlinearity_up", "[-50, 50]"]),
    ({"reference_state": 1.0}, ["reference_state", "(0, 1)"]),
    ({"gamma_up": -0.1}, ["gamma_up", "[0, 10]"]),
    ({"c2c_model": "cubic"}, ["c2c_model", "multiplicative", "additive"]),
    ({"bound_low_d2d": -0.1}, ["bound_low_d2d", "[0, 10]"]),
    ({"write_noise": -1.0}, ["write_noise", "[0, 1000]"]),
    ({"drift_nu": 2.0}, ["drift_nu", "[0, 1]"]),
    ({"t_write_up": 0.0}, ["t_write_up", "(0, 1]", "s"]),
    ({"v_write_down": -1.0}, ["v_write_down", "V"]),
    ({"stuck_off": 0.7, "stuck_on": 0.6}, ["stuck_off + stuck_on"]),
    ({"c2c": math.nan}, ["c2c = nan is out of range", "[0, 10]"]),
])
def test_validation_names_field_and_range(changes, words):
    with pytest.raises(DeviceParameterError) as e:
        DeviceModel(**changes)
    msg = str(e.value)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"


def test_toml_errors_name_the_origin_and_field():
    with pytest.raises(DeviceParameterError, match=r"here: c2c = -1.0 is out of range"):
        parse_device_toml("[device]\nc2c = -1.0\n", origin="here")
    with pytest.raises(DeviceParameterError, match="colour"):
        parse_device_toml('[device]\ncolour = "red"\n', origin="here")
    with pytest.raises(DeviceParameterError, match="not valid TOML"):
        parse_device_toml("[device\n", origin="here")
