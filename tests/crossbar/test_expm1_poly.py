"""The Taylor polynomials of `pulses._expm1_near0`: their stated truncation bounds hold, and
the tiered function picks degree 5, degree 8 and libm by |x|, bit for bit."""
import analogff._threads  # noqa: F401  (before numpy)

import math

import numpy as np

from crossbar import pulses as P

_expm1 = np.frompyfunc(math.expm1, 1, 1)


def _grid(r, n=200_001):
    x = np.linspace(-r, r, n)[1:-1]
    return x[x != 0.0]


def _rel_err(poly, x):
    ref = _expm1(x).astype(np.float64)
    return np.abs(poly(x) - ref) / np.abs(ref)


def test_degree8_bound_holds_and_is_not_vacuous():
    x = _grid(P._POLY8_RANGE)
    err = _rel_err(P._expm1_poly8.py_func, x)
    assert err.max() < 5e-11
    assert err[np.abs(x) > 0.24].max() > 1e-11   # the bound is tight near |x| = 1/4


def test_degree5_bound_holds():
    x = _grid(P._POLY5_RANGE)
    assert _rel_err(P._expm1_poly5.py_func, x).max() < 2e-12


def test_near0_picks_each_tier_bit_for_bit():
    near0 = P._expm1_near0.py_func
    edges = [s * e for r in (P._POLY5_RANGE, P._POLY8_RANGE)
             for e in (r, math.nextafter(r, 0.0)) for s in (1.0, -1.0)]
    for x in [float(v) for v in np.linspace(-0.5, 0.5, 4001)] + edges:
        if abs(x) < P._POLY5_RANGE:
            want = P._expm1_poly5.py_func(x)
        elif abs(x) < P._POLY8_RANGE:
            want = P._expm1_poly8.py_func(x)
        else:
            want = math.expm1(x)
        assert near0(x) == want, x
