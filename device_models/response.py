"""Reference (pure NumPy) implementation of the pulse response defined in `device_models.model`.

This is the readable, slow version of what a crossbar kernel does to one device per pulse. It
exists so that faster implementations (the Numba kernels in ``crossbar``) can be checked against
it, and for plots (``analogff devices plot``). The step laws come from the response classes
(`device_models.responses`), the per-device variation from `device_models.variation`:

State: ``w = (g - g_min) / (g_max - g_min)``; a pulse of polarity up moves ``+step``, down
``-step``, ``step = rate·(target - w)`` up and ``rate·(w - target)`` down (geometric polarities;
signed, so a negative rate, e.g. fefet-hzo's down polarity, counts with its sign) or ``lin``
(constant step), times the device's step factor ``f`` (``max(1 + d2d N(0,1), 0)``, drawn once
per device).

Cycle-to-cycle noise (``eps ~ N(0, 1)`` per pulse): ``multiplicative`` multiplies the step by
``1 + c2c·eps``; ``additive`` adds ``c2c·lin·f·eps`` (c2c nominal steps, state-independent).
Neither is clipped, so a large c2c can make a single pulse move the state against its polarity
(as the additive cycle-to-cycle noise of NeuroSim and aihwkit does); the new state is always
clipped into the device's hard bounds ([0, 1] unless ``bound_*_d2d`` varies them).
Devices with ``policy = "potentiate-only"`` ignore down pulses (the state does not change).
"""

from __future__ import annotations

import numpy as np

from .model import DeviceModel
from .responses import get_response
from .variation import DeviceLaws, device_laws, step_factor

__all__ = ["nominal_step", "pulse_step", "pulse_train", "to_conductance", "to_state",
           "delta_vs_state"]


def nominal_step(device: DeviceModel, w, up):
    """Noise-free step of one pulse at state ``w`` (>= 0 inside the window, except
    for linear-step with a gamma > 1 (allowed up to 10): the up step is negative above
    ``u0 + (1 - u0)/gamma_up``, the down step below ``u0 - u0/gamma_down``; ``u0`` =
    ``reference_state``).

    ``up`` is a bool or a boolean array broadcastable against ``w``. Returns an array of the
    broadcast shape; the sign of the move is +step for up pulses and -step for down pulses.
    """
    w = np.asarray(w, dtype=np.float64)
    up = np.asarray(up, dtype=bool)
    resp = get_response(device.response)
    return np.where(up, resp.step(device, w, True), resp.step(device, w, False))


def _law_step(laws: DeviceLaws, w, up):
    """Noise-free step of each device under its own law; and its nominal (lin) step."""
    out = []
    for d, sgn in ((laws.up, 1.0), (laws.down, -1.0)):
        geo = sgn * (d.target - w) * d.rate
        out.append((np.where(d.rate != 0, geo, d.lin), d.lin))
    (su, lu), (sd, ld) = out
    return np.where(up, su, sd), np.where(up, lu, ld)


def pulse_step(device: DeviceModel, w, up, c2c_eps=None, d2d_factor=None, laws=None):
    """The state after one pulse per device: a new array, clipped into the hard bounds.

    Parameters
    ----------
    device : the `DeviceModel` (its ``c2c`` and ``c2c_model`` scale ``c2c_eps``).
    w : normalised state(s) (scalar or array).
    up : True for a potentiation pulse, False for depression; or a boolean array.
    c2c_eps : standard-normal draw(s) for this pulse's cycle-to-cycle noise, broadcastable
        to ``w``; ``None`` means no cycle-to-cycle noise.
    d2d_factor : the device's fixed step factor (drawn once per device by the caller);
        ``None`` means 1. Ignored when ``laws`` is given (the laws include it).
    laws : per-device step laws and bounds (`device_models.variation.device_laws`).
    """
    w = np.asarray(w, dtype=np.float64)
    up = np.asarray(up, dtype=bool)
    if laws is not None:
        step, lin = _law_step(laws, w, up)
        lo, hi = laws.lo, laws.hi
    else:
        f = 1.0 if d2d_factor is None else np.asarray(d2d_factor, dtype=np.float64)
        step = nominal_step(device, w, up) * f
        s = 1.0 / device.states
        lin = np.where(up, s * (1.0 + device.up_down), s * (1.0 - device.up_down)) * f
        lo, hi = 0.0, 1.0
    if c2c_eps is not None and device.c2c != 0.0:
        eps = np.asarray(c2c_eps, dtype=np.float64)
        if device.c2c_model == "additive":
            step = step + device.c2c * lin * eps
        else:
            step = step * (1.0 + device.c2c * eps)
    if device.policy == "potentiate-only":
        step = np.where(up, step, 0.0)
    new = np.where(up, w + step, w - step)
    return np.clip(new, lo, hi)


def to_conductance(device: DeviceModel, w):
    """Conductance [S] of normalised state(s) ``w``."""
    return device.g_min + np.asarray(w, dtype=np.float64) * device.g_range


def to_state(device: DeviceModel, g):
    """Normalised state of conductance(s) ``g`` [S] (not clipped)."""
    return (np.asarray(g, dtype=np.float64) - device.g_min) / device.g_range


def pulse_train(device: DeviceModel, n_up: int, n_down: int, n_devices: int = 1,
                seed: int = 0) -> np.ndarray:
    """Conductance [S] of ``n_devices`` devices through ``n_up`` up then ``n_down`` down pulses.

    Every device starts at ``g_min`` (clipped into its own bounds). Returns an array of shape
    ``(n_devices, n_up + n_down + 1)``; column 0 is the start, column k the conductance after
    k pulses (what a read sees: with ``write_noise`` the stored state plus that write's noise).
    Random numbers come from ``numpy.random.default_rng(seed)``: first the step factors
    ``1 + d2d * N(0, 1)``, one per device, then (if the model `varies_shape`) the rest of each
    device's law (`device_models.variation.device_laws`), then for each pulse one standard
    normal per device for the cycle-to-cycle noise (drawn even when ``c2c = 0``, so that the
    stream of a given seed does not depend on the device's parameters) and, with write noise,
    one more. For the noise-free nominal curve pass ``device.nominal()``.
    """
    for name, v in (("n_up", n_up), ("n_down", n_down), ("n_devices", n_devices)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    if n_devices < 1:
        raise ValueError(f"n_devices must be at least 1, got {n_devices}")
    rng = np.random.default_rng(seed)
    d2d_factor = step_factor(device, n_devices, rng)
    laws = device_laws(device, d2d_factor, rng) if device.varies_shape else None
    wn = device.write_noise / device.states
    n = n_up + n_down
    out = np.empty((n_devices, n + 1), dtype=np.float64)
    w = np.zeros(n_devices, dtype=np.float64)
    if laws is not None:
        w = np.clip(w, laws.lo, laws.hi)
    out[:, 0] = w
    for k in range(n):
        eps = rng.standard_normal(n_devices)
        w = pulse_step(device, w, k < n_up, c2c_eps=eps, d2d_factor=d2d_factor, laws=laws)
        out[:, k + 1] = w + wn * rng.standard_normal(n_devices) if wn > 0 else w
    return to_conductance(device, out)


def delta_vs_state(device: DeviceModel, n: int = 200):
    """Noise-free ΔG of one up and one down pulse against G: ``(g, dg_up, dg_down)`` [S], on
    ``n`` states across the window (the view in which response shapes differ at a glance)."""
    w = np.linspace(0.0, 1.0, n)
    nom = device.nominal()
    up = np.clip(w + nominal_step(nom, w, True), 0, 1) - w
    dn = np.clip(w - nominal_step(nom, w, False), 0, 1) - w
    if device.policy == "potentiate-only":
        dn = np.zeros_like(dn)
    return to_conductance(device, w), up * device.g_range, dn * device.g_range
