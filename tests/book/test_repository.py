"""The repository URL is one setting (``_config.yml``), written everywhere else from it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from collapse_utils.book import build, repository

ROOT = Path(__file__).resolve().parents[2]
NEW = "https://example.org/someone/collapse-fork"


@pytest.fixture
def book(tmp_path):
    """A copy of the book's configuration, notebooks, citation and changelog."""
    for name in ("_config.yml", "_toc.yml", "CITATION.cff", "CHANGELOG.md"):
        shutil.copy2(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copytree(ROOT / "book", tmp_path / "book")
    return tmp_path


def first_cell(path: Path) -> dict:
    return json.loads(path.read_text())["cells"][0]


def test_bootstrap_cell_is_short_and_installs_from_the_url():
    source = repository.bootstrap_source(NEW)
    lines = source.splitlines()
    assert len(lines) <= 16 and max(map(len, lines)) <= 79
    compile(source, "bootstrap", "exec")
    assert f'url = "{NEW}"' in source and 'f"collapse-utils @ git+{url}"' in source
    with pytest.raises(ValueError, match="repository URL"):
        repository.bootstrap_source('https://x.org/a"; import os')


def run_bootstrap(monkeypatch, check_call) -> dict:
    """Execute the bootstrap cell as if collapse_utils were not installed."""
    monkeypatch.setitem(sys.modules, "collapse_utils", None)  # import raises ImportError
    monkeypatch.setattr(subprocess, "check_call", check_call)
    namespace: dict = {}
    exec(compile(repository.bootstrap_source(NEW), "cell-00", "exec"), namespace)
    return namespace


def test_bootstrap_cell_installs_when_missing(monkeypatch):
    calls = []
    run_bootstrap(monkeypatch, lambda args: calls.append(args))
    assert calls == [[sys.executable, "-m", "pip", "install", "--quiet", f"collapse-utils @ git+{NEW}"]]


def test_failed_install_says_what_to_do_not_a_git_traceback(monkeypatch):
    def fail(args):
        raise subprocess.CalledProcessError(1, args)

    with pytest.raises(RuntimeError) as err:
        run_bootstrap(monkeypatch, fail)
    message = str(err.value)
    assert message.startswith(f"could not install collapse_utils from {NEW}")
    assert "pip install -e ." in message and "How to run" in message
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_apply_rewrites_first_cells_citation_and_changelog(book):
    before = {p.name: json.loads(p.read_text()) for p in (book / "notebooks").glob("*.ipynb")}
    repository.apply(book)
    assert repository.check(book) == []
    assert repository.apply(book) == []  # nothing left to do
    expected = repository.bootstrap_source(repository.url(book))
    for path in build.toc_notebooks(book):
        nb = json.loads(path.read_text())
        assert "".join(nb["cells"][0]["source"]) == expected
        assert "remove-cell" in nb["cells"][0]["metadata"]["tags"]
        old = before[path.name]
        # only the first cell's source changed
        assert nb["cells"][0]["id"] == old["cells"][0]["id"]
        assert nb["cells"][1:] == old["cells"][1:] and nb["metadata"] == old["metadata"]


def test_set_url_changes_the_setting_and_every_copy(book):
    repository.apply(book)
    config = (book / "_config.yml").read_text()
    changed = repository.main(["--root", str(book), "--set", NEW])
    assert changed == 0
    assert repository.url(book) == NEW
    # only the url line of _config.yml changed (comments and the rest kept)
    old, new = config.splitlines(), (book / "_config.yml").read_text().splitlines()
    assert [(a, b) for a, b in zip(old, new, strict=True) if a != b] == [
        ("  url: https://github.com/model-collapse-book/model-collapse", f"  url: {NEW}")]
    assert repository.check(book) == []
    assert f'repository-code: "{NEW}"' in (book / "CITATION.cff").read_text()
    changelog = (book / "CHANGELOG.md").read_text()
    assert f"{NEW}/releases/tag/" in changelog and "model-collapse-book" not in changelog
    for path in build.toc_notebooks(book):
        assert f'url = "{NEW}"' in "".join(first_cell(path)["source"])


def test_check_lists_each_disagreement(book):
    repository.apply(book)
    path = book / "notebooks" / "03_tails_vanish.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][0]["source"] = "".join(nb["cells"][0]["source"]).replace("model-collapse-book", "someone-else")
    path.write_text(json.dumps(nb, indent=1))
    citation = book / "CITATION.cff"
    citation.write_text(citation.read_text().replace("model-collapse-book", "old-owner"))
    problems = repository.check(book)
    assert len(problems) == 2
    assert problems[0].startswith("03_tails_vanish.ipynb: the first cell differs")
    assert problems[1].startswith("CITATION.cff: repository-code is 'https://github.com/old-owner/")
    assert repository.main(["--root", str(book), "--check"]) == 1


def test_build_refuses_to_execute_when_a_copy_disagrees(book, monkeypatch, tmp_path_factory):
    """The build checks the copies before it validates, stages or executes anything."""
    def never(*args, **kwargs):
        raise AssertionError("executed a notebook")

    monkeypatch.setattr(build, "execute", never)
    with pytest.raises(build.BuildError, match=r"(?s)not applied everywhere.*03_tails_vanish.*"
                                               r"python -m collapse_utils.book.repository"):
        repository.apply(book)
        path = book / "notebooks" / "03_tails_vanish.ipynb"
        path.write_text(path.read_text().replace("model-collapse-book", "someone-else"))
        out = tmp_path_factory.mktemp("out")  # outside the sources (the build refuses an output inside them)
        build.build("smoke", root=book, html=False, output=out)
    assert not list(out.iterdir())


def test_a_notebook_without_bootstrap_cell_is_named(book):
    path = book / "notebooks" / "02_variance_decay.ipynb"
    nb = json.loads(path.read_text())
    del nb["cells"][0]
    path.write_text(json.dumps(nb, indent=1))
    with pytest.raises(ValueError, match="02_variance_decay.ipynb: the first cell is not the bootstrap cell"):
        repository.apply(book)
    assert any(p.startswith("02_variance_decay.ipynb: the first cell is not") for p in repository.check(book))
