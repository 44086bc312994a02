"""Rebuilds that reuse unchanged executions, and parallel builds (issue 18, part 4).

Unit tests check the execution key and the prose refresh on small notebooks;
the ``build`` tests rebuild a copy of the session's smoke build after a
prose-only edit (nothing re-executes, the new text is published) and compare a
``--jobs 2`` build with a serial one byte for byte
(``test_build_hygiene.py::test_two_smoke_builds_give_identical_pages_and_figures``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collapse_utils.book import build as build_module
from collapse_utils.book import execution
from collapse_utils.book.preflight import STAMP, stale_reason, stamp_of

ROOT = Path(__file__).resolve().parents[2]
FIRST = ROOT / "notebooks" / "01_retraining_loop.ipynb"


def notebook(*cells):
    """A notebook from ``(cell_type, source, tags)`` triples."""
    return {"cells": [{"cell_type": kind, "source": source, "metadata": {"tags": list(tags)},
                       **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                      for kind, source, tags in cells],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


BASE = [("markdown", "# Title", ()), ("code", "n = 3", ("parameters",)),
        ("code", "from collapse_utils.exact import gaussian\nprint(n)", ()), ("markdown", "Text.", ())]


def key_of(nb, tmp_path, environment=None):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    return execution.execution_key(path, "smoke", {"n": 3}, environment or {"threads": 1})


# --- the key ----------------------------------------------------------------------------


def test_a_prose_edit_or_a_display_tag_leaves_the_key_unchanged(tmp_path):
    key = key_of(notebook(*BASE), tmp_path)
    edited = [("markdown", "# Another title", ()), BASE[1], (*BASE[2][:2], ("hide-input",)),
              ("markdown", "New text.", ()), ("markdown", "An added paragraph.", ())]
    assert key_of(notebook(*edited), tmp_path) == key


@pytest.mark.parametrize("change, part", [
    (lambda cells: cells[:2] + [("code", BASE[2][1] + " + 1", ())] + cells[3:], "its code cells changed"),
    (lambda cells: [cells[0], ("code", "n = 3", ()), *cells[2:]], "its code cells changed"),  # no longer parameters
])
def test_a_code_edit_or_an_execution_tag_changes_the_key(tmp_path, change, part):
    old = key_of(notebook(*BASE), tmp_path)
    new = key_of(notebook(*change(list(BASE))), tmp_path)
    assert execution.key_changes(old, new) == [part]


def test_parameters_environment_and_profile_are_part_of_the_key(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook(*BASE)))
    key = execution.execution_key(path, "smoke", {"n": 3}, {"threads": 1})
    assert execution.key_changes(key, execution.execution_key(path, "smoke", {"n": 4}, {"threads": 1})) == \
        ["its parameters changed"]
    assert execution.key_changes(key, execution.execution_key(path, "smoke", {"n": 3}, {"threads": 2})) == \
        ["the installed packages or machine changed"]
    assert execution.key_changes(key, execution.execution_key(path, "book", {"n": 3}, {"threads": 1})) == \
        ["the profile changed"]
    assert execution.key_changes(None, key) == ["no execution key (executed by an older build)"]


def test_a_library_module_change_is_named(tmp_path):
    key = key_of(notebook(*BASE), tmp_path)
    changed = {**key, "modules": {**key["modules"], "collapse_utils.checks": "0" * 64}}
    assert execution.key_changes(changed, key) == ["library source changed: collapse_utils.checks"]


def test_the_modules_are_the_transitive_imports_with_their_packages():
    modules = execution.modules_of(notebook(*BASE))
    # gaussian imports checks; importing collapse_utils.exact.gaussian runs both packages' __init__
    assert {"collapse_utils", "collapse_utils.exact", "collapse_utils.exact.gaussian",
            "collapse_utils.checks"} <= set(modules)
    assert "collapse_utils.families.vae" not in modules  # not imported: its edits do not re-execute


def test_a_chapter_s_answers_bring_that_chapter_s_module_only():
    nb = notebook(("code", 'from collapse_utils.answers import glue_answers\nglue_answers("05")', ()))
    modules = execution.modules_of(nb)
    assert "collapse_utils.answers.ch05" in modules
    assert not [m for m in modules if m.startswith("collapse_utils.answers.ch") and m != "collapse_utils.answers.ch05"]
    any_chapter = notebook(("code", "from collapse_utils.answers import solve\nsolve(label)", ()))
    assert "collapse_utils.answers.ch01" in execution.modules_of(any_chapter)  # not a literal: all of them


def test_magics_and_shell_lines_do_not_stop_the_import_scan():
    nb = notebook(("code", "%matplotlib inline\n!echo hi\nfrom collapse_utils import checks", ()))
    assert "collapse_utils.checks" in execution.modules_of(nb)


# --- reuse ------------------------------------------------------------------------------


def executed_version(nb):
    """``nb`` as papermill leaves it: outputs, and an injected cell after the parameters cell."""
    done = json.loads(json.dumps(nb))
    for i, cell in enumerate(done["cells"]):
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": f"out {i}\n"}]
            cell["execution_count"] = i
    injected = {"cell_type": "code", "source": "n = 3\n", "metadata": {"tags": ["injected-parameters"]},
                "outputs": [], "execution_count": 99, "id": "injected-parameters"}
    done["cells"].insert(2, injected)
    return done


def test_the_refresh_takes_the_new_prose_and_keeps_the_outputs():
    executed = executed_version(notebook(*BASE))
    edited = notebook(("markdown", "# New title", ()), BASE[1], BASE[2], ("markdown", "Added.", ()), BASE[3])
    fresh = execution.refresh_prose(executed, edited)
    kinds = [(c["cell_type"], c["source"]) for c in fresh["cells"]]
    assert kinds == [("markdown", "# New title"), ("code", "n = 3"), ("code", "n = 3\n"),
                     ("code", BASE[2][1]), ("markdown", "Added."), ("markdown", "Text.")]
    assert fresh["cells"][3]["outputs"] == executed["cells"][3]["outputs"]
    assert fresh["cells"][1]["outputs"] == executed["cells"][1]["outputs"]


def test_the_refresh_refuses_notebooks_whose_code_differs():
    executed = executed_version(notebook(*BASE))
    with pytest.raises(ValueError, match="code cells differ"):
        execution.refresh_prose(executed, notebook(BASE[0], BASE[1], ("code", "print(2)", ())))


def test_missing_or_changed_figures_make_an_execution_stale(tmp_path):
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "01_a.json").write_text(json.dumps({"notebook": "01_retraining_loop"}))
    (figures / "01_a.png").write_bytes(b"png")
    expected = stamp_of({"n": 3}, "smoke", FIRST, execution={"code": "x", "profile": "smoke", "parameters": "p",
                                                               "modules": {}, "environment": {}})
    staged = tmp_path / "01_retraining_loop.ipynb"
    staged.write_text(json.dumps({"cells": [], "metadata": {
        STAMP: {**expected, "figures": execution.figures_of(figures, "01_retraining_loop")}}}))
    assert stale_reason(staged, expected, figures) is None
    (figures / "01_a.png").write_bytes(b"other")
    assert stale_reason(staged, expected, figures) == "the figures it saved are missing or changed"
    (figures / "01_a.png").unlink()
    assert stale_reason(staged, expected, figures) == "the figures it saved are missing or changed"


def test_a_corrupted_executed_copy_is_re_executed_with_a_message(tmp_path):
    staged = tmp_path / "01_retraining_loop.ipynb"
    staged.write_text('{"cells": [')  # cut short
    expected = stamp_of({}, "smoke", FIRST, execution={})
    assert stale_reason(staged, expected) == "its executed copy is unreadable"


# --- arguments ------------------------------------------------------------------------


@pytest.mark.parametrize("value, message", [
    ("0", "--jobs: must be a whole number from 1 to 64; got 0"),
    ("-2", "--jobs: must be a whole number from 1 to 64; got -2"),
    ("many", "--jobs: must be a whole number from 1 to 64; got 'many'"),
    ("65", "--jobs: must be a whole number from 1 to 64; got 65"),
])
def test_bad_jobs_exit_2_with_one_message(value, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_module.main(["--profile", "smoke", "--jobs", value])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_kernel_threads_are_refused_before_anything_runs(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("COLLAPSE_KERNEL_THREADS", "two")
    assert build_module.main(["--profile", "smoke", "--output", str(tmp_path)]) == 2
    assert "COLLAPSE_KERNEL_THREADS must be a whole number >= 1; got 'two'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


# --- builds ---------------------------------------------------------------------------------


def copy_of_the_sources(target: Path) -> Path:
    for name in ("notebooks", "book", "collapse_utils"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("_config.yml", "_toc.yml", "CITATION.cff"):
        shutil.copy2(ROOT / name, target / name)
    return target


@pytest.mark.build
def test_a_prose_edit_rebuilds_without_executing_and_publishes_the_new_text(smoke_build, tmp_path):
    """Edit one markdown cell of a copy of the sources; rebuild a copy of the smoke build.

    Nothing is executed (the report lists every chapter as reused), the new
    sentence is in the chapter's HTML page. The rebuild's wall time is printed,
    not asserted (bench/ and the closing note report it)."""
    root = copy_of_the_sources(tmp_path / "root")
    output = tmp_path / "out"
    shutil.copytree(smoke_build, output / "_build", ignore=shutil.ignore_patterns("html"))
    path = root / "notebooks" / FIRST.name
    nb = json.loads(path.read_text())
    marker = "A sentence added by the prose-edit test."
    markdown = next(c for c in nb["cells"] if c["cell_type"] == "markdown" and "Overview" in "".join(c["source"]))
    markdown["source"] = "".join(markdown["source"]) + f"\n\n{marker}\n"
    path.write_text(json.dumps(nb, indent=1))
    env = {**__import__("os").environ, "COLLAPSE_FIGURES_DIR": str(output / "_build" / "figures"),
           "COLLAPSE_CACHE_DIR": str(output / "_build" / "cache")}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "collapse_utils.book.build", "--profile", "smoke",
                           "--root", str(root), "--output", str(output)],
                          env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((output / "_build" / "build-report.json").read_text())
    assert report["notebooks"] == []
    assert sorted(report["reused"]) == sorted(p.stem for p in build_module.toc_notebooks(ROOT))
    page = (output / "_build" / "html" / "notebooks" / "01_retraining_loop.html").read_text()
    assert marker in page
    print(f"prose-only rebuild, HTML included: {seconds:.1f} s")
