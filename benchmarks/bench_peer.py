"""analogff side by side with IBM aihwkit: speed under the same thread settings, and presets.

    python benchmarks/bench_peer.py [--repeats 10] [--devices 1000] [--skip-speed]

Needs aihwkit (and torch). Without it the script says how to install it and exits 0.

Speed (one process, the two tools timed alternately call by call, median of ``--repeats``):
forward reads at batch 1000 of 784→500, 2000→2000 and 500→10, and a pulsed update of
2000×2000 at batch 1 and at batch 1000, each against its own float twin (``nn.Linear`` / SGD for
aihwkit, ``x @ W`` / ``W += lr dᵀx`` for analogff), so both ratios and the direct time ratio
print. Both tools get the same number of threads (torch.set_num_threads = numba's) and
analogff's thread hand-off defaults (GOMP_SPINCOUNT, OPENBLAS_THREAD_TIMEOUT; the settings in
force are printed): with libgomp's default spin on a loaded machine aihwkit's forward is several
times slower than with these.

Presets: every preset that names an aihwkit preset is driven through ``N`` up then ``N`` down
pulses (N = the preset's states) on ``--devices`` devices in both tools (aihwkit's own
``compute_pulse_response`` on a tile from ``get_tile_for_plotting``, all noise on, and
noise-free); prints the largest difference of the mean trajectories (fraction of the range)
and the ratio of the spreads across devices.
"""

from __future__ import annotations

import analogff._threads  # noqa: F401  (before numpy/torch: the thread hand-off defaults)
import argparse
import os
import statistics
import sys
import time

import numpy as np

INSTALL = (
    "aihwkit is not installed: this benchmark compares analogff with it side by side.\n"
    "Install it into this environment (CPU build; compiles its C++ core, needs cmake, a C++\n"
    "compiler, BLAS and pybind11):\n"
    "    pip install torch==2.13.0   # the CPU build; see the torch site for others\n"
    "    pip install aihwkit\n"
    "then run this script again. Nothing else in analogff needs aihwkit.")

# analogff preset -> aihwkit preset class (simulator/presets/devices.py)
PEERS = {"ecram": "EcRamPresetDevice", "reram-sb": "ReRamSBPresetDevice",
         "gokmen-vlasov": "GokmenVlasovPresetDevice"}


def _median_pair(fa, fb, repeats):
    fa()
    fb()
    ta, tb = [], []
    for _ in range(repeats):
        for fn, ts in ((fa, ta), (fb, tb)):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return statistics.median(ta), statistics.median(tb)


def speed(repeats: int) -> None:
    import numba
    import torch
    from aihwkit.nn import AnalogLinear
    from aihwkit.simulator.configs import SingleRPUConfig
    from aihwkit.simulator.presets import EcRamPresetDevice

    from crossbar import AnalogMatrix, IdealMatrix, Periphery

    threads = numba.get_num_threads()
    torch.set_num_threads(threads)
    print(f"threads: numba {threads}, torch {torch.get_num_threads()}; "
          f"GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT')}, "
          f"OPENBLAS_THREAD_TIMEOUT={os.environ.get('OPENBLAS_THREAD_TIMEOUT')}")
    rng = np.random.default_rng(0)
    cfg = SingleRPUConfig(device=EcRamPresetDevice())
    print(f"{'case':<26}{'aihwkit':>10}{'its float':>11}{'analogff':>10}{'its float':>11}"
          f"{'ak/float':>10}{'af/float':>10}{'af/ak':>8}")

    def row(label, ak, akf, af, aff):
        print(f"{label:<26}{ak * 1e3:>8.2f}ms{akf * 1e3:>9.2f}ms{af * 1e3:>8.2f}ms"
              f"{aff * 1e3:>9.2f}ms{ak / akf:>10.1f}{af / aff:>10.1f}{af / ak:>8.2f}")

    for n_in, n_out in ((784, 500), (2000, 2000), (500, 10)):
        x = rng.standard_normal((1000, n_in)).astype(np.float32)
        xt = torch.from_numpy(x)
        ak = AnalogLinear(n_in, n_out, bias=False, rpu_config=cfg)
        fl = torch.nn.Linear(n_in, n_out, bias=False)
        af = AnalogMatrix(n_out, n_in, "ecram", Periphery(read_noise=0.01), seed=0)
        idl = IdealMatrix(n_out, n_in, seed=0)
        with torch.no_grad():
            t_ak, t_akf = _median_pair(lambda: ak(xt), lambda: fl(xt), repeats)
        t_af, t_aff = _median_pair(lambda: af.forward(x), lambda: idl.forward(x), repeats)
        row(f"forward {n_in}->{n_out} B1000", t_ak, t_akf, t_af, t_aff)

    for B in (1, 1000):
        x = (0.1 * rng.standard_normal((B, 2000))).astype(np.float32)
        d = (0.1 * rng.standard_normal((B, 2000))).astype(np.float32)
        tile = AnalogLinear(2000, 2000, bias=False, rpu_config=cfg).analog_module
        tile.set_learning_rate(0.01)
        w = torch.zeros(2000, 2000)
        xt, dt = torch.from_numpy(x), torch.from_numpy(d)
        af = AnalogMatrix(2000, 2000, "ecram", Periphery(read_noise=0.0), seed=0)
        Wf = np.zeros((2000, 2000), dtype=np.float32)

        def float_torch():
            w.add_(dt.T @ xt, alpha=-0.01)

        def float_np():
            Wf.__iadd__(0.01 * (d.T @ x))

        t_ak, t_akf = _median_pair(lambda: tile.update(xt, dt), float_torch, repeats)
        t_af, t_aff = _median_pair(lambda: af.update(x, d, 0.01), float_np, repeats)
        row(f"update 2000x2000 B{B}", t_ak, t_akf, t_af, t_aff)


def presets(n_devices: int) -> None:
    import aihwkit.simulator.presets as P
    from aihwkit.simulator.configs import SingleRPUConfig
    from aihwkit.utils.visualization import compute_pulse_response, get_tile_for_plotting

    from device_models import load_preset
    from device_models.response import pulse_train, to_state

    print(f"\npresets: N up then N down pulses, {n_devices} devices; mean difference "
          f"(fraction of the range) and spread ratio analogff/aihwkit every 50 pulses")
    for name, cls in PEERS.items():
        d = load_preset(name)
        n = d.states
        direction = np.concatenate([np.ones(n), -np.ones(n)])
        dev = getattr(P, cls)()
        w_min, w_max = dev.w_min, dev.w_max
        for noise in (False, True):
            tile = get_tile_for_plotting(SingleRPUConfig(device=getattr(P, cls)()), n_devices,
                                         noise_free=not noise)
            trace = compute_pulse_response(tile, direction)[:, :, 0]   # (2n, devices)
            start = np.full((1, n_devices), w_min)
            theirs = (np.vstack([start, trace]).T - w_min) / (w_max - w_min)
            dv = d if noise else d.nominal()
            ours = to_state(dv, pulse_train(dv, n, n, n_devices=n_devices, seed=1))
            dm = np.max(np.abs(ours.mean(0) - theirs.mean(0)))
            k = np.arange(50, 2 * n + 1, 50)
            sa, sb = ours[:, k].std(0), theirs[:, k].std(0)
            ok = sb > 0
            spread = (f"{(sa[ok] / sb[ok]).min():.3f}-{(sa[ok] / sb[ok]).max():.3f}" if ok.any()
                      else "n/a (no spread)")
            print(f"  {name:<14} vs {cls:<26} noise {'on ' if noise else 'off'}  "
                  f"max |Δmean| {dm:.4f}   spread ratio {spread}   end spread "
                  f"{ours[:, -1].std():.3f} / {theirs[:, -1].std():.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--skip-speed", action="store_true")
    a = ap.parse_args()
    try:
        import aihwkit  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        print(INSTALL)
        return 0
    print(f"aihwkit {aihwkit.__version__}, torch {torch.__version__}, python {sys.version.split()[0]}")
    if not a.skip_speed:
        speed(a.repeats)
    presets(a.devices)
    return 0


if __name__ == "__main__":
    sys.exit(main())
