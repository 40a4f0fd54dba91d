"""benchmarks/_args.py: a benchmark refuses a bad argument in one line naming it and its
range, exit 2, before it runs anything (the scripts' parsers and argument types)."""

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))
import _args  # noqa: E402


def _refusal(parser, argv, capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err      # one line, no usage block
    return err


def test_parser_error_is_one_line_naming_the_argument(capsys):
    p = _args.Parser(prog="bench_x.py")
    p.add_argument("--repeats", type=_args.at_least(1), default=3)
    err = _refusal(p, ["--repeats", "0"], capsys)
    assert err == "bench_x.py: argument --repeats: 0 is out of range; allowed 1 or more\n"
    assert "not an integer" in _refusal(p, ["--repeats", "2.5"], capsys)
    assert p.parse_args(["--repeats", "1"]).repeats == 1


def test_subparsers_refuse_in_one_line_too(capsys):
    p = _args.Parser(prog="bench_x.py")
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("study")
    s.add_argument("--devices", type=_args.preset_csv, default="ecram")
    err = _refusal(p, ["study", "--devices", "ecram,nope"], capsys)
    assert "argument --devices: item 'nope' of 'ecram,nope' is not a device preset" in err
    assert p.parse_args(["study", "--devices", "ecram,pcm-gst"]).devices == "ecram,pcm-gst"


@given(st.integers(-10**6, 10**6), st.integers(-5, 5))
def test_at_least_accepts_exactly_the_range(value, low):
    parse = _args.at_least(low)
    if value >= low:
        assert parse(str(value)) == value
    else:
        with pytest.raises(argparse.ArgumentTypeError, match=f"allowed {low} or more"):
            parse(str(value))


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "x"])
def test_positive_float_refuses(text):
    with pytest.raises(argparse.ArgumentTypeError):
        _args.positive_float(text)


@pytest.mark.parametrize("text, ok", [("0.2", True), ("0", False), ("1", False), ("1.5", False),
                                      ("nan", False)])
def test_fraction_is_open_interval(text, ok):
    if ok:
        assert _args.fraction(text) == float(text)
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            _args.fraction(text)


def test_lists_are_returned_as_given_or_refused():
    assert _args.int_csv("0,1,2") == "0,1,2"
    assert _args.float_csv("0,0.02,0.05") == "0,0.02,0.05"
    assert _args.choice_csv(("a", "b"))("b,a") == "b,a"
    for parse, text in [(_args.int_csv, "0,x"), (_args.float_csv, "0.1,-1"),
                        (_args.float_csv, "inf"), (_args.choice_csv(("a", "b")), "a,c")]:
        with pytest.raises(argparse.ArgumentTypeError):
            parse(text)


def test_device_preset_names_the_known_ones():
    with pytest.raises(argparse.ArgumentTypeError, match="known presets: .*ecram"):
        _args.device_preset("bogus")
    assert _args.device_preset("ecram") == "ecram"


def test_main_of_turns_a_config_error_into_one_line(capsys, monkeypatch):
    from analogff.errors import ConfigError

    def main():
        raise ConfigError("limit = 5 is out of range; allowed [10, 1000000000]")
    monkeypatch.setattr(sys, "argv", ["/x/bench_y.py"])
    with pytest.raises(SystemExit) as exc:
        _args.main_of(main)
    assert exc.value.code == 2
    assert capsys.readouterr().err == \
        "bench_y.py: limit = 5 is out of range; allowed [10, 1000000000]\n"
    assert _args.main_of(lambda: 7) == 7


@pytest.mark.parametrize("script, argv, message", [
    ("bench_import_order.py", ["--rounds", "0"], "argument --rounds: 0 is out of range"),
    ("bench_first_run.py", ["--runs", "-1"], "argument --runs: -1 is out of range"),
    ("bench_forward_only.py", ["summary", "--out", "/nonexistent-analogff/out", "--store",
                               "/nonexistent-analogff/study.db"], "study.db does not exist"),
])
def test_scripts_refuse_before_running(script, argv, message):
    r = subprocess.run([sys.executable, str(BENCH / script), *argv], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and message in r.stderr
    assert not Path("/nonexistent-analogff").exists()      # nothing written
