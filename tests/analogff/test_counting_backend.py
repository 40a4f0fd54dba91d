"""Each algorithm on the counting backend records the ledger a real analog run records: same
matrices, same phases, same events, except the documented data-dependent ones."""

from __future__ import annotations

import pytest

from analogff.algorithms import names
from analogff.config import from_dict
from analogff.experiment import build

# need the simulated conductances and noise; crossbar.counting documents their rules
DATA_DEPENDENT = {"cell_read_energy_j", "pulses_up", "pulses_down", "pulse_energy_j",
                  "adc_saturated", "dac_clipped", "trains_capped"}


@pytest.fixture(scope="module")
def data():
    from analogff.data import load_dataset
    return load_dataset("digits", limit=60, seed=0)


# writes an algorithm issues only when its weights cross a threshold: PFF's lateral ReLU gate
# zeroes dying entries with an extra apply_delta (one update call, and in mixed mode its
# accumulator traffic), and which entries die depends on the simulated weights
STATE_DEPENDENT_WRITES = {"pff": ({"L1", "L2"}, {"update_calls", "dig_add", "sram_read_bits",
                                                 "sram_write_bits"})}


def _events(led: dict, algo: str) -> dict:
    mats, keys = STATE_DEPENDENT_WRITES.get(algo, (set(), set()))
    return {(e["phase"], e["matrix"], k): v for e in led["entries"] for k, v in e.items()
            if k not in ("phase", "matrix") and k not in DATA_DEPENDENT
            and not (e["phase"] == "update" and e["matrix"] in mats and k in keys)}


@pytest.mark.parametrize("algo", names())
@pytest.mark.parametrize("update", ["deterministic", "mixed"])
def test_counting_ledger_equals_analog_ledger(algo, update, data):
    hidden = "20,20" if algo != "bp" else "20"
    steps = 2 if algo == "pff" else None    # settling steps are PFF's only option
    cfg = from_dict(dict(algo=algo, hidden=hidden, steps=steps, batch_size=8, epochs=1,
                         update=update, tile_rows=32, tile_cols=16, cols_per_adc=4))
    x, y = data.x_train[:8], data.y_train[:8]
    ledgers = {}
    for backend in ("analog", "counting"):
        net = build(cfg, data, backend=backend)
        net.algo.train_batch(x, y)
        net.algo.train_batch(x[::-1].copy(), y[::-1].copy())   # a second batch, other state
        net.algo.predict(data.x_test[:3])
        ledgers[backend] = net.ledger.to_dict()
    a, c = ledgers["analog"], ledgers["counting"]
    assert a["matrices"] == c["matrices"]                      # converters, tiles, device
    ea, ec = _events(a, algo), _events(c, algo)
    assert ea == ec                                            # event by event, phase by phase
    phases = {p for p, _m, _k in ea}
    assert {"update", "inference"} <= phases
    # the registry's phases are the ones the algorithm files its events under ("init": the
    # initial programming, and whatever the algorithm records before it first sets a phase)
    from analogff.algorithms import get
    assert phases <= set(get(algo).phases) | {"init"}
    # the data-dependent events exist on both sides
    for k in ("cell_read_energy_j", "pulses_up"):
        assert sum(e.get(k, 0) for e in c["entries"]) > 0
        assert sum(e.get(k, 0) for e in a["entries"]) > 0


@pytest.mark.parametrize("algo", names())
def test_ideal_twin_is_priced_on_the_analog_runs_chip(algo, data):
    """An ideal run's record prices the chip its analog run would use: the same tiles per
    matrix (PFF's lateral arrays are stacks of group-sized tiles, not 256-row ones), so the
    same area and the same conversions per inference."""
    from reports.estimate import area_breakdown, price_ledger
    steps = 2 if algo == "pff" else None    # settling steps are PFF's only option
    cfg = from_dict(dict(algo=algo, hidden="20,20" if algo != "bp" else "20", steps=steps,
                         batch_size=8, epochs=1, tile_rows=32, tile_cols=16))
    priced = {}
    for backend in ("ideal", "counting"):
        net = build(cfg, data, backend=backend)
        net.algo.predict(data.x_test[:3])
        led = net.ledger.to_dict()
        hw = cfg.hardware
        priced[backend] = (area_breakdown(led, hw), price_ledger(led, hw)["by_component_j"])
    (area_i, e_i), (area_c, e_c) = priced["ideal"], priced["counting"]
    assert area_i == pytest.approx(area_c, rel=1e-12)
    for k in ("adc", "dac"):
        assert e_i[k] == pytest.approx(e_c[k], rel=1e-12)
