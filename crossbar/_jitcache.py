"""Numba's on-disk cache, validated against every kernel source of this package.

Numba checks a cached function against its own source file only, but a kernel's machine code
also holds what it inlined or froze from other modules: ``crossbar.rng``'s generator (inlined)
and its normal tables (frozen constants, built by scipy at import). Edit ``rng.py`` (or any
module split from ``kernels.py``), or upgrade scipy, and a warm cache kept serving the old
code while a cold one compiled the new: the same config gave one record on a first run and
another on every later run. Every Numba-cached function of this package is therefore stamped
with one hash of all the package's Numba modules and of the versions of the libraries whose
results its kernels freeze, so that any such change recompiles them all.

Imported by each module that defines cached kernels, before its first ``@njit(cache=True)``
(the locator is chosen when the decorator runs).
"""

from __future__ import annotations

import functools
import hashlib
import os
from importlib import metadata

from numba.core import caching

_DIR = os.path.dirname(os.path.abspath(__file__))
# libraries whose code or values end up inside the compiled kernels (scipy builds the tables)
_LIBRARIES = ("numpy", "scipy", "numba", "llvmlite")


@functools.lru_cache(maxsize=1)
def package_stamp() -> str:
    """SHA-256 of every module of this package that uses Numba, and the library versions."""
    h = hashlib.sha256()
    for name in sorted(os.listdir(_DIR)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(_DIR, name), "rb") as f:
            src = f.read()
        if b"numba" in src.lower():   # kernel_config.py names Numba only in its docstring
            h.update(name.encode() + b"\0" + src + b"\0")
    for lib in _LIBRARIES:
        h.update(f"{lib}={metadata.version(lib)}\0".encode())
    return h.hexdigest()


class _PackageStamped:
    """Mixin: only this package's functions, stamped with `package_stamp`."""

    @classmethod
    def from_function(cls, py_func, py_file):
        if os.path.dirname(os.path.abspath(py_file)) != _DIR:
            return None
        return super().from_function(py_func, py_file)

    def get_source_stamp(self):
        return package_stamp()


class UserProvidedLocator(_PackageStamped, caching.UserProvidedCacheLocator):
    """$NUMBA_CACHE_DIR."""


class InTreeLocator(_PackageStamped, caching.InTreeCacheLocator):
    """crossbar/__pycache__."""


class UserWideLocator(_PackageStamped, caching.UserWideCacheLocator):
    """The user's cache directory (an installed, read-only package)."""


for _cls in (UserWideLocator, InTreeLocator, UserProvidedLocator):  # first in Numba's order
    if _cls not in caching.CacheImpl._locator_classes:
        caching.CacheImpl._locator_classes.insert(0, _cls)
