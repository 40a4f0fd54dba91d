"""`CountingMatrix`: the events of an `AnalogMatrix`, without the analog arithmetic.

The third backend of the matrix interface (after `IdealMatrix` and `AnalogMatrix`): an
algorithm written once runs on it unchanged, and its ledger holds the events an analog run of
the same configuration and batch would record, so that the energy of a network can be
estimated by running the real algorithm instead of a second, hand-written count of its
operations (the Nengo frontend/backend split).

What it computes: a cheap float path (``y = x @ W.T`` on float32 weights kept within
``±w_max`` like the devices' conductance window, outer-product updates applied exactly), so
that the algorithm runs as on ideal hardware (losses, labels, branches).

What it records, per call, exactly as `AnalogMatrix` does (same counters, same formulas; the
shape-only events are equal event by event):

* reads: ``mvm_vectors`` / ``transposed_vectors``, ``macs``, ``dac_conversions`` (one per input
  line and tile it drives), ``adc_conversions`` (one per output line and input tile);
* updates: ``update_calls`` (one per `update` / `apply_delta`), the ``rng_draws`` and
  ``extra_update_windows`` of stochastic pulse trains, the digital accumulator's ``dig_add``
  / SRAM bits of mixed-precision updates;
* ``programmed_devices`` of `program`.

Data-dependent events follow documented rules instead of the physics:

* ``cell_read_energy_j`` = V_read²·t_read·Δg·Σ_b Σ_i q_bi²·gsum_i, the analog formula, with q
  the DAC-quantised input and gsum the row's conductance sum of the float weights mapped as
  `AnalogMatrix.program` maps them (no programming noise, drift or pulse nonlinearity);
* pulses: the *expected* count of the requested change, Σ min(|ΔW|/Δw_min, cap) over devices,
  the cap being ``max_pulses`` per window of pulse slots: one window per update call, one per
  batch row for the stochastic scheme's ``update`` (``extra_update_windows``). Deterministic
  scheme: stochastic rounding is unbiased; stochastic scheme: the coincidences' mean
  (`crossbar.coincidence`; the request while no line's probability is clipped at 1); mixed:
  the integer part leaving the digital accumulator. Filed as ``pulses_up`` for increases and
  ``pulses_down`` for decreases (potentiate-only devices: all up). With ``pulse_density``
  set, every update call records that many pulses per device instead (half up, half down):
  a prescribed density for calibrations;
* ``trains_capped``: the expected number of devices whose count the cap cuts:
  Σ clip(|n| − cap, 0, 1) for the request n above, the probability that stochastic rounding
  lands above the cap (stochastic scheme: at the coincidences' mean; mixed: the whole
  transfers beyond the cap);
* ``streams_clipped``: the stochastic scheme's streams clipped at probability 1, by the
  analog rule (`crossbar.coincidence`) on the float path's inputs and errors;
* ``pulse_energy_j``, ``adc_saturated`` and ``dac_clipped`` are not recorded (they need the
  simulated conductances and noise); the pricer prices pulses with the device's pulse energy
  when no simulated energy is recorded.
"""

from __future__ import annotations

import numpy as np

from device_models import DeviceModel, load_preset
from device_models.checks import check_number, plain

from .base import (MatrixBase, NonFiniteInputError, analog_info, check_dt, check_seed,
                   check_shape, check_w_max)
from .coincidence import coincidence_moments
from .ledger import Ledger
from .periphery import Periphery
from .products import matmul


def _edges(n: int, tile: int) -> np.ndarray:
    return np.array(list(range(0, n, tile)) + [n], dtype=np.int64)


def _expected_capped(A: np.ndarray, cap: int, whole: bool) -> float:
    """Expected number of devices whose count the cap cuts, for requests A. Whole pulses (the
    mixed scheme's transfers) are cut where |A| > cap. A fractional request is rounded up with
    probability frac(|A|) (the deterministic scheme), so it is cut for certain above cap + 1
    and with probability |A| - cap between cap and cap + 1; the stochastic scheme's counts
    spread around A and are counted here at their mean."""
    a = np.abs(A.astype(np.float64))
    if whole:
        return float(np.count_nonzero(a > cap))
    return float(np.clip(a - cap, 0.0, 1.0).sum())


class CountingMatrix(MatrixBase):
    """Shape-and-event twin of `AnalogMatrix` (same constructor, same interface)."""

    analog = True      # reads like an analog matrix (BlockDiagonal uses forward_tiles)
    backend = "counting"

    def __init__(self, out_features: int, in_features: int,
                 device: DeviceModel | str | None = None, periphery: Periphery | None = None,
                 seed: int = 0, *, ledger: Ledger | None = None, name: str = "W",
                 w_max: float = 1.0, pulse_density: float | None = None,
                 dac_bits: int | None = None, adc_bits: int | None = None) -> None:
        out_features, in_features = check_shape(out_features, in_features, name)
        w_max = check_w_max(w_max)
        seed = check_seed(seed)
        if pulse_density is not None:
            pulse_density = plain(pulse_density)
            check_number("pulse_density", pulse_density, 0, 1000,
                         unit="pulses per device per update")
        if device is None:
            device = load_preset("ideal")
        elif isinstance(device, str):
            device = load_preset(device)
        self.device = device
        self.periphery = pe = periphery if periphery is not None else Periphery()
        self.out_features, self.in_features = int(out_features), int(in_features)
        self.w_max = float(w_max)
        self.pulse_density = pulse_density
        self.time = 0.0
        self._differential = pe.mapping == "differential"
        self.row_edges = _edges(self.in_features, pe.tile_rows)
        self.col_edges = _edges(self.out_features, pe.tile_cols)
        # the converters' bits: the periphery's, or a chip's that the simulator cannot
        # simulate (e.g. a 1-bit DAC), recorded as given
        self.dac_bits = plain(dac_bits) if dac_bits is not None else pe.dac_bits
        self.adc_bits = plain(adc_bits) if adc_bits is not None else pe.adc_bits
        for nm, b in (("dac_bits", self.dac_bits), ("adc_bits", self.adc_bits)):
            check_number(nm, b, 1, 24, integer=True)
        self._levels = max(2 ** (self.dac_bits - 1) - 1, 1)
        self.sigma = float(pe.read_noise if pe.read_noise is not None else device.read_noise)
        self._c = device.g_min / device.g_range
        self._wt = np.zeros((self.in_features, self.out_features), dtype=np.float32)
        self._gsum: dict[bool, np.ndarray] = {}
        self._chi: np.ndarray | None = None
        self.ledger = ledger if ledger is not None else Ledger()
        self.name = self.ledger.register(name, self.info())

    def info(self) -> dict:
        """The ledger's matrix info: the keys and values `AnalogMatrix.info` gives."""
        return analog_info(self, self.dac_bits, self.adc_bits)

    # ---- reads --------------------------------------------------------------------------
    def _quantised(self, x: np.ndarray) -> np.ndarray:
        """The DAC's levels q in [-1, 1] (abs-max per vector, or clipped at ``in_bound``)."""
        pe = self.periphery
        if pe.input_scaling == "abs-max":
            s = np.abs(x).max(axis=1, keepdims=True)
            s[s == 0] = 1.0
        else:
            s = np.float32(pe.in_bound)
        L = np.float32(self._levels)
        return np.clip(np.rint(x / s * L), -L, L) / L

    def _row_gsum(self, transposed: bool) -> np.ndarray:
        """Σ (G⁺ + G⁻)/Δg per input line (g_min included), of the float weights mapped as
        `AnalogMatrix.program` maps them."""
        if transposed not in self._gsum:
            w = np.clip(self._wt / np.float32(self.w_max), -1, 1)
            if not self._differential:
                g = 0.5 + 0.5 * w + self._c
            elif self.device.policy == "potentiate-only":
                g = np.abs(w) + 2 * self._c
            else:
                g = np.clip(0.5 + 0.5 * w, 0, 1) + np.clip(0.5 - 0.5 * w, 0, 1) + 2 * self._c
            self._gsum[transposed] = g.sum(axis=0 if transposed else 1, dtype=np.float64)
        return self._gsum[transposed]

    def _record_read(self, x: np.ndarray, transposed: bool) -> None:
        if not np.isfinite(x).all():
            raise NonFiniteInputError(f"{self.name}: input contains NaN or infinity")
        B = x.shape[0]
        n_rt, n_ct = len(self.row_edges) - 1, len(self.col_edges) - 1
        R, C = self.in_features, self.out_features
        n_in, n_out, n_in_tiles, n_out_tiles = (C, R, n_ct, n_rt) if transposed else \
            (R, C, n_rt, n_ct)
        q = self._quantised(x)
        dv = self.device
        e_cell = dv.v_read ** 2 * dv.t_read * dv.g_range * float(
            ((q.astype(np.float64) ** 2) @ self._row_gsum(transposed)).sum())
        counts = dict(macs=B * R * C, dac_conversions=B * n_in * n_out_tiles,
                      adc_conversions=B * n_out * n_in_tiles, cell_read_energy_j=e_cell)
        counts["transposed_vectors" if transposed else "mvm_vectors"] = B
        self.ledger.add(self.name, **counts)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check(x, self.in_features, "input", finite=False)
        self._record_read(x, False)
        return matmul(x, self._wt)

    def forward_tiles(self, x: np.ndarray) -> np.ndarray:
        """Forward read with each row tile's output kept apart: ``(B, n_row_tiles, out)``."""
        x = self._check(x, self.in_features, "input", finite=False)
        self._record_read(x, False)
        e = self.row_edges
        return np.stack([matmul(x[:, a:b], self._wt[a:b]) for a, b in zip(e[:-1], e[1:])],
                        axis=1)

    def transposed(self, d: np.ndarray) -> np.ndarray:
        d = self._check(d, self.out_features, "transposed input", finite=False)
        self._record_read(d, True)
        return matmul(d, self._wt.T)

    # ---- writes -------------------------------------------------------------------------
    def _pulses_per_weight(self) -> float:
        return self.device.states / (self.w_max * (1.0 if self._differential else 2.0))

    def _set(self, wt: np.ndarray) -> None:
        np.clip(wt, -self.w_max, self.w_max, out=self._wt)
        self._gsum.clear()

    def _record_pulses(self, A: np.ndarray, whole: bool = False, cap: int | None = None) -> None:
        """One write phase requesting A (in, out) pulses per device (signed, expected; whole
        pulses when ``whole``: the mixed scheme's transfers), at most ``cap`` per device
        (default ``max_pulses``: one window of pulse slots)."""
        pe = self.periphery
        cap = pe.max_pulses if cap is None else cap
        capped = 0.0
        if self.pulse_density is not None:
            n_dev = A.size * (2 if self._differential else 1)
            p = self.pulse_density * n_dev
            up, dn = p / 2, p / 2
        else:
            n = np.clip(A, -cap, cap)
            up = float(n[n > 0].sum(dtype=np.float64))
            dn = float(-n[n < 0].sum(dtype=np.float64))
            if self._differential and self.device.policy == "potentiate-only":
                up, dn = up + dn, 0.0
            capped = _expected_capped(A, cap, whole)
        self.ledger.add(self.name, update_calls=1, pulses_up=up, pulses_down=dn,
                        trains_capped=capped)

    def _mixed(self, A: np.ndarray) -> np.ndarray:
        """Mixed precision: accumulate digitally; returns the integer part asked for, of which
        the accumulator gives up at most max_pulses per device (the rest stays)."""
        R, C = A.shape
        if self._chi is None:
            self._chi = np.zeros_like(A)
        self._chi += A
        self.ledger.add(self.name, dig_add=R * C, sram_read_bits=16 * R * C,
                        sram_write_bits=16 * R * C)
        t = np.trunc(self._chi)   # beyond the cap: _record_pulses counts it, the rest stays
        self._chi -= np.clip(t, -self.periphery.max_pulses, self.periphery.max_pulses)
        return t

    def update(self, x: np.ndarray, d: np.ndarray, lr: float) -> None:
        """``W += lr · dᵀx`` on the float path; records the write events of the scheme."""
        x, d = self._check_update(x, d, lr)
        pe = self.periphery
        G = matmul(x.T, d)
        A = G * np.float32(lr * self._pulses_per_weight())
        if pe.update == "stochastic":
            # the coincidences' mean (the request while no line's probability is clipped at 1)
            mo = coincidence_moments(x, d, np.float32(lr * self._pulses_per_weight()), pe.bl)
            if mo is None:
                self.ledger.add(self.name, update_calls=1)   # as AnalogMatrix: no pulse train
                return
            self.ledger.add(self.name, **mo.ledger_counts())
            self._record_pulses(mo.mean, cap=mo.windows * pe.max_pulses)
        else:
            mixed = pe.update == "mixed"
            self._record_pulses(self._mixed(A) if mixed else A, whole=mixed)
        self._set(self._wt + np.float32(lr) * G)

    def apply_delta(self, dW: np.ndarray) -> None:
        """``W += dW`` (out, in) on the float path; records it as pulses (mixed: through the
        digital accumulator), as `AnalogMatrix.apply_delta` does."""
        dW = self._check_weights(dW, "apply_delta", "change")
        A = dW.T * np.float32(self._pulses_per_weight())
        mixed = self.periphery.update == "mixed"
        self._record_pulses(self._mixed(A) if mixed else A, whole=mixed)
        self._set(self._wt + dW.T)

    def program(self, W: np.ndarray, record: bool = True) -> None:
        W = self._check_weights(W, "program", "weight matrix")
        self._set(W.T.copy())
        if self._chi is not None:
            self._chi[...] = 0
        if record:
            n_dev = W.size * (2 if self._differential else 1)
            self.ledger.add(self.name, programmed_devices=n_dev)

    # ---- state --------------------------------------------------------------------------
    def weights(self) -> np.ndarray:
        return self._wt.T.copy()

    def advance_time(self, dt: float) -> None:
        """Advance the clock (no drift: the counting backend has no conductances)."""
        dt = check_dt(dt)
        self.time += float(dt)
