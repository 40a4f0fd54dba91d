"""Property: whatever config, device, hardware or sweep file a user writes, the command runs, or
exits 2 with one line and no traceback, and an existing store is left exactly as it was.

Files are generated from their schemas (the fields `analogff.config`, `device_models` and
`crossbar.chip` define, with valid starting values) and mutated: wrong types, out-of-range and
non-finite values, missing and unknown keys, undecodable bytes. Commands are kept short (tiny
runs, `energy`, `sweep --dry-run`), so the property runs in seconds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from analogff.cli import app
from analogff.config import FIELD_TYPES
from analogff.store import ResultsStore
from device_models.model import DeviceModel

runner = CliRunner()
TINY = ["--epochs", "1", "--limit", "20", "--batch-size", "10", "--hidden", "10,10",
        "--steps", "1", "--no-monitor", "--json"]
# more examples (and a random search) with ANALOGFF_PROPERTY_EXAMPLES=200
_N = int(os.environ.get("ANALOGFF_PROPERTY_EXAMPLES", "12"))
SETTINGS = settings(max_examples=_N, deadline=None, derandomize=_N <= 12,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


# ---- TOML writing ------------------------------------------------------------------------
def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


def toml_text(table: dict, header: str | None = None) -> str:
    lines = [f"[{header}]"] if header else []
    lines += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


# ---- mutations ---------------------------------------------------------------------------
ANY_VALUE = st.one_of(
    st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.text(max_size=6), st.lists(st.integers(-5, 5), max_size=3),
    st.sampled_from([0, -1, 1e300, -1e-300, float("nan"), float("inf"), "", "none"]))


@st.composite
def mutated(draw, base: dict, keys: list[str], least: int = 1):
    """(table, raw-bytes suffix): ``base`` with ``least``-3 of: a known key set to any value,
    a key removed, an unknown key added; and sometimes an undecodable byte."""
    table = dict(base)
    for _ in range(draw(st.integers(least, 3))):
        op = draw(st.sampled_from(["set", "set", "drop", "unknown"]))
        if op == "set":
            table[draw(st.sampled_from(keys))] = draw(ANY_VALUE)
        elif op == "drop" and table:
            table.pop(draw(st.sampled_from(sorted(table))))
        else:
            table[draw(st.sampled_from(["colour", "adc_bitz", "Noise", "x-y"]))] = draw(ANY_VALUE)
    junk = draw(st.sampled_from([b"", b"", b"", b"# \xff\xfe\n", b"key = \x00\n", b"[[[\n"]))
    return table, junk


def write(path, text: str, junk: bytes) -> None:
    path.write_bytes(text.encode("utf-8") + junk)


def check(r) -> None:
    """Exit 0, or exit 2 with one line and no traceback."""
    assert r.exception is None or isinstance(r.exception, SystemExit), \
        f"{type(r.exception).__name__}: {r.exception}\n{r.output[-2000:]}"
    assert r.exit_code in (0, 2), r.output[-2000:]
    if r.exit_code == 2:
        lines = [ln for ln in r.output.strip().splitlines() if ln.strip()]
        assert lines and lines[-1].startswith("Error:") and "Traceback" not in r.output, r.output
        assert len([ln for ln in lines if ln.startswith("Error:")]) == 1, r.output


def digest(p) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def simulate_with_file(tmp_path_factory, name: str, option: str, text: str, junk: bytes):
    """Write ``text`` + ``junk`` to a file called ``name``, run a tiny ``simulate`` with it as
    ``option`` into an existing store, `check` the result, and on exit 2 require the store
    unchanged. Returns the file's path."""
    tmp = tmp_path_factory.mktemp(name.split(".")[0])
    store = tmp / "keep.db"
    ResultsStore(store).close()
    before = digest(store)
    p = tmp / name
    write(p, text, junk)
    r = runner.invoke(app, ["simulate", option, str(p), "--store", str(store), *TINY])
    check(r)
    if r.exit_code == 2:
        assert digest(store) == before
    return p


# ---- config files (simulate --config) ----------------------------------------------------
CONFIG_BASE = {"noise": 0.05, "adc_bits": 6, "dac_bits": 8, "device": "ecram",
               "update": "deterministic", "seed": 1}


@SETTINGS
@given(case=mutated(CONFIG_BASE, sorted(FIELD_TYPES)), simulate_table=st.booleans())
def test_config_file(tmp_path_factory, case, simulate_table):
    table, junk = case
    simulate_with_file(tmp_path_factory, "run.toml", "--config",
                       toml_text(table, "simulate" if simulate_table else None), junk)


# ---- device files (simulate --device) ----------------------------------------------------
DEVICE_BASE = {"name": "mine", "g_min": 1e-6, "g_max": 1e-5, "states": 100,
               "response": "linear", "c2c": 0.1}
DEVICE_KEYS = [f.name for f in dataclasses.fields(DeviceModel)]


@SETTINGS
@given(case=mutated(DEVICE_BASE, DEVICE_KEYS), device_table=st.booleans())
def test_device_file(tmp_path_factory, case, device_table):
    table, junk = case
    p = simulate_with_file(tmp_path_factory, "dev.toml", "--device",
                           toml_text(table, "device" if device_table else None), junk)
    check(runner.invoke(app, ["devices", "show", str(p)]))


# ---- hardware files (energy --hardware) --------------------------------------------------
def _hardware_keys() -> list[str]:
    from crossbar.chip import Hardware
    return [f.name for f in dataclasses.fields(Hardware)]


HARDWARE_BASE = {"node_nm": 22, "adc_bits": 6, "tile_rows": 128, "tile_cols": 128}


@SETTINGS
@given(case=mutated(HARDWARE_BASE, _hardware_keys()), hw_table=st.booleans())
def test_hardware_file(tmp_path_factory, case, hw_table):
    tmp = tmp_path_factory.mktemp("hw")
    table, junk = case
    p = tmp / "chip.toml"
    write(p, toml_text(table, "hardware" if hw_table else None), junk)
    check(runner.invoke(app, ["energy", "--hardware", str(p), "--network", "64,20,20,10"]))


# ---- sweep files (sweep --config --dry-run) ----------------------------------------------
@st.composite
def sweep_files(draw):
    base, junk = draw(mutated({"epochs": 1, "limit": 100}, sorted(FIELD_TYPES), least=0))
    if draw(st.booleans()):   # a valid axis: the file may run (as far as --dry-run goes)
        key, values = draw(st.sampled_from([("noise", [0.0, 0.05]), ("adc_bits", [4, 6]),
                                            ("seed", [1, 2, 3])]))
    else:
        key = draw(st.sampled_from(sorted(FIELD_TYPES) + ["bogus"]))
        values = draw(st.one_of(st.lists(ANY_VALUE, min_size=0, max_size=3), ANY_VALUE))
    top = f"seeds = {toml_value(draw(ANY_VALUE))}\n" if draw(st.booleans()) else ""
    return top + toml_text(base, "base") + toml_text({key: values}, "grid"), junk


@SETTINGS
@given(case=sweep_files())
def test_sweep_file(tmp_path_factory, case):
    tmp = tmp_path_factory.mktemp("sweep")
    store = tmp / "keep.db"
    ResultsStore(store).close()
    before = digest(store)
    text, junk = case
    p = tmp / "sweep.toml"
    write(p, text, junk)
    check(runner.invoke(app, ["sweep", "--config", str(p), "--store", str(store),
                              "--dry-run"]))
    assert digest(store) == before
