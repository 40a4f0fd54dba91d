"""Command-line pieces the benchmark scripts share.

A bad argument is refused in one line that names it and its allowed range, with exit status 2,
before anything runs: argparse's own parser prints its usage first (two lines), and a value it
lets through (``--repeats 0``, an unknown device) would end in a traceback or, worse, in a run
on some other value.
"""

from __future__ import annotations

import argparse
import math


class Parser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose errors are one line: ``prog: message``, exit 2.
    Sub-parsers made by ``add_subparsers`` are of this class too."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message}\n")


def at_least(low: int):
    """Argument type: an integer ``>= low``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is out of range; allowed {low} or more")
        return value
    parse.__name__ = f"integer >= {low}"
    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_float(text: str) -> float:
    """Argument type: a finite float > 0."""
    value = _number(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} is out of range; allowed a finite number > 0")
    return value


def fraction(text: str) -> float:
    """Argument type: a float strictly between 0 and 1."""
    value = _number(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{text} is out of range; allowed 0 < value < 1")
    return value


def device_preset(text: str) -> str:
    """Argument type: the name of a device preset (`device_models.list_presets`)."""
    from device_models import list_presets

    known = list_presets()
    if text not in known:
        raise argparse.ArgumentTypeError(
            f"unknown device preset {text!r}; known presets: {', '.join(sorted(known))}")
    return text


def _csv(text: str, item, what: str) -> str:
    """``text`` unchanged if each of its comma-separated items passes ``item``, else refused."""
    items = text.split(",")
    for s in items:
        try:
            item(s)
        except (ValueError, argparse.ArgumentTypeError):
            where = f"item {s!r} of {text!r}" if len(items) > 1 else repr(s)
            raise argparse.ArgumentTypeError(f"{where} is not {what}") from None
    return text


def int_csv(text: str) -> str:
    """Argument type: comma-separated integers (``"0,1,2"``), returned as given."""
    return _csv(text, int, "an integer")


def float_csv(text: str) -> str:
    """Argument type: comma-separated finite numbers >= 0 (``"0,0.02"``), returned as given."""
    def item(s):
        if not (math.isfinite(float(s)) and float(s) >= 0.0):
            raise ValueError(s)
    return _csv(text, item, "a finite number >= 0")


def preset_csv(text: str) -> str:
    """Argument type: comma-separated device presets, returned as given."""
    from device_models import list_presets

    known = list_presets()
    return _csv(text, lambda s: known.index(s), "a device preset (known: " + ", ".join(known)
                + ")")


def choice_csv(choices):
    """Argument type: comma-separated items of ``choices``, returned as given."""
    def parse(text: str) -> str:
        return _csv(text, lambda s: choices.index(s), "one of " + ", ".join(choices))
    parse.__name__ = "list of " + "/".join(choices)
    return parse


def main_of(main):
    """Run ``main()``; a `ConfigError` (a value the package refuses) becomes its one line on
    stderr, ``prog: message`` as the parser's, and exit 2, as on the command line of
    ``analogff``."""
    import os
    import sys

    from analogff.errors import ConfigError

    try:
        return main()
    except ConfigError as exc:
        print(f"{os.path.basename(sys.argv[0])}: {exc}", file=sys.stderr)
        sys.exit(2)
