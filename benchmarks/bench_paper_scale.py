"""One PFF training batch at the paper's scale, ideal and analog, against its matrix products.

    python benchmarks/bench_paper_scale.py [--repeats 3] [--device ecram] [--noise SIGMA]
                                           [--skip-analog] [--profile]
    python benchmarks/bench_paper_scale.py --state-hash     # what two batches leave, hashed

The paper preset (784-2000-2000, K = 12 settling steps, lateral groups of 10, batch 500
positives + 500 negatives, Adam as released): one ``train_batch`` on ideal float matrices and
one on analog tiles (``--device``, read noise of the device or ``--noise``, 8-bit converters),
and the same batch's matrix products alone: every forward, transposed, lateral and update
product the ideal batch asked for, and the gradient products ``xᵀd`` Adam forms digitally
(recorded from the ideal batch), replayed with random float32 operands of the same shapes
through numpy's BLAS on all its threads (the target's baseline), and again as a run computes
them (`crossbar.products`: BLAS on one thread, each large product in two halves of rows on the
kernels' threads, so that the records do not depend on the thread count). The batches run as
in a run, with BLAS held at one thread.

The four are timed side by side in one process, ``--repeats`` rounds of products → the run's
products → ideal → analog, so that a busy machine slows all of them alike: the ratios
(targets: ideal within 1.3× of its products, analog within 1.5× of ideal) are computed per
round and printed as the median with the spread (min–max) over the rounds, in wall time
and in CPU time of the process (all threads). Also printed: the load average (the absolute
times scale with it), the floor of the ideal ratio on this machine (the ideal batch's CPU
time spread over every core, over the products' wall time: no scheduling of the same work
goes below it) and the projected time of a 60-epoch MNIST run (60000 / 500 = 120 batches per
epoch) at the median batch time. Last, one
settling-noise draw of the batch (1000 × 2000 float32 normals) by NumPy's own loop and by
`crossbar.pcg_normals` (the same numbers; best of 5 each), the batch's compiled / threaded
passes (Adam step, ln, settling, lateral gradient and read, finiteness check) against their
NumPy form (best of 5 each, and whether the bits agree), the analog lateral read along
diagonals against the fused narrow read, and with ``--profile`` the
functions that take the most time (own time, `cProfile`) in one more ideal and analog batch.
Inputs are random images (784 values in [0, 1]): the time of a batch does not depend on their
content. Numba's compile and a first batch are done before timing.
"""

from __future__ import annotations

import analogff._threads  # noqa: F401  (before numpy: thread hand-off defaults)
import contextlib
import cProfile
import io
import os
import pstats
import statistics
import time

import numpy as np

from analogff.config import from_dict
from analogff.data import Dataset
from analogff.experiment import build
from crossbar.products import matmul, one_blas_thread

from _args import Parser, at_least, device_preset, main_of  # one-line refusals, exit 2

BATCH = 500
N_TRAIN = 60000
EPOCHS = 60
TARGET_IDEAL = 1.3    # ideal batch ÷ its matrix products (target)
TARGET_ANALOG = 1.5   # analog batch ÷ ideal batch (target)


def _data(n: int = 1000) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (n, 784)).astype(np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    return Dataset("random-mnist-shape", x, y, x[:100], y[:100], 10, (28, 28), "random")


def _net(ideal: bool, device: str, noise: float | None = None):
    """The paper preset's network on ``device`` (``noise``: read noise σ; None: the device's)."""
    cfg = {"preset": "paper", "ideal": ideal, "device": device, "dataset": "digits"}
    if noise is not None:
        cfg["noise"] = noise
    return build(from_dict(cfg), data=_data())


def _record_products(net) -> list:
    """Run one batch of ``net`` (ideal) recording the shape of every matrix product it asks
    for: (kind, matrix shape (out, in) or lateral (groups, block), batch rows). The wrappers
    are instance attributes and are removed afterwards."""
    calls: list = []
    algo = net.algo
    patched = []

    def patch(obj, attr, make):
        setattr(obj, attr, make(getattr(obj, attr)))
        patched.append((obj, attr))

    for m in algo.matrices:
        for kind in ("forward", "transposed", "update", "apply_delta"):
            def make(f, _k=kind, _m=m):
                def rec(*a, **kw):
                    calls.append((_k, _m.shape, np.shape(a[0])[0] if _k != "apply_delta" else 0))
                    return f(*a, **kw)
                return rec
            patch(m, kind, make)
    for blk in algo.lat:                    # lateral reads: G blocks of k×k
        def make_lat(f, _b=blk):
            def lat(x):
                calls.append(("lateral", (_b.n_blocks, _b.block), np.shape(x)[0]))
                return f(x)
            return lat
        patch(blk, "forward", make_lat)

    def make_lat_learn(f):                  # the lateral gradient: Σ_b z_gᵀ δ_g per group
        def learn(k, zprev, delta, lr):
            blk = algo.lat[k]
            calls.append(("lateral_grad", (blk.n_blocks, blk.block), zprev.shape[0]))
            return f(k, zprev, delta, lr)
        return learn
    patch(algo, "_lateral_learn", make_lat_learn)
    for rule in {id(r): r for r in (algo.rule_r, algo.rule_g)}.values():
        if rule.name == "adam":             # Adam forms xᵀd digitally, outside the matrix
            def make_grad(f):
                def matrix(M, x, d, lr, ledger):
                    calls.append(("gradient", M.shape, x.shape[0]))
                    return f(M, x, d, lr, ledger)
                return matrix
            patch(rule, "matrix", make_grad)
    x, y = net.data.x_train[:BATCH], net.data.y_train[:BATCH]
    algo.train_batch(x, y)
    for obj, attr in patched:
        delattr(obj, attr)
    return calls


def _operands(calls) -> list:
    """Random float32 operands of the recorded products: (a, b, "mm" | "add")."""
    rng = np.random.default_rng(1)
    r = lambda *s: rng.standard_normal(s, np.float32)  # noqa: E731
    ops = []
    for kind, (p, q), B in calls:
        if kind == "forward":           # (B, in) @ (in, out)
            ops.append((r(B, q), r(q, p), "mm"))
        elif kind == "transposed":      # (B, out) @ (out, in)
            ops.append((r(B, p), r(p, q), "mm"))
        elif kind in ("update", "gradient"):   # xᵀd: (in, B) @ (B, out), as both form it
            ops.append((r(B, q).T, r(B, p), "mm"))
        elif kind == "lateral":         # G blocks: (G, B, k) @ (G, k, k)
            ops.append((r(p, B, q), r(p, q, q), "mm"))
        elif kind == "lateral_grad":    # (G, k, B) @ (G, B, k)
            ops.append((r(p, q, B), r(p, B, q), "mm"))
        else:                           # apply_delta: an elementwise add of the step
            ops.append((r(p, q), r(p, q), "add"))
    return ops


def _time(f):
    w, c = time.perf_counter(), time.process_time()
    f()
    return time.perf_counter() - w, time.process_time() - c


def _replay(ops) -> None:
    """The products as numpy's BLAS computes them on all its threads."""
    for a, b, how in ops:
        if how == "mm":
            np.matmul(a, b)
        else:
            a += b


def _replay_as_run(ops) -> None:
    """The products as a run computes them (`crossbar.products`: BLAS on one thread, a large
    2-D product in two halves of rows on the kernels' threads; the lateral stacks, whose
    blocks are ten wide, as NumPy's batched product on one thread)."""
    with one_blas_thread():
        for a, b, how in ops:
            if how != "mm":
                a += b
            elif a.ndim == 2:
                matmul(a, b)
            else:
                np.matmul(a, b)


def _spread(xs) -> str:
    return f"{statistics.median(xs):5.2f}x  (min {min(xs):.2f}, max {max(xs):.2f})"


def main() -> None:
    ap = Parser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=at_least(1), default=3,
                    help="rounds of products/ideal/analog")
    ap.add_argument("--device", type=device_preset, default="ecram")
    ap.add_argument("--noise", type=float, default=None,
                    help="read noise sigma of the analog batch (default: the device's); "
                         "--noise 0 shows what the read noise and its deviates cost")
    ap.add_argument("--skip-analog", action="store_true")
    ap.add_argument("--profile", action="store_true",
                    help="then print the 12 functions with the most own time in one batch each")
    ap.add_argument("--state-hash", action="store_true",
                    help="only print a hash of what two batches leave (ideal and analog), to "
                         "check that a change of the code keeps the numbers")
    a = ap.parse_args()
    if a.state_hash:
        _state_hashes(a.device, not a.skip_analog)
        return

    load0 = os.getloadavg()
    ideal = _net(True, a.device)
    calls = _record_products(ideal)
    ops = _operands(calls)
    kinds = {k: sum(1 for c in calls if c[0] == k) for k in dict.fromkeys(c[0] for c in calls)}
    nets = {"ideal": ideal}
    if not a.skip_analog:
        nets["analog"] = _net(False, a.device, a.noise)
    x, y = ideal.data.x_train[:BATCH], ideal.data.y_train[:BATCH]
    with one_blas_thread():                 # as a run (analogff.experiment.run_experiment)
        for net in nets.values():
            net.algo.train_batch(x, y)      # compile and warm up
    _replay(ops)
    _replay_as_run(ops)
    t = {k: [] for k in ("products", "run_products", *nets)}
    for _ in range(a.repeats):              # side by side: one of each per round
        t["products"].append(_time(lambda: _replay(ops)))
        t["run_products"].append(_time(lambda: _replay_as_run(ops)))
        with one_blas_thread():
            for name, net in nets.items():
                t[name].append(_time(lambda: net.algo.train_batch(x, y)))
    load1 = os.getloadavg()

    print(f"paper preset: 784-2000-2000, K=12, batch {BATCH}+{BATCH}; {len(calls)} matrix "
          "products per batch (" + ", ".join(f"{n} {k}" for k, n in kinds.items()) + ")")
    print(f"load average {load0[0]:.1f} at start, {load1[0]:.1f} at end "
          f"({os.cpu_count()} CPUs): absolute times scale with it, the ratios much less")
    print(f"{a.repeats} rounds; median (min-max) seconds per batch, wall | CPU of all threads:")
    med = {k: statistics.median(w for w, _ in v) for k, v in t.items()}
    labels = {"products": "matrix products alone (BLAS)",
              "run_products": "the same as a run computes them",
              "ideal": "ideal PFF batch",
              "analog": f"analog PFF batch ({a.device}"
                        + ("" if a.noise is None else f", noise {a.noise:g}") + ")"}
    width = max(30, *(len(labels[k]) for k in t))
    for name, v in t.items():
        w, c = [x[0] for x in v], [x[1] for x in v]
        print(f"  {labels[name]:<{width}} {med[name]:7.2f} s ({min(w):.2f}-{max(w):.2f}) | "
              f"{statistics.median(c):7.2f} s ({min(c):.2f}-{max(c):.2f})")
    for j, unit in ((0, "wall"), (1, "CPU")):
        r_i = [i[j] / p[j] for i, p in zip(t["ideal"], t["products"])]
        print(f"ideal / products ({unit}):  {_spread(r_i)}   target <= {TARGET_IDEAL}x")
        r_r = [i[j] / p[j] for i, p in zip(t["ideal"], t["run_products"])]
        print(f"ideal / products as a run computes them ({unit}):  {_spread(r_r)}")
        if "analog" in t:
            r_a = [an[j] / i[j] for an, i in zip(t["analog"], t["ideal"])]
            print(f"analog / ideal ({unit}):    {_spread(r_a)}   target <= {TARGET_ANALOG}x")
    # with its present work, the ideal batch cannot beat its CPU time spread over every core:
    # the floor of its wall ratio on this machine, whatever the scheduling
    cpus = os.cpu_count() or 1
    floor = statistics.median(i[1] / cpus / p[0] for i, p in zip(t["ideal"], t["products"]))
    print(f"ideal / products floor on {cpus} cores (its CPU time / {cpus}, over the products' "
          f"wall): {floor:.2f}x")
    batches = N_TRAIN / BATCH * EPOCHS
    for name in nets:
        print(f"projected {EPOCHS}-epoch MNIST run ({N_TRAIN} images, {batches:.0f} batches), "
              f"{name}: {med[name] * batches / 3600:6.1f} h at this load")
    _noise_draw()
    _compiled_passes()
    _stack_read()
    if a.profile:
        for name, net in nets.items():
            with one_blas_thread():
                _profile(name, lambda: net.algo.train_batch(x, y))


def _state_hashes(device: str, analog: bool) -> None:
    """What two paper batches leave, hashed (ideal, then analog): the values `train_batch`
    returned, every matrix's weights and, on analog tiles, its conductances, its random
    generator's state and the energy ledger. Equal hashes from two codes (any thread count)
    mean the change kept the numbers."""
    import hashlib

    for ideal in (True, False) if analog else (True,):
        net = _net(ideal, device)
        x, y = net.data.x_train[:BATCH], net.data.y_train[:BATCH]
        h = hashlib.sha256()
        for _ in range(2):
            with one_blas_thread():         # as a run
                h.update(repr(net.algo.train_batch(x, y)).encode())
        for m in net.algo.matrices:
            h.update(np.ascontiguousarray(m.weights()).tobytes())
            if not ideal:
                gp, gm = m.conductances()
                h.update(gp.tobytes())
                h.update(gm.tobytes() if gm is not None else b"")
                h.update(repr(m.rng_state()).encode())
                h.update(repr(sorted(m.ledger.to_dict().items(), key=str)).encode())
        print(f"{'ideal' if ideal else 'analog'} state after two batches: "
              f"{h.hexdigest()[:16]}")


def _noise_draw(shape=(2 * BATCH, 2000), rounds: int = 5) -> None:
    """One settling-noise draw of the batch, NumPy's loop against the threaded draw."""
    from crossbar.pcg_normals import standard_normal_f32, usable

    usable()                                  # its first-use check, outside the timing
    rng = np.random.default_rng(0)
    best = {}
    for name, draw in (("NumPy Generator.standard_normal",
                        lambda: rng.standard_normal(shape, dtype=np.float32)),
                       ("crossbar.pcg_normals (same numbers)",
                        lambda: standard_normal_f32(rng, shape))):
        best[name] = min(_time(draw)[0] for _ in range(rounds))
    print(f"settling noise, one {shape[0]} x {shape[1]} float32 draw (best of {rounds}): " +
          ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in best.items()))


@contextlib.contextmanager
def _set(module, name: str, value):
    """``module.name = value`` for the duration (a size threshold, to take the NumPy path)."""
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


def _compiled_passes(rounds: int = 5) -> None:
    """The batch's compiled passes against the NumPy code they stand in for, at the paper's
    shapes, on the same threads (best of ``rounds`` each), and whether their results are the
    same bits."""
    from analogff.algorithms import fused, pff, updates
    from crossbar import blockdiag
    from crossbar.blockdiag import BlockDiagonal
    from crossbar.finite import all_finite_f32
    from crossbar.ideal import IdealMatrix

    rng = np.random.default_rng(2)
    N, n, k = 2 * BATCH, 2000, 10
    z = np.maximum(rng.standard_normal((N, n), dtype=np.float32), 0)
    d = rng.standard_normal((N, n), dtype=np.float32)
    g = rng.standard_normal((n, n), dtype=np.float32)
    halves = lambda a: (a[:BATCH], a[BATCH:])  # noqa: E731
    reads = (halves(rng.standard_normal((N, n), dtype=np.float32)), halves(d))
    lat = halves(0.01 * d)
    bias, noise = d[0].copy(), 0.01 * g[:N]
    lateral = BlockDiagonal(IdealMatrix(k, n), k)
    lateral.program_blocks(rng.uniform(-0.05, 0.05, (n // k, k, k)).astype(np.float32))
    # two optimisers stepped alike (the same calls in the same order), so their states agree
    opts = updates.Adam(1.0, 1.0), updates.Adam(1.0, 1.0)
    adam = lambda o: lambda: o.step(0, g, None, lr=1e-3)  # noqa: E731
    numpy_at = lambda mod, name, f: lambda: _with(mod, name, 1 << 62, f)  # noqa: E731
    alpha = np.float32(0.3)   # as PFF passes it (hp values as float32)
    cases = (
        ("Adam step, 2000 x 2000", adam(opts[0]),
         numpy_at(updates, "ADAM_COMPILED_FROM", adam(opts[1]))),
        ("ln, 1000 x 2000", lambda: pff.ln(z), numpy_at(fused, "JIT_MIN", lambda: pff.ln(z))),
        ("settling sum, mix, goodness", lambda: pff._settle(reads, bias, noise, lat, z, alpha),
         numpy_at(fused, "JIT_MIN", lambda: pff._settle(reads, bias, noise, lat, z, alpha))),
        ("lateral gradient", lambda: fused.group_outer(z, d, k),
         numpy_at(fused, "JIT_MIN", lambda: fused.group_outer(z, d, k))),
        ("lateral read, 500 x 2000", lambda: lateral.forward(z[:BATCH]),
         numpy_at(blockdiag, "THREADED_FROM", lambda: lateral.forward(z[:BATCH]))),
        ("finiteness check, 2000 x 2000", lambda: np.bool_(all_finite_f32(g)),
         lambda: np.isfinite(g).all()),
    )
    print(f"compiled / threaded passes against their NumPy form (best of {rounds}, ms):")
    for label, fast, slow in cases:
        same = _same_bits(fast(), slow())
        t_fast = min(_time(fast)[0] for _ in range(rounds))
        t_slow = min(_time(slow)[0] for _ in range(rounds))
        print(f"  {label:<30} {t_fast * 1e3:7.2f} vs {t_slow * 1e3:7.2f}  "
              f"({t_slow / t_fast:.1f}x; same bits: {'yes' if same else 'NO'})")


def _stack_read(rounds: int = 5, groups: int = 200, k: int = 10) -> None:
    """The analog lateral read at the paper's size (500 x 2000, groups of 10, read apart, read
    noise on) by the stack read along diagonals and by the fused narrow read it replaced
    (the same key: the same numbers), best of ``rounds`` each."""
    from crossbar import kernels as K

    rng = np.random.default_rng(3)
    n = groups * k
    x = np.maximum(rng.standard_normal((BATCH, n), dtype=np.float32), 0)
    M = rng.uniform(-1, 1, (k, n)).astype(np.float32)
    args = (127, True, 1.0, np.arange(0, n + 1, k, dtype=np.int64), np.ones(n, np.float32),
            np.float32(0.01), True, np.full(groups, 0.05, np.float32), 127.0, 12345)
    outs = [np.empty((BATCH, groups, k), np.float32) for _ in range(2)]
    energy = np.empty(BATCH)
    D = K.diagonals(M)
    reads = (lambda: K.read_stack(x, D, *args, outs[0], energy, 1.0),
             lambda: K.read_narrow(x, M, *args, outs[1], True, energy, 1.0))
    best = []
    for read in reads:
        read()
        best.append(min(_time(read)[0] for _ in range(rounds)))
    print(f"analog lateral read, {BATCH} x {n} in groups of {k} (best of {rounds}): along "
          f"diagonals (crossbar.diagonal_reads) {best[0] * 1e3:.2f} ms, fused narrow read "
          f"{best[1] * 1e3:.2f} ms (same bits: {'yes' if _same_bits(*outs) else 'NO'})")


def _same_bits(a, b) -> bool:
    """Whether two results (arrays, or tuples of arrays) hold the same bits."""
    if isinstance(a, tuple):
        return all(_same_bits(p, q) for p, q in zip(a, b))
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _with(module, name: str, value, f):
    with _set(module, name, value):
        return f()


def _profile(name: str, batch) -> None:
    prof = cProfile.Profile()
    prof.runcall(batch)
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next(k for k, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    print(f"{name} batch, own time per function (cProfile; its overhead included):")
    print("\n".join(lines[start:start + 13]))


if __name__ == "__main__":
    main_of(main)
