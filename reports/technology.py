"""Technology tables: CMOS node scaling and the Horowitz 45 nm digital operation costs.

Everything here is data plus a few look-up helpers. Units are SI (joules, volts) except where a
name says otherwise (``_um2`` = square micrometres).

Sources (keys as in the source list of reports/README.md):

* [S1] M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014,
  45 nm, 0.9 V: integer/float add and multiply, SRAM and DRAM access energies. Operator
  areas from the same slide as commonly reproduced (plausible, not checked against the
  original slide: re-check before relying on them).
* [S2] A. Stillmaker, B. Baas, "Scaling equations for the accurate prediction of CMOS device
  performance from 180 nm to 7 nm", Integration 58 (2017) 74-81, as encoded in Accelergy's
  ``techscaling.py`` (github Accelergy-Project/hwcomponents): energy and area factors
  relative to 45 nm.
* [S6] DNN+NeuroSim V1.4 ``Technology.cpp``: nominal Vdd per node.
* [S7] DNN NeuroSim V1.3 manual Table III: 6T SRAM cell area in F² per node.

Scaling rules used by the component models (1 from [S2]; 2-4 are this project's modelling
choices):

1. Digital logic energy is multiplied by ``logic_energy_scale(node)`` (Stillmaker-Baas at each
   node's nominal Vdd, relative to 45 nm); logic area by ``area_scale(node)``.
2. Analog array read energy V²·G·t does not scale with the node (set by device G and V_read).
3. SRAM scales slower than logic (cell F² grows at small nodes): we use
   ``sram_energy_scale = logic_energy_scale ** 0.5`` (our assumption, documented in README).
4. DRAM / off-chip energy does not follow the logic node.
"""

from __future__ import annotations

import math

REFERENCE_NODE_NM = 45

# node_nm: (energy factor at the same 0.8 V, energy factor at nominal Vdd (vs 45 nm @ 1.0 V),
#           area factor, nominal Vdd [V]), [S2] as encoded in Accelergy's techscaling.py.
# Vdd column: Stillmaker-Baas nominal Vdd from the same table; NeuroSim [S6] uses 0.85 V at
# 22 nm and otherwise the same values.
NODE_TABLE: dict[int, tuple[float, float, float, float]] = {
    130: (3.07, 6.19, 6.25, 1.3),
    90: (1.90, 3.16, 2.75, 1.2),
    65: (1.24, 1.65, 1.44, 1.1),
    45: (1.0, 1.0, 1.0, 1.0),
    32: (0.66, 0.53, 0.45, 0.9),
    22: (0.22, 0.20, 0.21, 0.9),
    16: (0.17, 0.14, 0.19, 0.85),
    14: (0.14, 0.095, 0.17, 0.8),
    10: (0.12, 0.069, 0.10, 0.75),
    7: (0.094, 0.047, 0.057, 0.7),
}
NODES: tuple[int, ...] = tuple(sorted(NODE_TABLE, reverse=True))
# the chip description (crossbar.chip) offers exactly the nodes this table prices
from crossbar.chip import NODES as _CHIP_NODES, DRAM_TYPES as _CHIP_DRAM  # noqa: E402
from device_models.checks import check_choice, plain  # noqa: E402
assert _CHIP_NODES == NODES, "crossbar.chip.NODES and reports.technology.NODE_TABLE disagree"


class UnknownNodeError(ValueError):
    """A technology node that is not in the table."""


def _node(node_nm: int) -> int:
    """``node_nm`` if it is a tabulated node (a numpy integer is the int it holds), else
    `UnknownNodeError`: 22.5 is refused, not read as 22."""
    node_nm = plain(node_nm)
    check_choice("node_nm", node_nm, NODES, error=UnknownNodeError)
    return node_nm


def _row(node_nm: int) -> tuple[float, float, float, float]:
    return NODE_TABLE[_node(node_nm)]


def logic_energy_scale(node_nm: int) -> float:
    """Digital logic energy at ``node_nm`` (nominal Vdd) relative to 45 nm [S2]."""
    return _row(node_nm)[1]


def logic_energy_scale_fixed_v(node_nm: int) -> float:
    """Digital logic energy at ``node_nm`` at a fixed 0.8 V relative to 45 nm [S2]."""
    return _row(node_nm)[0]


def area_scale(node_nm: int) -> float:
    """Logic area at ``node_nm`` relative to 45 nm [S2]."""
    return _row(node_nm)[2]


def vdd(node_nm: int) -> float:
    """Nominal supply voltage at ``node_nm`` [V] ([S2] table; [S6] agrees except 22 nm)."""
    return _row(node_nm)[3]


def sram_energy_scale(node_nm: int) -> float:
    """SRAM access energy relative to 45 nm: slower than logic (rule 3); exponent 0.5 assumed."""
    return logic_energy_scale(node_nm) ** 0.5


# ---- Horowitz 45 nm digital operations [S1] ------------------------------------------------
PJ = 1e-12
HOROWITZ_45NM_J: dict[str, float] = {
    "int8_add": 0.03 * PJ,
    "int16_add": 0.05 * PJ,
    "int32_add": 0.1 * PJ,
    "int8_mult": 0.2 * PJ,
    "int32_mult": 3.1 * PJ,
    "fp16_add": 0.4 * PJ,
    "fp16_mult": 1.1 * PJ,
    "fp32_add": 0.9 * PJ,
    "fp32_mult": 3.7 * PJ,
}
# Operator areas at 45 nm [µm²] (same slide as commonly reproduced; see the module docstring).
HOROWITZ_45NM_AREA_UM2: dict[str, float] = {
    "int8_add": 36.0, "int32_add": 137.0, "int8_mult": 282.0, "int32_mult": 3495.0,
    "fp16_add": 1360.0, "fp16_mult": 1640.0, "fp32_add": 4184.0, "fp32_mult": 7700.0,
}

# SRAM: 64-bit read of an 8 KB / 32 KB / 1 MB array: 10 / 20 / 100 pJ  [S1]
SRAM_45NM_J_PER_BIT: dict[int, float] = {
    8 * 1024: 10 * PJ / 64,
    32 * 1024: 20 * PJ / 64,
    1024 * 1024: 100 * PJ / 64,
}
# DRAM per bit (does not scale with the logic node):
#   ddr:   Horowitz 1.3-2.6 nJ per 64-bit access [S1] -> low end, 20.3 pJ/bit
#   gddr5: 14 pJ/bit, hbm2: 3.9 pJ/bit (NeuroSim V2.1 DRAM.cpp) [S9]
DRAM_J_PER_BIT: dict[str, float] = {
    "ddr": 1.3e-9 / 64,
    "gddr5": 14 * PJ,
    "hbm2": 3.9 * PJ,
}
# DRAM bandwidth used for latency [bit/s]: DDR4-3200, one x64 channel (204.8 Gb/s); GDDR5 and
# HBM2: NeuroSim V2.1's chip totals, 4.3 / 15.2 Tb/s [S9], used as they are (not divided per
# channel or stack).
DRAM_BITS_PER_S: dict[str, float] = {"ddr": 204.8e9, "gddr5": 4.3e12, "hbm2": 15.2e12}
assert tuple(DRAM_J_PER_BIT) == _CHIP_DRAM, "crossbar.chip.DRAM_TYPES and DRAM_J_PER_BIT disagree"

# 6T SRAM cell area in F² [S7]; nodes >= 32 nm: ~150 F² (assumed, typical 45-130 nm cells).
SRAM_CELL_F2: dict[int, float] = {22: 200.0, 16: 250.0, 14: 300.0, 10: 400.0, 7: 600.0}
SRAM_CELL_F2_LARGE_NODES = 150.0
SRAM_ARRAY_EFFICIENCY = 0.7  # fraction of a macro that is cells (assumption)


def op_energy(op: str, node_nm: int) -> float:
    """Energy of one Horowitz operation (e.g. ``"int8_mult"``) at ``node_nm`` [J]."""
    return HOROWITZ_45NM_J[op] * logic_energy_scale(node_nm)


def op_area_um2(op: str, node_nm: int) -> float:
    """Area of one Horowitz operator at ``node_nm`` [µm²]."""
    return HOROWITZ_45NM_AREA_UM2[op] * area_scale(node_nm)


def mac_energy(precision: str, node_nm: int) -> float:
    """One multiply-accumulate at ``precision`` (int8 | fp16 | fp32) [J].

    int8: 8-b mult + 8-b add (0.2 + 0.03 = 0.23 pJ at 45 nm);
    fp16: fp16 mult + fp16 add (1.5 pJ); fp32: fp32 mult + add (4.6 pJ).
    """
    check_choice("precision", precision, tuple(_MAC_OPS))
    return sum(op_energy(o, node_nm) for o in _MAC_OPS[precision])


# the multiply and the add of one MAC at each precision (`op_energy`'s names)
_MAC_OPS = {"int8": ("int8_mult", "int8_add"), "fp16": ("fp16_mult", "fp16_add"),
            "fp32": ("fp32_mult", "fp32_add")}


def mac_area_um2(precision: str, node_nm: int) -> float:
    """Area of one MAC unit (multiplier + adder) at ``precision`` [µm²]."""
    ops = {"int8": ("int8_mult", "int32_add"), "fp16": ("fp16_mult", "fp16_add"),
           "fp32": ("fp32_mult", "fp32_add")}[precision]
    return sum(op_area_um2(o, node_nm) for o in ops)


PRECISION_BITS = {"int8": 8, "fp16": 16, "fp32": 32}


def sram_energy_per_bit(size_bytes: float, node_nm: int) -> float:
    """Energy per bit read or written in an SRAM of ``size_bytes`` at ``node_nm`` [J].

    Log-log interpolation between Horowitz's 8 KB / 32 KB / 1 MB points [S1]: energy ∝
    size^0.50 from 8 to 32 KB and ∝ size^0.46 from 32 KB to 1 MB; outside the range the
    nearest segment's slope is extended. Scaled with ``sram_energy_scale``.
    """
    size = max(float(size_bytes), 64.0)
    pts = sorted(SRAM_45NM_J_PER_BIT.items())
    xs = [math.log(s) for s, _ in pts]
    ys = [math.log(e) for _, e in pts]
    x = math.log(size)
    if x <= xs[1]:
        i = 0
    else:
        i = 1
    slope = (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])
    e45 = math.exp(ys[i] + slope * (x - xs[i]))
    return e45 * sram_energy_scale(node_nm)


def sram_area_per_bit_um2(node_nm: int) -> float:
    """Area of one SRAM bit including macro overhead at ``node_nm`` [µm²] ([S7] cell F²)."""
    node_nm = _node(node_nm)
    f_um = node_nm * 1e-3
    f2 = SRAM_CELL_F2.get(node_nm, SRAM_CELL_F2_LARGE_NODES)
    return f2 * f_um * f_um / SRAM_ARRAY_EFFICIENCY


def dram_energy_per_bit(kind: str) -> float:
    """Energy per DRAM bit moved (``ddr`` | ``gddr5`` | ``hbm2``) [J]; node-independent."""
    return DRAM_J_PER_BIT[kind]
