"""One command-line option per run field (training fields and device overrides), added to a
command by a decorator, so that `sweep` takes every `simulate` option as a fixed value
(``analogff sweep --dataset fashion-mnist --epochs 5 --grid noise=0,0.05``) and `simulate`
takes the device overrides (``--c2c 0.1 --drift-nu 0.05``) without listing them twice.

The decorated command receives ``run_overrides``: a dict of the fields given on the command
line (names as in `analogff.config.SimConfig`), and nothing for those left out.
"""

from __future__ import annotations

import inspect
from typing import Optional

import typer

from analogff.device_overrides import DEVICE_FIELDS

from .common import with_field_options

# help for the training fields (the simulate command documents them at length)
TRAINING_HELP = {
    "dataset": "digits (bundled) | fashion-mnist | mnist | kmnist",
    "limit": "use only N training examples (stratified)",
    "preset": "hyperparameter preset: small | paper",
    "noise": "read noise σ: std σ·(g_max − g_min), or σ·G on proportional devices (default: the device's)",
    "states": "override the device's number of conductance states",
    "update": "pulse scheme: deterministic | stochastic | mixed",
    "optimizer": "update rule: sgd | scaled | factored | adam",
    "hidden": "hidden layer sizes, e.g. 500,500",
    "steps": "PFF settling steps K",
    "epochs": "training epochs",
    "batch_size": "examples per mini-batch",
    "lr": "learning rate",
    "ideal": "run the ideal float twin",
    "matched": "matched comparison family: pulsed | mixed | adam",
    "dev_fraction": "share of the training set held out as a dev set",
    "curve": "score and price after every epoch (energy to accuracy)",
}
DEVICE_PANEL = "Device overrides (sensitivity; default: the device preset's value)"


def _param(name: str, panel: str) -> inspect.Parameter:
    from analogff.config import FIELD_TYPES

    t = FIELD_TYPES[name]
    dash = name.replace("_", "-")
    help_ = DEVICE_FIELDS[name][1] if name in DEVICE_FIELDS else TRAINING_HELP.get(
        name, f"run field {name} (see analogff simulate --help)")
    decls = (f"--{dash}/--no-{dash}",) if t is bool else (f"--{dash}",)
    opt = typer.Option(None, *decls, rich_help_panel=DEVICE_PANEL if name in DEVICE_FIELDS
                       else panel, help=help_[0].upper() + help_[1:] + ".")
    return inspect.Parameter(f"run__{name}", inspect.Parameter.KEYWORD_ONLY, default=opt,
                             annotation=Optional[t])


def run_options(names, panel: str = "Run fields (fixed for every point)"):
    """Decorator: add ``--<field>`` for each of ``names`` (run fields) to a typer command."""
    names = list(names)

    def deco(fn):
        taken = set(inspect.signature(fn, eval_str=True).parameters) - {"run_overrides"}
        mine = [n for n in names if n not in taken]
        return with_field_options(fn, drop=("run_overrides",),
                                  extra=[_param(n, panel) for n in mine],
                                  prefix="run__", names=mine, into="run_overrides")

    return deco


def sweep_fields() -> list[str]:
    """Every run field `sweep` can fix: the training fields but algo and seed (--algo,
    --seeds), and the device overrides."""
    from analogff.config import TRAINING_FIELDS

    return [n for n in TRAINING_FIELDS if n not in ("algo", "seed")] + \
        [n for n in DEVICE_FIELDS if n not in TRAINING_FIELDS]
