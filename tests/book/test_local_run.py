"""Running a chapter locally (issue 12): what a reader who runs a notebook sees.

- Outside the build (``COLLAPSE_BUILD`` unset) ``glue`` and ``glue_many`` display
  the values glued in a cell as one table (key, value) and store nothing;
  inside it they store exactly what ``myst_nb.glue(..., display=False)``
  stores, so the book is unchanged. In plain Python they print nothing.
- A torch-free chapter executed as a reader runs it (source notebook, smoke
  parameters, a fresh working folder, no ``COLLAPSE_BUILD``) shows its figures
  and a table of its glued values, saves its figures in the user's cache, not in
  ``<cwd>/_build/figures``, and runs with torch and torchvision unimportable
  (the light install of ``book/how_to_run.md``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from collapse_utils.book import glue as glue_module
from collapse_utils.book.glue import format_value, glue, glue_many

ROOT = Path(__file__).resolve().parents[2]
RECORD = "application/papermill.record/"

# The chapters a reader can run without torch: none of them imports torch,
# torchvision, families.vae, families.lm, families.gradient_gmm or measures.digits
# (see how_to_run.md).
TORCH_FREE = ["01_retraining_loop", "02_variance_decay", "03_tails_vanish", "04_gaussian_mixtures",
              "09_filtering_provenance", "11_verification_curation", "12_tale_of_tails",
              "13_scaling_synthetic", "15_exercises"]
TORCH_MODULES = re.compile(
    r"^\s*(import torch|from torch|import torchvision|from torchvision"
    r"|from collapse_utils\.families import (vae|lm|gradient_gmm|diffusion)\b"
    r"|from collapse_utils\.families\.(vae|lm|gradient_gmm|diffusion)\b"
    r"|from collapse_utils\.measures import digits|from collapse_utils\.measures\.digits"
    r"|from collapse_utils import .*\bsamplers\b)",
    re.M,
)


# --- glue and glue_many, unit tests ---------------------------------------------------


class _Calls(list):
    """The recorded display calls; ``cell`` is the pretend shell."""

    cell: type


@pytest.fixture
def shell(monkeypatch):
    """A pretend IPython shell: ``display`` / ``update_display`` calls are recorded.

    Returns the list of calls, each ``(kind, bundle, display_id)``; the shell's
    execution count is ``shell.cell`` (set it to pretend a new cell runs).
    """
    import IPython.display
    from IPython.core.interactiveshell import InteractiveShell

    calls = _Calls()

    class Shell:
        execution_count = 1

    calls.cell = Shell
    monkeypatch.setattr(InteractiveShell, "initialized", classmethod(lambda cls: True))
    monkeypatch.setattr(InteractiveShell, "instance", classmethod(lambda cls, *a, **k: Shell))
    monkeypatch.setattr(IPython.display, "display",
                        lambda bundle, raw, display_id: calls.append(("display", bundle, display_id)))
    monkeypatch.setattr(IPython.display, "update_display",
                        lambda bundle, raw, display_id: calls.append(("update", bundle, display_id)))
    monkeypatch.setattr(glue_module, "_table", {"cell": None, "display_id": None, "values": {}})
    return calls


def test_glue_many_outside_the_build_displays_one_table(shell, monkeypatch):
    monkeypatch.delenv("COLLAPSE_BUILD", raising=False)
    glue_many({"gens": 8, "mean-replace": 0.912345678, "share": np.float64(1 / 3)})
    [(kind, bundle, _)] = shell
    assert kind == "display" and set(bundle) == {"text/plain", "text/html"}  # nothing stored
    assert bundle["text/plain"].splitlines() == ["gens          8", "mean-replace  0.9123", "share         0.3333"]
    assert "<code>gens</code></td><td" in bundle["text/html"] and ">0.9123<" in bundle["text/html"]


def test_glue_calls_of_one_cell_share_one_table(shell, monkeypatch):
    """glue_answers glues value by value: one table per cell, not one per value."""
    monkeypatch.delenv("COLLAPSE_BUILD", raising=False)
    glue("a", 1)
    glue("b", 2.5)
    glue_many({"c": "text"})
    kinds = [kind for kind, _, _ in shell]
    assert kinds == ["display", "update", "update"]
    assert len({display_id for _, _, display_id in shell}) == 1
    assert shell[-1][1]["text/plain"].splitlines() == ["a  1", "b  2.5", "c  text"]
    shell.cell.execution_count = 2  # the next cell gets its own table
    glue("d", 4)
    assert shell[-1][0] == "display" and shell[-1][2] != shell[0][2]
    assert shell[-1][1]["text/plain"] == "d  4"


def test_glue_in_the_build_stores_exactly_what_myst_nb_stores(shell, monkeypatch):
    import IPython.core.formatters
    import myst_nb.ext.glue

    stored = []
    # what IPython's formatter gives a number (the pretend shell has no formatter)
    monkeypatch.setattr(IPython.core.formatters, "format_display_data", lambda value: ({"text/plain": repr(value)}, {}))
    monkeypatch.setattr(myst_nb.ext.glue, "ipy_display",
                        lambda bundle, raw, metadata: stored.append((bundle, metadata)))
    monkeypatch.setenv("COLLAPSE_BUILD", "1")
    glue_many({"gens": 8, "mean-replace": 0.912345678})
    glue("one", 1.5)
    assert shell == []  # no table in the book
    assert [meta["scrapbook"] for _, meta in stored] == [
        {"name": name, "mime_prefix": RECORD} for name in ("gens", "mean-replace", "one")]
    assert [bundle for bundle, _ in stored] == [
        {RECORD + "text/plain": "8"}, {RECORD + "text/plain": "0.912345678"}, {RECORD + "text/plain": "1.5"}]


def test_glue_in_plain_python_prints_nothing(monkeypatch, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.delenv("COLLAPSE_BUILD", raising=False)
    monkeypatch.setattr(InteractiveShell, "initialized", classmethod(lambda cls: False))
    glue_many({"gens": 8})
    glue("x", np.arange(3))
    assert capsys.readouterr() == ("", "")


def test_glue_names_are_checked():
    with pytest.raises(ValueError, match="glue names must be non-empty strings; got ''"):
        glue_many({"": 1})
    with pytest.raises(ValueError, match="glue names must be non-empty strings; got 3"):
        glue(3, 1)
    with pytest.raises(ValueError, match="values must be a mapping"):
        glue_many([("a", 1)])


def test_values_are_formatted_readably():
    assert format_value(8) == "8" and format_value(True) == "True"
    assert format_value(0.912345678) == "0.9123" and format_value(np.float32(2.5e-7)) == "2.5e-07"
    assert format_value(1234567.0) == "1.235e+06" and format_value(float("nan")) == "nan"
    assert format_value(np.int64(3)) == "3" and format_value(np.array(0.5)) == "0.5"
    assert format_value(np.array([0.5, 1 / 3])) == "[0.5, 0.3333]"
    assert format_value(np.linspace(0, 1, 101)) == "array of 101: min 0, mean 0.5, max 1"
    assert format_value(list(range(20))) == "list of 20: min 0, mean 9.5, max 19"
    assert format_value(np.zeros((3, 2))) == "float64 array of shape (3, 2)"
    assert format_value("x" * 100) == "x" * 79 + "…"


# --- a chapter executed as a reader runs it ---------------------------------------------


def test_the_torch_free_chapters_import_no_torch():
    """The list in how_to_run.md: chapters whose code names no torch module."""
    import json

    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                         if c["cell_type"] == "code")
        assert (TORCH_MODULES.search(code) is None) == (path.stem in TORCH_FREE), path.stem
    text = (ROOT / "book" / "how_to_run.md").read_text()
    listed = re.search(r"torch-free chapters?: ([0-9, and]+)", text)
    assert listed, "how_to_run.md must list the torch-free chapters ('torch-free chapters: 01, 02, ...')"
    assert re.findall(r"\d\d", listed.group(1)) == [stem[:2] for stem in TORCH_FREE]


CHAPTER = "01_retraining_loop"


TORCH_CHECK = """\
import sys
try:
    import torch
except ImportError as err:
    print("torch blocked:", err)
print("torch modules loaded:", sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision")))
"""


def run_as_a_reader(tmp_path: Path, monkeypatch, *, block_torch: bool) -> dict:
    """Execute the source notebook of CHAPTER with the smoke parameters, as a reader
    would (no COLLAPSE_BUILD, a fresh working folder, HOME in tmp_path); the executed
    notebook as a dict."""
    import matplotlib
    import nbformat
    import papermill

    from collapse_utils.book.params import profile

    parameters = profile("smoke", ROOT)[CHAPTER]
    for name in ("COLLAPSE_BUILD", "COLLAPSE_FIGURES_DIR", "COLLAPSE_PROFILE", "COLLAPSE_PROGRESS", "MPLBACKEND"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MPLCONFIGDIR", matplotlib.get_configdir())  # keep the font cache
    monkeypatch.setenv("COLLAPSE_CACHE_DIR", str(tmp_path / "cache"))
    if block_torch:
        blocked = tmp_path / "no-torch"
        for module in ("torch", "torchvision"):
            (blocked / module).mkdir(parents=True)
            (blocked / module / "__init__.py").write_text(
                f"raise ImportError('{module} is not installed (light path test)')\n")
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(blocked), os.environ.get("PYTHONPATH")])))
    source = nbformat.read(ROOT / "notebooks" / f"{CHAPTER}.ipynb", as_version=4)
    if block_torch:  # a last cell (in memory only) shows that torch really was out of reach
        source.cells.append(nbformat.v4.new_code_cell(TORCH_CHECK))
    work = tmp_path / "work"
    work.mkdir()
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(source, str(out), parameters=parameters,
                               kernel_name="python3", cwd=str(work), progress_bar=False, log_output=False,
                               execution_timeout=300)
    return nbformat.read(out, as_version=4), parameters


def outputs(notebook) -> list[dict]:
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]


def test_a_chapter_run_by_a_reader_shows_its_figures_and_numbers(tmp_path, monkeypatch):
    notebook, parameters = run_as_a_reader(tmp_path, monkeypatch, block_torch=False)
    shown = outputs(notebook)
    data = [o.get("data", {}) for o in shown if o["output_type"] in ("display_data", "execute_result")]
    assert any("image/png" in d for d in data), "no figure displayed"
    assert not any(key.startswith(RECORD) for d in data for key in d), "glued for the book outside the build"
    # the glue table of the cell that glues "gens" (the number of generations)
    tables = [d for d in data if "text/html" in d and "<code>gens</code>" in d["text/html"]]
    assert tables, "no table of glued values shows the key 'gens'"
    assert re.search(rf"^gens +{parameters['generations']}$", tables[0]["text/plain"], re.M)
    assert f"<td style=\"text-align:left\">{parameters['generations']}</td>" in tables[0]["text/html"]
    # figures go to the user's cache, not into the working folder
    assert not (tmp_path / "work" / "_build").exists()
    figures = tmp_path / "home" / ".cache" / "collapse_utils" / "figures"
    assert (figures / "01_policies_variance.png").exists()


def test_a_torch_free_chapter_runs_without_torch(tmp_path, monkeypatch):
    notebook, _ = run_as_a_reader(tmp_path, monkeypatch, block_torch=True)
    assert not [o for o in outputs(notebook) if o["output_type"] == "error"]
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    assert "torch blocked: torch is not installed (light path test)" in printed
    assert "torch modules loaded: []" in printed
    assert any("image/png" in o.get("data", {}) for o in outputs(notebook))
