"""Component models: energy [J], area [µm²] and latency [s] of each periphery block.

`Costs(hw)` evaluates every component for one `Hardware`. All energies are per event (one
conversion, one pulse, one bit, ...). Areas are in **µm²** throughout this module (the
estimate converts totals to mm²). Latencies are in seconds.

Equations and sources (energy-model.md section numbers; [S#] as in its section 6):

* **Row driver / DAC** (1.3). A conversion charges the driven line:
  ``E_line = C_line · V_read · Vdd`` with ``C_line = n_cells · C_cell + C_drv``,
  ``C_cell = (1.5 + 0.6) fF × node/130`` (NeuRRAM access transistor + RRAM coupling at 130 nm
  [S10/S12], scaled with feature size), ``C_drv = 48 fF × node/130``. A multi-bit voltage DAC
  adds ``2^B · C_u · Vdd²`` with ``C_u = 1 fF`` (1.3 recommended lookup: 8 b ≈ 0.2-0.3 pJ,
  matching BRAHMS 0.291 pJ @ 40 nm). Bit-serial inputs use ``dac_bits`` 1-bit toggles.
  Area: 1-bit driver 0.17 µm² @ 32 nm (ISAAC [S11]); multi-bit adds ``2^B · 1 µm²`` @ 22 nm
  (8 b: 256 µm², inside the 150-450 µm² of 1.11), scaled with logic area.
  With ``input_bit_density`` d set, a bit-serial row is pulsed only for its 1-bits:
  ``dac_bits · d`` line charges (NeuroSim V1.4's VGG-8/CIFAR-10 input-bit toggle rate is
  0.18, Param.cpp ``inputtoggle`` [S6]); unset, every bit toggles the line (dense inputs).
  **PWM inputs** (1.3 temporal DAC; IBM's duration-coded 8-bit inputs [S15], HERMES [S13/S14]):
  one line charge per conversion whatever the value, and the read window is
  ``2^(B-1)`` clock periods (signed inputs: B-1 magnitude bits as the pulse length, the sign as
  the pulse polarity, as in HERMES' one-phase mode [S13]); no DAC core, but a per-row pulse
  generator: a B-bit register (1-b register 0.009 pJ, 6 µm² @ 40 nm, Aladdin [S11]) compared
  with a broadcast counter in each window clock period (B-bit compare = 8-b add x B/8 [S1]).
* **Array** (1.2): taken from the ledger's ``cell_read_energy_j`` = Σ V²·G·t (never
  recomputed, never node-scaled). For matrices without analog counts (ideal twins, synthetic
  estimates) we use ``V_read² · G_mean · t_read · activity`` per cell read, with
  ``G_mean = g_min + g_fraction·(g_max − g_min)``. Both are amplitude-coded (energy ∝ x²);
  `Costs.array_input_factor` converts them: bit-serial inputs apply the full V_read for each
  1-bit (``dac_bits · d / activity``, d = ``input_bit_density`` or 1/2 for dense inputs),
  PWM inputs apply V_read for a time ∝ |x| over the window T (``(T/t_read) / √activity``,
  taking E|x| ≈ √E[x²]: exact for constant-magnitude inputs, an upper bound otherwise).
* **ADC** (1.4): ``E = max(E_min, FoM_W · 2^B, 10^((6.02 B + 1.76 − FoM_S)/10) / 2)`` with
  FoM_W = 5 fJ/step (survey p10), E_min = 50 fJ at 22 nm (both scaled with logic energy
  relative to 22 nm: Accelergy's fit scales ~node^1.9, the logic table gives the same within
  10 %) and FoM_S = 172 dB (thermal limit, not node-scaled). Reproduces 8 b ≈ 1.3 pJ,
  10 b ≈ 5 pJ, 12 b ≈ 80 pJ at 22 nm. Flash: ``(2^B − 1)`` comparators of 0.042 pJ @ 65 nm
  (TIMELY [S11]) plus a B-bit encoder, floor E_min. Area SAR: ``75 · 2^(B/2) µm²`` at 22 nm
  (4 b 300, 6 b 600, 8 b 1200: the 1.4/1.11 ranges), flash: ``(2^B − 1) · 40 µm²`` @ 65 nm;
  both scaled with logic area. Latency SAR (B+1) ns (NeuroSim [S6]), flash 1 ns.
  **CCO** (HERMES' linearized current-controlled-oscillator ADC [S14], 300 ps per LSB): the
  column current is the oscillator's supply current, conveyed from the core rail Vdd through
  the oscillator into the bit line, which is held at V_read. So the rail delivers Vdd·Q for a
  column charge Q: V_read·Q heats the cells (the array term) and the ADC's own share is
  ``(Vdd − V_read)·Q = array term × (Vdd/V_read − 1)`` (`Costs.cco_supply_factor`; priced
  from the same Σ V²·G·t, so it follows the data). On top, the counter: ~2 register-bit
  toggles per count (a ripple counter) at half-scale counts on average, plus B bits read out
  (1-b register 0.009 pJ @ 40 nm, Aladdin [S11]). Latency: the oscillator counts while the
  current flows, so only the part of ``2^B × 300 ps`` beyond the read window adds, plus one
  clock to latch the count. No separate integrator (the counter integrates). Area: the SAR
  rule (the notes give only HERMES' 4 µm column pitch, no height). Linearization and
  calibration bias currents are not modelled (no figure).
* **Integrator / sample-hold** (1.5): NeuRRAM 0.25 pJ, 350 µm² @ 130 nm per integration,
  scaled with logic energy/area; one per column; latency = ``t_read``.
* **Shift-add** (1.6): ISAAC 16-b 0.021 pJ, 60 µm² @ 32 nm, one per ADC conversion.
* **Accumulation across tiles**: one 32-b add (Horowitz 0.1 pJ @ 45 nm) per partial sum,
  one 8-b multiply per output (rescale to weight units).
* **Digital logic** (1.6, 2.1): ``dig_mac`` = 8-b mult + 32-b add; ``dig_add`` = 32-b add;
  ``dig_cmp`` = 32-b comparator 0.029 pJ (Aladdin @ 40 nm, taken as 45 nm); ``dig_nonlin`` =
  LUT read (16 b from 8 KB SRAM) + fp16 mult + fp16 add; ``rng_draws`` = 3 × 32-b add
  (xorshift). All scaled with logic energy.
* **SRAM / DRAM** (1.7): per bit, see `technology.sram_energy_per_bit` / `dram_energy_per_bit`.
* **Write pulses** (1.9): the ledger's ``pulse_energy_j``; for synthetic counts the device's
  ``pulse_energy`` or ``V_w² · G_mean · t_w``. **Write drivers**: a parallel outer-product
  update drives row and column lines at V_w/2 (V/2 scheme) for the slots that carry pulses:
  ``E = [min(R·slots, P)·C_row + min(C·slots, P)·C_col] · (V_w/2)²`` per tile and update with
  P pulses (dense updates charge every line in every slot, sparse ones about one row and one
  column line per pulse).
* **Program-and-verify** (1.9, 5.1): each pulse becomes ``verify_iterations`` pulse + read
  iterations; a verify read = one cell read + one line toggle + integrator + ADC conversion.
* **Core scope** (``scope = "core"``, `reports.estimate.tile_mvm` only): published core
  figures include the tile's input/output buffering and local post-processing (HERMES: a
  local digital processing unit doing affine scaling and ReLU [S14]). Adds the I/O bits in the
  tile's 8 KB buffer (as `price_ledger` prices them for networks), one 32-b add + one
  comparator per output, and the area of one post-processing lane per ADC plus registers for
  one input and one output vector.
* **Leakage** (1.1): ``P = leakage_w_per_mm2 · periphery area`` (0.01 W/mm² ≈ NeuroSim V3.0's
  105.65 µW over 8663 µm² [S8]), times the latency.
"""

from __future__ import annotations

import math
from functools import cached_property

from . import technology as T
from .hardware import Hardware

FF = 1e-15
PJ = 1e-12
# HERMES' linearized CCO ADC resolves one LSB per 300 ps [S14] (energy-model.md 1.4/1.10)
CCO_T_LSB = 300e-12


def digital_op_energies(node_nm: int) -> dict[str, float]:
    """Energy [J] of one event of each digital ledger counter at ``node_nm``."""
    n = node_nm
    return {
        "dig_mac": T.op_energy("int8_mult", n) + T.op_energy("int32_add", n),
        "dig_add": T.op_energy("int32_add", n),
        "dig_cmp": 0.029 * PJ * T.logic_energy_scale(n),
        "dig_nonlin": (T.op_energy("fp16_mult", n) + T.op_energy("fp16_add", n)
                       + 16 * T.sram_energy_per_bit(8 * 1024, n)),
        "rng_draws": 3 * T.op_energy("int32_add", n),
    }


class Costs:
    """Per-event energy [J], area [µm²] and latency [s] of every component for ``hw``."""

    def __init__(self, hw: Hardware) -> None:
        self.hw = hw
        self.node = hw.node_nm
        self.dev = hw.device_model()
        self.vdd = T.vdd(self.node)
        self.v_read = hw.read_voltage()
        self.t_read = hw.read_time()
        self.s_logic = T.logic_energy_scale(self.node)
        self.s_area = T.area_scale(self.node)

    # ---- helpers ---------------------------------------------------------------------------
    def _e(self, e_ref: float, ref_nm: int) -> float:
        """An energy measured at ``ref_nm`` moved to this node (logic scaling)."""
        return e_ref * self.s_logic / T.logic_energy_scale(ref_nm)

    def _a(self, a_ref: float, ref_nm: int) -> float:
        return a_ref * self.s_area / T.area_scale(ref_nm)

    @property
    def bit_density(self) -> float:
        """Fraction of bit-serial input bits that are 1 (``input_bit_density``; 0.5 if unset)."""
        d = self.hw.input_bit_density
        return 0.5 if d is None else d

    def t_pwm_window(self) -> float:
        """Full-scale PWM pulse: ``2^(dac_bits-1)`` clock periods (sign = polarity) [s]."""
        return 2 ** (self.hw.dac_bits - 1) / self.hw.clock_hz

    def read_window(self) -> float:
        """Time one read keeps the lines driven: the PWM window, or ``t_read`` [s]."""
        return self.t_pwm_window() if self.hw.input_mode == "pwm" else self.t_read

    @property
    def n_in_slices(self) -> int:
        """Reads per input vector (bit-serial inputs: one per bit)."""
        return self.hw.dac_bits if self.hw.input_mode == "bit_serial" else 1

    @property
    def n_weight_slices(self) -> int:
        """Device columns per weight (digital multi-level cells) or 1 (analog pair)."""
        cb = self.hw.cell_bits
        return 1 if cb == 0 else math.ceil(self.hw.weight_bits / cb)

    @property
    def g_mean(self) -> float:
        d = self.dev
        return d.g_min + self.hw.g_fraction * (d.g_max - d.g_min)

    # ---- row/column drivers and DAC -------------------------------------------------------
    def c_cell(self) -> float:
        """Line capacitance contributed by one cell [F]."""
        return (1.5 + 0.6) * FF * self.node / 130.0

    def c_line(self, n_cells: int) -> float:
        """Capacitance of a line crossing ``n_cells`` devices, plus its driver [F]."""
        return n_cells * self.c_cell() + 48 * FF * self.node / 130.0

    def devices_per_weight(self) -> int:
        return 2 * self.n_weight_slices  # differential pair (x slices)

    def e_dac(self, line_cells: int) -> float:
        """One input value converted and driven onto a line of ``line_cells`` devices [J]."""
        e_line = self.c_line(line_cells) * self.v_read * self.vdd
        if self.hw.input_mode == "bit_serial":
            d = self.hw.input_bit_density
            return self.hw.dac_bits * (1.0 if d is None else d) * e_line
        if self.hw.input_mode == "pwm":
            # one charge/discharge per conversion, whatever the pulse length, plus the row's
            # pulse generator: load a B-bit register, compare it with the broadcast counter
            # in each of the window's clock periods
            return e_line + self.e_pwm_generator()
        B = self.hw.dac_bits
        core = 0.0 if B == 1 else (2 ** B) * 1 * FF * self.vdd ** 2
        return e_line + core

    def e_pwm_generator(self) -> float:
        """One PWM conversion's pulse generator: B 1-bit register writes (0.009 pJ @ 40 nm,
        Aladdin [S11]) + ``2^(B-1)`` B-bit compares (Horowitz 8-b add x B/8 [S1]) [J]."""
        B = self.hw.dac_bits
        reg = B * self._e(0.009 * PJ, 45)
        cmp_ = T.op_energy("int8_add", self.node) * B / 8
        return reg + 2 ** (B - 1) * cmp_

    def a_dac(self) -> float:
        """Area of one row driver / DAC [µm²]."""
        a = self._a(0.17, 32)
        B = self.hw.dac_bits
        if self.hw.input_mode == "voltage" and B > 1:
            a += self._a((2 ** B) * 1.0, 22)
        elif self.hw.input_mode == "pwm":
            # B-bit register (1-b register 6 µm² @ 40 nm) + B-bit comparator (8-b add x B/8)
            a += self._a(B * 6.0, 45) + T.op_area_um2("int8_add", self.node) * B / 8
        return a

    def t_dac(self) -> float:
        return 1.0 / self.hw.clock_hz

    # ---- array ---------------------------------------------------------------------------
    def e_cell_read(self) -> float:
        """Synthetic mean energy of one cell read at mean input activity [J]."""
        return self.v_read ** 2 * self.g_mean * self.t_read * self.hw.input_activity

    def array_input_factor(self) -> float:
        """Multiplier on the ledger's amplitude-coded Σ V²·G·t (energy ∝ x², one ``t_read``).

        Bit-serial: the full V_read for each 1-bit (``dac_bits · d`` of them, d =
        `bit_density`) instead of (x·V_read)²: ``dac_bits · d / input_activity``.
        PWM: V_read for a time |x|·T (T = `t_pwm_window`): ``(T / t_read) · E|x| / E[x²]``
        with E|x| ≈ √(input_activity). Voltage mode: 1.
        """
        act = max(self.hw.input_activity, 1e-6)
        if self.hw.input_mode == "bit_serial":
            return self.hw.dac_bits * self.bit_density / act
        if self.hw.input_mode == "pwm":
            return self.t_pwm_window() / self.t_read / math.sqrt(act)
        return 1.0

    def a_cell(self) -> float:
        """Area of one device [µm²] (``cell_f2`` F²)."""
        f = self.node * 1e-3
        return self.hw.cell_f2 * f * f

    # ---- ADC -----------------------------------------------------------------------------
    def e_adc(self, bits: int) -> float:
        """Energy of one conversion at ``bits`` [J] (SAR rule, flash or CCO counter, see module
        doc; a CCO's oscillator energy is `cco_supply_factor` × the array term, not here)."""
        if self.hw.adc_type == "cco":
            e_bit = self._e(0.009 * PJ, 45)
            return (2 * 2 ** (bits - 1) + bits) * e_bit
        e_min = self._e(50 * FF, 22)
        if self.hw.adc_type == "flash":
            cmp_ = self._e(0.042 * PJ, 65)
            enc = bits * T.op_energy("int8_add", self.node)
            return max(e_min, (2 ** bits - 1) * cmp_ + enc)
        walden = self._e(5 * FF, 22) * 2 ** bits
        schreier = 10 ** ((6.02 * bits + 1.76 - 172.0) / 10.0) / 2.0
        return max(e_min, walden, schreier)

    def a_adc(self, bits: int) -> float:
        if self.hw.adc_type == "flash":
            return self._a((2 ** bits - 1) * 40.0, 65)
        return self._a(75.0 * 2 ** (bits / 2), 22)

    def t_adc(self, bits: int) -> float:
        if self.hw.adc_type == "cco":
            return max(0.0, 2 ** bits * CCO_T_LSB - self.read_window()) + 1.0 / self.hw.clock_hz
        return 1e-9 if self.hw.adc_type == "flash" else (bits + 1) * 1e-9

    def cco_supply_factor(self) -> float:
        """CCO ADC energy per joule of array term: (Vdd − V_read)/V_read (0 for other ADCs).

        The column charge Q that heats the cells (V_read·Q) flows from Vdd through the
        oscillator, which takes the rest of the rail, (Vdd − V_read)·Q."""
        if self.hw.adc_type != "cco":
            return 0.0
        return max(self.vdd - self.v_read, 0.0) / self.v_read

    # ---- integrator, shift-add, accumulation --------------------------------------------
    def e_integrator(self) -> float:
        """One integration / sample-and-hold [J]; none with a CCO ADC, whose counter is the
        integrator."""
        return 0.0 if self.hw.adc_type == "cco" else self._e(0.25 * PJ, 130)

    def a_integrator(self) -> float:
        return 0.0 if self.hw.adc_type == "cco" else self._a(350.0, 130)

    def e_shift_add(self) -> float:
        return self._e(0.021 * PJ, 32)

    def a_shift_add(self) -> float:
        return self._a(60.0, 32)

    def e_accumulate_add(self) -> float:
        return T.op_energy("int32_add", self.node)

    def e_rescale(self) -> float:
        return T.op_energy("int8_mult", self.node)

    def a_accumulator(self) -> float:
        return T.op_area_um2("int32_add", self.node)

    # ---- core scope: local post-processing and I/O buffer -------------------------------
    def e_postprocess(self) -> float:
        """Per output beyond the rescale multiply (``accumulate``): the affine offset add
        (32-b add) and ReLU (32-b comparator), as HERMES' local digital processing unit does
        (affine scaling + ReLU [S14]) [J]."""
        return T.op_energy("int32_add", self.node) + self.digital_op["dig_cmp"]

    def a_postprocess_lane(self) -> float:
        """One post-processing lane (8-b mult + 32-b add + 32-b comparator, 71 µm² Aladdin
        @ 40 nm taken as 45 nm [S11]) [µm²]; a core has one per ADC."""
        return (T.op_area_um2("int8_mult", self.node) + T.op_area_um2("int32_add", self.node)
                + 71.0 * self.s_area)

    def a_io_buffer(self, rows: int, cols: int) -> float:
        """Registers for one input and one output vector (``dac_bits`` each), SRAM-cell
        area [µm²]."""
        return (rows + cols) * self.hw.dac_bits * T.sram_area_per_bit_um2(self.node)

    # ---- digital logic ------------------------------------------------------------------
    @cached_property
    def digital_op(self) -> dict[str, float]:
        """Energy per ledger digital counter [J]."""
        return digital_op_energies(self.node)

    # ---- memories -----------------------------------------------------------------------
    def e_sram_bit(self) -> float:
        return T.sram_energy_per_bit(self.hw.sram_kb * 1024, self.node)

    def e_io_bit(self) -> float:
        """Tile-local input/output buffer (8 KB SRAM, ISAAC-style eDRAM/SRAM) per bit [J]."""
        return T.sram_energy_per_bit(8 * 1024, self.node)

    def e_dram_bit(self) -> float:
        return T.dram_energy_per_bit(self.hw.dram_type)

    def a_sram(self) -> float:
        """Area of the on-chip SRAM buffer [µm²]."""
        return self.hw.sram_kb * 1024 * 8 * T.sram_area_per_bit_um2(self.node)

    def t_sram_bits(self, bits: float) -> float:
        return bits / (256.0 * self.hw.clock_hz)  # 256-bit port per clock (assumption)

    def t_dram_bits(self, bits: float) -> float:
        return bits / T.DRAM_BITS_PER_S[self.hw.dram_type]

    # ---- writes -------------------------------------------------------------------------
    @property
    def v_write(self) -> float:
        return max(self.dev.v_write_up, self.dev.v_write_down)

    @property
    def t_write(self) -> float:
        return max(self.dev.t_write_up, self.dev.t_write_down)

    def e_pulse_device(self) -> float:
        """Mean device energy of one write pulse [J]: preset value or V_w²·G_mean·t_w."""
        d = self.dev
        if d.pulse_energy > 0:
            return d.pulse_energy
        return 0.5 * (d.v_write_up ** 2 * d.t_write_up + d.v_write_down ** 2 * d.t_write_down) \
            * self.g_mean

    def e_update_drivers(self, rows: int, cols: int, pulses: float) -> float:
        """Line charging of one parallel outer-product update of a ``rows x cols`` tile that
        applies ``pulses`` device pulses [J].

        V/2 scheme: a pulse needs its row line and its column line driven to ±V_w/2 for one
        slot; lines are shared by all pulses in the same slot, so the driven line-slots are
        ``min(lines x update_slots, pulses)`` on each side (dense updates: every line in every
        slot; sparse updates: about one row and one column charge per pulse).
        """
        dpw = self.devices_per_weight()
        slots = self.hw.update_slots
        row_slots = min(rows * slots, pulses)
        col_slots = min(cols * dpw * slots, pulses)
        c = row_slots * self.c_line(cols * dpw) + col_slots * self.c_line(rows)
        return c * (self.v_write / 2) ** 2

    def e_verify_read(self, line_cells: int) -> float:
        """One verify read of a device: cell read + line toggle + integrator + ADC [J]."""
        cell = self.v_read ** 2 * self.g_mean * self.t_read
        return (cell * (1.0 + self.cco_supply_factor())
                + self.c_line(line_cells) * self.v_read * self.vdd
                + self.e_integrator() + self.e_adc(self.hw.adc_bits))

    def t_verify_iteration(self) -> float:
        return self.t_write + self.t_read + self.hw.cols_per_adc * self.t_adc(self.hw.adc_bits)

    def a_write_driver(self) -> float:
        """A write driver per line (~ two 1-bit drivers sized up 4x) [µm²]."""
        return 8 * self._a(0.17, 32)

    # ---- tile ---------------------------------------------------------------------------
    def tile_area(self, transposed: str = "none") -> dict[str, float]:
        """Area of one tile by component [µm²] for a transposed-readout option.

        ``transposed``: ``none`` (forward periphery only), ``shared_transposable`` (muxes so
        the same drivers/ADCs serve both directions; ADCs sized for the larger of forward and
        backward bits) or ``separate_periphery`` (column drivers + row ADCs added).
        """
        hw = self.hw
        R, C = hw.tile_rows, hw.tile_cols
        dev_cols = C * self.devices_per_weight()
        conv_cols = C * self.n_weight_slices      # one conversion per (pair, slice) column
        n_adc = math.ceil(conv_cols / hw.cols_per_adc)
        fwd_bits = hw.adc_bits
        if transposed == "shared_transposable":
            fwd_bits = max(hw.adc_bits, hw.transposed_adc_bits)
        a = {
            "array": R * dev_cols * self.a_cell(),
            "dac": R * self.a_dac(),
            "adc": n_adc * self.a_adc(fwd_bits),
            "integrator": conv_cols * self.a_integrator(),
            "shift_add": n_adc * (self.a_shift_add() + self.a_accumulator()),
            "write_drivers": (R + dev_cols) * self.a_write_driver(),
            "transposed_periphery": 0.0,
        }
        if transposed == "shared_transposable":
            # a 2:1 transmission-gate mux per row and per column (~ one 1-bit driver each)
            a["transposed_periphery"] = (R + C) * self._a(0.17, 32)
        elif transposed == "separate_periphery":
            n_adc_t = math.ceil(R / hw.cols_per_adc)
            a["transposed_periphery"] = (C * self.a_dac() + n_adc_t * self.a_adc(hw.transposed_adc_bits)
                                         + R * self.a_integrator()
                                         + n_adc_t * (self.a_shift_add() + self.a_accumulator()))
        return a
