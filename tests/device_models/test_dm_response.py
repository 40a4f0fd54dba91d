"""The reference pulse response (device_models.response) does what model.py's docstring says."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_models import DeviceModel, load_preset
from device_models.response import nominal_step, pulse_step, pulse_train, to_state

# ---- strategies ------------------------------------------------------------------------------


@st.composite
def devices(draw, response=None, policy=None, noise=True):
    resp = response or draw(st.sampled_from(["linear", "soft-bounds", "exponential"]))
    # the nonlinearities only where the response reads them (DeviceModel refuses them elsewhere)
    nl = st.one_of(st.just(0.0), st.floats(1e-4, 50.0)) if resp == "exponential" else \
        st.just(0.0)
    kw = dict(
        g_min=draw(st.floats(0.0, 1e-5)),
        states=draw(st.integers(2, 5000)),
        response=resp,
        up_down=draw(st.floats(-0.99, 0.99)),
        nonlinearity_up=draw(nl),
        nonlinearity_down=draw(nl),
        policy=policy or draw(st.sampled_from(["bidirectional", "potentiate-only"])),
    )
    kw["g_max"] = kw["g_min"] + draw(st.floats(1e-9, 1e-3))
    if noise:
        kw["c2c"] = draw(st.floats(0.0, 10.0))
        kw["d2d"] = draw(st.floats(0.0, 1.0))
    return DeviceModel(**kw)


def _run(device, ups, seed, n=8, w0=None):
    """Apply the pulse sequence ``ups`` to n devices with noise; return all states (len+1, n)."""
    rng = np.random.default_rng(seed)
    d2d = 1.0 + device.d2d * rng.standard_normal(n)
    w = rng.uniform(0, 1, n) if w0 is None else np.full(n, float(w0))
    out = [w]
    for up in ups:
        w = pulse_step(device, w, up, c2c_eps=rng.standard_normal(n), d2d_factor=d2d)
        out.append(w)
    return np.array(out)


# ---- bounds ----------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(device=devices(), ups=st.lists(st.booleans(), max_size=200), seed=st.integers(0, 2**32 - 1))
def test_any_pulse_sequence_stays_in_bounds(device, ups, seed):
    ws = _run(device, ups, seed)
    assert np.all(np.isfinite(ws))
    assert np.all((ws >= 0.0) & (ws <= 1.0))


@settings(max_examples=40, deadline=None)
@given(device=devices(), n_up=st.integers(0, 300), n_down=st.integers(0, 300),
       n_devices=st.integers(1, 4), seed=st.integers(0, 1000))
def test_pulse_train_stays_in_the_conductance_window(device, n_up, n_down, n_devices, seed):
    g = pulse_train(device, n_up, n_down, n_devices=n_devices, seed=seed)
    assert g.shape == (n_devices, n_up + n_down + 1)
    assert np.all(g[:, 0] == device.g_min)
    tol = 1e-12 * device.g_max
    assert np.all(g >= device.g_min - tol) and np.all(g <= device.g_max + tol)


# ---- linear ----------------------------------------------------------------------------------


@pytest.mark.parametrize("states", [2, 3, 7, 128, 1000, 1250])
def test_linear_takes_exactly_states_pulses_from_gmin_to_gmax(states):
    d = DeviceModel(states=states, response="linear", g_min=1e-6, g_max=11e-6)
    g = pulse_train(d, states + 5, states + 5)[0]
    w = to_state(d, g)
    assert np.allclose(np.diff(w[: states + 1]), 1.0 / states, rtol=1e-9, atol=1e-12)
    assert w[states - 1] < 1.0 - 0.5 / states
    assert w[states] == pytest.approx(1.0, abs=1e-9)
    # hard clipped at g_max (w[states] itself may be 1 - 1ulp after summing `states` steps)
    assert np.all(w[states + 1:states + 6] == 1.0)
    top = states + 5
    assert w[top + states] == pytest.approx(0.0, abs=1e-9)  # and back down in `states` pulses
    assert w[top + states - 1] > 0.5 / states


@given(a=st.floats(-0.99, 0.99), states=st.integers(2, 10_000), w=st.floats(0, 1))
def test_linear_asymmetry(a, states, w):
    d = DeviceModel(states=states, up_down=a)
    assert nominal_step(d, w, True) == pytest.approx((1 + a) / states)
    assert nominal_step(d, w, False) == pytest.approx((1 - a) / states)


# ---- saturating responses --------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(states=st.integers(2, 200), a=st.floats(-0.5, 0.5))
def test_soft_bounds_step_shrinks_and_approaches_the_bounds(states, a):
    d = DeviceModel(states=states, response="soft-bounds", up_down=a)
    # (1 - 2s(1 -/+ a))^n <= exp(-2 n (1 - |a|) / states) = exp(-12) for this n
    n = int(6 * states / (1 - abs(a))) + 5
    w = to_state(d, pulse_train(d, n, n)[0])
    if 2 * (1 + a) / states < 1:  # no overshoot: the analytic curve 1 - (1 - 2s(1+a))^k
        k = np.arange(n + 1)
        assert np.allclose(w[: n + 1], 1 - (1 - 2 * (1 + a) / states) ** k, atol=1e-9)
        steps = np.diff(w[: n + 1])
        assert np.all(steps >= 0) and np.all(np.diff(steps) <= 1e-15)
    assert w[n] > 1 - 1e-5                    # approaches g_max
    assert w[-1] < 1e-5                       # and, going down, g_min
    assert nominal_step(d, 0.5, True) == pytest.approx((1 + a) / states)


@settings(max_examples=80, deadline=None)
@given(states=st.integers(2, 3000), nl=st.floats(1e-3, 50.0))
def test_exponential_reaches_gmax_in_states_pulses_with_shrinking_steps(states, nl):
    d = DeviceModel(states=states, response="exponential", nonlinearity_up=nl,
                    nonlinearity_down=nl)
    w = to_state(d, pulse_train(d, states + 3, 0)[0])
    steps = np.diff(w[: states + 1])
    assert steps[0] > 0 and np.all(steps >= 0)
    assert np.all(np.diff(steps) <= 1e-15)            # step shrinks monotonically
    # NeuroSim's G(P) = B(1 - exp(-P/A)) + G_min with A = states/nl reaches G_max at P = states
    assert w[states] == pytest.approx(1.0, abs=1e-9)
    # saturated: stays at g_max (for huge nl, b rounds to 1 and it is reached only asymptotically)
    assert np.all(w[states + 1:] >= 1.0 - 1e-9) and np.all(np.diff(w) >= 0)
    # ratio of last to first step is exp(-nl) (for the continuous curve)
    p = np.arange(states + 1)
    b = 1 / (1 - math.exp(-nl))
    assert np.allclose(w[: states + 1], np.minimum(b * (1 - np.exp(-p * nl / states)), 1.0),
                       atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(states=st.integers(2, 1000), nl=st.floats(1e-3, 20.0), n=st.integers(1, 400))
def test_exponential_depression_mirrors_potentiation(states, nl, n):
    up = DeviceModel(states=states, response="exponential", nonlinearity_up=nl)
    dn = DeviceModel(states=states, response="exponential", nonlinearity_down=nl)
    w_up = np.zeros(1)
    w_dn = np.ones(1)
    for _ in range(n):
        w_up = pulse_step(up, w_up, True)
        w_dn = pulse_step(dn, w_dn, False)
        assert w_dn[0] == pytest.approx(1.0 - w_up[0], abs=1e-9)


def test_exponential_with_zero_nonlinearity_is_linear_and_continuous():
    lin = DeviceModel(states=100, response="exponential")
    assert nominal_step(lin, 0.3, True) == pytest.approx(0.01)
    assert nominal_step(lin, 0.3, False) == pytest.approx(0.01)
    tiny = lin.replace(nonlinearity_up=1e-6, nonlinearity_down=1e-6)
    for w in (0.0, 0.5, 1.0):
        assert nominal_step(tiny, w, True) == pytest.approx(0.01, rel=1e-5)
        assert nominal_step(tiny, w, False) == pytest.approx(0.01, rel=1e-5)


@pytest.mark.parametrize("name", ["rram-taox", "rram-agsi", "fefet-hzo", "epiram"])
def test_exponential_presets_nominal_curve_climbs_and_falls(name):
    d = load_preset(name).nominal()
    g = pulse_train(d, d.states, d.states)[0]
    assert g[d.states] == pytest.approx(d.g_max, rel=1e-9)
    assert g[-1] == pytest.approx(d.g_min, rel=1e-6, abs=1e-9 * d.g_range)
    assert np.all(np.diff(g[: d.states + 1]) > 0) and np.all(np.diff(g[d.states:]) < 0)


# ---- variability -----------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.05, 0.1, 0.2])
@pytest.mark.parametrize("kind", ["d2d", "c2c"])
def test_step_factor_spread_has_the_set_std(kind, sigma):
    n = 40_000
    d = DeviceModel(states=100, **{kind: sigma})
    g = pulse_train(d, 1, 0, n_devices=n, seed=123)
    factor = to_state(d, g[:, 1]) * d.states  # first step / nominal step
    se_std = sigma / math.sqrt(2 * (n - 1))   # standard error of a normal sample std
    assert abs(factor.std(ddof=1) - sigma) < 5 * se_std
    assert abs(factor.mean() - 1.0) < 5 * sigma / math.sqrt(n)


def test_d2d_factor_is_fixed_per_device_and_c2c_varies_per_pulse():
    d = DeviceModel(states=1000, d2d=0.3)
    w = to_state(d, pulse_train(d, 50, 0, n_devices=200, seed=1))
    steps = np.diff(w, axis=1)
    assert np.allclose(steps, steps[:, :1])                    # same step every pulse
    assert steps[:, 0].std() > 0.2 / 1000                      # but different per device
    d = DeviceModel(states=1000, c2c=0.3)
    w = to_state(d, pulse_train(d, 50, 0, n_devices=200, seed=1))
    steps = np.diff(w, axis=1)
    assert steps.std(axis=1).min() > 0.1 / 1000                # varies from pulse to pulse


def test_pulse_train_is_reproducible_and_seeded():
    d = load_preset("reram-sb")
    a = pulse_train(d, 30, 30, n_devices=3, seed=7)
    assert np.array_equal(a, pulse_train(d, 30, 30, n_devices=3, seed=7))
    assert not np.array_equal(a, pulse_train(d, 30, 30, n_devices=3, seed=8))


def test_pulse_train_rejects_bad_counts():
    d = DeviceModel()
    with pytest.raises(ValueError, match="n_up"):
        pulse_train(d, -1, 0)
    with pytest.raises(ValueError, match="n_devices"):
        pulse_train(d, 1, 1, n_devices=0)


# ---- policy ----------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(device=devices(policy="potentiate-only"), ups=st.lists(st.booleans(), max_size=150),
       seed=st.integers(0, 2**32 - 1))
def test_potentiate_only_refuses_down_pulses(device, ups, seed):
    ws = _run(device, ups, seed)
    for k, up in enumerate(ups):
        if not up:
            assert np.array_equal(ws[k + 1], ws[k])


@settings(max_examples=60, deadline=None)
@given(device=devices(policy="potentiate-only", noise=False),
       ups=st.lists(st.booleans(), max_size=150))
def test_potentiate_only_without_noise_never_moves_down(device, ups):
    ws = _run(device, ups, seed=0, n=4)
    assert np.all(np.diff(ws, axis=0) >= 0)


def test_pcm_preset_down_pulses_do_nothing():
    d = load_preset("pcm-gst")
    g = pulse_train(d, 40, 60, n_devices=5, seed=3)
    assert np.all(g[:, 40:] == g[:, 40:41])


def test_pulse_step_accepts_polarity_arrays():
    d = DeviceModel(states=10)
    w = pulse_step(d, np.array([0.5, 0.5, 0.0, 1.0]), np.array([True, False, False, True]))
    assert np.allclose(w, [0.6, 0.4, 0.0, 1.0])


@pytest.mark.parametrize("response, field, value, reader", [
    ("linear-step", "nonlinearity_up", 2.0, "exponential"),
    ("linear", "gamma_down", 0.3, "linear-step"),
    ("exponential", "gamma_up_d2d", 0.1, "linear-step"),   # the spread of a slope it lacks
])
def test_a_shape_field_the_response_does_not_read_is_refused(response, field, value, reader,
                                                             tmp_path):
    """Set on a device whose response never reads it, the field would change nothing (a
    device file's nonlinearity on ECRAM ran exactly as ECRAM): refused in one line."""
    from device_models import DeviceParameterError, get_device

    msg = f"{field} = {value!r} has no effect on device 'd' (its response is {response}"
    with pytest.raises(DeviceParameterError, match=re.escape(msg)) as e:
        DeviceModel(name="d", response=response, **{field: value})
    assert str(e.value).endswith(f"{field} applies to the {reader} response")
    DeviceModel(name="d", response=reader, **{field: value})        # where it is read: used
    f = tmp_path / "d.toml"
    f.write_text(f'[device]\nname = "d"\nresponse = "{response}"\n{field} = {value}\n')
    with pytest.raises(DeviceParameterError, match=re.escape(msg)):
        get_device(str(f))
