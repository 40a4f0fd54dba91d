"""`IdealMatrix`: plain float32 weights with the `AnalogMatrix` interface and no effects.

It is every analog run's twin: the same algorithm code runs on it, and its ledger counts the
logical work (vectors, MACs) so that the digital baseline can be priced.
"""

from __future__ import annotations

import numpy as np

from .base import MatrixBase, check_shape
from .ledger import Ledger
from .products import matmul
from .transpose import add_transposed


class IdealMatrix(MatrixBase):
    """Float32 matrix of shape ``(out, in)``; ``forward(x) = x @ W.T`` (``analog`` False and
    no ``periphery``: `MatrixBase`'s)."""

    def __init__(self, out_features: int, in_features: int, *, seed: int | None = None,
                 ledger: Ledger | None = None, name: str = "W") -> None:
        """``seed`` is accepted for a constructor like the analog matrices' (an ideal matrix
        draws no random numbers); any other keyword is an error."""
        self.out_features, self.in_features = check_shape(out_features, in_features, name)
        # stored as (in, out) so that forward is one contiguous BLAS call x @ Wt
        self._wt = np.zeros((self.in_features, self.out_features), dtype=np.float32)
        self.ledger = ledger if ledger is not None else Ledger()
        self.name = self.ledger.register(name, {
            "analog": False, "rows": self.in_features, "cols": self.out_features})
        self.time = 0.0

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check(x, self.in_features, "input")
        B = x.shape[0]
        self.ledger.add(self.name, mvm_vectors=B, macs=B * self.in_features * self.out_features)
        return matmul(x, self._wt)

    def transposed(self, d: np.ndarray) -> np.ndarray:
        d = self._check(d, self.out_features, "transposed input")
        B = d.shape[0]
        self.ledger.add(self.name, transposed_vectors=B,
                        macs=B * self.in_features * self.out_features)
        return matmul(d, self._wt.T)

    def update(self, x: np.ndarray, d: np.ndarray, lr: float) -> None:
        x, d = self._check_update(x, d, lr)
        self._wt += np.float32(lr) * matmul(x.T, d)
        self.ledger.add(self.name, update_calls=1,
                        macs=x.shape[0] * self.in_features * self.out_features)

    def apply_delta(self, dW: np.ndarray) -> None:
        """``W += dW`` for an arbitrary (out, in) change (digital optimisers)."""
        dW = self._check_weights(dW, "apply_delta", "change")
        add_transposed(self._wt, dW)   # self._wt += dW.T, cache-friendly
        self.ledger.add(self.name, update_calls=1)

    def program(self, W: np.ndarray) -> None:
        W = self._check_weights(W, "program", "weight matrix")
        self._wt[...] = W.T
        self.ledger.add(self.name, programmed_devices=W.size)

    def weights(self) -> np.ndarray:
        return self._wt.T.copy()

    def advance_time(self, dt: float) -> None:
        self.time += float(dt)
