"""analogff side by side with IBM aihwkit: speed under the same thread settings, and presets.

    python benchmarks/bench_peer.py [--repeats 10] [--devices 4000] [--skip-speed] [--skip-presets]

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
``compute_pulse_response`` on a tile from ``get_tile_for_plotting``, single pulses), under four
conditions switched alike in both: nominal (no variation), d2d only, c2c + write noise only,
and all on. Prints the largest difference of the mean trajectories (fraction of the range) and
the ratio of the spreads across devices every 50 pulses, against the bar (0.02 of the
range, 10 %); exits 1 if a preset misses it.
"""

from __future__ import annotations

import analogff._threads  # noqa: F401  (before numpy/torch: the thread hand-off defaults)
import os
import statistics
import sys
import time

import numpy as np

from _args import Parser, at_least  # one-line refusals, exit 2

INSTALL = (
    "aihwkit is not installed: this benchmark compares analogff with it side by side.\n"
    "Install it into this environment (aihwkit 1.2.0 is a source package: its C++ core compiles\n"
    "at install, ~30 min on 2 cores; build it against the torch already installed):\n"
    "    pip install torch               # the CPU build first (see the torch site)\n"
    "    apt-get install cmake ninja-build libopenblas-dev   # and a C++ compiler\n"
    "    pip install scikit-build pybind11 mypy\n"
    "    pip install --no-build-isolation --no-deps aihwkit   # keeps that torch\n"
    "    pip install scipy requests protobuf tqdm              # its run-time needs here\n"
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
    from aihwkit.simulator.tiles import AnalogTile

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
        # one 2000x2000 tile: AnalogLinear splits it into a TileModuleArray, which updates
        # through AnalogSGD tile by tile (the same pulses, no update() of its own)
        tile = AnalogTile(2000, 2000, cfg)
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


# Conditions of the preset comparison: which of the preset's variations stay on, in both tools.
# "nominal": none (the mean trajectories must agree to float precision); "d2d": device-to-
# device only (aihwkit's noise_free plotting tile: dw_min_std and write noise off); "c2c":
# cycle-to-cycle and write noise only (every aihwkit *_dtod set to 0); "all": the preset as is.
CONDITIONS = {"nominal": (False, False), "d2d": (True, False), "c2c": (False, True),
              "all": (True, True)}
MEAN_TOL = 0.02      # the bar: mean trajectory within 0.02 of the range
SPREAD_TOL = 0.10    # the bar: spread across devices within 10 %
SPREAD_EVERY = 50    # compare the spreads at every 50th pulse
SELF_TILES = 2       # further aihwkit tiles that measure how far aihwkit differs from itself
SPREAD_FLOOR = 1e-3  # spreads below this fraction of the range (all devices on one bound) are
#                      not compared: their ratio is noise over noise


def _their_device(cls, d2d: bool, c2c: bool):
    """The aihwkit preset with its device-to-device and/or cycle-to-cycle parts switched off."""
    import dataclasses

    import aihwkit.simulator.presets as P

    dev = getattr(P, cls)()
    for f in dataclasses.fields(dev):
        if (not d2d and f.name.endswith("_dtod")) or (
                not c2c and f.name in ("dw_min_std", "write_noise_std")):
            setattr(dev, f.name, 0.0)
    return dev


def _our_device(d, d2d: bool, c2c: bool):
    """Our preset with the same parts switched off."""
    noise = ("c2c", "write_noise")
    off = [f for f in d.VARIATION_FIELDS
           if (not d2d and f not in noise) or (not c2c and f in noise)]
    return d.replace(**{f: 0.0 for f in off})


def _their_trace(cls, d2d, c2c, n, n_devices):
    """aihwkit's apparent weights through n up then n down pulses, as states in [0, 1] of its
    nominal range: (n_devices, 2n + 1), column 0 the start (w_min clipped into each device)."""
    from aihwkit.simulator.configs import SingleRPUConfig
    from aihwkit.utils.visualization import compute_pulse_response, get_tile_for_plotting

    dev = _their_device(cls, d2d, c2c)
    tile = get_tile_for_plotting(SingleRPUConfig(device=dev), n_devices)
    start = tile.get_weights()[0].detach().numpy()[:, 0]
    direction = np.concatenate([np.ones(n), -np.ones(n)])
    trace = compute_pulse_response(tile, direction)[:, :, 0]          # (2n, devices)
    w = np.vstack([start[None, :], trace]).T
    return (w - dev.w_min) / (dev.w_max - dev.w_min)


def presets(n_devices: int) -> bool:
    """Drive every aihwkit-cited preset in both tools; True when all meet the bar.

    aihwkit's CPU simulator draws its cycle-to-cycle noise from a fixed list of 32768 normals
    made per tile (src/rpucuda/rng.h, "faster approximative RNG for CPU"), so two of its own
    tiles differ by more than sampling noise (the list's mean is off by ~0.005 of a step, so
    a mean drifts by up to ~0.02 of the range over 1000 additive-noise pulses): each condition
    runs aihwkit on two further tiles too, and a condition passes when the mean is within 0.02
    of the range and the spread ratios within 10 %, or within what aihwkit shows between its
    own tiles (both printed; with reram-sb's additive noise two aihwkit tiles differ by up to
    0.03 of the range).
    """
    from device_models import load_preset
    from device_models.response import pulse_train, to_state

    print(f"\npresets: N up then N down pulses (N = states), {n_devices} devices. |dmean|: the "
          f"largest difference of the mean trajectories (fraction of the range; ak/ak': between "
          f"two aihwkit tiles); spread: std across devices, ratio analogff/aihwkit (and aihwkit/"
          f"aihwkit') at every {SPREAD_EVERY}th pulse where aihwkit's >= {SPREAD_FLOOR}; end: "
          f"std after the last pulse")
    print(f"{'preset':<14}{'aihwkit':<26}{'on':<8}{'|dmean|':>8}{'ak/ak_':>8}"
          f"{'spread af/ak':>14}{'ak/ak_':>13}{'end std af/ak':>16}  ok")
    all_ok = True
    for name, cls in PEERS.items():
        d = load_preset(name)
        n = d.states
        k = np.arange(SPREAD_EVERY, 2 * n + 1, SPREAD_EVERY)
        for cond, (d2d, c2c) in CONDITIONS.items():
            theirs = _their_trace(cls, d2d, c2c, n, n_devices)
            again = [_their_trace(cls, d2d, c2c, n, n_devices) for _ in range(SELF_TILES)]
            dv = _our_device(d, d2d, c2c)
            ours = to_state(dv, pulse_train(dv, n, n, n_devices=n_devices, seed=1))
            dm = float(np.max(np.abs(ours.mean(0) - theirs.mean(0))))
            dm_self = max(float(np.max(np.abs(a.mean(0) - theirs.mean(0)))) for a in again)
            sa, sb = ours[:, k].std(0), theirs[:, k].std(0)
            sc = np.array([a[:, k].std(0) for a in again])           # (SELF_TILES, points)
            cmp = (sb >= SPREAD_FLOOR) & np.all(sc >= SPREAD_FLOOR, axis=0)
            ok = dm <= max(MEAN_TOL, dm_self)
            if cmp.any():
                ratio, self_ratio = sa[cmp] / sb[cmp], sc[:, cmp] / sb[cmp]
                band = max(SPREAD_TOL, float(np.max(np.abs(self_ratio - 1.0))))
                ok = ok and bool(np.all(np.abs(ratio - 1.0) <= band))
                spread = f"{ratio.min():.3f}-{ratio.max():.3f}"
                spread_self = f"{self_ratio.min():.3f}-{self_ratio.max():.3f}"
            else:
                spread, spread_self = "- (none)", "-"
                ok = ok and bool(np.all(sa < SPREAD_FLOOR))
            all_ok = all_ok and ok
            print(f"{name:<14}{cls:<26}{cond:<8}{dm:>8.2g}{dm_self:>8.2g}{spread:>14}"
                  f"{spread_self:>13}{ours[:, -1].std():>8.3f} /{theirs[:, -1].std():>6.3f}"
                  f"  {'yes' if ok else 'NO'}", flush=True)
    print("all presets within the bar" if all_ok else "some preset misses the bar")
    return all_ok


def main() -> int:
    ap = Parser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=at_least(1), default=10)
    ap.add_argument("--devices", type=at_least(2), default=4000)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-presets", action="store_true")
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
    return 0 if a.skip_presets or presets(a.devices) else 1


if __name__ == "__main__":
    sys.exit(main())
