"""The ledger: every event a matrix (or the algorithm's digital periphery) caused, per phase.

A `Ledger` can be shared by all matrices of a network. The caller sets ``ledger.phase``
(e.g. ``"positive"``, ``"negative"``, ``"generative"``, ``"transposed"``, ``"update"``) and
every event recorded afterwards is filed under that phase and the matrix that caused it.
The energy model in ``reports/`` prices these counts; nothing here knows about energy except
the two physical terms that depend on simulated state (cell read energy Σ V²·G·t and write
pulse energy), which only the simulator can compute.

Counters (all per (phase, matrix) entry):

=====================  ==========================================================
``mvm_vectors``        input vectors read forward (one per batch row per call)
``transposed_vectors`` input vectors read transposed
``macs``               logical multiply-accumulates (rows x cols x vectors)
``dac_conversions``    input values converted by row (or column) drivers, per tile
``dac_clipped``        input values clipped by the DAC range
``adc_conversions``    output conversions, per tile
``adc_saturated``      output conversions outside the ADC range (clipped)
``cell_read_energy_j`` Σ V²·G·t over every cell and read [J]
``pulses_up``          potentiation pulses applied
``pulses_down``        depression pulses applied
``pulse_energy_j``     energy of those pulses [J]
``update_calls``       outer-product updates issued (array-level write phases)
``programmed_devices`` devices written by program(W) (program-and-verify targets)
``dig_mac``            digital multiply-accumulates (Adam moments, goodness, LN, ...)
``dig_add``            digital additions (partial sums, biases, accumulators)
``dig_cmp``            digital comparisons (ReLU, clipping, argmax)
``dig_nonlin``         digital nonlinear ops (exp, log, sqrt, divide; LUT-based)
``sram_read_bits``     bits read from on-chip buffers
``sram_write_bits``    bits written to on-chip buffers
``dram_read_bits``     bits read from off-chip memory
``dram_write_bits``    bits written to off-chip memory
``rng_draws``          random numbers drawn by the periphery (noise, negative labels)
=====================  ==========================================================
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

COUNTERS = (
    "mvm_vectors", "transposed_vectors", "macs", "dac_conversions", "dac_clipped",
    "adc_conversions", "adc_saturated", "cell_read_energy_j", "pulses_up", "pulses_down",
    "pulse_energy_j", "update_calls", "programmed_devices",
    "dig_mac", "dig_add", "dig_cmp", "dig_nonlin", "sram_read_bits", "sram_write_bits",
    "dram_read_bits", "dram_write_bits", "rng_draws",
)
_COUNTER_SET = frozenset(COUNTERS)
DIGITAL = "digital"  # matrix name used for work done by digital periphery


class Ledger:
    """Event counts per (phase, matrix). Set ``phase`` before the events you want filed."""

    def __init__(self, phase: str = "default") -> None:
        self.phase = phase
        self._entries: dict[tuple[str, str], dict[str, float]] = defaultdict(
            lambda: dict.fromkeys(COUNTERS, 0))
        self.matrices: dict[str, dict[str, Any]] = {}
        self._suspended = False

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """Record nothing inside this block (monitoring reads that are not part of the run)."""
        old, self._suspended = self._suspended, True
        try:
            yield
        finally:
            self._suspended = old

    def register(self, name: str, info: dict[str, Any]) -> str:
        """Record a matrix's geometry/periphery; returns a unique name for it."""
        base, k = name, 1
        while name in self.matrices:
            k += 1
            name = f"{base}#{k}"
        self.matrices[name] = dict(info)
        return name

    def add(self, matrix: str, **counts: float) -> None:
        """Add counts to (current phase, matrix)."""
        if self._suspended:
            return
        entry = self._entries[(self.phase, matrix)]
        for k, v in counts.items():
            if k not in _COUNTER_SET:
                raise KeyError(f"unknown ledger counter {k!r}")
            entry[k] += v

    def digital(self, **counts: float) -> None:
        """Add counts for digital periphery work in the current phase."""
        self.add(DIGITAL, **counts)

    # ---- queries ------------------------------------------------------------------------
    def phases(self) -> list[str]:
        return sorted({p for p, _ in self._entries})

    def get(self, counter: str, phase: str | None = None, matrix: str | None = None) -> float:
        """Sum of ``counter`` over entries matching phase and/or matrix (None = all)."""
        return sum(e[counter] for (p, m), e in self._entries.items()
                   if (phase is None or p == phase) and (matrix is None or m == matrix))

    def by_phase(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for (p, _m), e in self._entries.items():
            acc = out.setdefault(p, dict.fromkeys(COUNTERS, 0))
            for k, v in e.items():
                acc[k] += v
        return out

    def entries(self) -> Iterable[tuple[str, str, dict[str, float]]]:
        for (p, m), e in sorted(self._entries.items()):
            yield p, m, e

    def reset(self) -> None:
        self._entries.clear()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"matrices": {name: info}, "entries": [{phase, matrix, counters...}]}``."""
        ents = []
        for p, m, e in self.entries():
            row = {"phase": p, "matrix": m}
            # counts are integers unless scaled by merge(); keep fractions rather than truncate
            row.update({k: (float(v) if k.endswith("_j") or v != int(v) else int(v))
                        for k, v in e.items() if v})
            ents.append(row)
        return {"matrices": self.matrices, "entries": ents}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Ledger":
        led = cls()
        led.matrices = dict(d.get("matrices", {}))
        for row in d.get("entries", []):
            led.phase = row["phase"]
            led.add(row["matrix"], **{k: v for k, v in row.items() if k in _COUNTER_SET})
        led.phase = "default"
        return led

    def merge(self, other: "Ledger", scale: float = 1.0) -> None:
        """Add another ledger's counts (times ``scale``) into this one."""
        self.matrices.update(other.matrices)
        for (p, m), e in other._entries.items():
            acc = self._entries[(p, m)]
            for k, v in e.items():
                acc[k] += v * scale
