"""Parameter declarations, profiles and the build's validation (How to run this book)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from collapse_utils.book import build, params
from collapse_utils.book.params import Param, ParameterError
from collapse_utils.book.profiles import DEFAULTS, NOTEBOOKS, PROFILES

ROOT = Path(__file__).resolve().parents[2]


def test_param_types_and_ranges():
    p = Param(int, low=2)
    assert p.problem(2) is None
    assert p.problem(1) == "below the allowed range"
    assert p.problem(2.0) == "wrong type float"
    assert p.problem(True) == "wrong type bool"
    f = Param(float, low=0.0, high=1.0)
    assert f.problem(1) is None  # an int is a fine float
    assert f.problem(1.5) == "above the allowed range"
    assert f.problem(float("nan")) == "wrong type float"
    s = Param(str, choices=("a", "b"))
    assert s.problem("c") == "not an allowed value"
    assert s.allowed() == "one of 'a', 'b'"
    assert p.allowed() == "int >= 2"
    assert f.allowed() == "float in [0.0, 1.0]"


def test_check_names_notebook_parameter_value_and_allowed():
    good = dict(DEFAULTS["01_retraining_loop"])
    assert params.check("01_retraining_loop", **good) == good
    with pytest.raises(ParameterError) as err:
        params.check("01_retraining_loop", **(good | {"n": 1}))
    assert str(err.value) == (
        "01_retraining_loop: parameter 'n' = 1 is below the allowed range; allowed: int >= 2"
    )
    with pytest.raises(ParameterError, match=r"real_fraction' = 1.5 is above the allowed range; "
                                              r"allowed: float in \[0.0, 1.0\]"):
        params.check("01_retraining_loop", **(good | {"real_fraction": 1.5}))
    with pytest.raises(ParameterError, match="unknown parameter 'gens' = 3; known parameters: n, "):
        params.check("01_retraining_loop", **(good | {"gens": 3}))
    with pytest.raises(ParameterError, match="missing parameter"):
        params.check("01_retraining_loop", n=5)
    with pytest.raises(ParameterError, match="unknown notebook 'nope'"):
        params.check("nope")


def test_every_profile_is_valid_for_every_notebook():
    assert set(PROFILES) == {"smoke", "book", "paper"}
    assert set(DEFAULTS) == set(NOTEBOOKS)
    for name in PROFILES:
        for notebook, values in params.profile(name).items():
            params.check(notebook, **values)


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ParameterError, match="unknown profile 'fast'; known profiles: smoke, book, paper"):
        params.profile("fast")


def _run_build(*args, cwd=ROOT, output=None):
    command = [sys.executable, "-m", "collapse_utils.book.build", *args]
    if output is not None:
        command += ["--output", str(output)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_build_rejects_unknown_profile_before_executing(tmp_path):
    done = _run_build("--profile", "huge", output=tmp_path)
    assert done.returncode == 2
    assert "unknown profile 'huge'; known profiles: smoke, book, paper" in done.stderr
    assert "nothing was executed" in done.stderr
    assert not (tmp_path / "_build").exists()


def test_build_rejects_bad_and_unknown_parameters_before_executing(tmp_path, monkeypatch):
    from collapse_utils.book import profiles

    bad = {"01_retraining_loop": {"n": 1, "real_fraction": "lots", "chainz": 3}}
    monkeypatch.setitem(profiles.PROFILES, "broken", bad)
    executed = []
    monkeypatch.setattr(build, "execute", lambda *a, **k: executed.append(a))
    with pytest.raises(ParameterError) as err:
        build.build("broken", root=ROOT, output=tmp_path, html=False)
    message = str(err.value)
    assert "01_retraining_loop: parameter 'n' = 1 is below the allowed range; allowed: int >= 2" in message
    assert "parameter 'real_fraction' = 'lots' is wrong type str" in message
    assert "unknown parameter 'chainz' = 3" in message
    assert executed == []
    assert not (tmp_path / "_build").exists()


def test_build_checks_the_parameters_cell_against_the_declarations(tmp_path):
    import nbformat

    book = tmp_path / "book_root"
    (book / "notebooks").mkdir(parents=True)
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n- file: notebooks/01_retraining_loop\n")
    nb = nbformat.read(ROOT / "notebooks" / "01_retraining_loop.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\nextra = 3"
    nbformat.write(nb, book / "notebooks" / "01_retraining_loop.ipynb")
    with pytest.raises(ParameterError, match=r"the parameters cell defines .*'extra'.* but profiles.py declares"):
        build.validate(build.toc_notebooks(book), "smoke")
