"""analogff: forward-only learning (PFF, FF) vs backprop on simulated analog crossbars.

The application layer: datasets, learning algorithms, experiment runs, sweeps, the results
store and the command line. Hardware lives in `crossbar` and `device_models`; costs in
`reports`.
"""

from . import _threads  # noqa: F401  (before numpy: thread hand-off defaults)

__version__ = "0.1.0"
