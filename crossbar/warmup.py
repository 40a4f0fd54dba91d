"""A machine's first run: the pulse kernels compile in a second process.

On a cold Numba cache a run compiles every kernel it uses, one after another, in one process
(Numba compiles under a global lock): the read kernels at the first forward pass, the pulse
kernels (``apply_update``'s `crossbar.pulse_updates._update_chunks_lean` for the default run,
`_update_chunks` when devices can stick or refresh; the larger part: ~7 s of CPU against
~5 s for the reads) at the first weight update. `compile_pulses_in_background` starts
a second interpreter that compiles the lean pulse kernel into the same on-disk cache while
this process compiles the reads; the first call of a pulse kernel here waits for that process
and then loads what it cached. On two cores the two overlap. The cached machine code is the
code this process would have compiled (no fast-math: `crossbar.kernel_config`), so the numbers
do not change (tests/crossbar/test_cache_reproducible.py); if the second process fails, this
one compiles the kernel itself on its first call, as it would have anyway. The second process
runs one update of a small ECRAM matrix, which takes only the lean branch of ``apply_update``:
the general kernel `_update_chunks` is not compiled there. A run whose device takes the
general kernel at every update (stuck devices, endurance, refresh, a drift clock:
`pulse_updates.device_takes_general_kernel`) has the second process compile that one instead
(``--general``); a run with stochastic counts on other devices compiles it itself at its first
update. Nor is the own-law kernel (`own_law._own_law_chunks`, arrays of 2¹⁸ devices and
up): no default run uses it, and a paper-scale run compiles it at its first large update
(~4 s of CPU, once per machine).

    python -m crossbar.warmup      # what the second process runs
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys

import numpy as np

# the second process only pays on a machine with a second core for it
_MIN_CPUS = 2
# longest wait for the second process (s) before this one compiles the kernel itself
_WAIT_S = 600


# a preset whose updates take the general kernel (potentiate-only pairs, drift): the warm-up
# matrix for runs whose device does (`pulse_updates.device_takes_general_kernel`)
_GENERAL_DEVICE = "pcm-gst"


def compile_pulse_kernels(general: bool = False) -> None:
    """Compile (and cache) the lean pulse kernel `pulse_updates._update_chunks_lean` with the
    argument types `AnalogMatrix` passes: one update of ``AnalogMatrix(4, 4, "ecram")`` (the
    threaded and the serial `apply_update` call the same compiled kernel). Its types do not
    depend on the device or the update scheme (unused per-device arrays are (1, 1) placeholders
    of the same dtype), but the branch does: this update is lean, so the general
    `_update_chunks` (stuck devices, endurance, refresh, drift clock, stochastic counts) is not
    compiled here. With ``general``, the general kernel instead, for a run whose device takes
    it at every update: one update of ``AnalogMatrix(4, 4, "pcm-gst")`` (its argument types are
    every device's too: arrays a device does not use are placeholders of the same dtype)."""
    from .analog import AnalogMatrix

    rng = np.random.default_rng(0)
    m = AnalogMatrix(4, 4, _GENERAL_DEVICE if general else "ecram", seed=0)
    m.update(rng.standard_normal((2, 4)).astype(np.float32),
             rng.standard_normal((2, 4)).astype(np.float32), 0.01)


def compile_pulses_in_background(general: bool = False) -> bool:
    """Start compiling the pulse kernels in a second process (call only on a cold cache);
    the first pulse-kernel call of this process then waits for it. ``general``: the general
    kernel instead of the lean one (`compile_pulse_kernels`), for a run whose device takes it
    at every update (`pulse_updates.device_takes_general_kernel`). Returns whether it started
    (not on a single-core machine)."""
    if (os.cpu_count() or 1) < _MIN_CPUS:
        return False
    from . import kernels as K

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH")
                                                  else []))
    proc = subprocess.Popen([sys.executable, "-m", "crossbar.warmup"]
                            + (["--general"] if general else []), env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    atexit.register(_stop, proc)   # a run that ends early leaves no process behind
    parallel, serial = K.apply_update, K.SERIAL["apply_update"]

    def waiting(kernel):
        def call(*args, **kwargs):
            _wait(proc)
            K.apply_update = parallel       # later calls go straight to the kernels
            K.SERIAL["apply_update"] = serial
            return kernel(*args, **kwargs)
        call.__name__ = kernel.__name__  # analog.kernel_for finds the twin by this name
        return call

    K.apply_update = waiting(parallel)
    K.SERIAL["apply_update"] = waiting(serial)
    return True


def _wait(proc: subprocess.Popen) -> None:
    try:
        proc.wait(timeout=_WAIT_S)
    except subprocess.TimeoutExpired:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    compile_pulse_kernels(general="--general" in sys.argv[1:])
