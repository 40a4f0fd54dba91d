"""Costs of PFF, FF and BP as networks grow, and the largest network that fits a die.

Everything here is the real algorithm on the counting backend (`analogff.estimate`): one
training batch and one inference, priced by `reports.run_energy.price_run`. Nothing trains.

* `cost(hw, algo, width, shape=Shape(), *, batch=BATCH)`: energy and latency per training
  sample and per inference, the priced chip area, on-chip memory (peak buffer bits, bits moved
  per sample) and the area of the chip this algorithm needs to train
  (`reports.training_memory.training_chip`) of a ``n_in - width x depth - n_classes`` network
  (`Shape`).
* `largest_width(hw, algo, area_mm2, shape=Shape(), *, batch=BATCH, rel_tol=0.0,
  max_width=65536, known=None, max_evals=None, **settings)`: the widest such network whose
  training chip fits ``area_mm2`` (doubling, then narrowing the bracket on the width; the area
  grows with the width).

The update family is the matched ``pulsed`` one (`algorithms.matched`): pulsed outer products at
one adaptive rate per array (rule ``scaled``, deterministic scheme), so no algorithm carries
per-weight digital state; the batch is the matched 50 images. PFF is the released two-layer
design (``preset="paper"``: K = 12 settling steps, competition groups of 10, a 20-unit top
latent and its generative circuit), so PFF points exist only at ``shape.depth == 2``; its width
must be a multiple of the group (10).
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from crossbar.chip import Hardware
from device_models.checks import check_number, plain

from .algorithms.matched import FAMILIES, MATCHED_BUDGET
from .errors import ConfigError

FAMILY = "pulsed"
BATCH = int(MATCHED_BUDGET["batch_size"])
PFF_DEPTH = 2     # the released PFF has exactly two hidden layers
PFF_GROUP = 10    # its lateral competition groups: widths are multiples of this


@dataclass(frozen=True)
class Shape:
    """``n_in - width x depth - n_classes`` (FF: the classes ride in the input)."""

    n_in: int = 784
    n_classes: int = 10
    depth: int = 2

    def network(self, width: int) -> tuple[int, ...]:
        return (self.n_in,) + (int(width),) * self.depth + (self.n_classes,)


def _check(algo: str, width: int, shape: Shape) -> None:
    if algo == "pff" and shape.depth != PFF_DEPTH:
        raise ConfigError(f"depth = {shape.depth} is not available for pff: the released PFF "
                          f"has {PFF_DEPTH} hidden layers")
    if algo == "pff" and width % PFF_GROUP:
        raise ConfigError(f"width = {width} must be a multiple of {PFF_GROUP} for pff")
    check_number("width", plain(width), 1, None, integer=True, error=ConfigError)


def ledger(hw: Hardware, algo: str, width: int, shape: Shape = Shape(), *,
           batch: int = BATCH) -> dict[str, Any]:
    """The ledger dict `analogff.estimate.estimate` prices: one training batch (its phases and
    buffers) and one inference (phase ``inference``). It depends on the device and the
    converters, not on the node: `price` re-prices it on any node."""
    from .estimate import build_ledgers

    _check(algo, width, shape)
    rule, scheme = FAMILIES[FAMILY]
    tl, il = build_ledgers(hw, shape.network(width), algo, batch=batch, optimizer=rule,
                           update=scheme, preset="paper")
    led = {"matrices": tl["matrices"],
           "entries": tl["entries"] + [{**e, "phase": "inference"} for e in il["entries"]]}
    if "memory" in tl:
        led["memory"] = tl["memory"]
    return led


def price(led: dict[str, Any], hw: Hardware, algo: str, width: int, shape: Shape = Shape(),
          *, batch: int = BATCH) -> dict[str, Any]:
    """One point of the scaling study (module docstring) from `ledger`'s dict, priced on
    ``hw`` as `analogff.estimate.estimate` prices it: plain numbers, J / s / mm² / bit."""
    from reports.run_energy import price_run

    s = price_run(led, hw, train_samples=batch, test_samples=1, inference_batch=batch,
                  precisions=("int8",)).summary()
    mem, chip = s["memory"], s["training_chip"]
    net = shape.network(width)
    return {"algo": algo, "width": int(width), "depth": shape.depth, "n_in": shape.n_in,
            "n_classes": shape.n_classes, "batch": batch, "device": hw.device,
            "node_nm": hw.node_nm, "transposed_readout": hw.transposed_readout,
            "energy_per_train_sample_j": s["per_train_sample_j"],
            "latency_per_train_sample_s": s["train_latency_per_sample_s"],
            "energy_per_inference_j": s["per_inference_j"],
            "latency_per_inference_s": s["latency_per_inference_s"],
            "train_by_phase_j": s["train_by_phase_j"],
            "by_component_j": s["by_component_j"],
            "area_mm2": s["area_mm2"],
            "train_chip_mm2": chip["area_mm2"],
            "train_chip_breakdown_mm2": chip["area_breakdown_mm2"],
            "peak_buffer_bits": mem["peak_bits"],
            "moved_bits_per_train_sample": mem["moved_bits_per_train_sample"],
            "digital_int8_per_train_sample_j": s["digital"]["int8"]["per_train_sample_j"],
            "weights": sum(a * b for a, b in zip(net[:-1], net[1:]))}


def cost(hw: Hardware, algo: str, width: int, shape: Shape = Shape(), *,
         batch: int = BATCH) -> dict[str, Any]:
    """`price` of `ledger` on ``hw``."""
    return price(ledger(hw, algo, width, shape, batch=batch), hw, algo, width, shape,
                 batch=batch)


_INIT_LOCK = threading.Lock()


def _orthogonal_draws_only(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """`algorithms.pff.orthogonal`'s draws without its QR: the same Gaussian, scaled to an
    orthogonal matrix's entry size (1/sqrt(max(rows, cols))), shape (rows, cols), float32.

    It consumes exactly the normals the real initialisation does, so everything PFF draws
    after it (lateral and generative weights, noise, data) is unchanged; only the values of
    the orthogonal matrices differ, which no part of the chip's area depends on."""
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    a *= 1.0 / math.sqrt(max(rows, cols))
    return (a if rows >= cols else a.T).astype(np.float32)


@contextmanager
def _area_only_init(algo: str) -> Iterator[None]:
    """While building a ledger only for the chip's area: PFF's orthogonal initialisation
    without its QR (`_orthogonal_draws_only`).

    The QR of each of PFF's five orthogonal matrices is O(width³): at width 2000 it was 95 %
    of an area evaluation (16 of 17 s here, loaded machine), at 4000 minutes. The chip's area
    depends on the matrices' shapes and converters, which of them are read transposed and the
    peak of the buffers the algorithm declares, none of which depends on the weights' values;
    the real `train_batch` still runs on the counting backend and files every event and
    buffer (tests/analogff/test_scaling.py checks the matrices, the transposed reads, the
    memory record and the area against the real initialisation). BP and FF draw uniform
    weights (cheap) and are left as they are."""
    if algo != "pff":
        yield
        return
    from .algorithms import pff

    with _INIT_LOCK:
        real = pff.orthogonal
        pff.orthogonal = _orthogonal_draws_only
        try:
            yield
        finally:
            pff.orthogonal = real


def train_chip_area(hw: Hardware, algo: str, width: int, shape: Shape = Shape(), *,
                    batch: int = BATCH, optimizer: str | None = None,
                    update: str | None = None, preset: str = "paper") -> float:
    """Area [mm²] of the chip ``algo`` needs to train the ``width`` network at ``batch``.

    The chip's matrices and which of them are read transposed do not depend on the batch or
    on PFF's settling steps, and every buffer the algorithms declare is a fixed number of
    rows per image, so the peak is linear in the batch: the ledger is built at batch 1 with
    one settling step and the peak scaled to ``batch`` (tests/analogff/test_scaling.py
    checks this against the full batch). ``optimizer`` / ``update`` / ``preset``: the
    algorithm's settings (default: the matched pulsed family at the paper preset); a
    per-weight optimiser state is part of the buffer. PFF's orthogonal matrices are drawn
    without their QR (`_area_only_init`): the area does not depend on the weights' values."""
    from reports.training_memory import training_chip

    from .estimate import build_ledgers

    _check(algo, width, shape)
    rule, scheme = FAMILIES[FAMILY]

    def training_ledger(b: int, K: int | None) -> dict[str, Any]:
        with _area_only_init(algo):
            return build_ledgers(hw, shape.network(width), algo, batch=b,
                                 optimizer=optimizer if optimizer is not None else rule,
                                 update=update if update is not None else scheme,
                                 preset=preset, K=K)[0]

    tl = training_ledger(1, 1 if algo == "pff" else None)
    mem = tl["memory"]
    state = sum(v for k, v in mem["at_peak"].items() if k.startswith(("optimizer.",
                                                                       "accumulator.")))
    if state and algo == "pff":
        # PFF creates its optimiser state during the first settling step, so the moment of
        # the peak depends on the batch: build the real batch, two steps (all state live)
        return training_chip(training_ledger(batch, 2), hw)["area_mm2"]
    # per-batch buffers scale with the batch; per-weight state does not
    peak = (float(mem["peak_bits"]) - state) * batch + state
    return training_chip(tl, hw, peak_bits=peak)["area_mm2"]


def largest_width(hw: Hardware, algo: str, area_mm2: float, shape: Shape = Shape(), *,
                  batch: int = BATCH, rel_tol: float = 0.0, max_width: int = 65536,
                  known: dict[int, float] | None = None, max_evals: int | None = None,
                  **settings: Any) -> dict[str, Any]:
    """The widest ``shape`` network whose training chip fits ``area_mm2``.

    Brackets the width by doubling from the smallest (or from ``known``: width -> area
    already computed on this chip, e.g. by a sweep; it is extended with every evaluation),
    then narrows the bracket [fits, does not fit] (`narrow`) until it is at most
    ``max(1, rel_tol * width)`` widths wide (PFF: in steps of 10). With the default
    ``rel_tol = 0`` the answer is exact: ``area(width) <= area_mm2 < area(width + step)``,
    the largest fitting width as the area does not fall as the width grows (checked
    exhaustively on a small chip in tests/analogff/test_scaling.py). Every width reported was
    evaluated exactly. ``settings``: `train_chip_area`'s optimizer / update / preset.
    ``max_evals`` stops the narrowing after that many new evaluations: the answer is then
    the bracket [``width``, ``next_width``) (``converged`` False). Returns ``{"width",
    "area_mm2", "next_width", "next_area_mm2", "evaluations", "capped", "converged"}``;
    ``width`` is 0 when even the smallest network does not fit, ``capped`` True (and
    ``next_width`` None) when ``max_width`` still fits."""
    check_number("area", area_mm2, 0.0, None, lo_open=True, unit="mm²", error=ConfigError)
    check_number("rel_tol", rel_tol, 0.0, None, error=ConfigError)
    step = PFF_GROUP if algo == "pff" else 1
    cache = known if known is not None else {}
    n_eval = [0]

    def area(units: int) -> float:
        w = units * step
        if w not in cache:
            n_eval[0] += 1
            cache[w] = train_chip_area(hw, algo, w, shape, batch=batch, **settings)
        return cache[w]

    def tol(lo: int) -> int:
        return max(1, int(rel_tol * lo))

    def out(lo, a_lo, hi, a_hi, capped=False):
        return {"width": lo * step, "area_mm2": a_lo, "next_width": hi * step if hi else None,
                "next_area_mm2": a_hi, "evaluations": n_eval[0], "capped": capped,
                "converged": not capped and hi is not None and hi - lo <= tol(lo)}

    fits = sorted(w // step for w, a in cache.items() if a <= area_mm2 and w % step == 0)
    over = sorted(w // step for w, a in cache.items() if a > area_mm2 and w % step == 0)
    lo = fits[-1] if fits else 0
    a_lo = cache[lo * step] if lo else 0.0
    hi = min([u for u in over if u > lo], default=None)
    if hi is None:
        hi = max(lo * 2, 1)
        while area(hi) <= area_mm2:
            lo, a_lo = hi, area(hi)
            if hi * step >= max_width:
                return out(lo, a_lo, None, None, capped=True)
            hi = min(hi * 2, max_width // step)
    # the last width (in steps) of each count of tiles across a hidden layer
    steps = sorted({k * t // step for t in {hw.tile_rows, hw.tile_cols}
                    for k in range(max(lo * step // t, 1), hi * step // t + 1)})
    lo, a_lo, hi, a_hi = narrow(area, area_mm2, lo, a_lo, hi, area(hi), tol,
                                stop=lambda: max_evals is not None and n_eval[0] >= max_evals,
                                steps=tuple(steps))
    return out(lo, a_lo, hi, a_hi)


def narrow(area, limit: float, lo: int, a_lo: float, hi: int, a_hi: float, tol,
           stop=lambda: False, steps: tuple[int, ...] = ()) -> tuple[int, float, int, float]:
    """Shrink the bracket ``area(lo) <= limit < area(hi)`` (integer widths, ``lo`` 0 meaning
    nothing fits) until ``hi - lo <= tol(lo)`` or ``stop()``; returns ``(lo, a_lo, hi,
    a_hi)``.

    The area is a staircase: tiles of ``tile_rows`` x ``tile_cols`` cells add a whole row or
    column of tiles, with its converters, where the width passes a multiple of the tile, and
    grow smoothly (buffers) in between. ``steps``: the widths after which it may jump (the
    last width of each tile count). First a bisection over the steps inside the bracket
    finds the stair the limit falls on; if ``lo`` is a step's last width, one evaluation at
    ``lo + 1`` says whether the jump is where the answer is; what is left lies on one smooth
    stair: false position (the width where the line through the ends meets the limit and, if
    that fits, the next one), safeguarded by bisection (a false-position step that does not at
    least halve the bracket is followed by a bisection step, so the bracket halves at least
    every three evaluations, whatever the shape). Without the safeguard false position crawls
    on a staircase: the line through the ends keeps landing beside the end next to a jump.
    Every evaluation keeps the bracket, so the answer is right for any area that does not
    fall as the width grows; ``steps`` only saves evaluations."""
    def take(mid: int) -> None:
        nonlocal lo, a_lo, hi, a_hi
        a = area(mid)
        if a <= limit:
            lo, a_lo = mid, a
        else:
            hi, a_hi = mid, a

    def done() -> bool:
        return hi - lo <= tol(lo) or stop()

    while not done():
        inside = [u for u in steps if lo < u < hi]
        if not inside:
            break
        take(inside[len(inside) // 2])
    if not done() and lo in steps:
        take(lo + 1)
    halved = True
    while not done():
        before = hi - lo
        if lo and halved and a_hi > a_lo:
            # the width where the line through the ends meets the limit (a hair above, so
            # that a limit exactly on an evaluated area is not truncated to the width below)
            mid = lo + math.floor((limit - a_lo) / (a_hi - a_lo) * (hi - lo) + 1e-6)
            mid = min(max(mid, lo + 1), hi - 1)
            take(mid)
            if lo == mid and not done():   # it fits: on a smooth stair it is the answer
                take(mid + 1)
        else:
            take((lo + hi) // 2)
        halved = 2 * (hi - lo) <= before + 1   # a bisection of an odd bracket counts
    return lo, a_lo, hi, a_hi
