"""Price ledgers in energy, latency and area; estimate networks without training; digital baseline.

* `price_ledger(ledger, hw)` prices every (phase, matrix) entry of a ledger dict
  (docs/CONTRACTS.md) with the component models of `reports.components`.
* `price_digital(ledger, node_nm, precision)` prices the same work (the ledger's MACs and
  digital periphery) on a digital accelerator at the same node.
* `estimate(hw, network, algo)` builds the ledger of one training sample and one inference
  for PFF / FF / BP from operation counts alone (no training) and prices it.

Energy components (keys of ``by_component_j``, always all present, in this order):
``dac, array, adc, integrator, shift_add, accumulate, digital_logic, buffers_sram, dram,
write_pulses, write_drivers, verify, leakage``.

``total_j == math.fsum(by_component_j.values())`` exactly; the per-phase and per-matrix
breakdowns sum to the same total up to float rounding (relative 1e-12).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from . import technology as T
from .components import Costs, digital_op_energies
from .hardware import Hardware

MODEL = "analogff-energy/1"
COMPONENTS = ("dac", "array", "adc", "integrator", "shift_add", "accumulate", "digital_logic",
              "buffers_sram", "dram", "write_pulses", "write_drivers", "verify", "leakage")
DIGITAL_COMPONENTS = ("mac", "operand_fetch", "buffers_sram", "dram_weights", "weight_update",
                      "digital_logic", "dram", "leakage")
DIG_COUNTERS = ("dig_mac", "dig_add", "dig_cmp", "dig_nonlin", "rng_draws")
ALGOS = ("pff", "ff", "bp")
_DIGITAL = "digital"


def _g(e: dict, k: str) -> float:
    v = e.get(k, 0)
    return float(v) if v else 0.0


def _geometry(info: dict, hw: Hardware) -> tuple[int, int, int, int, int, int]:
    rows, cols = int(info["rows"]), int(info["cols"])
    tr = int(info.get("tile_rows") or hw.tile_rows)
    tc = int(info.get("tile_cols") or hw.tile_cols)
    return rows, cols, tr, tc, math.ceil(rows / tr), math.ceil(cols / tc)


def _conversions(rows: int, cols: int, n_rt: int, n_ct: int, mv: float, tv: float
                 ) -> tuple[float, float, float, float]:
    """(forward DAC, transposed DAC, forward ADC, transposed ADC) conversions of ``mv`` forward
    and ``tv`` transposed vectors through a ``rows x cols`` matrix of ``n_rt x n_ct`` tiles."""
    return mv * rows * n_ct, tv * cols * n_rt, mv * cols * n_rt, tv * rows * n_ct


def analog_counts(rows: int, cols: int, tr: int, tc: int, mv: float, tv: float,
                  costs: Costs) -> dict[str, float]:
    """DAC/ADC conversions and cell read energy of ``mv`` forward and ``tv`` transposed vectors
    through a ``rows x cols`` matrix tiled ``tr x tc``, counted as `AnalogMatrix` counts them
    (per tile), with a synthetic array term (mean conductance x input activity)."""
    dac_f, dac_t, adc_f, adc_t = _conversions(rows, cols, math.ceil(rows / tr),
                                              math.ceil(cols / tc), mv, tv)
    cells = rows * cols * 2  # differential pair
    return {"dac_conversions": dac_f + dac_t,
            "adc_conversions": adc_f + adc_t,
            "cell_read_energy_j": (mv + tv) * cells * costs.e_cell_read()}


def _n_weights(info: dict) -> int:
    """Stored weights of a matrix (block-diagonal lateral matrices store rows x group)."""
    R, C = int(info["rows"]), int(info["cols"])
    g = info.get("lateral_group")
    return R * int(g) if g else R * C


def _zero() -> dict[str, float]:
    return dict.fromkeys(COMPONENTS, 0.0)


def _price_entry(e: dict, name: str, info: dict | None, hw: Hardware, c: Costs
                 ) -> tuple[dict[str, float], float, float, dict[str, float]]:
    """Energy by component [J], array time [s], serial (digital/memory) time [s] and
    effective counts of one ledger entry."""
    parts = _zero()
    t = 0.0
    ta = 0.0
    cnt = {"adc_conversions": 0.0, "dac_conversions": 0.0, "pulses": 0.0}
    lanes_hz = hw.clock_hz * hw.digital_lanes
    dop = c.digital_op
    n_dig = 0.0
    for k in DIG_COUNTERS:
        v = _g(e, k)
        parts["digital_logic"] += v * dop[k]
        n_dig += v
    t += n_dig / lanes_hz
    sb = _g(e, "sram_read_bits") + _g(e, "sram_write_bits")
    parts["buffers_sram"] += sb * c.e_sram_bit()
    t += c.t_sram_bits(sb)
    db = _g(e, "dram_read_bits") + _g(e, "dram_write_bits")
    parts["dram"] += db * c.e_dram_bit()
    t += c.t_dram_bits(db)
    if info is None or name == _DIGITAL or "rows" not in info:
        return parts, 0.0, t, cnt

    rows, cols, tr, tc, n_rt, n_ct = _geometry(info, hw)
    n_tiles = int(info.get("n_tiles") or n_rt * n_ct)
    mv, tv = _g(e, "mvm_vectors"), _g(e, "transposed_vectors")
    if info.get("analog", False):
        dac, adc, cell_e = _g(e, "dac_conversions"), _g(e, "adc_conversions"), \
            _g(e, "cell_read_energy_j")
    else:  # ideal twin: what these reads would cost on this hardware
        a = analog_counts(rows, cols, tr, tc, mv, tv, c)
        dac, adc, cell_e = a["dac_conversions"], a["adc_conversions"], a["cell_read_energy_j"]
    # split conversions into forward and transposed shares
    dac_f_nom, dac_t_nom, adc_f_nom, adc_t_nom = _conversions(rows, cols, n_rt, n_ct, mv, tv)
    sf_dac = dac_f_nom / (dac_f_nom + dac_t_nom) if dac_f_nom + dac_t_nom > 0 else 1.0
    sf_adc = adc_f_nom / (adc_f_nom + adc_t_nom) if adc_f_nom + adc_t_nom > 0 else 1.0
    dac_f, dac_t = dac * sf_dac, dac * (1 - sf_dac)
    adc_f, adc_t = adc * sf_adc, adc * (1 - sf_adc)
    cell_f, cell_t = cell_e * sf_dac, cell_e * (1 - sf_dac)
    if tv > 0 and hw.transposed_readout == "none":
        # no transposed periphery: the product is computed digitally from a weight copy in SRAM
        macs_t = tv * rows * cols
        parts["digital_logic"] += macs_t * (dop["dig_mac"] + hw.weight_bits * c.e_sram_bit())
        t += macs_t / lanes_hz
        dac_t = adc_t = cell_t = 0.0
        tv = 0.0
    dpw = c.devices_per_weight()
    rows_t, cols_t = min(rows, tr), min(cols, tc)
    ra = hw.rows_active
    grp_f = math.ceil(rows_t / ra) if ra else 1
    grp_t = math.ceil(cols_t / ra) if ra else 1
    ns, nw = c.n_in_slices, c.n_weight_slices
    # a transposed input drives the dpw column lines of its weight (rows_t cells each)
    parts["dac"] += dac_f * c.e_dac(cols_t * dpw) + dac_t * c.e_dac(rows_t * dpw)
    e_array = (cell_f + cell_t) * nw * c.array_input_factor()
    parts["array"] += e_array
    adc_f_eff, adc_t_eff = adc_f * ns * nw * grp_f, adc_t * ns * nw * grp_t
    parts["adc"] += (adc_f_eff * c.e_adc(hw.adc_bits) + adc_t_eff * c.e_adc(hw.transposed_adc_bits)
                     + e_array * c.cco_supply_factor())
    parts["integrator"] += (adc_f_eff + adc_t_eff) * c.e_integrator()
    parts["shift_add"] += (adc_f_eff + adc_t_eff) * c.e_shift_add()
    outputs = mv * cols + tv * rows
    partial_adds = max(0.0, adc_f + adc_t - outputs)
    parts["accumulate"] += partial_adds * c.e_accumulate_add() + outputs * c.e_rescale()
    io_bits = (mv * rows + tv * cols) * hw.dac_bits + outputs * hw.dac_bits
    parts["buffers_sram"] += io_bits * c.e_io_bit()
    ta += c.t_sram_bits(io_bits)
    cnt["adc_conversions"] += adc_f_eff + adc_t_eff
    cnt["dac_conversions"] += dac_f + dac_t
    # read latency: all tiles of a matrix work in parallel, vectors one after another
    t_vec_f = c.t_dac() + ns * (c.read_window() + grp_f * min(hw.cols_per_adc, cols_t * nw)
                                * c.t_adc(hw.adc_bits)) + 1 / hw.clock_hz
    t_vec_t = c.t_dac() + ns * (c.read_window() + grp_t * min(hw.cols_per_adc, rows_t * nw)
                                * c.t_adc(hw.transposed_adc_bits)) + 1 / hw.clock_hz
    ta += mv * t_vec_f + tv * t_vec_t
    # writes
    pulses = _g(e, "pulses_up") + _g(e, "pulses_down")
    cnt["pulses"] += pulses
    pe = _g(e, "pulse_energy_j")
    if pulses > 0 and pe == 0.0:
        pe = pulses * c.e_pulse_device()
    parts["write_pulses"] += pe
    uc = _g(e, "update_calls")
    if uc > 0:
        # pulses spread evenly over the update calls and tiles of this entry
        per_tile = pulses / (uc * n_tiles)
        parts["write_drivers"] += uc * n_tiles * c.e_update_drivers(rows_t, cols_t, per_tile)
    iters = hw.verify_iterations
    if hw.program_verify and pulses > 0:
        e_p = pe / pulses
        parts["verify"] += pulses * ((iters - 1) * e_p + iters * c.e_verify_read(cols_t * dpw))
        ta += uc * rows_t * iters * c.t_verify_iteration()
    else:
        ta += uc * hw.update_slots * c.t_write
    pd = _g(e, "programmed_devices")
    if pd > 0:
        parts["verify"] += pd * iters * (c.e_pulse_device() + c.e_verify_read(cols_t * dpw))
        rows_serial = pd / max(n_tiles * cols_t * dpw, 1)
        ta += rows_serial * iters * c.t_verify_iteration()
    return parts, ta, t, cnt


def _transposed_matrices(ledger: dict) -> set[str]:
    return {e["matrix"] for e in ledger.get("entries", []) if _g(e, "transposed_vectors") > 0}


def area_breakdown(ledger: dict, hw: Hardware, costs: Costs | None = None,
                   per_matrix_periphery: dict[str, float] | None = None) -> dict[str, float]:
    """Chip area by component [mm²]: every matrix's tiles (with transposed periphery where that
    matrix is read transposed), the SRAM buffer and the digital periphery lanes.

    If ``per_matrix_periphery`` is a dict, it receives each matrix's periphery area [mm²]
    (everything but the cells), used for power-gated leakage."""
    c = costs or Costs(hw)
    tmats = _transposed_matrices(ledger)
    out = {"array": 0.0, "dac": 0.0, "adc": 0.0, "integrator": 0.0, "shift_add": 0.0,
           "write_drivers": 0.0, "transposed_periphery": 0.0, "sram": 0.0, "digital": 0.0}
    cache: dict[tuple, dict[str, float]] = {}
    for name, info in ledger.get("matrices", {}).items():
        if name == _DIGITAL or "rows" not in info:
            continue
        rows, cols, tr, tc, n_rt, n_ct = _geometry(info, hw)
        n_tiles = int(info.get("n_tiles") or n_rt * n_ct)
        mode = hw.transposed_readout if name in tmats else "none"
        key = (tr, tc, mode)
        if key not in cache:
            ci = c if (tr, tc) == (hw.tile_rows, hw.tile_cols) else \
                Costs(hw.replace(tile_rows=tr, tile_cols=tc,
                                 cols_per_adc=min(hw.cols_per_adc, tc)))
            cache[key] = ci.tile_area(mode)
        periph = 0.0
        for k, v in cache[key].items():
            out[k] += n_tiles * v * 1e-6
            if k != "array":
                periph += n_tiles * v * 1e-6
        if name in tmats and hw.transposed_readout == "none":
            a_copy = rows * cols * hw.weight_bits * T.sram_area_per_bit_um2(hw.node_nm) * 1e-6
            out["transposed_periphery"] += a_copy
            periph += a_copy
        if per_matrix_periphery is not None:
            per_matrix_periphery[name] = periph
    out["sram"] = c.a_sram() * 1e-6
    out["digital"] = hw.digital_lanes * T.mac_area_um2("int8", hw.node_nm) * 1e-6
    return out


def price_ledger(ledger: dict, hw: Hardware) -> dict[str, Any]:
    """Energy [J] by phase and component, latency [s] and area [mm²] of a ledger dict.

    Returns ``{"model", "hardware", "total_j", "by_phase_j", "by_component_j",
    "by_phase_component_j", "by_matrix_j", "latency_s", "latency_by_phase_s", "area_mm2",
    "area_breakdown_mm2", "counts"}``.
    """
    c = Costs(hw)
    mats = ledger.get("matrices", {}) or {}
    grid: dict[str, dict[str, float]] = {}
    lat_serial: dict[str, float] = defaultdict(float)
    lat_array: dict[tuple[str, str], float] = defaultdict(float)
    by_matrix: dict[str, float] = defaultdict(float)
    counts = {"adc_conversions": 0.0, "dac_conversions": 0.0, "pulses": 0.0, "macs": 0.0}
    for e in ledger.get("entries", []):
        phase, name = str(e.get("phase", "default")), str(e.get("matrix", _DIGITAL))
        parts, ta, ts, cnt = _price_entry(e, name, mats.get(name), hw, c)
        row = grid.setdefault(phase, _zero())
        for k, v in parts.items():
            row[k] += v
        lat_serial[phase] += ts
        lat_array[(phase, name)] += ta
        by_matrix[name] += math.fsum(parts.values())
        for k, v in cnt.items():
            counts[k] += v
        counts["macs"] += _g(e, "macs")
    # matrices sit on their own tiles and work concurrently (pipelined): a phase takes its
    # slowest matrix's array time plus the digital and memory time
    lat: dict[str, float] = {}
    for phase in grid:
        arr = [v for (p, _m), v in lat_array.items() if p == phase]
        lat[phase] = (max(arr) if arr else 0.0) + lat_serial[phase]
    mat_periph: dict[str, float] = {}
    area = area_breakdown(ledger, hw, c, mat_periph)
    always_on = area["sram"] + area["digital"]
    active: dict[str, set[str]] = defaultdict(set)
    for (p, m), _t in lat_array.items():
        active[p].add(m)
    for phase, row in grid.items():
        if hw.power_gating:  # idle tiles are power-gated: only this phase's matrices leak
            periph = always_on + sum(mat_periph.get(m, 0.0) for m in active[phase])
        else:
            periph = always_on + sum(mat_periph.values())
        row["leakage"] = hw.leakage_w_per_mm2 * periph * lat[phase]
        by_matrix["(leakage)"] += row["leakage"]
    by_component = {k: math.fsum(row[k] for row in grid.values()) for k in COMPONENTS}
    by_phase = {p: math.fsum(row.values()) for p, row in grid.items()}
    return {
        "model": MODEL,
        "hardware": hw.to_dict(),
        "total_j": math.fsum(by_component.values()),
        "by_phase_j": by_phase,
        "by_component_j": by_component,
        "by_phase_component_j": grid,
        "by_matrix_j": dict(by_matrix),
        "latency_s": math.fsum(lat.values()),
        "latency_by_phase_s": dict(lat),
        "area_mm2": math.fsum(area.values()),
        "area_breakdown_mm2": area,
        "counts": counts,
    }


# ---- digital baseline ------------------------------------------------------------------------
def price_digital(ledger: dict, node_nm: int, precision: str = "int8", *,
                  sram_kb: float = 1024.0, dram_type: str = "ddr", batch: int | None = None,
                  mac_units: int = 1024, clock_hz: float = 1e9,
                  leakage_w_per_mm2: float = 0.01) -> dict[str, Any]:
    """The ledger's work on a digital accelerator at ``node_nm`` with ``precision`` MACs.

    Model (energy-model.md 2.1/1.7): every MAC = mult + add at ``precision``, plus one weight
    operand fetch from a local 8 KB SRAM (Horowitz's realistic baseline); input vectors are
    read and outputs written once per vector in the ``sram_kb`` buffer; if all weights fit in
    ``sram_kb`` they are read from it once per ``batch`` vectors, otherwise streamed from DRAM
    once per ``batch`` vectors; each update rewrites every weight (read + write) in that
    memory and costs ``batch x rows x cols`` MACs when the ledger's MACs do not include it.
    The ledger's digital periphery counters and SRAM/DRAM bits are priced as on the analog
    chip. Latency: MACs over ``mac_units`` per clock plus memory time.

    ``batch=None`` infers the reuse per matrix from the ledger: the vectors read between two
    updates of that matrix (weights change at every update, so they are fetched once per
    update interval), or 1 for matrices that are never updated (an inference ledger).
    """
    if precision not in T.PRECISION_BITS:
        raise ValueError(f"precision = {precision!r} is unknown; allowed: int8, fp16, fp32")
    bits = T.PRECISION_BITS[precision]
    e_mac = T.mac_energy(precision, node_nm)
    e_local = T.sram_energy_per_bit(8 * 1024, node_nm)
    e_buf = T.sram_energy_per_bit(sram_kb * 1024, node_nm)
    e_dram = T.dram_energy_per_bit(dram_type)
    dop = digital_op_energies(node_nm)
    mats = ledger.get("matrices", {}) or {}
    w_bits = sum(_n_weights(i) * bits for n, i in mats.items() if n != _DIGITAL and "rows" in i)
    fits = w_bits <= sram_kb * 1024 * 8
    e_w = e_buf if fits else e_dram
    reuse: dict[str, float] = {}
    if batch is None:
        vec: dict[str, float] = defaultdict(float)
        upd: dict[str, float] = defaultdict(float)
        for e in ledger.get("entries", []):
            m = str(e.get("matrix", _DIGITAL))
            vec[m] += _g(e, "mvm_vectors") + _g(e, "transposed_vectors")
            upd[m] += _g(e, "update_calls")
        reuse = {m: max(1.0, vec[m] / upd[m]) if upd[m] > 0 else 1.0 for m in vec}
    grid: dict[str, dict[str, float]] = {}
    lat: dict[str, float] = defaultdict(float)
    total_macs = 0.0
    for e in ledger.get("entries", []):
        phase, name = str(e.get("phase", "default")), str(e.get("matrix", _DIGITAL))
        row = grid.setdefault(phase, dict.fromkeys(DIGITAL_COMPONENTS, 0.0))
        t = 0.0
        for k in DIG_COUNTERS:
            row["digital_logic"] += _g(e, k) * dop[k]
        t += sum(_g(e, k) for k in DIG_COUNTERS) / (mac_units * clock_hz)
        sb = _g(e, "sram_read_bits") + _g(e, "sram_write_bits")
        db = _g(e, "dram_read_bits") + _g(e, "dram_write_bits")
        row["buffers_sram"] += sb * e_buf
        row["dram"] += db * e_dram
        t += sb / (256 * clock_hz) + db / T.DRAM_BITS_PER_S[dram_type]
        info = mats.get(name)
        if info is not None and name != _DIGITAL and "rows" in info:
            R, C = int(info["rows"]), int(info["cols"])
            W = _n_weights(info)
            bt = float(batch) if batch is not None else reuse.get(name, 1.0)
            mv, tv, uc = _g(e, "mvm_vectors"), _g(e, "transposed_vectors"), _g(e, "update_calls")
            read_macs = (mv + tv) * W
            macs = max(_g(e, "macs"), read_macs)
            if uc > 0 and _g(e, "macs") <= read_macs:
                macs += uc * bt * W
            total_macs += macs
            row["mac"] += macs * e_mac
            row["operand_fetch"] += macs * bits * e_local
            io = ((mv * R + tv * C) + (mv * C + tv * R)) * bits
            row["buffers_sram"] += io * e_buf
            wtraffic = (mv + tv) / bt * W * bits
            row["buffers_sram" if fits else "dram_weights"] += wtraffic * e_w
            row["weight_update"] += uc * 2 * W * bits * e_w
            t += macs / (mac_units * clock_hz) + io / (256 * clock_hz)
            wt = wtraffic + uc * 2 * W * bits
            t += wt / (256 * clock_hz) if fits else wt / T.DRAM_BITS_PER_S[dram_type]
        lat[phase] += t
    area_mm2 = (mac_units * T.mac_area_um2(precision, node_nm)
                + sram_kb * 1024 * 8 * T.sram_area_per_bit_um2(node_nm)) * 1e-6
    p_leak = leakage_w_per_mm2 * area_mm2
    for p, row in grid.items():
        row["leakage"] = p_leak * lat[p]
    by_component = {k: math.fsum(r[k] for r in grid.values()) for k in DIGITAL_COMPONENTS}
    return {
        "model": MODEL + "/digital",
        "precision": precision, "node_nm": node_nm, "sram_kb": sram_kb,
        "weights_fit_on_chip": fits,
        "total_j": math.fsum(by_component.values()),
        "by_phase_j": {p: math.fsum(r.values()) for p, r in grid.items()},
        "by_component_j": by_component,
        "by_phase_component_j": grid,
        "latency_s": math.fsum(lat.values()),
        "latency_by_phase_s": dict(lat),
        "area_mm2": area_mm2,
        "macs": total_macs,
    }


# ---- synthetic ledgers -------------------------------------------------------------------
class _Synth:
    """Builds a ledger dict from operation counts (same layout as `crossbar.Ledger.to_dict`)."""

    def __init__(self, hw: Hardware, costs: Costs, pulse_density: float) -> None:
        self.hw, self.c, self.density = hw, costs, pulse_density
        self.matrices: dict[str, dict] = {}
        self._e: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self._lateral: set[str] = set()

    def mat(self, name: str, rows: int, cols: int, lateral_group: int = 0) -> None:
        hw = self.hw
        info = {"analog": True, "rows": rows, "cols": cols, "tile_rows": hw.tile_rows,
                "tile_cols": hw.tile_cols, "dac_bits": hw.dac_bits,
                "adc_bits": hw.adc_bits, "device": hw.device, "v_read": self.c.v_read,
                "t_read": self.c.t_read, "g_min": self.c.dev.g_min, "g_max": self.c.dev.g_max,
                "mapping": "differential", "synthetic": True}
        if lateral_group:
            # block-diagonal groups stored in the diagonal tiles only
            side = min(hw.tile_rows, hw.tile_cols)
            info["n_tiles"] = math.ceil(rows / side)
            info["lateral_group"] = lateral_group
            self._lateral.add(name)
        else:
            info["n_tiles"] = math.ceil(rows / hw.tile_rows) * math.ceil(cols / hw.tile_cols)
        self.matrices[name] = info

    def read(self, phase: str, name: str, n: float, transposed: bool = False) -> None:
        if n <= 0:
            return
        info, e = self.matrices[name], self._e[(phase, name)]
        R, C = info["rows"], info["cols"]
        hw = self.hw
        if name in self._lateral:
            side = min(hw.tile_rows, hw.tile_cols)
            g = info["lateral_group"]
            e["macs"] += n * R * g
            e["dac_conversions"] += n * R
            e["adc_conversions"] += n * R
            used = min(side, R)
            e["cell_read_energy_j"] += n * info["n_tiles"] * used * used * 2 * self.c.e_cell_read()
        else:
            e["macs"] += n * R * C
            a = analog_counts(R, C, hw.tile_rows, hw.tile_cols, 0 if transposed else n,
                              n if transposed else 0, self.c)
            for k, v in a.items():
                e[k] += v
        e["transposed_vectors" if transposed else "mvm_vectors"] += n

    def update(self, phase: str, name: str, calls: float) -> None:
        if calls <= 0:
            return
        info, e = self.matrices[name], self._e[(phase, name)]
        R, C = info["rows"], info["cols"]
        weights = R * info["lateral_group"] if name in self._lateral else R * C
        pulses = calls * weights * 2 * self.density
        e["update_calls"] += calls
        e["pulses_up"] += pulses / 2
        e["pulses_down"] += pulses / 2
        e["pulse_energy_j"] += pulses * self.c.e_pulse_device()

    def dig(self, phase: str, **counts: float) -> None:
        e = self._e[(phase, _DIGITAL)]
        for k, v in counts.items():
            e[k] += v

    def to_dict(self) -> dict[str, Any]:
        ents = []
        for (p, m), cnt in sorted(self._e.items()):
            row: dict[str, Any] = {"phase": p, "matrix": m}
            row.update({k: v for k, v in cnt.items() if v})
            ents.append(row)
        mats = dict(self.matrices)
        if any(m == _DIGITAL for _, m in self._e):
            mats[_DIGITAL] = {"analog": False}
        return {"matrices": mats, "entries": ents}


def _ln(s: _Synth, phase: str, n: int, rows: float) -> None:
    """L2 normalisation of ``rows`` vectors of length n: squares, one rsqrt, n multiplies."""
    s.dig(phase, dig_mac=2 * n * rows, dig_nonlin=rows)


def _pff(s: _Synth, net: list[int], B: int, K: int, train: bool) -> None:
    d, hidden, c = net[0], net[1:-1], net[-1]
    L = len(hidden)
    g = 20
    sizes = [d] + hidden
    for l in range(1, L + 1):
        s.mat(f"W{l}", sizes[l - 1], sizes[l])
        s.mat(f"Lat{l}", sizes[l], sizes[l], lateral_group=10)
    for l in range(1, L):
        s.mat(f"V{l}", sizes[l + 1], sizes[l])
    s.mat("Vy", c, sizes[L])
    if train:
        s.mat("Wout", sizes[L], c)
        s.mat("Gz", g, sizes[L])
        for l in range(L, 0, -1):
            s.mat(f"G{l}", sizes[l], sizes[l - 1])

    def rep_step(phase: str, rows: float, noise: bool) -> None:
        for l in range(1, L + 1):
            s.read(phase, f"W{l}", rows)
            s.read(phase, f"Lat{l}", rows)
            if l < L:
                s.read(phase, f"V{l}", rows)
            n = sizes[l]
            _ln(s, phase, sizes[l - 1], rows)
            # sum of contributions + bias, ReLU, leaky damping, noise, goodness (+ sigmoid)
            s.dig(phase, dig_add=3 * n * rows, dig_cmp=n * rows, dig_mac=3 * n * rows,
                  dig_nonlin=rows)
            if noise:
                s.dig(phase, rng_draws=n * rows)
        s.read(phase, "Vy", rows)

    if train:
        for phase in ("positive", "negative"):
            for l in range(1, L + 1):  # initial feed-forward pass
                s.read(phase, f"W{l}", B)
                _ln(s, phase, sizes[l - 1], B)
                s.dig(phase, dig_cmp=sizes[l] * B)
            s.read(phase, "Wout", B)
            for _ in range(K):
                rep_step(phase, B, noise=True)
                s.read(phase, "Wout", B)
                s.dig(phase, dig_nonlin=c * B, dig_mac=sum(hidden) * B)  # softmax, deltas
        s.dig("negative", rng_draws=B)  # wrong labels
        rows = 2 * B
        for _ in range(K):
            s.read("generative", "Gz", rows)
            s.dig("generative", dig_cmp=g * rows)
            _ln(s, "generative", g, rows)
            for l in range(L, 0, -1):
                s.read("generative", f"G{l}", rows)
                _ln(s, "generative", sizes[l], rows)
                s.dig("generative", rng_draws=sizes[l] * rows, dig_cmp=2 * sizes[l - 1] * rows,
                      dig_add=sizes[l - 1] * rows)
            s.dig("generative", dig_add=sizes[L] * rows)
            s.read("transposed", "Gz", rows, transposed=True)
            s.dig("transposed", dig_mac=g * rows)
            for name in list(s.matrices):
                s.update("update", name, 1)
    else:
        for l in range(1, L + 1):
            s.read("inference", f"W{l}", 1)
            _ln(s, "inference", sizes[l - 1], 1)
            s.dig("inference", dig_cmp=sizes[l])
        steps = K // 2 + 1
        for _ in range(c):
            for _ in range(steps):
                rep_step("inference", 1, noise=False)
        s.dig("inference", dig_cmp=c)


def _ff(s: _Synth, net: list[int], B: int, train: bool) -> None:
    d, hidden, c = net[0], net[1:-1], net[-1]
    sizes = [d] + hidden
    L = len(hidden)
    for l in range(1, L + 1):
        s.mat(f"W{l}", sizes[l - 1], sizes[l])

    def fwd(phase: str, rows: float) -> None:
        for l in range(1, L + 1):
            s.read(phase, f"W{l}", rows)
            _ln(s, phase, sizes[l - 1], rows)
            n = sizes[l]
            # ReLU, goodness (sum of squares), sigmoid; training adds the delta per unit
            s.dig(phase, dig_cmp=n * rows, dig_mac=n * rows, dig_nonlin=rows)

    if train:
        fwd("positive", B)
        fwd("negative", B)
        s.dig("negative", rng_draws=B)
        for phase in ("positive", "negative"):
            s.dig(phase, dig_mac=sum(hidden) * B)
        for l in range(1, L + 1):
            s.update("update", f"W{l}", 1)
    else:
        for _ in range(c):
            fwd("inference", 1)
        s.dig("inference", dig_cmp=c)


def _bp(s: _Synth, net: list[int], B: int, train: bool) -> None:
    L = len(net) - 1
    hw = s.hw
    for l in range(1, L + 1):
        s.mat(f"W{l}", net[l - 1], net[l])
    ph = "forward" if train else "inference"
    for l in range(1, L + 1):
        s.read(ph, f"W{l}", B)
        if l < L:
            s.dig(ph, dig_cmp=net[l] * B)
    s.dig(ph, dig_nonlin=net[-1] * B, dig_cmp=net[-1] * B)  # softmax / argmax
    if not train:
        return
    # stored until the backward pass: every layer's input (dac_bits) and ReLU mask (1 bit)
    act_bits = sum(net[l - 1] * hw.dac_bits for l in range(1, L + 1)) * B
    mask_bits = sum(net[1:-1]) * B
    err_bits = sum(net[1:]) * hw.dac_bits * B
    # activations that do not fit the on-chip buffer spill to DRAM
    fits = act_bits + mask_bits + err_bits <= hw.sram_kb * 1024 * 8
    store = "sram" if hw.activation_store == "sram" and fits else "dram"
    s.dig("forward", **{f"{store}_write_bits": act_bits + mask_bits})
    s.dig("backward", **{f"{store}_read_bits": act_bits + mask_bits})
    s.dig("backward", dig_add=net[-1] * B)  # output error
    for l in range(L, 1, -1):
        s.read("backward", f"W{l}", B, transposed=True)
        s.dig("backward", dig_mac=net[l - 1] * B)  # delta * f'
    # errors are kept for the outer products
    s.dig("backward", **{f"{store}_write_bits": err_bits})
    s.dig("update", **{f"{store}_read_bits": err_bits})
    for l in range(1, L + 1):
        s.update("update", f"W{l}", 1)


def build_ledger(hw: Hardware, network: list[int], algo: str, *, batch: int = 1,
                 K: int | None = None, train: bool = True, pulse_density: float = 0.1,
                 costs: Costs | None = None) -> dict[str, Any]:
    """A ledger dict with the events of one mini-batch of ``batch`` images (``train``) or of
    one inference, built from operation counts (pff-spec.md section 5 for PFF)."""
    net = _check_network(network, algo)
    c = costs or Costs(hw)
    s = _Synth(hw, c, pulse_density)
    if algo == "pff":
        _pff(s, net, batch, K if K is not None else 12, train)
    elif algo == "ff":
        _ff(s, net, batch, train)
    else:
        _bp(s, net, batch, train)
    return s.to_dict()


def _check_network(network, algo: str) -> list[int]:
    if algo not in ALGOS:
        raise ValueError(f"algo = {algo!r} is unknown; choose one of: {', '.join(ALGOS)}")
    try:
        net = [int(n) for n in network]
    except (TypeError, ValueError):
        raise ValueError(f"network = {network!r} must be a list of layer sizes, e.g. 784,500,10") \
            from None
    need = 2 if algo == "bp" else 3
    if len(net) < need or any(n < 1 or n > 10**6 for n in net):
        raise ValueError(f"network = {','.join(map(str, net))} is invalid for {algo}: give "
                         f"{need}+ positive sizes (input, {'hidden..., ' if need == 3 else ''}"
                         f"classes), e.g. 784,500,500,10")
    return net


def _scale_report(p: dict[str, Any], f: float) -> dict[str, Any]:
    """Divide every energy/latency of a priced report by ``1/f``."""
    out = dict(p)
    for k in ("total_j", "latency_s"):
        out[k] = p[k] * f
    for k in ("by_phase_j", "by_component_j", "latency_by_phase_s", "by_matrix_j"):
        if k in p:
            out[k] = {kk: v * f for kk, v in p[k].items()}
    out["by_phase_component_j"] = {ph: {kk: v * f for kk, v in r.items()}
                                   for ph, r in p["by_phase_component_j"].items()}
    if f != 1.0:  # keep the exact-sum invariant after scaling
        out["total_j"] = math.fsum(out["by_component_j"].values())
    return out


def tile_mvm(hw: Hardware, costs: Costs | None = None) -> dict[str, float]:
    """One full tile's matrix-vector multiply: energy [J], latency [s], area [mm²], TOPS/W,
    TOPS/mm².

    ``hw.scope == "macro"``: converters, array, integrators, shift-add, accumulation,
    leakage; no buffers. ``"core"``: macro plus the tile's I/O buffer traffic
    (``buffers_sram``, as `price_ledger` prices it), per-output affine offset + ReLU
    (``digital_logic`` = outputs x `Costs.e_postprocess`), and their area (``postprocess``:
    one lane per ADC; ``io_buffer``: one input and one output vector), which also leaks.
    """
    c = costs or Costs(hw)
    s = _Synth(hw, c, 0.0)
    s.mat("tile", hw.tile_rows, hw.tile_cols)
    s.read("mvm", "tile", 1)
    led = s.to_dict()
    p = price_ledger(led, hw)
    ta = c.tile_area("none")
    core = hw.scope == "core"
    if core:
        n_adc = math.ceil(hw.tile_cols * c.n_weight_slices / hw.cols_per_adc)
        ta["postprocess"] = n_adc * c.a_postprocess_lane()
        ta["io_buffer"] = c.a_io_buffer(hw.tile_rows, hw.tile_cols)
    a_mm2 = sum(ta.values()) * 1e-6
    t = p["latency_s"]
    p_leak = hw.leakage_w_per_mm2 * (a_mm2 - ta["array"] * 1e-6)
    skip = ("leakage",) if core else ("buffers_sram", "leakage")
    comp = {k: v for k, v in p["by_component_j"].items() if k not in skip}
    if core:
        comp["digital_logic"] += hw.tile_cols * c.e_postprocess()
    comp["leakage"] = p_leak * t
    e = math.fsum(comp.values())
    macs = hw.tile_rows * hw.tile_cols
    return {"energy_j": e, "latency_s": t, "area_mm2": a_mm2, "macs": macs,
            "by_component_j": comp, "area_breakdown_um2": ta,
            "fj_per_mac": e / macs * 1e15,
            "tops_per_w": 2 * macs / e / 1e12, "tops_per_mm2": 2 * macs / t / a_mm2 / 1e12}


@dataclass
class EnergyEstimate:
    """Energy, latency and area of one training sample and one inference (see `estimate`)."""

    hardware: Hardware
    network: tuple[int, ...]
    algo: str
    batch: int
    K: int | None
    pulse_density: float
    train: dict[str, Any]          # price_ledger output, per training sample
    inference: dict[str, Any]      # price_ledger output, per inference
    tile: dict[str, Any]           # tile_mvm output
    digital: dict[str, dict[str, Any]] = field(default_factory=dict)  # precision -> {train, inference}
    train_ledger: dict[str, Any] = field(default_factory=dict, repr=False)     # one batch
    inference_ledger: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def train_j(self) -> float:
        return self.train["total_j"]

    @property
    def inference_j(self) -> float:
        return self.inference["total_j"]

    @property
    def area_mm2(self) -> float:
        return self.train["area_mm2"]

    def to_dict(self) -> dict[str, Any]:
        return {"model": MODEL, "hardware": self.hardware.to_dict(), "network": list(self.network),
                "algo": self.algo, "batch": self.batch, "K": self.K,
                "pulse_density": self.pulse_density,
                "per_train_sample": self.train, "per_inference": self.inference,
                "tile_mvm": self.tile,
                "digital": {k: {"per_train_sample": v["train"], "per_inference": v["inference"]}
                            for k, v in self.digital.items()}}

    def to_dataframe(self):
        """Long table: columns ``scope, breakdown, key, value, unit``."""
        import pandas as pd
        rows = []
        for scope, p in (("train_sample", self.train), ("inference", self.inference)):
            rows.append((scope, "total", "energy", p["total_j"], "J"))
            rows.append((scope, "total", "latency", p["latency_s"], "s"))
            for k, v in p["by_phase_j"].items():
                rows.append((scope, "phase", k, v, "J"))
            for k, v in p["by_component_j"].items():
                rows.append((scope, "component", k, v, "J"))
            for prec, d in self.digital.items():
                dd = d["train" if scope == "train_sample" else "inference"]
                rows.append((scope, f"digital_{prec}", "energy", dd["total_j"], "J"))
                rows.append((scope, f"digital_{prec}", "latency", dd["latency_s"], "s"))
        rows.append(("chip", "total", "area", self.area_mm2, "mm2"))
        for k, v in self.train["area_breakdown_mm2"].items():
            rows.append(("chip", "area", k, v, "mm2"))
        for k in ("tops_per_w", "tops_per_mm2", "energy_j", "latency_s", "area_mm2"):
            unit = {"tops_per_w": "TOPS/W", "tops_per_mm2": "TOPS/mm2", "energy_j": "J",
                    "latency_s": "s", "area_mm2": "mm2"}[k]
            rows.append(("tile_mvm", "total", k, self.tile[k], unit))
        return pd.DataFrame(rows, columns=["scope", "breakdown", "key", "value", "unit"])


def estimate(hw: Hardware, network, algo: str = "pff", batch: int = 1, K: int | None = None,
             *, pulse_density: float = 0.1,
             digital_precisions: tuple[str, ...] = ("int8", "fp16")) -> EnergyEstimate:
    """Energy per training sample and per inference of ``network`` trained with ``algo``.

    ``network`` = layer sizes (input, hidden..., classes). ``batch`` = images per mini-batch
    (updates are batch-summed: one update call per matrix per batch, per settling step for
    PFF). ``K`` = PFF settling steps (default 12; inference uses K//2+1 steps per label).
    ``pulse_density`` = mean write pulses per device per update call (a property of the
    learning rate and data that only a simulation can give; 0.1 by default).
    """
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise ValueError(f"batch = {batch!r} must be a positive integer")
    if K is not None and (not isinstance(K, int) or K < 1):
        raise ValueError(f"K = {K!r} must be a positive integer")
    if not 0.0 <= pulse_density <= 1000.0:
        raise ValueError(f"pulse_density = {pulse_density!r} is out of range; allowed [0, 1000]")
    c = Costs(hw)
    net = _check_network(network, algo)
    k_eff = (K if K is not None else 12) if algo == "pff" else None
    tl = build_ledger(hw, net, algo, batch=batch, K=k_eff, train=True,
                      pulse_density=pulse_density, costs=c)
    il = build_ledger(hw, net, algo, batch=1, K=k_eff, train=False, costs=c)
    tp = _scale_report(price_ledger(tl, hw), 1.0 / batch)
    ip = price_ledger(il, hw)
    # the chip holds every matrix of training (area is the same for inference)
    ip["area_mm2"], ip["area_breakdown_mm2"] = tp["area_mm2"], tp["area_breakdown_mm2"]
    # digital inference is priced in batches of the same size (weights fetched once per
    # batch); the analog chip gains nothing from batching
    def digital(ledger: dict, prec: str) -> dict[str, Any]:
        return price_digital(ledger, hw.node_nm, prec, sram_kb=hw.sram_kb, dram_type=hw.dram_type,
                             batch=batch, clock_hz=hw.clock_hz,
                             leakage_w_per_mm2=hw.leakage_w_per_mm2)

    dig = {prec: {"train": _scale_report(digital(tl, prec), 1.0 / batch),
                  "inference": digital(il, prec)}
           for prec in digital_precisions}
    return EnergyEstimate(hardware=hw, network=tuple(net), algo=algo, batch=batch, K=k_eff,
                          pulse_density=pulse_density, train=tp, inference=ip,
                          tile=tile_mvm(hw, c), digital=dig, train_ledger=tl,
                          inference_ledger=il)
