"""`AnalogMatrix`: a signed weight matrix on differential pairs of memristive devices.

Physics (the contract; see the top-level README's section "The physics, defined once"):

* **Mapping.** ``W = w_max · (G⁺ − G⁻) / (g_max − g_min)`` (``differential``), or
  ``W = w_max · (2G − g_min − g_max)/(g_max − g_min)`` against a mid-range reference
  (``reference``). Layout is physical: array rows are the ``in`` lines, columns the ``out``
  lines; tiles of ``tile_rows × tile_cols`` cells.
* **Forward read.** Each input vector is scaled by its abs-max (or clipped at a fixed bound)
  and quantised by a ``dac_bits`` DAC to voltages ``q·v_read`` with ``q`` in [−1, 1]. Each tile
  produces the column sums ``Σ_i q_i W_ij / w_max`` (normalised units), read noise is added,
  and a ``adc_bits`` ADC converts them over ``±max(out_bound × rows_in_tile, 1)``; conversions
  beyond it clip and are counted. Tiles' digital partial sums are added and rescaled to weight units.
* **Read noise.** Every cell's conductance fluctuates at every read with std ``σ·Δg``
  (additive) or ``σ·G`` (proportional), independently per read. For a column this is exactly
  ``N(0, σ²·Σ_i q_i²·k)`` in normalised units, with k = 2 for a differential pair (two cells)
  and 4 for a reference mapping (one cell, weight = 2w − 1); so it costs one norm per input
  row and tile. The proportional model costs one extra matmul (``q² @ Σ(G/Δg)²``).
* **Updates.** ``update(x, d, lr)`` asks for ``ΔW = lr · dᵀx``; each device receives
  ``n = ΔW / Δw_min`` pulses (``Δw_min = w_max/states``; stochastically rounded, capped at
  ``max_pulses`` per window of pulse slots, the capped trains counted as ``trains_capped``;
  the stochastic scheme fires one window per batch row), applied through the
  device's response with c2c noise: a train of n pulses is drawn at once from its exact
  (linear) or O(c³)-accurate (geometric) distribution when it cannot reach a bound, and pulse
  by pulse otherwise (``pulses._apply_n``).
* **Time.** ``advance_time(dt)`` applies power-law drift ``G(t) = G(t_p)(t/t_p)^-ν`` per device.
"""

from __future__ import annotations

import math

import numpy as np

from device_models import DeviceModel, load_preset
from device_models.responses import get_response
from device_models.variation import device_laws

from . import kernels as K
from .base import (MatrixBase, NonFiniteInputError, analog_info, check_dt, check_seed,
                   check_shape, check_w_max)
from .coincidence import coincidence_moments
from .converters import _adc_chunks as adc_chunks   # one run of row chunks, without the GIL
from .converters import _dac_chunks as dac_chunks   # the same for the DAC
from .kernel_config import _ROWS_PER_CHUNK as ROWS_PER_CHUNK
from .ledger import Ledger
from .periphery import Periphery
from .products import matmul, one_blas_thread, row_cut
from .pulse_updates import device_never_stuck
from .rng import new_key
from .threads import chunks, run_spans
from .transpose import scaled_transpose


# below these sizes (elements), kernels run on one thread: waking the pool costs more than
# it saves, and far more on a loaded machine; all tiles of a small read go through one call
_SMALL_WORK = 200_000
_BATCHED_LIMIT = 2_000_000
# pulsed updates cost several ns per device (against ~1 ns per element of a read), so the pool
# pays off from fewer devices
_SMALL_UPDATE = 16_384
# reads with at most this many output lines take the fused one-pass kernel (kernels.read_narrow)
_NARROW = 16


def kernel_for(kernel, work: int, small: int = _SMALL_WORK):
    """``kernel`` itself (thread pool) for large work, its serial twin below ``small``.

    Results do not depend on this: randomness is counter-based per row, not per thread.
    """
    return kernel if work >= small else K.SERIAL[kernel.__name__]


def adc_range(out_bound: float, rows: int) -> float:
    """ADC input range (± this, normalised units) of a tile with ``rows`` used rows:
    ``out_bound`` × the full-scale column sum (``rows``), but never below one cell at full
    input and full weight (1) — a smaller range would clip a single active row."""
    return max(out_bound * rows, 1.0)


def _edges(n: int, tile: int) -> np.ndarray:
    return np.array(list(range(0, n, tile)) + [n], dtype=np.int64)


class AnalogMatrix(MatrixBase):
    """Analog crossbar matrix of shape ``(out, in)``: ``forward(x) ≈ x @ W.T``."""

    analog = True

    def __init__(self, out_features: int, in_features: int,
                 device: DeviceModel | str | None = None, periphery: Periphery | None = None,
                 seed: int = 0, *, ledger: Ledger | None = None, name: str = "W",
                 w_max: float = 1.0) -> None:
        out_features, in_features = check_shape(out_features, in_features, name)
        w_max = check_w_max(w_max)
        seed = check_seed(seed)
        if device is None:
            device = load_preset("ideal")
        elif isinstance(device, str):
            device = load_preset(device)
        self.device = device
        self.periphery = periphery if periphery is not None else Periphery()
        self.out_features, self.in_features = int(out_features), int(in_features)
        self.w_max = float(w_max)
        self.time = 0.0
        self._rng = np.random.default_rng(seed)
        pe, dv = self.periphery, self.device
        self._differential = pe.mapping == "differential"
        R, C = self.in_features, self.out_features
        # tile boundaries along the array's rows (inputs) and columns (outputs): tile t spans
        # [edges[t], edges[t + 1]) (public: the ledger's matrix info counts the tiles)
        self.row_edges = _edges(R, pe.tile_rows)
        self.col_edges = _edges(C, pe.tile_cols)
        self._dac_levels = max(2 ** (pe.dac_bits - 1) - 1, 1)
        self._adc_half = max(2 ** (pe.adc_bits - 1) - 1, 1)
        # ADC LSB (normalised units) per input tile, forward (row tiles) and transposed reads
        self._adc_steps = {tr: np.array([adc_range(pe.out_bound, b - a) / self._adc_half
                                         for a, b in zip(e[:-1], e[1:])], dtype=np.float32)
                           for tr, e in ((False, self.row_edges), (True, self.col_edges))}
        self.sigma = float(pe.read_noise if pe.read_noise is not None else dv.read_noise)
        self._c = dv.g_min / dv.g_range  # g_min in units of Δg

        # device state and per-device fixed properties
        self.wp = np.zeros((R, C), dtype=np.float32)
        self.wm = np.zeros((R, C), dtype=np.float32) if self._differential else \
            np.zeros((1, 1), dtype=np.float32)
        shp_m = (R, C) if self._differential else (1, 1)
        self._has_d2d = dv.d2d > 0
        if self._has_d2d:
            self.d2dp = np.maximum(1 + dv.d2d * self._rng.standard_normal((R, C)), 0).astype(np.float32)
            self.d2dm = np.maximum(1 + dv.d2d * self._rng.standard_normal(shp_m), 0).astype(np.float32)
        else:
            self.d2dp = self.d2dm = np.ones((1, 1), dtype=np.float32)
        # devices that differ in more than their step factor keep their own law (bounds,
        # rates, targets) and, with write noise, the offset a read sees around the stored state
        self._full = dv.varies_shape
        if self._full:
            self._lawp = self._draw_laws(self.d2dp, (R, C))
            self._lawm = self._draw_laws(self.d2dm, shp_m)
            self._touchp = np.zeros((R, C), dtype=np.uint8)
            self._touchm = np.zeros(shp_m, dtype=np.uint8)
            self._wnp = np.zeros((R, C), dtype=np.float32)
            self._wnm = np.zeros(shp_m, dtype=np.float32)
        else:
            self._lawp = self._lawm = np.zeros((K.N_LAW, 1, 1), dtype=np.float32)
            self._touchp = self._touchm = np.zeros((1, 1), dtype=np.uint8)
        self.stuckp, self._stuck_val_p = self._draw_stuck((R, C))
        self.stuckm, self._stuck_val_m = self._draw_stuck(shp_m)
        # no device is stuck nor can become stuck: the pulse kernel may skip those paths
        self._stuck_free = device_never_stuck(dv)
        # stuck-at faults sit at their value from the start; program() leaves stuck devices alone
        self.wp[...] = self._stuck_val_p
        if self._differential:
            self.wm[...] = self._stuck_val_m
        self._endurance = dv.endurance > 0
        if self._endurance:
            self.countp = np.zeros((R, C), dtype=np.int64)
            self.countm = np.zeros(shp_m, dtype=np.int64)
        else:
            self.countp = self.countm = np.zeros((1, 1), dtype=np.int64)
        self._drift = dv.drift_nu > 0 or dv.drift_nu_std > 0
        if self._drift:
            self.nup = np.maximum(dv.drift_nu + dv.drift_nu_std * self._rng.standard_normal((R, C)), 0)
            self.num = np.maximum(dv.drift_nu + dv.drift_nu_std * self._rng.standard_normal(shp_m), 0)
            self.tprogp = np.zeros((R, C))
            self.tprogm = np.zeros(shp_m)
        else:
            self.tprogp = self.tprogm = np.zeros((1, 1))
        self._chi = None  # mixed-precision digital accumulator (pulse units)
        self._params = self._pulse_params()
        self._dirty = True
        self._Wn = np.empty((R, C), dtype=np.float32)
        self._gsum = np.empty(R, dtype=np.float32)
        self._gsum_col = None
        self._A2 = None
        self._WnT = None
        self._diag = None
        self._scratch_bufs: dict[str, np.ndarray] = {}
        self.ledger = ledger if ledger is not None else Ledger()
        self.name = self.ledger.register(name, self.info())
        self._irdrop = None
        self.program(np.zeros((C, R), dtype=np.float32), record=False)

    def rng_state(self):
        """The bit-generator state of the matrix's random stream (keys, device draws)."""
        return self._rng.bit_generator.state

    def set_rng_state(self, state) -> None:
        self._rng.bit_generator.state = state

    # ---- construction helpers -----------------------------------------------------------
    def _draw_stuck(self, shape):
        dv = self.device
        mask = np.zeros(shape, dtype=np.uint8)
        val = np.zeros(shape, dtype=np.float32)
        if dv.stuck_off > 0 or dv.stuck_on > 0:
            u = self._rng.random(shape)
            off = u < dv.stuck_off
            on = (u >= dv.stuck_off) & (u < dv.stuck_off + dv.stuck_on)
            mask[off | on] = 1
            val[on] = 1.0
        return mask, val

    def _draw_laws(self, f, shape) -> np.ndarray:
        """Each device's own law (K.N_LAW, *shape) float32: lin, rate, target per polarity
        and the hard bounds (device_models.variation.device_laws)."""
        f = np.broadcast_to(f, shape) if f.shape != shape else f
        laws = device_laws(self.device, f.astype(np.float64), self._rng)
        out = np.empty((K.N_LAW,) + tuple(shape), dtype=np.float32)
        for k, v in ((K.L_LIN_UP, laws.up.lin), (K.L_RATE_UP, laws.up.rate),
                     (K.L_TGT_UP, laws.up.target), (K.L_LIN_DN, laws.down.lin),
                     (K.L_RATE_DN, laws.down.rate), (K.L_TGT_DN, laws.down.target),
                     (K.L_LO, laws.lo), (K.L_HI, laws.hi)):
            out[k] = v
        return out

    def _pulse_params(self) -> np.ndarray:
        """The kernels' shared pulse parameters; each polarity's step law comes from the
        device's response class (device_models.responses: lin, rate, target)."""
        dv = self.device
        p = np.zeros(K.N_PARAMS, dtype=np.float64)
        p[K.P_S] = 1.0 / dv.states
        p[K.P_A] = dv.up_down
        p[K.P_C2C] = dv.c2c
        p[K.P_ADDITIVE] = 1.0 if dv.c2c_model == "additive" else 0.0
        p[K.P_POTONLY] = 1.0 if dv.policy == "potentiate-only" else 0.0
        p[K.P_ENDUR] = dv.endurance
        p[K.P_GMIN] = dv.g_min
        p[K.P_DG] = dv.g_range
        p[K.P_EPULSE] = dv.pulse_energy
        resp = get_response(dv.response)
        for up in (True, False):
            law = resp.direction(dv, up)
            v, t = (dv.v_write_up, dv.t_write_up) if up else (dv.v_write_down, dv.t_write_down)
            fields = (K.UP_LIN, K.UP_RATE, K.UP_TGT, K.UP_VV, K.UP_T) if up else \
                (K.DN_LIN, K.DN_RATE, K.DN_TGT, K.DN_VV, K.DN_T)
            for k, value in zip(fields, (law.lin, law.rate, law.target, v * v, t)):
                p[k] = value
        return p

    def info(self) -> dict:
        return analog_info(self, self.periphery.dac_bits, self.periphery.adc_bits)

    # ---- cached derived state -----------------------------------------------------------
    def _refresh(self) -> None:
        """The effective weights and what is derived from them, if the states changed since
        they were computed."""
        if not self._dirty:
            return
        wp, wm = self._read_states()
        kernel_for(K.effective, self.wp.size)(wp, wm, self._differential, self._c,
                                                self._Wn, self._gsum)
        self._stale(effective=False)

    def _stale(self, effective: bool) -> None:
        """Forget what is derived from the effective weights; ``effective``: they are stale
        too (else just computed)."""
        self._gsum_col = None
        self._A2 = None
        self._irdrop = None
        self._WnT = None
        self._diag = None
        self._dirty = effective

    def _read_states(self):
        """The states a read sees: the stored ones, plus each device's write noise offset."""
        if self._full and self.device.write_noise > 0:
            wm = self.wm + self._wnm if self._differential else self.wm
            return self.wp + self._wnp, wm
        return self.wp, self.wm

    def _write_noise(self, touched_p, touched_m) -> None:
        """A new write-noise offset for every device just written (aihwkit write_noise_std:
        std write_noise·s around the stored state, drawn anew at each write)."""
        dv = self.device
        sd = np.float32(dv.write_noise / dv.states)
        for off, mask in ((self._wnp, touched_p), (self._wnm, touched_m)):
            if mask is None:
                continue
            k = int(np.count_nonzero(mask))
            if k:
                off[mask] = sd * self._rng.standard_normal(k).astype(np.float32)

    def _noise_factor(self) -> float:
        return math.sqrt(2.0) if self._differential else 2.0

    def _prop_A2(self) -> np.ndarray:
        if self._A2 is None:
            c = np.float32(self._c)
            wp, wm = self._read_states()
            if self._differential:
                self._A2 = (c + wp) ** 2 + (c + wm) ** 2
            else:
                self._A2 = 4.0 * (c + wp) ** 2
            self._A2 = self._A2.astype(np.float32)
        return self._A2

    # ---- reads --------------------------------------------------------------------------
    def _read(self, x: np.ndarray, transposed: bool, what: str, split: bool = False) -> np.ndarray:
        self._refresh()
        pe, dv = self.periphery, self.device
        B = x.shape[0]
        if transposed:
            in_edges, n_in, n_out = self.col_edges, self.out_features, self.in_features
            if self._gsum_col is None:
                s = self.wp.sum(axis=0, dtype=np.float64)
                if self._differential:
                    s = s + self.wm.sum(axis=0, dtype=np.float64) + 2 * self.in_features * self._c
                else:
                    s = s + self.in_features * self._c
                self._gsum_col = s.astype(np.float32)
            gsum = self._gsum_col
            n_out_tiles = len(self.row_edges) - 1
        else:
            in_edges, n_in, n_out = self.row_edges, self.in_features, self.out_features
            gsum = self._gsum
            n_out_tiles = len(self.col_edges) - 1
        nt = len(in_edges) - 1
        sigma = self.sigma
        noisy = sigma > 0
        proportional = noisy and dv.read_noise_model == "proportional"
        nf = np.float32(sigma * self._noise_factor())
        half = self._adc_half
        steps = self._adc_steps[transposed]
        key = new_key(self._rng)
        row_e = np.empty(B, dtype=np.float64)
        abs_max = pe.input_scaling == "abs-max"
        Y = np.empty((B, nt, n_out) if split else (B, n_out), dtype=np.float32)
        if n_out <= _NARROW and not proportional and pe.wire_resistance == 0:
            # few output lines: the whole read in one pass over the input
            if (split and not transposed and n_in >= K.STACK_INPUTS_FROM
                    and K.is_stack(in_edges, n_out)):
                # a large stack of square blocks read apart: along its diagonals
                scale, clipped, sat, bad = kernel_for(K.read_stack, B * n_in)(
                        x, self._stack_diagonals(), self._dac_levels, abs_max, pe.in_bound,
                        in_edges, gsum, nf, noisy, steps, half, key, Y, row_e, self.w_max)
            else:
                M = self._Wn if transposed else self._narrow_matrix()
                scale, clipped, sat, bad = kernel_for(K.read_narrow, B * n_in)(
                        x, M, self._dac_levels, abs_max, pe.in_bound, in_edges, gsum, nf,
                        noisy, steps, half, key,
                        Y if split else Y[:, None, :], split, row_e, self.w_max)
            if bad:
                raise NonFiniteInputError(f"{self.name}: {what} contains NaN or infinity")
        elif (cut := self._rows_cut(B, in_edges, n_out, proportional)) is not None:
            clipped, bad, sat = self._read_in_halves(x, cut, transposed, in_edges, gsum, n_out,
                                                     steps, nf, noisy, split, Y, key, row_e)
            if bad:
                raise NonFiniteInputError(f"{self.name}: {what} contains NaN or infinity")
        else:
            q = self._scratch(x.shape, "q")
            n2 = np.empty((B, nt), dtype=np.float32)
            scale, clipped, bad = kernel_for(K.dac_quantize, B * n_in)(
                x, self._dac_levels, abs_max, pe.in_bound, in_edges, gsum, q, n2, row_e)
            if bad:
                raise NonFiniteInputError(f"{self.name}: {what} contains NaN or infinity")
            sat = self._convert(q, n2, transposed, in_edges, n_out, steps, nf, noisy,
                                proportional, split, Y, key, scale * np.float32(self.w_max))
        macs = B * self.in_features * self.out_features
        e_cell = dv.v_read ** 2 * dv.t_read * dv.g_range * float(row_e.sum())
        counts = dict(macs=macs, dac_conversions=B * n_in * n_out_tiles, dac_clipped=int(clipped),
                      adc_conversions=B * n_out * nt, adc_saturated=int(sat),
                      cell_read_energy_j=e_cell)
        if transposed:
            counts["transposed_vectors"] = B
        else:
            counts["mvm_vectors"] = B
        self.ledger.add(self.name, **counts)
        return Y

    def _rows_cut(self, B: int, in_edges: np.ndarray, n_out: int, proportional: bool):
        """Where a large read is cut in two halves of rows (`crossbar.products.row_cut`, a
        multiple of the row chunk, from the smallest tile's product), or None: a read whose
        tiles go through `_convert` (small reads, IR drop, proportional noise, halves too
        small)."""
        nt = len(in_edges) - 1
        if (proportional or self.periphery.wire_resistance > 0
                or nt * B * n_out <= _BATCHED_LIMIT):
            return None
        return row_cut(B, int(min(np.diff(in_edges))) * n_out, align=ROWS_PER_CHUNK)

    def _read_in_halves(self, x, cut, transposed, in_edges, gsum, n_out, steps, nf, noisy,
                        split, Y, key, row_e):
        """A large read in two halves of rows at ``cut``, each on one of the kernels' threads
        from its inputs to its outputs: its rows through the DAC, then tile after tile its
        product (one BLAS thread) and conversion, while the sums are in cache. One hand-off
        per read, and neither thread waits for the other between tiles. The same numbers as
        the DAC, the tile products and `adc_tiles` apart: every row's DAC, sums and noise
        streams are its own. Returns (clipped inputs, rows with NaN/inf, saturated
        conversions)."""
        pe = self.periphery
        B = x.shape[0]
        nt = len(in_edges) - 1
        q = self._scratch(x.shape, "q")
        P = self._scratch((B, n_out), "P")
        n2 = np.empty((B, nt), dtype=np.float32)
        scale = np.empty(B, dtype=np.float32)
        rowscale = np.empty(B, dtype=np.float32)
        sd = np.empty((nt, B, 1), dtype=np.float32) if noisy else \
            np.zeros((nt, 1, 1), dtype=np.float32)
        w_max = np.float32(self.w_max)
        abs_max = pe.input_scaling == "abs-max"
        Wn = self._Wn
        tiles = [Wn[:, a:b].T if transposed else Wn[a:b]
                 for a, b in zip(in_edges[:-1], in_edges[1:])]
        outs = [Y[:, t:t + 1, :] if split else Y[:, None, :] for t in range(nt)]
        chunk_edges = (0, cut // ROWS_PER_CHUNK, chunks(B))

        def half(h0: int, h1: int) -> tuple:
            clipped = bad = sat = 0
            for h in range(h0, h1):
                c0, c1 = chunk_edges[h], chunk_edges[h + 1]
                r0, r1 = c0 * ROWS_PER_CHUNK, min(B, c1 * ROWS_PER_CHUNK)
                cl, bd = dac_chunks(c0, c1, x, self._dac_levels, abs_max, pe.in_bound, in_edges,
                                    gsum, q, n2, row_e, scale)
                clipped += cl
                bad += bd
                if bd:   # the caller raises: no products of NaN
                    continue
                np.multiply(scale[r0:r1], w_max, out=rowscale[r0:r1])
                if noisy:
                    np.multiply(nf, np.sqrt(n2[r0:r1].T), out=sd[:, r0:r1, 0])
                for t in range(nt):
                    a, b = in_edges[t], in_edges[t + 1]
                    np.matmul(q[r0:r1, a:b], tiles[t], out=P[r0:r1])
                    sat += adc_chunks(c0, c1, P[None], sd[t:t + 1], noisy, steps[t:t + 1],
                                      self._adc_half, outs[t], split, key, t * B, t == 0,
                                      rowscale, split or t == nt - 1)
            return clipped, bad, sat

        with one_blas_thread():
            runs = run_spans(half, 2, None)
        return tuple(sum(r[k] for r in runs) for k in range(3))

    def _narrow_matrix(self) -> np.ndarray:
        """Wnᵀ (out, in), contiguous: row j holds the weights feeding output line j."""
        if self._WnT is None:
            self._WnT = np.ascontiguousarray(self._Wn.T)
        return self._WnT

    def _stack_diagonals(self) -> np.ndarray:
        """The diagonals of Wnᵀ read as a stack of square blocks (`kernels.diagonals`)."""
        if self._diag is None:
            self._diag = K.diagonals(self._narrow_matrix())
        return self._diag

    def _scratch(self, shape: tuple, slot: str) -> np.ndarray:
        """A float32 work array reused across reads (one per ``slot``): a fresh multi-MB array
        per call costs page faults every time."""
        buf = self._scratch_bufs.get(slot)
        size = math.prod(shape)
        if buf is None or buf.size < size:
            buf = self._scratch_bufs[slot] = np.empty(size, dtype=np.float32)
        return buf[:size].reshape(shape)

    def _convert(self, q, n2, transposed, in_edges, n_out, steps, nf, noisy, proportional,
                 split, Y, key, rowscale) -> int:
        """Column sums of each input tile, read noise and the ADC into Y, scaled per row by
        ``rowscale`` (weight units); returns the saturated conversions."""
        pe = self.periphery
        B = q.shape[0]
        nt = len(in_edges) - 1
        sigma = self.sigma
        half = self._adc_half
        Wn = self._Wn
        if proportional:
            A2 = self._prop_A2()
            q2 = q * q

        def tile_sums(t, out):
            a, b = in_edges[t], in_edges[t + 1]
            if pe.wire_resistance > 0:
                out[...] = (self._tile_sums_transposed(q, a, b) if transposed
                            else self._tile_sums(q, a, b))
            elif transposed:
                matmul(q[:, a:b], Wn[:, a:b].T, out=out)
            else:
                matmul(q[:, a:b], Wn[a:b], out=out)

        def tile_sd(t):
            if proportional:
                a, b = in_edges[t], in_edges[t + 1]
                var = matmul(q2[:, a:b], A2[:, a:b].T if transposed else A2[a:b])
                return (np.float32(sigma) * np.sqrt(var)).astype(np.float32)
            if noisy:
                return (nf * np.sqrt(n2[:, t]))[:, None]
            return np.zeros((1, 1), dtype=np.float32)

        work = nt * B * n_out
        if work <= _BATCHED_LIMIT:
            # small: every tile's sums in one array and one kernel call (no per-tile dispatch)
            P3 = self._scratch((nt, B, n_out), "P")
            for t in range(nt):
                tile_sums(t, P3[t])
            if proportional:
                sd3 = np.stack([tile_sd(t) for t in range(nt)])
            elif noisy:
                sd3 = np.ascontiguousarray((nf * np.sqrt(n2)).T)[:, :, None]
            else:
                sd3 = np.zeros((1, 1, 1), dtype=np.float32)
            return kernel_for(K.adc_tiles, work)(P3, sd3, noisy, steps, half,
                                                 Y if split else Y[:, None, :], split, key, 0, True,
                                                 rowscale, True)
        # large (IR drop, proportional noise, or halves too small for `_read_in_halves`):
        # tile by tile, so that one tile's sums at a time are in memory
        sat = 0
        P = self._scratch((B, n_out), "P")
        for t in range(nt):
            out = Y[:, t:t + 1, :] if split else Y[:, None, :]
            tile_sums(t, P)
            sat += K.adc_tiles(P[None], tile_sd(t)[None], noisy, steps[t:t + 1], half, out,
                               split, key, t * B, t == 0, rowscale, split or t == nt - 1)
        return sat

    def _tile_solvers(self, a: int, b: int, c0: int, c1: int):
        """IR-drop solvers (G⁺, G⁻ or reference) of the tile rows [a, b) × cols [c0, c1),
        built once per conductance state."""
        from .irdrop import IRDropSolver

        pe, dv = self.periphery, self.device
        if self._irdrop is None:
            self._irdrop = {}
        key = (a, c0)
        if key not in self._irdrop:
            gp = dv.g_min + self.wp[a:b, c0:c1].astype(np.float64) * dv.g_range
            if self._differential:
                gm = dv.g_min + self.wm[a:b, c0:c1].astype(np.float64) * dv.g_range
            else:
                gm = np.full_like(gp, 0.5 * (dv.g_min + dv.g_max))
            self._irdrop[key] = tuple(IRDropSolver(g, pe.wire_resistance, pe.access_resistance)
                                      for g in (gp, gm))
        return self._irdrop[key]

    def _current_per_unit_weight(self) -> float:
        """Current (A) of a full-scale input on one cell pair at normalised weight 1."""
        dv = self.device
        return dv.v_read * dv.g_range / (1.0 if self._differential else 2.0)

    def _tile_sums(self, q: np.ndarray, a: int, b: int) -> np.ndarray:
        """Column sums of row tile [a, b) through the IR-drop solver (normalised units)."""
        dv = self.device
        out = np.empty((q.shape[0], self.out_features), dtype=np.float32)
        v = q[:, a:b].astype(np.float64) * dv.v_read
        scale = self._current_per_unit_weight()
        for c0, c1 in zip(self.col_edges[:-1], self.col_edges[1:]):
            sol_p, sol_m = self._tile_solvers(a, b, c0, c1)
            out[:, c0:c1] = (sol_p.solve(v) - sol_m.solve(v)) / scale
        return out

    def _tile_sums_transposed(self, q: np.ndarray, c0: int, c1: int) -> np.ndarray:
        """Row sums of column tile [c0, c1) driven from the column ends, with IR drop.

        The transposed read uses the same physical ports (column sense nodes driven, row
        driver nodes held at virtual ground), so by reciprocity of the linear network its
        effective conductance is the transpose of the forward one: I_rows = u @ G_effᵀ."""
        dv = self.device
        out = np.empty((q.shape[0], self.in_features), dtype=np.float32)
        u = q[:, c0:c1].astype(np.float64) * dv.v_read
        scale = self._current_per_unit_weight()
        for a, b in zip(self.row_edges[:-1], self.row_edges[1:]):
            sol_p, sol_m = self._tile_solvers(a, b, c0, c1)
            g_eff = sol_p.effective_conductance() - sol_m.effective_conductance()
            out[:, a:b] = (u @ g_eff.T) / scale
        return out

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Analog read ``(B, in) -> (B, out)`` through DAC, tiles, noise and ADC."""
        return self._read(self._check(x, self.in_features, "input", finite=False),
                          transposed=False, what="input")

    def forward_tiles(self, x: np.ndarray) -> np.ndarray:
        """Forward read keeping each row tile's converted output apart: ``(B, n_row_tiles, out)``.

        Used for stacks of independent small arrays (block-diagonal lateral weights) that share
        columns but have their own ADC conversion per tile."""
        return self._read(self._check(x, self.in_features, "input", finite=False),
                          transposed=False, what="input", split=True)

    def transposed(self, d: np.ndarray) -> np.ndarray:
        """Transposed read ``(B, out) -> (B, in)``: drivers on the columns, ADCs on the rows."""
        return self._read(self._check(d, self.out_features, "transposed input", finite=False),
                          transposed=True, what="transposed input")

    # ---- writes -------------------------------------------------------------------------
    def _devices(self) -> K.Devices:
        """The device arrays as the pulse kernels take them (the arrays, not copies)."""
        return K.Devices(self.wp, self.wm, self.d2dp, self.d2dm, self._has_d2d,
                         self._differential, self._full, self._lawp, self._lawm, self._touchp,
                         self._touchm)

    def _wear(self) -> K.Wear:
        """Stuck devices, endurance counts and programming times, as the pulse kernels take
        them."""
        return K.Wear(self.stuckp, self.stuckm, self.countp, self.countm, self.tprogp,
                      self.tprogm, self._drift, float(self.time))

    def _pulses_per_weight(self) -> float:
        # one nominal pulse moves W by w_max/states (differential) or 2 w_max/states (reference)
        return self.device.states / (self.w_max * (1.0 if self._differential else 2.0))

    def update(self, x: np.ndarray, d: np.ndarray, lr: float) -> None:
        """Apply ``W += lr · dᵀx`` as device pulses (scheme: ``periphery.update``)."""
        x, d = self._check_update(x, d, lr)
        pe = self.periphery
        k = np.float32(lr * self._pulses_per_weight())
        R, C = self.in_features, self.out_features
        dummy = np.zeros((1, 1), dtype=np.float32)
        if pe.update == "deterministic":
            mode, A, V = K.DETERMINISTIC, matmul(x.T, d), dummy
            A *= k
        elif pe.update == "mixed":
            if self._chi is None:
                self._chi = np.zeros((R, C), dtype=np.float32)
            self._chi += k * matmul(x.T, d)
            mode, A, V = K.MIXED, self._chi, dummy
            # the accumulator is digital: one add and a read+write of a 16-bit word per weight
            self.ledger.add(self.name, dig_add=R * C, sram_read_bits=16 * R * C,
                            sram_write_bits=16 * R * C)
        else:
            # Gokmen-Vlasov coincidence (`coincidence`): one window of bl slots per sample
            mo = coincidence_moments(x, d, k, pe.bl)
            if mo is None:
                self.ledger.add(self.name, update_calls=1)
                return
            self.ledger.add(self.name, **mo.ledger_counts())
            self._refuse_nan(mo.mean)
            self._fire(K.STOCHASTIC, mo.mean, mo.var, cap=mo.windows * pe.max_pulses)
            return
        self._refuse_nan(A)
        self._fire(mode, A, V)

    def apply_delta(self, dW: np.ndarray) -> None:
        """Apply an arbitrary weight change ``dW`` (out, in) as pulses (n = dW/Δw_min per
        device, stochastically rounded; ``mixed`` accumulates digitally first). Used by digital
        optimisers (Adam) whose steps are not outer products: with no row and column bit
        streams to coincide, the ``stochastic`` scheme fires the same counts as
        ``deterministic`` here (runs refuse that pair: `analogff.experiment.hyperparameters`)."""
        # a NaN would reach the pulse kernel as a pulse count (seconds per device, then ~-0.5)
        dW = self._check_weights(dW, "apply_delta", "change")
        A = scaled_transpose(dW, np.float32(self._pulses_per_weight()))  # (in, out), C order
        if self.periphery.update == "mixed":
            if self._chi is None:
                self._chi = np.zeros_like(A)
            self._chi += A
            R, C = A.shape
            self.ledger.add(self.name, dig_add=R * C, sram_read_bits=16 * R * C,
                            sram_write_bits=16 * R * C)
            self._refuse_nan(self._chi)   # the accumulator may sum +inf and -inf
            self._fire(K.MIXED, self._chi, np.zeros((1, 1), dtype=np.float32))
        else:
            # A is a finite dW times a finite scale: never NaN (at worst ±inf, which the
            # kernel caps at max_pulses), so it is not scanned. (Reading dW column by column
            # in the kernel instead of forming A was tried: 2-3 ms slower per 2000 x 2000
            # update than the threaded transpose.)
            self._fire(K.DETERMINISTIC, A, np.zeros((1, 1), dtype=np.float32))

    def _refuse_nan(self, A: np.ndarray) -> None:
        """Finite inputs whose product or sum overflowed (inf - inf) would reach the kernel as
        NaN pulse counts: refuse them before any device moves."""
        if np.isnan(A).any():
            raise NonFiniteInputError(f"{self.name}: the requested weight change overflowed "
                                      "to NaN; the inputs or the learning rate are too large")

    def _fire(self, mode: int, A: np.ndarray, V: np.ndarray, cap: int | None = None) -> None:
        """Fire the pulse counts ``A`` (in, out) asks for (``V``: their variances in the
        stochastic scheme), at most ``cap`` per device (default ``max_pulses``: one window)."""
        pe = self.periphery
        cap = pe.max_pulses if cap is None else cap
        kernel = kernel_for(K.apply_update, self.wp.size, _SMALL_UPDATE)
        written = self._full and self.device.write_noise > 0
        up, dn, e, capped = kernel(mode, A, V, cap, self._devices(), self._wear(),
                                   self._params, new_key(self._rng),
                                   stuck_free=self._stuck_free,
                                   then=None if written else self._effective_rows)
        if written:
            tp = self._touchp.astype(bool)
            tm = self._touchm.astype(bool) if self._differential else None
            self._write_noise(tp, tm)
            # cleared only where they are read: without write noise the kernel's marks are
            # never looked at (clearing them cost two memsets of the array per update)
            self._touchp[...] = 0
            self._touchm[...] = 0
        self.ledger.add(self.name, update_calls=1, pulses_up=int(up.sum()),
                        pulses_down=int(dn.sum()), pulse_energy_j=float(e.sum()),
                        trains_capped=int(capped.sum()))
        # with write noise, the states a read sees are known only now: computed at the read
        self._stale(effective=written)

    def _effective_rows(self, c0: int, c1: int) -> None:
        """The effective weights and conductance sums of row chunks c0 … c1 - 1 from the
        stored states (`reads.effective`), on the thread that just updated them (`_fire`)."""
        K.effective_rows(c0, c1, self.wp, self.wm, self._differential, self._c, self._Wn,
                         self._gsum)

    def program(self, W: np.ndarray, record: bool = True) -> None:
        """Program weights ``W`` (out, in) open-loop, with the device's programming noise."""
        W = self._check_weights(W, "program", "weight matrix")
        dv = self.device
        Wt = np.clip(W.T / np.float32(self.w_max), -1, 1)
        if not self._differential:
            targets = [(self.wp, 0.5 + 0.5 * Wt, self.stuckp, self._stuck_val_p)]
        elif dv.policy == "potentiate-only":
            targets = [(self.wp, np.maximum(Wt, 0), self.stuckp, self._stuck_val_p),
                       (self.wm, np.maximum(-Wt, 0), self.stuckm, self._stuck_val_m)]
        else:
            targets = [(self.wp, 0.5 + 0.5 * Wt, self.stuckp, self._stuck_val_p),
                       (self.wm, 0.5 - 0.5 * Wt, self.stuckm, self._stuck_val_m)]
        laws = [self._lawp, self._lawm]
        for arr, tgt, mask, val in targets:
            if dv.prog_noise > 0:
                tgt = tgt + dv.prog_noise * self._rng.standard_normal(tgt.shape).astype(np.float32)
            # stuck devices (faults from the start, or worn out by endurance) keep their state
            keep = mask.astype(bool) if mask.any() else None
            old = arr[keep] if keep is not None else None
            law = laws.pop(0)
            if self._full:  # each device's own hard bounds
                np.clip(tgt, law[K.L_LO], law[K.L_HI], out=arr)
            else:
                np.clip(tgt, 0, 1, out=arr)
            if keep is not None:
                arr[keep] = old
        if self._full and dv.write_noise > 0:  # programming is a write too
            self._write_noise(np.ones(self.wp.shape, dtype=bool),
                              np.ones(self.wm.shape, dtype=bool) if self._differential else None)
        if self._drift:
            self.tprogp[...] = self.time
            self.tprogm[...] = self.time
        if self._chi is not None:
            self._chi[...] = 0
        if record:
            n_dev = self.wp.size + (self.wm.size if self._differential else 0)
            self.ledger.add(self.name, programmed_devices=n_dev)
        self._dirty = True

    # ---- state --------------------------------------------------------------------------
    def weights(self) -> np.ndarray:
        """Effective weights ``(out, in)`` implied by the current conductances."""
        self._refresh()
        return (self._Wn * np.float32(self.w_max)).T.copy()

    def conductances(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(G⁺, G⁻) in siemens as a read sees them (with write noise: stored state plus the
        last write's offset), shape (in, out) = (array rows, array columns); G⁻ is None for
        the reference mapping."""
        dv = self.device
        wp, wm = self._read_states()
        gp = dv.g_min + wp.astype(np.float64) * dv.g_range
        gm = dv.g_min + wm.astype(np.float64) * dv.g_range if self._differential else None
        return gp, gm

    def advance_time(self, dt: float) -> None:
        """Advance the simulated clock by ``dt`` seconds (drift acts if the device drifts)."""
        dt = check_dt(dt)
        if self._drift and dt > 0:
            pairs = [(self.wp, self.nup, self.tprogp, self.stuckp)]
            if self._differential:
                pairs.append((self.wm, self.num, self.tprogm, self.stuckm))
            for w, nu, tprog, stuck in pairs:
                keep = stuck.astype(bool) if stuck.any() else None
                old = w[keep] if keep is not None else None
                K.drift(w, nu, tprog, self.time, dt, self.device.drift_t0, self._c)
                if keep is not None:  # stuck devices do not drift either
                    w[keep] = old
            self._dirty = True
        self.time += float(dt)
