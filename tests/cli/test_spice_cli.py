"""`analogff spice`: the checks that need no ngspice (bad values, the missing-simulator hint)
and, when ngspice is installed, the table, the netlist and the size sweep end to end. The tile
comparisons against ngspice are in tests/crossbar/test_spice.py."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from analogff.cli import app
from crossbar.spice import spice_unavailable_reason

_REASON = spice_unavailable_reason()
# the end-to-end tests run ngspice: skipped, with the install instructions as the reason, when
# PySpice or libngspice is missing
needs_ngspice = pytest.mark.skipif(_REASON is not None, reason=str(_REASON))


def _run_cli(*args):
    return CliRunner().invoke(app, ["spice", *args])


# without ngspice ------------------------------------------------------------------------------
def _assert_one_line_error(res, *needles):
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize("args,needle", [
    (["--wire-resistance", "-1"], "--wire-resistance"),
    (["--access-resistance", "-3"], "--access-resistance"),
    (["--size", "0"], "--size"),
    (["--rows", "4", "--cols", "0"], "--cols"),
    (["--inputs", "0"], "--inputs"),
    (["--sweep-sizes", "16,x"], "--sweep-sizes"),
    (["--device", "no-such-device"], "no-such-device"),
    # an option another makes moot was ignored: now refused
    (["--size", "8", "--rows", "4", "--cols", "4"], "--size does not apply with both"),
    (["--sweep-sizes", "4,8", "--size", "8"], "--size does not apply with --sweep-sizes"),
    (["--sweep-sizes", "4,8", "--cols", "8"], "--cols does not apply with --sweep-sizes"),
])
def test_cli_bad_values_one_line_exit_2(args, needle):
    _assert_one_line_error(_run_cli(*args), needle)


def test_cli_without_ngspice_says_how_to_install(monkeypatch, tmp_path):
    import crossbar.spice as cs
    monkeypatch.setattr(cs, "_find_library", lambda: None)
    reason = cs.spice_unavailable_reason()   # (same hint when PySpice itself is missing)
    assert reason is not None
    assert "apt-get install ngspice libngspice0" in reason and "conda-forge" in reason
    assert 'pip install "analogff[spice]"' in reason
    with pytest.raises(cs.SpiceUnavailableError, match="apt-get install ngspice"):
        cs.require_spice()
    out = tmp_path / "tile.cir"
    res = _run_cli("--size", "4", "--device", "ideal", "--netlist", str(out))
    _assert_one_line_error(res, "apt-get install ngspice libngspice0")
    # the netlist needs no simulator: it is still written, complete
    assert out.read_text().rstrip().endswith(".end")


# with ngspice (bad values need none: test_cli_bad_values_one_line_exit_2) --------------------
def _device():
    from device_models import list_presets
    return "rram-taox" if "rram-taox" in list_presets() else "ideal"


@pytest.mark.spice
@needs_ngspice
def test_cli_table():
    res = _run_cli("--size", "8", "--inputs", "2", "--device", _device())
    assert res.exit_code == 0, res.output
    for text in ("8×8 tile vs ngspice", "ideal v·G", "IR-drop", "max rel. err", "time (ms)",
                 "speedup"):
        assert text in res.stdout


@pytest.mark.spice
@needs_ngspice
def test_cli_default_device_and_netlist(tmp_path):
    out = tmp_path / "tile.cir"
    args = ["--rows", "4", "--cols", "6", "--inputs", "1", "--netlist", str(out)]
    if _device() == "ideal":
        args += ["--device", "ideal"]
    res = _run_cli(*args)
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert text.count("\nvd") == 4 and text.count("\nvs") == 6 and ".op" in text


@pytest.mark.spice
@needs_ngspice
def test_cli_sweep_sizes():
    res = _run_cli("--sweep-sizes", "4,8", "--inputs", "1", "--device", _device())
    assert res.exit_code == 0, res.output
    assert "IR-drop error growth" in res.stdout and "4×4" in res.stdout and "8×8" in res.stdout
