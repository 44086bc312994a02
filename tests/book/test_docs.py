"""The package points to the book, and the README maps the package.

- Every public function and class of the modules in ``COVERED`` ends its docstring
  with a line ``Book: {role}`target``` whose label or page exists in the book
  (``{prf:ref}``/``{ref}``/``{numref}`` with a label defined in a notebook or a
  page of ``book/``, ``{doc}`` with a notebook or page). ``COVERED`` is every
  module of the library (``book/`` and ``answers/`` excepted).
- The README's module table names every module under ``collapse_utils/``.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "collapse_utils"

# Every module of the library (not the build machinery in book/, not answers/): its public
# functions and classes end their docstrings with a Book: line.
COVERED = sorted(
    str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
    if p.name != "__init__.py" and p.relative_to(PACKAGE).parts[0] not in ("book", "answers")
)

BOOK_LINE = re.compile(r"^Book: (.+)$")
ROLE = re.compile(r"\{(prf:ref|ref|numref|doc)\}`([^`]+)`")
LABEL_DEF = re.compile(r"^:label: ([\w:-]+)\s*$|^:name: ([\w:-]+)\s*$|^\(([\w:-]+)\)=\s*$", re.M)


def _book_texts() -> dict[str, str]:
    """The markdown of every notebook and page of the book, by path."""
    texts = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        texts[str(path.relative_to(ROOT))] = "\n".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    for path in sorted((ROOT / "book").glob("*.md")):
        texts[str(path.relative_to(ROOT))] = path.read_text()
    return texts


def book_labels() -> set[str]:
    """Every label a reference can point to: directive labels, figure names, targets."""
    found = set()
    for text in _book_texts().values():
        for match in LABEL_DEF.finditer(text):
            found.add(next(g for g in match.groups() if g))
    return found


def doc_exists(target: str) -> bool:
    """A ``{doc}`` target (``notebooks/03_tails_vanish``, ``../book/how_to_run``) names a page."""
    stem = target.split("<")[-1].rstrip(">").strip()
    while stem.startswith("../"):
        stem = stem[3:]
    stem = stem.lstrip("/")
    return any((ROOT / f"{stem}{ext}").is_file() for ext in (".ipynb", ".md"))


def public_definitions(path: Path):
    """(name, docstring) of the top-level public functions and classes of a module."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and not node.name.startswith("_"):
            yield node.name, ast.get_docstring(node)


def book_line_problem(doc: str | None, labels: set[str]) -> str | None:
    """Why a docstring's Book: line is missing or broken, or None if it is fine."""
    if not doc:
        return "no docstring"
    last = doc.strip().splitlines()[-1].strip()
    match = BOOK_LINE.match(last)
    if not match:
        return f"last line is not 'Book: ...': {last!r}"
    refs = ROLE.findall(match.group(1))
    if not refs:
        return f"no {{ref}}/{{prf:ref}}/{{doc}} role in {last!r}"
    for role, target in refs:
        if role == "doc":
            if not doc_exists(target):
                return f"no page {target!r}"
        else:
            label = target.split("<")[-1].rstrip(">").strip()
            if label not in labels:
                return f"no label {label!r} in the notebooks or book/ pages"
    return None


def test_covered_modules_exist():
    missing = [m for m in COVERED if not (PACKAGE / m).is_file()]
    assert not missing, f"COVERED lists modules that do not exist: {missing}"


@pytest.mark.parametrize("module", COVERED)
def test_public_docstrings_point_to_the_book(module):
    labels = book_labels()
    problems = {name: why for name, doc in public_definitions(PACKAGE / module)
                if (why := book_line_problem(doc, labels))}
    assert not problems, f"collapse_utils/{module}: " + "; ".join(f"{n}: {w}" for n, w in problems.items())


def test_book_line_checker_rejects_bad_lines():
    labels = {"thm-02-variance-decay"}
    assert book_line_problem("Text.\n\nBook: {prf:ref}`thm-02-variance-decay`", labels) is None
    assert book_line_problem("Text.\n\nBook: {doc}`notebooks/01_retraining_loop`", labels) is None
    assert book_line_problem("Text.\n\nBook: {doc}`../book/how_to_run`", labels) is None
    assert "no label" in book_line_problem("Book: {ref}`thm-99-nothing`", labels)
    assert "no page" in book_line_problem("Book: {doc}`notebooks/99_missing`", labels)
    assert "last line" in book_line_problem("Book: {doc}`notebooks/01_retraining_loop`\n\nMore.", labels)
    assert book_line_problem(None, labels) == "no docstring"


def package_modules() -> list[str]:
    """Dotted names (relative to collapse_utils) of every module; a package is its folder's name."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        if parts and "__pycache__" not in parts:
            names.append(".".join(parts))
    return names


def readme_module_table() -> list[str]:
    """The names in the first column of the README table whose header starts ``| module |``."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"\|\s*module\s*\|", line))
    names = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        names += re.findall(r"`([\w.]+)`", line.split("|")[1])
    return names


def named(module: str, patterns: list[str]) -> bool:
    """``module`` is in the table, as itself, through ``NN`` (two digits), or as a table entry's package."""
    for pattern in patterns:
        regex = re.escape(pattern).replace("NN", r"\d\d")
        if re.fullmatch(regex, module) or pattern.startswith(module + "."):
            return True
    return False


def test_readme_names_every_module():
    table = readme_module_table()
    assert table, "README.md has no module table (a table whose header starts with '| module |')"
    missing = [m for m in package_modules() if not named(m, table)]
    assert not missing, f"README.md's module table does not name: {missing}"
    stale = [p for p in table if not any(named(m, [p]) for m in package_modules())]
    assert not stale, f"README.md's module table names modules that do not exist: {stale}"


def test_licences_are_stated_everywhere():
    import yaml

    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "creativecommons.org/licenses/by/4.0" in (ROOT / "LICENSE-CONTENT.md").read_text()
    readme = (ROOT / "README.md").read_text()
    licence = readme[readme.index("## Licence"):]
    assert "MIT" in licence and "CC BY 4.0" in licence
    footer = yaml.safe_load((ROOT / "_config.yml").read_text())["html"]["extra_footer"]
    assert "MIT" in footer and "CC BY 4.0" in footer
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "MIT"
    import collapse_utils

    assert str(citation["version"]) == collapse_utils.__version__
