"""Statistics over seeds: group runs that differ only in their seed; t-based intervals.

A point of a study is one configuration; its replicates are runs that differ in the seed and
in nothing else. `seed_groups` never pools two runs whose configurations differ in anything
but the seed: asked to group by some columns, it adds every other column that varies (and
says which). Intervals are two-sided Student-t intervals of the mean over the seeds of one
configuration (n - 1 degrees of freedom), the usual choice for a handful of replicates.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

CONFIDENCE = 0.95
# with fewer seeds a 95 % t interval is not informative: the half-width is t·s/√n, so two
# seeds (t(0.975, 1 dof) = 12.71) give ±12.71·s/√2 ≈ ±9.0 sample standard deviations s
# (±12.7 standard errors); three (t = 4.30) give ±2.5 s (±4.3 standard errors)
MIN_SEEDS = 3
SEED_COLUMNS = ("seed",)

_SI = ((1e-18, "a"), (1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"),
       (1.0, ""), (1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T"))


def _prefix(v: float, digits: int) -> tuple[float, str]:
    """(factor, prefix) that `si` writes a finite, non-zero ``v`` with at ``digits``: the
    smallest prefix whose mantissa does not round to 1000 (the last one takes the rest)."""
    top = 1000 - 5 * 10.0 ** (2 - digits)     # the mantissa that rounds to 1000 at `digits`
    return next(((f, p) for f, p in _SI if abs(v) < f * top), _SI[-1])


def si(v: Any, unit: str = "", digits: int = 3, missing: str = "–") -> str:
    """``v`` with an SI prefix at ``digits`` significant digits, never an exponent:
    ``si(2.48e-6, "J")`` -> ``"2.48 µJ"``, ``si(999.7e-9, "J")`` -> ``"1 µJ"`` (the next
    prefix once the mantissa would round to 1000); None, NaN or infinity -> ``missing``. The
    one SI formatter of the tables, figures and command line."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return missing
    if not math.isfinite(v):
        return missing
    if v == 0:
        return f"0 {unit}".rstrip()
    f, p = _prefix(v, digits)
    x = v / f
    s = f"{x:.{digits}g}"
    if "e" in s:        # 234 at 2 digits: "234", not "2.3e+02"; "2500 T" past the last prefix
        s = f"{x:.0f}"
    return f"{s} {p}{unit}".rstrip()


def si_scale(vmax: float, unit: str) -> tuple[float, str]:
    """(factor, prefixed unit) for printing values up to ``vmax``: (1e-6, "µJ") for 2e-6 J
    (the prefix `si` gives ``vmax`` at three digits; none for 0)."""
    if vmax == 0 or not math.isfinite(vmax):
        return 1.0, unit
    f, p = _prefix(vmax, 3)
    return f, p + unit


def t_interval(values: Iterable[Any], confidence: float = CONFIDENCE) -> tuple[float, float, int]:
    """(mean, half-width of the two-sided Student-t interval, n) of the finite values.

    The half-width is NaN for fewer than two values (no spread to estimate)."""
    import numpy as np
    from scipy import stats

    v = []
    for x in values:
        try:
            f = float(x)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            v.append(f)
    a = np.asarray(v, dtype=float)
    n = int(a.size)
    if n == 0:
        return math.nan, math.nan, 0
    m = float(a.mean())
    if n < 2:
        return m, math.nan, n
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    return m, t * float(a.std(ddof=1)) / math.sqrt(n), n


def _key(v: Any) -> str:
    """A hashable, NaN-safe grouping key (None and NaN both mean "not set")."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "∅"
    return repr(v)


def varied(df, columns: Sequence[str]) -> list[str]:
    """The columns of ``columns`` (in that order) that take more than one value in ``df``."""
    return [c for c in columns if c in df.columns and c not in SEED_COLUMNS
            and df[c].map(_key).nunique() > 1]


def seed_groups(df, config_columns: Sequence[str], metrics: Sequence[str],
                by: Sequence[str] | None = None, confidence: float = CONFIDENCE):
    """Group the rows of ``df`` (one per run) into configurations that differ only by seed.

    ``by``: the columns the caller wants (default: every varied configuration column). Every
    other column of ``config_columns`` that varies in ``df`` is added, so runs that differ in
    anything but the seed are never pooled. Returns ``(table, keys, added)``: one row per
    configuration with the key columns, ``n`` (runs), ``seeds`` (their seeds), ``few_seeds``
    (n < `MIN_SEEDS`) and ``<metric>_mean`` / ``<metric>_ci`` (half-width of the t interval).
    """
    import pandas as pd

    want = list(by) if by else []
    added = [c for c in varied(df, config_columns) if c not in want]
    keys = want + added
    cols = keys + ["n", "seeds", "few_seeds"] + [f"{m}_{s}" for m in metrics
                                                 for s in ("mean", "ci")]
    if df.empty:
        return pd.DataFrame(columns=cols), keys, added
    rows = []
    if keys:
        tags = df[keys].apply(lambda r: tuple(_key(v) for v in r), axis=1)
        order = list(dict.fromkeys(tags))
        parts = [(t, df[tags == t]) for t in order]
    else:
        parts = [((), df)]
    for _tag, sub in parts:
        first = sub.iloc[0]
        row: dict[str, Any] = {k: first[k] for k in keys}
        row["n"] = len(sub)
        row["seeds"] = ",".join(str(s) for s in sub["seed"]) if "seed" in sub else ""
        row["few_seeds"] = len(sub) < MIN_SEEDS
        for m in metrics:
            mean, half, _ = t_interval(sub[m].tolist() if m in sub else [], confidence)
            row[f"{m}_mean"] = mean
            row[f"{m}_ci"] = half
        rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    if keys:
        out = out.sort_values(keys, key=lambda s: s.map(_sort_key), kind="stable")
    return out.reset_index(drop=True), keys, added


def _sort_key(v: Any):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return (0, 0.0, "")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (1, float(v), "")
    return (2, 0.0, str(v))


def few_seeds_note(table, confidence: float = CONFIDENCE) -> str | None:
    """A one-line warning if some configuration has fewer than `MIN_SEEDS` seeds, else None."""
    if table is None or not len(table) or not bool(table["few_seeds"].any()):
        return None
    ns = sorted({int(n) for n in table.loc[table["few_seeds"], "n"]})
    pct = f"{100 * confidence:g} %"
    return (f"warning: {int(table['few_seeds'].sum())} of {len(table)} configurations have "
            f"n = {', '.join(map(str, ns))} seed(s) (< {MIN_SEEDS}): their {pct} intervals are "
            "very wide or missing (n = 1); run more seeds (sweep --seeds)")


def pareto_front(points: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points (energy, accuracy) not dominated by a cheaper-and-at-least-as-accurate one,
    cheapest first."""
    front, best = [], -math.inf
    # cheapest first; at equal energy the most accurate first (the others are dominated)
    for e, a in sorted((p for p in points if math.isfinite(p[0]) and math.isfinite(p[1])),
                       key=lambda p: (p[0], -p[1])):
        if a > best:
            front.append((e, a))
            best = a
    return front
