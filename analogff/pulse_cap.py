"""Pulse trains cut by the chip's update slots, per matrix, read from a run record's ledger.

An update call has the chip's ``update_slots`` pulse slots (a stochastic update: that many per
batch row), and a device takes at most one pulse per slot: a device asked for more fires that
many pulses (the simulator's ``max_pulses`` per window, `crossbar.pulse_updates.apply_update`;
the mixed scheme keeps the rest in its accumulator).
The ledger counts such trains as ``trains_capped``, as it counts clipped conversions as
``adc_saturated``: a run whose large steps are cut learns more slowly than its learning rate
says. These helpers give each matrix's share of its weight updates, so that the command line
can name the matrix.
"""

from __future__ import annotations

from typing import Any

from crossbar.ledger import weight_updates

from .saturation import beyond, worst_share

# A matrix whose updates cut more than this share of its weights' pulse trains gets a warning
# line (the threshold of ADC saturation, `saturation.SATURATION_WARN_FRACTION`): the default
# run (`analogff simulate --noise 0.05`) cuts at most 2.0 % in any matrix (G1: 1.34 M trains in
# all) and learns (95.3 % test); plain SGD at a rate far too large (`analogff simulate --algo bp
# --optimizer sgd --lr 5 --hidden 32 --epochs 1 --limit 300`) cut 23-37 %
CAP_WARN_FRACTION = 0.05


def capped_by_matrix(ledger: dict[str, Any]) -> dict[str, tuple[float, int]]:
    """``{matrix: (trains capped, weight updates)}`` summed over every phase of a record's
    ledger, a weight update being one weight of the matrix in one update call (at most one
    device of a pair takes a train per update); only analog matrices with update calls
    (the ledger's matrix info says ``analog`` and holds their shape). A simulated run counts
    whole trains; the counting backend (`analogff energy`) records expected, fractional
    counts, summed as they are."""
    info = ledger.get("matrices", {})
    out: dict[str, list[float]] = {}
    for e in ledger.get("entries", []):
        shape = info.get(e["matrix"], {})
        if e.get("update_calls") and shape.get("analog") and "rows" in shape \
                and "cols" in shape:
            acc = out.setdefault(e["matrix"], [0.0, 0])
            acc[0] += e.get("trains_capped", 0)
            acc[1] += weight_updates(e, shape)
    return {m: (c, n) for m, (c, n) in out.items() if n}


def worst_capped_matrix(ledger: dict[str, Any]) -> tuple[str, float] | None:
    """The matrix whose updates cut the largest share of their weights' trains, and that
    share (0..1); None when no analog matrix was updated (ideal twin, inference only)."""
    return worst_share(capped_by_matrix(ledger))


def cut_heading(count: int, what: str) -> str:
    """The warning over a list of ``count`` sweep points or stored runs (``what``) that had a
    matrix whose updates the cap cut for more than CAP_WARN_FRACTION of its weights."""
    return (f"warning: {count} {what}(s) had a matrix whose updates asked for more pulses "
            f"than the chip's update slots for over {100 * CAP_WARN_FRACTION:g} % of its "
            "weights (cut to them; a lower learning rate asks for fewer, more --update-slots "
            "fire more):")


def pulse_cap_warnings(record: dict[str, Any], limit: float = CAP_WARN_FRACTION) -> list[str]:
    """One line per matrix whose updates cut more than ``limit`` of its weights' pulse trains
    to the chip's update slots, naming the matrix, the share and the option (with the run's
    value)."""
    slots = (record.get("hardware") or {}).get("update_slots")
    now = f" (now {slots})" if slots is not None else ""
    return [f"warning: {m}: {100 * c / n:.1f} % of its {n:,} weight updates asked for more "
            "pulses than the chip's update slots and were cut to them; a lower learning rate, "
            f"or a device with fewer states, asks for fewer, and more --update-slots{now} fire "
            "more" for m, c, n in beyond(capped_by_matrix(record.get("ledger") or {}), limit)]


def clipped_streams_by_matrix(ledger: dict[str, Any], slots: int
                              ) -> dict[str, tuple[float, float]]:
    """``{matrix: (streams clipped, streams)}`` of the stochastic updates in a record's ledger:
    a stream is one sample's row or column line in one update, and an analog matrix draws its
    random numbers only for them, ``slots`` per stream (``rng_draws = B·(R + C)·slots``);
    matrices without stochastic updates are left out."""
    out: dict[str, list[float]] = {}
    for e in ledger.get("entries", []):
        draws = e.get("rng_draws", 0)
        if draws and (ledger.get("matrices", {}).get(e["matrix"]) or {}).get("analog"):
            acc = out.setdefault(e["matrix"], [0.0, 0.0])
            acc[0] += e.get("streams_clipped", 0)
            acc[1] += draws / slots
    return {m: (c, n) for m, (c, n) in out.items() if n}


def stream_clip_warnings(record: dict[str, Any], limit: float = CAP_WARN_FRACTION) -> list[str]:
    """One line per matrix whose stochastic updates clipped more than ``limit`` of their bit
    streams' probabilities at 1 (a line asked for more than one pulse per slot: that
    sample's update along it was cut), naming the share and the option."""
    slots = (record.get("hardware") or {}).get("update_slots")
    if not slots:
        return []
    by = clipped_streams_by_matrix(record.get("ledger") or {}, slots)
    return [f"warning: {m}: {100 * c / n:.1f} % of the bit streams of its stochastic updates "
            "asked for more than one pulse per slot and were clipped to one (those samples' "
            "updates cut); a lower learning rate asks for fewer, and more --update-slots (now "
            f"{slots}) give more" for m, c, n in beyond(by, limit)]


def priced_batch_note(ledger: dict[str, Any], slots: int,
                      limit: float = CAP_WARN_FRACTION) -> str | None:
    """`analogff energy`'s one line on the batch it priced (the counting backend's expected
    counts): the matrices whose updates the slots cut for more than ``limit`` of their
    weights, worst first, with their shares; None when there are none. A network's first batch
    takes Adam's first steps, the largest a run asks for, so this says how the priced pulses
    were capped, not how a trained run fares (`simulate` counts that)."""
    over = sorted(((c / n, m) for m, c, n in beyond(capped_by_matrix(ledger), limit)),
                  reverse=True)
    if not over:
        return None
    return (f"note: in the priced batch the {slots} update slots cut the pulse trains of "
            + ", ".join(f"{m} ({100 * s:.0f} %)" for s, m in over)
            + " (expected counts; pulses are priced as fired)")
