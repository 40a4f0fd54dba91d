"""`analogff devices`: list, show, plot; bad input gives one line and exit code 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from analogff.cli import app
from device_models import list_presets

runner = CliRunner()


def _invoke(args, columns=80):
    return runner.invoke(app, args, env={"COLUMNS": str(columns)})


def _one_line_error(result):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    err = result.stderr.strip()
    assert err.startswith("Error:")
    assert "\n" not in err, err
    return err


@pytest.mark.parametrize("columns", [80, 200])
def test_list_shows_every_preset_with_units(columns):
    r = _invoke(["devices"], columns)
    assert r.exit_code == 0, r.output
    for name in list_presets():
        assert name in r.stdout
    for header in ("(µS)", "on/off", "states", "response", "c2c", "read σ", "(V / ns)", "source"):
        assert header in r.stdout
    assert "Wu et al., VLSI 2018" in r.stdout        # a source, in the table or listed below


def test_show_prints_parameters_with_units_and_source():
    r = _invoke(["devices", "show", "rram-taox"], 200)
    assert r.exit_code == 0, r.output
    out = r.stdout
    for text in ("10 µS", "1 µS", "50 ns", "1.6 V", "exponential", "128", "c2c", "read_noise",
                 "drift_t0", "meaning", "100 kΩ", "source:", "Wu et al., VLSI 2018",
                 "description:"):
        assert text in out, text


def test_show_accepts_a_device_toml(tmp_path):
    p = tmp_path / "my-dev.toml"
    p.write_text('[device]\nname = "my-dev"\nsource = "bench"\ng_min = 2e-7\ng_max = 2e-6\n'
                 'states = 64\nt_write_up = 2e-6\n', encoding="utf-8")
    r = _invoke(["devices", "show", str(p)], 200)
    assert r.exit_code == 0, r.output
    assert "my-dev" in r.stdout and "200 nS" in r.stdout and "2 µs" in r.stdout


def test_plot_writes_a_png(tmp_path):
    out = tmp_path / "taox.png"
    r = _invoke(["devices", "plot", "rram-taox", "-o", str(out), "--pulses", "40",
                 "--devices", "3", "--seed", "2"])
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taox.png"]  # no temp file left


def test_plot_default_pulses_and_potentiate_only(tmp_path):
    out = tmp_path / "pcm.png"
    r = _invoke(["devices", "plot", "pcm-gst", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert out.stat().st_size > 1000


@pytest.mark.parametrize("args", [["devices", "show", "nope"],
                                  ["devices", "plot", "nope", "-o", "PLACEHOLDER"]])
def test_unknown_preset_is_one_line_naming_known_presets(args, tmp_path):
    out = tmp_path / "x.png"
    r = _invoke([str(out) if a == "PLACEHOLDER" else a for a in args])
    err = _one_line_error(r)
    assert "nope" in err and "known presets" in err
    for name in list_presets():
        assert name in err
    assert not out.exists()


def test_missing_device_file_is_one_line(tmp_path):
    err = _one_line_error(_invoke(["devices", "show", str(tmp_path / "absent.toml")]))
    assert "absent.toml" in err


def test_bad_device_file_names_the_field(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[device]\nc2c = -0.5\n", encoding="utf-8")
    err = _one_line_error(_invoke(["devices", "show", str(p)]))
    assert "c2c" in err and "[0, 10]" in err


def test_plot_into_missing_directory_or_bad_format(tmp_path):
    err = _one_line_error(_invoke(["devices", "plot", "ideal", "-o",
                                   str(tmp_path / "no" / "x.png")]))
    assert "does not exist" in err
    err = _one_line_error(_invoke(["devices", "plot", "ideal", "-o", str(tmp_path / "x.xyz"),
                                   "--pulses", "5"]))
    assert "xyz" in err
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def broken_savefig(self, fh, **kw):
        fh.write(b"\x89PNG half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    out = tmp_path / "keep.png"
    out.write_bytes(b"old contents")
    err = _one_line_error(_invoke(["devices", "plot", "ideal", "-o", str(out), "--pulses", "5"]))
    assert "No space left" in err
    assert out.read_bytes() == b"old contents"           # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]


def test_plot_rejects_nonpositive_counts(tmp_path):
    r = _invoke(["devices", "plot", "ideal", "-o", str(tmp_path / "x.png"), "--pulses", "0"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert not (tmp_path / "x.png").exists()
