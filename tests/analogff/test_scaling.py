"""analogff.scaling: the fast training-chip area equals the full batch's, and the largest
network that fits an area brackets it with exact evaluations."""

from __future__ import annotations

import pytest

from analogff.errors import ConfigError
from analogff.scaling import Shape, cost, largest_width, ledger, train_chip_area
from crossbar.chip import Hardware
from reports.training_memory import training_chip

HW = Hardware()
SMALL = Shape(n_in=24, n_classes=10, depth=2)


@pytest.mark.parametrize("algo", ["bp", "ff", "pff"])
def test_fast_area_equals_the_full_batch(algo):
    led = ledger(HW, algo, 30, SMALL, batch=50)          # K = 12 for PFF, batch 50
    assert train_chip_area(HW, algo, 30, SMALL, batch=50) == pytest.approx(
        training_chip(led, HW)["area_mm2"], rel=1e-12)


@pytest.mark.parametrize("algo", ["bp", "ff", "pff"])
@pytest.mark.parametrize("optimizer,update", [("adam", "deterministic"), ("scaled", "mixed")])
def test_fast_area_with_per_weight_state(algo, optimizer, update):
    from analogff.estimate import build_ledgers

    tl, _ = build_ledgers(HW, SMALL.network(30), algo, batch=50, optimizer=optimizer,
                          update=update, preset="paper")
    assert train_chip_area(HW, algo, 30, SMALL, batch=50, optimizer=optimizer,
                           update=update) == pytest.approx(training_chip(tl, HW)["area_mm2"],
                                                           rel=1e-12)


def test_largest_width_brackets_the_area():
    target = train_chip_area(HW, "ff", 300, SMALL) * 1.001
    r = largest_width(HW, "ff", target, SMALL, rel_tol=0.0)
    assert r["area_mm2"] <= target < r["next_area_mm2"]
    assert r["next_width"] == r["width"] + 1 and r["width"] >= 300
    assert r["area_mm2"] == train_chip_area(HW, "ff", r["width"], SMALL)


# a chip with 8x8 tiles: the area is a staircase over a few dozen widths (a row or column of
# tiles, with its converters, every 8 widths), each evaluation milliseconds
TINY_HW = Hardware().replace(tile_rows=8, tile_cols=8, cols_per_adc=4)
TINY = Shape(n_in=12, n_classes=3, depth=2)


@pytest.mark.parametrize("algo,widths", [("bp", range(1, 41)), ("ff", range(1, 41)),
                                         ("pff", range(10, 210, 10))])
def test_largest_width_is_the_largest_fitting_width_exhaustively(algo, widths, monkeypatch):
    import analogff.scaling as scaling

    real = scaling.train_chip_area
    areas = {w: real(TINY_HW, algo, w, TINY) for w in widths}
    assert list(areas.values()) == sorted(areas.values())   # it never falls with the width
    assert len(set(areas.values())) == len(areas)           # and the answer is unique
    memo = dict(areas)

    def area(hw, a, w, shape, **kw):
        assert (hw, a, shape) == (TINY_HW, algo, TINY)
        if w not in memo:
            memo[w] = real(hw, a, w, shape, **kw)
        return memo[w]

    monkeypatch.setattr(scaling, "train_chip_area", area)
    step = widths.step
    levels = sorted(areas.values())
    # every area between two neighbouring widths, exactly on each, and below the smallest
    targets = [levels[0] / 2] + levels[:-1] + [(a + b) / 2 for a, b in zip(levels, levels[1:])]
    for target in targets:
        for known in ({}, {widths[-1] // 2 // step * step: areas[widths[-1] // 2 // step * step]}):
            r = scaling.largest_width(TINY_HW, algo, target, TINY, known=dict(known))
            want = max((w for w in widths if areas[w] <= target), default=0)
            assert r["width"] == want and r["converged"], (target, r)
            assert r["next_width"] == want + step
            assert r["next_area_mm2"] > target >= r["area_mm2"]


@pytest.mark.parametrize("tile", [7, 16, 256])
def test_narrow_on_a_staircase_is_exact_in_few_evaluations(tile):
    # tiles make the area a staircase, convex in between: false position alone crawled (56
    # evaluations here for 16-wide tiles); the safeguard halves the bracket at least every
    # three evaluations, and knowing where the stairs are leaves one bisection over them and
    # a few evaluations on one stair
    import math

    from analogff.scaling import narrow

    n_w = 2048
    vals = [1 + 0.3 * math.ceil(w / tile) ** 2 + 1e-3 * w + 1e-7 * w * w
            for w in range(n_w + 1)]
    stairs = tuple(range(tile, n_w + 1, tile))
    for steps, bound in (((), 3 * math.ceil(math.log2(n_w))),
                         (stairs, math.ceil(math.log2(len(stairs))) + 6)):
        for target in vals[1:-1:13] + [vals[1] + 0.37 * (vals[-1] - vals[1])]:
            n = [0]

            def area(w):
                n[0] += 1
                return vals[w]

            lo, _, hi, _ = narrow(area, target, 1, vals[1], n_w, vals[n_w], lambda lo: 1,
                                  steps=steps)
            assert lo == max(w for w in range(n_w + 1) if vals[w] <= target)
            assert hi == lo + 1 and n[0] <= bound, (steps[:2], target, n[0])


def test_area_only_init_leaves_the_chip_unchanged():
    # PFF's area evaluations skip the QR of its orthogonal initialisation: the matrices, which
    # are read transposed, the buffers' record and the area are the real initialisation's
    from analogff.estimate import build_ledgers
    from analogff.scaling import _area_only_init

    def built(fast):
        net = SMALL.network(40)
        with _area_only_init("pff" if fast else "none"):
            return build_ledgers(HW, net, "pff", batch=3, K=2, preset="paper",
                                 optimizer="scaled")[0]

    real, fast = built(False), built(True)
    strip = lambda led: {m: {k: v for k, v in i.items() if k != "w_max"}  # noqa: E731
                         for m, i in led["matrices"].items()}
    assert strip(fast) == strip(real)
    assert fast["memory"] == real["memory"]
    tr = lambda led: sorted({(e["phase"], e["matrix"]) for e in led["entries"]  # noqa: E731
                             if e.get("transposed_vectors")})
    assert tr(fast) == tr(real) and tr(real)
    assert training_chip(fast, HW) == training_chip(real, HW)
    import analogff.algorithms.pff as pff
    assert pff.orthogonal.__name__ == "orthogonal"       # put back


def test_refusals():
    with pytest.raises(ConfigError, match="depth = 3 is not available for pff"):
        cost(HW, "pff", 100, Shape(depth=3))
    with pytest.raises(ConfigError, match="multiple of 10"):
        cost(HW, "pff", 105)
    with pytest.raises(ConfigError, match=r"area = 0.0 is out of range; allowed \(0, inf\) mm²"):
        largest_width(HW, "bp", 0.0)
    with pytest.raises(ConfigError, match=r"width = 0 is out of range; allowed integers 1 or more"):
        cost(HW, "bp", 0)


def test_cost_row_has_every_metric():
    r = cost(HW, "bp", 40, SMALL)
    for k in ("energy_per_train_sample_j", "latency_per_train_sample_s", "train_chip_mm2",
              "peak_buffer_bits", "moved_bits_per_train_sample"):
        assert r[k] > 0


def _cli(*args):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "analogff", "energy", *args],
                          capture_output=True, text=True, timeout=600)


def test_energy_fit_area_cli():
    import json

    r = _cli("--algo", "ff", "--network", "64,16,16,10", "--batch", "8", "--fit-area", "0.5",
             "--json")
    assert r.returncode == 0, r.stderr
    fit = json.loads(r.stdout)["fits"][0]
    assert fit["area_mm2"] <= 0.5 < fit["next_area_mm2"] and fit["width"] > 16
    bad = _cli("--fit-area", "0,x")
    assert bad.returncode == 2 and "--fit-area '0,x' must be die areas" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr
