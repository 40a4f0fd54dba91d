"""Arrays of devices and their periphery: `AnalogMatrix`, `IdealMatrix`, the ledger.

Imports `device_models` only.
"""

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
