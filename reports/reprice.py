"""What-if re-pricing of stored runs: the same simulated events on a chip that differs only in
what the simulator did not use (node, ADC architecture and sharing, input encoding, supplies,
clock, buffers, scope, ...). `analogff report --hardware FILE --node-nm 7` uses it.

A change to a field the simulator used (`crossbar.chip.SIMULATED_FIELDS`: device, tiles,
converter bits, ADC range, wires, read pulse) is refused in one line: those events would have
been different (sweep the field instead). The converter choices each matrix's ledger info
records for pricing (ADC type, columns per ADC, input encoding) are replaced too, so that the
what-if is what gets priced; nothing else of the record changes.
"""

from __future__ import annotations

import copy
from typing import Any

from crossbar.chip import HardwareError, reprice_chip

from .run_energy import hardware_of_record

# per-matrix info fields that are pricing choices, not simulated state
PRICING_INFO_FIELDS = ("adc_type", "cols_per_adc", "input_mode")


def reprice_record(record: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` whose chip is its own with ``changes`` (pricing-only fields).

    Raises `HardwareError` (one line) for a record without a stored chip or a change to a
    simulated field."""
    hw = hardware_of_record(record)
    what = f"run {record.get('config_hash', '?')}"
    if hw is None:
        raise HardwareError(f"{what} was written before runs stored their chip (record schema "
                            "1): it cannot be re-priced on another chip")
    new = reprice_chip(hw, changes, what)
    out = copy.deepcopy(record)
    out["hardware"] = new.to_dict()   # the report prices the ledger again, on this chip
    led = out.get("ledger")
    if isinstance(led, dict):
        for info in (led.get("matrices") or {}).values():
            if info.get("analog"):
                for k in PRICING_INFO_FIELDS:
                    if k in info and k in changes:
                        info[k] = (min(changes[k], info.get("tile_cols", changes[k]))
                                   if k == "cols_per_adc" else changes[k])
    return out
