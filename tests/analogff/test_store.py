"""The SQLite results store: schema, one row per point, resume, corrupt files, safe filters."""

from __future__ import annotations

import json
import re
import os
import sqlite3
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # sweep_points

from analogff.config import SimConfig, from_dict  # noqa: E402
from analogff.errors import AnalogffError  # noqa: E402
from analogff.store import (APPLICATION_ID, CONFIG_COLUMNS,  # noqa: E402
                            SCHEMA_VERSION, ResultsStore, parse_where)
from analogff.sweep import failed_record  # noqa: E402
from sweep_points import fake_record  # noqa: E402


def _cfg(**kw) -> SimConfig:
    return from_dict(kw)


def test_new_store_has_versioned_wal_schema(tmp_path):
    p = tmp_path / "r.db"
    with ResultsStore(p) as st:
        cols = st.columns
    con = sqlite3.connect(p)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for c in ("id", "config_hash", "seed", "status", "error", "record", "created"):
        assert c in cols
    assert set(CONFIG_COLUMNS) <= set(cols)
    assert {"train_accuracy", "test_accuracy", "energy_per_train_sample_j",
            "energy_per_inference_j", "wall_s"} <= set(cols)
    con.close()


def test_add_flattens_config_and_metrics(tmp_path):
    cfg = _cfg(noise=0.02, adc_bits=6, hidden="16,16", seed=3, ideal=True)
    rec = fake_record(cfg, wall_s=1.5)
    with ResultsStore(tmp_path / "r.db") as st:
        assert st.add(rec, sweep="s1")
        assert st.done_hashes() == {cfg.config_hash()}
        assert st.records() == [json.loads(json.dumps(rec))]
        df = st.to_dataframe()
    row = df.iloc[0]
    assert row["noise"] == 0.02 and row["adc_bits"] == 6 and row["hidden"] == "16,16"
    assert row["seed"] == 3 and bool(row["ideal"]) is True and row["sweep"] == "s1"
    assert row["test_accuracy"] == rec["metrics"]["test_accuracy"]
    assert row["energy_per_train_sample_j"] == rec["energy"]["per_train_sample_j"]
    assert row["wall_s"] == 1.5 and row["status"] == "done"
    assert "record" not in df.columns


def test_reports_contract_query(tmp_path):
    """Readers that do not import analogff use plain SQL on the record column."""
    p = tmp_path / "r.db"
    with ResultsStore(p) as st:
        st.add(fake_record(_cfg(adc_bits=4)))
        st.add(failed_record(_cfg(adc_bits=5), "boom"))
    con = sqlite3.connect(p)
    recs = [json.loads(r[0]) for r in con.execute("SELECT record FROM runs WHERE status='done'")]
    assert [r["config"]["adc_bits"] for r in recs] == [4]
    con.close()


def test_one_row_per_point_failed_replaced_done_kept(tmp_path):
    cfg = _cfg(adc_bits=5)
    with ResultsStore(tmp_path / "r.db") as st:
        st.add(failed_record(cfg, "RuntimeError: first try"))
        (rid,) = st.to_dataframe()["id"]
        assert st.failed_hashes() == {cfg.config_hash()} and st.done_hashes() == set()
        assert st.add(failed_record(cfg, "RuntimeError: second try"))
        assert st.count() == 1 and st.records()[0]["error"] == "RuntimeError: second try"
        assert st.add(fake_record(cfg))
        assert st.count() == 1 and st.count("done") == 1
        assert st.to_dataframe()["id"].tolist() == [rid]          # same row, updated
        assert not st.add(failed_record(cfg, "late failure"))      # never downgrade a done row
        assert st.count("done") == 1 and st.records()[0]["status"] == "done"
        assert st.integrity_check() == "ok"


def test_numpy_values_and_nan_are_stored(tmp_path):
    rec = fake_record(_cfg())
    rec["metrics"]["test_accuracy"] = np.float32(0.5)
    rec["metrics"]["final_loss"] = float("nan")
    rec["extra"] = np.arange(3)
    with ResultsStore(tmp_path / "r.db") as st:
        st.add(rec)
        df = st.to_dataframe()
        back = st.records()[0]
    assert df["test_accuracy"][0] == 0.5
    assert df["final_loss"].isna()[0]
    assert back["extra"] == [0, 1, 2]


def test_reopen_and_concurrent_reader(tmp_path):
    p = tmp_path / "r.db"
    st = ResultsStore(p)
    st.add(fake_record(_cfg(adc_bits=4)))
    reader = ResultsStore(p, create=False)          # a second process would do the same
    st.add(fake_record(_cfg(adc_bits=6)))
    assert reader.count() == 2
    st.close()
    reader.close()
    with ResultsStore(p) as again:
        assert len(again.done_hashes()) == 2


@pytest.mark.parametrize("content", [b"hello, this is my thesis\n" * 40,
                                     b"SQLite format 3\x00" + b"\x13" * 3000])
def test_foreign_or_corrupt_file_is_refused_and_untouched(tmp_path, content):
    p = tmp_path / "thesis.db"
    p.write_bytes(content)
    with pytest.raises(AnalogffError, match="is not an analogff results store") as ei:
        ResultsStore(p)
    assert "\n" not in str(ei.value)
    assert p.read_bytes() == content


def test_other_sqlite_database_is_refused_and_untouched(tmp_path):
    p = tmp_path / "other.db"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE people (name TEXT)")
    con.execute("INSERT INTO people VALUES ('ada')")
    con.commit()
    con.close()
    before = p.read_bytes()
    with pytest.raises(AnalogffError, match="is not an analogff results store"):
        ResultsStore(p)
    assert p.read_bytes() == before


def test_newer_schema_and_missing_store(tmp_path):
    p = tmp_path / "r.db"
    ResultsStore(p).close()
    con = sqlite3.connect(p)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    with pytest.raises(AnalogffError, match="newer analogff"):
        ResultsStore(p)
    with pytest.raises(AnalogffError, match="does not exist"):
        ResultsStore(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(AnalogffError, match="does not exist"):
        ResultsStore(tmp_path / "no" / "dir" / "r.db")


def test_add_rejects_malformed_records(tmp_path):
    with ResultsStore(tmp_path / "r.db") as st:
        with pytest.raises(ValueError):
            st.add({"status": "running", "config_hash": "x"})
        with pytest.raises(ValueError):
            st.add({"status": "done"})
        assert st.count() == 0


# ---- filters -------------------------------------------------------------------------------
COLS = ["id", "status", "algo", "noise", "adc_bits", "ideal", "hidden", "test_accuracy", "record"]


@pytest.mark.parametrize("expr, sql, params", [
    ("adc_bits>=6", '"adc_bits" >= ?', [6]),
    ("adc_bits >= 6 and algo = pff", '"adc_bits" >= ? AND "algo" = ?', [6, "pff"]),
    ("noise<0.05 OR algo=='bp'", '"noise" < ? OR "algo" = ?', [0.05, "bp"]),
    ("adc-bits != 4", '"adc_bits" != ?', [4]),
    ("ideal = true", '"ideal" = ?', [1]),
    ("noise = null", '"noise" IS NULL', []),
    ("hidden='16,16'", '"hidden" = ?', ["16,16"]),
    ("status=failed", '"status" = ?', ["failed"]),
    ("test_accuracy>9e-1", '"test_accuracy" > ?', [0.9]),
])
def test_parse_where_accepts_simple_clauses(expr, sql, params):
    assert parse_where(expr, COLS) == (sql, params)


@pytest.mark.parametrize("expr, msg", [
    ("adc_bits>=6; DROP TABLE runs", "unexpected ';'"),
    ("1=1", "expected a column name"),
    ("nosuch>1", "unknown column 'nosuch'"),
    ("adc_bits>=", "incomplete clause"),
    ("adc_bits 6", "incomplete clause"),
    ("adc_bits>=6 and", "incomplete clause"),
    ("adc_bits>=6 algo=pff", "expected 'and' or 'or'"),
    ("(adc_bits>=6)", "unexpected '\\('"),
    ("adc_bits>=6 or 1=1", "expected a column name"),
    ("algo = pff or record like '%'", "record column"),
    ("adc_bits = algo = 3", "expected 'and' or 'or'"),
    ("noise < null", "null can only"),
    ("   ", "empty"),
])
def test_parse_where_rejects_everything_else(expr, msg):
    with pytest.raises(AnalogffError, match=msg) as ei:
        parse_where(expr, COLS)
    assert "\n" not in str(ei.value)


def test_parse_where_refuses_a_literal_of_the_other_type():
    """With the columns' declared types, a comparison SQLite would answer with nothing (a word
    against a number column, a number against a text one) is refused in one line."""
    types = {"adc_bits": "INTEGER", "noise": "REAL", "algo": "TEXT", "hidden": "TEXT"}
    for expr, msg in (("adc_bits >= x", "adc_bits holds numbers; x is not one"),
                      ("noise < 'low'", "noise holds numbers; 'low' is not one"),
                      ("hidden = 200", "hidden holds text; quote the value to compare it as "
                                       "text: hidden = '200'")):
        with pytest.raises(AnalogffError, match=re.escape(msg)):
            parse_where(expr, types)
    assert parse_where("adc_bits >= 6 and hidden = '200' and noise = null and algo = bp",
                       types)[1] == [6, "200", "bp"]


def test_records_and_dataframe_filter(tmp_path):
    with ResultsStore(tmp_path / "r.db") as st:
        for bits in (4, 6, 8):
            st.add(fake_record(_cfg(adc_bits=bits, algo="bp" if bits == 8 else "pff")))
        assert [r["config"]["adc_bits"] for r in st.records(where="adc_bits>=6")] == [6, 8]
        assert st.to_dataframe(where="adc_bits>=6 and algo=pff")["adc_bits"].tolist() == [6]
        assert len(st.to_dataframe(where="adc_bits>8")) == 0
        with pytest.raises(AnalogffError, match="adc_bits holds numbers"):   # typed by the store
            st.records(where="adc_bits > eight")
        # a hostile value is a bound parameter, never SQL
        assert st.records(where="algo = 'x'' OR 1=1 --'") == []
        assert st.count() == 3


def test_damaged_pages_are_found_by_check_and_left_untouched(tmp_path):
    p = tmp_path / "r.db"
    with ResultsStore(p) as st:
        for i in range(50):
            st.add(fake_record(_cfg(seed=i)))
    con = sqlite3.connect(p)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name='runs_config_hash'").fetchone()[0]
    con.close()
    data = bytearray(p.read_bytes())
    data[(root - 1) * page:root * page] = b"\xff" * page       # wreck the index's root page
    p.write_bytes(bytes(data))
    with pytest.raises(AnalogffError, match="corrupt analogff results store") as ei:
        ResultsStore(p, check=True)
    assert "\n" not in str(ei.value)
    assert p.read_bytes() == bytes(data)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as hs  # noqa: E402

_SAFE_SQL = re.compile(r'^"[a-z_]+" (?:(?:=|!=|<|<=|>|>=) \?|IS (?:NOT )?NULL)'
                       r'(?: (?:AND|OR) "[a-z_]+" (?:(?:=|!=|<|<=|>|>=) \?|IS (?:NOT )?NULL))*$')


@settings(max_examples=300, deadline=None)
@given(hs.text(alphabet="adc_bitsnoealg=<>!'\" ;()-.0123456789 ANDORxX%*", max_size=40))
def test_parse_where_output_is_always_parameterised(expr):
    """Whatever the input, the SQL is only quoted known columns, operators and placeholders."""
    try:
        sql, params = parse_where(expr, COLS)
    except AnalogffError as exc:
        assert "\n" not in str(exc)
        return
    assert _SAFE_SQL.match(sql), sql
    assert sql.count("?") == len(params)
    assert all(c in COLS for c in re.findall(r'"([a-z_]+)"', sql))


def test_schema1_store_is_read_but_not_extended(tmp_path):
    """A store written before the chip was one stored value: readable, never written to."""
    import sqlite3

    p = tmp_path / "old.db"
    with ResultsStore(p) as st:
        st.add(fake_record(_cfg(adc_bits=6)))
    con = sqlite3.connect(p)
    con.execute("PRAGMA user_version=1")
    con.commit()
    con.close()
    with ResultsStore(p, create=False) as st:
        assert st.version == 1 and len(st.to_dataframe()) == 1
        with pytest.raises(AnalogffError) as ei:
            st.add(fake_record(_cfg(adc_bits=4)))
    msg = str(ei.value)
    assert "schema-1" in msg and "new --store" in msg and "\n" not in msg


def test_an_older_schema2_store_gets_the_new_metric_column_when_first_written(tmp_path):
    """A schema-2 store from before ``trains_capped`` was a column: reading leaves the file as
    it is (`--where` on the column reads it from the records then); the first write adds the
    column, filled from every stored record (NULL where the record predates the count), and
    `--where` filters on it."""
    p = tmp_path / "old.db"
    with ResultsStore(p) as st:
        old, counted = fake_record(_cfg(adc_bits=6)), fake_record(_cfg(adc_bits=5))
        old["counts"].pop("trains_capped", None)
        counted["counts"]["trains_capped"] = 17
        st.add(old)
        st.add(counted)
    con = sqlite3.connect(p)
    con.execute("ALTER TABLE runs DROP COLUMN trains_capped")   # as written before it
    con.commit()
    con.close()
    with ResultsStore(p, create=False) as st:
        assert "trains_capped" not in st.columns and len(st.to_dataframe()) == 2
        # filtered on before any write: from the records, the file unchanged
        assert [r["config"]["adc_bits"] for r in st.records(where="trains_capped > 5")] == [5]
        assert len(st.to_dataframe(where="trains_capped = null")) == 1
    with ResultsStore(p, create=False) as st:                    # reading changed nothing
        assert "trains_capped" not in st.columns
        new = fake_record(_cfg(adc_bits=4))
        new["counts"]["trains_capped"] = 3
        st.add(new)
        assert "trains_capped" in st.columns
        df = st.to_dataframe()
        assert list(st.to_dataframe(where="trains_capped > 5")["adc_bits"]) == [5]
    got = dict(zip(df["adc_bits"], df["trains_capped"]))
    assert got[5] == 17 and got[4] == 3 and np.isnan(got[6])
