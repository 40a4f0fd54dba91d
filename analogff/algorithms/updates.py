"""Update rules shared by PFF, FF and BP: how a local gradient becomes a weight change.

Every algorithm here forms its gradients as ``∇W = dᵀx`` (a batch of outer products) plus a few
small digital arrays (biases, PFF's lateral blocks). A rule turns those into writes:

``sgd``     pulsed outer product ``W -= lr·dᵀx`` through ``M.update`` (crossbar-native: the array
            applies the rank-B update as pulses; no digital state per weight).
``scaled``  the same pulsed outer product with a per-array adaptive rate:
            ``lr_eff = lr / (√v̂ + √ε)``, ε = `SCALED_EPS`, with ``v`` a running mean (β = 0.999,
            bias-corrected as in Adam) of the array's mean-square rank-1 term
            ``Σ_b ‖x_b‖²‖d_b‖² / (in·out)`` (two row norms per sample, measured at the array's
            edges). The rule keeps ONE digital
            scalar per array and never forms the gradient: Adam's second moment at array
            granularity (no momentum, no per-weight moments), which removes SGD's mismatch of
            rates between arrays whose gradients differ by orders of magnitude. (The exact
            ‖dᵀx‖²_F, from two B×B Gram matrices, was tried first: 93.6 % vs 95.6 % analog on
            digits at lr 1e-2, seed 0, and B² (in+out) MACs instead of B (in+out).)
``factored`` the same pulsed outer product with a row × column adaptive rate (Adafactor's
            factored second moment, applied by scaling the row and column drive signals):
            in + out digital scalars per array (`Factored`).
``adam``    Keras-style Adam with elementwise clipping (the PFF release's optimiser): the
            gradient is formed digitally and two 32-bit moments per weight are read and
            written per step; the step is applied as pulses through ``M.apply_delta``.

The periphery's update scheme (``deterministic`` / ``stochastic`` / ``mixed``: a digital
accumulator per weight that fires pulses when it crosses Δw_min) is orthogonal to the rule and
set per run (``--update``).

Digital work is counted in the ledger: Adam's per-weight traffic, the gradient MACs it needs,
the row-norm MACs of ``scaled`` (B·(in+out+1) per array) and ``factored``.
"""

from __future__ import annotations

import math

import numpy as np

from crossbar.products import matmul
from device_models.checks import check_choice

SCALED_BETA = 0.999   # second-moment decay of the per-array rate (Adam's β₂)
SCALED_EPS = 1e-12    # keeps the rate finite before any gradient was seen (mean-square units)
# Adam's elementwise work runs over chunks of this many elements (128 KiB of float32 per
# array): the chunk's gradient, moments and temporaries stay in L2 cache across its ten passes
ADAM_CHUNK = 1 << 15
# From this many elements (the paper preset's arrays), when Numba may use more than one
# thread, the chunks are split into contiguous runs, one per thread (NumPy releases the GIL
# inside each pass), in chunks of ADAM_CHUNK_THREADED: with 32 Ki-element chunks the threads
# queued for the GIL between passes (two threads no faster than one on a 2000 × 2000 step);
# 128 Ki-element chunks let two threads share the step
ADAM_THREADED_FROM = 1 << 20
ADAM_CHUNK_THREADED = 1 << 17
# From this many elements a float32 step runs as one compiled pass per element instead
# (`fused.adam_span`: the same operations; `python benchmarks/bench_paper_scale.py` times
# both), split between threads the same way; smaller runs never compile it
ADAM_COMPILED_FROM = 1 << 20


def _threads() -> int:
    """Numba's number of threads (numba is imported here, on first use: ``import analogff``
    stays fast)."""
    import numba
    return numba.get_num_threads()


class Adam:
    """Keras-style Adam with elementwise gradient clipping, as in the released PFF code.

    Digital: per weight, two moments read and written (32 bit each) and ~10 operations per
    step are counted in the ledger.
    """

    def __init__(self, lr: float, clip: float, b1=0.9, b2=0.999, eps=1e-7):
        self.lr, self.clip, self.b1, self.b2, self.eps = lr, clip, b1, b2, eps
        self.scale = 1.0  # factor on self.lr when step() gets no lr (nothing here sets it:
        # the rules pass the scheduled rate as lr)
        self.m: dict[int, np.ndarray] = {}
        self.v: dict[int, np.ndarray] = {}
        self.t: dict[int, int] = {}

    def step(self, key: int, grad: np.ndarray, ledger, lr: float | None = None) -> np.ndarray:
        """The step to add for gradient ``grad`` (``lr``: this call's rate, schedule
        included; default ``self.lr · self.scale``).

        Computed in cache-sized chunks, in place: every element goes through the same
        operations in the same order as ``m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g·g;
        step = −lr_t·m / (√v + eps)`` on whole arrays (identical results), but a paper-size
        array (2000 × 2000) is read once from memory instead of a dozen times through
        as many full-size temporaries; from `ADAM_COMPILED_FROM` float32 elements (clip > 0)
        in one compiled pass per element (`fused.adam_span`, the same operations)."""
        grad = np.asarray(grad)
        # the dtype np.clip(grad, ±clip) has: the moments and the arithmetic are in it
        dt = grad.dtype if np.issubdtype(grad.dtype, np.floating) else np.dtype(np.float64)
        if key not in self.m:
            if ledger is not None:  # two 32-bit moments per weight, kept for the whole run
                ledger.hold(f"optimizer.adam{len(self.m)}", 64 * grad.size)
            self.m[key] = np.zeros(grad.shape, dtype=dt)
            self.v[key] = np.zeros(grad.shape, dtype=dt)
            self.t[key] = 0
        self.t[key] += 1
        t = self.t[key]
        m, v = self.m[key], self.v[key]
        base = self.lr * self.scale if lr is None else lr
        lr_t = base * math.sqrt(1 - self.b2 ** t) / (1 - self.b1 ** t)
        if ledger is not None:
            n = grad.size
            ledger.digital(dig_mac=8 * n, dig_nonlin=2 * n, dig_cmp=2 * n,
                           sram_read_bits=64 * n, sram_write_bits=64 * n)
        out = np.empty(grad.shape, dtype=dt)
        flat = (grad.reshape(-1), m.reshape(-1), v.reshape(-1), out.reshape(-1))
        n = flat[0].size
        threads = _threads() if n >= ADAM_THREADED_FROM else 1
        chunk = ADAM_CHUNK_THREADED if threads > 1 else ADAM_CHUNK
        if n >= ADAM_COMPILED_FROM and dt == np.float32 and self.clip > 0:
            # one compiled pass per element, same operations (fused.adam_span)
            from .fused import adam_span
            consts = (self.b1, 1 - self.b1, self.b2, 1 - self.b2, self.clip, self.eps, -lr_t)

            def span(c0: int, c1: int) -> None:
                adam_span(*flat, c0 * chunk, min(c1 * chunk, n), *consts)
        else:
            def span(c0: int, c1: int) -> None:   # chunks c0 … c1 - 1
                self._passes(*flat, c0 * chunk, min(c1 * chunk, n), chunk, lr_t)

        from crossbar.threads import run_spans
        run_spans(span, -(-n // chunk), threads)
        return out.astype(np.float32, copy=False)

    def _passes(self, gf, mf, vf, of, a: int, b: int, chunk: int, lr_t: float) -> None:
        """Adam's passes over the flat elements [a, b), ``chunk`` at a time (in place in the
        moments mf, vf; the step into of). Every element gets the same operations whatever
        the chunking, so neither the chunk size nor the split between threads changes it."""
        dt = mf.dtype
        g = np.empty(min(chunk, b - a), dtype=dt)
        tmp = np.empty_like(g)
        # Python-float scalars, as in the whole-array expressions (NumPy casts them to dt)
        c1, c2, clip = 1 - self.b1, 1 - self.b2, self.clip
        for s in range(a, b, chunk):
            e = min(s + chunk, b)
            gc, tc, mc, vc, oc = g[:e - s], tmp[:e - s], mf[s:e], vf[s:e], of[s:e]
            if clip > 0:   # np.clip's values (signed zeros too) without its wrapper's cost
                np.minimum(np.maximum(gf[s:e], -clip, out=gc), clip, out=gc)
            else:
                np.clip(gf[s:e], -clip, clip, out=gc)
            np.multiply(mc, self.b1, out=mc)                     # m = b1·m + (1−b1)·g
            np.add(mc, np.multiply(gc, c1, out=tc), out=mc)
            np.multiply(vc, self.b2, out=vc)                     # v = b2·v + ((1−b2)·g)·g
            np.multiply(gc, c2, out=tc)
            np.add(vc, np.multiply(tc, gc, out=tc), out=vc)
            np.add(np.sqrt(vc, out=tc), self.eps, out=tc)        # √v + eps
            np.divide(np.multiply(mc, -lr_t, out=oc), tc, out=oc)  # (−lr_t·m) / (√v + eps)


ACC_BITS = 16  # the mixed-precision digital accumulator per weight (as crossbar counts it)


def hold_accumulator(M, ledger) -> None:
    """Declare a mixed-precision matrix's per-weight digital accumulator (kept for the run)."""
    if M.periphery is not None and M.periphery.update == "mixed":
        ledger.hold(f"accumulator.{M.name}", ACC_BITS * M.in_features * M.out_features)


class Rule:
    """Base: ``matrix`` updates a crossbar matrix from (x, d); ``step`` returns the change of
    a small digital array (bias, lateral block stack) for its gradient."""

    name = "?"
    per_weight_state_bits = 0  # digital state kept per weight (for the comparison tables)

    def __init__(self, clip: float = 1.0) -> None:
        self.clip = clip

    def matrix(self, M, x: np.ndarray, d: np.ndarray, lr: float, ledger) -> None:
        raise NotImplementedError

    def step(self, key, grad: np.ndarray, lr: float, ledger) -> np.ndarray:
        raise NotImplementedError


class SGD(Rule):
    """Pulsed outer products at a fixed (scheduled) rate."""

    name = "sgd"

    def matrix(self, M, x, d, lr, ledger) -> None:
        hold_accumulator(M, ledger)
        M.update(x, -d, float(lr))

    def step(self, key, grad, lr, ledger) -> np.ndarray:
        return (-np.float32(lr) * grad).astype(np.float32)


class Scaled(Rule):
    """Pulsed outer products at a per-array rate lr/√(running mean-square gradient)."""

    name = "scaled"

    def __init__(self, clip: float = 1.0) -> None:
        super().__init__(clip)
        self.v: dict = {}
        self.t: dict = {}

    def _rate(self, key, mean_sq: float, lr: float) -> float:
        v = self.v.get(key, 0.0) * SCALED_BETA + (1 - SCALED_BETA) * mean_sq
        t = self.t.get(key, 0) + 1
        self.v[key], self.t[key] = v, t
        v_hat = v / (1 - SCALED_BETA ** t)
        return float(lr) / (math.sqrt(v_hat) + math.sqrt(SCALED_EPS))

    def matrix(self, M, x, d, lr, ledger) -> None:
        B = x.shape[0]
        # the batch's mean-square rank-1 term, Σ_b ‖x_b‖²‖d_b‖² / (in·out): two row norms per
        # sample at the array's edges, B·(in+out) MACs, no gradient formed
        sq = float(np.sum((x * x).sum(axis=1) * (d * d).sum(axis=1), dtype=np.float64))
        R, C = M.in_features, M.out_features
        ledger.digital(dig_mac=B * (R + C + 1), dig_nonlin=1)
        hold_accumulator(M, ledger)
        M.update(x, -d, self._rate(id(M), sq / (R * C), lr))

    def step(self, key, grad, lr, ledger) -> np.ndarray:
        ledger.digital(dig_mac=grad.size, dig_nonlin=1)
        rate = self._rate(key, float(np.mean(np.square(grad, dtype=np.float64))), lr)
        return (-np.float32(rate) * grad).astype(np.float32)


class Factored(Rule):
    """Pulsed outer products with a factored (row × column) adaptive rate — Adafactor's
    second moment (Shazeer & Stern 2018) estimated from the rank-1 terms, applied by scaling
    the row and column drive signals, so the write is still one outer product:
    ``ΔW = −lr·(x⊙a)ᵀ(d⊙b)``, ``a_i = 1/√R̂_i``, ``b_j = √(ΣR̂)/√Ĉ_j``, with R, C running means
    (β = 0.999, bias-corrected) of ``Σ_b x_bi²‖d_b‖²`` and ``Σ_b d_bj²‖x_b‖²`` (the row and
    column sums of the rank-1 terms' squares). State: in + out scalars per array."""

    name = "factored"

    def __init__(self, clip: float = 1.0) -> None:
        super().__init__(clip)
        self.r: dict = {}
        self.c: dict = {}
        self.t: dict = {}

    def _scales(self, key, r_now, c_now):
        t = self.t.get(key, 0) + 1
        r = self.r.get(key, 0.0) * SCALED_BETA + (1 - SCALED_BETA) * r_now
        c = self.c.get(key, 0.0) * SCALED_BETA + (1 - SCALED_BETA) * c_now
        self.r[key], self.c[key], self.t[key] = r, c, t
        corr = 1 - SCALED_BETA ** t
        rh, ch = r / corr, c / corr
        tot = float(rh.sum())
        floor = 1e-12 * max(tot, 1e-30)  # rows/columns never driven keep a finite scale
        a = 1.0 / np.sqrt(rh + floor)
        b = math.sqrt(tot) / np.sqrt(ch + floor * len(ch) / max(len(rh), 1))
        return a.astype(np.float32), b.astype(np.float32)

    def matrix(self, M, x, d, lr, ledger) -> None:
        B = x.shape[0]
        xx, dd = x * x, d * d
        r_now = (xx * dd.sum(axis=1, keepdims=True)).sum(axis=0, dtype=np.float64)
        c_now = (dd * xx.sum(axis=1, keepdims=True)).sum(axis=0, dtype=np.float64)
        a, b = self._scales(id(M), r_now, c_now)
        R, C = M.in_features, M.out_features
        ledger.digital(dig_mac=3 * B * (R + C) + 4 * (R + C), dig_nonlin=R + C,
                       sram_read_bits=32 * (R + C), sram_write_bits=32 * (R + C))
        M.update(x * a, -(d * b), float(lr))

    def step(self, key, grad, lr, ledger) -> np.ndarray:
        g = np.asarray(grad, dtype=np.float64)
        g2 = g.reshape(g.shape[0], -1) if g.ndim > 1 else g.reshape(1, -1)
        a, b = self._scales(key, (g2 * g2).sum(axis=1), (g2 * g2).sum(axis=0))
        ledger.digital(dig_mac=3 * g.size, dig_nonlin=sum(g2.shape))
        return (-np.float32(lr) * (a[:, None] * g2 * b[None, :])).reshape(g.shape).astype(np.float32)


class AdamRule(Rule):
    """Digital Adam (clipped), applied as pulses through ``apply_delta``."""

    name = "adam"
    per_weight_state_bits = 64

    def __init__(self, clip: float = 1.0) -> None:
        super().__init__(clip)
        self.adam = Adam(1.0, clip)

    def matrix(self, M, x, d, lr, ledger) -> None:
        # the gradient formed digitally as xᵀd (in, out), the layout the matrices store (the
        # same products as (dᵀx)ᵀ, the same bits with this machine's BLAS), Adam's moments
        # kept in it; apply_delta takes the step's (out, in) transpose view and walks it in
        # memory order (a plain add or scale, not a blocked transpose)
        grad_t = np.asarray(matmul(x.T, d), dtype=np.float32)
        ledger.digital(dig_mac=grad_t.size * x.shape[0])
        hold_accumulator(M, ledger)
        M.apply_delta(self.adam.step(id(M), grad_t, ledger, lr=lr).T)

    def step(self, key, grad, lr, ledger) -> np.ndarray:
        return self.adam.step(key, grad, ledger, lr=lr)


_BY_NAME = {cls.name: cls for cls in (SGD, Scaled, Factored, AdamRule)}
RULES = tuple(_BY_NAME)   # ("sgd", "scaled", "factored", "adam"): the --optimizer choices


def make_rule(name: str, clip: float = 1.0) -> Rule:
    """The rule called ``name`` (one of `RULES`)."""
    from ..errors import ConfigError
    check_choice("optimizer", name, RULES, error=ConfigError)
    return _BY_NAME[name](clip)


def resolve_rates(hp: dict, preset: dict, user_lr: float | None, update: str | None = None) -> None:
    """Set ``hp["lr"]`` (and PFF's ``hp["lr_gen"]``) for the rule ``hp["optimizer"]``, in place.

    ``preset``: the hyperparameters before the user's options. Without ``--lr``: the
    algorithm's ``lr_<rule>_<update>`` / ``lr_gen_<rule>_<update>`` defaults for the pulse scheme
    ``update`` when it has them, else ``lr_<rule>`` / ``lr_gen_<rule>``, else ``lr`` / ``lr_gen``
    (each rule has its own scale: Adam and ``scaled`` take a step size, ``sgd`` a gain on the
    raw gradient; the ``mixed`` scheme keeps in its accumulator what the deterministic scheme's
    pulse cap drops, so the same nominal rate steps further there). With ``--lr``: that rate,
    and for PFF the generative rate keeps the default generative/representation ratio."""
    rule = hp.get("optimizer")

    def key(stem: str) -> str:
        for k in (f"{stem}_{rule}_{update}", f"{stem}_{rule}"):
            if preset.get(k) is not None:
                return k
        return stem

    base_lr, base_gen = preset.get(key("lr")), preset.get(key("lr_gen"))
    hp["lr"] = base_lr if user_lr is None else user_lr
    if base_gen is not None:
        hp["lr_gen"] = base_gen if user_lr is None else user_lr * base_gen / base_lr
