"""On-chip memory a training algorithm needs, and the chip that holds it.

Both read a ledger dict (docs/CONTRACTS.md); the algorithms declare their buffers through
`crossbar.Ledger.hold` / ``release`` and the ledger stores the peak under ``"memory"``.

* `memory_summary`: peak buffer capacity [bit] (split into activation/error buffers and
  per-weight digital state: optimiser moments, mixed-precision accumulators) and the buffer
  traffic [bit] per training sample and per inference (the ``sram_*_bits`` and ``dram_*_bits``
  counters: every buffer access, optimiser state included).
* `training_chip`: the die the algorithm needs to train ``ledger``'s network [mm²]: every
  matrix's tiles, transposed-read periphery only on the matrices the algorithm reads
  transposed (`reports.estimate.area_breakdown`), the SRAM sized to the peak buffer bits
  (instead of the chip's fixed ``sram_kb`` buffer) and the digital lanes. A forward-only
  algorithm whose matrices are never read transposed gets no transposed periphery.
"""

from __future__ import annotations

from typing import Any

from . import technology as T
from .estimate import area_breakdown
from .hardware import Hardware

# buffer-name prefixes of per-weight digital state (kept for the whole run, not per batch)
STATE_PREFIXES = ("optimizer.", "accumulator.")
TRAFFIC = ("sram_read_bits", "sram_write_bits", "dram_read_bits", "dram_write_bits")


def _traffic(ledger: dict, inference: bool) -> float:
    return float(sum(e.get(k, 0) or 0 for e in ledger.get("entries", [])
                     for k in TRAFFIC if (e.get("phase") == "inference") == inference))


def memory_summary(ledger: dict, train_samples: int, test_samples: int) -> dict[str, Any]:
    """Peak buffer bits and bits moved (module docstring); zeros when nothing was declared."""
    mem = ledger.get("memory") or {}
    at_peak = {k: float(v) for k, v in (mem.get("at_peak") or {}).items()}
    state = sum(v for k, v in at_peak.items() if k.startswith(STATE_PREFIXES))
    peak = float(mem.get("peak_bits", 0.0) or 0.0)
    return {
        "peak_bits": peak,
        "peak_activation_bits": peak - state,
        "peak_state_bits": state,
        "at_peak_bits": at_peak,
        "peak_by_phase_bits": {k: float(v) for k, v in (mem.get("peak_by_phase") or {}).items()},
        "moved_bits_per_train_sample": _traffic(ledger, False) / max(int(train_samples), 1),
        "moved_bits_per_inference": _traffic(ledger, True) / max(int(test_samples), 1),
    }


def training_chip(ledger: dict, hw: Hardware, peak_bits: float | None = None
                  ) -> dict[str, Any]:
    """Area [mm²] of the chip that trains ``ledger``'s network (module docstring).

    ``peak_bits`` defaults to the ledger's ``memory.peak_bits``. ``buffer_fits_sram`` says
    whether that peak fits the chip's configured ``sram_kb`` (the energy is priced with it)."""
    if peak_bits is None:
        peak_bits = float((ledger.get("memory") or {}).get("peak_bits", 0.0) or 0.0)
    area = dict(area_breakdown(ledger, hw))
    area.pop("sram", None)
    area["buffer_sram"] = peak_bits * T.sram_area_per_bit_um2(hw.node_nm) * 1e-6
    return {"area_mm2": sum(area.values()), "area_breakdown_mm2": area,
            "buffer_bits": peak_bits,
            "buffer_fits_sram": peak_bits <= hw.sram_kb * 1024 * 8,
            "transposed_readout": hw.transposed_readout}
