"""Every command's help for a run field, written from the field's one definition: what it
means (`FIELD_HELP`), its choices (the enums: `analogff.config.UPDATES`, the algorithm
registry, the update rules, ...), its range (`analogff.config.RANGES`) and its default
(`analogff.config.SimConfig`, or what leaving it unset means), so that no help text can drift
from what the code accepts (tests/cli/test_help_texts.py)."""

from __future__ import annotations

from dataclasses import fields

from device_models.checks import allowed_range

from analogff.config import OPTIMIZERS, PRESETS, RANGES, UPDATES, SimConfig, algorithm_names

# what each training field means, for every command's help: `field_help` adds the choices
# (where "{choices}" stands, else after the text), the range and the default from their one
# definition (UPDATES, RANGES, SimConfig, ...)
FIELD_HELP: dict[str, str] = {
    "algo": "learning algorithm",
    "preset": "hyperparameter preset",
    "dataset": "dataset (digits is bundled; the others are read from IDX files on disk, never "
               "downloaded)",
    "limit": "use only N training examples (stratified)",
    "noise": "read noise σ, per cell per read: std σ·(g_max − g_min) (additive devices), σ·G "
             "(proportional ones, e.g. pcm-gst)",
    "states": "override the device's number of conductance states",
    "update": "pulse scheme",
    "optimizer": "update rule",
    "hidden": "hidden layer sizes, e.g. 500,500 (PFF: two layers, multiples of its group, "
              "{group})",
    "steps": "PFF settling steps K",
    "epochs": "training epochs",
    "batch_size": "examples per mini-batch (PFF adds as many negatives)",
    "lr": "learning rate",
    "seed": "random seed (data order, init, device variation, noise)",
    "ideal": "run the ideal float twin instead of analog tiles (priced on the same chip; "
             "device fields such as noise are refused, it simulates no device)",
    "matched": "matched comparison family, the same for pff, ff and bp: {choices}; it sets "
               "{budget} unless given, and prints what stays unmatched",
    "dev_fraction": "hold out this share of the training set as a dev set; the best-dev "
                    "weights are kept and tested (the released PFF protocol)",
    "curve": "after every epoch, score the test set and price the training so far: energy to "
             "reach 50/80/90/95 % test accuracy",
    "eval_times": "after training, test accuracy at these seconds after programming while the "
                  "devices drift, e.g. 1,3600,86400 (stored as accuracy_vs_time)",
}
# what a choice means, where the name alone does not say (keys: the choices); the presets'
# and the matched budget's numbers are read from their definitions (`_computed_notes`)
CHOICE_NOTES: dict[str, dict[str, str]] = {
    "optimizer": {"sgd": "pulsed outer products",
                  "scaled": "pulsed, one adaptive rate per array: crossbar-native, no "
                            "per-weight state",
                  "factored": "pulsed, row and column adaptive rates, Adafactor-style: in + "
                              "out scalars per array",
                  "adam": "digital moments per weight, as released for PFF"},
    "update": {"deterministic": "counts rounded at random, unbiased",
               "stochastic": "coincident row and column pulse trains: pulsed rules only",
               "mixed": "digital accumulators fire whole pulses"},
    "matched": {"pulsed": "scaled rule, deterministic pulses",
                "mixed": "scaled rule, digital accumulators: needs --update mixed",
                "adam": "digital Adam"},
}


def _budget(hp: dict) -> str:
    return (f"hidden {','.join(str(h) for h in hp['hidden'])}, {hp['epochs']} epochs, "
            f"batch {hp['batch_size']}")


def _computed_notes(name: str) -> dict[str, str]:
    """The presets' notes, from PFF's presets (the other algorithms' share their size and
    budget)."""
    if name != "preset":
        return {}
    from analogff.experiment import preset_defaults
    notes = {}
    for p in PRESETS:
        hp = preset_defaults("pff", p)
        notes[p] = f"{_budget(hp)}; PFF K={hp['steps']}, {hp['optimizer']}"
    return notes


# what a field left unset (None) means
UNSET_MEANS: dict[str, str] = {
    "limit": "every example", "noise": "the device's", "states": "the device's",
    "optimizer": "the preset's", "hidden": "the preset's", "steps": "the preset's",
    "epochs": "the preset's", "batch_size": "the preset's", "lr": "the preset's",
    "matched": "none", "eval_times": "none",
}


def choices(name: str) -> tuple[str, ...] | None:
    """The allowed values of a training field with a fixed set of them (None otherwise)."""
    from analogff.algorithms.matched import FAMILIES
    from analogff.data import DATASETS
    return {"algo": algorithm_names(), "preset": PRESETS, "dataset": DATASETS,
            "update": UPDATES, "optimizer": OPTIMIZERS, "matched": tuple(FAMILIES)}.get(name)


def field_help(name: str) -> str:
    """A training field's help, for every command that takes it: what it means, its choices
    (with `CHOICE_NOTES`), its range (`RANGES`) and its default (`SimConfig`, or what unset
    means), each read from its one definition. One sentence, capitalised, ending in the
    default as ``[default: ...]``."""
    text = FIELD_HELP[name]
    opts = choices(name)
    if opts is not None:
        notes = {**CHOICE_NOTES.get(name, {}), **_computed_notes(name)}
        listed = " | ".join(f"{o} ({notes[o]})" if o in notes else o for o in opts)
        text = text.replace("{choices}", listed) if "{choices}" in text else f"{text}: {listed}"
    if "{budget}" in text:
        from analogff.algorithms.matched import MATCHED_BUDGET
        text = text.replace("{budget}", _budget(MATCHED_BUDGET))
    if "{group}" in text:
        from analogff.experiment import preset_defaults
        text = text.replace("{group}", str(preset_defaults("pff")["group"]))
    if name in RANGES:
        lo, hi, integer = RANGES[name]
        text += "; allowed " + allowed_range(lo, hi, integer=integer)
    default = next(f.default for f in fields(SimConfig) if f.name == name)
    if default is None:
        shown = UNSET_MEANS[name]
    elif isinstance(default, bool):
        shown = "yes" if default else "no"
    else:
        shown = f"{default:g}" if isinstance(default, float) else str(default)
    return f"{text[0].upper()}{text[1:]}. [default: {shown}]"
