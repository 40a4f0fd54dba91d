"""Every command's help for a run field is read from the field's one definition: its choices
(the enums), its range (`config.RANGES`) and its default (`SimConfig`), so that none can
drift from what the code accepts."""

from __future__ import annotations

import dataclasses

import pytest
import typer

from analogff.cli import app
from analogff.cli.field_help import CHOICE_NOTES, FIELD_HELP, UNSET_MEANS, choices, field_help
from analogff.config import RANGES, TRAINING_FIELDS, SimConfig
from analogff.device_overrides import DEVICE_FIELDS
from device_models.checks import allowed_range


def test_every_training_field_has_help_and_every_help_a_field():
    assert set(FIELD_HELP) == set(TRAINING_FIELDS) - set(DEVICE_FIELDS)


@pytest.mark.parametrize("name", sorted(FIELD_HELP))
def test_a_fields_help_names_its_choices_range_and_default(name):
    text = field_help(name)
    for c in choices(name) or ():
        assert c in text
    if name in RANGES:
        lo, hi, integer = RANGES[name]
        assert f"allowed {allowed_range(lo, hi, integer=integer)}" in text
    default = {f.name: f.default for f in dataclasses.fields(SimConfig)}[name]
    shown = (UNSET_MEANS[name] if default is None else ("yes" if default else "no")
             if isinstance(default, bool) else f"{default:g}" if isinstance(default, float)
             else str(default))
    assert text.endswith(f"[default: {shown}]") and "\n" not in text


def test_choice_notes_describe_exactly_the_choices():
    for name, notes in CHOICE_NOTES.items():
        assert list(notes) == list(choices(name)), name


@pytest.mark.parametrize("command", ["simulate", "sweep", "deploy", "energy"])
def test_commands_take_the_fields_help_as_defined(command):
    """The options' help strings are `field_help`'s (rich's brackets escaped), in every
    command that takes the field."""
    # options of the same name that mean something else there: sweep's --algo takes a list
    # of algorithms; deploy's --epochs trains the float twin, its --eval-times is a list
    # with a default of its own
    other_meaning = {"sweep": {"algo"}, "deploy": {"epochs", "eval_times"}}.get(command, set())
    cmd = typer.main.get_command(app).commands[command]
    by_name = {p.name.removeprefix("run__"): p for p in cmd.params}
    seen = 0
    for name in FIELD_HELP:
        p = by_name.get(name)
        if p is None or name in other_meaning:
            continue
        assert p.help == field_help(name).replace("[", "\\["), (command, name)
        seen += 1
    assert seen >= 4
