"""Pricing is a pure function of the ledger and the chip: the same record, to the last bit,
whatever the interpreter's string-hash seed (sets of matrix names iterate in hash order)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from crossbar.chip import Hardware
from reports.estimate import price_ledger

_SCRIPT = """
import json, sys
from crossbar.chip import Hardware
from reports.estimate import price_ledger
ledger = json.loads(sys.stdin.read())
print(json.dumps(price_ledger(ledger, Hardware()), sort_keys=True, default=str))
"""


def _ledger() -> dict:
    """Several matrices in one phase, so leakage sums a set of names."""
    mats, entries = {}, []
    for k, (rows, cols) in enumerate([(784, 300), (300, 700), (700, 10), (10, 300), (300, 784),
                                      (700, 20), (20, 700), (1000, 1000), (513, 257)]):
        name = f"M{k}"
        mats[name] = {"analog": True, "rows": rows, "cols": cols, "tile_rows": 256,
                      "tile_cols": 256, "n_tiles": -(-rows // 256) * -(-cols // 256)}
        entries.append({"phase": "positive", "matrix": name, "mvm_vectors": 50 + k,
                        "macs": (50 + k) * rows * cols, "dac_conversions": (50 + k) * rows,
                        "adc_conversions": (50 + k) * cols,
                        "cell_read_energy_j": 1e-12 * (k + 1)})
    return {"matrices": mats, "entries": entries}


def test_price_is_bit_identical_across_hash_seeds():
    blob = json.dumps(_ledger())
    root = Path(__file__).resolve().parents[2]
    outs = set()
    for seed in ("0", "1", "2", "3", "4", "5"):
        env = {**os.environ, "PYTHONHASHSEED": seed,
               "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
        r = subprocess.run([sys.executable, "-c", _SCRIPT], input=blob, env=env,
                           capture_output=True, text=True, timeout=120, check=True)
        outs.add(r.stdout)
    assert len(outs) == 1
    # and the subprocess priced what this process prices
    here = json.dumps(price_ledger(json.loads(blob), Hardware()), sort_keys=True, default=str)
    assert outs == {here + "\n"}
