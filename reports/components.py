"""Component models: energy [J], area [µm²] and latency [s] of every block of a tile.

`Costs(hw)` evaluates every block for one `Hardware`. Energies are per event (one conversion,
one line charge, one pulse, one bit, ...); areas in **µm²** (the estimate converts totals to
mm²); latencies in seconds. reports/README.md gives every equation with its source; the
converters (ADC per ``adc_type``, DAC / encoding per ``input_mode``) live in
`reports.converters`, one class each.

Supply domains (``v_read``, ``v_wordline``, ``v_analog``, ``v_logic``; unset = the node's
nominal Vdd, technology.vdd): every capacitive energy is C·V² (or C·V_swing·V_supply for a
line that swings to V_read, or to V_analog on charge-domain arrays, from the analog rail) in its
own domain. Digital energies are moved to the node by `technology.logic_energy_scale` (at the
node's nominal Vdd) and then by (v_logic / technology.vdd(node))²; the Horowitz 45 nm figures
(0.9 V [S1]) are thereby treated as if at the table's 45 nm nominal Vdd, 1.0 V.

Sources ([S#] as listed in reports/README.md):
line loads 1.5 fF access transistor + 0.6 fF cell coupling + 48 fF driver at 130 nm
(NeuRRAM [S10/S12], capacitances ∝ F); integrator 0.25 pJ per step and sampler 1.2 pJ per
sample at 130 nm / 1.8 V (NeuRRAM [S11]) as capacitances ∝ F; 1-b register 0.009 pJ / 6 µm²
at 40 nm (Aladdin [S11]); shift-add 0.021 pJ / 60 µm² at 32 nm (ISAAC [S11]); Horowitz ops
[S1]; leakage densities of logic and SRAM at 32 nm from MLP+NeuroSim V3.0 [S8].
"""

from __future__ import annotations

import math
from functools import cached_property

from . import technology as T
from .converters import ConverterContext, DACModel, get_adc, get_dac, ktc_capacitance_f
from .converters.base import ANALOG_FRONT_END_A_UM2
from .hardware import Hardware

FF = 1e-15
PJ = 1e-12
# line capacitances at 130 nm (NeuRRAM, [S10] quoting [S12]); gate/junction caps scale ∝ F
C_ACCESS_GATE_130 = 1.5 * FF      # access-transistor gate on the wordline, per cell
C_CELL_COUPLING_130 = 0.6 * FF    # device + drain coupling on a bit/source line, per cell
C_DRIVER_130 = 48 * FF            # driver output + wire end load
# integrator: 0.25 pJ per integration at 1.8 V, 130 nm (NeuRRAM [S11]) -> C per nm of F
C_INT_PER_NM = 0.25 * PJ / 1.8 ** 2 / 130
# sample-and-hold: 1.2 pJ per sample at 1.8 V, 130 nm (NeuRRAM [S11]) -> C per nm of F;
# never below the kT/C capacitance of the converted bits
C_SH_PER_NM = 1.2 * PJ / 1.8 ** 2 / 130
# driver on-resistance for line settling (assumption: a minimum-length driver sized for
# ~100 fF loads at ~0.1-1 ns; documented in README "Latency")
R_DRIVER_OHM = 2e3
# register bit toggle (Aladdin 40 nm, taken at 45 nm nominal) [S11]
E_REG_BIT_45 = 0.009 * PJ
A_REG_BIT_45 = 6.0
# a clocked register's clock pin takes about a quarter of a data toggle per cycle
# (assumption)
CLOCK_SHARE = 0.25
# charge-domain cell overhead: switched capacitance of a computing bit cell's compute switches
# beyond its MAC capacitor and line wiring, toggled once per read [F], ∝ F. Fitted on Jia 2020
# (65 nm, 0.85 V, dense 1-bit inputs): its measured 9.7 pJ per column and cycle minus our row
# lines, column line and capacitors, over 2304 cells at 0.85 V (reports/README.md, `array`
# (charge) row and "Calibration against measured chips").
C_CHARGE_CELL_OVERHEAD_65 = 2.43 * FF
# each write physics' constants (which physics a device gets: Hardware.priced_write_model)
FEFET_Q = 1.2e-15       # C: 2·P_r·A, P_r 20 µC/cm², A 0.003 µm² (assumption, HZO FeFET)
ECRAM_Q = 1.0e-17       # C: < 10 aJ per write at 1 V (Fuller et al. 2017 [S29])
RRAM_I_COMPLIANCE = 100e-6   # A: 1T1R SET compliance (assumption, typical 50-200 µA)
PCM_I_RESET = 300e-6         # A: mushroom-cell RESET current (assumption, 100-500 µA)
# shift-add area per bit: power law through ISAAC 16 b / 60 µm² @ 32 nm and NeuRRAM
# 8 b / 170 µm² @ 130 nm [S11]
SHIFT_ADD_A_BIT_32 = 60.0 / 16
SHIFT_ADD_A_EXP = math.log((170.0 / 8) / SHIFT_ADD_A_BIT_32) / math.log(130 / 32)
# metal-oxide-metal capacitor density (assumption, MOM 1-2 fF/µm²)
CAP_DENSITY_F_PER_UM2 = 1.0 * FF
# wire capacitance per µm of line: the usual rule of thumb for on-chip wires (a modelling
# assumption, not a measured value)
C_WIRE_PER_UM = 0.2 * FF
# a tile's sequencer / control state machine: ~64 flip-flops clocked every cycle (assumption)
CONTROL_FLOPS = 64
# Leakage: P = I_off(node) x V_logic x W (transistor width per mm² of a block).
# W: 1.13 m of gate width per mm² of logic at 32 nm (what makes MLP+NeuroSim V3.0's
# high-performance periphery, 105.65 µW over 8663 µm² at 0.9 V [S8], leak at 12 nA/µm),
# ∝ 1/F. I_off: low-power (LP/LSTP) processes, as the calibration macros use, 10-50 pA per
# µm of width (ITRS LSTP targets; assumption), FinFET nodes <= 16 nm about 30 pA/µm.
# High-performance logic (12 nA/µm above) leaks 240-400x the 30-50 pA/µm used at 7-65 nm
# (600-1200x at 90-130 nm): price it with leakage_model = "flat".
I_OFF_NA_PER_UM = {130: 0.01, 90: 0.02, 65: 0.03, 45: 0.04, 32: 0.05, 22: 0.05, 16: 0.03,
                   14: 0.03, 10: 0.03, 7: 0.03}
LEAK_HP_32 = 105.65e-6 / 8663e-6
W_LOGIC_32 = LEAK_HP_32 / (12e-9 * 0.9)
# SRAM leaks 3.5x logic per mm² (NeuroSim V3.0: 6-bit SRAM design 2.80 mW / 65728 µm² at
# 32 nm [S8], 0.0426 W/mm²); analog blocks (capacitor arrays, integrators, drivers) leak
# only through their switches and logic: a tenth of logic per mm² (assumption)
SRAM_LEAK_RATIO = (2.80e-3 / 65728e-6) / LEAK_HP_32
ANALOG_LEAK_SHARE = 0.1


def digital_op_energies(node_nm: int, v_logic: float | None = None) -> dict[str, float]:
    """Energy [J] of one event of each digital ledger counter at ``node_nm`` (and ``v_logic``;
    default nominal Vdd)."""
    n = node_nm
    f = 1.0 if v_logic is None else (v_logic / T.vdd(n)) ** 2
    return {
        "dig_mac": f * (T.op_energy("int8_mult", n) + T.op_energy("int32_add", n)),
        "dig_add": f * T.op_energy("int32_add", n),
        "dig_cmp": f * 0.029 * PJ * T.logic_energy_scale(n),
        "dig_nonlin": f * (T.op_energy("fp16_mult", n) + T.op_energy("fp16_add", n)
                           + 16 * T.sram_energy_per_bit(8 * 1024, n)),
        "rng_draws": f * 3 * T.op_energy("int32_add", n),
    }


def leakage_density_w_per_mm2(kind: str, node_nm: int, v_logic: float | None = None) -> float:
    """Leakage power density of a block type (``logic`` | ``sram`` | ``analog``) [W/mm²]:
    ``I_off(node) · V · W_logic(node) x share`` (`I_OFF_NA_PER_UM`, width ∝ 1/F)."""
    v = T.vdd(node_nm) if v_logic is None else v_logic
    logic = I_OFF_NA_PER_UM[int(node_nm)] * 1e-9 * v * W_LOGIC_32 * 32.0 / node_nm
    return logic * {"logic": 1.0, "sram": SRAM_LEAK_RATIO, "analog": ANALOG_LEAK_SHARE}[kind]


class Costs:
    """Per-event energy [J], area [µm²] and latency [s] of every block for ``hw``."""

    def __init__(self, hw: Hardware) -> None:
        self.hw = hw
        self.node = hw.node_nm
        self.dev = hw.device_model()
        self.vdd_nom = T.vdd(self.node)
        self.v_logic = hw.v_logic if hw.v_logic is not None else self.vdd_nom
        self.v_analog = hw.v_analog if hw.v_analog is not None else self.vdd_nom
        self.v_wordline = hw.v_wordline if hw.v_wordline is not None else self.vdd_nom
        self.vdd = self.v_analog          # the rail the array current and drivers draw from
        self.v_read = hw.read_voltage()
        self.t_read = hw.read_time()
        self.s_logic = T.logic_energy_scale(self.node) * (self.v_logic / self.vdd_nom) ** 2
        self.s_area = T.area_scale(self.node)
        self.adc = get_adc(hw.adc_type)
        self.dac = get_dac(hw.input_mode)
        self.ctx = ConverterContext(
            node_nm=self.node, v_analog=self.v_analog, v_logic=self.v_logic,
            clock_hz=hw.clock_hz, read_window_s=self.read_window(),
            e_reg_bit_j=self._e(E_REG_BIT_45, 45), a_reg_bit_um2=self._a(A_REG_BIT_45, 45),
            design_bits=hw.adc_design_bits or 0, sar_clocking=hw.sar_clocking)

    # ---- helpers ---------------------------------------------------------------------------
    def _e(self, e_ref: float, ref_nm: int) -> float:
        """A logic energy measured at ``ref_nm`` (nominal Vdd) moved to this node and v_logic."""
        return e_ref * self.s_logic / T.logic_energy_scale(ref_nm)

    def _a(self, a_ref: float, ref_nm: int) -> float:
        """A logic area measured at ``ref_nm`` moved to this node."""
        return a_ref * self.s_area / T.area_scale(ref_nm)

    def _f(self, c_130: float) -> float:
        """A capacitance given at 130 nm moved to this node (∝ F) [F]."""
        return c_130 * self.node / 130.0

    @property
    def bit_density(self) -> float:
        """Fraction of bit-serial input bits that are 1 (``input_bit_density``; 0.5 if unset)."""
        d = self.hw.input_bit_density
        return 0.5 if d is None else d

    def line_density(self) -> float:
        """Line charges per driven bit / unit pulse: bit-serial rows toggle for every bit
        unless ``input_bit_density`` is set; pulse counts follow E|x| ≈ √activity."""
        if self.hw.input_mode == "pulse_count":
            return math.sqrt(max(self.hw.input_activity, 0.0))
        d = self.hw.input_bit_density
        return 1.0 if d is None else d

    def t_pwm_window(self) -> float:
        """Full-scale PWM pulse: ``2^(dac_bits-1)`` clock periods (sign = polarity) [s]."""
        return 2 ** (self.hw.dac_bits - 1) / self.hw.clock_hz

    @cached_property
    def slice_bits(self) -> list[int]:
        """Bits carried by each read of one input (``input_mode``, ``input_slice_bits``)."""
        # where input_slice_bits applies is the chip's rule (Hardware._refuse_moot_fields)
        s = self.hw.input_slice_bits
        grouped = self.hw.input_mode == "bit_serial" and self.hw.input_accumulation == "analog"
        return self.dac.split(self.hw.dac_bits, None if grouped else s)

    def read_window(self) -> float:
        """Mean time one read keeps the lines driven (the encoding's window per slice) [s]."""
        hw = self.hw
        return sum(self.dac.window_s(b, hw.read_time(), hw.clock_hz) for b in self.slice_bits) \
            / len(self.slice_bits)

    @property
    def n_in_slices(self) -> int:
        """Reads per input vector (bit-serial inputs: one per bit; sliced inputs: slices)."""
        return len(self.slice_bits)

    @property
    def n_weight_slices(self) -> int:
        """Device columns per weight (digital multi-level cells) or 1 (analog pair)."""
        cb = self.hw.cell_bits
        return 1 if cb == 0 else math.ceil(self.hw.weight_bits / cb)

    @cached_property
    def conversion_groups(self) -> list[int]:
        """Input bits behind each conversion of one vector: one per read (digital
        accumulation), or bits integrated in analog before one conversion: bit-serial inputs
        in groups of ``input_slice_bits`` (default all bits), other encodings all reads."""
        if self.hw.input_accumulation == "digital":
            return list(self.slice_bits)
        if self.hw.input_mode == "bit_serial":   # the generic split: groups of bits
            return DACModel.split(self.dac, self.hw.dac_bits, self.hw.input_slice_bits)
        return [sum(self.slice_bits)]

    @property
    def time_weighted(self) -> bool:
        """Bit-serial inputs integrated in analog: bit k is weighted by integrating its charge
        for 2^k unit steps (NeuRRAM's neuron [S12]), 2^g − 1 steps per group of g bits."""
        return self.hw.input_accumulation == "analog" and self.hw.input_mode == "bit_serial"

    def integration_steps_per_vector(self) -> float:
        """Unit integration steps per column and vector (pulse counts: 2^s − 1 per read;
        time-weighted bit-serial: 2^g − 1 per conversion group; else one per read)."""
        if self.time_weighted:
            return float(sum(2 ** g - 1 for g in self.conversion_groups))
        return float(sum(self.dac.steps(b) for b in self.slice_bits))

    def array_time_per_vector(self, line_cells: int) -> float:
        """Time the array stage takes per vector [s]: every read's window plus settling;
        time-weighted integration takes one clock period per integration step instead."""
        if self.time_weighted:
            return (self.integration_steps_per_vector() / self.hw.clock_hz
                    + self.n_in_slices * self.t_settle(line_cells))
        hw = self.hw
        return sum(self.dac.window_s(b, hw.read_time(), hw.clock_hz) + self.t_settle(line_cells)
                   for b in self.slice_bits)

    @property
    def conv_per_read(self) -> tuple[int, int]:
        """(conversions per vector and column for the input slices, weight slices that each
        need their own conversion): analog accumulation combines them before one conversion."""
        ns = len(self.conversion_groups)
        nw = 1 if self.hw.weight_accumulation == "analog" else self.n_weight_slices
        return ns, nw

    @property
    def g_mean(self) -> float:
        d = self.dev
        return d.g_min + self.hw.g_fraction * (d.g_max - d.g_min)

    @property
    def charge_array(self) -> bool:
        return self.hw.array_type == "charge"

    # ---- lines, drivers, DAC ---------------------------------------------------------------
    def cell_pitch_um(self) -> float:
        """Pitch of one cell along a line [µm] (square cell of ``cell_f2`` F²)."""
        return math.sqrt(self.a_cell())

    def c_wire_cell(self) -> float:
        """Wire capacitance of one cell pitch of a line: 0.2 fF/µm (C_WIRE_PER_UM) [F]."""
        return C_WIRE_PER_UM * self.cell_pitch_um()

    def c_cell(self) -> float:
        """Line capacitance contributed by one cell [F]: access-transistor drain (the 1.5 fF
        gate value `C_ACCESS_GATE_130` reused for the drain) + device coupling (0.6 fF), both at
        130 nm ∝ F, + one pitch of wire."""
        return self._f(C_ACCESS_GATE_130 + C_CELL_COUPLING_130) + self.c_wire_cell()

    def c_line(self, n_cells: int) -> float:
        """Capacitance of a line crossing ``n_cells`` devices, plus its driver [F]."""
        return n_cells * self.c_cell() + self._f(C_DRIVER_130)

    def devices_per_weight(self) -> int:
        """Devices per weight: a differential pair per slice (resistive), one cell per slice
        with offset / XNOR sign coding (charge-domain SRAM)."""
        single = self.charge_array or self.hw.weight_mapping == "single"
        return (1 if single else 2) * self.n_weight_slices

    def e_line(self, line_cells: int) -> float:
        """One full charge of a driven line: swings to V_read (to V_analog on charge-domain
        arrays), charge from the analog rail [J]."""
        v = self.v_read if not self.charge_array else self.v_analog
        return self.c_line(line_cells) * v * self.v_analog

    def e_dac(self, line_cells: int) -> float:
        """One input value converted and driven onto a line of ``line_cells`` devices, all its
        slices [J]."""
        e_line = self.e_line(line_cells)
        return sum(self.dac.energy_j(b, e_line, self.ctx, self.line_density())
                   for b in self.slice_bits)

    def e_pwm_generator(self) -> float:
        """The PWM / pulse-count generator of one row per conversion [J] (converters.dac)."""
        from .converters.dac import _pulse_generator
        return _pulse_generator(self.hw.dac_bits, self.ctx)

    def a_dac(self) -> float:
        """Area of one row driver / DAC [µm²]."""
        return self.dac.area_um2(self.hw.dac_bits, self.ctx)

    def t_dac(self) -> float:
        return 1.0 / self.hw.clock_hz

    # ---- wordline / access switching --------------------------------------------------------
    def e_wordline(self, n_cells: int) -> float:
        """One wordline cycle (up and down) across ``n_cells`` access gates: C_wl·V_wl² [J]."""
        c = n_cells * (self._f(C_ACCESS_GATE_130) + self.c_wire_cell()) + self._f(C_DRIVER_130)
        return c * self.v_wordline ** 2

    def wordline_cycles_per_read(self) -> float:
        """Wordline cycles per row per read (one read = one input slice)."""
        mode = self.hw.wordline_switching
        if mode == "none":
            return 0.0
        if mode == "per_bit":
            d = self.line_density() if self.hw.input_mode == "bit_serial" else 1.0
            return d * sum(self.slice_bits) / self.n_in_slices
        return 1.0 / self.n_in_slices      # per_vector: once over all slices

    # ---- array -----------------------------------------------------------------------------
    def e_cell_read(self) -> float:
        """Synthetic mean energy of one cell read at mean input activity [J] (resistive:
        V_read²·G·t x activity; charge: c_mac·V_analog²/2 x activity, amplitude-coded)."""
        if self.charge_array:
            return self.e_charge_cell() * self.hw.input_activity
        return self.v_read ** 2 * self.g_mean * self.t_read * self.hw.input_activity

    def e_charge_cell(self) -> float:
        """One charge-domain cell's capacitor at full input [J]: charged when its weight bit
        is 1 (half the bits), ``c_mac·V²/2``; scaled by the input statistics like the
        resistive array term."""
        return 0.5 * self.hw.c_mac * self.v_analog ** 2

    def e_charge_overhead(self) -> float:
        """One charge-domain cell's compute switches, toggled once per read whatever the data,
        `C_CHARGE_CELL_OVERHEAD_65`·(F/65 nm)·V_analog² [J] (0 for resistive arrays)."""
        if not self.charge_array:
            return 0.0
        return C_CHARGE_CELL_OVERHEAD_65 * self.node / 65.0 * self.v_analog ** 2

    def e_column_reset(self, rows: int) -> float:
        """Charge-domain column (bit) line of ``rows`` cells reset and re-shared once per
        read: C_line(rows)·V_analog² [J]; resistive arrays: 0 (their line charge is the
        driver's)."""
        return self.c_line(rows) * self.v_analog ** 2 if self.charge_array else 0.0

    def array_input_factor(self) -> float:
        """Multiplier on the ledger's amplitude-coded array energy for this encoding, summed
        over the slices of one input."""
        hw = self.hw
        return sum(self.dac.array_factor(b, self.t_read, hw.clock_hz, hw.input_activity,
                                         self.bit_density) for b in self.slice_bits)

    def a_cell(self) -> float:
        """Area of one device [µm²] (``cell_f2`` F²)."""
        f = self.node * 1e-3
        return self.hw.cell_f2 * f * f

    # ---- ADC -------------------------------------------------------------------------------
    def e_adc(self, bits: int) -> float:
        """Energy of one conversion at ``bits`` [J] (reports.converters, per ``adc_type``)."""
        return self.adc.energy_j(bits, self.ctx)

    def a_adc(self, bits: int) -> float:
        return self.adc.area_um2(bits, self.ctx)

    def t_adc(self, bits: int) -> float:
        return self.adc.time_s(bits, self.ctx)

    def cco_supply_factor(self) -> float:
        """ADC energy drawn per joule of array term (CCO: (V_analog − V_read)/V_read; 0 for
        the others)."""
        return self.adc.supply_factor(self.ctx, self.v_read)

    # ---- integrator, sample-and-hold, shift-add, accumulation ------------------------------
    @property
    def has_integrator(self) -> bool:
        """Resistive arrays read by a non-integrating ADC need an integrator / TIA per column;
        charge arrays hold their result on the bit line; a CCO integrates in its counter."""
        if self.charge_array:
            return False
        return self.hw.adc_type != "cco"

    def e_integrator(self) -> float:
        """One integration step (C_int·V_analog², NeuRRAM 0.25 pJ @ 130 nm, 1.8 V) [J]."""
        return C_INT_PER_NM * self.node * self.v_analog ** 2 if self.has_integrator else 0.0

    def a_integrator(self) -> float:
        """One column's integrator [µm²]: NeuRRAM's published 350 µm² at 130 nm
        (`converters.base.ANALOG_FRONT_END_A_UM2`) moved with the logic scale. Unlike a CCO's
        front end (one per converter, node-independent) it is kept on the logic scale: the
        model places one per column, also behind shared ADCs, where real column-muxed chips
        hold each column with a smaller sampler; node-independent, it would double the
        default chip's area (reports/README.md, "Where the model is still outside 2×")."""
        return self._a(ANALOG_FRONT_END_A_UM2, 130) if self.has_integrator else 0.0

    def sample_holds_per_conversion(self) -> float:
        """Sample-and-hold events per conversion: inputs accumulated in analog are sampled
        before converting, and an integrating ADC samples its integrator."""
        if self.hw.input_accumulation == "analog" and self.n_in_slices > 1:
            return 1.0
        return 1.0 if self.adc.needs_sample_hold else 0.0

    def e_sample_hold(self) -> float:
        """One sample: C_sh·V_analog², C_sh = max(NeuRRAM 1.2 pJ @ 130 nm, 1.8 V ∝ F,
        the kT/C capacitance of adc_bits) [J]."""
        c = max(C_SH_PER_NM * self.node, ktc_capacitance_f(self.hw.adc_bits, self.v_analog))
        return c * self.v_analog ** 2

    def a_sample_hold(self) -> float:
        """A sampling capacitor of `e_sample_hold`'s C_sh at 1 fF/µm² (MOM, assumption) [µm²];
        NeuRRAM's sampler is 45-350 µm² [S11]."""
        if self.sample_holds_per_conversion() <= 0:
            return 0.0
        return self.e_sample_hold() / self.v_analog ** 2 / CAP_DENSITY_F_PER_UM2

    @property
    def shift_add_bits(self) -> int:
        """Width of the per-ADC shift-add accumulator: ADC bits plus the bits its slices
        shift in (input slices converted separately, weight slices)."""
        ns, nw = self.conv_per_read
        shift_in = sum(self.slice_bits) if ns > 1 else 0
        shift_w = self.hw.weight_bits if nw > 1 else 0
        return self.hw.adc_bits + shift_in + shift_w

    def e_shift_add(self) -> float:
        """One shift-and-add of a conversion result (ISAAC 16 b 0.021 pJ @ 32 nm [S11],
        ∝ width) [J]."""
        return self._e(0.021 * PJ, 32) * self.shift_add_bits / 16

    def a_shift_add(self) -> float:
        """One shift-add accumulator, only where slices are combined digitally [µm²]:
        ``width · 3.75 µm² · (F/32 nm)^1.24`` per bit, the power law through ISAAC's 16 b,
        60 µm² at 32 nm and NeuRRAM's 8 b, 170 µm² at 130 nm [S11]."""
        ns, nw = self.conv_per_read
        if ns * nw <= 1:
            return 0.0
        return self.shift_add_bits * SHIFT_ADD_A_BIT_32 * (self.node / 32.0) ** SHIFT_ADD_A_EXP

    def e_accumulate_add(self) -> float:
        return T.op_energy("int32_add", self.node) * (self.v_logic / self.vdd_nom) ** 2

    def e_rescale(self) -> float:
        return T.op_energy("int8_mult", self.node) * (self.v_logic / self.vdd_nom) ** 2

    def a_accumulator(self) -> float:
        return T.op_area_um2("int32_add", self.node)

    # ---- control and clocking, static bias ------------------------------------------------
    def n_adc(self, cols: int) -> int:
        """ADCs of a tile with ``cols`` weight columns: one per ``cols_per_adc`` converted
        columns (weight slices combined in analog share one)."""
        return math.ceil(cols * self.conv_per_read[1] / self.hw.cols_per_adc)

    def registers_per_tile(self, rows: int, cols: int) -> int:
        """Register bits of a tile's periphery (area): one input register per row
        (``dac_bits``), one output register per ADC (``adc_bits``) and the sequencer
        (`CONTROL_FLOPS`)."""
        n_adc = self.n_adc(cols)
        return rows * self.hw.dac_bits + n_adc * self.hw.adc_bits + CONTROL_FLOPS

    def e_clock_cycle(self, rows: int, cols: int) -> float:
        """Clock tree + sequencer of one tile for one clock period [J]: the `CONTROL_FLOPS`
        clock pins (`CLOCK_SHARE` of a 1-b register toggle each). Data registers are
        clock-gated: they are charged where they work (`e_conversion_clocking`,
        `e_input_load`)."""
        return CONTROL_FLOPS * CLOCK_SHARE * self.ctx.e_reg_bit_j

    def e_conversion_clocking(self, bits: int) -> float:
        """Clocking an ADC's ``bits``-bit output register through one conversion: one clock
        per bit decided (B steps x B clock pins) [J]."""
        return bits * bits * CLOCK_SHARE * self.ctx.e_reg_bit_j

    def e_input_load(self) -> float:
        """Loading one input value into its row register (``dac_bits`` toggles) [J]."""
        return self.hw.dac_bits * self.ctx.e_reg_bit_j

    def p_bias(self, cols: int) -> float:
        """Static bias power of one tile's ADCs while it reads [W]."""
        n_adc = self.n_adc(cols)
        return n_adc * self.hw.analog_bias_a * self.v_analog

    # ---- core scope: local post-processing and I/O buffer ----------------------------------
    def e_postprocess(self) -> float:
        """Per output beyond the rescale multiply: affine offset add (32-b add) and ReLU
        (32-b comparator), as HERMES' local digital processing unit does [S14] [J]."""
        return self.e_accumulate_add() + self.digital_op["dig_cmp"]

    def a_postprocess_lane(self) -> float:
        """One post-processing lane (8-b mult + 32-b add + 32-b comparator, 71 µm² Aladdin
        @ 40 nm taken as 45 nm [S11]) [µm²]; a core has one per ADC."""
        return (T.op_area_um2("int8_mult", self.node) + T.op_area_um2("int32_add", self.node)
                + 71.0 * self.s_area)

    def a_io_buffer(self, rows: int, cols: int) -> float:
        """SRAM bits for one input and one output vector (``dac_bits`` each) [µm²]
        (`technology.sram_area_per_bit_um2`; leaks as SRAM)."""
        return (rows + cols) * self.hw.dac_bits * T.sram_area_per_bit_um2(self.node)

    # ---- digital logic ---------------------------------------------------------------------
    @cached_property
    def digital_op(self) -> dict[str, float]:
        """Energy per ledger digital counter [J]."""
        return digital_op_energies(self.node, self.v_logic)

    # ---- memories --------------------------------------------------------------------------
    def _sram_v(self) -> float:
        return (self.v_logic / self.vdd_nom) ** 2

    def e_sram_bit(self) -> float:
        return T.sram_energy_per_bit(self.hw.sram_kb * 1024, self.node) * self._sram_v()

    def e_io_bit(self) -> float:
        """Tile-local input/output buffer (8 KB SRAM) per bit [J]."""
        return T.sram_energy_per_bit(8 * 1024, self.node) * self._sram_v()

    def e_dram_bit(self) -> float:
        return T.dram_energy_per_bit(self.hw.dram_type)

    def a_sram(self) -> float:
        """Area of the on-chip SRAM buffer [µm²]."""
        return self.hw.sram_kb * 1024 * 8 * T.sram_area_per_bit_um2(self.node)

    def t_sram_bits(self, bits: float) -> float:
        return bits / (256.0 * self.hw.clock_hz)  # 256-bit port per clock (assumption)

    def t_dram_bits(self, bits: float) -> float:
        return bits / T.DRAM_BITS_PER_S[self.hw.dram_type]

    # ---- leakage ---------------------------------------------------------------------------
    def leak_density(self, kind: str) -> float:
        """Leakage [W/mm²] of a block type at this node and v_logic (``flat``: the field)."""
        if self.hw.leakage_model == "flat":
            return self.hw.leakage_w_per_mm2
        return leakage_density_w_per_mm2(kind, self.node, self.v_logic)

    def leakage_w(self, area_um2: dict[str, float]) -> float:
        """Leakage of a tile by block type [W]: non-volatile cells do not leak, SRAM cells of a
        charge-domain array leak as SRAM, periphery by its type (`leakage_density_w_per_mm2`;
        ``leakage_model = "flat"``: ``leakage_w_per_mm2`` everywhere)."""
        kinds = {"array": "sram" if self.charge_array else "none",
                 "dac": "analog", "adc": "analog", "integrator": "analog",
                 "sample_hold": "analog", "write_drivers": "analog",
                 "transposed_periphery": "analog", "shift_add": "logic", "control": "logic",
                 "postprocess": "logic", "io_buffer": "sram", "sram": "sram",
                 "digital": "logic"}
        return sum(v * 1e-6 * self.leak_density(kinds[k]) for k, v in area_um2.items()
                   if kinds.get(k, "none") != "none")

    # ---- latency ---------------------------------------------------------------------------
    def t_settle(self, line_cells: int) -> float:
        """Settling of a driven line to half an LSB of ``adc_bits``: (B+1)·ln2·R_drv·C_line."""
        return (self.hw.adc_bits + 1) * math.log(2) * R_DRIVER_OHM * self.c_line(line_cells)

    # ---- writes ----------------------------------------------------------------------------
    @property
    def v_write(self) -> float:
        return max(self.dev.v_write_up, self.dev.v_write_down)

    @property
    def t_write(self) -> float:
        return max(self.dev.t_write_up, self.dev.t_write_down)

    @cached_property
    def write_model(self) -> str:
        """The write physics priced (``write_model``; ``auto``: by the device's family,
        `crossbar.chip.Hardware.priced_write_model`)."""
        return self.hw.priced_write_model()

    def e_pulse_up_down(self) -> tuple[float, float]:
        """Device energy of one potentiation and one depression pulse [J], by write physics:

        * channel: ``V_w²·G_mean·t_w`` (or the preset's ``pulse_energy``);
        * gate_charge (ECRAM, FeFET): ``Q·V_w`` — the charge moved onto the gate (FeFET:
          ferroelectric switching charge 2·P_r·A, P_r ≈ 20 µC/cm² over ~0.003 µm² = 1.2 fC;
          ECRAM: ≲ 10 aJ at 1 V, Fuller 2017 [S29]); no channel current flows during a write;
        * compliance (RRAM): SET ``V_up·min(V_up·G_max, I_cc)·t_up`` (the access transistor
          limits the current to the compliance, 100 µA by default), RESET ``V_down²·G_mean·t``;
        * phase_change (PCM): partial SET through the cell ``V_up²·G_mean·t_up``, RESET at the
          melting current ``V_down·I_reset·t_down`` (300 µA by default; NeuroSim's GST RESET
          3 V / 125 ns [S8])."""
        d, hw = self.dev, self.hw
        m = self.write_model
        ch_up = d.v_write_up ** 2 * self.g_mean * d.t_write_up
        ch_dn = d.v_write_down ** 2 * self.g_mean * d.t_write_down
        if m == "gate_charge":
            q = hw.write_charge_c
            if q is None:
                q = FEFET_Q if "fefet" in f"{hw.device} {d.name}".lower() else ECRAM_Q
            return q * d.v_write_up, q * d.v_write_down
        if m == "compliance":
            i = RRAM_I_COMPLIANCE if hw.write_current_a is None else hw.write_current_a
            return d.v_write_up * min(d.v_write_up * d.g_max, i) * d.t_write_up, ch_dn
        if m == "phase_change":
            i = PCM_I_RESET if hw.write_current_a is None else hw.write_current_a
            return ch_up, d.v_write_down * i * d.t_write_down
        if d.pulse_energy > 0:
            return d.pulse_energy, d.pulse_energy
        return ch_up, ch_dn

    def e_pulse_device(self) -> float:
        """Mean device energy of one write pulse [J] (`e_pulse_up_down`, up and down alike)."""
        up, dn = self.e_pulse_up_down()
        return 0.5 * (up + dn)

    def e_update_drivers(self, rows: int, cols: int, pulses: float) -> float:
        """Line charging of one parallel outer-product update (V/2 scheme) of a ``rows x cols``
        tile applying ``pulses`` device pulses [J]: ``min(lines·slots, pulses)`` driven
        line-slots on each side, each ``C_line·(V_w/2)²``."""
        dpw = self.devices_per_weight()
        slots = self.hw.update_slots
        row_slots = min(rows * slots, pulses)
        col_slots = min(cols * dpw * slots, pulses)
        c = row_slots * self.c_line(cols * dpw) + col_slots * self.c_line(rows)
        return c * (self.v_write / 2) ** 2

    def e_verify_read(self, line_cells: int) -> float:
        """One cell-verify cycle's read of one device [J]: its cell read, its share of the
        row's line charge (the ``line_cells`` devices of a row are verified together), one
        integration and one conversion."""
        cell = self.v_read ** 2 * self.g_mean * self.t_read
        return (cell * (1.0 + self.cco_supply_factor()) + self.e_line(line_cells) / line_cells
                + self.e_integrator() + self.e_adc(self.hw.adc_bits))

    def t_verify_iteration(self) -> float:
        return self.t_write + self.t_read + self.hw.cols_per_adc * self.t_adc(self.hw.adc_bits)

    def a_write_driver(self) -> float:
        """A write driver per line (~ two 1-bit drivers sized up 4x) [µm²]."""
        return 8 * self._a(0.17, 32)

    # ---- tile ------------------------------------------------------------------------------
    def tile_area(self, transposed: str = "none") -> dict[str, float]:
        """Area of one tile by block [µm²] for a transposed-readout option (``none``,
        ``shared_transposable``: muxes, ADCs sized for the larger bits; ``separate_periphery``:
        column drivers + row ADCs added)."""
        hw = self.hw
        R, C = hw.tile_rows, hw.tile_cols
        dev_cols = C * self.devices_per_weight()
        conv_cols = C * self.n_weight_slices
        n_adc = self.n_adc(C)
        fwd_bits = hw.adc_bits
        if transposed == "shared_transposable":
            fwd_bits = max(hw.adc_bits, hw.transposed_adc_bits)
        cap = 0.0
        if self.charge_array:
            # metal-fringe capacitor over the cell (Jia 2020: no extra area) - the cell F²
            cap = 0.0
        a = {
            "array": R * dev_cols * self.a_cell() + cap,
            "dac": R * self.a_dac(),
            "adc": n_adc * self.a_adc(fwd_bits),
            "integrator": conv_cols * self.a_integrator(),
            "sample_hold": C * self.conv_per_read[1] * self.a_sample_hold(),
            "shift_add": n_adc * self.a_shift_add(),
            "control": self.registers_per_tile(R, C) * self.ctx.a_reg_bit_um2,
            "write_drivers": (R + dev_cols) * self.a_write_driver(),
            "transposed_periphery": 0.0,
        }
        if transposed == "shared_transposable":
            a["transposed_periphery"] = (R + C) * self._a(0.17, 32)
        elif transposed == "separate_periphery":
            n_adc_t = math.ceil(R / hw.cols_per_adc)
            a["transposed_periphery"] = (C * self.a_dac()
                                         + n_adc_t * self.a_adc(hw.transposed_adc_bits)
                                         + R * self.a_integrator()
                                         + n_adc_t * (self.a_shift_add() + self.a_accumulator()))
        return a
