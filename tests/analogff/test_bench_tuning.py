"""benchmarks/bench_tuning.py's own logic: the pick from dev accuracies, shared runs, the
preset patch (restored, unknown names refused) and the resumable JSON-lines file. No training."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_tuning.py"
sys.path.insert(0, str(_PATH.parent))  # as when run as a script: its own folder's _args
_spec = importlib.util.spec_from_file_location("bench_tuning", _PATH)
bt = importlib.util.module_from_spec(_spec)
sys.modules["bench_tuning"] = bt  # dataclasses look their module up there
_spec.loader.exec_module(bt)

CHOICE = bt.Choice("c", "test", "pff", "b", (bt.Candidate("a"), bt.Candidate("b"),
                                              bt.Candidate("c")))


def _rows(accs: dict, dev_size: int = 200) -> dict:
    return {("c", lab, s): {"best_dev_accuracy": v, "dev_size": dev_size}
            for (lab, s), v in accs.items()}


def test_pick_is_highest_mean_over_common_seeds_with_margin_in_examples():
    rows = _rows({("a", 0): 0.90, ("a", 1): 0.92, ("b", 0): 0.93, ("b", 1): 0.95,
                  ("c", 0): 0.99})  # c has no seed-1 run yet
    s = bt.summarise(CHOICE, rows, [0, 1])
    assert s["seeds"] == [0]  # c has only seed 0, so every mean is over seed 0
    assert s["pick"] == "c"
    assert s["margin_examples"] == pytest.approx((0.99 - 0.93) * 200)
    rows[("c", "c", 1)] = {"best_dev_accuracy": 0.80, "dev_size": 200}
    s = bt.summarise(CHOICE, rows, [0, 1])
    assert s["seeds"] == [0, 1] and s["pick"] == "b"
    means = {t["candidate"]: t["mean"] for t in s["table"]}
    assert means == pytest.approx({"a": 0.91, "b": 0.94, "c": 0.895})
    assert s["margin_examples"] == pytest.approx(0.03 * 200)


def test_tie_keeps_the_earlier_candidate_and_no_common_seed_picks_nothing():
    rows = _rows({("a", 0): 0.9, ("b", 0): 0.9, ("c", 0): 0.8})
    s = bt.summarise(CHOICE, rows, [0])
    assert s["pick"] == "a" and s["margin_examples"] == pytest.approx(0.0)
    s = bt.summarise(CHOICE, _rows({("a", 0): 0.9, ("b", 1): 0.9}), [0, 1])
    assert s["pick"] is None and s["seeds"] == []


def test_shared_run_key_and_every_choice_names_its_default():
    assert bt.run_key("pff-adam", "4e-3 linear", 1) == ("pff-theta", "5", 1)
    assert bt.run_key("pff-theta", "3", 0) == ("pff-theta", "3", 0)
    for ch in bt.CHOICES:
        assert ch.current in [c.label for c in ch.candidates], ch.name


def test_preset_entries_patches_and_restores_and_refuses_unknown_names():
    from analogff.experiment import algorithm_class, preset_defaults

    pff = algorithm_class("pff")
    before = pff.defaults
    with bt.preset_entries(pff, {"theta": 3.0}):
        assert preset_defaults("pff")["theta"] == 3.0
        assert before["theta"] == 5.0  # the module's preset dict itself is not written
    assert pff.defaults is before
    with pytest.raises(ZeroDivisionError):
        with bt.preset_entries(pff, {"theta": 10.0}):
            1 / 0
    assert pff.defaults is before
    with pytest.raises(KeyError, match="thetta"):
        with bt.preset_entries(pff, {"thetta": 1.0}):
            pass


def test_load_rows_reads_back_what_was_appended(tmp_path):
    p = tmp_path / "runs.jsonl"
    assert bt.load_rows(p) == {}
    recs = [{"choice": "c", "candidate": "a", "seed": 0, "best_dev_accuracy": 0.5},
            {"choice": "c", "candidate": "a", "seed": 1, "best_dev_accuracy": 0.6}]
    p.write_text("".join(json.dumps(r) + "\n" for r in recs) + "\n")
    assert bt.load_rows(p) == {("c", "a", 0): recs[0], ("c", "a", 1): recs[1]}
