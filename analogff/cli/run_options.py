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

from .common import device_field_help, field_help_cli, with_field_options

DEVICE_PANEL = "Device overrides (sensitivity studies)"


def _param(name: str, panel: str) -> inspect.Parameter:
    from analogff.config import FIELD_TYPES

    t = FIELD_TYPES[name]
    dash = name.replace("_", "-")
    # the same help as simulate's and deploy's
    help_ = device_field_help(name) if name in DEVICE_FIELDS else field_help_cli(name)
    decls = (f"--{dash}/--no-{dash}",) if t is bool else (f"--{dash}",)
    opt = typer.Option(None, *decls, rich_help_panel=DEVICE_PANEL if name in DEVICE_FIELDS
                       else panel, help=help_)
    return inspect.Parameter(f"run__{name}", inspect.Parameter.KEYWORD_ONLY, default=opt,
                             annotation=Optional[t])


def run_options(names, panel: str | None = "Run fields (fixed for every point)",
                first: bool = False):
    """Decorator: add ``--<field>`` for each of ``names`` (run fields) that the command does
    not declare itself to a typer command (in ``panel``, None: the command's main panel;
    device overrides in their own; before the command's own options if ``first``)."""
    names = list(names)

    def deco(fn):
        taken = set(inspect.signature(fn, eval_str=True).parameters) - {"run_overrides"}
        mine = [n for n in names if n not in taken]
        return with_field_options(fn, drop=("run_overrides",),
                                  extra=[_param(n, panel) for n in mine],
                                  prefix="run__", names=mine, into="run_overrides",
                                  first=first)

    return deco


def sweep_fields() -> list[str]:
    """Every run field `sweep` can fix: the training fields but algo and seed (--algo,
    --seeds), and the device overrides."""
    from analogff.config import TRAINING_FIELDS

    return [n for n in TRAINING_FIELDS if n not in ("algo", "seed")] + \
        [n for n in DEVICE_FIELDS if n not in TRAINING_FIELDS]
