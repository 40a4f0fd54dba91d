"""The report's figures: one function per figure, each written as SVG, PDF and a 300-dpi PNG.

Every point is one configuration (runs that differ only in the seed, `reports.stats`), drawn
at the mean over its seeds with its t interval; a red note on the figure warns when some point
has fewer than `stats.MIN_SEEDS` seeds. Figures that show one configuration per algorithm
(breakdowns) use the study's *base point* (`Study.base`: the middle value of every swept knob)
and their captions say so, and list what was held constant.

Publication sizes: 7.2 in wide (a two-column figure); 8 pt text and axis labels, 9 pt titles,
7 pt ticks and legends (6 pt for legends beside the axes), 5.5-6.5 pt annotations; vector
text in PDF/SVG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .stats import (CONFIDENCE, MIN_SEEDS, few_seeds_note, pareto_front, seed_groups, si,
                    varied)

ALGO_COLORS = {"pff": "#1f77b4", "ff": "#ff7f0e", "bp": "#2ca02c"}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">")
DPI = 300                           # PNG resolution (journals ask for >= 300 dpi)
WIDTH_IN = 7.2                      # two-column figure width
FORMATS = ("png", "svg", "pdf")
# configuration columns that never define a knob: the replicate index, the float twin (ideal
# runs are drawn as reference lines, not as points), and the times a trained network is
# tested at after programming (measured after everything else: same run, same numbers)
NOT_KNOBS = ("seed", "ideal", "algo", "eval_times")
GROUP_METRICS = ("test_accuracy", "train_accuracy", "energy_per_train_sample_j",
                 "energy_per_inference_j", "digital_int8_per_train_sample_j",
                 "digital_int8_per_inference_j", "digital_fp16_per_train_sample_j",
                 "digital_fp16_per_inference_j", "area_mm2", "latency_per_train_sample_s",
                 "latency_per_inference_s", "tops_per_w", "tops_per_mm2")
ENERGY_AXES = (("energy_per_train_sample_j", "energy per training sample"),
               ("energy_per_inference_j", "energy per inference"))


@dataclass(frozen=True)
class Figure:
    """One written figure: file stem (``stem.png/.svg/.pdf``), title and caption."""

    stem: str
    title: str
    caption: str


@dataclass
class Study:
    """The runs of a store, seen as a study: knobs, configurations, base point."""

    runs: Any                      # DataFrame, one row per run (analog and ideal)
    energy: Any                    # long format: run, algo, by, key, j_per_train_sample
    area: Any                      # long format: run, algo, block, mm2
    matrices: Any                  # one row per (run, matrix)
    config_columns: list[str]
    knobs: list[str] = field(default_factory=list)      # swept, besides algo and seed
    algos: list[str] = field(default_factory=list)
    groups: Any = None             # seed_groups of the analog runs by algo + knobs
    base: dict[str, Any] = field(default_factory=dict)
    constant: dict[str, Any] = field(default_factory=dict)

    @property
    def analog(self):
        return self.runs[~self.runs["ideal"].astype(bool)]


def make_study(runs, energy, area, matrices, config_columns: list[str]) -> Study:
    """Find the knobs (varied configuration columns), group the analog runs over seeds and
    choose the base point."""
    st = Study(runs, energy, area, matrices, list(config_columns))
    an = st.analog
    st.knobs = [k for k in varied(an, config_columns) if k not in NOT_KNOBS]
    present = list(dict.fromkeys(an["algo"])) if len(an) else list(dict.fromkeys(runs["algo"]))
    st.algos = [a for a in ALGO_COLORS if a in present] + sorted(set(present) - set(ALGO_COLORS))
    metrics = [m for m in GROUP_METRICS if m in runs.columns]
    st.groups, _keys, _added = seed_groups(an, ["algo"] + st.knobs, metrics, by=["algo"])
    for k in st.knobs:
        vals = values_of(an[k])
        st.base[k] = vals[(len(vals) - 1) // 2]       # the middle value (lower middle)
    for c in config_columns:
        if c in NOT_KNOBS or c in st.knobs or c not in runs.columns:
            continue
        v = runs[c].iloc[0] if len(runs) else None
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            st.constant[c] = v
    return st


def _hashable(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def values_of(series) -> list:
    """The distinct values of a column, unset (None / NaN) as one None, in `_order`. (A
    float column's ``.map(_hashable)`` turns None back into NaN, and NaN != NaN, so a set of
    it holds every NaN once and no None.)"""
    return sorted({_hashable(v) for v in series.tolist()}, key=_order)


def _is(series, v: Any):
    """Elementwise "equals ``v``", with None and NaN equal to each other (pandas' ``==``
    says None != None)."""
    return series.map(lambda x: _hashable(x) == v).astype(bool)


def _order(v: Any):
    if v is None:
        return (0, 0.0, "")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (1, float(v), "")
    return (2, 0.0, str(v))


def fmt_value(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "default"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def describe(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {fmt_value(v)}" for k, v in values.items())


# the chip fields a caption names when they are held constant (the report's chip table lists
# every field)
CAPTION_CHIP_FIELDS = ("device", "node_nm", "tile_rows", "tile_cols", "dac_bits", "adc_bits",
                       "adc_type", "cols_per_adc", "out_bound", "input_mode")


def held_constant(st: Study, extra: dict[str, Any] | None = None) -> str:
    """Caption sentence: what every run shared (and, for base-point figures, the base)."""
    from crossbar.chip import field_names

    chip = set(field_names())
    parts = []
    if extra:
        parts.append(f"At the base point {describe(extra)}.")
    train = {k: v for k, v in st.constant.items() if k not in chip}
    hw = {k: st.constant[k] for k in CAPTION_CHIP_FIELDS if k in st.constant}
    if train:
        parts.append(f"Held constant: {describe(train)}.")
    if hw:
        parts.append(f"Chip held constant: {describe(hw)}; other chip fields as in the chip "
                     "table.")
    return " ".join(parts)


def _seeds_sentence(table) -> str:
    if table is None or not len(table):
        return ""
    ns = sorted({int(n) for n in table["n"]})
    pct = f"{100 * CONFIDENCE:g} %"
    s = (f"Points are means over n = {', '.join(map(str, ns))} seeds per configuration; bars "
         f"are {pct} Student-t intervals over the seeds (runs differing in anything else are "
         "never pooled).")
    if bool(table["few_seeds"].any()):
        s += f" Configurations with n < {MIN_SEEDS} are marked on the figure: their intervals " \
             "are very wide (n = 2) or absent (n = 1)."
    return s


# ---- drawing helpers ---------------------------------------------------------------------
def _setup():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "legend.fontsize": 7,
        "xtick.labelsize": 7, "ytick.labelsize": 7, "axes.grid": True, "grid.alpha": 0.3,
        "grid.linewidth": 0.5, "axes.axisbelow": True, "axes.spines.top": False, "axes.spines.right": False,
        "pdf.fonttype": 42, "svg.fonttype": "none", "savefig.bbox": "tight",
        "savefig.pad_inches": 0.03})
    return plt


def color(algo: str) -> str:
    return ALGO_COLORS.get(algo, "#7f7f7f")


def shade(hex_color: str, i: int, n: int) -> tuple[float, float, float]:
    """The ``i``-th of ``n`` shades of a colour, light to dark (for a second knob)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(hex_color)
    if n <= 1:
        return (r, g, b)
    t = 0.45 - 0.9 * i / (n - 1)              # +0.45 (lighter) ... -0.45 (darker)
    if t > 0:
        return (r + (1 - r) * t, g + (1 - g) * t, b + (1 - b) * t)
    return (r * (1 + t), g * (1 + t), b * (1 + t))


def log_axis(axis, unit: str, max_ticks: int = 6) -> None:
    """Log scale with readable ticks labelled in SI units (50 nJ, 100 nJ, 200 nJ): decades, or
    1-3 / 1-2-5 within them when that stays under ``max_ticks``; evenly spaced ticks with as
    many digits as needed when the whole range is a small fraction of a decade."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    lo, hi = axis.get_view_interval()
    lo, hi = min(lo, hi), max(lo, hi)
    decades = math.log10(hi / lo) if lo > 0 and hi > lo else 1.0
    digits = 3
    if decades < 0.3:          # e.g. 13.55-13.62 µJ: linear-looking ticks, enough digits
        axis.set_major_locator(MaxNLocator(nbins=4))
        step = (hi - lo) / 4 if hi > lo else hi
        digits = max(3, min(7, math.ceil(math.log10(hi / step)) + 1)) if step > 0 else 3
    else:
        for subs in ((1.0, 2.0, 5.0), (1.0, 3.0), (1.0,)):
            if decades * len(subs) <= max_ticks or subs == (1.0,):
                break
        if decades < 1.0:
            subs = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
        axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=30))
    axis.set_major_formatter(FuncFormatter(lambda v, _p: si(v, unit, digits)))
    axis.set_minor_formatter(NullFormatter())


def _warn(fig, table) -> None:
    note = few_seeds_note(table)
    if note:
        fig.suptitle("⚠ " + note.replace("warning: ", ""), color="#b00000", fontsize=7,
                     wrap=True)


def save(fig, out: Path, stem: str) -> None:
    """Write ``stem`` as PNG (300 dpi), SVG and PDF into ``out``: one layout for all three.
    The constrained layout is solved while the first file is drawn and then kept (the
    figure's layout engine is dropped), so the three files share the positions of every axes
    and label, and the other two skip the solve (about a third of a figure's drawing time)."""
    import matplotlib.pyplot as plt

    for ext in FORMATS:
        fig.savefig(out / f"{stem}.{ext}", dpi=DPI if ext == "png" else None,
                    metadata={"Date": None} if ext == "svg" else None)
        fig.set_layout_engine("none")
    plt.close(fig)


def _err_log(x: float, e: float) -> list[list[float]] | None:
    """Asymmetric x error for a log axis (the lower arm stops short of zero)."""
    if not (math.isfinite(e) and math.isfinite(x)) or e <= 0:
        return None
    return [[min(e, 0.95 * x)], [e]]


def _fin(v: float) -> float | None:
    return v if isinstance(v, (int, float)) and math.isfinite(v) and v > 0 else None


# ---- 1. headline Pareto ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Encoding:
    """How the swept knobs are drawn: marker shape, shade, or text beside the point."""

    marker_knob: str | None
    marker_values: list
    shade_knob: str | None
    shade_values: list
    text_knobs: list

    @classmethod
    def of(cls, st: Study) -> "_Encoding":
        mk = st.knobs[0] if st.knobs else None
        sk = st.knobs[1] if len(st.knobs) > 1 else None
        vals = (lambda k: values_of(st.analog[k]) if k else [None])
        return cls(mk, vals(mk), sk, vals(sk), st.knobs[2:])

    def marker(self, r) -> str:
        if not self.marker_knob:
            return "o"
        return MARKERS[self.marker_values.index(_hashable(r[self.marker_knob])) % len(MARKERS)]

    def color(self, algo: str, r) -> Any:
        if not self.shade_knob:
            return color(algo)
        return shade(color(algo), self.shade_values.index(_hashable(r[self.shade_knob])),
                     len(self.shade_values))

    def handles(self, algos: list[str]) -> list:
        from matplotlib.lines import Line2D

        hs = [Line2D([], [], color=color(a), lw=1.2, marker="o", ms=4,
                     label=f"{a.upper()} (line: its Pareto front)") for a in algos]
        if self.marker_knob:
            hs += [Line2D([], [], ls="", marker=MARKERS[i % len(MARKERS)], color="#888",
                          mec="k", mew=0.4, label=f"{self.marker_knob} = {fmt_value(v)}")
                   for i, v in enumerate(self.marker_values)]
        if self.shade_knob:
            hs += [Line2D([], [], ls="", marker="s", ms=6, mec="k", mew=0.3,
                          color=shade("#777777", i, len(self.shade_values)),
                          label=f"{self.shade_knob} = {fmt_value(v)}")
                   for i, v in enumerate(self.shade_values)]
        return hs

    def sentence(self, base: dict[str, Any] | None = None) -> str:
        enc = []
        if self.marker_knob:
            enc.append(f"marker shape = {self.marker_knob}")
        if self.shade_knob:
            enc.append(f"shade (light to dark) = {self.shade_knob}")
        if self.text_knobs:
            at = describe({k: (base or {}).get(k) for k in self.text_knobs})
            enc.append(f"{', '.join(self.text_knobs)} written beside a point where they "
                       f"differ from the base point ({at})")
        return f"; {'; '.join(enc)}" if enc else ""


def _pareto_panel(ax, st: Study, enc: _Encoding, algos: list[str], metric: str) -> None:
    g = st.groups
    for algo in algos:
        sub = g[g["algo"] == algo]
        for _, r in sub.iterrows():
            x, y = r[f"{metric}_mean"], 100 * r["test_accuracy_mean"]
            if not (_fin(x) and math.isfinite(y)):
                continue
            ye = 100 * r["test_accuracy_ci"]
            ax.errorbar([x], [y], xerr=_err_log(x, r[f"{metric}_ci"]),
                        yerr=[ye] if math.isfinite(ye) else None, fmt=enc.marker(r),
                        color=enc.color(algo, r), mec="k", mew=0.4, ms=5.5, elinewidth=0.7,
                        capsize=1.5, ecolor=color(algo), alpha=0.95, zorder=3)
            if r["few_seeds"]:
                ax.annotate(f"n={int(r['n'])}", (x, y), xytext=(3, -8),
                            textcoords="offset points", fontsize=5.5, color="#b00000")
            # knobs beyond marker and shade: written beside the point where they leave the
            # base point (the caption gives the base)
            off = [k for k in enc.text_knobs if _hashable(r[k]) != st.base.get(k)]
            if off:
                ax.annotate(", ".join(f"{k}={fmt_value(r[k])}" for k in off),
                            (x, y), xytext=(3, 3), textcoords="offset points", fontsize=5.5,
                            color="#444")
        front = pareto_front(zip(sub[f"{metric}_mean"], 100 * sub["test_accuracy_mean"]))
        if len(front) > 1:
            ax.step([e for e, _ in front], [a for _, a in front], where="post",
                    color=color(algo), lw=1.0, alpha=0.8, zorder=2)
    ax.set_xscale("log")
    log_axis(ax.xaxis, "J")


def fig_pareto(st: Study, out: Path) -> Figure | None:
    """Energy per training sample and per inference vs test accuracy, one front per algorithm;
    the first swept knob is the marker, the second the shade, others are written beside."""
    g = st.groups
    if g is None or not len(g) or not g["energy_per_train_sample_j_mean"].notna().any():
        return None
    plt = _setup()
    enc = _Encoding.of(st)
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH_IN, 3.3), sharey=True, layout="constrained")
    for ax, (metric, label) in zip(axes, ENERGY_AXES):
        _pareto_panel(ax, st, enc, st.algos, metric)
        ax.set_xlabel(f"{label} (log scale)")
        ax.set_title(f"{label[0].upper()}{label[1:]}")
    axes[0].set_ylabel("test accuracy (%)")
    hs = enc.handles(st.algos)
    fig.legend(handles=hs, loc="outside lower center", ncol=min(len(hs), 5), frameon=False)
    _warn(fig, g)
    save(fig, out, "energy_vs_accuracy")
    cap = ("Test accuracy against analog energy per training sample (left) and per inference "
           "(right), log axes. One point per configuration; colour = algorithm"
           + enc.sentence(st.base) + ". Each algorithm's line is its Pareto front over configuration "
           "means (no configuration of that algorithm is both cheaper and more accurate). "
           + _seeds_sentence(g) + " " + held_constant(st))
    return Figure("energy_vs_accuracy", "Energy vs accuracy (Pareto)", cap.strip())


def fig_pareto_by_algo(st: Study, out: Path) -> Figure | None:
    """The Pareto plot with one row per algorithm, each on its own energy range, so that an
    algorithm's own trade-off is not squeezed by another's energy scale."""
    g = st.groups
    if g is None or len(st.algos) < 2 or not g["energy_per_train_sample_j_mean"].notna().any():
        return None
    plt = _setup()
    enc = _Encoding.of(st)
    n = len(st.algos)
    fig, axes = plt.subplots(n, 2, figsize=(WIDTH_IN, 2.3 * n + 0.7), sharey=True,
                             layout="constrained", squeeze=False)
    for i, algo in enumerate(st.algos):
        for j, (metric, label) in enumerate(ENERGY_AXES):
            ax = axes[i][j]
            _pareto_panel(ax, st, enc, [algo], metric)
            ax.set_title(f"{algo.upper()}: {label}")
            if i == n - 1:
                ax.set_xlabel(f"{label} (log scale)")
        axes[i][0].set_ylabel("test accuracy (%)")
    hs = enc.handles(st.algos)[len(st.algos):]
    if hs:
        fig.legend(handles=hs, loc="outside lower center", ncol=min(len(hs), 5),
                   frameon=False)
    _warn(fig, g)
    save(fig, out, "energy_vs_accuracy_by_algo")
    cap = ("The same points and fronts as the Pareto figure, one row per algorithm on its own "
           "energy range, so that each algorithm's trade-off between its knobs is visible"
           + enc.sentence(st.base) + ". " + _seeds_sentence(g) + " " + held_constant(st))
    return Figure("energy_vs_accuracy_by_algo", "Energy vs accuracy, per algorithm",
                  cap.strip())


# ---- 2. one figure per knob ------------------------------------------------------------------
def _numeric(vals: list) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)


def fig_knob(st: Study, knob: str, out: Path) -> Figure | None:
    """Accuracy, energy per training sample and per inference vs ``knob``: a line per
    combination of the algorithm and the other swept knobs."""
    from matplotlib.lines import Line2D

    g = st.groups
    if g is None or not len(g):
        return None
    plt = _setup()
    others = [k for k in st.knobs if k != knob]
    xvals = values_of(st.analog[knob])
    numeric = _numeric(xvals)
    logx = numeric and min(xvals) > 0 and max(xvals) / min(xvals) >= 50
    pos = {v: (float(v) if numeric else i) for i, v in enumerate(xvals)}
    fig, axes = plt.subplots(1, 3, figsize=(WIDTH_IN, 2.9), layout="constrained")
    panels = (("test_accuracy", "test accuracy (%)", 100.0),) + tuple(
        (m, f"{lab} (log scale)", 1.0) for m, lab in ENERGY_AXES)
    handles = []
    for algo in st.algos:
        sub = g[g["algo"] == algo]
        combos = list(dict.fromkeys(sub[others].apply(lambda r: tuple(map(_hashable, r)),
                                                      axis=1))) if others else [()]
        # a line needs two values of the knob: in a one-at-a-time design only the base
        # combination has them (the other points are in the sensitivity figure)
        lines = [cb for cb in combos
                 if len(_match(sub, others, cb)[knob].map(_hashable).unique()) >= 2]
        combos = lines or combos
        for ci, combo in enumerate(combos):
            line = _match(sub, others, combo)
            line = line.assign(_x=line[knob].map(lambda v: pos[_hashable(v)])).sort_values("_x")
            c = shade(color(algo), ci, len(combos))
            ls = ("-", "--", ":", "-.")[ci % 4]
            mk = MARKERS[ci % len(MARKERS)]
            for ax, (m, _lab, f) in zip(axes, panels):
                y, e = f * line[f"{m}_mean"], f * line[f"{m}_ci"]
                ax.errorbar(line["_x"], y, yerr=e.where(e.notna(), 0), color=c, ls=ls,
                            marker=mk, ms=4, lw=1.0, elinewidth=0.6, capsize=1.5, mec="k",
                            mew=0.3)
            lab = algo.upper() + (" · " + ", ".join(f"{k}={fmt_value(v)}"
                                                     for k, v in zip(others, combo))
                                  if others else "")
            handles.append(Line2D([], [], color=c, ls=ls, marker=mk, ms=4, mec="k", mew=0.3,
                                  label=lab))
        ideal = st.runs[st.runs["ideal"].astype(bool) & (st.runs["algo"] == algo)]
        acc = ideal["test_accuracy"].dropna()
        if len(acc):
            axes[0].axhline(100 * acc.mean(), color=color(algo), ls=(0, (1, 1)), lw=1)
            handles.append(Line2D([], [], color=color(algo), ls=(0, (1, 1)),
                                  label=f"{algo.upper()} ideal float (n = {len(acc)})"))
    for ax, (m, lab, _f) in zip(axes, panels):
        ax.set_ylabel(lab)
        ax.set_xlabel(knob)
        if logx:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(range(len(xvals)), [fmt_value(v) for v in xvals])
        elif len(xvals) <= 8:
            ax.set_xticks([pos[v] for v in xvals], [fmt_value(v) for v in xvals])
        if m != "test_accuracy":
            ax.set_yscale("log")
            log_axis(ax.yaxis, "J")
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4),
               frameon=False)
    _warn(fig, g)
    stem = f"accuracy_vs_{_safe(knob)}"
    save(fig, out, stem)
    cap = (f"Test accuracy, energy per training sample and energy per inference against "
           f"{knob}; one line per combination of the algorithm"
           + (f" and {', '.join(others)}" if others else "") + ". "
           + ("Dotted lines: the same algorithm on ideal float matrices. " if
              bool(st.runs["ideal"].astype(bool).any()) else "")
           + _seeds_sentence(g) + " " + held_constant(st))
    return Figure(stem, f"Accuracy and energy vs {knob}", cap.strip())


def _match(df, keys: list[str], values: tuple):
    """Rows of ``df`` whose ``keys`` equal ``values`` (None and NaN alike)."""
    for k, v in zip(keys, values):
        df = df[_is(df[k], v)]
    return df


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in name)


# ---- base-point figures ------------------------------------------------------------------------
def base_runs(st: Study):
    """The analog runs at the base point (every swept knob at its base value), all seeds."""
    an = st.analog
    mask = an["algo"].notna()
    for k, v in st.base.items():
        mask &= _is(an[k], v)
    return an[mask]


def _algo_labels(algos: list[str]) -> list[str]:
    return [a.upper() for a in algos]


def _bar_labels(ax, bars, unit: str, fmt: Callable | None = None) -> None:
    labels = [(fmt or (lambda v: si(v, unit)))(b.get_height()) if b.get_height() > 0 else ""
              for b in bars]
    ax.bar_label(bars, labels=labels, fontsize=6, padding=1.5)


def fig_energy_breakdown(st: Study, out: Path) -> Figure | None:
    """Share of energy per training sample by phase and by component (100 % stacked), with
    each bar's total written on top, at the base point."""
    import pandas as pd

    base = base_runs(st)
    if base.empty or st.energy.empty:
        return None
    plt = _setup()
    edf = st.energy[st.energy["run"].isin(set(base["run"]))]
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH_IN, 3.2), layout="constrained")
    for ax, by, title in ((axes[0], "phase", "by phase"), (axes[1], "component",
                                                           "by component")):
        sub = edf[edf["by"] == by]
        if sub.empty:
            ax.set_title(f"Energy {title}: no data")
            continue
        # mean over the seeds of the base configuration, per algorithm
        tab = sub.groupby(["algo", "key"])["j_per_train_sample"].mean().unstack(fill_value=0.0)
        tab = tab.reindex([a for a in st.algos if a in tab.index])
        tab = tab.loc[:, (tab > 0).any(axis=0)]
        total = tab.sum(axis=1)
        share = 100 * tab.div(total.where(total > 0), axis=0)
        cmap = plt.get_cmap("tab20")
        bottom = pd.Series(0.0, index=share.index)
        xs = list(range(len(share)))
        for i, col in enumerate(share.columns):
            bars = ax.bar(xs, share[col], bottom=bottom, width=0.6, label=col,
                          color=cmap(i % 20), edgecolor="white", linewidth=0.4)
            for b, v, b0 in zip(bars, share[col], bottom):
                if v >= 7:
                    ax.text(b.get_x() + b.get_width() / 2, b0 + v / 2, f"{v:.0f} %",
                            ha="center", va="center", fontsize=5.5)
            bottom = bottom + share[col]
        for x, t in zip(xs, total):
            ax.text(x, 101.5, f"total {si(t, 'J')}", ha="center", va="bottom", fontsize=6.5)
        ax.set_xticks(xs, _algo_labels(list(share.index)))
        ax.set_ylim(0, 110)
        ax.set_ylabel("share of energy per training sample (%)")
        ax.set_title(f"Energy {title}")
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _finish_base(
        fig, st, base, out, "energy_breakdown", "Energy breakdown",
        "Where the energy of one training sample goes, by algorithm phase (left) and by "
        "hardware component (right), as shares so that every algorithm is readable whatever "
        "its total (written above each bar). Phase 'init' is the programming of the "
        "initial weights, spread over the run's training samples (large for short runs). "
        "Mean over the seeds of the base configuration. ")


def _finish_base(fig, st: Study, base, out: Path, stem: str, title: str, cap: str) -> Figure:
    """Close a base-configuration figure: the few-seeds warning over the base point's seed
    groups, the files, and the caption ``cap`` followed by what is held constant."""
    _warn(fig, _base_table(st, base))
    save(fig, out, stem)
    return Figure(stem, title, (cap + held_constant(st, st.base)).strip())


def _base_table(st: Study, base):
    """The seed groups of the base point (for the n < 3 warning)."""
    g = st.groups
    if g is None or not len(g):
        return g
    mask = g["algo"].isin(set(base["algo"]))
    for k, v in st.base.items():
        mask &= _is(g[k], v)
    return g[mask]


def fig_area_breakdown(st: Study, out: Path) -> Figure | None:
    base = base_runs(st)
    if base.empty or st.area.empty:
        return None
    plt = _setup()
    adf = st.area[st.area["run"].isin(set(base["run"]))]
    tab = adf.groupby(["algo", "block"])["mm2"].mean().unstack(fill_value=0.0)
    tab = tab.reindex([a for a in st.algos if a in tab.index])
    tab = tab.loc[:, (tab > 0).any(axis=0)]
    fig, ax = plt.subplots(figsize=(WIDTH_IN * 0.62, 3.0), layout="constrained")
    cmap = plt.get_cmap("tab10")
    bottom = None
    xs = list(range(len(tab)))
    bars = None
    for i, col in enumerate(tab.columns):
        bars = ax.bar(xs, tab[col], bottom=bottom, width=0.6, label=col.replace("_", " "),
                      color=cmap(i % 10), edgecolor="white", linewidth=0.4)
        bottom = tab[col] if bottom is None else bottom + tab[col]
    if bars is not None:
        for x, t in zip(xs, tab.sum(axis=1)):
            ax.text(x, t, f"{t:.3g} mm²", ha="center", va="bottom", fontsize=6.5)
        ax.set_ylim(0, 1.12 * float(tab.sum(axis=1).max()))
    ax.set_xticks(xs, _algo_labels(list(tab.index)))
    ax.set_ylabel("chip area (mm²)")
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _finish_base(
        fig, st, base, out, "area_breakdown", "Area breakdown",
        "Chip area by block (arrays, converters, transposed-read periphery, SRAM buffer, "
        "digital lanes) at the base configuration; the total is written on each bar. ")


def fig_analog_vs_digital(st: Study, out: Path) -> Figure | None:
    import numpy as np

    base = base_runs(st)
    if base.empty:
        return None
    plt = _setup()
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH_IN, 3.0), layout="constrained")
    cols = (("energy_per", "analog", "#4c72b0"), ("digital_int8_per", "digital int8", "#dd8452"),
            ("digital_fp16_per", "digital fp16", "#c44e52"))
    from .stats import t_interval
    algos = [a for a in st.algos if a in set(base["algo"])]
    w = 0.26
    for ax, scope, title in ((axes[0], "train_sample", "per training sample"),
                             (axes[1], "inference", "per inference")):
        for i, (pre, lab, c) in enumerate(cols):
            col = f"{pre}_{scope}_j"
            if col not in base:
                continue
            stats = [t_interval(base[base["algo"] == a][col]) for a in algos]
            ys = [s[0] for s in stats]
            es = [s[1] if math.isfinite(s[1]) else 0.0 for s in stats]
            xs = np.arange(len(algos)) + (i - 1) * w
            bars = ax.bar(xs, ys, width=w, label=lab, color=c, yerr=es, capsize=1.5,
                          error_kw={"elinewidth": 0.6})
            _bar_labels(ax, bars, "J")
        ax.set_xticks(range(len(algos)), _algo_labels(algos))
        ax.set_yscale("log")
        log_axis(ax.yaxis, "J")
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi * 3)                  # room for the value labels
        ax.set_ylabel(f"energy {title} (log scale)")
        ax.set_title(f"Analog vs digital, {title}")
        ax.legend(frameon=False)
    return _finish_base(
        fig, st, base, out, "analog_vs_digital", "Analog vs digital",
        "The same ledgers priced on the analog chip and on a digital accelerator at the same "
        "node (int8 and fp16 MACs, SRAM operand traffic, DRAM for weights that do not fit "
        "on chip); digital inference at batch 1. Log axis, values on the bars, mean over "
        "the seeds of the base configuration with its interval. ")


def fig_per_matrix(st: Study, out: Path) -> Figure | None:
    """Per-matrix energy per training sample, area and ADC saturation at the base point."""
    import numpy as np

    base = base_runs(st)
    md = st.matrices
    if base.empty or md is None or md.empty:
        return None
    md = md[md["run"].isin(set(base["run"]))]
    if md.empty:
        return None
    plt = _setup()
    tab = md.groupby(["algo", "matrix"], sort=False).agg(
        shape=("shape", "first"), e_train=("energy_per_train_sample_j", "mean"),
        e_inf=("energy_per_inference_j", "mean"), area=("area_mm2", "mean"),
        sat_train=("adc_saturation_train", "mean"),
        sat_inf=("adc_saturation_inference", "mean")).reset_index()
    tab["_o"] = tab["algo"].map({a: i for i, a in enumerate(st.algos)})
    tab = tab.sort_values(["_o"], kind="stable")
    labels = [f"{a.upper()} {m} ({s})" for a, m, s in zip(tab["algo"], tab["matrix"],
                                                          tab["shape"])]
    colors = [color(a) for a in tab["algo"]]
    ys = np.arange(len(tab))[::-1]
    h = max(2.4, 0.22 * len(tab) + 0.9)
    fig, axes = plt.subplots(1, 3, figsize=(WIDTH_IN, h), sharey=True, layout="constrained")
    ax = axes[0]
    b1 = ax.barh(ys + 0.2, tab["e_train"], height=0.4, color=colors, label="per training sample")
    b2 = ax.barh(ys - 0.2, tab["e_inf"], height=0.4, color=colors, alpha=0.45,
                 label="per inference")
    for b in (b1, b2):
        ax.bar_label(b, labels=[si(v, "J") for v in b.datavalues], fontsize=5.5, padding=1.5)
    ax.set_xscale("log")
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo, hi * 8)
    log_axis(ax.xaxis, "J", max_ticks=3)
    ax.set_xlabel("energy (log scale)")
    ax.set_title("Energy (dark: training sample,\nlight: inference)")
    ax.set_yticks(ys, labels)
    ax = axes[1]
    b = ax.barh(ys, tab["area"], height=0.6, color=colors)
    ax.bar_label(b, labels=[f"{v:.3g}" for v in tab["area"]], fontsize=5.5, padding=1.5)
    ax.set_xlim(0, 1.3 * float(tab["area"].max() or 1))
    ax.set_xlabel("area (mm²)")
    ax.set_title("Area (tiles + periphery)")
    ax = axes[2]
    for off, col, alpha in ((0.2, "sat_train", 1.0), (-0.2, "sat_inf", 0.45)):
        v = 100 * tab[col].fillna(0)
        b = ax.barh(ys + off, v, height=0.4, color=colors, alpha=alpha)
        ax.bar_label(b, labels=[f"{x:.2g} %" if x > 0 else "" for x in v], fontsize=5.5,
                     padding=1.5)
    ax.set_xlim(0, max(1.0, 1.3 * float(100 * tab[["sat_train", "sat_inf"]].max().max())))
    ax.set_xlabel("ADC conversions clipped (%)")
    ax.set_title("ADC saturation (dark: training,\nlight: test)")
    return _finish_base(
        fig, st, base, out, "per_matrix", "Per-matrix energy, area and ADC saturation",
        "Each matrix (shape out×in) of each algorithm: energy per training sample and per "
        "inference (log axis; the digital periphery and leakage are not attributed to a "
        "matrix), area of its tiles with their periphery, and the fraction of its ADC "
        "conversions that clipped in training and at test. Mean over the seeds of the base "
        "configuration. ")


def sensitivity_rows(st: Study) -> list[dict[str, Any]]:
    """Accuracy change from the base point when one knob moves and the others stay at base:
    one row per (algorithm, knob, value) with ``delta`` (fraction) and its t-interval half-width
    (the two intervals combined in quadrature, a normal approximation)."""
    g = st.groups
    rows: list[dict[str, Any]] = []
    if g is None or not len(g) or not st.knobs:
        return rows
    keyed = g.assign(_k=g[st.knobs].apply(lambda r: tuple(map(_hashable, r)), axis=1))
    base_key = tuple(st.base[k] for k in st.knobs)
    for algo in st.algos:
        sub = keyed[keyed["algo"] == algo]
        base = sub[sub["_k"] == base_key]
        if base.empty:
            continue
        b = base.iloc[0]
        for i, k in enumerate(st.knobs):
            for _, r in sub.iterrows():
                key = r["_k"]
                if key[i] == base_key[i] or key[:i] + key[i + 1:] != base_key[:i] + base_key[i + 1:]:
                    continue
                ci = math.hypot(*(x if math.isfinite(x) else 0.0
                                  for x in (r["test_accuracy_ci"], b["test_accuracy_ci"])))
                rows.append({"algo": algo, "knob": k, "value": key[i], "base": base_key[i],
                             "delta": r["test_accuracy_mean"] - b["test_accuracy_mean"],
                             "delta_ci": ci, "n": int(r["n"]), "n_base": int(b["n"])})
    return rows


def fig_sensitivity(st: Study, out: Path) -> Figure | None:
    """Tornado: for each swept knob, the accuracy change when it alone moves from its base
    value to each other swept value (one panel per algorithm, widest swing on top)."""
    rows = sensitivity_rows(st)
    if not rows:
        return None
    plt = _setup()
    algos = [a for a in st.algos if any(r["algo"] == a for r in rows)]
    n_k = len({r["knob"] for r in rows})
    fig, axes = plt.subplots(1, len(algos), figsize=(WIDTH_IN, 0.55 * n_k + 1.3),
                             sharex=True, layout="constrained", squeeze=False)
    for ax, algo in zip(axes[0], algos):
        mine = [r for r in rows if r["algo"] == algo]
        knobs = sorted({r["knob"] for r in mine},
                       key=lambda k: max(abs(r["delta"]) for r in mine if r["knob"] == k))
        for y, k in enumerate(knobs):
            # one thin bar per value, side by side within the knob's row (low values first)
            kr = sorted((r for r in mine if r["knob"] == k), key=lambda r: _order(r["value"]))
            h = 0.72 / len(kr)
            for j, r in enumerate(kr):
                low = _order(r["value"]) < _order(r["base"])
                c = shade(color(algo), 0 if low else 2, 3)
                yj = y - 0.36 + h * (j + 0.5)
                ax.barh(yj, 100 * r["delta"], height=h * 0.9, color=c, alpha=0.85,
                        xerr=100 * r["delta_ci"] if r["delta_ci"] > 0 else None,
                        error_kw={"elinewidth": 0.6, "capsize": 1.5}, edgecolor="k",
                        linewidth=0.3)
                end = r["delta"] + math.copysign(r["delta_ci"], r["delta"] or 1.0)
                ax.annotate(f"{fmt_value(r['value'])}", (100 * end, yj),
                            xytext=(3 if r["delta"] >= 0 else -3, 0),
                            textcoords="offset points", va="center",
                            ha="left" if r["delta"] >= 0 else "right", fontsize=6)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(range(len(knobs)),
                      [f"{k} (base {fmt_value(st.base[k])})" for k in knobs])
        ax.set_title(algo.upper())
        ax.set_xlabel("change in test accuracy (points)")
        lo, hi = ax.get_xlim()
        pad = 0.15 * (hi - lo)
        ax.set_xlim(lo - pad, hi + pad)
    _warn(fig, st.groups)
    save(fig, out, "sensitivity")
    cap = ("Sensitivity around the base point " + describe(st.base) + ": each bar is the "
           "change in mean test accuracy when one knob alone moves from its base value to the "
           "value written at the bar's end (light: below base, dark: above), the others held "
           "at base; error bars combine both configurations' 95 % t-intervals in quadrature. "
           "Knobs with the widest swing on top. " + held_constant(st))
    return Figure("sensitivity", "Sensitivity (tornado)", cap)


def time_rows(records: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Long format of every record's ``metrics.accuracy_vs_time``: one row per (run, time),
    with the run's flat config, its mode (``deploy``: float-trained and programmed; ``train``:
    trained on the devices) and its float accuracy when it has one."""
    rows = []
    for rid, rec in records:
        avt = (rec.get("metrics") or {}).get("accuracy_vs_time") or {}
        cfg = {k: v for k, v in rec["config"].items() if not isinstance(v, (dict, list))}
        for t, acc in avt.items():
            rows.append({**cfg, "run": rid, "mode": rec.get("mode", "train"),
                         "seed": rec.get("seed", cfg.get("seed")), "time_s": float(t),
                         "accuracy": float(acc) if acc is not None else math.nan,
                         "float_accuracy": (rec.get("metrics") or {}).get(
                             "float_test_accuracy")})
    return rows


def fig_accuracy_vs_time(rows: list[dict[str, Any]], config_columns: list[str],
                         out: Path) -> Figure | None:
    """Test accuracy vs time after programming (log axis), a line per configuration and mode,
    mean ± t-interval over seeds; dotted: the float accuracy before programming."""
    import pandas as pd
    from matplotlib.lines import Line2D

    if not rows:
        return None
    plt = _setup()
    df = pd.DataFrame(rows)
    cols = [c for c in config_columns if c in df.columns]
    knobs = [k for k in varied(df, cols) if k not in NOT_KNOBS]
    g, _k, _a = seed_groups(df, ["algo", "mode"] + knobs + ["time_s"], ["accuracy",
                                                                         "float_accuracy"],
                            by=["algo", "mode"] + knobs + ["time_s"])
    fig, ax = plt.subplots(figsize=(WIDTH_IN * 0.62, 3.2), layout="constrained")
    handles = []
    combos = list(dict.fromkeys(g[["algo", "mode"] + knobs].apply(
        lambda r: tuple(map(_hashable, r)), axis=1)))
    for i, combo in enumerate(combos):
        line = _match(g, ["algo", "mode"] + knobs, combo).sort_values("time_s")
        algo, mode = combo[0], combo[1]
        ls = "--" if mode == "deploy" else "-"
        mine = [cb for cb in combos if cb[0] == algo]
        c = shade(color(algo), mine.index(combo), len(mine))
        ax.errorbar(line["time_s"], 100 * line["accuracy_mean"],
                    yerr=100 * line["accuracy_ci"].fillna(0), color=c, ls=ls, marker="o",
                    ms=3.5, lw=1.0, capsize=1.5, elinewidth=0.6)
        lab = f"{algo.upper()} {'deployed' if mode == 'deploy' else 'trained on chip'}"
        if knobs:
            lab += " · " + ", ".join(f"{k}={fmt_value(v)}" for k, v in zip(knobs, combo[2:]))
        n = int(line["n"].min())
        handles.append(Line2D([], [], color=c, ls=ls, marker="o", ms=3.5,
                              label=f"{lab} (n = {n})"))
        fl = line["float_accuracy_mean"].dropna()
        if len(fl):
            ax.axhline(100 * fl.iloc[0], color=c, ls=(0, (1, 1)), lw=0.9)
    ax.set_xscale("log")
    log_axis(ax.xaxis, "s")
    ticks = [(1, "1 s"), (60, "1 min"), (3600, "1 h"), (86400, "1 day"),
             (2592000, "30 days"), (31557600, "1 year")]
    lo, hi = df["time_s"].min(), df["time_s"].max()
    shown = [(t, lab) for t, lab in ticks if lo / 1.5 <= t <= hi * 1.5]
    if len(shown) >= 2:
        ax.set_xticks([t for t, _ in shown], [lab for _, lab in shown])
        ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_xlabel("time after programming (log scale)")
    ax.set_ylabel("test accuracy (%)")
    handles.append(Line2D([], [], color="#555", ls=(0, (1, 1)),
                          label="float accuracy before programming"))
    fig.legend(handles=handles, loc="outside lower center", ncol=1, frameon=False)
    _warn(fig, g.drop_duplicates(subset=["algo", "mode"] + knobs))   # one row per line
    save(fig, out, "accuracy_vs_time")
    cap = ("Test accuracy at times after programming while the devices drift (power-law "
           "conductance drift of each device). Dashed: weights trained in float, then "
           "programmed with the device's programming noise (analogff deploy); solid: trained "
           "on the devices (simulate --eval-times), time counted from the end of training. "
           + _seeds_sentence(g))
    return Figure("accuracy_vs_time", "Accuracy vs time after programming (drift)", cap)


# ---- energy to accuracy (runs made with --curve) --------------------------------------------
# knobs drawn as panels of the energy-to-accuracy figure (rows, columns) when they vary; every
# other knob is held at each panel's own base point (a dataset's runs may differ in limit or
# epochs from another's)
CURVE_PANEL_KNOBS = ("dataset", "matched")


def curve_rows(records: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Long format of every record's ``curve.points`` (runs made with ``curve`` on): one row
    per (run, epoch) with the run's flat config, ``epoch``, ``samples``, ``train_energy_j``
    (cumulative training energy [J] as priced when the run was made, on its stored chip) and
    ``test_accuracy`` (fraction). Float twins (``ideal``) are left out."""
    rows = []
    for rid, rec in records:
        pts = (rec.get("curve") or {}).get("points") or []
        cfg = {k: v for k, v in rec["config"].items() if not isinstance(v, (dict, list))}
        if cfg.get("ideal"):
            continue
        for p in pts:
            if p.get("train_energy_j") is None or p.get("test_accuracy") is None:
                continue
            rows.append({**cfg, "run": rid, "seed": rec.get("seed", cfg.get("seed")),
                         "epoch": int(p["epoch"]), "samples": int(p["samples"]),
                         "train_energy_j": float(p["train_energy_j"]),
                         "test_accuracy": float(p["test_accuracy"])})
    return rows


def curve_panels(df, config_columns: list[str]) -> list[tuple[dict[str, Any], Any]]:
    """``[(panel values, that panel's rows at its base point)]``: one panel per combination
    of the `CURVE_PANEL_KNOBS` that vary; inside it every other varying knob is held at its
    middle value among the panel's runs (the report's base-point rule)."""
    cols = [c for c in config_columns if c in df.columns]
    knobs = [k for k in varied(df, cols) if k not in NOT_KNOBS]
    facets = [k for k in CURVE_PANEL_KNOBS if k in knobs]
    combos = sorted({tuple(_hashable(v) for v in r) for r in df[facets].itertuples(index=False)},
                    key=lambda c: tuple(_order(v) for v in c)) if facets else [()]
    out = []
    for combo in combos:
        sub = _match(df, facets, combo)
        held = {}
        for k in varied(sub, [k for k in knobs if k not in facets]):
            vals = values_of(sub[k])
            held[k] = vals[(len(vals) - 1) // 2]
            sub = sub[_is(sub[k], held[k])]
        out.append(({**dict(zip(facets, combo)), **held}, sub))
    return out


def fig_energy_to_accuracy(rows: list[dict[str, Any]], config_columns: list[str],
                           out: Path) -> Figure | None:
    """Test accuracy vs cumulative training energy (log axis), one line per algorithm, one
    point per epoch (mean over seeds: energy and accuracy; bars: the accuracy's t-interval);
    a panel per dataset × matched family when they vary, other knobs at the panel's base."""
    import pandas as pd
    from matplotlib.lines import Line2D

    if not rows:
        return None
    plt = _setup()
    df = pd.DataFrame(rows)
    panels = curve_panels(df, config_columns)
    facets = [k for k in CURVE_PANEL_KNOBS if k in panels[0][0]]
    # two facets: rows × columns; one: side by side; none: one panel
    row_k, col_k = (facets[0], facets[1]) if len(facets) == 2 else (None, facets[0] if facets
                                                                     else None)
    row_vals = list(dict.fromkeys(v.get(row_k) for v, _ in panels))
    col_vals = list(dict.fromkeys(v.get(col_k) for v, _ in panels))
    nr, nc = len(row_vals), len(col_vals)
    fig, axes = plt.subplots(nr, nc, figsize=(WIDTH_IN if nc > 1 else WIDTH_IN * 0.62,
                                              2.3 * nr + 0.6), squeeze=False,
                             layout="constrained")
    algos_seen, groups_all, held_lines = {}, [], []
    for vals, sub in panels:
        ax = axes[row_vals.index(vals.get(row_k))][col_vals.index(vals.get(col_k))]
        g, _k, _a = seed_groups(sub, ["algo", "epoch"], ["train_energy_j", "test_accuracy"],
                                by=["algo", "epoch"])
        algos = [a for a in ALGO_COLORS if a in set(g["algo"])] + sorted(
            set(g["algo"]) - set(ALGO_COLORS))
        for a in algos:
            line = g[g["algo"] == a].sort_values("epoch")
            ax.errorbar(line["train_energy_j_mean"], 100 * line["test_accuracy_mean"],
                        yerr=100 * line["test_accuracy_ci"].fillna(0), color=color(a),
                        marker="o", ms=2.5, lw=1.0, capsize=1.2, elinewidth=0.5)
            algos_seen[a] = max(algos_seen.get(a, 0), int(line["n"].max()))
        groups_all.append(g.drop_duplicates(subset=["algo"]))
        lo, hi = ax.get_ylim()          # an interval past 0 or 100 % is the t-interval's
        ax.set_ylim(max(lo, 0.0), min(hi, 100.0))
        ax.set_xscale("log")
        log_axis(ax.xaxis, "J")
        ax.set_title(", ".join(f"{k} {fmt_value(vals[k])}" for k in facets if k in vals)
                     or "all runs", fontsize=8)
        held = {k: v for k, v in vals.items() if k not in facets}
        if held:
            held_lines.append(", ".join(f"{k} {fmt_value(vals[k])}" for k in facets
                                        if k in vals) + ": " + describe(held)
                              if facets else describe(held))
    for ax in axes.flat:
        if not ax.has_data():
            ax.set_visible(False)
            continue
        ax.set_xlabel("cumulative training energy")
        ax.set_ylabel("test accuracy (%)")
    handles = [Line2D([], [], color=color(a), marker="o", ms=3, label=f"{a.upper()}")
               for a in algos_seen]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False)
    table = pd.concat(groups_all, ignore_index=True)
    _warn(fig, table)
    save(fig, out, "energy_to_accuracy")
    cap = ("Test accuracy after every training epoch against the training energy spent so "
           "far (each run scored and priced after every epoch: simulate/sweep --curve; "
           "energies as priced when the run was made, on the chip it stored, not re-priced "
           "by --hardware), one line per algorithm, one point per epoch. "
           + (f"Panels: {' × '.join(facets)}. " if facets else "")
           + ("Other swept knobs held at each panel's base point (the middle value): "
              + "; ".join(held_lines) + ". " if held_lines else "")
           + "Points are means over the seeds (energy and accuracy); bars are 95 % "
           "Student-t intervals of the accuracy over the seeds (n = "
           + ", ".join(str(n) for n in sorted(set(int(x) for x in table["n"]))) + ").")
    return Figure("energy_to_accuracy", "Accuracy vs cumulative training energy", cap)


def all_figures(st: Study, out: Path) -> list[Figure]:
    """Every figure the study supports, in report order."""
    figs = [fig_pareto(st, out), fig_pareto_by_algo(st, out)]
    figs += [fig_knob(st, k, out) for k in st.knobs]
    figs += [fig_sensitivity(st, out)]
    figs += [fig_energy_breakdown(st, out), fig_analog_vs_digital(st, out),
             fig_per_matrix(st, out), fig_area_breakdown(st, out)]
    return [f for f in figs if f is not None]
