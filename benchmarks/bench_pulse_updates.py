"""The pulse updates of one paper-scale analog PFF batch, replayed: the pulse kernel alone.

    python benchmarks/bench_pulse_updates.py [--device ecram] [--repeats 5]

One paper-preset batch (784-2000-2000, K = 12, batch 500 + 500, as in `bench_paper_scale.py`)
runs on analog tiles to compile and warm up. During the next batch every call of the pulse
kernel (`crossbar.pulse_updates.apply_update`) on an array of at least 2^20 devices is
recorded: its requested change, its key and its arrays, with each array's device states before
its first call. The replays start from those states with the write marks cleared. The calls
are then replayed in their order from those states, ``--repeats`` times, and
the script prints the replay's time (best and median), split into dense updates (mean
requested change of a pulse or more per device: Adam's steps) and sparse ones (most devices
below one pulse, stochastically rounded), against the same updates as ideal float adds of the
same shape (``w += A``, float32), and whether the replay ends in the batch's own states.

Last it prints a hash of the replay's states, write marks, pulse counts and energies: to see
whether a change of the pulse kernel keeps its numbers and what it saves, run the script on
both codes, alternating (``PYTHONPATH=<worktree of the other commit> python
benchmarks/bench_pulse_updates.py``), and compare the hashes and the times. Against a commit
from before `apply_update` took a `Devices` (a0dfd8c), run that commit's own copy of this
script (``cd <worktree> && PYTHONPATH=. python benchmarks/bench_pulse_updates.py``).
"""

from __future__ import annotations

import analogff._threads  # noqa: F401  (before numpy: thread hand-off defaults)
import hashlib
import statistics
import time

import numpy as np

import bench_paper_scale as paper
from crossbar import kernels as K

from _args import Parser, at_least, device_preset, main_of  # one-line refusals, exit 2

MIN_DEVICES = 1 << 20   # the paper batch's large arrays (784 x 2000 and up)


# a recorded call: (mode, A, V, max_pulses, dev, rest, kw), ``dev`` its `pulse_updates.Devices`
def _states(call) -> tuple:
    """A pulse call's device states (wp, wm)."""
    return call[4].wp, call[4].wm


def _marks(call) -> tuple:
    """A pulse call's write marks (touchp, touchm): set for every device written."""
    return call[4].touchp, call[4].touchm


def _snapshot(calls) -> dict:
    """Copies of the device states (wp, wm) the calls change, keyed by id of ``wp``."""
    return {id(c[4].wp): (c[4].wp.copy(), c[4].wm.copy()) for c in calls}


def _record(net) -> tuple[list, dict, dict]:
    """Run one batch recording the large pulse calls: (calls, `_snapshot` before each
    array's first call, `_snapshot` at the end of the batch)."""
    calls, before = [], {}
    real = K.apply_update

    def rec(mode, A, V, max_pulses, dev, *rest, **kw):
        if dev.wp.size >= MIN_DEVICES:
            call = (mode, A.copy(), V, max_pulses, dev, rest, kw)
            before.setdefault(id(dev.wp), _snapshot([call])[id(dev.wp)])
            calls.append(call)
        return real(mode, A, V, max_pulses, dev, *rest, **kw)

    K.apply_update = rec
    try:
        net.algo.train_batch(*_batch(net))
    finally:
        K.apply_update = real
    return calls, before, _snapshot(calls)


def _batch(net):
    return net.data.x_train[:paper.BATCH], net.data.y_train[:paper.BATCH]


def _restore(calls, states) -> None:
    """Device states as recorded; write marks cleared (so that codes that keep or clear the
    marks between updates replay alike)."""
    for c in calls:
        wp, wm = _states(c)
        wp[...], wm[...] = states[id(wp)]
        for m in _marks(c):
            m[...] = 0


def _replay(calls, before) -> tuple[list[float], str]:
    """Every call in order from the recorded states: (seconds per call, hash of the results)."""
    _restore(calls, before)
    h = hashlib.sha256()
    times = []
    for mode, A, V, max_pulses, dev, rest, kw in calls:
        a = A.copy()   # the mixed scheme keeps its remainder in A
        t = time.perf_counter()
        out = K.apply_update(mode, a, V, max_pulses, dev, *rest, **kw)
        times.append(time.perf_counter() - t)
        for arr in (out.up, out.down, out.energy):   # what the hash has covered since it
            h.update(arr.tobytes())                   # began (not the capped counts)
    for c in {id(c[4].wp): c for c in calls}.values():
        for arr in _states(c) + _marks(c):
            h.update(arr.tobytes())
    return times, h.hexdigest()[:16]


def _ideal_adds(calls) -> list[float]:
    """The same updates as float32 adds into arrays of the same shape (seconds per call)."""
    ws = {id(c[4].wp): np.zeros(c[1].shape, dtype=np.float32) for c in calls}
    times = []
    for c in calls:
        w = ws[id(c[4].wp)]
        t = time.perf_counter()
        w += c[1]
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    ap = Parser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", type=device_preset, default="ecram")
    ap.add_argument("--repeats", type=at_least(1), default=5, help="replays of the recorded calls")
    a = ap.parse_args()
    net = paper._net(False, a.device)
    net.algo.train_batch(*_batch(net))          # compile and warm up
    calls, before, after = _record(net)
    dense = [float(np.abs(c[1]).mean()) >= 1.0 for c in calls]
    runs = [_replay(calls, before) for _ in range(a.repeats)]
    end = _snapshot(calls)
    same_states = all(np.array_equal(end[k][i], after[k][i]) for k in after for i in (0, 1))
    adds = [sum(_ideal_adds(calls)) for _ in range(a.repeats)]
    totals = [sum(t) for t, _h in runs]
    best = min(range(a.repeats), key=lambda r: totals[r])
    dense_s = sum(t for t, d in zip(runs[best][0], dense) if d)
    hashes = {h for _t, h in runs}
    print(f"paper preset, analog ({a.device}): {len(calls)} pulse updates of >= {MIN_DEVICES} "
          f"devices in one batch ({sum(dense)} dense, {len(calls) - sum(dense)} sparse); "
          f"{a.repeats} replays")
    print(f"  replayed pulse updates   {min(totals):6.3f} s best, {statistics.median(totals):.3f} s"
          f" median (dense {dense_s:.3f} s, sparse {totals[best] - dense_s:.3f} s of the best)")
    print(f"  the same as float adds   {min(adds):6.3f} s best  "
          f"(pulses / adds {min(totals) / min(adds):.1f}x)")
    print(f"  replay ends in the batch's own states: {'yes' if same_states else 'NO'}; "
          f"result hash {'/'.join(sorted(hashes))}")


if __name__ == "__main__":
    main_of(main)
