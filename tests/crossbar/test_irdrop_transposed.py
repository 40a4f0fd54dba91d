"""Transposed reads with IR drop: against an independent nodal solve of the transposed drive."""

import numpy as np

from crossbar import Periphery
from crossbar.analog import AnalogMatrix


def transposed_currents(G, u, r):
    """Dense nodal analysis: columns driven at their sense ends (u, V), row driver ends held at
    0 V; returns the current (A) flowing out of each row into its (virtual-ground) driver."""
    R, C = G.shape
    n = 2 * R * C
    ri = lambda i, j: i * C + j            # noqa: E731  row-wire node at cell (i, j)
    ci = lambda i, j: R * C + i * C + j    # noqa: E731  column-wire node at cell (i, j)
    A = np.zeros((n, n))
    b = np.zeros(n)
    g = 1.0 / r

    def link(p, q, cond):  # conductance between two unknown nodes
        A[p, p] += cond
        A[q, q] += cond
        A[p, q] -= cond
        A[q, p] -= cond

    def to_fixed(p, cond, volt):  # conductance from an unknown node to a fixed voltage
        A[p, p] += cond
        b[p] += cond * volt

    for i in range(R):
        to_fixed(ri(i, 0), g, 0.0)                 # driver end at virtual ground
        for j in range(C - 1):
            link(ri(i, j), ri(i, j + 1), g)
    for j in range(C):
        for i in range(R - 1):
            link(ci(i, j), ci(i + 1, j), g)
        to_fixed(ci(R - 1, j), g, u[j])             # sense end driven
    for i in range(R):
        for j in range(C):
            link(ri(i, j), ci(i, j), G[i, j])
    v = np.linalg.solve(A, b)
    return np.array([v[ri(i, 0)] * g for i in range(R)])


def test_transposed_ir_drop_read_matches_a_direct_nodal_solve():
    dev = AnalogMatrix(1, 1, "ideal").device  # 1-10 µS, v_read 0.2 V
    per = Periphery(read_noise=0.0, dac_bits=24, adc_bits=24, out_bound=1.0,
                    wire_resistance=50.0, mapping="reference")
    m = AnalogMatrix(5, 6, dev, per, seed=0)  # array: 6 rows (in) x 5 columns (out)
    rng = np.random.default_rng(3)
    m.program(rng.uniform(-1, 1, (5, 6)).astype(np.float32))
    d = rng.uniform(-1, 1, (3, 5)).astype(np.float32)
    got = m.transposed(d)
    gp, _ = m.conductances()
    gref = np.full_like(gp, 0.5 * (dev.g_min + dev.g_max))
    for b in range(3):
        s = np.abs(d[b]).max()
        u = d[b] / s * dev.v_read  # the DAC is 24-bit: its rounding is negligible here
        i_net = transposed_currents(gp, u, 50.0) - transposed_currents(gref, u, 50.0)
        expected = i_net / (dev.v_read * dev.g_range / 2.0) * s
        np.testing.assert_allclose(got[b], expected, rtol=1e-5, atol=1e-6)
    # and the wires matter: the ideal transposed read differs
    ideal = d @ m.weights()
    assert np.abs(got - ideal).max() > 1e-4
