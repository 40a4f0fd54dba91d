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
`IRDropSolver` processes each conductance state once: either it factorises the sparse nodal
matrix (SuperLU) and solves each batch as one multi-right-hand-side call, or it computes
``G_eff`` by row-by-row elimination so that every read is one BLAS product, like the ideal
read (see the class docstring for the choice and the measured costs).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import lapack
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from device_models.checks import check_choice, check_number, plain

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
    """A resistance in [0, hi] ohms (numpy scalars taken as the numbers they hold), as float."""
    value = plain(value)
    check_number(name, value, 0.0, hi, unit="ohms", error=PeripheryParameterError)
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
    method : "auto" (default), "sparse" or "effective"
        How a conductance state is processed (once; cached until `update`):

        * ``"sparse"``: the nodal system (``2*rows*cols`` unknowns,
          ``8*rows*cols - 2*(rows + cols)`` non-zeros, built with vectorised numpy) is
          factorised once with SuperLU (``scipy.sparse.linalg.splu``) at construction; every
          `solve` is one call with a B-column right-hand side. Measured on the 2-core machine
          here, idle (`python benchmarks/bench_irdrop.py --sparse`, rram-taox conductances,
          1 Ω wires): build and solve 5.7 ms per vector at 64×64; factorisation plus one solve
          of 1000 vectors 22 s at 256×256, ~22 ms per vector (crossbar/README_spice.md).
        * ``"effective"``: the effective conductance matrix ``G_eff`` (``I = v @ G_eff``) is
          computed at construction by eliminating the network row by row (dense Kron
          reduction with Cholesky solves: ``O(rows * cols**3 + rows**2 * cols**2)`` flops
          with the smaller dimension cubed, ``O(cols**2 + rows*cols)`` memory); every `solve`
          is then one BLAS product, as cheap as the ideal read. Measured (one BLAS thread,
          which this step uses): ~10 ms CPU at 64×64, ~1.1 s CPU at 256×256 — about 5× less
          than factorising and solving ``min(rows, cols)`` right-hand sides with SuperLU.
        * ``"auto"``: nothing is done at construction. The first vectors (up to
          ``min(rows, cols) // 4`` in total) are solved on the sparse factorisation; a batch
          that would exceed that computes ``G_eff`` instead and every later call uses it. A
          large first batch (the usual case for `AnalogMatrix`) never factorises at all.

    With ``wire_resistance == 0`` nothing is factorised: without access resistance
    ``solve(v) == v @ G`` exactly, with it ``v @ (G / (1 + G * access_resistance))``.
    """

    METHODS = ("auto", "sparse", "effective")

    def __init__(self, G: np.ndarray, wire_resistance: float, access_resistance: float = 0.0,
                 method: str = "auto") -> None:
        self.wire_resistance = _check_resistance("wire_resistance", wire_resistance, 1e9)
        self.access_resistance = _check_resistance("access_resistance", access_resistance, 1e12)
        check_choice("IR-drop method", method, self.METHODS, error=PeripheryParameterError)
        self.method = method
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
        """Take new conductances (S, same or new shape); drop the cached factorisation and
        ``G_eff`` and redo the construction work of `method` (see the class docstring)."""
        self.G = _check_conductances(G)
        self.rows, self.cols = self.G.shape
        self._g_eff: np.ndarray | None = None
        self._lu = None
        self._rhs_solved = 0   # vectors solved on the factorisation since the last update
        if self.wire_resistance == 0.0:
            self._g_eff = self.cell_conductance().copy()
        elif self.method == "sparse":
            self._factorise()
        elif self.method == "effective":
            self.effective_conductance()

    def _factorise(self):
        if self._lu is None:
            self._lu = spla.splu(self._nodal_matrix(self.cell_conductance()),
                                 permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})
        return self._lu

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
        if self.wire_resistance == 0.0:
            raise ValueError("node voltages need wire_resistance > 0 (with r = 0 rows are at "
                             "the driver voltage and columns at 0 V)")
        v, _ = self._check_v(v)
        R, C, N = self.rows, self.cols, self.rows * self.cols
        gw = 1.0 / self.wire_resistance
        rhs = np.zeros((2 * N, v.shape[0]))
        rhs[np.arange(R) * C, :] = gw * v.T        # driver feeds row node (i, 0)
        x = self._factorise().solve(rhs)
        vr = x[:N].T.reshape(-1, R, C)
        vc = x[N:].T.reshape(-1, R, C)
        return vr, vc

    def effective_conductance(self) -> np.ndarray:
        """The (rows, cols) matrix ``G_eff`` (S) with ``I = v @ G_eff`` for this tile.

        Computed once by row-by-row elimination (`_row_reduction`, no sparse factorisation)
        and cached until `update`.
        """
        if self._g_eff is None:
            gc = self.cell_conductance()
            with _one_blas_thread(min(self.rows, self.cols)):
                if self.cols <= self.rows:
                    self._g_eff = _row_reduction(gc, self.wire_resistance)
                else:
                    # reciprocity: the transposed tile (columns driven from their sense end,
                    # rows read at their driver end) has the transposed, index-reversed G_eff;
                    # this keeps the cubed dimension the smaller one
                    self._g_eff = _row_reduction(gc[::-1, ::-1].T,
                                                 self.wire_resistance)[::-1, ::-1].T
            self._g_eff = np.ascontiguousarray(self._g_eff)
        return self._g_eff

    def solve(self, v: np.ndarray) -> np.ndarray:
        """Column currents (A) for row voltages ``v`` (V), shape (rows,) or (B, rows).

        Returns (cols,) or (B, cols) float64. Solved on the sparse factorisation (one call
        with a B-column right-hand side) or as ``v @ G_eff``, as chosen by `method` (see the
        class docstring); the two agree to round-off (~1e-12 relative).
        """
        v, single = self._check_v(v)
        direct = self.method == "sparse" or (
            self.method == "auto" and self._g_eff is None
            and self._rhs_solved + v.shape[0] <= min(self.rows, self.cols) // 4)
        if direct and self.wire_resistance > 0.0:
            self._rhs_solved += v.shape[0]
            _, vc = self.node_voltages(v)
            out = vc[:, -1, :] / self.wire_resistance
        else:
            out = v @ self.effective_conductance()
        return out[0] if single else out

    def driver_currents(self, v: np.ndarray) -> np.ndarray:
        """Current (A) delivered by each row driver, shape (rows,) or (B, rows) (from the
        sparse factorisation, which is computed if needed)."""
        v2, single = self._check_v(v)
        if self.wire_resistance == 0.0:
            out = v2 * self.cell_conductance().sum(axis=1)
        else:
            vr, _ = self.node_voltages(v2)
            out = (v2 - vr[:, :, 0]) / self.wire_resistance
        return out[0] if single else out

    def __repr__(self) -> str:
        return (f"IRDropSolver({self.rows}x{self.cols}, wire_resistance={self.wire_resistance:g} Ω, "
                f"access_resistance={self.access_resistance:g} Ω, method={self.method!r})")


def _one_blas_thread(n: int):
    """Context: BLAS limited to one thread while the row reduction runs (n >= 48).

    The reduction makes hundreds of medium-sized BLAS calls; with OpenBLAS's threads on the
    shared 2-core machine here it was measured 10x slower in wall time (51 s vs 4.3 s at
    256x256 under load) and never more than ~2x faster when idle.
    """
    import contextlib
    if n < 48:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _row_reduction(gc: np.ndarray, r: float) -> np.ndarray:
    """``G_eff`` (rows, cols) of a tile with cell conductances ``gc`` and wire resistance ``r``.

    Kron reduction from the top row down. After rows ``0..i`` the part of the network above
    the column-wire segments below row ``i`` is, seen from its column nodes ``c(i, :)``, a
    Norton equivalent: it pushes ``J = N @ v - Y @ V_c`` into those segments (``Y``: cols×cols
    S, ``N``: cols×rows S). Crossing one column segment (conductance gw = 1/r) gives
    ``N <- gw (Y + gw)^-1 N`` and ``Y <- gw (Y + gw)^-1 Y``; adding row ``i`` (a tridiagonal
    row chain T = L_w + D with cell conductances D = diag(gc[i]) and the driver segment)
    adds ``D - D T^-1 D = D T^-1 L_w`` to ``Y`` and ``gw D T^-1 e_0`` as column ``i`` of ``N``.
    The last segment into the sense nodes (0 V) gives ``I = gw (Y + gw)^-1 N v``. Both forms
    avoid subtracting nearly equal numbers (gw >> Y). Cost per row: one Cholesky, one
    solve with ``cols + i`` right-hand sides and one tridiagonal solve (LAPACK dpotrf,
    dpotrs, dptsv).
    """
    R, C = gc.shape
    gw = 1.0 / r
    # row chain T = L_w + D: diagonal 2 gw (gw at the row's open end) + d, off-diagonal -gw.
    # T^-1 [L_w | e_0] = [I - T^-1 D | T^-1 e_0], so one tridiagonal solve of T X = [D | e_0]
    diag_w = np.full(C, 2.0 * gw)
    diag_w[-1] = gw
    off = np.full(C - 1, -gw)
    k = np.arange(C)
    rhs = np.zeros((C, C + 1), order="F")
    rhs[0, C] = 1.0
    eye_gw = gw * np.eye(C, order="F")
    YN = np.zeros((C, C + R), order="F")    # [Y | N] side by side: one solve updates both
    for i in range(R):
        if i > 0:  # cross the column-wire segment between rows i-1 and i
            chol = _check_lapack(lapack.dpotrf(YN[:, :C] + eye_gw, lower=1, overwrite_a=1), "dpotrf")
            YN[:, :C + i] = gw * _check_lapack(
                lapack.dpotrs(chol, YN[:, :C + i], lower=1, overwrite_b=0), "dpotrs")
        d = gc[i]
        rhs[k, k] = d
        if C == 1:
            x = rhs / (diag_w + d)[:, None]
        else:
            x = _check_lapack(lapack.dptsv(diag_w + d, off, rhs, overwrite_b=0)[2:], "dptsv")
        Y = YN[:, :C]                       # a view: Y += D - D T^-1 D (only the lower
        Y -= d[:, None] * x[:, :C]          # triangle is read by the Cholesky; symmetric
        Y[k, k] += d                        # to round-off)
        YN[:, C + i] = gw * d * x[:, C]
    chol = _check_lapack(lapack.dpotrf(YN[:, :C] + eye_gw, lower=1, overwrite_a=1), "dpotrf")
    return (gw * _check_lapack(lapack.dpotrs(chol, YN[:, C:], lower=1), "dpotrs")).T


def _check_lapack(result, name):
    *values, info = result
    if info != 0:
        raise ArithmeticError(f"IR-drop reduction: LAPACK {name} failed (info = {info}); the "
                              f"wire/cell conductances may be out of floating-point range")
    return values[0]
