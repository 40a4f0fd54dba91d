"""Energy, area and latency of crossbar ledgers, the digital baseline, and the HTML report.

Imports `device_models` and `crossbar` only (never `analogff`). Light at import time: pandas
and matplotlib are imported inside the functions that need them.
"""

from .estimate import COMPONENTS, price_digital, price_ledger, tile_mvm
from .hardware import Hardware, HardwareError
from .run_energy import RunPrice, hardware_of_record, price_run


def build_report(store, out_dir):
    """Build the HTML/PNG/CSV report of a results store (see `reports.report.build_report`)."""
    from .report import build_report as _build
    return _build(store, out_dir)


__all__ = ["Hardware", "HardwareError", "price_ledger", "price_digital", "price_run",
           "RunPrice", "hardware_of_record", "tile_mvm", "build_report", "COMPONENTS"]
