"""Energy of a network without training: the real algorithm on the counting backend.

`estimate(hw, network, algo)` builds the registered algorithm (`analogff.algorithms`) with
every matrix on `crossbar.counting.CountingMatrix` (the events an analog run records, without
the analog arithmetic), runs one training batch (``train_batch``) and one inference
(``predict`` of one vector) on synthetic inputs, and prices the ledger once with
`reports.run_energy.price_run`, the function that prices simulated runs. There is no second
description of any algorithm: what the algorithm's code does is what is counted.

Inputs: ``batch`` vectors uniform in [0, 1) (pixel-like) with uniformly drawn labels, from
``seed``. Shape-only events (conversions, vectors, MACs, update calls, digital work) do not
depend on them; the counting backend's data-dependent rules (cell read energy from the float
weights, expected pulse counts) do, as a simulated run's do on its data (`crossbar.counting`).
The one-time programming of the initial weights (phase ``init``) is left out: an estimate is
per training sample and per inference in steady state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossbar import Ledger
from crossbar.chip import Hardware
from crossbar.products import one_blas_thread

from device_models.checks import check_number, plain

from .errors import ConfigError

DIGITAL_PRECISIONS = ("int8", "fp16")


def _network(network, algo: str) -> tuple[int, tuple[int, ...], int]:
    try:
        net = [int(n) for n in network]
    except (TypeError, ValueError):
        raise ConfigError(f"network = {network!r} must be layer sizes, e.g. 784,500,500,10") \
            from None
    if len(net) < 3 or any(n < 1 or n > 10**6 for n in net):
        raise ConfigError(f"network = {','.join(map(str, net))} is invalid for {algo}: give "
                          "sizes from 1 to 10^6: input, hidden..., classes (at least one "
                          "hidden layer), e.g. 784,500,500,10")
    return net[0], tuple(net[1:-1]), net[-1]


def counting_factory(hw: Hardware, ledger: Ledger, *, update: str = "deterministic",
                     seed: int = 0, pulse_density: float | None = None):
    """factory(name, out, in, w_max, init, **periphery_overrides) -> CountingMatrix, with the
    chip's periphery and the converter info an analog run records (`experiment.converter_info`).

    The counting backend also counts chips the simulator cannot simulate (1-bit DACs,
    transposed reads at other bits): it records the chip's bits, and its cell-energy rule
    quantises inputs at them."""
    from crossbar.counting import CountingMatrix

    from .experiment import chip_periphery, converter_info, widened_out_bound

    dev = hw.device_model()
    changes = {k: v for k, v in (("v_read", hw.v_read), ("t_read", hw.t_read)) if v is not None}
    if changes:
        dev = dev.replace(**changes)
    # a periphery needs 2 bits or more; the matrix records and quantises at the chip's own
    base = chip_periphery(hw, update, dac_bits=max(hw.dac_bits, 2),
                          adc_bits=max(hw.adc_bits, 2))
    counter = [0]

    def factory(name, out, inp, w_max, init=None, out_bound_scale=None, **overrides):
        counter[0] += 1
        capped = None
        if out_bound_scale is not None:
            overrides["out_bound"], capped = widened_out_bound(base.out_bound, out_bound_scale)
        per = base.replace(**overrides) if overrides else base
        m = CountingMatrix(out, inp, dev, per, seed=seed + counter[0], ledger=ledger,
                           name=name, w_max=w_max, pulse_density=pulse_density,
                           dac_bits=hw.dac_bits, adc_bits=hw.adc_bits)
        info = converter_info(hw, per)
        info["adc_bits_transposed"] = hw.transposed_adc_bits
        if capped is not None:
            info["out_bound_requested"] = capped
        ledger.matrices[m.name].update(info)
        if init is not None:
            m.program(init)
        return m

    return factory


def build_ledgers(hw: Hardware, network, algo: str = "pff", *, batch: int = 1,
                  K: int | None = None, optimizer: str | None = None, preset: str = "small",
                  update: str = "deterministic", pulse_density: float | None = None,
                  seed: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """(training ledger of one batch, inference ledger of one vector) of ``algo`` on the
    counting backend; see the module docstring."""
    from .algorithms import get
    from .config import SimConfig
    from .experiment import hyperparameters

    if not isinstance(hw, Hardware):
        raise ConfigError(f"hw = {hw!r} must be a crossbar.chip.Hardware (Hardware() for the "
                          "defaults, Hardware.from_toml(path) for a file)")
    batch, K = plain(batch), plain(K)  # numpy integers are integers
    cls = get(algo)
    n_in, hidden, n_classes = _network(network, algo)
    check_number("batch", batch, 1, None, integer=True, error=ConfigError)
    # the algorithm's preset with these overrides (the same rule as simulate's)
    hp = hyperparameters(SimConfig(algo=algo, preset=preset, hidden=",".join(map(str, hidden)),
                                   steps=K, batch_size=batch, optimizer=optimizer,
                                   update=update, epochs=1))
    ledger = Ledger(phase="init")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xF00D]))
    net = cls(n_in, n_classes, hp, counting_factory(hw, ledger, update=update, seed=seed,
                                                    pulse_density=pulse_density), ledger, rng)
    data = np.random.default_rng(np.random.SeedSequence([seed, 0xDA7A]))
    x = data.random((batch, n_in), dtype=np.float32)
    y = data.integers(0, n_classes, size=batch)
    if hasattr(net, "set_schedule"):
        net.set_schedule(0.0)
    ledger.reset()   # leave out the one-time programming of the initial weights
    with one_blas_thread():   # the same counts at any thread count (crossbar.products)
        net.train_batch(x, y)
        train = ledger.to_dict()
        ledger.reset()
        net.predict(x[:1])
    return train, ledger.to_dict()


@dataclass
class EnergyEstimate:
    """Energy, latency and area of one training sample and one inference (see `estimate`)."""

    hardware: Hardware
    network: tuple[int, ...]
    algo: str
    batch: int
    K: int | None
    price: Any                     # reports.run_energy.RunPrice
    tile: dict[str, Any]           # reports.tile_mvm output
    pulse_density: float | None = None   # prescribed pulses per device per update, if any
    source: str = ""               # what was priced, if not a network on the counting backend
    train_ledger: dict[str, Any] = field(default_factory=dict, repr=False)     # one batch
    inference_ledger: dict[str, Any] = field(default_factory=dict, repr=False)  # one vector

    @property
    def train(self) -> dict[str, Any]:
        return self.price.train

    @property
    def inference(self) -> dict[str, Any]:
        return self.price.inference

    @property
    def digital(self) -> dict[str, dict[str, Any]]:
        return self.price.digital

    @property
    def train_j(self) -> float:
        return self.train["total_j"]

    @property
    def inference_j(self) -> float:
        return self.inference["total_j"]

    @property
    def area_mm2(self) -> float:
        return self.train["area_mm2"]

    def to_dict(self) -> dict[str, Any]:
        from reports.estimate import MODEL

        return {"model": MODEL, "hardware": self.hardware.to_dict(),
                "network": list(self.network), "algo": self.algo, "batch": self.batch,
                "K": self.K, "pulse_density": self.pulse_density,
                "energy": self.price.summary(),
                "per_train_sample": self.train, "per_inference": self.inference,
                "tile_mvm": self.tile,
                "digital": {k: {"per_train_sample": v["train"],
                                "per_inference_batch1": v["inference_batch1"],
                                f"per_inference_batch{self.batch}": v["inference_batched"]}
                            for k, v in self.digital.items()}}

    def to_dataframe(self):
        """Long table: columns ``scope, breakdown, key, value, unit``."""
        import pandas as pd
        rows = []
        for scope, p in (("train_sample", self.train), ("inference", self.inference)):
            rows.append((scope, "total", "energy", p["total_j"], "J"))
            rows.append((scope, "total", "latency", p["latency_s"], "s"))
            for k, v in p["by_phase_j"].items():
                rows.append((scope, "phase", k, v, "J"))
            for k, v in p["by_component_j"].items():
                rows.append((scope, "component", k, v, "J"))
        for prec, d in self.digital.items():
            for key, scope in (("train", "train_sample"), ("inference_batch1", "inference"),
                               ("inference_batched", "inference")):
                tag = f"digital_{prec}" + (f"_batch{self.batch}" if key == "inference_batched"
                                           else "_batch1" if key == "inference_batch1" else "")
                rows.append((scope, tag, "energy", d[key]["total_j"], "J"))
                rows.append((scope, tag, "latency", d[key]["latency_s"], "s"))
        rows.append(("chip", "total", "area", self.area_mm2, "mm2"))
        for k, v in self.train["area_breakdown_mm2"].items():
            rows.append(("chip", "area", k, v, "mm2"))
        units = {"tops_per_w": "TOPS/W", "tops_per_mm2": "TOPS/mm2", "energy_j": "J",
                 "latency_s": "s", "area_mm2": "mm2"}
        for k, unit in units.items():
            rows.append(("tile_mvm", "total", k, self.tile[k], unit))
        return pd.DataFrame(rows, columns=["scope", "breakdown", "key", "value", "unit"])


def estimate(hw: Hardware, network, algo: str = "pff", batch: int = 1, K: int | None = None,
             *, optimizer: str | None = None, preset: str = "small",
             update: str = "deterministic", pulse_density: float | None = None,
             digital_precisions: tuple[str, ...] = DIGITAL_PRECISIONS,
             seed: int = 0) -> EnergyEstimate:
    """Energy per training sample and per inference of ``network`` (input, hidden...,
    classes) trained with ``algo`` on chip ``hw``, from the real algorithm on the counting
    backend (module docstring), priced by `reports.run_energy.price_run`.

    ``batch``: images per training batch (updates are batch-summed); the digital baseline's
    batched inference uses the same batch. ``K``: PFF settling steps (default: the preset's).
    ``pulse_density``: if set, write pulses per device per update call (instead of the
    expected counts of the algorithm's own updates; for calibrations)."""
    from reports import tile_mvm
    from reports.run_energy import price_run

    batch, K = plain(batch), plain(K)  # numpy integers are integers (records stay plain)
    tl, il = build_ledgers(hw, network, algo, batch=batch, K=K, optimizer=optimizer,
                           preset=preset, update=update, pulse_density=pulse_density,
                           seed=seed)
    ents = tl["entries"] + [{**e, "phase": "inference"} for e in il["entries"]]
    led = {"matrices": tl["matrices"], "entries": ents}
    if "memory" in tl:   # the training batch's buffers (on-chip memory, training chip area)
        led["memory"] = tl["memory"]
    rp = price_run(led, hw, train_samples=batch, test_samples=1, inference_batch=batch,
                   precisions=tuple(digital_precisions))
    # settling steps, for algorithms that have them (their defaults say so)
    from .experiment import preset_defaults
    steps = preset_defaults(algo, preset).get("steps")
    k_eff = (K if K is not None else int(steps)) if steps is not None else None
    return EnergyEstimate(hardware=hw, network=tuple(int(n) for n in network), algo=algo,
                          batch=batch, K=k_eff, price=rp, tile=tile_mvm(hw),
                          pulse_density=pulse_density, train_ledger=tl,
                          inference_ledger=il)
