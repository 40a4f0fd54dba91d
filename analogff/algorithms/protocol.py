"""A run's evaluation protocol: held-out dev split, best-dev checkpoint, and the learning curve
priced as it goes (energy to accuracy).

* ``dev_fraction`` > 0 holds out that share of the training set (a seeded, class-stratified
  draw) as a dev set; after every epoch the network is scored on it and the best-scoring
  weights are kept (the released PFF protocol: ``sim_train.py`` saves the model whenever dev
  accuracy improves and reports the test error of that checkpoint). The checkpoint is the
  weights read from the arrays; restoring it reprograms the arrays (``program``, counted under
  the ledger phase ``checkpoint``), as a chip would.
* With ``curve`` on, every epoch also scores the test set and prices the training ledger so far
  on the run's chip: ``points`` = [{epoch, samples, train_energy_j, test_accuracy, dev_accuracy}],
  and ``energy_to_targets`` = the cumulative training energy [J] (and samples) at the end of the
  first epoch whose test accuracy reached each target (None if never).

Scoring is done with the ledger suspended and every matrix's random stream restored
(``experiment.monitoring``), so a run with the curve or the dev protocol on trains exactly as
one without (apart from the smaller training set of a dev split), and the evaluations are not
part of the priced training energy.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

DEFAULT_TARGETS = (0.5, 0.8, 0.9, 0.95)  # test-accuracy targets for energy-to-accuracy
CHECKPOINT_PHASE = "checkpoint"


def split_dev(data, fraction: float, seed: int):
    """(training data without the dev rows, x_dev, y_dev): ``round(fraction·N_c)`` rows of
    each class c (N_c its training rows), drawn seeded; the rest kept in their original
    order."""
    if not (0.0 < fraction < 1.0):
        raise ValueError(f"dev_fraction = {fraction!r} must be in (0, 1)")
    y = np.asarray(data.y_train)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xDE5]))
    dev = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = int(round(fraction * len(idx)))
        dev.extend(rng.choice(idx, size=k, replace=False).tolist())
    mask = np.zeros(len(y), dtype=bool)
    mask[np.asarray(dev, dtype=np.int64)] = True
    train = dataclasses.replace(data, x_train=data.x_train[~mask], y_train=y[~mask],
                                source=data.source + f" (dev split: {int(mask.sum())} held out)")
    return train, data.x_train[mask], y[mask]


def _vectors(algo) -> list[np.ndarray]:
    """The algorithm's digital parameter vectors (biases) and gate masks, by reference."""
    out = list(getattr(algo, "biases", []))
    for name in ("b1", "b2", "b3"):
        if hasattr(algo, name):
            out.append(getattr(algo, name))
    out.extend(getattr(algo, "alive", []))
    return out


def snapshot(algo) -> dict[str, Any]:
    """The weights read from every array and copies of the digital vectors."""
    return {"weights": [m.weights() for m in algo.matrices],
            "vectors": [v.copy() for v in _vectors(algo)]}


def restore(algo, state: dict[str, Any], ledger) -> None:
    """Reprogram every array to the snapshot (phase "checkpoint") and restore the vectors."""
    phase = ledger.phase
    ledger.phase = CHECKPOINT_PHASE
    try:
        for m, w in zip(algo.matrices, state["weights"]):
            m.program(w)
    finally:
        ledger.phase = phase
    for v, saved in zip(_vectors(algo), state["vectors"]):
        v[...] = saved


class Protocol:
    """Per-epoch hook: dev score + best checkpoint, test score + cumulative training energy.

    ``price``: ledger dict -> total training energy [J] on the run's chip (None: no energy).
    ``evaluate``: (x, y) -> accuracy, run by the caller's monitoring context."""

    def __init__(self, *, curve: bool, targets=DEFAULT_TARGETS, dev=None,
                 evaluate: Callable, test: tuple, price: Callable | None, ledger) -> None:
        self.curve, self.targets = bool(curve), tuple(sorted(targets))
        self.dev, self.evaluate, self.test = dev, evaluate, test
        self.price, self.ledger = price, ledger
        self.points: list[dict[str, Any]] = []
        self.best: tuple[float, int] | None = None  # (dev accuracy, epoch)
        self._state = None

    def __call__(self, algo, epoch: int, samples: int) -> None:
        pt: dict[str, Any] = {"epoch": epoch + 1, "samples": int(samples)}
        if self.dev is not None:
            acc = self.evaluate(*self.dev)
            pt["dev_accuracy"] = acc
            if self.best is None or acc > self.best[0]:
                self.best = (acc, epoch + 1)
                self._state = snapshot(algo)
        if self.curve:
            pt["test_accuracy"] = self.evaluate(*self.test)
            if self.price is not None:
                pt["train_energy_j"] = float(self.price(self.ledger.to_dict()))
        self.points.append(pt)

    def finish(self, algo) -> None:
        """Put the best-dev weights back (if a dev split is used and they are not the last)."""
        if self._state is not None and self.best[1] != len(self.points):
            restore(algo, self._state, self.ledger)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"points": self.points}
        if self.dev is not None:
            out["best_dev_accuracy"], out["best_dev_epoch"] = self.best
            out["dev_size"] = int(len(self.dev[1]))
        if self.curve:
            out["energy_to_targets"] = energy_to_targets(self.points, self.targets)
        return out


def energy_to_targets(points: list[dict], targets) -> dict[str, Any]:
    """{target: {"epoch", "samples", "train_energy_j"} of the first point whose test accuracy
    reached it, or None}. Keys are the targets as strings ("0.9")."""
    out: dict[str, Any] = {}
    for t in targets:
        hit = next((p for p in points if p.get("test_accuracy", -1.0) >= t), None)
        out[f"{t:g}"] = None if hit is None else {
            "epoch": hit["epoch"], "samples": hit["samples"],
            "train_energy_j": hit.get("train_energy_j")}
    return out


# ---- wiring into a run (called by analogff.experiment) -----------------------------------
def prepare_data(cfg, data):
    """(training data, (x_dev, y_dev) or None): loads the data set if ``data`` is None and
    holds out ``cfg.dev_fraction`` of it."""
    if data is None:
        from ..data import load_dataset
        data = load_dataset(cfg.dataset, limit=cfg.limit, seed=cfg.seed)
    if not cfg.dev_fraction:
        return data, None
    train, x_dev, y_dev = split_dev(data, cfg.dev_fraction, cfg.seed)
    return train, (x_dev, y_dev)


def training_energy(hw) -> Callable:
    """ledger dict -> training energy [J] on chip ``hw``: every phase but inference, priced
    by the function that prices the run record (`reports.run_energy.price_run`, per 1
    sample, i.e. the total)."""
    from reports.run_energy import price_run

    def total(led: dict) -> float:
        return float(price_run(led, hw, train_samples=1, test_samples=1,
                               inference_batch=1).train["total_j"])
    return total


def for_run(cfg, net, dev) -> Protocol | None:
    """The run's per-epoch protocol, or None when neither a dev split nor the curve is on."""
    if dev is None and not cfg.curve:
        return None
    from ..experiment import accuracy, monitoring

    def evaluate(x, y) -> float:
        with monitoring(net):
            return accuracy(net, x, y)

    d = net.data
    return Protocol(curve=cfg.curve, dev=dev, evaluate=evaluate, test=(d.x_test, d.y_test),
                    price=training_energy(cfg.hardware) if cfg.curve else None,
                    ledger=net.ledger)


def record_fields(cfg, net, proto: Protocol | None, energy: dict, train_total: int) -> dict:
    """The run record's ``curve`` (points, energy to targets, best dev, final energy per
    training sample and per inference) and ``matched`` (family and what is not matched)."""
    out: dict[str, Any] = {}
    if proto is not None:
        cur = proto.summary()
        cur["final_per_train_sample_j"] = energy.get("per_train_sample_j")
        cur["final_per_inference_j"] = energy.get("per_inference_j")
        cur["train_samples"] = int(train_total)
        out["curve"] = cur
    if cfg.matched is not None:
        from .matched import FAMILIES, MATCHED_BUDGET, unmatched
        rule, scheme = FAMILIES[cfg.matched]
        out["matched"] = {"family": cfg.matched, "rule": rule, "update": scheme,
                          "budget": {k: net.hp[k] if k != "hidden" else list(net.hp[k])
                                     for k in MATCHED_BUDGET},
                          "unmatched": unmatched(cfg.algo, net.hp)}
    return out


def summary_lines(record: dict) -> list[str]:
    """Plain lines for the CLI: energy to each accuracy target, the best-dev checkpoint, and
    what a matched comparison does not match."""
    from ..cli.common import fmt_si

    lines: list[str] = []
    cur = record.get("curve")
    if cur:
        if "best_dev_accuracy" in cur:
            lines.append(f"best dev accuracy {100 * cur['best_dev_accuracy']:.1f} % at epoch "
                         f"{cur['best_dev_epoch']} ({cur['dev_size']} held-out examples); "
                         "tested with those weights")
        for t, hit in (cur.get("energy_to_targets") or {}).items():
            what = "not reached" if hit is None else (
                f"{fmt_si(hit['train_energy_j'], 'J')} of training (epoch {hit['epoch']}, "
                f"{hit['samples']} samples)")
            lines.append(f"energy to {100 * float(t):g} % test accuracy: {what}")
    m = record.get("matched")
    if m:
        lines.append(f"matched comparison '{m['family']}': rule {m['rule']}, update "
                     f"{m['update']}, budget {m['budget']}; not matched:")
        lines.extend(f"  - {n}" for n in m["unmatched"])
    return lines
