"""Calibration set: published, measured compute-in-memory chips priced by this model.

One TOML file per chip in ``benchmarks/chips/`` (format below); `load_chip` validates it,
`price_chip` prices every published operating point with `reports.estimate.tile_mvm` and
returns estimate vs published side by side. ``python -m reports.calibration [FILE ...]``
prints the table (all chips of ``benchmarks/chips/`` by default); a bad file gets one line
and exit code 2.

Chip file::

    name = "NeuRRAM"
    citation = "W. Wan et al., Nature 608, 504-512 (2022)"
    technology = "rram"            # rram | pcm | sram
    role = "held_out"              # fit (constants were fitted to it) | held_out
    figure = "one core, macro"     # what the published figures include
    measured = "TOPS/W, TOPS ..."  # which values are measured
    assumed = "device conductance ..."   # which values we assumed, and why
    tiles = 1                      # tiles behind the published TOPS (area is per tile)
    [device]                       # optional DeviceModel fields (a device file is written)
    [hardware]                     # Hardware fields shared by all points
    [[points]]
    label = "in 1 b / out 3 b"
    hardware = { adc_bits = 3 }    # per-point Hardware overrides
    tops_per_w = 43.1              # any of: tops_per_w, tops_per_mm2, tops, latency_s
    shares = { "neuron" = 0.46 }   # published energy shares of groups in [groups]
    [groups]
    neuron = ["adc", "integrator", "sample_hold", "shift_add", "control"]
"""

from __future__ import annotations

import math
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from crossbar.chip import HardwareError
from device_models.checks import check_choice, check_number

from .estimate import tile_mvm
from .hardware import Hardware

TECHNOLOGIES = ("rram", "pcm", "sram")
ROLES = ("fit", "held_out")
METRICS = ("tops_per_w", "tops_per_mm2", "tops", "latency_s")
CHIPS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "chips"
_TOP = {"name", "citation", "technology", "role", "figure", "measured", "assumed", "tiles",
        "device", "hardware", "points", "groups", "notes"}


class ChipFileError(ValueError):
    """A calibration chip file is invalid (one line naming the file and the problem)."""


@dataclass(frozen=True)
class Point:
    label: str
    overrides: dict[str, Any]
    published: dict[str, float]
    shares: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Chip:
    path: str
    name: str
    citation: str
    technology: str
    role: str
    figure: str
    measured: str
    assumed: str
    tiles: int
    device: dict[str, Any]
    hardware: dict[str, Any]
    points: tuple[Point, ...]
    groups: dict[str, tuple[str, ...]]


def _need(d: dict, key: str, kind: type, where: str) -> Any:
    if key not in d:
        raise ChipFileError(f"{where}: missing key {key!r}")
    v = d[key]
    if kind is float and isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
    if not isinstance(v, kind) or isinstance(v, bool):
        raise ChipFileError(f"{where}: {key} = {v!r} must be a {kind.__name__}")
    return v


def load_chip(path: str | Path) -> Chip:
    """Read and validate one chip file; every point's hardware is built once to check it."""
    p = Path(path)
    where = str(p)
    if not p.is_file():
        raise ChipFileError(f"{where}: chip file does not exist")
    try:
        d = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ChipFileError(f"{where}: not valid TOML ({str(exc).splitlines()[0]})") from None
    unknown = sorted(set(d) - _TOP)
    if unknown:
        raise ChipFileError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(sorted(_TOP))}")
    tech = _need(d, "technology", str, where)
    check_choice(f"{where}: technology", tech, TECHNOLOGIES, error=ChipFileError)
    role = _need(d, "role", str, where)
    check_choice(f"{where}: role", role, ROLES, error=ChipFileError)
    tiles = d.get("tiles", 1)
    check_number(f"{where}: tiles", tiles, 1, None, integer=True, error=ChipFileError)
    groups = {}
    for g, comps in (d.get("groups") or {}).items():
        if not isinstance(comps, list) or not all(isinstance(c, str) for c in comps):
            raise ChipFileError(f"{where}: group {g!r} must be a list of component names")
        groups[g] = tuple(comps)
    raw_points = d.get("points")
    if not isinstance(raw_points, list) or not raw_points:
        raise ChipFileError(f"{where}: needs at least one [[points]] entry")
    points = []
    for i, rp in enumerate(raw_points):
        w = f"{where}: points[{i}]"
        label = _need(rp, "label", str, w)
        pub = {m: float(rp[m]) for m in METRICS if m in rp}
        for m, v in pub.items():
            check_number(f"{w}: {m}", v, 0, None, lo_open=True, error=ChipFileError)
        if not pub:
            raise ChipFileError(f"{w}: gives none of {', '.join(METRICS)}")
        extra = sorted(set(rp) - set(METRICS) - {"label", "hardware", "shares"})
        if extra:
            raise ChipFileError(f"{w}: unknown key {extra[0]!r}")
        shares = {k: float(v) for k, v in (rp.get("shares") or {}).items()}
        for k in shares:
            if k not in groups:
                raise ChipFileError(f"{w}: share {k!r} is not a [groups] entry")
        points.append(Point(label, dict(rp.get("hardware") or {}), pub, shares))
    chip = Chip(where, _need(d, "name", str, where), _need(d, "citation", str, where), tech,
                role, str(d.get("figure", "")), _need(d, "measured", str, where),
                _need(d, "assumed", str, where), tiles, dict(d.get("device") or {}),
                dict(d.get("hardware") or {}), tuple(points), groups)
    with tempfile.TemporaryDirectory() as tmp:
        for pt in chip.points:
            _hardware(chip, pt, Path(tmp))
    return chip


def _hardware(chip: Chip, pt: Point, tmp: Path) -> Hardware:
    kw = dict(chip.hardware)
    kw.update(pt.overrides)
    if chip.device:
        dev = tmp / f"{chip.name.replace(' ', '_').replace('/', '_')}-device.toml"
        body = "\n".join(f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"'
                         for k, v in chip.device.items())
        dev.write_text(f'[device]\nname = "{chip.name} device"\n{body}\n')
        kw["device"] = str(dev)
    try:
        return Hardware.from_dict(kw, origin=f"{chip.path} [{pt.label}]")
    except HardwareError as exc:
        raise ChipFileError(str(exc)) from None


def price_chip(chip: Chip) -> list[dict[str, Any]]:
    """One row per published point: estimated and published metrics, ratios, shares."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for pt in chip.points:
            hw = _hardware(chip, pt, Path(tmp))
            try:
                t = tile_mvm(hw)
            except ValueError as exc:
                raise ChipFileError(f"{chip.path} [{pt.label}]: {exc}") from None
            est = {"tops_per_w": t["tops_per_w"], "tops_per_mm2": t["tops_per_mm2"],
                   "tops": t["tops"] * chip.tiles, "latency_s": t["latency_s"]}
            tot = t["energy_j"]
            est_sh = {g: sum(t["by_component_j"].get(c, 0.0) for c in comps) / tot
                      for g, comps in chip.groups.items()}
            rows.append({"chip": chip.name, "role": chip.role, "technology": chip.technology,
                         "point": pt.label, "estimate": est, "published": pt.published,
                         "ratio": {m: est[m] / v for m, v in pt.published.items()},
                         "shares_est": {k: est_sh[k] for k in pt.shares},
                         "shares_pub": dict(pt.shares),
                         "share_ratio": {k: est_sh[k] / v for k, v in pt.shares.items() if v > 0},
                         "by_component_j": t["by_component_j"], "tile": t})
    return rows


def chip_files(paths: list[str] | None = None) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    return sorted(CHIPS_DIR.glob("*.toml"))


def within(r: float, factor: float = 2.0) -> bool:
    return 1.0 / factor <= r <= factor


def format_table(rows: list[dict[str, Any]]) -> str:
    """The calibration table (estimated / published, ratio) as text."""
    hdr = (f"{'chip':<22} {'role':<8} {'point':<22} {'TOPS/W est/pub':>18} {'x':>6} "
           f"{'TOPS/mm² est/pub':>18} {'x':>6} {'latency est/pub':>20} {'x':>6}")
    out = [hdr, "-" * len(hdr)]
    for r in rows:
        cells = []
        for m, unit in (("tops_per_w", ""), ("tops_per_mm2", ""), ("latency_s", "s")):
            e = r["estimate"][m]
            if m in r["published"]:
                p = r["published"][m]
                mark = "" if within(e / p) else "!"
                cells.append(f"{_g(e, unit):>8} / {_g(p, unit):<8} {e / p:>5.2f}{mark or ' '}")
            else:
                cells.append(f"{_g(e, unit):>8} / {'-':<8} {'':>6}")
        lat = cells[2] if "latency_s" in r["published"] else \
            (f"{_g(r['estimate']['latency_s'], 's'):>10} / {'-':<8} {'':>6}")
        out.append(f"{r['chip'][:22]:<22} {r['role']:<8} {r['point'][:22]:<22} "
                   f"{cells[0]} {cells[1]} {lat}")
        if r["shares_pub"]:
            sh = ", ".join(f"{k} {r['shares_est'][k]:.0%}/{v:.0%}"
                           for k, v in r["shares_pub"].items())
            out.append(f"{'':<22} {'':<8} {'  shares est/pub:':<22} {sh}")
    return "\n".join(out)


def _g(v: float, unit: str) -> str:
    if unit == "s":
        for f, u in ((1e-9, "ns"), (1e-6, "µs"), (1e-3, "ms")):
            if v < f * 1000:
                return f"{v / f:.3g} {u}"
        return f"{v:.3g} s"
    return f"{v:.3g}"


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of points within 2× per metric, and the worst ratio, by role."""
    out: dict[str, Any] = {}
    for role in ROLES + ("all",):
        rs = [r for r in rows if role == "all" or r["role"] == role]
        d = {}
        for m in ("tops_per_w", "tops_per_mm2", "tops", "latency_s"):
            ratios = [r["ratio"][m] for r in rs if m in r["ratio"]]
            if ratios:
                worst = max(ratios, key=lambda x: abs(math.log(x)))
                d[m] = (sum(within(x) for x in ratios), len(ratios), worst)
        sh = [x for r in rs for x in r["share_ratio"].values()]
        if sh:
            d["shares"] = (sum(within(x) for x in sh), len(sh),
                           max(sh, key=lambda x: abs(math.log(x))))
        out[role] = d
    return out


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        chips = [load_chip(p) for p in chip_files(args)]
        rows = [r for c in chips for r in price_chip(c)]
    except ChipFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_table(rows))
    print()
    for role, d in summary(rows).items():
        parts = [f"{m} {k}/{n} within 2x (worst {w:.2f}x)" for m, (k, n, w) in d.items()]
        print(f"{role:<9} " + "; ".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
