"""Pulse responses: one small class per response, registered by name.

Every response is written in one *geometric* form, per polarity: in the normalised state
``w = (g - g_min) / (g_max - g_min)`` a pulse moves the device by

* ``rate · (target - w)`` (potentiation) or ``rate · (w - target)`` (depression) when
  ``rate != 0``: the distance to ``target`` shrinks (``rate > 0``) or grows (``rate < 0``) by the
  factor ``1 - rate`` per pulse, so n pulses have a closed form;
* ``lin`` when ``rate == 0`` (a constant step).

A response class holds the formula that gives ``(lin, rate, target)`` for each polarity from a
`DeviceModel` (and, per device, from that device's step factor, bound and slope), its name and
the fields it reads. The reference implementation (``device_models.response``), the plots and
the crossbar kernels all take the step from `Direction`: the formula exists only here.

Symbols: ``s = 1 / states`` (nominal step), ``a = up_down``, ``u0 = reference_state`` (the
state at which a soft-bounds or linear-step pulse moves by exactly its nominal step, aihwkit's
weight 0), ``f`` a device's step factor (device-to-device variation, 1 nominally).

Adding a response: write a subclass of `Response` with ``name``, ``fields`` and
``direction()``; decorate it with ``@register``; add its tests (closed form of its source,
the crossbar against the reference) to ``tests/device_models/test_dm_sources.py`` (the
reference's per-response laws: ``test_dm_response.py``). Nothing else changes:
`DeviceModel` accepts every registered name, and the kernels consume `Direction` values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

__all__ = ["Direction", "Response", "RESPONSE_CLASSES", "register", "get_response"]


@dataclass(frozen=True)
class Direction:
    """One polarity's step law (normalised units, scalars or per-device arrays).

    lin    : step of a constant-step polarity, and the polarity's nominal step (what an additive
             cycle-to-cycle noise of ``c2c`` nominal steps scales with);
    rate   : geometric rate (0: constant step ``lin``; > 0 the distance to ``target`` shrinks by
             ``1 - rate`` per pulse; < 0 it grows);
    target : the state the geometric recursion approaches (or leaves).
    """

    lin: Any
    rate: Any
    target: Any


RESPONSE_CLASSES: dict[str, type["Response"]] = {}


def register(cls: type["Response"]) -> type["Response"]:
    """Class decorator: make a response available by its ``name``."""
    RESPONSE_CLASSES[cls.name] = cls
    return cls


# the shape fields a response may or may not read (each `Response.fields`), with the field a
# device-to-device spread belongs to: a device that sets one its response does not read is
# refused (`DeviceModel`), since it would change nothing
SHAPE_FIELDS = {"nonlinearity_up": "nonlinearity_up", "nonlinearity_down": "nonlinearity_down",
                "gamma_up": "gamma_up", "gamma_down": "gamma_down", "up_down": "up_down",
                "gamma_up_d2d": "gamma_up", "gamma_down_d2d": "gamma_down"}


def get_response(name: str) -> "Response":
    return RESPONSE_CLASSES[name]()


class Response:
    """Base class: subclasses define ``name``, ``fields`` and ``direction``."""

    name: ClassVar[str] = ""
    fields: ClassVar[tuple[str, ...]] = ()   # DeviceModel fields this response reads

    def direction(self, dv, up: bool, f=1.0, bound=None, gamma=None) -> Direction:
        """The step law of polarity ``up`` for device ``dv``.

        ``f``: the device's step factor (1 nominally); ``bound``: the device's hard bound in
        this polarity (upper for up, lower for down; 1 / 0 nominally); ``gamma``: its slope
        (linear-step only; the model's ``gamma_up``/``gamma_down`` nominally). Arrays give
        per-device values.
        """
        raise NotImplementedError

    def step(self, dv, w, up: bool, f=1.0, bound=None, gamma=None):
        """Noise-free step magnitude of one pulse at state ``w`` (the reference formula)."""
        d = self.direction(dv, up, f, bound, gamma)
        w = np.asarray(w, dtype=np.float64)
        if np.all(np.asarray(d.rate) == 0):
            return np.broadcast_to(np.asarray(d.lin, dtype=np.float64), w.shape) + 0.0 * w
        geo = (d.target - w) * d.rate if up else (w - d.target) * d.rate
        return np.where(np.asarray(d.rate) != 0, geo, d.lin)


def _scale(dv, up: bool, f=1.0):
    """Nominal step of a polarity: ``s (1 ± a) · f``."""
    s = 1.0 / dv.states
    return s * (1.0 + dv.up_down) * f if up else s * (1.0 - dv.up_down) * f


@register
class Linear(Response):
    """Constant step ``s (1 ± a)`` up to the hard bounds (aihwkit ConstantStep)."""

    name = "linear"
    fields = ("up_down",)

    def direction(self, dv, up, f=1.0, bound=None, gamma=None):
        return Direction(_scale(dv, up, f), 0.0, 0.0)


@register
class SoftBounds(Response):
    """Step shrinking linearly to zero at the device's bound (aihwkit SoftBounds /
    SoftBoundsReference): up ``s(1+a) f (b⁺ - w)/(b⁺ - u0)``, down ``s(1-a) f (w - b⁻)/(u0 - b⁻)``
    with bounds ``b⁺ = 1``, ``b⁻ = 0`` nominally. For a window symmetric about zero weight
    (``u0 = 0.5``) this is ``2 s (1 ± a)`` times the distance to the bound."""

    name = "soft-bounds"
    fields = ("up_down", "reference_state")

    def direction(self, dv, up, f=1.0, bound=None, gamma=None):
        u0 = dv.reference_state
        sc = _scale(dv, up, f)
        if up:
            b = 1.0 if bound is None else bound
            return Direction(sc, sc / (b - u0), b)
        b = 0.0 if bound is None else bound
        return Direction(sc, sc / (u0 - b), b)


# A linear-step direction whose γ / (distance from u0 to its bound) is below this is a constant
# step: its state dependence, at most that ratio relative to the step, is below float64's
# resolution (2^-52), while its geometric form (rate γs/span, target u0 ± span/γ) would put a
# target beyond float32's range (3.4e38) into the kernels' per-device law arrays (γ ≈ 1e-40:
# an infinite target with a non-zero rate, one pulse to the bound). Below 2^-60 the target
# stays under 2^60 and the step differs from the constant one by less than 2^-60.
CONSTANT_STEP_BELOW = 2.0 ** -60


@register
class LinearStep(Response):
    """Step changing linearly with the state (aihwkit LinearStep with ``mean_bound_reference``):
    up ``s(1+a) f (1 - γ⁺ (w - u0)/(1 - u0))``, down ``s(1-a) f (1 - γ⁻ (u0 - w)/u0)``: at the
    nominal bound the step is ``1 - γ`` of its size at ``u0``. γ = 1 is soft bounds; γ = 0 a
    constant step. Hard bounds clip as for every response."""

    name = "linear-step"
    fields = ("up_down", "reference_state", "gamma_up", "gamma_down")

    def direction(self, dv, up, f=1.0, bound=None, gamma=None):
        u0 = dv.reference_state
        sc = _scale(dv, up, f)
        g = (dv.gamma_up if up else dv.gamma_down) if gamma is None else gamma
        g = np.asarray(g, dtype=np.float64) if not np.isscalar(g) else float(g)
        span = (1.0 - u0) if up else u0   # from u0 to the nominal bound of this direction
        if np.isscalar(g):
            if g / span < CONSTANT_STEP_BELOW:
                return Direction(sc, 0.0, 0.0)
        else:
            g = np.where(g / span < CONSTANT_STEP_BELOW, 0.0, g)
        with np.errstate(divide="ignore", invalid="ignore"):
            if up:
                rate = sc * g / (1.0 - u0)
                target = np.where(g != 0, u0 + (1.0 - u0) / g, 0.0) if not np.isscalar(g) \
                    else u0 + (1.0 - u0) / g
            else:
                rate = sc * g / u0
                target = np.where(g != 0, u0 - u0 / g, 0.0) if not np.isscalar(g) \
                    else u0 - u0 / g
        return Direction(sc, rate, target)


@register
class Exponential(Response):
    """NeuroSim's ``G(P) = B (1 - exp(-P/A)) + G_min`` with ``B`` such that ``P_max = states``
    pulses span the window, walked forward by potentiation and mirrored for depression
    (``nonlinearity = P_max / A``; a negative value is a convex curve, NeuroSim's label sign
    for LTP; for depression NeuroSim's label with its sign flipped). Up: ``(b - w)(1 - e^(-1/A))``,
    ``b = 1 / (1 - e^(-nl))``; down mirrored. A polarity with nonlinearity 0 steps linearly."""

    name = "exponential"
    fields = ("nonlinearity_up", "nonlinearity_down", "up_down")
    # below this |P_max/A| the curve equals the linear one to double precision (and
    # 1 - exp(-nl) would underflow to 0): the linear step is used
    LINEAR_BELOW = 1e-12

    def direction(self, dv, up, f=1.0, bound=None, gamma=None):
        nl = dv.nonlinearity_up if up else dv.nonlinearity_down
        sc = _scale(dv, up, f)
        if abs(nl) <= self.LINEAR_BELOW:
            return Direction(sc, 0.0, 0.0)
        rate = -math.expm1(-nl / dv.states)   # 1 - exp(-1/A), A = states / nl
        b = 1.0 / -math.expm1(-nl)
        return Direction(sc, rate * f if not (np.isscalar(f) and f == 1.0) else rate,
                         b if up else 1.0 - b)
