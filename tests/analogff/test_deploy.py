"""Deployment of float-trained weights and accuracy over time after programming (drift)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from analogff.cli import app
from analogff.config import from_dict
from analogff.deploy import accuracy_over_time, deploy, float_weights, parse_times
from analogff.errors import ConfigError
from analogff.experiment import build

SMALL = {"algo": "bp", "limit": 200, "epochs": 2}


@pytest.mark.parametrize("text", ["", "1,x", "0,5", "5,1", "1,1", "1e12"])
def test_bad_times_are_one_line_naming_eval_times(text):
    with pytest.raises(ConfigError) as ei:
        parse_times(text)
    assert "eval_times" in str(ei.value) and "\n" not in str(ei.value)


def test_programmed_weights_are_the_float_weights_on_an_exact_device():
    """The 'ideal' device programs exactly: the deployed matrices hold the trained weights."""
    cfg = from_dict({**SMALL, "device": "ideal"})
    rec, fnet = deploy(cfg, [1.0])
    trained = float_weights(fnet)
    assert set(rec["deploy"]["clipped_fraction"]) == set(trained)
    assert rec["metrics"]["float_test_accuracy"] > 0.2          # it did learn something
    assert set(rec["metrics"]["accuracy_vs_time"]) == {"1"}


def test_drift_changes_conductances_and_no_drift_keeps_accuracy():
    def run(device, **kw):
        cfg = from_dict({**SMALL, "device": device, **kw})
        net = build(cfg)
        before = {k: v.copy() for k, v in float_weights(net).items()}
        accs = accuracy_over_time(net, [1, 3600, 3.15e7])
        after = float_weights(net)
        moved = max(float(np.max(np.abs(after[k] - before[k]))) for k in before)
        return accs, moved

    accs, moved = run("ecram")                                  # ECRAM: no drift
    assert moved == 0 and len(set(accs.values())) == 1
    accs, moved = run("pcm-gst", drift_nu=0.1)
    assert moved > 0


def test_cli_deploy_json_and_weights_round_trip(tmp_path):
    r = CliRunner().invoke(app, ["deploy", "--algo", "bp", "--limit", "60", "--epochs", "1",
                                 "--hidden", "20", "--device", "pcm-gst", "--eval-times",
                                 "1,86400", "--save-weights", str(tmp_path / "w.npz"),
                                 "--json", "--store", str(tmp_path / "d.db")])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    assert rec["mode"] == "deploy" and set(rec["metrics"]["accuracy_vs_time"]) == {"1", "86400"}
    r2 = CliRunner().invoke(app, ["deploy", "--algo", "bp", "--hidden", "20",
                                  "--device", "pcm-gst", "--eval-times", "1,86400",
                                  "--weights", str(tmp_path / "w.npz"), "--json"])
    assert r2.exit_code == 0, r2.output
    rec2 = json.loads(r2.stdout.strip().splitlines()[-1])
    assert rec2["metrics"]["float_test_accuracy"] == rec["metrics"]["float_test_accuracy"]
    assert rec2["deploy"]["weights"] == "given"
    # nothing is trained with --weights: a training option would change only the record
    for opt, field, value in (("--epochs", "epochs", "3"), ("--limit", "limit", "60"),
                              ("--lr", "lr", "0.1"), ("--batch-size", "batch_size", "10")):
        r3 = CliRunner().invoke(app, ["deploy", "--algo", "bp", "--hidden", "20",
                                      "--weights", str(tmp_path / "w.npz"), opt, value])
        assert r3.exit_code == 2, r3.output
        assert r3.output.startswith(f"Error: {field} = {value} has no effect with --weights")
    from reports import build_report
    html = build_report(tmp_path / "d.db", tmp_path / "rep").read_text()
    assert "accuracy_vs_time.png" in html


@pytest.mark.parametrize("args, msg", [(["--eval-times", "10,1"], "eval_times"),
                                       (["--weights", "no/such.npz"], "does not exist"),
                                       (["--ideal"], "No such option")])
def test_cli_deploy_bad_input(args, msg):
    r = CliRunner().invoke(app, ["deploy", *args])
    assert r.exit_code == 2 and msg in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("poison", ["matrix", "state"])
def test_cli_deploy_refuses_weights_with_nan(tmp_path, poison):
    """A weights file holding NaN (in a matrix or in the digital state) is refused in one line
    naming the array, exit 2, before anything is programmed."""
    r = CliRunner().invoke(app, ["deploy", "--algo", "bp", "--limit", "60", "--epochs", "1",
                                 "--hidden", "20", "--eval-times", "1",
                                 "--save-weights", str(tmp_path / "w.npz")])
    assert r.exit_code == 0, r.output
    arrays = dict(np.load(tmp_path / "w.npz"))
    key = next(k for k in sorted(arrays) if k.startswith("state.") == (poison == "state"))
    arrays[key] = arrays[key].astype(np.float32)
    arrays[key].flat[0] = np.nan
    np.savez(tmp_path / "bad.npz", **arrays)
    r = CliRunner().invoke(app, ["deploy", "--algo", "bp", "--hidden", "20",
                                 "--eval-times", "1", "--weights", str(tmp_path / "bad.npz")])
    assert r.exit_code == 2, r.output
    assert f"weights: array {key!r} holds NaN or infinity" in r.output
    assert "Traceback" not in r.output


def test_the_weights_help_names_every_option_it_refuses():
    """--weights' help lists what it refuses: every field of `deploy.TRAINING_ONLY` (as its
    option, or by name where only a --config file sets it) and dev_fraction."""
    import typer.main

    from analogff.deploy import TRAINING_ONLY

    cmd = typer.main.get_command(app).commands["deploy"]
    opts = {o for p in cmd.params for o in p.opts}
    help_text = next(p.help for p in cmd.params if "--weights" in p.opts)
    for field in (*TRAINING_ONLY, "dev_fraction"):
        opt = "--" + field.replace("_", "-")
        assert (opt in help_text) if opt in opts else (field in help_text), field
