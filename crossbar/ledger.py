"""The ledger: every event a matrix (or the algorithm's digital periphery) caused, per phase.

A `Ledger` can be shared by all matrices of a network. The caller sets ``ledger.phase``
(e.g. ``"positive"``, ``"negative"``, ``"generative"``, ``"transposed"``, ``"update"``) and
every event recorded afterwards is filed under that phase and the matrix that caused it.
The energy model in ``reports/`` prices these counts; nothing here knows about energy except
the two physical terms that depend on simulated state (cell read energy Σ V²·G·t and write
pulse energy), which only the simulator can compute.

Counters (all per (phase, matrix) entry):

========================  ==========================================================
``mvm_vectors``           input vectors read forward (one per batch row per call)
``transposed_vectors``    input vectors read transposed
``macs``                  logical multiply-accumulates (rows x cols x vectors)
``dac_conversions``       input values converted by row (or column) drivers, per tile
``dac_clipped``           input values clipped by the DAC range
``adc_conversions``       output conversions, per tile
``adc_saturated``         output conversions outside the ADC range (clipped)
``cell_read_energy_j``    Σ V²·G·t over every cell and read [J]
``pulses_up``             potentiation pulses applied
``pulses_down``           depression pulses applied
``pulse_energy_j``        energy of those pulses [J]
``trains_capped``         pulse trains cut to ``max_pulses`` per window (devices, per update,
                          whose requested count was larger; mixed: the rest stays
                          accumulated; stochastic: B windows, B·``max_pulses``)
``update_calls``          outer-product updates issued (array-level write phases)
``extra_update_windows``  pulse windows (``max_pulses`` slots each) beyond one per
                          update call: a stochastic update fires one per batch row (B − 1 extra)
``streams_clipped``       stochastic updates: a sample's row or column stream whose pulse
                          probability was clipped at 1 (its update along that line is cut)
``programmed_devices``    devices written by program(W) (program-and-verify targets)
``dig_mac``               digital multiply-accumulates (Adam moments, goodness, LN, ...)
``dig_add``               digital additions (partial sums, biases, accumulators)
``dig_cmp``               digital comparisons (ReLU, clipping, argmax)
``dig_nonlin``            digital nonlinear ops (exp, log, sqrt, divide; LUT-based)
``sram_read_bits``        bits read from on-chip buffers
``sram_write_bits``       bits written to on-chip buffers
``dram_read_bits``        bits read from off-chip memory
``dram_write_bits``       bits written to off-chip memory
``rng_draws``             random numbers drawn by the periphery (noise, negative labels)
========================  ==========================================================

On-chip memory (capacity, not traffic): an algorithm declares the buffers it keeps with
``hold(buffer, bits)`` (the buffer now holds ``bits``; a later ``hold`` of the same name
replaces its size) and ``release(buffer)`` when it no longer needs them. The ledger tracks the
live total and its peak: ``peak_bits`` (the largest total held at once), ``peak_by_phase``
(the largest total while each phase was current), ``at_peak`` (which buffers made up the peak)
and ``buffer_peak_bits`` (each buffer's largest size). ``to_dict`` stores them under
``"memory"``; traffic     tays in the ``sram_*_bits`` / ``dram_*_bits`` counters.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

COUNTERS = (
    "mvm_vectors", "transposed_vectors", "macs", "dac_conversions", "dac_clipped",
    "adc_conversions", "adc_saturated", "cell_read_energy_j", "pulses_up", "pulses_down",
    "pulse_energy_j", "trains_capped", "update_calls", "extra_update_windows", "streams_clipped",
    "programmed_devices",
    "dig_mac", "dig_add", "dig_cmp", "dig_nonlin", "sram_read_bits", "sram_write_bits",
    "dram_read_bits", "dram_write_bits", "rng_draws",
)
_COUNTER_SET = frozenset(COUNTERS)
DIGITAL = "digital"  # matrix name used for work done by digital periphery


def weight_updates(entry: dict[str, Any], info: dict[str, Any]) -> int:
    """The weight updates of a ledger entry (one weight of the matrix in one update call: at
    most one device of a pair takes a train per update), the opportunities against which its
    ``trains_capped`` are a share; ``info`` is the matrix's ledger info (its rows and cols)."""
    return int(entry.get("update_calls") or 0) * int(info["rows"]) * int(info.get("cols") or 0)


class Ledger:
    """Event counts per (phase, matrix). Set ``phase`` before the events you want filed."""

    def __init__(self, phase: str = "default") -> None:
        self.phase = phase
        self._entries: dict[tuple[str, str], dict[str, float]] = defaultdict(
            lambda: dict.fromkeys(COUNTERS, 0))
        self.matrices: dict[str, dict[str, Any]] = {}
        self._suspended = False
        self._live: dict[str, float] = {}
        self._clear_memory()

    def _clear_memory(self) -> None:
        """Peaks restart at what is held now (buffers stay held across `reset`)."""
        self._total = total = sum(self._live.values())
        self._peak = total
        self._at_peak = dict(self._live)
        self._peak_by_phase: dict[str, float] = {}
        self._buffer_peak = dict(self._live)

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
        if self._total:
            self._phase_peak()   # buffers held while this phase works
        for k, v in counts.items():
            if k not in _COUNTER_SET:
                raise KeyError(f"unknown ledger counter {k!r}")
            entry[k] += v

    # ---- on-chip memory -------------------------------------------------------------------
    def hold(self, buffer: str, bits: float) -> None:
        """Buffer ``buffer`` now holds ``bits`` bits (replacing its previous size)."""
        if self._suspended:
            return
        if not (bits >= 0):
            raise ValueError(f"hold({buffer!r}, {bits!r}): bits must be >= 0")
        self._live[buffer] = float(bits)
        self._buffer_peak[buffer] = max(self._buffer_peak.get(buffer, 0.0), float(bits))
        self._total = total = sum(self._live.values())
        if total > self._peak:
            self._peak, self._at_peak = total, dict(self._live)
        self._phase_peak()

    def _phase_peak(self) -> None:
        if self._total > self._peak_by_phase.get(self.phase, 0.0):
            self._peak_by_phase[self.phase] = self._total

    def release(self, *buffers: str) -> None:
        """The named buffers are no longer needed (unknown names are ignored)."""
        if self._suspended:
            return
        for b in buffers:
            self._live.pop(b, None)
        self._total = sum(self._live.values())

    def held_bits(self) -> float:
        """Bits held now."""
        return self._total

    def memory(self) -> dict[str, Any]:
        """``{"peak_bits", "peak_by_phase", "at_peak", "buffer_peak_bits"}`` [bit]."""
        return {"peak_bits": self._peak, "peak_by_phase": dict(self._peak_by_phase),
                "at_peak": dict(self._at_peak), "buffer_peak_bits": dict(self._buffer_peak)}

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
        """Clear the counts; memory peaks restart at the buffers still held."""
        self._entries.clear()
        self._clear_memory()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"matrices": {name: info}, "entries": [{phase, matrix, counters...}]}``."""
        ents = []
        for p, m, e in self.entries():
            row = {"phase": p, "matrix": m}
            # counts are integers unless scaled by merge(); keep fractions rather than truncate
            row.update({k: (float(v) if k.endswith("_j") or v != int(v) else int(v))
                        for k, v in e.items() if v})
            ents.append(row)
        out: dict[str, Any] = {"matrices": self.matrices, "entries": ents}
        if self._peak > 0 or self._buffer_peak:
            out["memory"] = self.memory()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Ledger":
        led = cls()
        led.matrices = dict(d.get("matrices", {}))
        for row in d.get("entries", []):
            led.phase = row["phase"]
            led.add(row["matrix"], **{k: v for k, v in row.items() if k in _COUNTER_SET})
        led.phase = "default"
        mem = d.get("memory")
        if mem:
            led._peak = float(mem.get("peak_bits", 0.0))
            led._peak_by_phase = {k: float(v) for k, v in mem.get("peak_by_phase", {}).items()}
            led._at_peak = {k: float(v) for k, v in mem.get("at_peak", {}).items()}
            led._buffer_peak = {k: float(v) for k, v in mem.get("buffer_peak_bits", {}).items()}
        return led

    def merge(self, other: "Ledger", scale: float = 1.0) -> None:
        """Add another ledger's counts (times ``scale``) into this one; memory peaks are
        capacities, so they take the larger of the two (not scaled)."""
        self.matrices.update(other.matrices)
        if other._peak > self._peak:
            self._peak, self._at_peak = other._peak, dict(other._at_peak)
        for k, v in other._peak_by_phase.items():
            self._peak_by_phase[k] = max(self._peak_by_phase.get(k, 0.0), v)
        for k, v in other._buffer_peak.items():
            self._buffer_peak[k] = max(self._buffer_peak.get(k, 0.0), v)
        for (p, m), e in other._entries.items():
            acc = self._entries[(p, m)]
            for k, v in e.items():
                acc[k] += v * scale
