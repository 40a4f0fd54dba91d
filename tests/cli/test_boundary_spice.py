"""`analogff spice` refuses what it cannot do in reasonable time, and bad numbers, in one line
(before ngspice starts); the estimate follows the measured scaling."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from analogff.cli import app
from analogff.cli.spice import MAX_SPICE_S, estimate_spice_s

runner = CliRunner()


def _one_line(r, *needles):
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and "Traceback" not in r.output
    for n in needles:
        assert n in lines[0], lines[0]


def test_estimate_follows_measured_points():
    assert estimate_spice_s(64, 64, 1.0, 1) == pytest.approx(20.0)
    assert estimate_spice_s(32, 32, 1.0, 1) < 1.0                # measured 0.38 s
    assert estimate_spice_s(256, 256, 1.0, 4) > 3600 * 24       # ran past 600 s with no output
    assert estimate_spice_s(256, 256, 0.0, 1) < MAX_SPICE_S      # no wire nodes: 3.6 s


@pytest.mark.parametrize("args, needles", [
    (["--size", "256"], ("256x256", "h", "--size <= ", "--wire-resistance 0")),
    (["--size", "128", "--inputs", "1"], ("128x128", "min", "allowed up to 10 min")),
    (["--sweep-sizes", "16,64,128"], ("128x128",)),
    (["--seed", "-1"], ("--seed = -1 is out of range", "allowed integers 0..")),
    (["--wire-resistance", "1e300"], ("--wire-resistance = 1e+300", "allowed [0, 1e+09] ohms")),
    (["--access-resistance", "inf"], ("--access-resistance",)),
])
def test_refused_in_one_line(args, needles):
    from crossbar.spice import spice_unavailable_reason

    if args[0] in ("--size", "--sweep-sizes") and spice_unavailable_reason() is not None:
        pytest.skip("the run-time check follows the ngspice availability check")
    _one_line(runner.invoke(app, ["spice", *args]), *needles)


def test_netlist_into_missing_directory_refused(tmp_path):
    _one_line(runner.invoke(app, ["spice", "--netlist", str(tmp_path / "no" / "x.cir"),
                                  "--wire-resistance", "1e300"]), "--wire-resistance")
    _one_line(runner.invoke(app, ["spice", "--netlist", str(tmp_path)]), "is a directory")
