"""One run's ledger + its chip -> energy, latency and area: the one place a run is priced.

`price_run` is what `analogff simulate` stores in the run record, what `analogff results`
lists, what the report re-computes from the stored ledger and what `analogff energy` prints
for a network on the counting backend: the same function, so the same numbers.

Split: the ledger's ``inference`` phase is inference; every other phase (including ``init``,
the one-time programming of the initial weights) is training. Energies are per training
sample (training phases / ``train_samples``) and per inference (/ ``test_samples``).

Digital baseline (`reports.estimate.price_digital`, same node, SRAM, DRAM, clock and leakage as
the chip), for every precision:

* training: weights fetched once per update interval (the vectors read between two updates of
  a matrix, inferred from the ledger);
* inference at **batch 1**: weights fetched for every vector (a latency-bound accelerator);
* inference **batched** at ``inference_batch`` vectors per weight fetch.

The analog chip gains nothing from batching (its weights never move), so both are compared
with the same analog number; `RunPrice.summary` states the batch of each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from device_models.checks import check_number

from .estimate import MODEL, price_digital, price_ledger, scale_report
from .hardware import Hardware

INFERENCE_PHASES = ("inference",)
PRECISIONS = ("int8", "fp16")


def split_ledger(ledger: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(training, inference) ledger dicts: entries split by phase, matrices shared."""
    mats = ledger.get("matrices", {}) or {}
    ents = ledger.get("entries", []) or []
    return ({"matrices": mats, "entries": [e for e in ents
                                           if e.get("phase") not in INFERENCE_PHASES]},
            {"matrices": mats, "entries": [e for e in ents if e.get("phase") in INFERENCE_PHASES]})


@dataclass
class RunPrice:
    """A priced run: per-sample analog figures and the digital baseline."""

    hardware: Hardware
    train_samples: int
    test_samples: int
    inference_batch: int
    train: dict[str, Any]          # price_ledger output per training sample
    inference: dict[str, Any]      # price_ledger output per inference
    # precision -> {"train", "inference_batch1", "inference_batched"} (price_digital outputs,
    # per sample)
    digital: dict[str, dict[str, Any]] = field(default_factory=dict)
    # on-chip memory (reports.training_memory.memory_summary) and the chip this algorithm
    # needs to train the network (training_chip): transposed periphery only where used,
    # SRAM sized to the peak buffer bits
    memory: dict[str, Any] = field(default_factory=dict)
    training_chip: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The run record's ``energy`` entry (docs/CONTRACTS.md): plain numbers, J / s / mm²."""
        tr, inf = self.train, self.inference
        out: dict[str, Any] = {
            "model": f"{MODEL} ({self.hardware.node_nm} nm)",
            "per_train_sample_j": tr["total_j"],
            "per_inference_j": inf["total_j"],
            "train_latency_per_sample_s": tr["latency_s"],
            "latency_per_inference_s": inf["latency_s"],
            "train_by_phase_j": dict(tr["by_phase_j"]),
            "by_component_j": dict(tr["by_component_j"]),
            "inference_by_component_j": dict(inf["by_component_j"]),
            "area_mm2": tr["area_mm2"],
            "area_breakdown_mm2": dict(tr["area_breakdown_mm2"]),
            "digital_inference_batch": self.inference_batch,
            "digital": {p: {"per_train_sample_j": d["train"]["total_j"],
                            "per_inference_batch1_j": d["inference_batch1"]["total_j"],
                            "per_inference_batched_j": d["inference_batched"]["total_j"]}
                        for p, d in self.digital.items()},
        }
        if self.memory:
            out["memory"] = dict(self.memory)
        if self.training_chip:
            out["training_chip"] = dict(self.training_chip)
        if "int8" in self.digital:  # the headline baseline (store columns)
            d = out["digital"]["int8"]
            out["digital_per_train_sample_j"] = d["per_train_sample_j"]
            out["digital_per_inference_j"] = d["per_inference_batch1_j"]
            out["digital_per_inference_batched_j"] = d["per_inference_batched_j"]
        return out


def price_run(ledger: dict[str, Any], hw: Hardware, *, train_samples: int, test_samples: int,
              inference_batch: int, precisions: tuple[str, ...] = PRECISIONS) -> RunPrice:
    """Price a run's whole ledger on ``hw`` (see the module docstring)."""
    for name, v in (("train_samples", train_samples), ("test_samples", test_samples),
                    ("inference_batch", inference_batch)):
        check_number(name, v, 1, None, integer=True)
    tl, il = split_ledger(ledger)
    # the training ledger keeps the run's memory record, so its buffer traffic is priced in the
    # memory level that holds the data (`estimate.memory_spill`), at the size of the SRAM buffer
    # it occupies (`estimate.sram_bytes_held`)
    tl["memory"] = ledger.get("memory") or {}
    tp = scale_report(price_ledger(tl, hw), 1.0 / train_samples)
    ip = scale_report(price_ledger(il, hw), 1.0 / test_samples)
    # the chip holds every matrix of the run whatever the phase
    ip["area_mm2"], ip["area_breakdown_mm2"] = tp["area_mm2"], tp["area_breakdown_mm2"]

    def digital(led: dict[str, Any], prec: str, batch: int | None, n: int) -> dict[str, Any]:
        p = price_digital(led, hw.node_nm, prec, sram_kb=hw.sram_kb, dram_type=hw.dram_type,
                          batch=batch, clock_hz=hw.clock_hz,
                          leakage_w_per_mm2=hw.leakage_w_per_mm2,
                          leakage_model=hw.leakage_model)
        return scale_report(p, 1.0 / n)

    dig = {p: {"train": digital(tl, p, None, train_samples),
               "inference_batch1": digital(il, p, 1, test_samples),
               "inference_batched": digital(il, p, inference_batch, test_samples)}
           for p in precisions}
    from .training_memory import memory_summary, training_chip

    mem = memory_summary(ledger, train_samples, test_samples)
    return RunPrice(hardware=hw, train_samples=train_samples, test_samples=test_samples,
                    inference_batch=inference_batch, train=tp, inference=ip, digital=dig,
                    memory=mem, training_chip=training_chip(tl, hw, mem["peak_bits"]))


def hardware_of_record(record: dict[str, Any]) -> Hardware | None:
    """The chip a run record was simulated and priced on (``record["hardware"]``, schema 2),
    or None for records written before the chip was stored (schema 1): those are not re-priced
    (their own stored ``energy`` is all there is), never priced on a guessed chip."""
    d = record.get("hardware")
    if not isinstance(d, dict):
        return None
    return Hardware.from_dict(d, origin="run record")
