"""The results store: one SQLite file, one row per run (see docs/CONTRACTS.md).

Layout (schema version `SCHEMA_VERSION`, kept in ``PRAGMA user_version``; the file is tagged
with ``PRAGMA application_id`` = `APPLICATION_ID` so a foreign SQLite file is recognised):

table ``runs``
    ``id INTEGER PRIMARY KEY``, ``config_hash TEXT`` (unique: a point is stored once),
    ``seed INTEGER``, ``status TEXT`` ("done" | "failed"), ``error TEXT``, ``record TEXT`` (the
    whole run record as JSON), ``created REAL`` (unix seconds), ``sweep TEXT`` (optional tag),
    one column per field of the flat config (`SimConfig`'s training fields and every field of
    its chip, `crossbar.chip.Hardware`), and the headline metrics in `METRIC_COLUMNS`
    (accuracies as fractions, energies in joules, times in seconds, area in mm²).

Schema versions: 1 = before the chip was one value (columns ``device``, ``dac_bits``,
``adc_bits``, ``tile_size``, ... only; records without ``hardware``); 2 = now. A schema-1 store
is read (results, report) but never written: a run of this version would not fit its columns.
A metric column added within schema 2 (``trains_capped``) is added to an older schema-2 store
before this version first writes to it, filled from the stored records (NULL where a record
predates the count); reading never changes the file.

Durability: WAL journal, one transaction per record, ``synchronous=NORMAL`` (``durable=True``:
FULL). A process killed at any moment leaves every committed record intact and no partial row;
an OS crash or power cut may drop the last commits (a resumed sweep reruns them), never corrupt
the file. Only one process (the sweep driver) writes; any number may read at the same time.
"""

from __future__ import annotations

import json
import math
import numbers
import re
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable

from .config import FIELD_TYPES
from .errors import AnalogffError

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)
APPLICATION_ID = 0x41464631  # "AFF1"
_SQLITE_MAGIC = b"SQLite format 3\x00"

CONFIG_COLUMNS: tuple[str, ...] = tuple(k for k in FIELD_TYPES if k != "seed")
_SQL_TYPE = {int: "INTEGER", float: "REAL", bool: "INTEGER", str: "TEXT"}

# column -> (path into the run record, SQL type)
METRIC_COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    "train_accuracy": (("metrics", "train_accuracy"), "REAL"),
    "test_accuracy": (("metrics", "test_accuracy"), "REAL"),
    "ideal_test_accuracy": (("metrics", "ideal_test_accuracy"), "REAL"),
    "final_loss": (("metrics", "final_loss"), "REAL"),
    "energy_per_train_sample_j": (("energy", "per_train_sample_j"), "REAL"),
    "energy_per_inference_j": (("energy", "per_inference_j"), "REAL"),
    "digital_per_train_sample_j": (("energy", "digital_per_train_sample_j"), "REAL"),
    "digital_per_inference_j": (("energy", "digital_per_inference_j"), "REAL"),
    "digital_per_inference_batched_j": (("energy", "digital_per_inference_batched_j"), "REAL"),
    "digital_inference_batch": (("energy", "digital_inference_batch"), "INTEGER"),
    "area_mm2": (("energy", "area_mm2"), "REAL"),
    "pulses": (("counts", "pulses"), "INTEGER"),
    "adc_saturated": (("counts", "adc_saturated"), "INTEGER"),
    "trains_capped": (("counts", "trains_capped"), "INTEGER"),
    "wall_s": (("timing", "wall_s"), "REAL"),
    "train_s": (("timing", "train_s"), "REAL"),
    "eval_s": (("timing", "eval_s"), "REAL"),
}

BASE_COLUMNS: tuple[str, ...] = ("id", "config_hash", "seed", "status", "error", "record",
                                 "created", "sweep")
ALL_COLUMNS: tuple[str, ...] = BASE_COLUMNS + CONFIG_COLUMNS + tuple(METRIC_COLUMNS)
STATUSES = ("done", "failed")


def _json_path(path: tuple[str, ...]) -> str:
    """SQLite's JSON path of a metric's place in a stored record (`METRIC_COLUMNS`)."""
    return "$." + ".".join(path)


def _schema_sql() -> list[str]:
    cols = ["id INTEGER PRIMARY KEY", "config_hash TEXT NOT NULL", "seed INTEGER",
            "status TEXT NOT NULL CHECK (status IN ('done', 'failed'))", "error TEXT",
            "record TEXT NOT NULL", "created REAL NOT NULL", "sweep TEXT"]
    cols += [f'"{c}" {_SQL_TYPE.get(FIELD_TYPES[c], "TEXT")}' for c in CONFIG_COLUMNS]
    cols += [f'"{c}" {t}' for c, (_, t) in METRIC_COLUMNS.items()]
    return [
        f"CREATE TABLE runs ({', '.join(cols)})",
        "CREATE UNIQUE INDEX runs_config_hash ON runs(config_hash)",
        "CREATE INDEX runs_status ON runs(status)",
    ]


def _dig(d: Any, path: tuple[str, ...]) -> Any:
    for k in path:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _num(v: Any) -> Any:
    if isinstance(v, (bool, numbers.Integral)):
        return int(v)
    if isinstance(v, numbers.Real):
        v = float(v)
        return v if math.isfinite(v) else None
    return None


def _json_default(o: Any) -> Any:
    # numpy scalars / arrays and other odd values that a point function may return
    if hasattr(o, "item") and callable(o.item):
        try:
            return o.item()
        except (ValueError, TypeError):
            pass
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


class ResultsStore:
    """An analogff results store at ``path`` (created if missing, unless ``create=False``).

    Raises `AnalogffError` (one line) if the file is not an analogff store, is corrupt, was
    written by a newer schema, or (with ``create=False``) does not exist. Never overwrites a
    file it does not recognise. ``check=True`` also runs SQLite's ``quick_check`` (reads the
    whole file; the sweep command does this before writing).
    """

    def __init__(self, path: str | Path, create: bool = True, timeout: float = 30.0,
                 durable: bool = False, check: bool = False):
        self.path = Path(path)
        self.durable = durable
        self.check = check
        exists = self.path.exists()
        if exists and not self.path.is_file():
            raise AnalogffError(f"{self.path} is not an analogff results store (it is a directory)")
        if not exists and not create:
            raise AnalogffError(f"results store {str(self.path)!r} does not exist; run "
                                f"`analogff sweep --store {self.path}` first")
        if exists and self.path.stat().st_size > 0:
            with open(self.path, "rb") as fh:
                head = fh.read(len(_SQLITE_MAGIC))
            if head != _SQLITE_MAGIC:
                raise AnalogffError(f"{self.path} is not an analogff results store "
                                    "(not an SQLite file); choose another --store path")
        if not exists and not self.path.parent.exists():
            raise AnalogffError(f"cannot create results store {str(self.path)!r}: directory "
                                f"{str(self.path.parent)!r} does not exist")
        try:
            self._con = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise AnalogffError(f"cannot open results store {str(self.path)!r}: {exc}") from None
        try:
            self._open()
        except sqlite3.OperationalError as exc:   # locked, read-only, disk full, ...
            self._con.close()
            raise AnalogffError(f"cannot use results store {str(self.path)!r}: {exc}") from None
        except sqlite3.DatabaseError as exc:      # not a database, malformed
            self._con.close()
            raise AnalogffError(f"{self.path} is not an analogff results store "
                                f"(SQLite says: {exc})") from None
        except AnalogffError:
            self._con.close()
            raise

    # ---- opening ---------------------------------------------------------------------------
    def _open(self) -> None:
        con = self._con
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if app_id == 0 and version == 0 and not tables:
            self._create()
        elif app_id != APPLICATION_ID or "runs" not in tables:
            raise AnalogffError(f"{self.path} is not an analogff results store (an SQLite file "
                                "written by another program); choose another --store path")
        elif version > SCHEMA_VERSION:
            raise AnalogffError(f"{self.path} was written by a newer analogff (store schema "
                                f"{version}, this version reads {SCHEMA_VERSION}); upgrade analogff")
        elif version < 1:
            raise AnalogffError(f"{self.path} is not an analogff results store (no schema version)")
        self.version = version if tables else SCHEMA_VERSION
        con.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit survives the process being killed at any moment (the WAL is in
        # the OS before COMMIT returns); only an OS crash / power cut can drop the last few
        # commits (never corrupt), and a resumed sweep reruns those. durable=True adds an
        # fsync per commit (~15 ms here).
        con.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'NORMAL'}")
        # declared SQL type per column, in table order (the names are its keys)
        self._types = {r[1]: r[2] for r in con.execute("PRAGMA table_info(runs)")}
        self._columns = list(self._types)
        missing = [c for c in ("config_hash", "status", "record") if c not in self._columns]
        if missing:
            raise AnalogffError(f"{self.path} is not an analogff results store "
                                f"(table runs lacks {', '.join(missing)})")
        if self.check:
            rows = [r[0] for r in con.execute("PRAGMA quick_check")]
            if rows != ["ok"]:
                detail = " ".join(" ".join(rows).split())[:200]
                raise AnalogffError(f"{self.path} is a corrupt analogff results store (SQLite "
                                    f"check: {detail}); it was left untouched: restore a backup "
                                    "or choose another --store path")

    def _create(self) -> None:
        con = self._con
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("BEGIN IMMEDIATE")
        try:
            for stmt in _schema_sql():
                con.execute(stmt)
            con.execute(f"PRAGMA application_id={APPLICATION_ID}")
            con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    @property
    def columns(self) -> list[str]:
        """The columns of table ``runs`` (in table order)."""
        return list(self._columns)

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "ResultsStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- writing ---------------------------------------------------------------------------
    def check_writable(self) -> None:
        """Raise `AnalogffError` (one line) if runs of this version cannot be added here; add
        the metric columns an older schema-2 store lacks (`_add_metric_columns`)."""
        if self.version != SCHEMA_VERSION:
            raise AnalogffError(f"{self.path} is a schema-{self.version} results store (written "
                                "before the chip was stored with each run); it can be read but "
                                "not extended: choose a new --store path")
        self._add_metric_columns()

    def _add_metric_columns(self) -> None:
        """Add the `METRIC_COLUMNS` this store lacks, each filled from its path in the stored
        records, in one transaction (all or none)."""
        missing = [c for c in METRIC_COLUMNS if c not in self._types]
        if not missing:
            return
        con = self._con
        con.execute("BEGIN IMMEDIATE")
        try:
            for c in missing:
                path, sql_type = METRIC_COLUMNS[c]
                con.execute(f'ALTER TABLE runs ADD COLUMN "{c}" {sql_type}')
                con.execute(f'UPDATE runs SET "{c}" = json_extract(record, ?)',
                            (_json_path(path),))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        self._types = {r[1]: r[2] for r in con.execute("PRAGMA table_info(runs)")}
        self._columns = list(self._types)

    def _row(self, record: dict[str, Any], sweep: str | None) -> dict[str, Any]:
        if not isinstance(record, dict):
            raise TypeError(f"a run record must be a dict, not {type(record).__name__}")
        status = record.get("status")
        if status not in STATUSES:
            raise ValueError(f"run record status must be one of {STATUSES}, not {status!r}")
        chash = record.get("config_hash")
        if not isinstance(chash, str) or not chash:
            raise ValueError("run record has no config_hash")
        cfg = record.get("config") or {}
        row: dict[str, Any] = {
            "config_hash": chash,
            "seed": record.get("seed", cfg.get("seed")),
            "status": status,
            "error": None if record.get("error") is None else str(record.get("error")),
            "record": json.dumps(record, sort_keys=True, default=_json_default,
                                 allow_nan=True),
            "created": time.time(),
            "sweep": sweep,
        }
        for c in CONFIG_COLUMNS:
            v = cfg.get(c)
            row[c] = int(v) if isinstance(v, bool) else v
        for c, (path, _) in METRIC_COLUMNS.items():
            row[c] = _num(_dig(record, path))
        return {k: v for k, v in row.items() if k in self._columns}

    def add(self, record: dict[str, Any], sweep: str | None = None) -> bool:
        """Store one run record in its own transaction. Returns True if a row was written.

        A point is stored once (unique ``config_hash``): a new record replaces a failed one
        (keeping its id); a "done" row is never replaced by a failed record.
        """
        self.check_writable()
        row = self._row(record, sweep)
        cols = list(row)
        con = self._con
        con.execute("BEGIN IMMEDIATE")
        try:
            old = con.execute("SELECT status FROM runs WHERE config_hash=?",
                              (row["config_hash"],)).fetchone()
            if old is not None and old[0] == "done" and row["status"] != "done":
                con.execute("ROLLBACK")
                return False
            placeholders = ", ".join("?" for _ in cols)
            collist = ", ".join(f'"{c}"' for c in cols)
            updates = ", ".join(f'"{c}"=excluded."{c}"' for c in cols if c != "config_hash")
            con.execute(f"INSERT INTO runs ({collist}) VALUES ({placeholders}) "
                        f"ON CONFLICT(config_hash) DO UPDATE SET {updates}",
                        [row[c] for c in cols])
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        return True

    # ---- reading ---------------------------------------------------------------------------
    def hashes(self, status: str | None = None) -> set[str]:
        if status is None:
            return {r[0] for r in self._con.execute("SELECT config_hash FROM runs")}
        return {r[0] for r in self._con.execute(
            "SELECT config_hash FROM runs WHERE status=?", (status,))}

    def done_hashes(self) -> set[str]:
        """Config hashes of points finished successfully (a sweep skips them)."""
        return self.hashes("done")

    def failed_hashes(self) -> set[str]:
        return self.hashes("failed")

    def count(self, status: str | None = None) -> int:
        if status is None:
            return self._con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        return self._con.execute("SELECT COUNT(*) FROM runs WHERE status=?",
                                 (status,)).fetchone()[0]

    def _where(self, where: str | None, status: str | None) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if where:
            types, sources = dict(self._types), {}
            for c, (path, sql_type) in METRIC_COLUMNS.items():
                if c not in types:   # an older store not yet written to: from its records
                    types[c] = sql_type
                    sources[c] = f"json_extract(record, '{_json_path(path)}')"
            sql, p = parse_where(where, types, sources)
            clauses.append(f"({sql})")
            params += p
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def records(self, where: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """The stored run records (dicts), oldest first; ``where`` uses `parse_where` syntax."""
        w, p = self._where(where, status)
        return [json.loads(r[0]) for r in self._con.execute(
            f"SELECT record FROM runs{w} ORDER BY id", p)]

    def to_dataframe(self, where: str | None = None, status: str | None = None,
                     include_record: bool = False):
        """A pandas DataFrame, one row per run: id, hash, seed, status, error, the flattened
        config and the headline metrics (units in the column names: ``_j`` joules, ``_s``
        seconds, ``_mm2`` mm²; accuracies are fractions)."""
        import pandas as pd

        cols = [c for c in self._columns if include_record or c != "record"]
        w, p = self._where(where, status)
        collist = ", ".join(f'"{c}"' for c in cols)
        rows = self._con.execute(f"SELECT {collist} FROM runs{w} ORDER BY id", p).fetchall()
        df = pd.DataFrame.from_records(rows, columns=cols)
        if "ideal" in df.columns:
            df["ideal"] = df["ideal"].map(lambda v: None if v is None else bool(v))
        return df

    def integrity_check(self) -> str:
        return self._con.execute("PRAGMA integrity_check").fetchone()[0]


# ---- safe filters --------------------------------------------------------------------------
_TOKEN = re.compile(r"""\s*(?:
    (?P<op><=|>=|==|!=|<>|=|<|>)
  | (?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_.\-]*)
  | (?P<bad>\S)
)""", re.VERBOSE)


def parse_where(expr: str, columns: Iterable[str],
                sources: dict[str, str] | None = None) -> tuple[str, list[Any]]:
    """Translate a filter such as ``adc_bits>=6 and algo=pff`` into SQL with parameters.

    Only ``<column> <op> <literal>`` clauses joined by ``and`` / ``or`` are accepted; ``op`` is
    one of ``= == != <> < <= > >=``; a literal is a number, a quoted string, a bare word (taken
    as a string), ``true`` / ``false`` or ``null`` (with ``=`` / ``!=``). Column names may use
    ``-`` for ``_`` and must exist. ``columns`` may map each name to its declared SQL type:
    a text literal against an INTEGER or REAL column, or a number against a TEXT one, is then
    refused (SQLite would compare them as unequal types and match nothing, without a word).
    ``sources`` may give a column's SQL expression instead of its name (a metric an older
    store does not hold as a column yet, read from its records). Anything else raises
    `AnalogffError` naming the problem.
    """
    types = dict(columns) if isinstance(columns, dict) else {}
    cols = set(columns)
    sources = sources or {}
    toks: list[tuple[str, str]] = []
    pos = 0
    s = expr.strip()
    if not s:
        raise AnalogffError("--where is empty; example: --where \"adc_bits>=6 and algo=pff\"")
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if m is None or m.end() == pos:
            break
        kind = m.lastgroup
        if kind == "bad":
            raise AnalogffError(f"--where {expr!r}: unexpected {m.group(kind)!r}; use "
                                "<column> <op> <value> clauses joined by and/or")
        toks.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(s) and s[pos].isspace():
            pos += 1

    def bad(msg: str) -> AnalogffError:
        return AnalogffError(f"--where {expr!r}: {msg}; use <column> <op> <value> clauses joined "
                             "by and/or, e.g. \"adc_bits>=6 and algo=pff\"")

    sql: list[str] = []
    params: list[Any] = []
    i = 0
    while True:
        if i + 3 > len(toks):
            raise bad("incomplete clause")
        (k1, col), (k2, op), (k3, lit) = toks[i:i + 3]
        if k1 != "word":
            raise bad(f"expected a column name, got {col!r}")
        col = col.replace("-", "_")
        if col.lower() in ("and", "or", "not") or col not in cols:
            known = ", ".join(c for c in sorted(cols) if c != "record")
            raise bad(f"unknown column {col!r} (known: {known})")
        if col == "record":
            raise bad("the record column cannot be filtered")
        if k2 != "op":
            raise bad(f"expected a comparison operator after {col!r}, got {op!r}")
        op = {"==": "=", "<>": "!="}.get(op, op)
        if k3 == "num":
            val: Any = float(lit)
            if re.fullmatch(r"[-+]?\d+", lit):
                val = int(lit)
        elif k3 == "str":
            q = lit[0]
            val = lit[1:-1].replace(q * 2, q)
        elif k3 == "word":
            low = lit.lower()
            if low in ("and", "or"):
                raise bad(f"missing value after {col} {op}")
            val = {"true": 1, "false": 0}.get(low, lit)
            if low in ("null", "none"):
                val = None
        else:
            raise bad(f"expected a value after {col} {op}, got {lit!r}")
        kind_of = types.get(col, "").upper()
        if isinstance(val, str) and kind_of in ("INTEGER", "REAL"):
            raise bad(f"{col} holds numbers; {lit} is not one")
        if k3 == "num" and kind_of == "TEXT":
            raise bad(f"{col} holds text; quote the value to compare it as text: {col} {op} "
                      f"'{lit}'")
        ref = sources.get(col, f'"{col}"')
        if val is None:
            if op not in ("=", "!="):
                raise bad("null can only be compared with = or !=")
            sql.append(f'{ref} IS {"NOT " if op == "!=" else ""}NULL')
        else:
            sql.append(f'{ref} {op} ?')
            params.append(val)
        i += 3
        if i == len(toks):
            break
        kind, word = toks[i]
        if kind != "word" or word.lower() not in ("and", "or"):
            raise bad(f"expected 'and' or 'or', got {word!r}")
        sql.append(word.upper())
        i += 1
    return " ".join(sql), params
