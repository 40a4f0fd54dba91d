"""Arrays of devices and their periphery: `AnalogMatrix`, `IdealMatrix`, the ledger.

Imports `device_models` only.
"""

import os

# Thread hand-off defaults for library use without the analogff package (which sets them in
# analogff/_threads.py, where the reasons are): OpenBLAS reads its timeout only if numpy is not
# loaded yet; libgomp reads its spin count when it loads, which Numba does for its OpenMP
# layer at a first parallel kernel: this package has none (`crossbar.threads`), so
# GOMP_SPINCOUNT matters only if a caller runs parallel Numba code in the same process. A set
# value wins.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
os.environ.setdefault("GOMP_SPINCOUNT", "3000")

from .base import MatrixBase, NonFiniteInputError, ShapeError
from .ideal import IdealMatrix
from .ledger import COUNTERS, DIGITAL, Ledger
from .periphery import Periphery, PeripheryParameterError

__all__ = ["MatrixBase", "NonFiniteInputError", "ShapeError", "IdealMatrix", "Ledger",
           "COUNTERS", "DIGITAL", "Periphery", "PeripheryParameterError", "AnalogMatrix"]


def __getattr__(name):  # AnalogMatrix pulls in numba: import it lazily to keep import fast
    if name == "AnalogMatrix":
        from .analog import AnalogMatrix
        return AnalogMatrix
    raise AttributeError(name)
