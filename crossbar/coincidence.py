"""The stochastic update scheme's coincidence counts: their mean and variance per device.

Gokmen & Vlasov (2016, Front. Neurosci. 10:333, "Acceleration of deep neural network training
with resistive cross-point devices"): for each sample b of a batch, row line i fires a train of
``bl`` slots, each slot a pulse with probability ``px_bi = min(|x_bi|·cx, 1)``, and column line
j likewise with ``pd_bj = min(|d_bj|·cd, 1)``; device (i, j) moves one step in every slot where
both fire, in the direction of ``sign(k·x_bi·d_bj)``. Update management (ibid., section 2.3)
balances the two lines' scales: ``cx·cd = |k|/bl`` with ``cx/cd = max|d|/max|x|``.

Per device, the batch's signed count is a sum of ``B·bl`` independent slots, so (both
backends use these moments; `AnalogMatrix` draws the count from a normal with them):

* mean ``A_ij = bl·sign(k)·Σ_b sign(x_bi d_bj)·px_bi·pd_bj``, equal to ``k·Σ_b x_bi d_bj``
  while no probability is clipped at 1;
* variance ``V_ij = bl·Σ_b (px_bi pd_bj − px_bi² pd_bj²)`` (each slot is a Bernoulli trial).

A sample's streams can coincide only while both fire, so the batch takes ``B`` windows of
``bl`` slots, and a device takes at most ``B·bl`` pulses in the update. A line whose
probability is clipped at 1 asked for more than one pulse per slot: that sample's update along
it is cut, and the ledger counts such streams (``streams_clipped``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .products import matmul


class Coincidences(NamedTuple):
    mean: np.ndarray      # float32 (in, out): A, signed expected coincidences per device
    var: np.ndarray       # float32 (in, out): V, their variance
    windows: int          # B: one window of bl slots per sample
    clipped: int          # (sample, line) streams whose probability was clipped at 1
    draws: int            # random numbers the periphery draws: B·(in + out)·bl

    def ledger_counts(self) -> dict[str, int]:
        """The update's periphery events, as both backends file them (besides its pulses)."""
        return {"rng_draws": self.draws, "extra_update_windows": self.windows - 1,
                "streams_clipped": self.clipped}


def coincidence_moments(x: np.ndarray, d: np.ndarray, k: float, bl: int) -> Coincidences | None:
    """Mean and variance of the coincidence counts of ``x`` (B, in) and ``d`` (B, out) for the
    requested change ``k·xᵀd`` pulses (``k``: learning rate × pulses per unit weight) with
    ``bl`` slots per sample; None when nothing can fire (all-zero ``x`` or ``d``, or k = 0)."""
    ax, ad = np.abs(x), np.abs(d)
    xm, dm = float(ax.max(initial=0.0)), float(ad.max(initial=0.0))  # B may be 0
    if xm == 0 or dm == 0 or k == 0:
        return None
    c = math.sqrt(abs(float(k)) / bl)
    cx, cd = c * math.sqrt(dm / xm), c * math.sqrt(xm / dm)
    sx, sd = ax * np.float32(cx), ad * np.float32(cd)
    clipped = int(np.count_nonzero(sx > 1)) + int(np.count_nonzero(sd > 1))
    px = np.minimum(sx, 1).astype(np.float32)
    pd = np.minimum(sd, 1).astype(np.float32)
    sgn = np.float32(np.sign(k))
    A = (np.float32(bl) * sgn) * matmul((np.sign(x) * px).T, np.sign(d) * pd)
    V = np.float32(bl) * (matmul(px.T, pd) - matmul((px * px).T, pd * pd))
    return Coincidences(A, V, x.shape[0], clipped, x.shape[0] * (x.shape[1] + d.shape[1]) * bl)
