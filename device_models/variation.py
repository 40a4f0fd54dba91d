"""Device-to-device variation: each device's own step law, drawn once.

`step_factor` draws the step factor every device has (``max(1 + d2d·N(0,1), 0)``).
`device_laws` draws, for devices whose model `varies_shape`, the rest that aihwkit's pulsed
devices vary per device (the up/down balance, both hard bounds and the linear-step slopes) and
returns each device's `Direction` per polarity plus its hard bounds, so that the reference
implementation and the crossbar draw and use them alike.

Draw order (after the step factors, each an array of the requested shape, each drawn only
when its std is non-zero): up/down balance, upper bound, lower bound, gamma up, gamma down (the
gammas only when ``response == "linear-step"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .responses import Direction, get_response

__all__ = ["DeviceLaws", "step_factor", "device_laws"]


def step_factor(dv, shape, rng: np.random.Generator) -> np.ndarray:
    """``max(1 + d2d·N(0,1), 0)`` per device (a negative step size is unphysical)."""
    return np.maximum(1.0 + dv.d2d * rng.standard_normal(shape), 0.0)


@dataclass(frozen=True)
class DeviceLaws:
    """Each device's step law (arrays of one shape, normalised state units)."""

    up: Direction
    down: Direction
    lo: np.ndarray   # hard lower bound of each device's state
    hi: np.ndarray   # hard upper bound


def device_laws(dv, f: np.ndarray, rng: np.random.Generator) -> DeviceLaws:
    """Draw the per-device shape of ``dv`` for devices with step factors ``f``.

    Up/down balance: ``f_up = max(f + r, 0)``, ``f_down = max(f - r, 0)``,
    ``r = up_down_d2d·N(0,1)`` (aihwkit: scale_up ∝ gain + r, scale_down ∝ gain - r).
    Bounds: ``hi = u0 + (1 - u0)|1 + σ⁺N|``, ``lo = u0 - u0|1 + σ⁻N|`` (aihwkit's w_max_dtod,
    w_min_dtod with enforce_consistency). Slopes: ``γ = |γ_mean + σ_γ N|``.
    """
    f = np.asarray(f, dtype=np.float64)
    shape = f.shape
    u0 = dv.reference_state

    def draw(sd):
        return sd * rng.standard_normal(shape) if sd > 0 else np.zeros(shape)

    r = draw(dv.up_down_d2d)
    f_up = np.maximum(f + r, 0.0)
    f_dn = np.maximum(f - r, 0.0)
    hi = u0 + (1.0 - u0) * np.abs(1.0 + draw(dv.bound_high_d2d))
    lo = u0 - u0 * np.abs(1.0 + draw(dv.bound_low_d2d))
    resp = get_response(dv.response)
    g_up = g_dn = None
    if dv.response == "linear-step":
        g_up = np.abs(dv.gamma_up + draw(dv.gamma_up_d2d))
        g_dn = np.abs(dv.gamma_down + draw(dv.gamma_down_d2d))

    def full(d: Direction) -> Direction:
        return Direction(*(np.broadcast_to(np.asarray(v, dtype=np.float64), shape).copy()
                           for v in (d.lin, d.rate, d.target)))

    return DeviceLaws(full(resp.direction(dv, True, f_up, hi, g_up)),
                      full(resp.direction(dv, False, f_dn, lo, g_dn)), lo, hi)
