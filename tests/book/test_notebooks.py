"""Every chapter notebook: listed in the toc, a parameters cell matching its
declaration, committed without outputs, with the Colab bootstrap cell first."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

from collapse_utils.book import repository
from collapse_utils.book.build import parameters_cell, toc_notebooks
from collapse_utils.book.profiles import NOTEBOOKS

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_FILES = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def test_there_are_notebooks_and_all_are_in_the_toc():
    assert NOTEBOOK_FILES, "no notebooks found"
    assert sorted(toc_notebooks(ROOT)) == NOTEBOOK_FILES
    assert set(NOTEBOOKS) == {nb.stem for nb in NOTEBOOK_FILES}


def test_toc_files_exist():
    toc = (ROOT / "_toc.yml").read_text()
    for entry in yaml.safe_load(toc)["parts"]:
        for chapter in entry["chapters"]:
            stem = ROOT / chapter["file"]
            assert stem.with_suffix(".md").exists() or stem.with_suffix(".ipynb").exists(), chapter


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} has outputs"
            assert cell.execution_count is None, f"cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_parameters_cell_declares_every_parameter_and_is_checked_in_one_line(path):
    index, values = parameters_cell(path)
    assert set(values) == set(NOTEBOOKS[path.stem])
    nb = nbformat.read(path, as_version=4)
    # the cell right after it validates every parameter (same message as the build)
    assert nb.cells[index + 1].source.strip().endswith(f'params.check("{path.stem}", globals())')


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_first_cell_installs_collapse_utils_from_this_repository(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert "remove-cell" in first.metadata.get("tags", [])
    assert "import collapse_utils" in first.source and "except ImportError" in first.source
    # written from the one setting, _config.yml's repository.url
    assert first.source == repository.bootstrap_source(CONFIG["repository"]["url"])
    compile(first.source, str(path), "exec")


def test_launch_buttons_and_repository_are_configured():
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert CONFIG["html"]["use_repository_button"] and CONFIG["html"]["use_issues_button"]
    assert CONFIG["execute"]["execute_notebooks"] == "off"
    binder = (ROOT / "binder" / "requirements.txt").read_text()
    assert "torch==" in binder and "papermill==" in binder
    assert "pip install" in (ROOT / "binder" / "postBuild").read_text()
