"""Learning algorithms. Each class takes ``(n_in, n_classes, hp, factory, ledger, rng)`` and
offers ``train_batch(x, y) -> dict``, ``predict(x) -> labels`` and ``matrices`` (see README.md).
"""

from .bp import BP
from .ff import FF

ALGORITHMS = {"ff": FF, "bp": BP}
