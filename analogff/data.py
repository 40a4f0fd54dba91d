"""Datasets: the embedded ``digits`` and the IDX image sets (Fashion-MNIST, MNIST, K-MNIST).

``load_dataset(name, limit=None, seed=0)`` returns a `Dataset` whose images are flattened
float32 rows in [0, 1] and whose labels are int64.

- ``digits``: scikit-learn's bundled 8x8 handwritten digits (1797 images, no download), pixel
  values divided by 16, split once and for all into 1437 training and 360 test images
  (stratified, ``random_state=0``). The split does not depend on ``seed``.
- ``fashion-mnist``, ``mnist``, ``kmnist``: the four IDX files of the official release
  (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte``, each optionally gzipped), looked up in this order:
  ``$ANALOGFF_DATA/<name>/``, ``$XDG_CACHE_HOME/analogff/<name>/`` (default
  ``~/.cache/analogff/<name>/``) and ``/usr/share/datasets/<name>/`` (where the Debian package
  ``dataset-fashion-mnist`` installs Fashion-MNIST). Nothing is downloaded.

``limit=N`` keeps a stratified random subset of N training images (chosen with ``seed``);
the test set is never subsampled.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device_models.checks import check_choice, check_number, plain

from .errors import ConfigError, DatasetNotFoundError

DATASETS = ("digits", "fashion-mnist", "mnist", "kmnist")
IDX_DATASETS = ("fashion-mnist", "mnist", "kmnist")

_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# Known MD5 checksums. Only checksums we could actually confirm are listed; a file whose
# checksum is unknown is still checked structurally (magic number, dimensions, size, labels).
#
# _MD5_RAW: MD5 of the *uncompressed* IDX payload. This is what we verify first, because it
# does not depend on how the file was compressed (the Debian package re-gzips the official
# files, so its .gz checksums differ from the official ones while the content is identical).
# - fashion-mnist: the values torchvision lists for the uncompressed official files; the
#   decompressed files of Debian's dataset-fashion-mnist (0.0~git20200523.55506a9-1) were
#   measured on the development machine and match them exactly.
# - mnist: the uncompressed-file MD5s published alongside the original files (consistent
#   across several independent projects, including one that also lists the 47,040,016-byte
#   size of the uncompressed training images).
# - kmnist: not known to us, so not listed.
_MD5_RAW = {
    "fashion-mnist": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
    "mnist": {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
}
# _MD5_GZ: MD5 of the official *gzipped* files (Zalando's Fashion-MNIST README, the
# torchvision MNIST/KMNIST resource lists). Used for datasets without a known raw checksum
# (kmnist): a .gz file with the official name must then match the official .gz checksum.
# (The Debian Fashion-MNIST .gz files differ from these because they were re-compressed;
# their content is verified through _MD5_RAW above.)
_MD5_GZ = {
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "kmnist": {
        "train-images-idx3-ubyte.gz": "bdb82020997e1d708af4cf47b453dcf7",
        "train-labels-idx1-ubyte.gz": "e144d726b3acfaa3e44228e80efcd344",
        "t10k-images-idx3-ubyte.gz": "5c965bf0a639b31b8f53240b1b52f4d7",
        "t10k-labels-idx1-ubyte.gz": "7320c461ea6c1c855c0b718fb2a4b134",
    },
}

_HOW_TO_GET = {
    "fashion-mnist": "install it with `apt-get install dataset-fashion-mnist`, or put the four "
                     "IDX files in $ANALOGFF_DATA/fashion-mnist/",
    "mnist": "put the four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
             "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) in $ANALOGFF_DATA/mnist/",
    "kmnist": "put the four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
              "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) in $ANALOGFF_DATA/kmnist/",
}


@dataclass
class Dataset:
    """A classification data set; images are flattened rows of ``image_shape``."""

    name: str
    x_train: np.ndarray   # (N, D) float32 in [0, 1]
    y_train: np.ndarray   # (N,) int64
    x_test: np.ndarray    # (M, D) float32 in [0, 1]
    y_test: np.ndarray    # (M,) int64
    n_classes: int
    image_shape: tuple[int, int]
    source: str           # where the data came from (directory or "sklearn.datasets.load_digits")

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])


# ---- search paths ------------------------------------------------------------------------
def search_dirs(name: str) -> list[Path]:
    """Directories searched for dataset ``name``, in order."""
    dirs = []
    env = os.environ.get("ANALOGFF_DATA")
    if env:
        dirs.append(Path(env).expanduser() / name)
    xdg = os.environ.get("XDG_CACHE_HOME")
    cache = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    dirs.append(cache / "analogff" / name)
    dirs.append(Path("/usr/share/datasets") / name)
    return dirs


def _find_file(directory: Path, base: str) -> Path | None:
    for cand in (directory / base, directory / (base + ".gz")):
        if cand.is_file():
            return cand
    return None


def _find_dataset_dir(name: str) -> tuple[Path, dict[str, Path]]:
    dirs = search_dirs(name)
    for d in dirs:
        found = {k: _find_file(d, base) for k, base in _FILES.items()}
        if all(found.values()):
            return d, found  # type: ignore[return-value]
    where = ", ".join(str(d) for d in dirs)
    if not os.environ.get("ANALOGFF_DATA"):
        where += "; $ANALOGFF_DATA is not set"
    raise DatasetNotFoundError(
        f"dataset {name!r} not found (searched {where}); {_HOW_TO_GET[name]}")


# ---- IDX parsing -------------------------------------------------------------------------
def _read_bytes(path: Path, name: str) -> bytes:
    """The uncompressed IDX payload, after checksum verification where the checksum is known."""
    try:
        blob = path.read_bytes()
    except OSError as e:
        raise DatasetNotFoundError(f"cannot read {path}: {e.strerror or e}") from e
    gz = path.name.endswith(".gz")
    if gz:
        try:
            raw = gzip.decompress(blob)
        except (OSError, EOFError, ValueError) as e:
            raise DatasetNotFoundError(
                f"corrupt dataset file {path}: not a valid gzip file ({e}); "
                f"replace it with a fresh copy") from e
    else:
        raw = blob
    base = path.name[:-3] if gz else path.name
    known_raw = _MD5_RAW.get(name, {}).get(base)
    known_gz = _MD5_GZ.get(name, {}).get(path.name) if gz else None
    if known_raw is not None:
        _check_md5(raw, known_raw, path, "MD5 of its content is", base)
    elif known_gz is not None:
        _check_md5(blob, known_gz, path, "MD5", path.name)
    return raw


def _check_md5(data: bytes, expected: str, path: Path, what: str, official: str) -> None:
    got = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if got != expected:
        raise DatasetNotFoundError(
            f"corrupt dataset file {path}: {what} {got}, expected {expected} "
            f"(the official {official}); replace it with a fresh copy")


def parse_idx(raw: bytes, path: Path | str = "<bytes>") -> np.ndarray:
    """Parse an IDX file's bytes (unsigned-byte data only) into a uint8 array."""
    if len(raw) < 4:
        raise DatasetNotFoundError(f"corrupt IDX file {path}: only {len(raw)} bytes")
    zero, dtype_code, ndim = raw[0] << 8 | raw[1], raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08 or not 1 <= ndim <= 4:
        raise DatasetNotFoundError(
            f"corrupt IDX file {path}: bad magic number 0x{raw[:4].hex()} "
            f"(expected 0x00000801 for labels or 0x00000803 for images)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetNotFoundError(f"corrupt IDX file {path}: truncated header")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    n = int(np.prod(dims, dtype=np.int64))
    if len(raw) != header + n:
        raise DatasetNotFoundError(
            f"corrupt IDX file {path}: header says {dims} = {n} bytes of data but the file has "
            f"{len(raw) - header}; replace it with a fresh copy")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _load_idx_pair(name: str, img_path: Path, lab_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = parse_idx(_read_bytes(img_path, name), img_path)
    labels = parse_idx(_read_bytes(lab_path, name), lab_path)
    if images.ndim != 3:
        raise DatasetNotFoundError(
            f"corrupt IDX file {img_path}: expected 3 dimensions (images), got {images.ndim}")
    if labels.ndim != 1:
        raise DatasetNotFoundError(
            f"corrupt IDX file {lab_path}: expected 1 dimension (labels), got {labels.ndim}")
    if images.shape[0] != labels.shape[0]:
        raise DatasetNotFoundError(
            f"dataset files disagree: {img_path} has {images.shape[0]} images but {lab_path} "
            f"has {labels.shape[0]} labels")
    if labels.size and labels.max() > 9:
        raise DatasetNotFoundError(
            f"corrupt IDX file {lab_path}: label {int(labels.max())} outside 0..9")
    return images, labels


def _load_idx_dataset(name: str) -> Dataset:
    directory, files = _find_dataset_dir(name)
    xtr, ytr = _load_idx_pair(name, files["train_images"], files["train_labels"])
    xte, yte = _load_idx_pair(name, files["test_images"], files["test_labels"])
    if xtr.shape[1:] != xte.shape[1:]:
        raise DatasetNotFoundError(
            f"dataset files disagree in {directory}: training images are {xtr.shape[1:]}, "
            f"test images {xte.shape[1:]}")
    h, w = int(xtr.shape[1]), int(xtr.shape[2])
    scale = np.float32(1.0 / 255.0)
    return Dataset(
        name=name,
        x_train=xtr.reshape(len(xtr), -1).astype(np.float32) * scale,
        y_train=ytr.astype(np.int64),
        x_test=xte.reshape(len(xte), -1).astype(np.float32) * scale,
        y_test=yte.astype(np.int64),
        n_classes=10, image_shape=(h, w), source=str(directory))


def _load_digits() -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    # fixed split: 1437 train / 360 test, stratified, independent of any seed
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=360, random_state=0, stratify=y)
    return Dataset(name="digits", x_train=np.ascontiguousarray(xtr), y_train=ytr,
                   x_test=np.ascontiguousarray(xte), y_test=yte, n_classes=10,
                   image_shape=(8, 8), source="sklearn.datasets.load_digits")


# ---- subsampling -------------------------------------------------------------------------
def stratified_subset(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted indices of ``n`` examples whose class proportions follow ``y``'s (seeded)."""
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    rng = np.random.default_rng(seed)
    quota = counts * (n / len(y))
    take = np.floor(quota).astype(np.int64)
    short = n - int(take.sum())
    if short > 0:  # largest remainders first, ties broken at random
        rem = quota - take
        order = np.lexsort((rng.random(len(classes)), -rem))
        take[order[:short]] += 1
    idx = [rng.choice(np.flatnonzero(y == c), size=int(k), replace=False)
           for c, k in zip(classes, take) if k > 0]
    return np.sort(np.concatenate(idx)) if idx else np.zeros(0, dtype=np.int64)


def dataset_info(name: str) -> tuple[int, int, int]:
    """(features per image, classes, training images) of dataset ``name`` without loading it
    (IDX headers only); raises like `load_dataset` when it is unknown or not installed."""
    check_choice("dataset", name, DATASETS, error=ConfigError)
    if name == "digits":
        return 64, 10, 1437
    _, files = _find_dataset_dir(name)
    path = files["train_images"]
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(16)
    except (OSError, EOFError) as exc:
        raise DatasetNotFoundError(f"cannot read {path}: {exc}") from None
    if len(head) < 16 or head[:4] != b"\x00\x00\x08\x03":
        raise DatasetNotFoundError(f"corrupt IDX file {path}: bad header; replace it with a "
                                   "fresh copy")
    n, h, w = struct.unpack(">III", head[4:16])
    return h * w, 10, n


def load_dataset(name: str, limit: int | None = None, seed: int = 0) -> Dataset:
    """Load dataset ``name`` (one of `DATASETS`); ``limit`` subsamples the training set."""
    check_choice("dataset", name, DATASETS, error=ConfigError)
    if limit is not None:   # None: every example
        check_number("limit", plain(limit), 1, None, integer=True, error=ConfigError)
    ds = _load_digits() if name == "digits" else _load_idx_dataset(name)
    if limit is not None and limit < len(ds.y_train):
        idx = stratified_subset(ds.y_train, int(limit), seed)
        ds.x_train, ds.y_train = ds.x_train[idx], ds.y_train[idx]
        ds.source += f" (stratified subset of {int(limit)} training examples, seed {seed})"
    return ds
