"""Reference (pure NumPy) implementation of the pulse response defined in `device_models.model`.

This is the readable, slow version of what a crossbar kernel does to one device per pulse. It
exists so that faster implementations (the Numba kernels in ``crossbar``) can be checked against
it, and for plots (``analogff devices plot``). It follows the module docstring of
`device_models.model` literally:

State: ``w = (g - g_min) / (g_max - g_min)`` in [0, 1]; ``s = 1 / states``; ``a = up_down``.

* ``linear``      up ``+s (1 + a)``, down ``-s (1 - a)``
* ``soft-bounds`` up ``+2 s (1 + a)(1 - w)``, down ``-2 s (1 - a) w``
* ``exponential`` with ``A = states / nonlinearity`` and ``b = 1 / (1 - exp(-states / A))``:
  up ``+(b - w)(1 - exp(-1/A_up))``, down ``-(b - (1 - w))(1 - exp(-1/A_down))``; a direction
  whose nonlinearity is 0 uses the linear step of that direction, ``s (1 +/- a)``.
  ``up_down`` does not enter the exponential formula itself (asymmetry is expressed by
  ``nonlinearity_up != nonlinearity_down``); all bundled exponential presets have ``up_down = 0``.

The nominal step is multiplied by the device's fixed factor ``d2d_factor = max(1 + d2d * N(0, 1), 0)``
and by ``1 + c2c * eps`` with ``eps ~ N(0, 1)`` drawn per pulse. Neither factor is clipped, so a
large c2c can make a single pulse move the state against its polarity (as additive
cycle-to-cycle noise does in NeuroSim and aihwkit); the new state is always clipped into [0, 1].
Devices with ``policy = "potentiate-only"`` ignore down pulses (the state does not change).
"""

from __future__ import annotations

import math

import numpy as np

from .model import DeviceModel

__all__ = ["nominal_step", "pulse_step", "pulse_train", "to_conductance", "to_state"]


def _expo_constants(nonlinearity: float, states: int) -> tuple[float, float]:
    """``(b, 1 - exp(-1/A))`` for nonlinearity = P_max / A with P_max = states."""
    a_param = states / nonlinearity
    b = 1.0 / (1.0 - math.exp(-states / a_param))
    return b, -math.expm1(-1.0 / a_param)


def nominal_step(device: DeviceModel, w, up):
    """Noise-free step magnitude (>= 0 for w in [0, 1]) of one pulse at state ``w``.

    ``up`` is a bool or a boolean array broadcastable against ``w``. Returns an array of the
    broadcast shape; the sign of the move is +step for up pulses and -step for down pulses.
    """
    w = np.asarray(w, dtype=np.float64)
    up = np.asarray(up, dtype=bool)
    s = 1.0 / device.states
    a = device.up_down
    r = device.response
    if r == "linear":
        step_up = np.full_like(w, s * (1.0 + a))
        step_dn = np.full_like(w, s * (1.0 - a))
    elif r == "soft-bounds":
        step_up = 2.0 * s * (1.0 + a) * (1.0 - w)
        step_dn = 2.0 * s * (1.0 - a) * w
    elif r == "exponential":
        if device.nonlinearity_up > 0:
            b_up, k_up = _expo_constants(device.nonlinearity_up, device.states)
            step_up = (b_up - w) * k_up
        else:
            step_up = np.full_like(w, s * (1.0 + a))
        if device.nonlinearity_down > 0:
            b_dn, k_dn = _expo_constants(device.nonlinearity_down, device.states)
            step_dn = (b_dn - (1.0 - w)) * k_dn
        else:
            step_dn = np.full_like(w, s * (1.0 - a))
    else:  # pragma: no cover - DeviceModel validates the response
        raise ValueError(f"unknown response {r!r}")
    return np.where(up, step_up, step_dn)


def pulse_step(device: DeviceModel, w, up, c2c_eps=None, d2d_factor=None):
    """The state after one pulse per device: a new array, clipped into [0, 1].

    Parameters
    ----------
    device : the `DeviceModel` (its ``c2c`` scales ``c2c_eps``).
    w : normalised state(s) in [0, 1] (scalar or array).
    up : True for a potentiation pulse, False for depression; or a boolean array.
    c2c_eps : standard-normal draw(s) for this pulse's cycle-to-cycle noise, broadcastable
        to ``w``; ``None`` means no cycle-to-cycle noise. The step is multiplied by
        ``1 + device.c2c * c2c_eps``.
    d2d_factor : the device's fixed step multiplier ``1 + d2d * N(0, 1)`` (drawn once per
        device by the caller); ``None`` means 1.
    """
    w = np.asarray(w, dtype=np.float64)
    up = np.asarray(up, dtype=bool)
    step = nominal_step(device, w, up)
    if d2d_factor is not None:
        step = step * np.asarray(d2d_factor, dtype=np.float64)
    if c2c_eps is not None and device.c2c != 0.0:
        step = step * (1.0 + device.c2c * np.asarray(c2c_eps, dtype=np.float64))
    if device.policy == "potentiate-only":
        step = np.where(up, step, 0.0)
    new = np.where(up, w + step, w - step)
    return np.clip(new, 0.0, 1.0)


def to_conductance(device: DeviceModel, w):
    """Conductance [S] of normalised state(s) ``w``."""
    return device.g_min + np.asarray(w, dtype=np.float64) * device.g_range


def to_state(device: DeviceModel, g):
    """Normalised state of conductance(s) ``g`` [S] (not clipped)."""
    return (np.asarray(g, dtype=np.float64) - device.g_min) / device.g_range


def pulse_train(device: DeviceModel, n_up: int, n_down: int, n_devices: int = 1,
                seed: int = 0) -> np.ndarray:
    """Conductance [S] of ``n_devices`` devices through ``n_up`` up then ``n_down`` down pulses.

    Every device starts at ``g_min``. Returns an array of shape
    ``(n_devices, n_up + n_down + 1)``; column 0 is the start, column k the conductance after
    k pulses. Random numbers come from ``numpy.random.default_rng(seed)``: first the d2d
    factors ``1 + d2d * N(0, 1)``, one per device, then for each pulse one standard normal per
    device for the cycle-to-cycle noise (drawn even when ``c2c = 0``, so that the stream of a
    given seed does not depend on the device's parameters). For the noise-free nominal curve,
    pass ``device.replace(c2c=0.0, d2d=0.0)``.
    """
    for name, v in (("n_up", n_up), ("n_down", n_down), ("n_devices", n_devices)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    if n_devices < 1:
        raise ValueError(f"n_devices must be at least 1, got {n_devices}")
    rng = np.random.default_rng(seed)
    d2d_factor = np.maximum(1.0 + device.d2d * rng.standard_normal(n_devices), 0.0)
    n = n_up + n_down
    out = np.empty((n_devices, n + 1), dtype=np.float64)
    w = np.zeros(n_devices, dtype=np.float64)
    out[:, 0] = w
    for k in range(n):
        eps = rng.standard_normal(n_devices)
        w = pulse_step(device, w, k < n_up, c2c_eps=eps, d2d_factor=d2d_factor)
        out[:, k + 1] = w
    return to_conductance(device, out)
