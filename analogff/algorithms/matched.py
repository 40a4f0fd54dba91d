"""Matched comparisons: PFF, FF and BP with the same layer sizes, the same examples seen and the
same update family (``--matched pulsed|mixed|adam``).

Families (the rule is `updates.py`'s; the scheme is the periphery's ``update``):

========  ==========  =================  ====================================================
family    rule        update scheme      digital state per weight
========  ==========  =================  ====================================================
pulsed    scaled      deterministic      none (one rate scalar per array)
mixed     scaled      mixed              one 16-bit accumulator (pulses fire on crossing Δw_min)
adam      adam        deterministic      two 32-bit moments (step applied as pulses)
========  ==========  =================  ====================================================

Matched: hidden sizes, epochs, images per batch (``MATCHED_BUDGET``, the PFF "small" preset,
unless the run sets them), the family above. The rate of each (algorithm, rule) is that
algorithm's default for the rule and scheme (``lr_<rule>_<update>`` or ``lr_<rule>`` in its
defaults, chosen on digits; which of them a dev split of the training set confirms, and
which it leaves open: docs/tuning.md) unless ``--lr`` is given. `unmatched` lists what cannot be matched; it is stored in the
run record and printed.
"""

from __future__ import annotations

from typing import Any

from device_models.checks import check_choice

from ..errors import ConfigError

FAMILIES: dict[str, tuple[str, str]] = {
    "pulsed": ("scaled", "deterministic"),
    "mixed": ("scaled", "mixed"),
    "adam": ("adam", "deterministic"),
}
# the PFF "small" preset's network and budget: what every algorithm gets in a matched run
MATCHED_BUDGET = {"hidden": (200, 200), "epochs": 12, "batch_size": 50}


def check(matched: str | None, update: str, optimizer: str | None) -> None:
    """One-line `ConfigError` when the run's own settings contradict the family."""
    if matched is None:
        return
    check_choice("matched", matched, tuple(FAMILIES), error=ConfigError)
    rule, scheme = FAMILIES[matched]
    if update != scheme:
        raise ConfigError(f"matched = {matched!r} updates with the {scheme!r} scheme; "
                          f"set update = {scheme!r} (got {update!r})")
    if optimizer is not None and optimizer != rule:
        raise ConfigError(f"matched = {matched!r} uses the {rule!r} rule; drop optimizer = "
                          f"{optimizer!r} or set it to {rule!r}")


def apply(matched: str, hp: dict[str, Any]) -> dict[str, Any]:
    """The algorithm's hyperparameters with the family's rule and the matched budget (the
    caller then applies the options the user set, which win)."""
    rule, _scheme = FAMILIES[matched]
    out = dict(hp)
    out.update(MATCHED_BUDGET)
    out["optimizer"] = rule
    return out


def unmatched(algo: str, hp: dict[str, Any]) -> list[str]:
    """What a matched run of ``algo`` still does differently from the other two."""
    K = hp.get("steps")
    notes = {
        "pff": [
            "PFF has 10 arrays to BP's 3 and FF's 2: W1 W2 plus top-down V1 V2, lateral "
            "L1 L2 (block-diagonal), generative G3 G2 G1 and a softmax head W3 it trains "
            "but does not classify with",
            f"PFF reads and updates its arrays at each of K = {K} settling steps per batch "
            f"({K} updates per batch vs 1)",
            "PFF (like FF) runs a negative copy of every image (2x the rows per batch)",
            f"PFF classifies by settling once per label ({hp.get('steps', 0) // 2 + 1} steps "
            "x 10 labels per test image)",
            "PFF needs one small transposed read (G3, latent x hidden) per settling step",
        ],
        "ff": [
            "FF runs a negative copy of every image (2x the rows per batch)",
            "FF classifies with one pass per label (10 passes per test image)",
            "FF has no output layer: its last hidden layer's goodness is the score",
        ],
        "bp": [
            "BP has a 10-way output layer (one more array than FF)",
            "BP reads every array but the first transposed in its backward pass and buffers "
            "every layer's input",
            "BP sees no negative copies (1x the rows per batch) and classifies in one pass",
        ],
    }
    return notes.get(algo, [])
