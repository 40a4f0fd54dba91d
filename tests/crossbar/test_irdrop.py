"""IR-drop solver (crossbar/irdrop.py) without SPICE. The comparisons against ngspice are in
test_spice.py; `analogff spice` is tested in tests/cli/test_spice_cli.py."""

from __future__ import annotations

import numpy as np
import pytest

from crossbar.base import ShapeError
from crossbar.irdrop import IRDropSolver, ideal_currents
from crossbar.periphery import PeripheryParameterError


def _tile(rows, cols, seed=0, g=(1e-6, 1e-5), batch=5, v_read=0.2):
    rng = np.random.default_rng(seed)
    return rng.uniform(*g, size=(rows, cols)), rng.uniform(0.0, v_read, size=(batch, rows))


def _reference_currents(G, v, r, ra=0.0):
    """Independent dense nodal solve from an explicit edge list (driver/sense nodes included)."""
    R, C = G.shape
    names = {}

    def node(name):
        return names.setdefault(name, len(names))

    edges = []  # (a, b, conductance)
    for i in range(R):
        for j in range(C):
            edges.append((node(("r", i, j)), node(("c", i, j)), 1.0 / (1.0 / G[i, j] + ra)))
        edges.append((node(("d", i)), node(("r", i, 0)), 1.0 / r))
        for j in range(1, C):
            edges.append((node(("r", i, j - 1)), node(("r", i, j)), 1.0 / r))
    for j in range(C):
        for i in range(1, R):
            edges.append((node(("c", i - 1, j)), node(("c", i, j)), 1.0 / r))
        edges.append((node(("c", R - 1, j)), node(("s", j)), 1.0 / r))
    n = len(names)
    L = np.zeros((n, n))
    for a, b, g in edges:
        L[a, a] += g
        L[b, b] += g
        L[a, b] -= g
        L[b, a] -= g
    fixed = {names[("d", i)]: v[i] for i in range(R)}
    fixed.update({names[("s", j)]: 0.0 for j in range(C)})
    known = np.array(sorted(fixed))
    unknown = np.array([k for k in range(n) if k not in fixed])
    vk = np.array([fixed[k] for k in known])
    x = np.linalg.solve(L[np.ix_(unknown, unknown)], -L[np.ix_(unknown, known)] @ vk)
    volt = np.zeros(n)
    volt[known] = vk
    volt[unknown] = x
    return np.array([(volt[names[("c", R - 1, j)]] - 0.0) / r for j in range(C)])


# r = 0 --------------------------------------------------------------------------------------
def test_zero_wire_resistance_is_exactly_v_at_G():
    G, V = _tile(7, 5)
    s = IRDropSolver(G, 0.0)
    assert np.array_equal(s.solve(V), V @ G)
    assert np.array_equal(s.solve(V[0]), V[0] @ G)
    assert np.array_equal(ideal_currents(G, V), V @ G)
    assert s.solve(V[0]).shape == (5,) and s.solve(V).shape == (5, 5)


def test_zero_wire_with_access_resistance_folds_into_cells():
    G, V = _tile(4, 6)
    s = IRDropSolver(G, 0.0, access_resistance=5e3)
    np.testing.assert_allclose(s.solve(V), V @ (G / (1 + G * 5e3)), rtol=1e-14)


# against an independent solve ---------------------------------------------------------------
@pytest.mark.parametrize("method", IRDropSolver.METHODS)
@pytest.mark.parametrize("shape,ra", [((1, 1), 0.0), ((1, 4), 0.0), ((4, 1), 0.0), ((5, 7), 0.0),
                                      ((7, 5), 2e3), ((6, 6), 0.0)])
def test_matches_independent_dense_nodal_solve(shape, ra, method):
    G, V = _tile(*shape, seed=3, g=(1e-6, 1e-4))
    s = IRDropSolver(G, 2.0, access_resistance=ra, method=method)
    for v in V[:2]:
        np.testing.assert_allclose(s.solve(v), _reference_currents(G, v, 2.0, ra), rtol=1e-10)


def test_single_cell_is_a_series_circuit():
    # driver -> r -> cell -> r -> sense: I = v / (2 r + 1/G)
    s = IRDropSolver(np.array([[1e-4]]), 10.0)
    assert s.solve(np.array([0.2]))[0] == pytest.approx(0.2 / (20.0 + 1e4), rel=1e-13)


@pytest.mark.parametrize("shape", [(12, 12), (5, 9), (9, 5), (40, 24), (24, 40)])
def test_sparse_and_effective_methods_agree(shape):
    G, V = _tile(*shape, batch=3, g=(1e-6, 1e-4))
    sparse = IRDropSolver(G, 1.0, method="sparse")
    assert sparse._lu is not None and sparse._g_eff is None      # factorised at construction
    direct = sparse.solve(V)
    eff = IRDropSolver(G, 1.0, method="effective")
    assert eff._g_eff is not None and eff._lu is None
    np.testing.assert_allclose(eff.solve(V), direct, rtol=1e-11)
    auto = IRDropSolver(G, 1.0)
    assert auto._lu is None and auto._g_eff is None              # nothing done yet
    np.testing.assert_allclose(auto.solve(np.tile(V, (10, 1)))[:3], direct, rtol=1e-11)
    assert auto._lu is None                                      # a big batch never factorises
    np.testing.assert_allclose(auto.solve(V[0]), direct[0], rtol=1e-11)


def test_methods_agree_with_strong_ir_drop():
    # 10 Ω per pitch and 100 µS cells on 64×64: columns lose a large fraction of their current
    G, V = _tile(64, 64, g=(1e-5, 1e-4), batch=4)
    a = IRDropSolver(G, 10.0, method="sparse").solve(V)
    b = IRDropSolver(G, 10.0, method="effective").solve(V)
    assert ((V @ G - a) / a).max() > 0.5
    np.testing.assert_allclose(b, a, rtol=1e-10)


def test_many_small_batches_switch_to_effective_matrix_without_changing_results():
    G, V = _tile(8, 8, batch=20)
    s = IRDropSolver(G, 1.0)
    first = [s.solve(v) for v in V]
    assert s._g_eff is not None                            # 20 vectors > min(8, 8)
    np.testing.assert_allclose(np.array(first), IRDropSolver(G, 1.0).solve(V), rtol=1e-12)


def test_update_refactorises():
    G, V = _tile(6, 6)
    G2, _ = _tile(6, 6, seed=9)
    s = IRDropSolver(G, 1.0)
    s.solve(np.tile(V, (3, 1)))
    s.update(G2)
    np.testing.assert_allclose(s.solve(V), IRDropSolver(G2, 1.0).solve(V), rtol=1e-13)


# physics / consistency ----------------------------------------------------------------------
def test_kcl_driver_current_equals_sense_current():
    G, V = _tile(16, 24, g=(1e-6, 1e-4))
    s = IRDropSolver(G, 1.5, access_resistance=1e3)
    np.testing.assert_allclose(s.driver_currents(V).sum(axis=1), s.solve(V).sum(axis=1), rtol=1e-10)


def test_linearity_superposition():
    G, V = _tile(10, 10)
    s = IRDropSolver(G, 1.0)
    np.testing.assert_allclose(s.solve(V[0] + 2 * V[1]), s.solve(V[0]) + 2 * s.solve(V[1]), rtol=1e-12)


def test_node_voltages_fall_along_rows_and_down_columns():
    G, V = _tile(10, 12, g=(1e-6, 1e-4))
    vr, vc = IRDropSolver(G, 1.0).node_voltages(V)
    assert (np.diff(vr, axis=2) < 0).all()                # rows: left (driver) to right
    assert (vr[:, :, 0] < V).all()
    assert (np.diff(vc, axis=1) < 0).all()                # columns: top to bottom (sense)
    assert (vc > 0).all() and (vr > vc).all()


def test_ideal_overestimates_worst_at_far_column():
    """With wires (1 Ω/pitch) and non-negative inputs, v @ G > I_wires for every column and
    input. Uniform tile, uniform inputs: the relative overestimate (v@G - I)/I is strictly
    increasing with the column index j, so its maximum is at the far column (j = cols-1).
    Random tile: mean over inputs, the far column's error exceeds the near column's, the far
    half of the columns exceeds the near half, and the worst column is in the far half (the
    row drop flattens out at the row's open end, so with random G the last two or three
    columns compete for the maximum)."""
    n = 32
    s = IRDropSolver(np.full((n, n), 1e-5), 1.0)
    v = np.full(n, 0.2)
    rel = (v @ s.G - s.solve(v)) / s.solve(v)
    assert (rel > 0).all() and (np.diff(rel) > 0).all() and rel.argmax() == n - 1
    for seed in (0, 1, 2):
        G, V = _tile(n, n, seed=seed, batch=8)
        I = IRDropSolver(G, 1.0).solve(V)
        assert (V @ G > I).all()
        rel = ((V @ G - I) / I).mean(axis=0)
        assert rel[-1] > rel[0]
        assert rel[n // 2:].mean() > rel[: n // 2].mean()
        assert rel.argmax() >= n // 2


def test_error_grows_with_tile_size():
    errs = []
    for n in (8, 16, 32):
        G, V = _tile(n, n)
        I = IRDropSolver(G, 1.0).solve(V)
        errs.append(np.max((V @ G - I) / I))
    assert errs[0] < errs[1] < errs[2]


def test_open_cells_allowed():
    G, V = _tile(5, 5)
    G[2, :] = 0.0
    np.testing.assert_allclose(IRDropSolver(G, 1.0).solve(V[0]), _reference_currents(
        np.where(G == 0, 1e-300, G), V[0], 1.0), rtol=1e-9)


# bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{"wire_resistance": -1.0}, {"wire_resistance": float("nan")},
                                {"wire_resistance": 1.0, "access_resistance": -5.0}])
def test_bad_resistance(kw):
    with pytest.raises(PeripheryParameterError, match="out of range"):
        IRDropSolver(np.ones((2, 2)) * 1e-6, **kw)


def test_unknown_method():
    with pytest.raises(PeripheryParameterError, match="method"):
        IRDropSolver(np.ones((2, 2)) * 1e-6, 1.0, method="cholesky")


def test_bad_shapes_and_values():
    with pytest.raises(ShapeError):
        IRDropSolver(np.ones(3), 1.0)
    with pytest.raises(PeripheryParameterError):
        IRDropSolver(np.array([[1e-6, -1e-6]]), 1.0)
    s = IRDropSolver(np.ones((3, 2)) * 1e-6, 1.0)
    with pytest.raises(ShapeError, match=r"expected \(3,\)"):
        s.solve(np.ones(2))
    with pytest.raises(ShapeError):
        ideal_currents(np.ones((3, 2)), np.ones(4))
