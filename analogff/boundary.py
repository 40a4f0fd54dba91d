"""The input boundary: every file a command reads and every path it writes is checked here,
before any training starts.

Any decoding, type, range, contradiction, resource (memory) or file-system problem becomes one
`BoundaryError` (a `ConfigError`: the CLI prints one line and exits 2) that names the file,
the field and what is allowed. Types are strict: a bool is not a number, a list is not a
scalar, and numpy scalars are numbers (converted to Python's, so records stay plain JSON).

Callers: `analogff.config` (run config files: layout, strict value types), `analogff.sweep`
(sweep files), `analogff.experiment` (the run: data, batch, memory), the commands for their
output paths and resources (`simulate`: --save-images, the run; `sweep`: every point, the
scheduler; `results`: --csv/--parquet; `report`: --out; `spice`: --netlist). Device and
hardware files are read below this package (`device_models.get_device`,
`crossbar.chip.read_fields`, which cannot import it) with the same rules and messages; the
results store is checked by `analogff.store.ResultsStore`. Signals: `analogff.signals`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from device_models.checks import plain
from device_models.textfile import decode_utf8

from .errors import ConfigError, UnusedOption

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class BoundaryError(ConfigError):
    """Bad input found at the boundary (one line: file, field, what is allowed)."""


# ---- values ------------------------------------------------------------------------------
_KIND = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def check_type(key: str, value: Any, t: type, where: str = "") -> Any:
    """``value`` (not a string, not None) if it has the field's type ``t``, else a one-line
    `BoundaryError`. bool is not a number; int is accepted where a float is asked (as float)."""
    value = plain(value)
    prefix = f"{where}: " if where else ""
    ok = {bool: lambda v: isinstance(v, bool),
          int: lambda v: isinstance(v, int) and not isinstance(v, bool),
          float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
          str: lambda v: isinstance(v, str)}.get(t)
    if ok is None or ok(value):
        return float(value) if t is float else value
    shown = str(value).lower() if isinstance(value, bool) else repr(value)
    got = "a list" if isinstance(value, list) else "a table" if isinstance(value, dict) \
        else "a boolean" if isinstance(value, bool) else type(value).__name__
    raise BoundaryError(f"{prefix}{key} = {shown} must be {_KIND[t]} (got {got})")


# ---- files read --------------------------------------------------------------------------
def read_bytes(path: str | Path, what: str) -> bytes:
    """The bytes of the ``what`` file at ``path``; one line if it is missing, a directory or
    unreadable."""
    p = Path(path)
    if p.is_dir():
        raise BoundaryError(f"{what} {str(p)!r} is a directory; give a file")
    if not p.exists():
        raise BoundaryError(f"{what} {str(p)!r} does not exist")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise BoundaryError(f"{what} {str(p)!r} cannot be read: {exc.strerror or exc}") from None


def read_text(path: str | Path, what: str) -> str:
    """The UTF-8 text of the ``what`` file at ``path``; one line naming the first bad byte."""
    return decode_utf8(read_bytes(path, what), str(path), what, BoundaryError)


def load_toml(path: str | Path, what: str) -> dict[str, Any]:
    """The ``what`` TOML file at ``path`` as a dict; one line for every way it can be bad."""
    text = read_text(path, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BoundaryError(f"{what} {str(path)!r} is not valid TOML ({exc})") from None


def run_config_table(data: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """The run settings of a config file: top-level keys, or a ``[simulate]`` table (with an
    optional ``[hardware]`` table beside it), never both: mixing them would leave one set
    unused or overridden in silence."""
    sim = data.get("simulate")
    if sim is not None and not isinstance(sim, dict):
        raise BoundaryError(f"config file {str(path)!r}: simulate = {sim!r} must be a table "
                            "([simulate] followed by key = value lines)")
    if sim is not None:
        loose = [k for k in data if k not in ("simulate", "hardware")]
        if loose:
            raise BoundaryError(
                f"config file {str(path)!r} has top-level keys ({', '.join(loose)}) and a "
                "[simulate] table; put every setting in [simulate] (or drop the table header)")
    hw = data.get("hardware")
    if hw is not None and not isinstance(hw, dict):
        raise BoundaryError(f"config file {str(path)!r}: hardware = {hw!r} must be a table "
                            "([hardware] followed by key = value lines)")
    return data


# ---- paths written -----------------------------------------------------------------------
def _writable_dir(d: Path, what: str, path: Path) -> None:
    probe = d
    while not probe.exists():          # the nearest existing ancestor must be a writable dir
        probe = probe.parent
    if not probe.is_dir():
        raise BoundaryError(f"{what} {str(path)!r}: {str(probe)!r} is a file, not a directory")
    try:  # a real probe: permissions, read-only mounts and pseudo file systems alike
        os.rmdir(tempfile.mkdtemp(prefix=".analogff-probe-", dir=probe))
    except OSError as exc:
        raise BoundaryError(f"{what} {str(path)!r}: cannot write in {str(probe)!r} "
                            f"({exc.strerror or exc}); choose a writable place") from None


def check_output_file(path: str | Path, what: str, overwrite: bool = True) -> Path:
    """A file about to be written: not a directory, in a writable directory, and (unless
    ``overwrite``) not already there. Checked before any work starts."""
    p = Path(path)
    if p.is_dir():
        raise BoundaryError(f"{what} {str(p)!r} is a directory; give a file name "
                            f"(e.g. {str(p / 'results.csv')!r})")
    if p.exists() and not overwrite:
        raise BoundaryError(f"{what} {str(p)!r} already exists; remove it or choose another name")
    if p.exists() and not os.access(p, os.W_OK):
        raise BoundaryError(f"{what} {str(p)!r} is not writable (permission denied)")
    _writable_dir(p.parent if str(p.parent) else Path("."), what, p)
    return p


def check_output_dir(path: str | Path, what: str) -> Path:
    """A directory about to be created or filled: not an existing file, creatable/writable."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise BoundaryError(f"{what} {str(p)!r} exists and is a file; it must be a directory "
                            "(it receives several files): remove it or choose another name")
    _writable_dir(p, what, p)
    return p


# ---- resources ---------------------------------------------------------------------------
GiB = 1024 ** 3
# bytes per weight held during a run, counted low so that only what surely cannot fit is
# refused: analog = two device states + effective weights + update request (4 x float32)
# + the optimiser's two moments (2 x float32); ideal = weights + gradient + two moments
_BYTES_PER_WEIGHT = {True: 24, False: 16}


def available_memory() -> int | None:
    """Bytes of memory available now (Linux MemAvailable; else physical memory; None if
    unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def weight_count(n_in: int, hidden: tuple[int, ...], n_classes: int, algo: str) -> int:
    """Weights of the network's main matrices: the chain n_in -> hidden... -> classes, and for
    PFF its generative circuit (the same chain top-down) as well."""
    sizes = [int(n_in), *map(int, hidden), int(n_classes)]
    chain = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return chain * (2 if algo == "pff" else 1)


def check_memory(cfg, hp: dict, n_in: int, n_classes: int) -> None:
    """Refuse (one line) a network whose weights alone cannot fit in the memory available."""
    hidden = tuple(hp.get("hidden") or ())
    need = weight_count(n_in, hidden, n_classes, cfg.algo) * _BYTES_PER_WEIGHT[not cfg.ideal]
    have = available_memory()
    if have is not None and need > have:
        raise BoundaryError(
            f"hidden = {','.join(map(str, hidden))} needs at least {need / GiB:.1f} GiB for its "
            f"weights ({'device states' if not cfg.ideal else 'float weights'} and optimiser "
            f"state) but {have / GiB:.1f} GiB of memory is available; use smaller layers")


def check_dataset(data) -> None:
    """A training set a run can use: at least one row, labels in 0..n_classes-1, finite."""
    n = int(data.x_train.shape[0])
    if n == 0 or len(data.y_train) == 0:
        raise BoundaryError(f"dataset {data.name!r} has no training examples")
    if len(data.y_train) != n:
        raise BoundaryError(f"dataset {data.name!r}: {n} training images but "
                            f"{len(data.y_train)} labels")
    for split, y in (("training", data.y_train), ("test", data.y_test)):
        y = np.asarray(y)
        if y.size and (y.min() < 0 or y.max() >= data.n_classes):
            bad = int(y.max() if y.max() >= data.n_classes else y.min())
            raise BoundaryError(f"dataset {data.name!r}: {split} label {bad} outside "
                                f"0..{data.n_classes - 1} (n_classes = {data.n_classes})")
    if not np.isfinite(data.x_train).all():
        raise BoundaryError(f"dataset {data.name!r}: training images contain NaN or infinity")


def check_batch(batch_size: int, n_train: int) -> None:
    """A mini-batch cannot be larger than the training set (its samples would be counted but
    not seen: samples-seen and energy per sample would be wrong)."""
    if batch_size > n_train:
        raise BoundaryError(f"batch_size = {batch_size} is larger than the training set "
                            f"({n_train} examples); allowed 1..{n_train}")


def check_ideal(cfg) -> None:
    """An ideal run (the float twin) simulates no device: a device field it sets (``noise``,
    ``states``, the sensitivity overrides) would change nothing but the record, so it is
    refused. The chip's fields stay: the twin is priced on that chip."""
    from .device_overrides import DEVICE_FIELDS

    if not cfg.ideal:
        return
    for name in ("noise", "states", *DEVICE_FIELDS):
        v = getattr(cfg, name)
        if v is not None:
            raise UnusedOption(f"{name} = {v!r} has no effect on an ideal run (the float twin "
                               "simulates no device); leave it unset for ideal runs", name,
                               "ideal")


def check_run(cfg, hp: dict, data, dev_split_done: bool = False) -> None:
    """Everything about one run that can be refused before training: device fields on an
    ideal run (`check_ideal`), the data, the batch against the training set (after the dev
    split, made here unless ``dev_split_done``), the memory its weights need."""
    check_ideal(cfg)
    check_dataset(data)
    n_train = int(data.x_train.shape[0])
    frac = float(getattr(cfg, "dev_fraction", 0.0) or 0.0)
    if frac > 0 and not dev_split_done:  # the rows left for training after the dev split
        from .algorithms.protocol import split_dev
        n_train = int(split_dev(data, frac, cfg.seed)[0].x_train.shape[0])
    check_batch(int(hp["batch_size"]), n_train)
    check_memory(cfg, hp, int(data.x_train.shape[1]), int(data.n_classes))


# ---- sweeps ------------------------------------------------------------------------------
class _Reached(Exception):
    """The algorithm asked for its first matrix: its own checks of the config passed."""


def _check_network(cfg, hp: dict, n_in: int, n_classes: int) -> None:
    """Run the algorithm's constructor up to its first matrix (nothing is allocated): the
    checks it makes of the layer sizes (PFF: two layers, multiples of the group) run here."""
    from crossbar import Ledger

    from .experiment import algorithm_class

    def factory(*_a, **_k):
        raise _Reached

    try:
        algorithm_class(cfg.algo)(n_in, n_classes, hp, factory, Ledger(),
                                  np.random.default_rng(0))
    except _Reached:
        pass


# how a sweep file gives an option only to the points that use it (`UnusedOption.axis`)
_ZIP_EXAMPLES = {"algo": '[zip] algo = ["pff", "bp"], {option} = [..., "none"]',
                 "ideal": '[zip] ideal = [true, false], {option} = ["none", 0.05]'}


def check_points(points, describe) -> None:
    """Everything each sweep point needs that can fail, checked before the sweep starts (a
    point used to fail minutes later, stored as failed): its dataset is installed, its
    hyperparameters resolve, its batch fits its training set, its weights fit in memory and
    its algorithm accepts its layer sizes. ``describe(cfg)`` names a point in the message."""
    from .data import dataset_info
    from .experiment import hyperparameters

    info: dict[str, tuple[int, int, int]] = {}
    seen: set = set()
    for cfg in points:
        key = (cfg.algo, cfg.preset, cfg.hidden, cfg.steps, cfg.epochs, cfg.batch_size, cfg.lr,
               cfg.optimizer, cfg.matched, cfg.dataset, cfg.limit, cfg.dev_fraction, cfg.ideal)
        try:
            check_ideal(cfg)    # before the key: it reads device fields the key leaves out
            if key in seen:
                continue
            seen.add(key)
            if cfg.dataset not in info:
                info[cfg.dataset] = dataset_info(cfg.dataset)
            n_in, n_classes, n_train = info[cfg.dataset]
            if cfg.limit is not None:
                n_train = min(n_train, int(cfg.limit))
            hp = hyperparameters(cfg)
            frac = float(cfg.dev_fraction or 0.0)
            # the dev split rounds per class: allow its most generous outcome here (train()
            # checks the exact one)
            check_batch(int(hp["batch_size"]),
                        n_train - int(frac * n_train) + n_classes if frac > 0 else n_train)
            check_memory(cfg, hp, n_in, n_classes)
            _check_network(cfg, hp, n_in, n_classes)
        except UnusedOption as exc:
            example = _ZIP_EXAMPLES[exc.axis].format(option=exc.option)
            raise BoundaryError(f"sweep point ({describe(cfg)}): {exc} (in a sweep file, zip "
                                f"it with {exc.axis}: {example})") from None
        except (ValueError, FileNotFoundError) as exc:  # ConfigError is a ValueError
            raise BoundaryError(f"sweep point ({describe(cfg)}): {exc}") from None


def check_scheduler(address: str, timeout: float = 2.0) -> None:
    """A Dask scheduler address that accepts connections (one line if refused, unresolvable
    or silent: the client would otherwise wait 20 s and say "Timed out")."""
    import socket
    from urllib.parse import urlparse

    u = urlparse(address)
    if u.scheme not in ("tcp", "tls") or not u.hostname or u.port is None:
        raise BoundaryError(f"--scheduler {address!r} must look like tcp://HOST:PORT")
    try:
        with socket.create_connection((u.hostname, u.port), timeout=timeout):
            pass
    except OSError as exc:
        why = "connection refused" if isinstance(exc, ConnectionRefusedError) else \
            "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise BoundaryError(f"cannot connect to the Dask scheduler at {address} ({why}); start "
                            "one with `dask scheduler` (see docs/scaling.md) or drop --scheduler "
                            "to run on local processes") from None
