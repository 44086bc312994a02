"""The reader's path (issue 7): from the introduction, the "next" links walk
through every page of the table of contents in order, down to the exercises and
the back matter; the glossary, the results page and the introduction link every
chapter."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def test_glossary_results_and_notation_are_in_the_toc():
    pages = toc_pages()
    for page in ("book/notation", "book/glossary", "book/results", "book/bibliography"):
        assert page in pages, page
    assert pages.index("book/glossary") < pages.index(f"notebooks/{CHAPTERS[0]}")


def test_the_introduction_links_every_chapter():
    intro = (ROOT / "book" / "intro.md").read_text()
    for stem in CHAPTERS:
        assert f"{{doc}}`../notebooks/{stem}`" in intro, stem


def test_the_results_page_has_a_number_from_every_chapter_with_a_link_to_it():
    results = (ROOT / "book" / "results.md").read_text()
    for stem in CHAPTERS:
        if stem.startswith("11_"):  # the exercises chapter restates results, it adds none
            continue
        assert f"../notebooks/{stem}.ipynb::" in results, f"no number from {stem}"
        assert f"<../notebooks/{stem}>`" in results, f"no link to {stem}"


def test_every_glossary_entry_links_to_where_it_is_defined():
    text = (ROOT / "book" / "glossary.md").read_text()
    body = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    entries = re.split(r"\n(?=\S)", body.strip())
    assert len(entries) >= 20
    for entry in entries:
        term = entry.splitlines()[0]
        assert re.search(r"\{(doc|ref|numref|prf:ref)\}`", entry), f"glossary term {term!r} links nowhere"


@pytest.mark.build
def test_next_links_walk_from_the_introduction_through_every_page(smoke_build):
    html = smoke_build / "html"
    expected = [f"{page}.html" for page in toc_pages()]
    walked, page = [], expected[0]
    while page is not None and len(walked) <= len(expected):
        walked.append(page)
        text = (html / page).read_text(encoding="utf-8")
        match = re.search(r'<a class="right-next"\s+href="([^"]+)"', text)
        page = None
        if match:
            page = urljoin(walked[-1], match.group(1)).split("#")[0]
    assert walked == expected


PAGES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted((ROOT / "book").glob("*.md"))


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_prose_cross_references_are_links_not_words(path):
    """'chapter 3', 'see above', 'the previous section' become {doc}/{numref}/{ref} links."""
    import nbformat

    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    else:
        text = path.read_text()
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"\{[a-z:]+\}`[^`]*`", " ", text)
    words = re.findall(
        r"(?i)\b(?:see (?:above|below)|(?:previous|next|last) (?:section|chapters?)|chapters? \d+)", text
    )
    assert not words, f"{path.name}: {words}"
