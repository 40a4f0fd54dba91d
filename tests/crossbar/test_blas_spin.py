"""numpy imported before the package (a notebook's `import numpy as np`, a Dask worker): its
OpenBLAS read its busy-wait default when it loaded, too late for the package's
OPENBLAS_THREAD_TIMEOUT, and the package says so in one RuntimeWarning naming itself, the
variable and the fix; imported first, or with the variable already set, it says nothing. Each
case in a fresh interpreter (what was loaded first is process state)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy  # noqa: F401  (loaded here anyway: the question is only what it is built on)
import pytest

from crossbar import blas_spin

WARNING = "RuntimeWarning: numpy was imported before"
# the warning is about OpenBLAS's busy-wait: a numpy on another BLAS (MKL, Accelerate) has
# nothing to warn about, and the package rightly says nothing
_OPENBLAS = pytest.mark.skipif(not blas_spin._numpy_uses_openblas(),
                               reason="this numpy is not built on OpenBLAS")


def _stderr(code: str, timeout_set: bool = False) -> str:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if timeout_set:
        env["OPENBLAS_THREAD_TIMEOUT"] = "4"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stderr


@_OPENBLAS
@pytest.mark.parametrize("code, package", [
    ("import numpy; import analogff", "analogff"),
    ("import numpy; import crossbar", "crossbar"),
    ("import numpy; import analogff; import crossbar", "analogff"),   # once, by the first
    ("import numpy; import crossbar; import analogff", "crossbar"),
])
def test_numpy_first_warns_once_naming_the_fix(code, package):
    err = _stderr(code)
    lines = [ln for ln in err.splitlines() if WARNING in ln]
    assert len(lines) == 1, err
    assert lines[0].startswith("<string>:1: ")          # points at the user's import
    assert f"before {package}:" in lines[0]
    assert "import " + package + " first, or set OPENBLAS_THREAD_TIMEOUT=4" in lines[0]


@pytest.mark.parametrize("code, timeout_set", [
    ("import analogff; import numpy", False),
    ("import crossbar; import numpy", False),
    ("import numpy; import analogff; import crossbar", True),   # the user's value: it holds
])
def test_no_warning_when_the_default_was_in_time(code, timeout_set):
    assert WARNING not in _stderr(code, timeout_set)
