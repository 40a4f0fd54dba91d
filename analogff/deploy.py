"""Accuracy over time after programming (drift), and deploying float-trained weights.

Two analyses researchers run on analog inference hardware (aihwkit's inference workflow):

* `accuracy_over_time(net, times)`: the trained network's test accuracy at given times after
  programming. The matrices drift between evaluations (`AnalogMatrix.advance_time`: power-law
  drift G(t) = G(t_p)·(t/t_p)^-ν per device); the reads are monitoring reads (nothing recorded
  in the run's ledger, no random stream consumed), so the run's own record is unchanged.
* `deploy(cfg, times)`: train the same network in float (the ideal twin of ``cfg``) or take
  trained weights from a ``.npz`` file, program them onto the analog matrices of ``cfg`` (with
  the device's programming noise; weights beyond a matrix's ±w_max clip, and the clipped
  fraction is reported), and evaluate over time.

Times are seconds after programming (for an on-chip-trained network: after the end of
training, as its devices were last written then or earlier).
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any, Callable, Sequence

import numpy as np

from device_models.checks import check_number

from .config import SimConfig
from .errors import ConfigError
from .experiment import RECORD_SCHEMA, Network, accuracy, build, monitoring, train

# longest evaluation time accepted: 100 years (drift laws are fitted over hours to years)
MAX_TIME_S = 100 * 365.25 * 86400.0
# algorithm attributes that are not trained state (never copied from the float twin)
_NOT_STATE = ("hp", "ledger", "rng", "matrices", "rule", "rule_r", "rule_g", "lat")


def parse_times(text: str | Sequence[float]) -> list[float]:
    """``"1,3600,86400"`` -> [1.0, 3600.0, 86400.0]; each time in (0, 100 years], increasing.

    Raises `ConfigError` (one line naming ``eval_times``) otherwise."""
    if isinstance(text, str):
        parts = [p.strip() for p in text.split(",") if p.strip()]
        try:
            vals = [float(p) for p in parts]
        except ValueError:
            raise ConfigError(f"eval_times = {text!r} must be comma-separated seconds, e.g. "
                              "1,3600,86400") from None
    else:
        vals = [float(v) for v in text]
    if not vals:
        raise ConfigError("eval_times is empty; give seconds after programming, e.g. 1,3600")
    for v in vals:
        check_number("eval_times value", v, 0.0, MAX_TIME_S, lo_open=True, unit="s",
                     error=ConfigError)
    if any(b <= a for a, b in zip(vals, vals[1:])):
        raise ConfigError(f"eval_times {text!r} must be strictly increasing")
    return vals


def accuracy_over_time(net: Network, times: Sequence[float]) -> dict[str, float]:
    """Test accuracy at each time (s) after programming: ``{"3600": 0.91, ...}``.

    Advances every matrix's clock (drift) to each time in turn; destructive for the network's
    conductances, so call it after everything else that uses the network."""
    d = net.data
    mats = list(getattr(net.algo, "matrices", []))
    now = 0.0
    out: dict[str, float] = {}
    for t in parse_times(times):
        for m in mats:
            m.advance_time(t - now)
        now = t
        with monitoring(net):
            out[f"{t:g}"] = accuracy(net, d.x_test, d.y_test)
    return out


def _copy_state(src, dst) -> None:
    """Copy the float twin's trained digital state (biases, gains, priors, gates) into the
    analog-built algorithm object: every attribute that is not a matrix or the run's
    bookkeeping."""
    for k, v in vars(src).items():
        if k in _NOT_STATE or hasattr(v, "program"):
            continue
        if isinstance(v, np.ndarray):
            setattr(dst, k, v.copy())
        elif isinstance(v, list) and all(isinstance(x, np.ndarray) for x in v):
            setattr(dst, k, [x.copy() for x in v])
        elif v is not None and not isinstance(v, (int, float, str, bool)):
            setattr(dst, k, copy.deepcopy(v))


def check_arrays(weights: dict[str, np.ndarray]) -> None:
    """Refuse a weights file whose arrays are not numbers or hold NaN or infinity (one line
    naming the array), before any matrix is programmed: a NaN programmed into a matrix or
    copied into the digital state would make every later figure meaningless."""
    for key, arr in weights.items():
        arr = np.asarray(arr)
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise ConfigError(f"weights: array {key!r} holds {arr.dtype} values, not numbers")
        if not np.isfinite(arr).all():
            raise ConfigError(f"weights: array {key!r} holds NaN or infinity")


def program_weights(dst: Network, weights: dict[str, np.ndarray]) -> dict[str, float]:
    """Program ``weights`` (matrix name -> (out, in) array) onto ``dst``'s matrices; returns the
    fraction of each matrix's weights beyond its ±w_max (clipped by the mapping)."""
    clipped = {}
    mats = list(dst.algo.matrices)
    names = [m.name for m in mats]
    missing = [n for n in names if n not in weights]
    if missing:
        held = sorted(k for k in weights if not k.startswith(STATE_PREFIX))
        raise ConfigError(f"weights: no array for matrix {missing[0]!r}; the file holds "
                          f"{', '.join(held) or 'no matrices'}")
    for m in mats:
        W = np.asarray(weights[m.name], dtype=np.float32)
        if W.shape != (m.out_features, m.in_features):
            raise ConfigError(f"weights: matrix {m.name!r} is {W.shape[0]}x{W.shape[1]} in the "
                              f"file but {m.out_features}x{m.in_features} in this network")
        w_max = getattr(m, "w_max", math.inf)
        clipped[m.name] = float(np.mean(np.abs(W) > w_max))
        with dst.ledger.suspended():       # deployment programming is not the run's training
            m.program(W)
    return clipped


def float_weights(net: Network) -> dict[str, np.ndarray]:
    """Matrix name -> weights (out, in) of a network."""
    return {m.name: np.asarray(m.weights(), dtype=np.float32) for m in net.algo.matrices}


STATE_PREFIX = "state."    # .npz keys of the digital state: state.<attr> or state.<attr>.<i>


def trained_arrays(net: Network) -> dict[str, np.ndarray]:
    """Everything a trained network needs, as arrays for ``np.savez``: the matrices' weights
    and the digital state (biases, gains, gates) under ``state.<attribute>[.<index>]``."""
    out = float_weights(net)
    for k, v in vars(net.algo).items():
        if k in _NOT_STATE:
            continue
        if isinstance(v, np.ndarray):
            out[f"{STATE_PREFIX}{k}"] = v
        elif isinstance(v, list) and v and all(isinstance(x, np.ndarray) for x in v):
            for i, x in enumerate(v):
                out[f"{STATE_PREFIX}{k}.{i}"] = x
    return out


def load_state(net: Network, arrays: dict[str, np.ndarray]) -> None:
    """Set the digital state saved by `trained_arrays` (shapes must match)."""
    for key, arr in arrays.items():
        if not key.startswith(STATE_PREFIX):
            continue
        attr, _, idx = key[len(STATE_PREFIX):].partition(".")
        cur = getattr(net.algo, attr, None)
        target = cur[int(idx)] if idx and isinstance(cur, list) and int(idx) < len(cur) else cur
        if not isinstance(target, np.ndarray) or target.shape != arr.shape:
            raise ConfigError(f"weights: {key!r} does not match this network "
                              f"({getattr(target, 'shape', None)} expected)")
        target[...] = arr


# the run fields that only shape the float training, which given weights replace
TRAINING_ONLY = ("epochs", "batch_size", "lr", "optimizer", "limit")


def _refuse_training_options(cfg: SimConfig) -> None:
    """With weights given nothing is trained: a training option would change only the record."""
    for name in TRAINING_ONLY:
        v = getattr(cfg, name)
        if v is not None:
            raise ConfigError(f"{name} = {v!r} has no effect with --weights (nothing is "
                              "trained); leave it unset")
    if cfg.dev_fraction:
        raise ConfigError(f"dev_fraction = {cfg.dev_fraction!r} has no effect with --weights "
                          "(nothing is trained); leave it unset")


def deploy(cfg: SimConfig, times: Sequence[float], data=None,
           weights: dict[str, np.ndarray] | None = None,
           progress: Callable | None = None) -> tuple[dict[str, Any], Network]:
    """Train ``cfg``'s ideal twin in float (or take ``weights``), program the result onto the
    analog matrices of ``cfg`` and evaluate at ``times`` seconds after programming.

    Returns (a deploy record, the float network). The record is a run record (docs/
    CONTRACTS.md) with ``"mode": "deploy"``, metrics ``float_test_accuracy``,
    ``test_accuracy`` (at the first time) and ``accuracy_vs_time``, and no ledger (nothing
    was trained on the chip)."""
    from .data import load_dataset

    if cfg.ideal:
        raise ConfigError("deploy programs weights onto analog devices; drop --ideal")
    if weights is not None:
        _refuse_training_options(cfg)
    times = parse_times(times)
    t0 = time.perf_counter()
    if data is None:
        data = load_dataset(cfg.dataset, limit=cfg.limit, seed=cfg.seed)
    fnet = build(cfg.replace(ideal=True), data)
    if weights is None:
        train(fnet, progress)
    else:
        check_arrays(weights)
        program_weights(fnet, weights)
        load_state(fnet, weights)
    trained = float_weights(fnet)
    float_acc = accuracy(fnet, data.x_test, data.y_test)
    anet = build(cfg, data)
    _copy_state(fnet.algo, anet.algo)
    clipped = program_weights(anet, trained)
    accs = accuracy_over_time(anet, times)
    first = accs[f"{times[0]:g}"]
    record = {
        "schema": RECORD_SCHEMA, "status": "done", "error": None, "mode": "deploy",
        "config": cfg.to_dict(), "hardware": cfg.hardware.to_dict(),
        "config_hash": "deploy-" + cfg.config_hash(), "seed": cfg.seed,
        "metrics": {"float_test_accuracy": float_acc, "test_accuracy": first,
                    "train_accuracy": None, "final_loss": None,
                    "ideal_test_accuracy": float_acc, "accuracy_vs_time": accs},
        "deploy": {"times_s": times, "clipped_fraction": clipped,
                   "weights": "given" if weights is not None else "trained in float"},
        "samples": {"test": int(len(data.y_test))},
        "timing": {"wall_s": time.perf_counter() - t0},
    }
    return record, fnet
