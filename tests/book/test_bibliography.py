"""The bibliography (issue 7): every work has a DOI or an arXiv id, the article's
references are all there, and every entry is cited somewhere in the book."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIB = (ROOT / "book" / "references.bib").read_text()
ENTRIES = {
    match.group(1): match.group(0)
    for match in re.finditer(r"@\w+\{([^,\s]+),.*?\n\}", BIB, flags=re.S)
}
# The article's references (its "References" section), by their keys here.
ARTICLE = ["shumailov2024curse", "alemohammad2024mad", "dohmatob2024tale", "briesch2023llm"]
# Works for which no DOI could be confirmed offline: the full journal reference is given.
NO_IDENTIFIER = {"littler1975loss"}
# Unpublished texts (the course lesson this book follows): no identifier exists, so the
# entry must say how the text was published.
UNPUBLISHED = {"collapse-data-quality-article"}


def book_text() -> str:
    pages = [p.read_text() for p in (ROOT / "book").glob("*.md")]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        pages += [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    return "\n".join(pages)


def test_the_bibliography_parses_into_entries():
    assert len(ENTRIES) == BIB.count("\n@") + BIB.startswith("@")


@pytest.mark.parametrize("key", sorted(ENTRIES))
def test_every_work_has_a_doi_or_an_arxiv_id(key):
    entry = ENTRIES[key]
    doi = re.search(r"^\s*doi\s*=\s*\{10\.\d{4,9}/[^}\s]+\}", entry, flags=re.M)
    arxiv = re.search(r"^\s*eprint\s*=\s*\{\d{4}\.\d{4,5}\}", entry, flags=re.M) and re.search(
        r"archivePrefix\s*=\s*\{arXiv\}", entry
    )
    if key in UNPUBLISHED:
        assert not (doi or arxiv), f"{key} has an identifier now: drop it from UNPUBLISHED"
        assert re.search(r"^\s*howpublished\s*=\s*\{\S", entry, flags=re.M), f"{key} must say how it was published"
    elif key in NO_IDENTIFIER:
        assert not (doi or arxiv), f"{key} has an identifier now: drop it from NO_IDENTIFIER"
        assert re.search(r"^\s*journal\s*=", entry, flags=re.M) and re.search(r"^\s*pages\s*=", entry, flags=re.M)
    else:
        assert doi or arxiv, f"{key} has neither a DOI nor an arXiv id"


def test_the_articles_references_are_all_in_the_bibliography():
    assert set(ARTICLE) <= set(ENTRIES)


def test_every_entry_is_cited_in_the_book():
    cited = set()
    for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", book_text()):
        cited |= {key.strip() for key in keys.split(",")}
    assert cited <= set(ENTRIES), f"cited but missing: {sorted(cited - set(ENTRIES))}"
    assert set(ENTRIES) <= cited, f"never cited: {sorted(set(ENTRIES) - cited)}"
