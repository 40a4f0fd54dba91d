"""Learning algorithms, registered by name: the one list of algorithms.

Each class takes ``(n_in, n_classes, hp, factory, ledger, rng)`` and offers
``train_batch(x, y) -> dict``, ``predict(x) -> labels`` and ``matrices``, with class attributes
``name`` (the ``--algo`` value), ``defaults`` (hyperparameters of the "small" preset),
``presets`` (optional: other named presets, e.g. "paper") and ``phases`` (the ledger phases it
files events under). The CLI help and config validation take the names from here, the runner
(`experiment.preset_defaults`) and the energy estimate (`estimate.build_ledgers`) the classes
and their presets, and ``analogff energy``'s phase table the phases.

Adding an algorithm: write its module beside these (a class as above, run against the matrix
interface only, so it runs on ideal, analog and counting matrices alike), import it and add
one ``register(...)`` line below.
"""

from __future__ import annotations

from device_models.checks import check_choice

from ..errors import ConfigError
from .bp import BP
from .ff import FF
from .pff import PFF

ALGORITHMS: dict[str, type] = {}
_REQUIRED = ("name", "defaults", "phases", "train_batch", "predict")


def register(cls: type) -> type:
    """Add an algorithm class to the registry under ``cls.name``."""
    missing = [a for a in _REQUIRED if not hasattr(cls, a)]
    if missing:
        raise TypeError(f"algorithm {cls.__name__} lacks {', '.join(missing)}")
    if cls.name in ALGORITHMS:
        raise ValueError(f"algorithm name {cls.name!r} is registered twice")
    ALGORITHMS[cls.name] = cls
    return cls


def names() -> tuple[str, ...]:
    """Registered algorithm names, in registration order."""
    return tuple(ALGORITHMS)


def get(name: str) -> type:
    """The algorithm class registered as ``name``; `ConfigError` (one line) otherwise."""
    check_choice("algo", name, tuple(ALGORITHMS), error=ConfigError)
    return ALGORITHMS[name]


register(PFF)
register(FF)
register(BP)
