"""What the layered algorithms (FF, BP) share: the bits a buffered activation or error value
takes (SRAM accounting, PFF's too), and fully connected layers initialised and mapped onto
matrices."""

from __future__ import annotations

from typing import Callable

import numpy as np

ACT_BITS = 8  # bits per buffered activation value (SRAM accounting)
# bits per buffered error value: local errors / backprop deltas need more precision than
# activations (backprop's error vectors need 8 bits or more; this project's choice is 16-bit
# fixed point, as in mixed-precision training)
ERR_BITS = 16


def uniform_init(rng: np.random.Generator, out: int, in_: int,
                 scale: float) -> tuple[np.ndarray, float]:
    """``U(-s, s)`` with ``s = scale * sqrt(3 / in_)`` (std ``scale / sqrt(in_)``); returns
    (W, s)."""
    s = float(scale) * np.sqrt(3.0 / in_)
    return rng.uniform(-s, s, size=(out, in_)).astype(np.float32), s


def build_layers(factory: Callable, prefix: str, sizes: tuple[int, ...], scales: list[float],
                 w_max_factor: float, rng: np.random.Generator) -> tuple[list, list[np.ndarray]]:
    """Matrices ``{prefix}.W1``... for ``sizes[0] -> sizes[1] -> ...`` (layer l initialised
    by `uniform_init` with ``scales[l - 1]``, mapped with ``w_max = w_max_factor * s``) and
    zero float32 biases."""
    matrices: list = []
    biases: list[np.ndarray] = []
    for i, (fan_in, fan_out, scale) in enumerate(zip(sizes[:-1], sizes[1:], scales), start=1):
        W, s = uniform_init(rng, fan_out, fan_in, scale)
        matrices.append(factory(f"{prefix}.W{i}", fan_out, fan_in, float(w_max_factor) * s, W))
        biases.append(np.zeros(fan_out, dtype=np.float32))
    return matrices, biases
