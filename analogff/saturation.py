"""ADC saturation per matrix, read from a run record's ledger.

A run's summary counts every clipped conversion in one total; a range that suits most arrays
can still clip one of them so often that the network stops learning (docs/findings.md,
Claim 4: Fashion-MNIST's W1 at PFF's default range). These helpers split the count by matrix
so the command line can name the array and the option to change.
"""

from __future__ import annotations

from typing import Any

# A matrix whose ADCs clip more than this share of its conversions gets a warning line. The
# default digits run clips at most 2.1 % in any matrix (G3) and learns (95.3 % test); on
# Fashion-MNIST, PFF's W1 clipped 19-21 % and long analog runs collapsed (docs/findings.md).
SATURATION_WARN_FRACTION = 0.05


def saturation_by_matrix(ledger: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """``{matrix: (saturated, conversions)}`` summed over every phase of a record's ledger
    (``record["ledger"]``: training and the test set's inference); matrices without ADC
    conversions (digital work) are left out."""
    out: dict[str, list[int]] = {}
    for e in ledger.get("entries", []):
        n = int(e.get("adc_conversions", 0))
        if n:
            acc = out.setdefault(e["matrix"], [0, 0])
            acc[0] += int(e.get("adc_saturated", 0))
            acc[1] += n
    return {m: (s, n) for m, (s, n) in out.items()}


def worst_matrix(ledger: dict[str, Any]) -> tuple[str, float] | None:
    """The matrix whose ADCs clipped the largest share of their conversions, and that share
    (0..1); None when no matrix converted anything (ideal twin)."""
    return worst_share(saturation_by_matrix(ledger))


def share_text(matrix: str, share: float) -> str:
    """A matrix and its share (0..1) as the lists under sweep's and results' tables print
    them: ``W1 20.0 %``."""
    return f"{matrix} {100 * share:.1f} %"


def beyond(by: dict[str, tuple[float, float]], limit: float) -> list[tuple[str, float, float]]:
    """Of ``{matrix: (events, opportunities)}``, the ``(matrix, events, opportunities)`` whose
    share is beyond ``limit``, by name: the matrices a warning names."""
    return [(m, c, n) for m, (c, n) in sorted(by.items()) if c > limit * n]


def worst_share(by: dict[str, tuple[int, int]]) -> tuple[str, float] | None:
    """Of ``{matrix: (events, opportunities)}`` (every count > 0), the matrix with the
    largest share events / opportunities and that share; None for an empty dict. Ties go to
    the last name in sort order."""
    if not by:
        return None
    name = max(by, key=lambda m: (by[m][0] / by[m][1], m))
    s, n = by[name]
    return name, s / n


def saturation_warnings(record: dict[str, Any],
                        limit: float = SATURATION_WARN_FRACTION) -> list[str]:
    """One line per matrix whose ADCs clipped more than ``limit`` of their conversions,
    naming the matrix, the share, its range and the option that sets the range."""
    ledger = record.get("ledger") or {}
    info = ledger.get("matrices", {})
    user = (record.get("hardware") or {}).get("out_bound")
    lines = []
    for m, s, n in beyond(saturation_by_matrix(ledger), limit):
        rng = info.get(m, {}).get("out_bound")
        line = f"warning: {m}: {100 * s / n:.1f} % of its {n:,} ADC conversions saturated"
        if rng is not None:
            line += f" (range ±{rng:g} of a tile's full-scale column sum"
            if user and rng != user:   # PFF scales some matrices' ranges (out_bound_scale)
                line += f": --out-bound × {rng / user:g}"
            line += ")"
        if user is not None:
            line += f"; accuracy may suffer: widen the range with --out-bound (now {user:g})"
        lines.append(line)
    return lines


def capped_ranges(record: dict[str, Any]) -> dict[str, float]:
    """``{matrix: the ADC range it asked for}`` of the matrices whose range was widened
    beyond a tile's full-scale column sum and so set to full scale (PFF's generative matrices
    take ``gen_adc_range`` × --out-bound; the simulating and the counting factories record
    what they asked for as ``out_bound_requested``, `analogff.experiment.widened_out_bound`)."""
    info = (record.get("ledger") or {}).get("matrices", {})
    return {m: v["out_bound_requested"] for m, v in info.items()
            if v.get("out_bound_requested") is not None}


def capped_range_notes(record: dict[str, Any]) -> list[str]:
    """One line naming the matrices of `capped_ranges` and the range they asked for; empty
    when there are none."""
    capped = capped_ranges(record)
    if not capped:
        return []
    user = (record.get("hardware") or {}).get("out_bound")
    asked = sorted(set(capped.values()))
    opt = f"--out-bound {user:g}" if user is not None else "--out-bound"
    return [f"note: {', '.join(sorted(capped))}: ADC range ±1 (a tile's full-scale column "
            f"sum), not the ±{'/'.join(f'{a:g}' for a in asked)} asked ({opt} × the "
            "algorithm's widening for these matrices): no column sums beyond full scale"]


def clipping_heading(count: int, what: str) -> str:
    """The warning over a list of ``count`` sweep points or stored runs (``what``) that had a
    matrix clipping more than SATURATION_WARN_FRACTION of its conversions."""
    return (f"warning: {count} {what}(s) had a matrix whose ADCs clipped more than "
            f"{100 * SATURATION_WARN_FRACTION:g} % of its conversions (accuracy may suffer: "
            "widen --out-bound):")


def capped_heading(count: int, what: str, matrices: str) -> str:
    """The note over a list of ``count`` sweep points or stored runs (``what``) whose
    widened ADC range of ``matrices`` was set to full scale (`capped_ranges`)."""
    return (f"note: {count} {what}(s) set the ADC range of {matrices} to ±1 (a tile's "
            "full-scale column sum), below what --out-bound × the algorithm's widening asks "
            "(no column sums beyond full scale):")
