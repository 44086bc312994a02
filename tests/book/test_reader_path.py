"""The reader's path (issues 7 and 12): from the introduction, the "next" links
walk through every page of the table of contents in order, starting with chapter 1
and ending with the reference pages; no part of the table of contents repeats the
title of its only page; the glossary, the results page and the introduction link
every chapter."""

from __future__ import annotations

import json
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


REFERENCE = ("book/how_to_run", "book/notation", "book/glossary", "book/bibliography")


def test_the_chapters_come_first_and_the_reference_pages_last():
    pages = toc_pages()
    assert pages[1] == f"notebooks/{CHAPTERS[0]}", "the introduction must lead to chapter 1"
    assert "book/results" in pages
    last_chapter = pages.index(f"notebooks/{CHAPTERS[-1]}")
    for page in REFERENCE:
        assert pages.index(page) > last_chapter, f"{page} is not among the reference pages at the end"


def page_title(page: str) -> str:
    """The first ``# `` heading of a page of the book (markdown file or notebook)."""
    path = ROOT / page
    if path.with_suffix(".ipynb").exists():
        nb = json.loads(path.with_suffix(".ipynb").read_text())
        text = "\n".join("".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "markdown")
    else:
        text = path.with_suffix(".md").read_text()
    return re.search(r"^# (.+)$", text, re.M).group(1).strip()


def test_no_part_caption_repeats_the_title_of_its_only_page():
    """The sidebar must not read "Common confusions › Common confusions"."""
    for part in yaml.safe_load((ROOT / "_toc.yml").read_text())["parts"]:
        if len(part["chapters"]) == 1:
            title = page_title(part["chapters"][0]["file"])
            assert part["caption"].casefold() != title.casefold(), f"part {part['caption']!r} holds only {title!r}"


@pytest.mark.build
def test_the_introduction_leads_to_chapter_1(smoke_build):
    text = (smoke_build / "html" / "book" / "intro.html").read_text(encoding="utf-8")
    match = re.search(r'<a class="right-next"\s+href="([^"]+)"', text)
    assert match, "the introduction has no next link"
    assert urljoin("book/intro.html", match.group(1)).split("#")[0] == f"notebooks/{CHAPTERS[0]}.html"


def test_the_introduction_links_every_chapter():
    intro = (ROOT / "book" / "intro.md").read_text()
    for stem in CHAPTERS:
        assert f"{{doc}}`../notebooks/{stem}`" in intro, stem


def test_the_results_page_has_a_number_from_every_chapter_with_a_link_to_it():
    results = (ROOT / "book" / "results.md").read_text()
    for stem in CHAPTERS:
        if stem.endswith("_exercises"):  # the exercises chapter restates results, it adds none
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
