"""Parameter sweeps: expand a grid into `SimConfig` points and run them on local processes or
a Dask cluster, writing each finished point to a `ResultsStore` as soon as it arrives.

- ``--grid key=v1,v2,...`` strings (`parse_grid`) and TOML sweep files (`load_sweep_toml`:
  optional ``[hardware]`` table of chip fields, ``[base]`` table, ``[grid]`` table of lists,
  optional ``[zip]`` table of equal-length lists varied together, optional top-level
  ``algo = [...]`` and ``seeds = N``) become a `SweepSpec`;
  `expand` turns it into validated configs (every point is built, and so validated, before any
  work starts).
- `run_sweep` skips points whose config hash is already "done" in the store (resume) or, unless
  ``retry_failed``, "failed" there; it runs the rest with a point function (default:
  `analogff.experiment.run_experiment`), records failures with their error text and carries
  on. Only the calling process writes the store.

Testing / extension hook: the point function can be any picklable callable
``fn(cfg: SimConfig) -> run record dict``, or a string ``"module:function"`` that is imported
where the point runs. The CLI takes it from the hidden ``--point-fn`` option or from the
environment variable ``ANALOGFF_SWEEP_POINT_FN``.
"""

from __future__ import annotations

import importlib
import itertools
import math
import multiprocessing
import os
import platform
import sys
import time
import traceback
import uuid
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from device_models.checks import check_number, plain

from .config import FIELD_TYPES, HARDWARE_FIELDS, SimConfig, coerce, from_dict
from .errors import ConfigError
from .pulse_cap import CAP_WARN_FRACTION, worst_capped_matrix
from .saturation import SATURATION_WARN_FRACTION, capped_ranges, worst_matrix

POINT_FN_ENV = "ANALOGFF_SWEEP_POINT_FN"
THREAD_ENV_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                   "MKL_NUM_THREADS")
RECORD_SCHEMA = 2  # = analogff.experiment.RECORD_SCHEMA (kept here: workers import it lazily)


# ---- specification and expansion -----------------------------------------------------------
@dataclass
class SweepSpec:
    """What to sweep. ``grid`` keys are crossed; ``zip`` lists vary together (one axis)."""

    base: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    zip: dict[str, list[Any]] = field(default_factory=dict)
    algos: list[str] = field(default_factory=list)
    seeds: int = 1

    def varied_keys(self) -> list[str]:
        keys = list(self.grid) + list(self.zip)
        if len(self.algos) > 1:
            keys.append("algo")
        if self.seeds > 1:
            keys.append("seed")
        return keys


def _key(raw: str, where: str) -> str:
    key = raw.strip().replace("-", "_")
    if not key:
        raise ConfigError(f"{where}: missing parameter name before '='")
    if key not in FIELD_TYPES:
        from .config import _REPLACED
        if key in _REPLACED:
            raise ConfigError(f"{where}: {_REPLACED[key]}")
        raise ConfigError(f"{where}: unknown parameter {raw.strip()!r}; sweepable parameters: "
                          f"{', '.join(FIELD_TYPES)}")
    return key


def parse_grid(text: str) -> tuple[str, list[Any]]:
    """``"adc_bits=4,6,8"`` -> ``("adc_bits", [4, 6, 8])``, values typed for the field.

    Values are separated by ``,``; if the text contains ``;`` values are separated by ``;``
    instead (so ``hidden=500,500;1000`` sweeps two layer layouts). ``none`` means the default.
    """
    where = f"--grid {text!r}"
    if "=" not in text:
        raise ConfigError(f"{where} is malformed; write key=v1,v2,... e.g. --grid noise=0,0.02,0.05")
    raw_key, _, raw_vals = text.partition("=")
    key = _key(raw_key, where)
    sep = ";" if ";" in raw_vals else ","
    parts = [p.strip() for p in raw_vals.split(sep)]
    if not raw_vals.strip() or any(p == "" for p in parts):
        raise ConfigError(f"{where} has an empty value; write key=v1,v2,... "
                          "e.g. --grid noise=0,0.02,0.05")
    try:
        values = [coerce(key, p) for p in parts]
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return key, values


def _typed_list(key: str, values: Any, where: str) -> list[Any]:
    if not isinstance(values, list) or not values:
        raise ConfigError(f"{where}: {key} must be a non-empty list of values, e.g. {key} = [1, 2]")
    try:
        return [coerce(key, v) for v in values]
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_sweep_toml(path: str | Path) -> SweepSpec:
    """Read a sweep file::

        algo = ["pff", "bp"]      # optional
        seeds = 3                 # optional
        [hardware]                # the chip's base values (any hardware field)
        node_nm = 22
        [base]                    # fixed parameters
        epochs = 5
        [grid]                    # crossed
        noise = [0.0, 0.02, 0.05]
        [zip]                     # varied together (equal lengths)
        adc_bits = [4, 6, 8]
        dac_bits = [4, 6, 8]
    """
    from .boundary import load_toml

    p = Path(path)
    # one line for missing / a directory / unreadable / non-UTF-8 / invalid TOML
    data = load_toml(p, "sweep file")
    allowed = {"base", "grid", "zip", "algo", "seeds", "hardware"}
    extra = [k for k in data if k not in allowed]
    if extra:
        raise ConfigError(f"{p}: unknown entry {extra[0]!r}; a sweep file has [hardware], [base], "
                          "[grid], [zip] tables and optional algo = [...], seeds = N")
    spec = SweepSpec()
    for name in ("base", "grid", "zip"):
        if not isinstance(data.get(name, {}), dict):
            raise ConfigError(f"{p}: {name} must be a table ([{name}])")
    if not isinstance(data.get("hardware", {}), dict):
        raise ConfigError(f"{p}: hardware must be a table ([hardware])")
    for k, v in data.get("hardware", {}).items():   # the chip's base values
        key = _key(k, f"{p} [hardware]")
        if key not in HARDWARE_FIELDS:
            raise ConfigError(f"{p} [hardware]: {key!r} is not a hardware field; known fields: "
                              f"{', '.join(HARDWARE_FIELDS)}")
        try:
            spec.base[key] = coerce(key, v)
        except ConfigError as exc:
            raise ConfigError(f"{p} [hardware]: {exc}") from None
    for k, v in data.get("base", {}).items():
        key = _key(k, f"{p} [base]")
        try:
            spec.base[key] = coerce(key, v)
        except ConfigError as exc:
            raise ConfigError(f"{p} [base]: {exc}") from None
    for k, v in data.get("grid", {}).items():
        key = _key(k, f"{p} [grid]")
        spec.grid[key] = _typed_list(key, v, f"{p} [grid]")
    for k, v in data.get("zip", {}).items():
        key = _key(k, f"{p} [zip]")
        spec.zip[key] = _typed_list(key, v, f"{p} [zip]")
    lengths = {len(v) for v in spec.zip.values()}
    if len(lengths) > 1:
        detail = ", ".join(f"{k}: {len(v)}" for k, v in spec.zip.items())
        raise ConfigError(f"{p} [zip]: lists must have equal lengths ({detail})")
    both = set(spec.grid) & set(spec.zip)
    if both:
        raise ConfigError(f"{p}: {sorted(both)[0]!r} is in both [grid] and [zip]; keep it in one")
    if "algo" in data:
        algos = data["algo"]
        algos = [algos] if isinstance(algos, str) else algos
        spec.algos = [str(a) for a in _typed_list("algo", algos, str(p))]
    if "seeds" in data:
        s = data["seeds"]
        check_number(f"{p}: seeds", s, 1, None, integer=True, error=ConfigError)
        spec.seeds = s
    return spec


def build_spec(grid: Sequence[str] = (), config: str | Path | None = None,
               algos: Sequence[str] = (), seeds: int | None = None,
               base: dict[str, Any] | None = None,
               hardware: dict[str, Any] | None = None) -> SweepSpec:
    """Combine a sweep file with ``--grid`` strings (which override the file's keys),
    ``--algo`` values and ``--seeds``; ``hardware`` (a chip's fields, e.g. from
    ``--hardware FILE``) sets base values under the file's ``[base]``."""
    spec = load_sweep_toml(config) if config is not None else SweepSpec()
    if hardware:   # the chip's base values, under the sweep file's [base] and the grid
        spec.base = {**{k: coerce(k, v) for k, v in hardware.items()}, **spec.base}
    if base:
        spec.base.update({k.replace("-", "_"): coerce(k, v) for k, v in base.items()})
    seen: set[str] = set()
    for g in grid:
        key, values = parse_grid(g)
        if key in seen:
            raise ConfigError(f"--grid {g!r}: {key} is given twice; list all its values in one --grid")
        seen.add(key)
        if key in spec.zip:
            raise ConfigError(f"--grid {g!r}: {key} is zipped in the sweep file")
        spec.grid[key] = values
    if algos:
        if "algo" in spec.grid and "algo" not in seen:
            del spec.grid["algo"]           # --algo replaces the sweep file's algo list
        spec.algos = [coerce("algo", a) for a in algos]
    if seeds is not None:
        check_number("--seeds", seeds, 1, None, integer=True, error=ConfigError)
        spec.seeds = seeds
    if spec.algos and "algo" in spec.grid:
        raise ConfigError("algo is given both as a grid key and with --algo; use one of them")
    return spec


def _dedupe(seq: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for v in seq:
        if v not in out:
            out.append(v)
    return out


def expand(spec: SweepSpec) -> list[SimConfig]:
    """Every point of the sweep as a validated `SimConfig` (duplicates removed, order kept).

    Order: grid keys crossed in the order given (the last varies fastest), then the zip axis,
    then algorithms, then seed replicates (seed = base seed + k).
    """
    grid_keys = list(spec.grid)
    grid_vals = [_dedupe(spec.grid[k]) for k in grid_keys]
    zip_keys = list(spec.zip)
    n_zip = len(next(iter(spec.zip.values()))) if spec.zip else 1
    zip_rows = [{k: spec.zip[k][i] for k in zip_keys} for i in range(n_zip)]
    algos: list[Any] = _dedupe(spec.algos) or [None]
    base_seed = spec.base.get("seed", SimConfig.seed)
    # replicates of a swept seed may reach another point's seed: fewer runs than asked
    seeds_overlap = spec.seeds > 1 and "seed" in (*grid_keys, *zip_keys)
    points: list[SimConfig] = []
    hashes: set[str] = set()
    for combo in itertools.product(*grid_vals):
        for zrow in zip_rows:
            for algo in algos:
                for k in range(spec.seeds):
                    d = dict(spec.base)
                    d.update(zip(grid_keys, combo))
                    d.update(zrow)
                    if algo is not None:
                        d["algo"] = algo
                    d["seed"] = (d.get("seed", base_seed) or 0) + k
                    try:
                        cfg = from_dict(d)
                    except ConfigError as exc:
                        varied = {kk: d[kk] for kk in [*grid_keys, *zip_keys] if kk in d}
                        if algo is not None:
                            varied["algo"] = algo
                        desc = ", ".join(f"{kk}={vv}" for kk, vv in varied.items()) or "base"
                        raise ConfigError(f"sweep point ({desc}): {exc}") from None
                    h = cfg.config_hash()
                    if h in hashes:
                        if seeds_overlap:
                            raise ConfigError(
                                f"--seeds {spec.seeds} replicates each point from its own "
                                f"seed, and seed is swept too: seed {cfg.seed} is reached "
                                "twice; sweep the seeds in one place (the grid, or --seeds)")
                        continue
                    hashes.add(h)
                    points.append(cfg)
    return points


# ---- planning ------------------------------------------------------------------------------
@dataclass
class Plan:
    points: list[SimConfig]
    done: set[str]
    failed: set[str]
    todo: list[SimConfig]

    def state(self, cfg: SimConfig) -> str:
        h = cfg.config_hash()
        return "done" if h in self.done else "failed" if h in self.failed else "todo"


def plan(points: Sequence[SimConfig], store, retry_failed: bool = False) -> Plan:
    """Which points still need running: not done, and (unless ``retry_failed``) not failed."""
    done = store.done_hashes()
    failed = store.failed_hashes()
    skip = done if retry_failed else done | failed
    hashed = [(c, c.config_hash()) for c in points]
    todo = [c for c, h in hashed if h not in skip]
    hs = {h for _, h in hashed}
    return Plan(list(points), done & hs, failed & hs, todo)


# ---- running one point (in a worker) -------------------------------------------------------
def default_point(cfg: SimConfig) -> dict[str, Any]:
    """Run one experiment (`analogff.experiment.run_experiment`) and return its record."""
    from analogff.experiment import run_experiment  # lazy: heavy, and only needed in workers

    return run_experiment(cfg)


def resolve_point_fn(fn: Callable | str | None) -> Callable[[SimConfig], dict]:
    """A callable from a callable, a ``"module:function"`` string, or None (the default)."""
    if fn is None:
        return default_point
    if callable(fn):
        return fn
    mod_name, sep, attr = str(fn).partition(":")
    if not sep or not mod_name or not attr:
        raise ConfigError(f"point function {fn!r} must be written module:function")
    try:
        obj = importlib.import_module(mod_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"point function {fn!r} cannot be imported ({exc})") from None
    if not callable(obj):
        raise ConfigError(f"point function {fn!r} is not callable")
    return obj


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    v = {"python": platform.python_version()}
    for pkg in ("analogff", "numpy", "numba"):
        try:
            v[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover - not installed
            v[pkg] = "unknown"
    return v


def failed_record(cfg: SimConfig, error: str, wall_s: float | None = None) -> dict[str, Any]:
    """A run record (docs/CONTRACTS.md) for a point that raised or whose worker died."""
    return {"schema": RECORD_SCHEMA, "status": "failed", "error": error,
            "config": cfg.to_dict(), "config_hash": cfg.config_hash(), "seed": cfg.seed,
            "hardware": cfg.hardware.to_dict(),
            "metrics": None, "samples": None, "ledger": None, "energy": None, "counts": None,
            "timing": {"wall_s": wall_s}, "versions": _versions()}


_THREADS_APPLIED: int | None = None


def _limit_threads(threads: int | None) -> None:
    """Set Numba / OpenMP / BLAS threads in this worker process to ``threads`` (once per
    process: checking the loaded BLAS libraries costs ~3 ms). Libraries loaded later read the
    environment. A Numba already loaded with a smaller pool (NUMBA_NUM_THREADS, fixed at its
    import) cannot run more: refused (ConfigError), not capped. Local workers start with
    NUMBA_NUM_THREADS = ``threads``, Dask points ask for 1."""
    global _THREADS_APPLIED
    if not threads or threads == _THREADS_APPLIED:
        return
    numba = sys.modules.get("numba")
    if numba is not None and threads > numba.config.NUMBA_NUM_THREADS:
        raise ConfigError(f"threads = {threads} is more than this worker's Numba pool "
                          f"(NUMBA_NUM_THREADS = {numba.config.NUMBA_NUM_THREADS}); allowed 1 to "
                          f"{numba.config.NUMBA_NUM_THREADS}")
    for var in THREAD_ENV_VARS:
        os.environ[var] = str(threads)
    if numba is not None:  # already imported in this worker: set its pool at runtime
        numba.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except Exception:  # pragma: no cover - threadpoolctl missing or a library refuses
        pass
    _THREADS_APPLIED = threads


def run_point(fn: Callable | str | None, cfg_dict: dict[str, Any],
              threads: int | None = None) -> tuple[dict[str, Any], float]:
    """Run one point where it is scheduled; never raises for the point's own errors.

    Returns ``(record, seconds spent in the point function)``. An exception becomes a
    "failed" record whose error is ``"Type: message"`` plus the last traceback frame.
    """
    cfg = from_dict(cfg_dict)
    t0 = time.perf_counter()
    try:
        _limit_threads(threads)
        func = resolve_point_fn(fn)
        record = func(cfg)
        elapsed = time.perf_counter() - t0
        if not isinstance(record, dict):
            raise TypeError(f"point function returned {type(record).__name__}, not a run record dict")
        record = dict(record)
        record.setdefault("schema", RECORD_SCHEMA)
        record.setdefault("status", "done")
        record.setdefault("error", None)
        record.setdefault("config", cfg.to_dict())
        record.setdefault("hardware", cfg.hardware.to_dict())
        record["config_hash"] = cfg.config_hash()  # the point's identity in the store
        record.setdefault("seed", cfg.seed)
        if record["status"] not in ("done", "failed"):
            raise ValueError(f"point function returned status {record['status']!r}")
        return record, elapsed
    except Exception as exc:
        elapsed = time.perf_counter() - t0
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        return failed_record(cfg, f"{type(exc).__name__}: {exc}{where}", elapsed), elapsed


# ---- running a sweep -----------------------------------------------------------------------
@dataclass
class Progress:
    """What a progress callback receives after every change."""

    total: int            # points to run in this invocation (skipped ones excluded)
    done: int = 0
    failed: int = 0
    running: int = 0
    skipped: int = 0      # already in the store
    elapsed_s: float = 0.0
    eta_s: float | None = None
    last: dict[str, Any] | None = None  # the record that just finished, if any

    @property
    def finished(self) -> int:
        return self.done + self.failed


@dataclass
class SweepResult:
    total: int                      # points in the sweep
    skipped: int                    # already in the store (done, or failed without retry)
    done: int = 0                   # finished successfully in this invocation
    failed: int = 0                 # failed in this invocation
    wall_s: float = 0.0
    point_s: list[float] = field(default_factory=list)   # time inside the point function
    failures: list[tuple[str, str]] = field(default_factory=list)  # (hash, error)
    # done points whose worst matrix clipped more than analogff.saturation's limit:
    # (config hash, its config (record["config"]), matrix, clipped share 0..1)
    clipping: list[tuple[str, dict, str, float]] = field(default_factory=list)
    # done points with a matrix whose widened ADC range was set to full scale
    # (analogff.saturation.capped_ranges): (config hash, its config, those matrices)
    capped: list[tuple[str, dict, list[str]]] = field(default_factory=list)
    # done points whose worst matrix had more than analogff.pulse_cap's limit of its weight
    # updates cut to the chip's update slots: (config hash, its config, matrix, cut share)
    pulse_cut: list[tuple[str, dict, str, float]] = field(default_factory=list)
    executor: str = "local"
    workers: int = 1
    client_s: float = 0.0           # time the client spent writing results to the store

    @property
    def ran(self) -> int:
        return self.done + self.failed


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def default_worker_threads() -> int:
    v = os.environ.get("ANALOGFF_WORKER_THREADS", "1")
    try:
        n: Any = int(v)
    except ValueError:
        n = v       # refused below as not an integer, in the checks' words
    # refused, not raised to 1: the user's value is used as given or not at all
    check_number("ANALOGFF_WORKER_THREADS", n, 1, None, integer=True, error=ConfigError)
    return n


def _positive(name: str, value) -> int:
    """``value`` as a positive int (numpy integers too), or a one-line ConfigError naming
    ``name``."""
    value = plain(value)
    check_number(name, value, 1, None, integer=True, error=ConfigError)
    return value


@contextmanager
def _worker_thread_env(threads: int) -> Iterator[None]:
    """Thread-count env for worker processes started inside this block."""
    old = {v: os.environ.get(v) for v in THREAD_ENV_VARS}
    for v in THREAD_ENV_VARS:
        os.environ[v] = str(threads)
    try:
        yield
    finally:
        for v, val in old.items():
            if val is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = val


def _worker_init(parent_pid: int) -> None:
    """In each local worker: exit when the sweep process is gone (killed with SIGKILL, say)
    instead of lingering as an orphan; a point it was running is simply rerun on resume."""
    import signal
    import threading

    # Ctrl-C reaches the whole process group: the sweep process stops its workers itself
    # (LocalPool.reset), so a worker must not stop on its own, nor raise inside a kernel
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="analogff-parent-watch", daemon=True).start()


def _mp_context():
    # spawn: every worker starts clean, with this sweep's thread settings in its environment
    return multiprocessing.get_context("spawn")


class _Tracker:
    def __init__(self, total: int, skipped: int, callback: Callable[[Progress], None] | None):
        self.p = Progress(total=total, skipped=skipped)
        self.cb = callback
        self.t0 = time.perf_counter()

    def update(self, running: int, last: dict | None = None) -> None:
        p = self.p
        p.running = running
        p.elapsed_s = time.perf_counter() - self.t0
        p.last = last
        left = p.total - p.finished
        p.eta_s = (p.elapsed_s / p.finished * left) if p.finished else None
        if left == 0:
            p.eta_s = 0.0
        if self.cb is not None:
            self.cb(p)


def run_sweep(points: Sequence[SimConfig], store, *, point_fn: Callable | str | None = None,
              workers: int | None = None, scheduler: str | None = None,
              retry_failed: bool = False, progress: Callable[[Progress], None] | None = None,
              sweep_name: str | None = None, client=None, pool: LocalPool | None = None,
              connect_timeout: float = 20.0) -> SweepResult:
    """Run the points neither done nor (unless ``retry_failed``) failed in ``store`` (`plan`);
    each result is written as soon as it arrives.

    ``workers``: local processes (default: CPU count). ``scheduler``: a Dask scheduler address
    (``tcp://host:8786``); ``client``: an existing ``distributed.Client`` (both ignore
    ``workers``); ``pool``: a `LocalPool` to reuse. A point that raises is stored as failed
    and the sweep goes on. ``result.client_s`` is the time the client spent storing results.
    """
    pl = plan(points, store, retry_failed=retry_failed)
    todo = pl.todo
    result = SweepResult(total=len(pl.points), skipped=len(pl.points) - len(todo))
    tracker = _Tracker(len(todo), result.skipped, progress)
    if isinstance(point_fn, str):
        resolve_point_fn(point_fn)  # fail early, in the client, with one line
    t0 = time.perf_counter()

    def finish(record: dict[str, Any], elapsed: float) -> None:
        t = time.perf_counter()
        store.add(record, sweep=sweep_name)
        result.client_s += time.perf_counter() - t
        result.point_s.append(elapsed)
        if record.get("status") == "done":
            result.done += 1
            tracker.p.done += 1
            ledger = record.get("ledger") or {}
            for found, worst_of, limit in ((result.clipping, worst_matrix,
                                            SATURATION_WARN_FRACTION),
                                           (result.pulse_cut, worst_capped_matrix,
                                            CAP_WARN_FRACTION)):
                worst = worst_of(ledger)
                if worst is not None and worst[1] > limit:
                    found.append((record.get("config_hash", "?"), record.get("config") or {},
                                  *worst))
            capped = capped_ranges(record)
            if capped:
                result.capped.append((record.get("config_hash", "?"),
                                      record.get("config") or {}, sorted(capped)))
        else:
            result.failed += 1
            tracker.p.failed += 1
            result.failures.append((record.get("config_hash", "?"), str(record.get("error"))))

    tracker.update(0)
    if todo:
        if scheduler is not None or client is not None:
            result.executor = "dask"
            _run_dask(todo, point_fn, scheduler, client, finish, tracker, result, connect_timeout)
        else:
            own = pool is None
            lp = LocalPool(workers) if own else pool
            result.executor, result.workers = "local", lp.workers
            try:
                _run_local(todo, point_fn, lp, finish, tracker)
            finally:
                if own:
                    lp.close()
    result.wall_s = time.perf_counter() - t0
    return result


class LocalPool:
    """A reusable pool of ``workers`` spawned worker processes.

    `run_sweep` makes one per sweep; pass your own (``run_sweep(..., pool=p)``) to keep warm
    workers across several sweeps (notebooks, benchmarks).

    Threads: each worker runs its points with ``threads`` threads (default
    ``$ANALOGFF_WORKER_THREADS`` or 1) for Numba, OpenMP and BLAS (a run itself holds BLAS
    at one thread and splits its large products over the Numba threads, `crossbar.products`,
    so a point's record is the same at any count): a sweep gets its parallelism from running
    points side by side. Measured on the shared 2-core machines here,
    a small point ran in 0.12 s with 1 thread and 8 s with 2 (thread pools spinning against
    other processes), so more threads per worker is opt-in.
    """

    def __init__(self, workers: int | None = None, threads: int | None = None):
        self.workers = default_workers() if workers is None else _positive("workers", workers)
        self.threads = (default_worker_threads() if threads is None
                        else _positive("threads", threads))
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, fn: Callable, *args: Any):
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_mp_context(),
                                             initializer=_worker_init, initargs=(os.getpid(),))
        with _worker_thread_env(self.threads):   # workers are spawned on demand, here
            return self._pool.submit(fn, *args)

    def reset(self, cancel: bool = True) -> None:
        """Drop the processes (a broken pool, or an interrupt); the next submit starts anew."""
        if self._pool is not None:
            if cancel:  # an interrupt: stop the points in progress too (rerun on resume)
                for proc in list((getattr(self._pool, "_processes", None) or {}).values()):
                    proc.terminate()
            # wait even then (the workers are gone: it takes as long as they take to die):
            # the pool's manager thread closes its wake-up pipe as it ends, and Python 3.11's
            # exit hook writes to that pipe without a lock, so a pool left ending raced the
            # interpreter's exit ("Exception ignored ... OSError: [Errno 9] Bad file
            # descriptor" under the one line of an interrupted sweep, seen twice in CI)
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None

    def close(self) -> None:
        self.reset(cancel=False)

    def __enter__(self) -> "LocalPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.reset(cancel=exc[0] is not None)


def _run_local(todo: Sequence[SimConfig], point_fn, pool: LocalPool, finish,
               tracker: _Tracker) -> None:
    """Run on local worker processes. If a worker process dies (segfault, OOM killer), the
    points that were running are re-run one at a time so that only the point that kills its
    worker is recorded as failed."""
    queue = deque(todo)
    while queue:
        suspects = _run_pool(queue, pool, point_fn, finish, tracker)
        for cfg in suspects:
            with LocalPool(1, threads=pool.threads) as alone:
                _run_pool(deque([cfg]), alone, point_fn, finish, tracker, blame=True)


def _run_pool(queue: deque, pool: LocalPool, point_fn, finish, tracker: _Tracker,
              blame: bool = False) -> list[SimConfig]:
    """Run points from ``queue`` until it is empty or the pool breaks; returns the points
    that were in flight when it broke (not recorded), or records them as failed if ``blame``."""
    n = pool.workers
    # keep one point queued per worker besides the running one, so that a worker starts its
    # next point at once instead of waiting for the client to store the last result
    window = n if blame else 2 * n
    running: dict[Any, SimConfig] = {}
    suspects: list[SimConfig] = []
    try:
        while queue or running:
            while queue and len(running) < window and not suspects:
                cfg = queue.popleft()
                try:
                    fut = pool.submit(run_point, point_fn, cfg.to_dict(), pool.threads)
                except BrokenProcessPool:
                    queue.appendleft(cfg)
                    break
                running[fut] = cfg
            tracker.update(min(len(running), n))
            if not running:
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in finished:
                cfg = running.pop(fut)
                try:
                    record, elapsed = fut.result()
                except BrokenProcessPool:
                    if not blame:
                        suspects.append(cfg)
                        continue
                    record, elapsed = failed_record(
                        cfg, "the worker process died while running this point (crashed, "
                             "killed or out of memory)"), 0.0
                except Exception as exc:  # e.g. an unpicklable result
                    record, elapsed = failed_record(cfg, f"{type(exc).__name__}: {exc}"), 0.0
                finish(record, elapsed)
                tracker.update(min(len(running), n), record)
            if suspects and not running:
                break
    except BaseException:
        pool.reset(cancel=True)
        raise
    if suspects:
        pool.reset(cancel=True)
    return suspects


def _run_dask(todo: Sequence[SimConfig], point_fn, scheduler: str | None, client, finish,
              tracker: _Tracker, result: SweepResult, connect_timeout: float = 20.0) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover
        raise ConfigError("--scheduler needs dask.distributed: pip install 'dask[distributed]'") from None
    own = client is None
    if own:
        try:
            client = Client(scheduler, timeout=f"{connect_timeout}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"cannot connect to the Dask scheduler at {scheduler!r} ({exc}); "
                              "start one with `dask scheduler` (see docs/scaling.md)") from None
    try:
        nthreads = client.nthreads()
        slots = max(1, sum(nthreads.values()))
        result.workers = slots
        futs = {}
        for cfg in todo:
            f = client.submit(run_point, point_fn, cfg.to_dict(), 1, pure=False,
                              key=f"analogff-point-{cfg.config_hash()}-{uuid.uuid4().hex[:8]}")
            futs[f] = cfg
        pending = len(futs)
        tracker.update(min(pending, slots))
        try:
            for fut in as_completed(list(futs)):
                cfg = futs[fut]
                try:
                    record, elapsed = fut.result()
                except Exception as exc:  # KilledWorker, lost connection, ...
                    record, elapsed = failed_record(cfg, f"{type(exc).__name__}: {exc}"), 0.0
                pending -= 1
                finish(record, elapsed)
                fut.release()
                tracker.update(min(pending, slots), record)
        except BaseException:
            client.cancel(list(futs))
            raise
    finally:
        if own:
            client.close()


def describe(cfg: SimConfig, keys: Sequence[str]) -> str:
    return ", ".join(f"{k}={getattr(cfg, k)}" for k in keys)


def fmt_duration(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return "?"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
