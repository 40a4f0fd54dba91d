"""The `DeviceModel`: what one memristive device does, in SI units.

Everything here is per device and independent of arrays, periphery and algorithms.
Units: conductance in siemens (S), voltage in volts (V), time in seconds (s), energy in
joules (J). Dimensionless fractions are relative to the conductance window
``g_max - g_min`` unless stated otherwise.

Pulse response (normalised state ``w = (g - g_min) / (g_max - g_min)`` in [0, 1], nominal
step ``s = 1 / states``; ``a = up_down`` is the up/down asymmetry; ``u0 = reference_state``;
each response is one class in `device_models.responses`):

* ``linear``       up: ``s (1 + a)``; down: ``s (1 - a)`` (hard clipped at the bounds)
* ``soft-bounds``  up: ``s (1 + a)(b⁺ - w)/(b⁺ - u0)``; down: ``s (1 - a)(w - b⁻)/(u0 - b⁻)``
  (bounds b⁺ = 1, b⁻ = 0 nominally; u0 = 0.5 gives ``2 s (1 ± a)`` times the distance)
* ``linear-step``  up: ``s (1 + a)(1 - γ⁺ (w - u0)/(1 - u0))``; down
  ``s (1 - a)(1 - γ⁻ (u0 - w)/u0)`` (aihwkit LinearStep; γ = 1 is soft bounds)
* ``exponential``  NeuroSim's ``G(P) = B (1 - exp(-P/A)) + G_min`` with ``P_max = states`` and
  ``nonlinearity = P_max / A``: up ``(b - w)(1 - exp(-1/A))`` with ``b = 1/(1 - exp(-P_max/A))``,
  down mirrored with ``nonlinearity_down``; nonlinearity 0 falls back to linear; negative
  values give the convex curve.

Cycle-to-cycle noise per pulse (``c2c_model``): ``multiplicative`` multiplies the step by
``1 + c2c·N(0,1)``; ``additive`` adds ``c2c·s(1 ± a)·f·N(0,1)`` (a std of c2c nominal steps,
independent of the state: aihwkit's ``mult_noise = False``, NeuroSim's absolute σ). Neither is
clipped: a pulse may move the device against its polarity; only the state is clipped to the
device's hard bounds.

Device-to-device (drawn once per device): the step factor ``f = max(1 + d2d·N(0,1), 0)``
(a negative step size is unphysical, so it is floored at 0); with ``up_down_d2d`` the two
polarities get ``max(f ± up_down_d2d·N(0,1), 0)``; with ``bound_high_d2d``/``bound_low_d2d``
each device's hard bounds become ``u0 + (1 - u0)|1 + σ⁺N|`` and ``u0 - u0|1 + σ⁻N|``
(aihwkit ``w_max_dtod``/``w_min_dtod``, relative to the distance from the zero-weight state;
soft bounds follow their device's bound); with ``gamma_up_d2d``/``gamma_down_d2d`` each device's
slope is ``|γ + σ·N(0,1)|`` (aihwkit ``gamma_*_dtod``).

Write noise (``write_noise``, aihwkit ``write_noise_std``): whenever a device is written (pulsed
or programmed) the value a read sees is the stored state plus ``write_noise·s·N(0,1)``, drawn
anew at each write; pulses keep acting on the stored state.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any

from .checks import check_choice, check_number, check_text
from .responses import RESPONSE_CLASSES, SHAPE_FIELDS

RESPONSES = tuple(RESPONSE_CLASSES)  # every registered response (device_models.responses)
C2C_MODELS = ("multiplicative", "additive")
POLICIES = ("bidirectional", "potentiate-only")
READ_NOISE_MODELS = ("additive", "proportional")


class DeviceParameterError(ValueError):
    """A device parameter is outside its allowed range (message names field, value, range)."""


# every field's check: `device_models.checks`, refusing with this package's error
_number = functools.partial(check_number, error=DeviceParameterError)
_choice = functools.partial(check_choice, error=DeviceParameterError)


@dataclass(frozen=True)
class DeviceModel:
    """One analog memory device (SI units). Validated on construction.

    See the module docstring for the pulse-response formulas.
    """

    name: str = "custom"
    description: str = ""
    source: str = ""  # citation of the measurement the preset was fitted to

    # conductance window
    g_min: float = 1e-6          # S
    g_max: float = 10e-6         # S
    states: int = 1000           # (g_max - g_min) / dg_min, nominal number of levels

    # pulse response
    response: str = "linear"     # linear | soft-bounds | linear-step | exponential
    up_down: float = 0.0         # asymmetry a in (-1, 1): up step * (1+a), down step * (1-a)
    nonlinearity_up: float = 0.0    # P_max / A for the exponential response (< 0: convex)
    nonlinearity_down: float = 0.0  # P_max / A for depression
    # nominal-step state of soft-bounds/linear-step (aihwkit's weight 0)
    reference_state: float = 0.5
    gamma_up: float = 0.0        # linear-step: relative step decrease at the upper bound
    gamma_down: float = 0.0      # linear-step: relative step decrease at the lower bound
    policy: str = "bidirectional"   # bidirectional | potentiate-only (PCM: needs refresh)

    # variability (fractions)
    c2c: float = 0.0             # cycle-to-cycle: std of each pulse's step (see c2c_model)
    c2c_model: str = "multiplicative"  # multiplicative: x step | additive: x nominal step
    d2d: float = 0.0             # device-to-device: relative std of each device's step size
    up_down_d2d: float = 0.0     # device-to-device std of the up/down step difference (x step)
    bound_high_d2d: float = 0.0  # device-to-device relative std of the upper bound
    bound_low_d2d: float = 0.0   # device-to-device relative std of the lower bound
    gamma_up_d2d: float = 0.0    # device-to-device std of gamma_up (linear-step)
    gamma_down_d2d: float = 0.0  # device-to-device std of gamma_down (linear-step)
    write_noise: float = 0.0     # std of the read value around the stored one, per write (x step)
    read_noise: float = 0.0      # std of a cell's conductance per read / (g_max - g_min)
    read_noise_model: str = "additive"  # additive: std σ·(g_max-g_min) | proportional: std σ·G
    prog_noise: float = 0.0      # std of programming error / (g_max - g_min)

    # retention
    drift_nu: float = 0.0        # drift exponent nu in g(t) = g(t0) (t/t0)^(-nu)
    drift_nu_std: float = 0.0    # device-to-device std of nu
    drift_t0: float = 1.0        # s, reference time after programming

    # faults and wear
    stuck_off: float = 0.0       # fraction stuck at g_min from the start
    stuck_on: float = 0.0        # fraction stuck at g_max from the start
    endurance: float = 0.0       # pulses a device survives before it sticks (0 = unlimited)

    # electrical operating point
    v_write_up: float = 2.0      # V, potentiation pulse amplitude
    v_write_down: float = 2.0    # V, depression pulse amplitude (magnitude)
    t_write_up: float = 50e-9    # s, potentiation pulse width
    t_write_down: float = 50e-9  # s, depression pulse width
    pulse_energy: float = 0.0    # J per pulse; 0 = compute V^2 * G * t from the device state
    v_read: float = 0.2          # V, read voltage amplitude at full-scale input
    t_read: float = 10e-9        # s, read pulse width

    def __post_init__(self) -> None:
        check_text("name", self.name, error=DeviceParameterError)
        _number("g_min", self.g_min, 0.0, None, unit="S")
        _number("g_max", self.g_max, 0.0, None, lo_open=True, unit="S")
        if not self.g_max > self.g_min:
            raise DeviceParameterError(
                f"g_max = {self.g_max:g} S must be greater than g_min = {self.g_min:g} S")
        _number("states", self.states, 2, 10**9, integer=True)
        _choice("response", self.response, RESPONSES)
        _choice("policy", self.policy, POLICIES)
        _choice("read_noise_model", self.read_noise_model, READ_NOISE_MODELS)
        _number("up_down", self.up_down, -1.0, 1.0, lo_open=True, hi_open=True)
        _number("nonlinearity_up", self.nonlinearity_up, -50.0, 50.0)
        _number("nonlinearity_down", self.nonlinearity_down, -50.0, 50.0)
        _number("reference_state", self.reference_state, 0.0, 1.0, lo_open=True, hi_open=True)
        _number("gamma_up", self.gamma_up, 0.0, 10.0)
        _number("gamma_down", self.gamma_down, 0.0, 10.0)
        _choice("c2c_model", self.c2c_model, C2C_MODELS)
        for f in ("c2c", "d2d", "read_noise", "prog_noise", "up_down_d2d", "bound_high_d2d",
                  "bound_low_d2d", "gamma_up_d2d", "gamma_down_d2d"):
            _number(f, getattr(self, f), 0.0, 10.0)
        self._refuse_unread_shape()
        _number("write_noise", self.write_noise, 0.0, 1000.0)
        _number("drift_nu", self.drift_nu, 0.0, 1.0)
        _number("drift_nu_std", self.drift_nu_std, 0.0, 1.0)
        _number("drift_t0", self.drift_t0, 0.0, None, lo_open=True, unit="s")
        _number("stuck_off", self.stuck_off, 0.0, 1.0)
        _number("stuck_on", self.stuck_on, 0.0, 1.0)
        if self.stuck_off + self.stuck_on > 1.0:
            raise DeviceParameterError(
                f"stuck_off + stuck_on = {self.stuck_off + self.stuck_on:g} exceeds 1")
        _number("endurance", self.endurance, 0.0, None)
        for f in ("v_write_up", "v_write_down", "v_read"):
            _number(f, getattr(self, f), 0.0, 100.0, lo_open=True, unit="V")
        for f in ("t_write_up", "t_write_down", "t_read"):
            _number(f, getattr(self, f), 0.0, 1.0, lo_open=True, unit="s")
        _number("pulse_energy", self.pulse_energy, 0.0, 1.0, unit="J")

    def _refuse_unread_shape(self) -> None:
        """A shape field (or its device-to-device spread) set on a device whose pulse response
        does not read it would change nothing: refused, naming the responses that read it."""
        reads = RESPONSE_CLASSES[self.response].fields
        for f, base in SHAPE_FIELDS.items():
            if getattr(self, f) != 0 and base not in reads:
                readers = [n for n, c in RESPONSE_CLASSES.items() if base in c.fields]
                raise DeviceParameterError(
                    f"{f} = {getattr(self, f)!r} has no effect on device {self.name!r} (its "
                    f"response is {self.response}, which reads "
                    f"{', '.join(sorted(reads)) or 'no shape parameter'}); {f} applies to the "
                    f"{' / '.join(readers)} response")

    # ---- derived quantities -------------------------------------------------------------
    @property
    def g_range(self) -> float:
        """Conductance window g_max - g_min [S]."""
        return self.g_max - self.g_min

    @property
    def dg_min(self) -> float:
        """Nominal conductance step of one pulse [S]."""
        return self.g_range / self.states

    @property
    def varies_shape(self) -> bool:
        """Whether devices differ in more than their step factor (bounds, slopes, up/down
        balance) or carry write noise: the crossbar then keeps per-device step laws."""
        return (self.up_down_d2d > 0 or self.bound_high_d2d > 0 or self.bound_low_d2d > 0
                or self.gamma_up_d2d > 0 or self.gamma_down_d2d > 0 or self.write_noise > 0)

    @property
    def on_off(self) -> float:
        """On/off ratio g_max / g_min (inf when g_min = 0)."""
        return self.g_max / self.g_min if self.g_min > 0 else math.inf

    # the pulse-response variation fields: cycle-to-cycle, device-to-device spreads of the step
    # law (step, up/down balance, bounds, slopes) and write noise. Not included (kept by
    # `nominal`): read_noise, prog_noise, drift_nu_std, stuck_off, stuck_on, endurance
    VARIATION_FIELDS = ("c2c", "d2d", "up_down_d2d", "bound_high_d2d", "bound_low_d2d",
                        "gamma_up_d2d", "gamma_down_d2d", "write_noise")

    def nominal(self) -> "DeviceModel":
        """The same device with every `VARIATION_FIELDS` entry set to 0: no cycle-to-cycle
        noise, no device-to-device spread of the step law, no write noise. Read and programming
        noise, drift (``drift_nu_std`` too), stuck fractions and endurance are kept."""
        return self.replace(**{f: 0.0 for f in self.VARIATION_FIELDS})

    def replace(self, **changes: Any) -> "DeviceModel":
        """A copy with some fields changed (validated again)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise DeviceParameterError(
                f"unknown device parameter(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __str__(self) -> str:  # printable, aihwkit-style: only non-default fields
        default = DeviceModel()
        parts = [f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self)
                 if f.name not in ("description", "source")
                 and getattr(self, f.name) != getattr(default, f.name)]
        return f"DeviceModel({', '.join(parts)})"


# Units and short explanations for `analogff devices show`.
FIELD_INFO: dict[str, tuple[str, str]] = {
    "g_min": ("S", "minimum conductance"),
    "g_max": ("S", "maximum conductance"),
    "states": ("", "nominal levels (g_max-g_min)/dg_min"),
    "response": ("", "pulse response model"),
    "up_down": ("", "up/down step asymmetry"),
    "nonlinearity_up": ("", "P_max/A, potentiation (exponential)"),
    "nonlinearity_down": ("", "P_max/A, depression (exponential)"),
    "reference_state": ("frac of Δg", "state where a soft-bounds/linear-step pulse is nominal"),
    "gamma_up": ("", "linear-step: step decrease at the upper bound"),
    "gamma_down": ("", "linear-step: step decrease at the lower bound"),
    "policy": ("", "which polarities can be pulsed"),
    "c2c": ("× step", "cycle-to-cycle std per pulse (× the step, or × nominal step s)"),
    "c2c_model": ("", "multiplicative (× step) or additive (× nominal step)"),
    "d2d": ("frac", "device-to-device std of the step size"),
    "up_down_d2d": ("frac", "device-to-device std of the up/down step difference"),
    "bound_high_d2d": ("frac", "device-to-device std of the upper bound (rel. to 1 - u0)"),
    "bound_low_d2d": ("frac", "device-to-device std of the lower bound (rel. to u0)"),
    "gamma_up_d2d": ("", "device-to-device std of gamma_up"),
    "gamma_down_d2d": ("", "device-to-device std of gamma_down"),
    "write_noise": ("steps", "std of the read value around the stored one, per write"),
    "read_noise": ("frac of Δg", "std of conductance per read"),
    "read_noise_model": ("", "additive (σ·Δg) or proportional (σ·G)"),
    "prog_noise": ("frac of Δg", "std of programming error"),
    "drift_nu": ("", "drift exponent ν"),
    "drift_nu_std": ("", "device-to-device std of ν"),
    "drift_t0": ("s", "drift reference time t0"),
    "stuck_off": ("frac", "devices stuck at g_min"),
    "stuck_on": ("frac", "devices stuck at g_max"),
    "endurance": ("pulses", "pulses before a device sticks (0 = unlimited)"),
    "v_write_up": ("V", "potentiation pulse amplitude"),
    "v_write_down": ("V", "depression pulse amplitude"),
    "t_write_up": ("s", "potentiation pulse width"),
    "t_write_down": ("s", "depression pulse width"),
    "pulse_energy": ("J", "energy per pulse (0 = V²·G·t)"),
    "v_read": ("V", "read voltage at full-scale input"),
    "t_read": ("s", "read pulse width"),
}
