"""Wire resistance (IR drop) in one crossbar tile, solved by sparse nodal analysis.

Geometry and units (the contract with `AnalogMatrix` and with `crossbar/spice.py`):

* A tile has ``rows`` input lines (word lines) and ``cols`` output lines (bit lines).
  ``G`` has shape ``(rows, cols)`` in siemens; cell ``(i, j)`` connects row line ``i`` to
  column line ``j`` (optionally through ``access_resistance`` ohms in series).
* Row drivers apply ``v[i]`` volts at the left end of row ``i``; every column is held at
  virtual ground (0 V) by its sense amplifier at the bottom end.
* ``wire_resistance = r`` ohms per cell pitch: row ``i`` has a segment ``r`` between the
  driver and cell ``(i, 0)`` and between cells ``(i, j)`` and ``(i, j+1)``; column ``j`` has a
  segment ``r`` between cells ``(i, j)`` and ``(i+1, j)`` and between cell ``(rows-1, j)`` and
  the sense node.
* Output: the current flowing into each column's sense node, in amperes, shape ``(cols,)``
  or ``(B, cols)``. With ``r = 0`` and no access resistance it is exactly ``v @ G``.

The network is linear, so the tile with wires is itself a linear map ``I = v @ G_eff``.
`IRDropSolver` factorises the nodal matrix once (SuperLU) and then either solves a batch of
right-hand sides at once or, for large batches, computes ``G_eff`` once (``min(rows, cols)``
solves) so that every later read is one BLAS product, like the ideal read.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .base import ShapeError
from .periphery import PeripheryParameterError

__all__ = ["IRDropSolver", "ideal_currents"]


def ideal_currents(G: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Column currents (A) of an ideal tile: ``I = v @ G``.

    ``G``: (rows, cols) siemens; ``v``: (rows,) or (B, rows) volts. Returns (cols,) or (B, cols).
    """
    G = np.asarray(G, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    if G.ndim != 2 or v.ndim not in (1, 2) or v.shape[-1] != G.shape[0]:
        raise ShapeError(f"ideal_currents: v has shape {v.shape}; expected (rows,) or (B, rows) "
                         f"with rows = {G.shape[0] if G.ndim == 2 else '?'}")
    return v @ G


def _check_resistance(name: str, value: float, hi: float) -> float:
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool) \
        and math.isfinite(float(value)) and 0.0 <= float(value) <= hi
    if not ok:
        raise PeripheryParameterError(f"{name} = {value!r} is out of range; allowed [0, {hi:g}] ohms")
    return float(value)


def _check_conductances(G: np.ndarray) -> np.ndarray:
    G = np.asarray(G, dtype=np.float64)
    if G.ndim != 2 or G.shape[0] < 1 or G.shape[1] < 1:
        raise ShapeError(f"conductance matrix has shape {G.shape}; expected (rows, cols) with "
                         f"rows, cols >= 1")
    if not np.isfinite(G).all() or (G < 0).any():
        raise PeripheryParameterError("conductances must be finite and >= 0 siemens")
    return G


class IRDropSolver:
    """Column currents of one tile with wire (and optional access) resistance.

    Parameters
    ----------
    G : array (rows, cols), siemens
        Cell conductances (>= 0; 0 means an open cell).
    wire_resistance : float, ohms per cell pitch (>= 0)
        Resistance of one wire segment along rows and columns (see the module docstring).
    access_resistance : float, ohms (>= 0)
        Series resistance of each cell's access device (1T1R); folded into the cell as
        ``G / (1 + G * access_resistance)``.

    Cost
    ----
    The nodal system has ``2 * rows * cols`` unknowns (one row-line and one column-line
    voltage per cell) and about ``7 * rows * cols`` non-zeros; it is built with vectorised
    numpy and factorised once here with SuperLU (``scipy.sparse.linalg.splu``). Measured on
    the 2-core development machine (see ``benchmarks/bench_irdrop.py``): a few ms at 64×64 and
    about a second at 256×256. Create a new solver (or call `update`) after the conductances
    change; the factorisation is reused for every `solve`.

    With ``wire_resistance == 0`` nothing is factorised: without access resistance
    ``solve(v) == v @ G`` exactly, with it ``v @ (G / (1 + G * access_resistance))``.
    """


    def __init__(self, G: np.ndarray, wire_resistance: float, access_resistance: float = 0.0) -> None:
        self.wire_resistance = _check_resistance("wire_resistance", wire_resistance, 1e9)
        self.access_resistance = _check_resistance("access_resistance", access_resistance, 1e12)
        self.update(G)

    # construction ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self.rows, self.cols

    def cell_conductance(self) -> np.ndarray:
        """Conductance (S) of each cell including its access resistance, shape (rows, cols)."""
        if self.access_resistance == 0.0:
            return self.G
        return self.G / (1.0 + self.G * self.access_resistance)

    def update(self, G: np.ndarray) -> None:
        """Take new conductances (S, same or new shape) and refactorise the nodal matrix."""
        self.G = _check_conductances(G)
        self.rows, self.cols = self.G.shape
        self._g_eff: np.ndarray | None = None
        self._lu = None
        self._rhs_solved = 0   # right-hand sides solved directly since the last factorisation
        gc = self.cell_conductance()
        if self.wire_resistance == 0.0:
            self._g_eff = gc.copy()
            return
        self._lu = spla.splu(self._nodal_matrix(gc), permc_spec="MMD_AT_PLUS_A",
                             options={"SymmetricMode": True})

    def _nodal_matrix(self, gc: np.ndarray) -> sp.csc_matrix:
        """The (2N, 2N) nodal conductance matrix, N = rows*cols; row nodes first, then columns.

        Row node of cell (i, j) has index ``i*cols + j``; its column node ``N + i*cols + j``.
        """
        R, C = self.rows, self.cols
        N = R * C
        gw = 1.0 / self.wire_resistance
        idx = np.arange(N).reshape(R, C)
        gcf = gc.ravel()
        # diagonal: cell + wire segments on each side (the driver/sense segments included)
        diag_r = gcf + gw * 2.0
        diag_r = diag_r.reshape(R, C)
        diag_r[:, -1] -= gw                        # far end of a row: one segment only
        diag_c = (gcf + gw * 2.0).reshape(R, C)
        diag_c[0, :] -= gw                         # top end of a column: one segment only
        # off-diagonals: cell (row node <-> column node), row wires, column wires
        a_r = idx[:, :-1].ravel()
        b_r = idx[:, 1:].ravel()
        a_c = N + idx[:-1, :].ravel()
        b_c = N + idx[1:, :].ravel()
        cell = np.arange(N)
        i_ = np.concatenate([np.arange(2 * N), cell, cell + N, a_r, b_r, a_c, b_c])
        j_ = np.concatenate([np.arange(2 * N), cell + N, cell, b_r, a_r, b_c, a_c])
        nw_r, nw_c = a_r.size, a_c.size
        d_ = np.concatenate([diag_r.ravel(), diag_c.ravel(), -gcf, -gcf,
                             np.full(2 * nw_r, -gw), np.full(2 * nw_c, -gw)])
        return sp.csc_matrix((d_, (i_, j_)), shape=(2 * N, 2 * N))

    # solving --------------------------------------------------------------------------------
    def _check_v(self, v: np.ndarray) -> tuple[np.ndarray, bool]:
        v = np.asarray(v, dtype=np.float64)
        single = v.ndim == 1
        if single:
            v = v[None, :]
        if v.ndim != 2 or v.shape[1] != self.rows:
            raise ShapeError(f"IR-drop solve: v has shape {np.shape(v)}; expected ({self.rows},) "
                             f"or (batch, {self.rows}) volts")
        return v, single

    def node_voltages(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row-line and column-line voltages (V) at every cell, each (B, rows, cols).

        Needs ``wire_resistance > 0``. Solves the factorised system with all B right-hand
        sides at once.
        """
        if self._lu is None:
            raise ValueError("node voltages need wire_resistance > 0 (with r = 0 rows are at "
                             "the driver voltage and columns at 0 V)")
        v, _ = self._check_v(v)
        R, C, N = self.rows, self.cols, self.rows * self.cols
        gw = 1.0 / self.wire_resistance
        rhs = np.zeros((2 * N, v.shape[0]))
        rhs[np.arange(R) * C, :] = gw * v.T        # driver feeds row node (i, 0)
        x = self._lu.solve(rhs)
        vr = x[:N].T.reshape(-1, R, C)
        vc = x[N:].T.reshape(-1, R, C)
        return vr, vc

    def effective_conductance(self) -> np.ndarray:
        """The (rows, cols) matrix ``G_eff`` (S) with ``I = v @ G_eff`` for this tile.

        Computed once (``min(rows, cols)`` triangular solves on the factorisation, in chunks
        so that memory stays ~2 * rows * cols * 64 doubles) and cached until `update`.
        """
        if self._g_eff is None:
            R, C, N = self.rows, self.cols, self.rows * self.cols
            gw = 1.0 / self.wire_resistance
            out = np.empty((R, C))
            # the nodal matrix is symmetric, so either set of unit excitations gives G_eff:
            # I_j = gw * Vc(rows-1, j) and a unit driver injects gw at row node (i, 0).
            drive_nodes = np.arange(R) * C                      # row node (i, 0)
            sense_nodes = N + (R - 1) * C + np.arange(C)         # column node (rows-1, j)
            chunk = 64
            if R <= C:
                for s in range(0, R, chunk):
                    k = np.arange(s, min(R, s + chunk))
                    rhs = np.zeros((2 * N, k.size))
                    rhs[drive_nodes[k], np.arange(k.size)] = gw
                    out[k, :] = gw * self._lu.solve(rhs)[sense_nodes, :].T
            else:
                for s in range(0, C, chunk):
                    k = np.arange(s, min(C, s + chunk))
                    rhs = np.zeros((2 * N, k.size))
                    rhs[sense_nodes[k], np.arange(k.size)] = gw
                    out[:, k] = gw * self._lu.solve(rhs)[drive_nodes, :]
            self._g_eff = out
        return self._g_eff

    def solve(self, v: np.ndarray) -> np.ndarray:
        """Column currents (A) for row voltages ``v`` (V), shape (rows,) or (B, rows).

        Returns (cols,) or (B, cols) float64. While few vectors have been read since the last
        factorisation they are solved directly on it (one call with a B-column right-hand
        side, cost ~B triangular solves). Once the vectors read since the factorisation would
        exceed ``min(rows, cols)`` — the cost of `effective_conductance` — that matrix is
        computed and every later call is one ``v @ G_eff`` product (so the total cost is at
        most twice the cheaper of the two strategies). Both agree to round-off.
        """
        v, single = self._check_v(v)
        if self._g_eff is None and self._rhs_solved + v.shape[0] <= min(self.rows, self.cols):
            self._rhs_solved += v.shape[0]
            _, vc = self.node_voltages(v)
            out = vc[:, -1, :] / self.wire_resistance
        else:
            out = v @ self.effective_conductance()
        return out[0] if single else out

    def driver_currents(self, v: np.ndarray) -> np.ndarray:
        """Current (A) delivered by each row driver, shape (rows,) or (B, rows)."""
        v2, single = self._check_v(v)
        if self._lu is None:
            out = v2 * self.cell_conductance().sum(axis=1)
        else:
            vr, _ = self.node_voltages(v2)
            out = (v2 - vr[:, :, 0]) / self.wire_resistance
        return out[0] if single else out

    def __repr__(self) -> str:
        return (f"IRDropSolver({self.rows}x{self.cols}, wire_resistance={self.wire_resistance:g} Ω, "
                f"access_resistance={self.access_resistance:g} Ω)")
