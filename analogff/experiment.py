"""One run: build the network on ideal or analog matrices, train, evaluate, price, record.

Nengo-style separation: `build` (config → network of matrices), `train`, `evaluate`, and
`run_experiment`, which returns the run record of docs/CONTRACTS.md. No printing here: the
CLI passes a ``progress`` callback.
"""

from __future__ import annotations

import math
import platform
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from crossbar import IdealMatrix, Ledger, Periphery

from . import __version__
from .config import SimConfig
from .errors import ConfigError, DivergedError

def algorithm_class(name: str):
    from .algorithms.bp import BP
    from .algorithms.ff import FF
    from .algorithms.pff import PFF

    return {"pff": PFF, "ff": FF, "bp": BP}[name]


# the "paper" preset for FF/BP: the PFF paper's network size and budget, so the three compare
_PAPER_FF_BP = dict(hidden=(2000, 2000), epochs=60, batch_size=500)


def hyperparameters(cfg: SimConfig) -> dict[str, Any]:
    """The algorithm's preset, overridden by every option the user set."""
    cls = algorithm_class(cfg.algo)
    hp = dict(cls.defaults)
    if cfg.preset == "paper":
        hp.update(getattr(cls, "presets", {}).get("paper", _PAPER_FF_BP))
    preset_lr, preset_lr_gen = hp.get("lr"), hp.get("lr_gen")
    over = {"hidden": cfg.hidden_sizes(), "steps": cfg.steps, "epochs": cfg.epochs,
            "batch_size": cfg.batch_size, "lr": cfg.lr, "optimizer": cfg.optimizer}
    for k, v in over.items():
        if v is None:
            continue
        if k == "steps" and cfg.algo != "pff":
            continue
        if k == "optimizer" and cfg.algo != "pff":
            if v != "sgd":
                raise ConfigError(f"optimizer = {v!r} is only available for --algo pff "
                                  "(FF and BP use pulsed SGD)")
            continue
        hp[k] = v
    if (cfg.algo == "pff" and hp.get("optimizer") == "sgd" and hp.get("lr_sgd")
            and cfg.lr is None and preset_lr is not None):
        # the preset's rates are tuned for Adam; pulsed SGD needs its own
        hp["lr"], hp["lr_gen"] = hp["lr_sgd"], hp["lr_gen_sgd"]
    if cfg.lr is not None and preset_lr_gen is not None:
        # --lr sets both PFF circuits' rates, keeping the preset's generative/representation ratio
        if hp.get("optimizer") == "sgd" and hp.get("lr_sgd"):
            preset_lr, preset_lr_gen = hp["lr_sgd"], hp["lr_gen_sgd"]
        hp["lr_gen"] = cfg.lr * preset_lr_gen / preset_lr
    hp["hidden"] = tuple(hp["hidden"])
    return hp


def make_device(cfg: SimConfig):
    from device_models import get_device

    dev = get_device(cfg.device)
    if cfg.states is not None:
        dev = dev.replace(states=cfg.states)
    return dev


def make_periphery(cfg: SimConfig) -> Periphery:
    return Periphery(dac_bits=cfg.dac_bits, adc_bits=cfg.adc_bits, out_bound=cfg.out_bound,
                     tile_rows=cfg.tile_size, tile_cols=cfg.tile_size, read_noise=cfg.noise,
                     update=cfg.update, wire_resistance=cfg.wire_resistance)


def make_factory(cfg: SimConfig, ledger: Ledger) -> Callable:
    """factory(name, out, in, w_max, init, **periphery_overrides) -> matrix (programmed)."""
    counter = [0]
    if cfg.ideal:
        def factory(name, out, inp, w_max, init=None, **_kw):
            m = IdealMatrix(out, inp, ledger=ledger, name=name)
            if init is not None:
                m.program(init)
            return m
        return factory

    from crossbar.analog import AnalogMatrix

    device = make_device(cfg)
    periphery = make_periphery(cfg)

    def factory(name, out, inp, w_max, init=None, out_bound_scale=None, **overrides):
        """``overrides``: Periphery fields for this matrix; ``out_bound_scale`` widens (or
        narrows) the configured ADC range for it, capped at full scale."""
        counter[0] += 1
        child = np.random.SeedSequence([cfg.seed, 0xA11A, counter[0]])
        if out_bound_scale is not None:
            overrides["out_bound"] = min(1.0, periphery.out_bound * out_bound_scale)
        per = periphery.replace(**overrides) if overrides else periphery
        m = AnalogMatrix(out, inp, device, per, seed=int(child.generate_state(1)[0]),
                         ledger=ledger, name=name, w_max=w_max)
        if init is not None:
            m.program(init)
        return m

    return factory


@dataclass
class Network:
    """A built network: the algorithm object over its matrices, with its ledger."""

    cfg: SimConfig
    hp: dict
    algo: Any
    ledger: Ledger
    data: Any


def build(cfg: SimConfig, data=None) -> Network:
    from .data import load_dataset

    if data is None:
        data = load_dataset(cfg.dataset, limit=cfg.limit, seed=cfg.seed)
    hp = hyperparameters(cfg)
    ledger = Ledger(phase="init")
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0xF00D]))
    algo = algorithm_class(cfg.algo)(data.x_train.shape[1], data.n_classes, hp,
                                     make_factory(cfg, ledger), ledger, rng)
    return Network(cfg, hp, algo, ledger, data)


def accuracy(net: Network, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(net.algo.predict(x) == y)) if len(y) else float("nan")


from contextlib import contextmanager


@contextmanager
def monitoring(net: Network):
    """Reads that are not part of the run: nothing recorded, no random stream consumed."""
    states = [(m, m._rng.bit_generator.state) for m in _all_matrices(net.algo) if hasattr(m, "_rng")]
    phase = net.ledger.phase
    with net.ledger.suspended():
        try:
            yield
        finally:
            net.ledger.phase = phase
            for m, st in states:
                m._rng.bit_generator.state = st


def monitor_accuracy(net: Network, n: int = 300) -> float:
    """Test accuracy on the first ``n`` test examples, without touching the run's state."""
    d = net.data
    with monitoring(net):
        return accuracy(net, d.x_test[:n], d.y_test[:n])


def train(net: Network, progress: Callable | None = None, seconds_per_batch: float = 1e-3,
          monitor: bool = False) -> dict:
    """Train for hp["epochs"] epochs; returns {"final_loss", "train_s", "batches"}.

    ``monitor``: measure accuracy on a test subset after every epoch (not recorded in the
    ledger and without consuming any random stream, so results are identical either way).
    """
    hp, data = net.hp, net.data
    rng = np.random.default_rng(np.random.SeedSequence([net.cfg.seed, 0xBA7C]))
    n = data.x_train.shape[0]
    bs = int(hp["batch_size"])
    n_batches = max(1, math.ceil(n / bs))
    epochs = int(hp["epochs"])
    mats = _all_matrices(net.algo)
    t0 = time.perf_counter()
    loss = float("nan")
    for ep in range(epochs):
        perm = rng.permutation(n)
        losses = []
        for bi in range(n_batches):
            idx = perm[bi * bs:(bi + 1) * bs]
            if len(idx) < bs:  # top up the last batch from the start of the permutation
                idx = np.concatenate([idx, perm[:bs - len(idx)]])
            if hasattr(net.algo, "set_schedule"):
                net.algo.set_schedule((ep * n_batches + bi) / (epochs * n_batches))
            out = net.algo.train_batch(data.x_train[idx], data.y_train[idx])
            lv = float(out["loss"])
            if not math.isfinite(lv):
                raise DivergedError(f"training diverged (loss = {lv}) at epoch {ep + 1}, batch "
                                    f"{bi + 1}; try a smaller --lr")
            losses.append(lv)
            for m in mats:
                m.advance_time(seconds_per_batch)
            if progress is not None:
                progress("batch", epoch=ep, epochs=epochs, batch=bi, batches=n_batches, loss=lv)
        loss = float(np.mean(losses))
        if progress is not None:
            acc = monitor_accuracy(net) if monitor else None
            progress("epoch", epoch=ep, epochs=epochs, loss=loss, accuracy=acc,
                     elapsed=time.perf_counter() - t0)
    return {"final_loss": loss, "train_s": time.perf_counter() - t0,
            "batches": epochs * n_batches, "train_total": epochs * n_batches * bs}


def _all_matrices(algo) -> list:
    return list(getattr(algo, "matrices", []))


def price(cfg: SimConfig, train_samples: int, test_samples: int, train_ledger: dict,
          infer_ledger: dict) -> dict:
    """Energy per training sample and per inference from the ledgers (reports' cost model)."""
    import reports

    hw = reports.hardware_for_run(cfg.to_dict())
    tr = reports.price_ledger(train_ledger, hw)
    inf = reports.price_ledger(infer_ledger, hw)
    dig_tr = reports.price_digital(train_ledger, hw.node_nm)
    dig_inf = reports.price_digital(infer_ledger, hw.node_nm)

    def tot(p):
        return float(p["total_j"])

    return {
        "model": f"reports cost model ({hw.node_nm} nm)",
        "per_train_sample_j": tot(tr) / max(train_samples, 1),
        "per_inference_j": tot(inf) / max(test_samples, 1),
        "train_by_phase_j": {k: v / max(train_samples, 1) for k, v in tr["by_phase_j"].items()},
        "by_component_j": {k: v / max(train_samples, 1) for k, v in tr["by_component_j"].items()},
        "inference_by_component_j": {k: v / max(test_samples, 1)
                                     for k, v in inf["by_component_j"].items()},
        "digital_per_train_sample_j": tot(dig_tr) / max(train_samples, 1),
        "digital_per_inference_j": tot(dig_inf) / max(test_samples, 1),
        "area_mm2": float(tr.get("area_mm2", float("nan"))),
    }


def _diff(after: Ledger, before: Ledger) -> Ledger:
    out = Ledger()
    out.merge(after)
    out.merge(before, scale=-1.0)
    return out


def blas_threads_for(net: Network) -> int | None:
    """BLAS thread policy: small products run single-threaded (thread wake-ups cost more than
    they save, and badly so on a loaded machine); large ones use every core (None)."""
    bs = int(net.hp["batch_size"]) * 2
    biggest = max((m.in_features * m.out_features for m in _all_matrices(net.algo)), default=0)
    return 1 if bs * biggest < 50_000_000 else None


def run_experiment(cfg: SimConfig, progress: Callable | None = None, data=None,
                   keep_network: bool = False, monitor: bool = False) -> dict:
    """Build, train, evaluate and price one configuration; returns the run record."""
    from threadpoolctl import threadpool_limits

    t_start = time.perf_counter()
    net = build(cfg, data)
    with threadpool_limits(limits=blas_threads_for(net), user_api="blas"):
        return _run(cfg, net, progress, keep_network, monitor, t_start)


def _run(cfg, net, progress, keep_network, monitor, t_start) -> dict:
    import numba

    tr = train(net, progress, monitor=monitor)
    train_ledger = Ledger.from_dict(net.ledger.to_dict())
    t_eval = time.perf_counter()
    d = net.data
    test_acc = accuracy(net, d.x_test, d.y_test)
    after_test = Ledger.from_dict(net.ledger.to_dict())
    infer_ledger = _diff(after_test, train_ledger)
    n_tr_eval = min(len(d.y_train), 2000)
    train_acc = accuracy(net, d.x_train[:n_tr_eval], d.y_train[:n_tr_eval])
    eval_s = time.perf_counter() - t_eval
    if progress is not None:
        progress("evaluated", test_accuracy=test_acc, train_accuracy=train_acc)
    n_test = len(d.y_test)
    energy = price(cfg, tr["train_total"], n_test, train_ledger.to_dict(), infer_ledger.to_dict())
    L = train_ledger
    record = {
        "schema": 1,
        "status": "done",
        "error": None,
        "config": cfg.to_dict(),
        "config_hash": cfg.config_hash(),
        "seed": cfg.seed,
        "hyperparameters": {k: (list(v) if isinstance(v, tuple) else v) for k, v in net.hp.items()},
        "metrics": {"train_accuracy": train_acc, "test_accuracy": test_acc,
                    "final_loss": tr["final_loss"], "ideal_test_accuracy": test_acc if cfg.ideal else None},
        "samples": {"train_per_epoch": int(len(d.y_train)), "epochs": int(net.hp["epochs"]),
                    "test": n_test, "train_total": int(tr["train_total"])},
        # training phases + the test set's "inference" phase (train-accuracy eval excluded)
        "ledger": after_test.to_dict(),
        "energy": energy,
        "counts": {"pulses": int(L.get("pulses_up") + L.get("pulses_down")),
                   "adc_conversions": int(L.get("adc_conversions")),
                   "dac_conversions": int(L.get("dac_conversions")),
                   "adc_saturated": int(L.get("adc_saturated")),
                   "transposed_vectors": int(L.get("transposed_vectors")),
                   "mvm_vectors": int(L.get("mvm_vectors"))},
        "timing": {"wall_s": time.perf_counter() - t_start, "train_s": tr["train_s"],
                   "eval_s": eval_s},
        "versions": {"analogff": __version__, "python": platform.python_version(),
                     "numpy": np.__version__, "numba": numba.__version__},
    }
    if keep_network:
        record["_network"] = net
    return record
