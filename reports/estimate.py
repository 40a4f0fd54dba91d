"""Price ledgers in energy, latency and area; the digital baseline.

* `price_ledger(ledger, hw)` prices every (phase, matrix) entry of a ledger dict
  (docs/CONTRACTS.md) with the component models of `reports.components`.
* `price_digital(ledger, node_nm, precision)` prices the same work (the ledger's MACs and
  digital periphery) on a digital accelerator at the same node.
* A matrix is priced with the converters its ledger info records (`matrix_hardware`): what
  was simulated is what is priced. `reports.run_energy.price_run` prices a whole run once.
* Networks without training: ``analogff.estimate`` runs the real algorithm on the counting
  backend (`crossbar.counting`) and hands its ledger here (reports never imports analogff).

Energy components (keys of ``by_component_j``, always all present, in this order):
``dac, wordline, array, adc, integrator, sample_hold, shift_add, accumulate, control, bias,
digital_logic, buffers_sram, dram, write_pulses, write_drivers, verify, leakage`` (laws and
sources: reports/README.md).

``total_j == math.fsum(by_component_j.values())`` exactly; the per-phase and per-matrix
breakdowns sum to the same total up to float rounding (relative 1e-12).
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from typing import Any

from crossbar.chip import LEAKAGE_MODELS
from device_models.checks import check_choice

from . import technology as T
from .components import Costs, digital_op_energies
from .hardware import Hardware

MODEL = "analogff-energy/2"
COMPONENTS = ("dac", "wordline", "array", "adc", "integrator", "sample_hold", "shift_add",
              "accumulate", "control", "bias", "digital_logic", "buffers_sram", "dram",
              "write_pulses", "write_drivers", "verify", "leakage")
DIGITAL_COMPONENTS = ("mac", "operand_fetch", "buffers_sram", "dram_weights", "weight_update",
                      "digital_logic", "dram", "leakage")
DIG_COUNTERS = ("dig_mac", "dig_add", "dig_cmp", "dig_nonlin", "rng_draws")
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
    (per tile), with a synthetic array term (mean conductance x input activity, per device)."""
    dac_f, dac_t, adc_f, adc_t = _conversions(rows, cols, math.ceil(rows / tr),
                                              math.ceil(cols / tc), mv, tv)
    cells = rows * cols * (1 if costs.charge_array else 2)
    return {"dac_conversions": dac_f + dac_t,
            "adc_conversions": adc_f + adc_t,
            "cell_read_energy_j": (mv + tv) * cells * costs.e_cell_read()}


def _n_weights(info: dict) -> int:
    """Stored weights of a matrix: rows x cols as registered (a block-diagonal lateral matrix
    registers its inner stack of blocks, group x units, so this is what it stores)."""
    return int(info["rows"]) * int(info["cols"])


def _zero() -> dict[str, float]:
    return dict.fromkeys(COMPONENTS, 0.0)


def read_timing(c: Costs, line_cells: int, conv_cols: int, groups: int, bits: int
                ) -> tuple[float, float]:
    """(latency, period) of one vector read through one tile [s].

    Array stage: ``groups x`` `Costs.array_time_per_vector` (every read's window plus the
    line settling; time-weighted integration: one clock per integration step); conversion
    stage: ``conversions x groups x min(cols_per_adc, conv_cols) x t_ADC``. The period
    (throughput) is the slower stage: the ADC converts one read while the array integrates
    the next (held on the ADC's capacitor or the sample-and-hold). Latency = DAC clock + the
    two stages + one clock to latch; when a vector is converted ``k`` times (input slices or
    bits converted one by one, row groups), the same overlap runs inside the vector: its k
    reads and k conversions form a two-stage pipeline, ``r + (k−1)·max(r, c) + c`` with r, c
    the mean read and conversion time per conversion event (k = 1: the two stages in a row,
    as before; converters that convert on the integrating capacitor or count during the
    read do not overlap: both stages in full)."""
    hw = c.hw
    ns_conv, _nw = c.conv_per_read
    array = groups * c.array_time_per_vector(line_cells)
    conv = ns_conv * groups * min(hw.cols_per_adc, conv_cols) * c.t_adc(bits)
    clk = 1.0 / hw.clock_hz
    if not c.adc.pipelined:      # converts on the integrating capacitor / during the read
        return c.t_dac() + array + conv + clk, max(array + conv, clk)
    k = ns_conv * groups         # conversion events per vector, each after its own reads
    if k > 1:
        r, cv = array / k, conv / k
        return c.t_dac() + (r + (k - 1) * max(r, cv) + cv) + clk, max(array, conv, clk)
    return c.t_dac() + array + conv + clk, max(array, conv, clk)


def _price_entry(e: dict, name: str, info: dict | None, hw: Hardware, c: Costs,
                 spill: float = 0.0, sram_bytes: float | None = None
                 ) -> tuple[dict[str, float], float, float, dict[str, float]]:
    """Energy by component [J], array time [s], serial (digital/memory) time [s] and
    effective counts of one ledger entry. ``spill``: the fraction of the on-chip buffer
    traffic whose data does not fit ``sram_kb`` and lives in DRAM (`memory_spill`);
    ``sram_bytes``: the size of the buffer that holds the rest (`sram_bytes_held`)."""
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
    db = _g(e, "dram_read_bits") + _g(e, "dram_write_bits") + spill * sb
    sb *= 1.0 - spill
    parts["buffers_sram"] += sb * (c.e_sram_bit() if sram_bytes is None
                                   else T.sram_energy_per_bit(sram_bytes, hw.node_nm)
                                   * (c.v_logic / c.vdd_nom) ** 2)
    t += c.t_sram_bits(sb)
    parts["dram"] += db * c.e_dram_bit()
    t += c.t_dram_bits(db)
    if info is None or name == _DIGITAL or "rows" not in info:
        return parts, 0.0, t, cnt

    rows, cols, tr, tc, n_rt, n_ct = _geometry(info, hw)
    n_tiles = int(info.get("n_tiles") or n_rt * n_ct)
    mv, tv = _g(e, "mvm_vectors"), _g(e, "transposed_vectors")
    if info.get("analog", False) and not c.charge_array:
        dac, adc, cell_e = _g(e, "dac_conversions"), _g(e, "adc_conversions"), \
            _g(e, "cell_read_energy_j")
    else:  # ideal twin, or a charge-domain array: what these reads cost on this hardware
        a = analog_counts(rows, cols, tr, tc, mv, tv, c)
        dac, adc, cell_e = a["dac_conversions"], a["adc_conversions"], a["cell_read_energy_j"]
        if info.get("analog", False):
            dac, adc = _g(e, "dac_conversions") or dac, _g(e, "adc_conversions") or adc
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
    ns_conv, nw_conv = c.conv_per_read
    # drivers: a transposed input drives the dpw column lines of its weight (rows_t cells each)
    parts["dac"] += dac_f * c.e_dac(cols_t * dpw) + dac_t * c.e_dac(rows_t * dpw)
    # access gates of the driven row (forward) / column (transposed: a transposable array
    # toggles the gates of the row it reads along, as forward)
    wl = c.wordline_cycles_per_read() * ns
    parts["wordline"] += wl * (dac_f * c.e_wordline(cols_t * dpw)
                               + dac_t * c.e_wordline(rows_t * dpw))
    # array: the ledger's Σ V²·G·t is per device; weight slices are more devices (resistive:
    # the simulator stores a pair per weight); a charge array's term already counts its cells
    e_array = (cell_f + cell_t) * (1 if c.charge_array else nw) * c.array_input_factor()
    parts["array"] += e_array
    # charge-domain arrays: every cell's switches toggle and every column line is reset and
    # shared once per read
    if c.charge_array:
        parts["array"] += ns * ((mv * rows * cols + tv * rows * cols) * dpw
                                * c.e_charge_overhead()
                                + nw * (adc_f * grp_f * c.e_column_reset(rows_t)
                                        + adc_t * grp_t * c.e_column_reset(cols_t)))
    # column read-out: every slice column integrates each step of each vector; conversions
    # (and their samples) only for the slices not accumulated in analog
    col_vectors = (adc_f * grp_f + adc_t * grp_t) * nw
    adc_f_eff, adc_t_eff = adc_f * ns_conv * nw_conv * grp_f, adc_t * ns_conv * nw_conv * grp_t
    parts["adc"] += (adc_f_eff * c.e_adc(hw.adc_bits) + adc_t_eff * c.e_adc(hw.transposed_adc_bits)
                     + e_array * c.cco_supply_factor())
    parts["integrator"] += col_vectors * c.integration_steps_per_vector() * c.e_integrator()
    parts["sample_hold"] += ((adc_f_eff + adc_t_eff) * c.sample_holds_per_conversion()
                             * c.e_sample_hold())
    if ns_conv * nw_conv > 1:  # digital recombination of slices
        parts["shift_add"] += (adc_f_eff + adc_t_eff) * c.e_shift_add()
    outputs = mv * cols + tv * rows
    partial_adds = max(0.0, adc_f + adc_t - outputs)
    parts["accumulate"] += partial_adds * c.e_accumulate_add() + outputs * c.e_rescale()
    io_bits = (mv * rows + tv * cols) * hw.dac_bits + outputs * hw.dac_bits
    parts["buffers_sram"] += io_bits * c.e_io_bit()
    ta += c.t_sram_bits(io_bits)
    cnt["adc_conversions"] += adc_f_eff + adc_t_eff
    cnt["dac_conversions"] += dac_f + dac_t
    # read latency: all tiles of a matrix work in parallel, vectors pipelined one per period
    t_read_s = 0.0
    for n_vec, lr, cc, g, bits in ((mv, cols_t * dpw, cols_t * nw_conv, grp_f, hw.adc_bits),
                                   (tv, rows_t * dpw, rows_t * nw_conv, grp_t,
                                    hw.transposed_adc_bits)):
        if n_vec > 0:
            lat, per = read_timing(c, lr, cc, g, bits)
            t_read_s += lat + (n_vec - 1) * per if n_vec >= 1 else n_vec * lat
    ta += t_read_s
    # clocking / control of the tiles while they read, and the ADCs' static bias
    parts["control"] += (t_read_s * hw.clock_hz * n_tiles * c.e_clock_cycle(rows_t, cols_t)
                         + (dac_f + dac_t) * c.e_input_load()
                         + adc_f_eff * c.e_conversion_clocking(hw.adc_bits)
                         + adc_t_eff * c.e_conversion_clocking(hw.transposed_adc_bits))
    parts["bias"] += t_read_s * n_tiles * c.p_bias(cols_t)
    # writes
    pulses = _g(e, "pulses_up") + _g(e, "pulses_down")
    cnt["pulses"] += pulses
    pe = _g(e, "pulse_energy_j")
    if pulses > 0 and (pe == 0.0 or c.write_model != "channel"):
        # the simulator records V²·G·t through the channel; other write physics (gate charge,
        # compliance-limited SET, PCM RESET current) are priced per pulse from the device
        e_up, e_dn = c.e_pulse_up_down()
        pe = _g(e, "pulses_up") * e_up + _g(e, "pulses_down") * e_dn
    parts["write_pulses"] += pe
    uc = _g(e, "update_calls")
    # windows of update_slots pulse slots: one per update call, and one per batch row of a
    # stochastic update (its row and column streams coincide sample by sample)
    windows = uc + _g(e, "extra_update_windows")
    if windows > 0:
        # pulses spread evenly over the windows and tiles of this entry
        per_tile = pulses / (windows * n_tiles)
        parts["write_drivers"] += windows * n_tiles * c.e_update_drivers(rows_t, cols_t,
                                                                         per_tile)
    iters = hw.verify_iterations
    if hw.program_verify and pulses > 0:
        e_p = pe / pulses
        parts["verify"] += pulses * ((iters - 1) * e_p + iters * c.e_verify_read(cols_t * dpw))
        ta += uc * rows_t * iters * c.t_verify_iteration()
    else:
        ta += windows * hw.update_slots * c.t_write
    pd = _g(e, "programmed_devices")
    if pd > 0:
        parts["verify"] += pd * iters * (c.e_pulse_device() + c.e_verify_read(cols_t * dpw))
        rows_serial = pd / max(n_tiles * cols_t * dpw, 1)
        ta += rows_serial * iters * c.t_verify_iteration()
    return parts, ta, t, cnt


# converter fields a matrix's ledger info records (crossbar.AnalogMatrix.info plus what
# analogff's factory adds): the pricer takes them from there, not from the chip's defaults
MATRIX_FIELDS = ("dac_bits", "adc_bits", "adc_bits_transposed", "adc_type", "cols_per_adc",
                 "input_mode")


def matrix_hardware(info: dict | None, hw: Hardware) -> Hardware:
    """``hw`` with one matrix's recorded converters (`MATRIX_FIELDS` of its ledger info).

    A simulated matrix read its transposed vectors with its own ADC, so without a recorded
    ``adc_bits_transposed`` its transposed bits are its ``adc_bits``. Matrices without analog
    info (ideal twins, digital work) are priced on ``hw`` as it is."""
    if not info or not info.get("analog", False):
        return hw
    ch = {k: info[k] for k in MATRIX_FIELDS if info.get(k) is not None}
    if "adc_bits" in ch and "adc_bits_transposed" not in ch:
        ch["adc_bits_transposed"] = ch["adc_bits"]
    if "cols_per_adc" in ch:
        ch["cols_per_adc"] = min(int(ch["cols_per_adc"]), hw.tile_cols)
    ch = {k: v for k, v in ch.items() if getattr(hw, k) != v}
    return _replace(hw, tuple(sorted(ch.items()))) if ch else hw


@functools.lru_cache(maxsize=256)
def _replace(hw: Hardware, changes: tuple) -> Hardware:
    return hw.replace(**dict(changes))


@functools.lru_cache(maxsize=64)
def _costs(hw: Hardware) -> Costs:
    return Costs(hw)


def _transposed_matrices(ledger: dict) -> set[str]:
    return {e["matrix"] for e in ledger.get("entries", []) if _g(e, "transposed_vectors") > 0}


AREA_KEYS = ("array", "dac", "adc", "integrator", "sample_hold", "shift_add", "control",
             "write_drivers", "transposed_periphery", "sram", "digital")


def area_breakdown(ledger: dict, hw: Hardware, costs: Costs | None = None,
                   per_matrix_leak_w: dict[str, float] | None = None) -> dict[str, float]:
    """Chip area by block [mm²]: every matrix's tiles (with transposed periphery where that
    matrix is read transposed), the SRAM buffer and the digital periphery lanes.

    If ``per_matrix_leak_w`` is a dict, it receives each matrix's periphery leakage [W]
    (block type and node, `Costs.leakage_w`), used for power-gated leakage."""
    c = costs or Costs(hw)
    tmats = _transposed_matrices(ledger)
    out = dict.fromkeys(AREA_KEYS, 0.0)
    cache: dict[tuple, tuple[dict[str, float], float]] = {}
    for name, info in ledger.get("matrices", {}).items():
        if name == _DIGITAL or "rows" not in info:
            continue
        rows, cols, tr, tc, n_rt, n_ct = _geometry(info, hw)
        n_tiles = int(info.get("n_tiles") or n_rt * n_ct)
        mode = hw.transposed_readout if name in tmats else "none"
        hm = matrix_hardware(info, hw)     # its own converters, as simulated
        key = (tr, tc, mode, hm)
        if key not in cache:
            ci = c if (tr, tc, hm) == (hw.tile_rows, hw.tile_cols, hw) else \
                Costs(hm.replace(tile_rows=tr, tile_cols=tc,
                                 cols_per_adc=min(hm.cols_per_adc, tc),
                                 rows_active=min(hm.rows_active, tr)))
            ta = ci.tile_area(mode)
            cache[key] = (ta, ci.leakage_w(ta))
        ta, leak = cache[key]
        for k, v in ta.items():
            out[k] += n_tiles * v * 1e-6
        leak_m = n_tiles * leak
        if name in tmats and hw.transposed_readout == "none":
            a_copy = rows * cols * hw.weight_bits * T.sram_area_per_bit_um2(hw.node_nm)
            out["transposed_periphery"] += a_copy * 1e-6
            leak_m += c.leakage_w({"sram": a_copy})
        if per_matrix_leak_w is not None:
            per_matrix_leak_w[name] = leak_m
    out["sram"] = c.a_sram() * 1e-6
    out["digital"] = hw.digital_lanes * T.mac_area_um2("int8", hw.node_nm) * 1e-6
    return out


STATE_BUFFERS = ("optimizer.", "accum", "mixed")   # per-weight state, touched once per update


def _held(ledger: dict) -> tuple[float, float]:
    """(hot, state) bits the run held at most: activations/errors used at every step, and
    per-weight optimiser / accumulator state (buffers named `STATE_BUFFERS`) used at
    updates. Without per-buffer sizes the peak counts as hot."""
    mem = ledger.get("memory") or {}
    sizes = mem.get("buffer_peak_bits") or {}
    state = sum(float(v) for k, v in sizes.items() if any(t in k for t in STATE_BUFFERS))
    hot = sum(float(v) for k, v in sizes.items() if not any(t in k for t in STATE_BUFFERS))
    peak = float(mem.get("peak_bits", 0) or 0)
    if not sizes:
        return peak, 0.0
    # buffers need not all be live at once: the live peak bounds what must be held
    return min(hot, peak), min(state, peak)


def memory_spill(ledger: dict, hw: Hardware, phase: str = "") -> float:
    """Fraction of a phase's on-chip buffer traffic priced in DRAM: state is priced in the
    memory level that holds it. The ``sram_kb`` buffer holds the hot buffers first (what
    every step reads), then per-weight optimiser / accumulator state (read and written in the
    ``update`` phase); what does not fit lives in DRAM."""
    return _spill(ledger, hw.sram_kb * 1024 * 8, phase)


def _spill(ledger: dict, cap: float, phase: str) -> float:
    """`memory_spill` for a buffer of ``cap`` bits (the analog chip's ``sram_kb``; a digital
    accelerator's ``sram_kb`` less the weights it keeps there)."""
    hot, state = _held(ledger)
    if phase == "update" and state > 0:
        return max(0.0, state - max(0.0, cap - hot)) / state
    return max(0.0, hot - cap) / hot if hot > 0 else 0.0


def sram_bytes_held(ledger: dict, hw: Hardware) -> float:
    """Size of the on-chip buffer the run's state occupies [bytes]: its peak held bits, at
    most ``sram_kb`` (what does not fit spills to DRAM), at least an 8 KB local buffer; the
    whole ``sram_kb`` when the ledger declares no holdings. SRAM access energy follows this
    size (Horowitz 8 KB / 32 KB / 1 MB)."""
    peak = float((ledger.get("memory") or {}).get("peak_bits", 0) or 0)
    cap = hw.sram_kb * 1024
    return cap if peak <= 0 else min(cap, max(8 * 1024, peak / 8))


def price_ledger(ledger: dict, hw: Hardware) -> dict[str, Any]:
    """Energy [J] by phase and component, latency [s] and area [mm²] of a ledger dict.

    Returns ``{"model", "hardware", "total_j", "by_phase_j", "by_component_j",
    "by_phase_component_j", "by_matrix_j", "latency_s", "latency_by_phase_s", "area_mm2",
    "area_breakdown_mm2", "counts"}``.
    """
    c = _costs(hw)   # shared with the other price_ledger calls on this chip (pure, cached)
    mats = ledger.get("matrices", {}) or {}
    spills: dict[str, float] = {}
    sram_bytes = sram_bytes_held(ledger, hw)
    grid: dict[str, dict[str, float]] = {}
    lat_serial: dict[str, float] = defaultdict(float)
    lat_array: dict[tuple[str, str], float] = defaultdict(float)
    by_matrix: dict[str, float] = defaultdict(float)
    counts = {"adc_conversions": 0.0, "dac_conversions": 0.0, "pulses": 0.0, "macs": 0.0}
    hws: dict[str, Hardware] = {}
    for e in ledger.get("entries", []):
        phase, name = str(e.get("phase", "default")), str(e.get("matrix", _DIGITAL))
        # each matrix is priced with the converters it was simulated with (its ledger info);
        # both it and the phase's spill are worked out once, not once per entry
        if name not in hws:
            hws[name] = matrix_hardware(mats.get(name), hw)
        hm = hws[name]
        if phase not in spills:
            spills[phase] = memory_spill(ledger, hw, phase)
        spill = spills[phase]
        parts, ta, ts, cnt = _price_entry(e, name, mats.get(name), hm,
                                          c if hm == hw else _costs(hm), spill, sram_bytes)
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
    mat_leak: dict[str, float] = {}
    area = area_breakdown(ledger, hw, c, mat_leak)
    always_on = c.leakage_w({"sram": area["sram"] * 1e6, "digital": area["digital"] * 1e6})
    active: dict[str, set[str]] = defaultdict(set)
    for (p, m), _t in lat_array.items():
        active[p].add(m)
    for phase, row in grid.items():
        if hw.power_gating:  # idle tiles are power-gated: only this phase's matrices leak
            # fsum: exact whatever the order (a set of names iterates in hash-seed order)
            p_leak = always_on + math.fsum(mat_leak.get(m, 0.0) for m in active[phase])
        else:
            p_leak = always_on + math.fsum(mat_leak.values())
        row["leakage"] = p_leak * lat[phase]
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
                  leakage_w_per_mm2: float = 0.01,
                  leakage_model: str = "flat") -> dict[str, Any]:
    """The ledger's work on a digital accelerator at ``node_nm`` with ``precision`` MACs.

    Model (Horowitz, ISSCC 2014 [S1]: 45 nm operation, SRAM and DRAM energies): every MAC =
    mult + add at ``precision``, plus one weight operand fetch from a local 8 KB SRAM
    (Horowitz's realistic baseline); input vectors are read and outputs written once per vector
    in the ``sram_kb`` buffer; if all weights fit in ``sram_kb`` they are read from it once per
    ``batch`` vectors, otherwise streamed from DRAM once per ``batch`` vectors; each update
    rewrites every weight (read + write) in that memory and costs ``batch x rows x cols`` MACs
    when the ledger's MACs do not include it.
    The ledger's digital periphery counters and SRAM/DRAM bits are priced as on the analog
    chip, buffers in the memory level that holds them (`memory_spill`'s rule, with the
    ``sram_kb`` buffer less the weights it keeps when they fit). Leakage: ``leakage_model = "per_block"`` prices logic and SRAM
    areas at the node's leakage densities (as the analog chip does), ``"flat"``
    ``leakage_w_per_mm2`` x area. Latency: MACs over ``mac_units`` per clock plus memory time.

    ``batch=None`` infers the reuse per matrix from the ledger: the vectors read between two
    updates of that matrix (weights change at every update, so they are fetched once per
    update interval), or 1 for matrices that are never updated (an inference ledger).
    """
    check_choice("precision", precision, tuple(T.PRECISION_BITS))
    check_choice("leakage_model", leakage_model, LEAKAGE_MODELS)
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
    # the same buffers as the analog chip, in the memory level that holds them: the sram_kb
    # buffer less the weights kept there holds hot buffers first, then per-weight state
    cap_buffers = sram_kb * 1024 * 8 - (w_bits if fits else 0.0)
    spills: dict[str, float] = {}
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
        if phase not in spills:
            spills[phase] = _spill(ledger, cap_buffers, phase)
        spill = spills[phase]
        sb = _g(e, "sram_read_bits") + _g(e, "sram_write_bits")
        db = _g(e, "dram_read_bits") + _g(e, "dram_write_bits") + spill * sb
        sb *= 1.0 - spill
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
    if leakage_model == "per_block":   # as the analog chip: logic and SRAM by node
        from .components import leakage_density_w_per_mm2
        p_leak = (mac_units * T.mac_area_um2(precision, node_nm) * 1e-6
                  * leakage_density_w_per_mm2("logic", node_nm)
                  + sram_kb * 1024 * 8 * T.sram_area_per_bit_um2(node_nm) * 1e-6
                  * leakage_density_w_per_mm2("sram", node_nm))
    else:   # "flat" (checked above)
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


def scale_report(p: dict[str, Any], f: float) -> dict[str, Any]:
    """Multiply every energy/latency of a priced report (`price_ledger` or `price_digital`
    output) by ``f``, e.g. ``1/samples`` for per-sample figures."""
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


def tile_mvm(hw: Hardware, costs: Costs | None = None) -> dict[str, Any]:
    """One full tile's matrix-vector multiply in steady state: energy [J], latency and period
    [s], area [mm²], TOPS, TOPS/W, TOPS/mm².

    Vectors stream through the tile one per ``period_s`` (`read_timing`: the slower of the
    array and conversion stages); ``latency_s`` is one vector end to end. Control/clocking,
    static bias and leakage are charged for one period per vector. ``hw.scope == "macro"``:
    drivers, wordlines, array, converters, integrators, sample-and-hold, shift-add, control,
    bias, leakage; no buffers, no accumulation. ``"core"``: macro plus accumulation
    (``accumulate``: cross-tile adds, rescale), the tile's I/O buffer traffic
    (``buffers_sram``), per-output affine offset + ReLU (``digital_logic`` =
    outputs x `Costs.e_postprocess`), and their area (``postprocess``: one lane per ADC;
    ``io_buffer``: one input and one output vector), which also leaks.
    """
    c = costs or Costs(hw)
    R, C = hw.tile_rows, hw.tile_cols
    led = {"matrices": {"tile": {"analog": False, "rows": R, "cols": C, "tile_rows": R,
                                 "tile_cols": C, "n_tiles": 1}},
           "entries": [{"phase": "mvm", "matrix": "tile", "mvm_vectors": 1, "macs": R * C}]}
    p = price_ledger(led, hw)
    ta = c.tile_area("none")
    core = hw.scope == "core"
    if core:
        n_adc = c.n_adc(C)
        ta["postprocess"] = n_adc * c.a_postprocess_lane()
        ta["io_buffer"] = c.a_io_buffer(R, C)
    a_mm2 = sum(ta.values()) * 1e-6
    grp = math.ceil(R / hw.rows_active) if hw.rows_active else 1
    latency, period = read_timing(c, C * c.devices_per_weight(), C * c.conv_per_read[1], grp,
                                  hw.adc_bits)
    # a macro delivers shift-added ADC codes; rescaling and cross-tile sums are core work
    skip = ("leakage",) if core else ("buffers_sram", "accumulate", "leakage")
    comp = {k: v for k, v in p["by_component_j"].items() if k not in skip}
    if core:
        comp["digital_logic"] += C * c.e_postprocess()
    comp["control"] += (period * hw.clock_hz * c.e_clock_cycle(R, C)
                        - latency * hw.clock_hz * c.e_clock_cycle(R, C))
    comp["bias"] = period * c.p_bias(C)
    comp["leakage"] = c.leakage_w(ta) * period
    e = math.fsum(comp.values())
    macs = R * C
    tops = 2 * macs / period / 1e12
    return {"energy_j": e, "latency_s": latency, "period_s": period, "area_mm2": a_mm2,
            "macs": macs, "by_component_j": comp, "area_breakdown_um2": ta,
            "fj_per_mac": e / macs * 1e15, "tops": tops,
            "tops_per_w": 2 * macs / e / 1e12, "tops_per_mm2": tops / a_mm2}
