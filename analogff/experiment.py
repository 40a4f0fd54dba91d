"""One run: build the network on ideal or analog matrices, train, evaluate, price, record.

Nengo-style separation: `build` (config → network of matrices), `train`, `accuracy`, `price`
and `run_experiment`, which returns the run record of docs/CONTRACTS.md. No printing here: the
CLI passes a ``progress`` callback.
"""

from __future__ import annotations

import math
import platform
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from crossbar import IdealMatrix, Ledger, NonFiniteInputError, Periphery
from crossbar.products import one_blas_thread

from . import __version__, signals
from .config import SimConfig
from .errors import ConfigError, DivergedError, UnusedOption

# version of the run record layout (docs/CONTRACTS.md): 2 = the chip is one stored value
# ("hardware") and its fields are flat in "config"
RECORD_SCHEMA = 2

def algorithm_class(name: str):
    """The registered algorithm class called ``name`` (`analogff.algorithms`)."""
    from .algorithms import get

    return get(name)


def preset_defaults(algo: str, preset: str = "small") -> dict[str, Any]:
    """The hyperparameters of ``algo``'s ``preset`` ("small": its ``defaults``); a preset the
    algorithm does not define is a `ConfigError` (one line)."""
    cls = algorithm_class(algo)
    hp = dict(cls.defaults)
    if preset != "small":
        presets = getattr(cls, "presets", {})
        if preset not in presets:
            raise ConfigError(f"preset = {preset!r} is not defined for --algo {algo}; "
                              f"choose one of: small, {', '.join(presets)}")
        hp.update(presets[preset])
    return hp


def hyperparameters(cfg: SimConfig) -> dict[str, Any]:
    """The algorithm's preset, overridden by every option the user set."""
    hp = preset_defaults(cfg.algo, cfg.preset)
    if cfg.matched is not None:  # same sizes, budget and update family for PFF, FF and BP
        from .algorithms.matched import apply as apply_matched
        hp = apply_matched(cfg.matched, hp)
    preset = dict(hp)  # before the user's options: each rule's default rates (resolve_rates)
    over = {"hidden": cfg.hidden_sizes(), "steps": cfg.steps, "epochs": cfg.epochs,
            "batch_size": cfg.batch_size, "lr": cfg.lr, "optimizer": cfg.optimizer}
    for k, v in over.items():
        if v is None:
            continue
        if k not in hp:  # an option this algorithm does not have (its defaults say which)
            raise UnusedOption(f"{k} = {v!r} is only available for --algo "
                               f"{', '.join(_with_option(k))}; {cfg.algo} has no such option "
                               "(leave it unset)", k, "algo")
        hp[k] = v
    if cfg.update == "stochastic" and hp["optimizer"] == "adam":
        # crossbar.AnalogMatrix.apply_delta: an Adam step is no outer product, so it has no
        # row and column bit streams to coincide; it fires the same rounded counts as under
        # "deterministic", and the run would differ only in its record
        raise ConfigError("update = 'stochastic' has no effect with the adam rule (its steps "
                          "are not outer products: they fire stochastically rounded counts, as "
                          "with 'deterministic'); use update = deterministic or mixed, or "
                          "optimizer = sgd, scaled or factored")
    # each update rule's own default rate (lr_<rule>) unless --lr is given (updates.py)
    from .algorithms.updates import resolve_rates
    resolve_rates(hp, preset, cfg.lr, cfg.update)
    hp["hidden"] = tuple(hp["hidden"])
    return hp


def _with_option(key: str) -> list[str]:
    from .algorithms import ALGORITHMS

    return [n for n, c in ALGORITHMS.items() if key in c.defaults]


def make_device(cfg: SimConfig):
    """The device of the chip (``hardware.device``), with the run's overrides: ``states``, and
    the chip's read voltage / read time where the hardware sets them (so that the simulated
    cell energy Σ V²·G·t uses what the pricer is told)."""
    from device_models import get_device

    hw = cfg.hardware
    dev = get_device(hw.device)
    changes: dict[str, Any] = {}
    if cfg.states is not None:
        changes["states"] = cfg.states
    if hw.v_read is not None:
        changes["v_read"] = hw.v_read
    if hw.t_read is not None:
        changes["t_read"] = hw.t_read
    from .device_overrides import overrides
    changes.update(overrides(cfg))      # sensitivity overrides (c2c, d2d, drift_nu, ...)
    return dev.replace(**changes) if changes else dev


def make_periphery(cfg: SimConfig) -> Periphery:
    """The simulator's periphery, every field taken unchanged from ``cfg.hardware``."""
    return chip_periphery(cfg.hardware, cfg.update, read_noise=cfg.noise)


def chip_periphery(hw, update: str, **fields) -> Periphery:
    """The periphery of the chip ``hw`` with the update scheme ``update`` (``fields``: the
    others, set directly). The chip's update slots are both the most pulses a device takes per
    update window (``max_pulses``) and the stochastic scheme's train length (``bl``): one slot,
    at most one pulse per device. The one map from a chip to a periphery (the simulator's and
    the counting backend's)."""
    return Periphery(**{"dac_bits": hw.dac_bits, "adc_bits": hw.adc_bits,
                        "out_bound": hw.out_bound, "tile_rows": hw.tile_rows,
                        "tile_cols": hw.tile_cols, "update": update,
                        "wire_resistance": hw.wire_resistance, "max_pulses": hw.update_slots,
                        "bl": hw.update_slots, **fields})


def converter_info(hw, periphery: Periphery) -> dict[str, Any]:
    """What a matrix's ledger entry records of its converters beyond `AnalogMatrix.info`: the
    bits its transposed reads were converted at (the forward ADC's: the simulator has one),
    the ADC architecture and sharing, and the input coding. The pricer prices each matrix
    with exactly these."""
    return {"adc_bits_transposed": periphery.adc_bits, "adc_type": hw.adc_type,
            "cols_per_adc": min(hw.cols_per_adc, periphery.tile_cols),
            "input_mode": hw.input_mode}


# per-matrix periphery overrides that change the chip's layout (and so its price), not only
# the analog arithmetic: PFF's lateral arrays are stacks of group-sized tiles
LAYOUT_FIELDS = ("tile_rows", "tile_cols")


def widened_out_bound(out_bound: float, scale: float) -> tuple[float, float | None]:
    """A matrix's ADC range when an algorithm widens the configured ``out_bound`` by
    ``scale``: (the range used, capped at full scale 1 since a column cannot sum beyond it;
    the range asked for if it was capped, else None). The one rule of every backend's
    factory; a capped range is recorded as ``out_bound_requested`` and reported
    (`analogff.saturation.capped_range_notes`), never changed in silence."""
    requested = out_bound * scale
    return min(1.0, requested), (requested if requested > 1.0 else None)


def make_factory(cfg: SimConfig, ledger: Ledger, backend: str | None = None) -> Callable:
    """factory(name, out, in, w_max, init, **periphery_overrides) -> matrix (programmed).

    ``backend``: "ideal" (`IdealMatrix`), "analog" (`AnalogMatrix`) or "counting"
    (`crossbar.counting.CountingMatrix`: the events of an analog run, no analog arithmetic);
    default: "ideal" if ``cfg.ideal`` else "analog". Analog and counting matrices get the same
    periphery (with the same per-matrix overrides) and record the same converter info."""
    backend = backend or ("ideal" if cfg.ideal else "analog")
    counter = [0]
    if backend == "ideal":
        periphery = make_periphery(cfg)

        def factory(name, out, inp, w_max, init=None, out_bound_scale=None, **overrides):
            """The same overrides as the analog factory's, checked the same way; an ideal
            matrix computes without tiles, but its ledger records the tile size it would get
            (`LAYOUT_FIELDS`), so that the ideal twin is priced on the analog run's chip."""
            periphery.replace(**overrides)   # unknown field or bad value: the same error
            m = IdealMatrix(out, inp, ledger=ledger, name=name)
            ledger.matrices[m.name].update(
                {k: overrides[k] for k in LAYOUT_FIELDS if k in overrides})
            if init is not None:
                m.program(init)
            return m
        return factory

    if backend == "counting":
        from crossbar.counting import CountingMatrix as Matrix
    else:
        from crossbar.analog import AnalogMatrix as Matrix

    device = make_device(cfg)
    periphery = make_periphery(cfg)

    def factory(name, out, inp, w_max, init=None, out_bound_scale=None, **overrides):
        """``overrides``: Periphery fields for this matrix; ``out_bound_scale`` widens (or
        narrows) the configured ADC range for it (`widened_out_bound`: capped at full scale,
        the range asked recorded as ``out_bound_requested`` and named by
        `analogff.saturation.capped_range_notes`)."""
        counter[0] += 1
        child = np.random.SeedSequence([cfg.seed, 0xA11A, counter[0]])
        capped = None
        if out_bound_scale is not None:
            overrides["out_bound"], capped = widened_out_bound(periphery.out_bound,
                                                               out_bound_scale)
        per = periphery.replace(**overrides) if overrides else periphery
        m = Matrix(out, inp, device, per, seed=int(child.generate_state(1)[0]),
                   ledger=ledger, name=name, w_max=w_max)
        ledger.matrices[m.name].update(converter_info(cfg.hardware, per))
        if capped is not None:
            ledger.matrices[m.name]["out_bound_requested"] = capped
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


def build(cfg: SimConfig, data=None, backend: str | None = None) -> Network:
    """The network of ``cfg`` on its matrices (``backend``: see `make_factory`)."""
    from .data import load_dataset

    if data is None:
        data = load_dataset(cfg.dataset, limit=cfg.limit, seed=cfg.seed)
    hp = hyperparameters(cfg)
    ledger = Ledger(phase="init")
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0xF00D]))
    algo = algorithm_class(cfg.algo)(data.x_train.shape[1], data.n_classes, hp,
                                     make_factory(cfg, ledger, backend), ledger, rng)
    return Network(cfg, hp, algo, ledger, data)


def accuracy(net: Network, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(net.algo.predict(x) == y)) if len(y) else float("nan")


from contextlib import contextmanager


@contextmanager
def monitoring(net: Network):
    """Reads that are not part of the run: nothing recorded, no random stream consumed."""
    states = [(m, m.rng_state()) for m in _all_matrices(net.algo)]
    phase = net.ledger.phase
    with net.ledger.suspended():
        try:
            yield
        finally:
            net.ledger.phase = phase
            for m, st in states:
                m.set_rng_state(st)


def monitor_accuracy(net: Network, n: int = 300) -> float:
    """Test accuracy on the first ``n`` test examples, without touching the run's state."""
    d = net.data
    with monitoring(net):
        return accuracy(net, d.x_test[:n], d.y_test[:n])


def train(net: Network, progress: Callable | None = None, seconds_per_batch: float = 1e-3,
          monitor: bool = False, on_epoch: Callable | None = None) -> dict:
    """Train for hp["epochs"] epochs; returns {"final_loss", "train_s", "batches",
    "train_total"} (train_total: training examples seen, batches × batch size).

    ``monitor``: measure accuracy on a test subset after every epoch (not recorded in the
    ledger and without consuming any random stream, so results are identical either way).
    ``on_epoch(algo, epoch, samples_seen)``: called after every epoch (the evaluation
    protocol, `analogff.algorithms.protocol`).
    """
    hp, data = net.hp, net.data
    rng = np.random.default_rng(np.random.SeedSequence([net.cfg.seed, 0xBA7C]))
    n = data.x_train.shape[0]
    from .algorithms.hyperparams import hp_int
    bs = hp_int(hp, "batch_size")
    from .boundary import check_batch
    check_batch(bs, n)  # a batch beyond the set would count samples never seen
    n_batches = max(1, math.ceil(n / bs))
    epochs = hp_int(hp, "epochs")
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
            try:
                out = net.algo.train_batch(data.x_train[idx], data.y_train[idx])
            except NonFiniteInputError as exc:  # the data are finite: the network diverged
                raise DivergedError(f"training diverged at epoch {ep + 1}, batch {bi + 1} "
                                    f"({exc}); try a smaller --lr") from None
            lv = float(out["loss"])
            if not math.isfinite(lv):
                raise DivergedError(f"training diverged (loss = {lv}) at epoch {ep + 1}, batch "
                                    f"{bi + 1}; try a smaller --lr")
            losses.append(lv)
            signals.check()  # a safe point for SIGINT/SIGTERM (analogff/signals.py)
            for m in mats:
                m.advance_time(seconds_per_batch)
            if progress is not None:
                progress("batch", epoch=ep, epochs=epochs, batch=bi, batches=n_batches, loss=lv)
        loss = float(np.mean(losses))
        for m in mats:  # float weights can overflow with a finite loss (device states cannot)
            if not m.analog and not np.isfinite(m.weights()).all():
                raise DivergedError(f"training diverged: the weights of {m.name} became NaN or "
                                    f"infinite in epoch {ep + 1}; try a smaller --lr")
        if on_epoch is not None:
            on_epoch(net.algo, ep, (ep + 1) * n_batches * bs)
        if progress is not None:
            acc = monitor_accuracy(net) if monitor else None
            progress("epoch", epoch=ep, epochs=epochs, loss=loss, accuracy=acc,
                     elapsed=time.perf_counter() - t0)
    return {"final_loss": loss, "train_s": time.perf_counter() - t0,
            "batches": epochs * n_batches, "train_total": epochs * n_batches * bs}


def _all_matrices(algo) -> list:
    return list(getattr(algo, "matrices", []))


def price(cfg: SimConfig, ledger: dict, train_samples: int, test_samples: int,
          inference_batch: int) -> dict:
    """The record's ``energy``: the run's whole ledger priced once on its chip
    (`reports.price_run`, the function report and energy use too)."""
    from reports.run_energy import price_run

    return price_run(ledger, cfg.hardware, train_samples=max(int(train_samples), 1),
                     test_samples=max(int(test_samples), 1),
                     inference_batch=int(inference_batch)).summary()


def run_experiment(cfg: SimConfig, progress: Callable | None = None, data=None,
                   keep_network: bool = False, monitor: bool = False) -> dict:
    """Build, train, evaluate and price one configuration; returns the run record."""
    from .algorithms.protocol import prepare_data

    t_start = time.perf_counter()
    data, dev = prepare_data(cfg, data)  # dev split (cfg.dev_fraction; protocol.py)
    from .boundary import check_run
    check_run(cfg, hyperparameters(cfg), data, dev_split_done=True)  # before any allocation
    net = build(cfg, data)
    # BLAS on one thread, the large products split in two on the kernels' threads: the same
    # record at any thread count (crossbar.products)
    with one_blas_thread():
        return _run(cfg, net, progress, keep_network, monitor, t_start, dev)


def _run(cfg, net, progress, keep_network, monitor, t_start, dev=None) -> dict:
    import numba

    from .algorithms.protocol import for_run

    proto = for_run(cfg, net, dev)  # dev/best-dev checkpoint and the priced curve, or None
    tr = train(net, progress, monitor=monitor, on_epoch=proto)
    if proto is not None:
        proto.finish(net.algo)
    train_ledger = Ledger.from_dict(net.ledger.to_dict())
    t_eval = time.perf_counter()
    d = net.data
    test_acc = accuracy(net, d.x_test, d.y_test)
    after_test = Ledger.from_dict(net.ledger.to_dict())
    n_tr_eval = min(len(d.y_train), 2000)
    train_acc = accuracy(net, d.x_train[:n_tr_eval], d.y_train[:n_tr_eval])
    eval_s = time.perf_counter() - t_eval
    if progress is not None:
        progress("evaluated", test_accuracy=test_acc, train_accuracy=train_acc)
    n_test = len(d.y_test)
    ledger = after_test.to_dict()
    energy = price(cfg, ledger, tr["train_total"], n_test, int(net.hp["batch_size"]))
    L = train_ledger
    record = {
        "schema": RECORD_SCHEMA,
        "status": "done",
        "error": None,
        "config": cfg.to_dict(),
        "config_hash": cfg.config_hash(),
        "seed": cfg.seed,
        "hardware": cfg.hardware.to_dict(),     # the whole chip, simulated and priced
        "hyperparameters": {k: (list(v) if isinstance(v, tuple) else v) for k, v in net.hp.items()},
        "metrics": {"train_accuracy": train_acc, "test_accuracy": test_acc,
                    "final_loss": tr["final_loss"], "ideal_test_accuracy": test_acc if cfg.ideal else None},
        "samples": {"train_per_epoch": int(len(d.y_train)), "epochs": int(net.hp["epochs"]),
                    "test": n_test, "train_total": int(tr["train_total"])},
        # training phases + the test set's "inference" phase (train-accuracy eval excluded)
        "ledger": ledger,
        "energy": energy,
        "counts": {"pulses": int(L.get("pulses_up") + L.get("pulses_down")),
                   "adc_conversions": int(L.get("adc_conversions")),
                   "dac_conversions": int(L.get("dac_conversions")),
                   "adc_saturated": int(L.get("adc_saturated")),
                   "trains_capped": int(L.get("trains_capped")),
                   "transposed_vectors": int(L.get("transposed_vectors")),
                   "mvm_vectors": int(L.get("mvm_vectors"))},
        "timing": {"wall_s": time.perf_counter() - t_start, "train_s": tr["train_s"],
                   "eval_s": eval_s},
        "versions": {"analogff": __version__, "python": platform.python_version(),
                     "numpy": np.__version__, "numba": numba.__version__},
    }
    if proto is not None or cfg.matched is not None:
        from .algorithms.protocol import record_fields
        record.update(record_fields(cfg, net, proto, energy, tr["train_total"]))
    if cfg.eval_times is not None:   # last: drift changes the conductances
        from .deploy import accuracy_over_time
        record["metrics"]["accuracy_vs_time"] = accuracy_over_time(net, cfg.eval_times)
    if keep_network:
        record["_network"] = net
    return record
