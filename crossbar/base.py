"""The interface every matrix implements (`IdealMatrix`, `AnalogMatrix`).

Shapes follow the hardware: a matrix of shape ``(out, in)`` maps a batch ``x`` of shape
``(B, in)`` to ``y = x @ W.T`` of shape ``(B, out)``.
"""

from __future__ import annotations

import numpy as np

from device_models.checks import check_number, plain

from .ledger import Ledger


class ShapeError(ValueError):
    """An input's shape does not match the matrix."""


class NonFiniteInputError(ValueError):
    """An input contains NaN or infinity."""


def check_shape(out_features, in_features, name: str) -> tuple[int, int]:
    """(out, in) as ints; raises `ShapeError` unless both are positive integers (numpy
    integers count; a bool or a float such as 10.5 does not: it would be truncated)."""
    for v in (out_features, in_features):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ShapeError(f"{name}: shape ({out_features!r}, {in_features!r}) must be two "
                             "positive integers")
    return int(out_features), int(in_features)


def check_w_max(w_max) -> float:
    """``w_max`` as a float; raises ``ValueError`` unless it is a positive finite number (a
    bool is refused, not read as 1; numpy scalars are the numbers they hold)."""
    w_max = plain(w_max)
    check_number("w_max", w_max, 0, None, lo_open=True)
    return float(w_max)


def check_dt(dt) -> float:
    """``dt`` (s) as a float; raises ``ValueError`` unless it is a finite number >= 0 (the
    clock of `advance_time` never runs backwards)."""
    dt = plain(dt)
    check_number("dt", dt, 0, None, unit="s")
    return float(dt)


def check_seed(seed) -> int:
    """``seed`` as an int; raises ``ValueError`` unless it is an integer >= 0 (NumPy's
    generators take no other seed; a float or a bool is refused, not truncated)."""
    seed = plain(seed)
    check_number("seed", seed, 0, None, integer=True)
    return seed


# from this many elements a float32 array's finiteness is tested from its bits on the kernel
# threads (`crossbar.finite`, the same answer); below it NumPy's test is faster than a hand-off
# (and small runs never compile the kernel)
FINITE_COMPILED_FROM = 1 << 18


def all_finite(a: np.ndarray) -> bool:
    """``np.isfinite(a).all()``."""
    if a.ndim == 2 and not a.flags.c_contiguous and a.T.flags.c_contiguous:
        a = a.T   # the transpose view of a C-contiguous array: the same elements in order
    if a.size >= FINITE_COMPILED_FROM and a.dtype == np.float32 and a.flags.c_contiguous:
        from .finite import all_finite_f32   # Numba, imported on first use
        return all_finite_f32(a)
    return bool(np.isfinite(a).all())


def check_finite(a: np.ndarray, name: str, what: str) -> None:
    """Raise `NonFiniteInputError` if ``a`` holds NaN or infinity."""
    if not all_finite(a):
        raise NonFiniteInputError(f"{name}: {what} contains NaN or infinity")


class MatrixBase:
    """Common bookkeeping: shape checks, the ledger and its phase.

    What an algorithm may use of a matrix is declared here: the attributes below and the
    methods of the interface section (tests/analogff/test_algorithm_conformance.py runs every
    algorithm on matrices that expose nothing else)."""

    out_features: int
    in_features: int
    ledger: Ledger
    name: str
    # reads go tile by tile through DACs and ADCs (`forward_tiles` keeps the tiles apart);
    # False: exact float products
    analog: bool = False
    # the converters, tiling and update scheme of an analog matrix (`crossbar.Periphery`);
    # None for a matrix without any
    periphery = None

    @property
    def shape(self) -> tuple[int, int]:
        return (self.out_features, self.in_features)

    def _check(self, x: np.ndarray, n: int, what: str, finite: bool = True) -> np.ndarray:
        """``x`` as a float32 (batch, n) array; raises on a wrong shape and, if ``finite``, on
        NaN/inf (analog reads check finiteness inside their DAC pass instead)."""
        x = np.asarray(x)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != n:
            raise ShapeError(
                f"{self.name}: {what} has shape {tuple(np.shape(x))}; expected (batch, {n})")
        if x.dtype != np.float32:
            x = x.astype(np.float32)
        if finite and not all_finite(x):
            raise NonFiniteInputError(f"{self.name}: {what} contains NaN or infinity")
        return x

    def _check_update(self, x: np.ndarray, d: np.ndarray,
                      lr: float) -> tuple[np.ndarray, np.ndarray]:
        """The arguments of ``update(x, d, lr)`` checked (one rule for every matrix type):
        ``x`` (batch, in) and ``d`` (batch, out) as float32 with the same batch, and ``lr`` a
        finite real number (a bool is refused, not read as 0 / 1)."""
        x = self._check(x, self.in_features, "update input x")
        d = self._check(d, self.out_features, "update input d")
        if x.shape[0] != d.shape[0]:
            raise ShapeError(f"{self.name}: x has {x.shape[0]} rows but d has {d.shape[0]}")
        check_number(f"{self.name}: update() lr", plain(lr))
        return x, d

    def _check_weights(self, W: np.ndarray, call: str, what: str) -> np.ndarray:
        """The (out, in) argument of ``apply_delta`` or ``program`` checked (one rule for every
        matrix type): ``W`` as float32 of the matrix's shape, free of NaN and infinity (refused
        before anything is written)."""
        W = np.asarray(W, dtype=np.float32)
        if W.shape != self.shape:
            raise ShapeError(f"{self.name}: {call}() got shape {W.shape}; expected {self.shape}")
        check_finite(W, self.name, f"{call}() {what}")
        return W

    # interface: everything an algorithm may call (tests/crossbar/test_conformance.py runs
    # every matrix type through it) ----------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        """Read ``(B, in) -> (B, out)``, ``≈ x @ W.T``."""
        raise NotImplementedError

    def transposed(self, d: np.ndarray) -> np.ndarray:
        """Transposed read ``(B, out) -> (B, in)``, ``≈ d @ W``."""
        raise NotImplementedError

    def update(self, x: np.ndarray, d: np.ndarray, lr: float) -> None:
        """Apply ``W += lr * d.T @ x`` (batch-summed outer product)."""
        raise NotImplementedError

    def apply_delta(self, dW: np.ndarray) -> None:
        """Apply an arbitrary weight change ``dW`` of shape (out, in) (digital optimisers)."""
        raise NotImplementedError

    def program(self, W: np.ndarray) -> None:
        """Set the weights to ``W`` (out, in) (analog: open loop, with programming noise)."""
        raise NotImplementedError

    def weights(self) -> np.ndarray:
        """The effective weights (out, in), a copy."""
        raise NotImplementedError

    def advance_time(self, dt: float) -> None:
        """Advance the simulated clock by ``dt`` seconds (drift acts where devices drift)."""
        raise NotImplementedError

    def forward_tiles(self, x: np.ndarray) -> np.ndarray:
        """Forward read keeping each row tile's output apart: ``(B, n_row_tiles, out)``
        (stacks of independent small arrays, `BlockDiagonal`). Matrices without tiles have
        one tile: ``forward(x)[:, None, :]``."""
        return self.forward(x)[:, None, :]

    def rng_state(self):
        """The state of the matrix's own random stream (None: it draws none), so that a
        caller can read without consuming it (`set_rng_state`)."""
        return None

    def set_rng_state(self, state) -> None:
        """Restore a state returned by `rng_state`."""
        if state is not None:
            raise ValueError(f"{self.name}: this matrix has no random stream to restore")


def analog_info(m, dac_bits: int, adc_bits: int) -> dict:
    """The ledger's matrix info of an analog-shaped matrix (`AnalogMatrix`, and
    `CountingMatrix`, whose ledgers must match it key for key): geometry, converters, device
    and read conditions. ``m`` has ``periphery``, ``device``, the tile edges, ``sigma`` and
    ``w_max``."""
    pe, dv = m.periphery, m.device
    return {"analog": True, "rows": m.in_features, "cols": m.out_features,
            "tile_rows": pe.tile_rows, "tile_cols": pe.tile_cols,
            "n_tiles": (len(m.row_edges) - 1) * (len(m.col_edges) - 1),
            "dac_bits": dac_bits, "adc_bits": adc_bits, "out_bound": pe.out_bound,
            "device": dv.name, "v_read": dv.v_read, "t_read": dv.t_read,
            "g_min": dv.g_min, "g_max": dv.g_max, "mapping": pe.mapping,
            "update": pe.update, "read_noise": m.sigma, "w_max": m.w_max,
            "wire_resistance": pe.wire_resistance}
