"""Datasets: the fixed digits split, stratified limits, IDX parsing, search order and errors."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from analogff.data import DATASETS, load_dataset, parse_idx, search_dirs, stratified_subset
from analogff.errors import ConfigError, DatasetNotFoundError

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """ANALOGFF_DATA and XDG_CACHE_HOME point into an empty temporary directory."""
    monkeypatch.setenv("ANALOGFF_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    head = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    return head + arr.tobytes()


def write_fake_idx(directory: Path, n_train=30, n_test=10, side=6, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    data = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, side, side)),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, side, side)),
        "t10k-labels-idx1-ubyte": np.arange(n_test) % 10,
    }
    for name, arr in data.items():
        raw = idx_bytes(arr)
        if gz:
            (directory / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (directory / name).write_bytes(raw)
    return data


# ---- digits ----------------------------------------------------------------------------
def test_digits_fixed_stratified_split():
    d = load_dataset("digits")
    assert d.name == "digits" and d.n_classes == 10 and d.image_shape == (8, 8)
    assert d.x_train.shape == (1437, 64) and d.x_test.shape == (360, 64)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert d.x_train.min() >= 0.0 and d.x_train.max() == 1.0 and d.x_test.max() <= 1.0
    assert "load_digits" in d.source
    # stratified: every class's share of the test set matches its share of all the data
    all_y = np.concatenate([d.y_train, d.y_test])
    expected = np.bincount(all_y) * 360 / len(all_y)
    assert np.all(np.abs(np.bincount(d.y_test, minlength=10) - expected) <= 1)
    # the split does not depend on the seed
    d7 = load_dataset("digits", seed=7)
    np.testing.assert_array_equal(d.x_test, d7.x_test)
    np.testing.assert_array_equal(d.y_train, d7.y_train)


def test_limit_is_stratified_and_seeded():
    full = load_dataset("digits")
    a = load_dataset("digits", limit=200, seed=1)
    b = load_dataset("digits", limit=200, seed=1)
    c = load_dataset("digits", limit=200, seed=2)
    assert a.x_train.shape == (200, 64)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    np.testing.assert_array_equal(a.x_test, full.x_test)  # test set untouched
    expected = np.bincount(full.y_train) * 200 / len(full.y_train)
    assert np.all(np.abs(np.bincount(a.y_train, minlength=10) - expected) < 1)
    assert "200" in a.source
    # every selected row is a real training row with its own label
    rows = {r.tobytes(): lab for r, lab in zip(full.x_train, full.y_train)}
    assert all(rows[r.tobytes()] == lab for r, lab in zip(a.x_train, a.y_train))
    assert load_dataset("digits", limit=10_000).x_train.shape == full.x_train.shape


def test_stratified_subset_exact_size_and_unique():
    y = np.repeat(np.arange(3), [50, 30, 20])
    for n in (1, 7, 10, 99):
        idx = stratified_subset(y, n, seed=0)
        assert len(idx) == n == len(np.unique(idx))


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", True])
def test_bad_limit(bad):
    with pytest.raises(ConfigError, match="limit"):
        load_dataset("digits", limit=bad)


def test_unknown_dataset_lists_known_names():
    with pytest.raises(ConfigError) as e:
        load_dataset("cifar-7")
    msg = str(e.value)
    assert "cifar-7" in msg and all(n in msg for n in DATASETS) and "\n" not in msg


# ---- missing data, search order ----------------------------------------------------------
def test_missing_dataset_names_every_directory(isolated):
    dirs = search_dirs("mnist")
    if any((d / "train-images-idx3-ubyte.gz").exists() for d in dirs):
        pytest.skip("mnist is installed on this machine")
    with pytest.raises(DatasetNotFoundError) as e:
        load_dataset("mnist")
    msg = str(e.value)
    assert "\n" not in msg
    assert str(isolated / "data" / "mnist") in msg
    assert str(isolated / "cache" / "analogff" / "mnist") in msg
    assert "/usr/share/datasets/mnist" in msg
    assert "ANALOGFF_DATA" in msg


def test_missing_fashion_mnist_says_apt_get(isolated, monkeypatch):
    import analogff.data as data
    monkeypatch.setattr(data, "search_dirs", lambda name: [isolated / "nowhere" / name])
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion-mnist")


def test_cache_dir_honours_xdg(isolated, monkeypatch):
    monkeypatch.delenv("ANALOGFF_DATA")
    dirs = search_dirs("kmnist")
    assert dirs[0] == isolated / "cache" / "analogff" / "kmnist"
    assert dirs[-1] == Path("/usr/share/datasets/kmnist")


def test_idx_files_load_and_search_order(isolated):
    # kmnist has no known checksum for uncompressed files: structural checks only
    fake = write_fake_idx(isolated / "cache" / "analogff" / "kmnist")
    d = load_dataset("kmnist")
    assert d.source == str(isolated / "cache" / "analogff" / "kmnist")
    assert d.x_train.shape == (30, 36) and d.x_test.shape == (10, 36)
    assert d.image_shape == (6, 6) and d.n_classes == 10
    np.testing.assert_allclose(d.x_train[3] * 255, fake["train-images-idx3-ubyte"][3].ravel(),
                               atol=1e-3)
    np.testing.assert_array_equal(d.y_test, fake["t10k-labels-idx1-ubyte"])
    # $ANALOGFF_DATA comes first
    write_fake_idx(isolated / "data" / "kmnist", seed=1)
    assert load_dataset("kmnist").source == str(isolated / "data" / "kmnist")


def test_known_checksum_mismatch_is_rejected(isolated):
    # official file names with other content: the known MD5 (of the .gz for kmnist, of the
    # uncompressed content for mnist) does not match
    write_fake_idx(isolated / "data" / "kmnist", gz=True)
    with pytest.raises(DatasetNotFoundError, match=r"idx\d-ubyte\.gz: MD5"):
        load_dataset("kmnist")
    write_fake_idx(isolated / "data" / "mnist")
    with pytest.raises(DatasetNotFoundError, match="MD5 of its content"):
        load_dataset("mnist")


@pytest.mark.parametrize("damage", ["magic", "truncated", "gzip"])
def test_corrupt_idx_is_a_clear_error(isolated, damage):
    directory = isolated / "data" / "kmnist"
    write_fake_idx(directory)
    f = directory / "train-images-idx3-ubyte"
    raw = f.read_bytes()
    if damage == "magic":
        f.write_bytes(b"\x00\x00\x08\x07" + raw[4:])
    elif damage == "truncated":
        f.write_bytes(raw[:-5])
    else:
        f.unlink()
        (directory / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DatasetNotFoundError) as e:
        load_dataset("kmnist")
    msg = str(e.value)
    assert "corrupt" in msg and "train-images-idx3-ubyte" in msg and "\n" not in msg


def test_parse_idx_roundtrip():
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(idx_bytes(arr)), arr)
    with pytest.raises(DatasetNotFoundError, match="magic"):
        parse_idx(b"\x01\x02\x03\x04")


# ---- the real Fashion-MNIST (Debian package dataset-fashion-mnist), if installed -----------
@pytest.mark.skipif(not (FASHION_DIR / "train-images-idx3-ubyte.gz").exists(),
                    reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_loads(monkeypatch, tmp_path):
    monkeypatch.setenv("ANALOGFF_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    d = load_dataset("fashion-mnist", limit=500, seed=3)
    assert d.source.startswith(str(FASHION_DIR))
    assert d.x_train.shape == (500, 784) and d.x_test.shape == (10000, 784)
    assert d.image_shape == (28, 28) and d.n_classes == 10
    assert d.x_train.dtype == np.float32 and 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    assert np.all(np.bincount(d.y_train, minlength=10) == 50)
    assert np.all(np.bincount(d.y_test, minlength=10) == 1000)
