"""Whether numpy's OpenBLAS was loaded before the package's thread hand-off defaults, and a
warning that says what that costs.

OpenBLAS reads ``OPENBLAS_THREAD_TIMEOUT`` once, when numpy loads it. Loaded with its own default,
its idle threads busy-wait ~2^28 cycles (~0.1 s) after every product: with products every few
ms they never sleep, and the kernels' threads share a core with one of them
(`benchmarks/bench_import_order.py` on a 2-core VM, the paper-scale PFF batch: ideal 1.14x,
analog 1.32x slower).
No call changes the timeout of a loaded OpenBLAS, so the package says so, once, in one line.
Imports nothing heavy: it runs before numpy is loaded.
"""

from __future__ import annotations

import sys
import warnings

TIMEOUT_VAR = "OPENBLAS_THREAD_TIMEOUT"


def _numpy_uses_openblas() -> bool:
    """Whether the numpy already loaded is built on OpenBLAS (numpy's build record)."""
    try:
        blas = sys.modules["numpy"].__config__.CONFIG["Build Dependencies"]["blas"]["name"]
    except Exception:   # an older numpy without the record, or another layout: say nothing
        return False
    return "openblas" in str(blas).lower()


def warn_if_spinning(package: str, stacklevel: int = 3) -> None:
    """Warn (RuntimeWarning) if numpy and its OpenBLAS are already loaded. For ``package`` to
    call once, when the environment held no timeout before its default: the default it sets
    then silences every later call (once per process)."""
    if "numpy" not in sys.modules or not _numpy_uses_openblas():
        return
    warnings.warn(f"numpy was imported before {package}: its OpenBLAS threads busy-wait between "
                  f"products and slow {package}'s threaded kernels (a paper-scale analog batch "
                  f"ran 1.3x slower); import {package} first, or set {TIMEOUT_VAR}=4 before "
                  "Python starts", RuntimeWarning, stacklevel=stacklevel)
