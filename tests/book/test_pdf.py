"""The whole book as one PDF (``collapse_utils.book.pdf``, ``make pdf``; issue 18).

Unit tests (no TeX needed): the message and exit code without TeX, pandas
tables as grid tables, the log checks, the HTML's download link.

The ``build`` tests make the PDF of the session's smoke build (in a copy, so the
smoke build's HTML stays as the other tests expect it) and read it with
poppler-utils (``pdftotext``, ``pdfimages``, ``pdfinfo``). CI installs TeX Live
(``.ci/run``): on a machine without it they fail with the install command, they
are not skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from collapse_utils.book import pdf, pdf_tables

ROOT = Path(__file__).resolve().parents[2]

#: The smoke PDF's sane page range. Measured: 247 pages (14 chapters and the
#: reference pages, A4). Fewer than 150 means whole chapters are missing; more
#: than 600 means something is printed that should not be (a runaway output, a
#: table of every figure's data).
PAGES = (150, 600)


# --- without TeX ------------------------------------------------------------------------


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_without_tex_one_message_names_what_to_install_and_exit_2(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "bin"
    empty.mkdir()
    output = tmp_path / "out"
    (output / "_build" / "source").mkdir(parents=True)
    before = _listing(output)
    monkeypatch.setenv("PATH", str(empty))
    assert pdf.main(["--root", str(ROOT), "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1
    assert "xelatex (command, Debian package texlive-xetex)" in err
    assert "latexmk (command, Debian package latexmk)" in err
    assert "sudo apt-get install --no-install-recommends " + " ".join(pdf.DEBIAN_PACKAGES) in err
    assert "nothing was written" in err
    assert _listing(output) == before  # no half-written output


def test_a_missing_font_is_named_with_its_package(tmp_path, monkeypatch):
    """TeX's commands are there (fakes), kpsewhich finds every file but one font."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    found = [name for name in pdf.TEX_FILES if name != "texgyrepagella-math.otf"]
    for name in pdf.TEX_COMMANDS:
        script = bin_dir / name
        lines = "".join(f"echo /usr/share/texmf/{f}\n" for f in found) if name == "kpsewhich" else ""
        script.write_text("#!/bin/sh\n" + lines)
        script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert pdf.missing_tex() == ["texgyrepagella-math.otf (Debian package fonts-texgyre-math)"]
    assert "fonts-texgyre-math" in pdf.tex_message(pdf.missing_tex())


def test_every_package_named_in_a_message_is_installed_by_ci():
    named = set(pdf.TEX_COMMANDS.values()) | set(pdf.TEX_FILES.values())
    ci = (ROOT / ".ci" / "run").read_text()
    listed = set(pdf.DEBIAN_PACKAGES)
    # these come with texlive-xetex and texlive-latex-extra
    assert named - listed <= {"texlive-binaries", "texlive-pictures", "texlive-latex-recommended"}
    assert all(package in ci for package in listed), "the apt list of .ci/run and DEBIAN_PACKAGES differ"


def test_a_build_without_its_stage_is_refused_before_anything_is_written(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(pdf, "missing_tex", lambda path=None: [])
    assert pdf.main(["--root", str(ROOT), "--output", str(tmp_path)]) == 2
    assert "no executed build under" in capsys.readouterr().err
    assert _listing(tmp_path) == []


# --- pandas tables -----------------------------------------------------------------------------


def _cells(table: str) -> list[list[str]]:
    """Parse a grid table with docutils: the text of each row's entries."""
    from docutils.core import publish_doctree
    from docutils.nodes import row

    tree = publish_doctree(table, settings_overrides={"report_level": 2, "halt_level": 2})
    return [[entry.astext() for entry in r.children] for r in tree.findall(row)]


def test_a_pandas_table_becomes_a_grid_table_with_the_same_cells():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"n_train": [0, 20], "var*": [1.0, 0.4636], "why": ["a `b` | c", "- d"]},
        index=pd.Index([0, 1], name="generation"),
    )
    cells = _cells(pdf_tables.grid_table(frame.to_html()))
    # the index name joins the header row; markup characters stay literal
    assert cells == [
        ["generation", "n_train", "var*", "why"],
        ["0", "0", "1.0000", "a `b` | c"],
        ["1", "20", "0.4636", "- d"],
    ]


def test_spanned_headers_and_row_groups_keep_their_spans():
    pd = pytest.importorskip("pandas")
    columns = pd.MultiIndex.from_product([["beam", "ancestral"], [0, 1]])
    index = pd.MultiIndex.from_product([["tau = 0.7", "tau = 1"], [0, 1]], names=[None, "generation"])
    frame = pd.DataFrame(
        [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]], index=index, columns=columns
    )
    table = pdf_tables.grid_table(frame.to_html())
    from docutils.core import publish_doctree
    from docutils.nodes import entry

    tree = publish_doctree(table, settings_overrides={"report_level": 2, "halt_level": 2})
    spans = {e.astext(): (e.get("morecols", 0), e.get("morerows", 0)) for e in tree.findall(entry)}
    assert spans["beam"] == (1, 0) and spans["ancestral"] == (1, 0)
    assert spans["tau = 0.7"] == (0, 1) and spans["tau = 1"] == (0, 1)
    assert spans["16"] == (0, 0)


def test_only_outputs_with_one_pandas_table_get_markdown():
    pd = pytest.importorskip("pandas")
    table_html = pd.DataFrame({"a": [1]}).to_html()
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "outputs": [
                    {"output_type": "display_data", "data": {"text/html": table_html, "text/plain": "a"}},
                    {
                        "output_type": "display_data",
                        "data": {"application/papermill.record/text/html": table_html},
                    },
                    {"output_type": "display_data", "data": {"text/html": "<b>not a table</b>"}},
                    {"output_type": "display_data", "data": {"text/html": table_html + table_html}},
                ],
            }
        ]
    }
    assert pdf_tables.add_table_markdown(notebook) == 2
    outputs = notebook["cells"][0]["outputs"]
    assert outputs[0]["data"]["text/markdown"].startswith("```{eval-rst}\n+")
    assert "application/papermill.record/text/markdown" in outputs[1]["data"]
    assert "text/markdown" not in outputs[2]["data"] and "text/markdown" not in outputs[3]["data"]
    assert pdf_tables.add_table_markdown(notebook) == 0  # once


# --- logs, references, the HTML link ------------------------------------------------------------


def test_the_log_checks_find_errors_undefined_references_and_missing_glyphs():
    log = "\n".join(
        [
            "Chapter 1.",
            "./model-collapse.tex:12: Undefined control sequence.",
            "LaTeX Warning: Reference `notebooks/02_x:ex-14-y' on page 3 undefined on input line 9.",
            "Missing character: There is no ☃ in font texgyrepagella-regular!",
            "LaTeX Warning: Float too large for page by 5pt on input line 4.",
            "Output written on model-collapse.xdv (291 pages, 123 bytes).",
        ]
    )
    problems = pdf.latex_problems(log)
    assert len(problems) == 3 and not any("Float" in p for p in problems)
    assert pdf.pdf_pages(log) == 291
    assert pdf.pdf_pages("no output") is None


def test_a_reference_to_another_pages_exercise_is_recognised():
    from collapse_utils.book.sphinx_latex import exercise_label

    assert exercise_label("%notebooks/15_exercises#ex-15-median-variance") == "ex-15-median-variance"
    assert exercise_label("#local") is None
    assert exercise_label("%notebooks/15_exercises") is None


def test_every_html_page_links_the_pdf_relative_to_itself(tmp_path):
    html = tmp_path / "html"
    (html / "notebooks").mkdir(parents=True)
    page = (
        '<html lang="en" data-content_root="{root}"><body><footer>'
        '<div class="extra_footer">\n  <p>licence</p>\n</div></footer></body></html>'
    )
    (html / "index.html").write_text(page.format(root="./"))
    (html / "notebooks" / "01.html").write_text(page.format(root="../"))
    (html / "redirect.html").write_text("<html><head></head></html>")
    built = tmp_path / "model-collapse.pdf"
    built.write_bytes(b"%PDF-1.5 test")
    for _ in range(2):  # running it again replaces the link
        assert pdf.offer_in_html(html, built, pages=12) == 2
    chapter = (html / "notebooks" / "01.html").read_text()
    assert chapter.count('class="book-pdf"') == 1
    assert 'href="../model-collapse.pdf"' in chapter and "12 pages" in chapter
    assert 'href="./model-collapse.pdf"' in (html / "index.html").read_text()
    assert (html / "model-collapse.pdf").read_bytes() == built.read_bytes()


# --- the smoke PDF ------------------------------------------------------------------------------


def _toc_entries(source: Path) -> tuple[list[str], list[str]]:
    """The part captions and the files of a build's ``_toc.yml`` (root first), in book order."""
    toc = yaml.safe_load((source / "_toc.yml").read_text())
    captions, files = [], [toc["root"]]
    for part in toc.get("parts", []):
        captions.append(part["caption"])
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return captions, files


def _title(source: Path, file: str) -> str:
    """The first level-1 heading of a page or notebook of a build, its markup removed."""
    path = source / file
    if path.with_suffix(".ipynb").exists():
        cells = json.loads(path.with_suffix(".ipynb").read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = path.with_suffix(".md").read_text()
    heading = next(line[2:] for line in text.splitlines() if line.startswith("# "))
    return re.sub(r"[`*$]", "", heading).strip()


def _normal(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").casefold().split())


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: sudo apt-get install --no-install-recommends poppler-utils")
    return found


@pytest.fixture(scope="module")
def smoke_pdf(request, tmp_path_factory):
    """The PDF of the session's smoke build (or of ``$COLLAPSE_SMOKE_BUILD``, a smoke
    build's ``_build`` made earlier), built in a copy of its stage and HTML."""
    missing = pdf.missing_tex()
    if missing:
        pytest.fail(pdf.tex_message(missing))
    reused = os.environ.get("COLLAPSE_SMOKE_BUILD")
    smoke_build = Path(reused) if reused else request.getfixturevalue("smoke_build")
    output = tmp_path_factory.mktemp("pdf")
    for name in ("source", "html"):
        shutil.copytree(smoke_build / name, output / "_build" / name, symlinks=True)
    done = subprocess.run(
        [sys.executable, "-m", "collapse_utils.book.pdf", "--root", str(ROOT), "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    if done.returncode != 0:
        pytest.fail(
            f"the PDF build failed (exit {done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}"
        )
    built = output / "_build" / "pdf" / pdf.PDF_NAME
    assert built.is_file()
    return output / "_build"


@pytest.fixture(scope="module")
def pdf_text(smoke_pdf) -> str:
    done = subprocess.run(
        [_tool("pdftotext"), "-enc", "UTF-8", str(smoke_pdf / "pdf" / pdf.PDF_NAME), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.mark.build
def test_every_part_and_chapter_title_is_in_the_pdf_in_book_order(smoke_pdf, pdf_text):
    source = smoke_pdf / "source"
    captions, files = _toc_entries(source)
    titles = [_title(source, f) for f in files[1:]]  # the root page's title is the PDF's title page
    assert len(titles) >= 10
    text = _normal(pdf_text)
    missing = [t for t in captions + titles if _normal(t) not in text]
    assert not missing, f"titles missing from the PDF: {missing}"
    # the table of contents comes first (after the title page) and ends with the last
    # chapter; after it, every chapter's heading comes, in book order
    start = text.index(_normal(titles[-1])) + 1
    for title in titles:
        assert _normal(title) in text[start:], f"{title!r} is in the table of contents only, or out of order"
        start = text.index(_normal(title), start) + 1


@pytest.mark.build
def test_no_reference_is_left_unresolved(pdf_text):
    assert "??" not in pdf_text, [line for line in pdf_text.splitlines() if "??" in line][:10]


@pytest.mark.build
def test_every_figure_of_the_html_is_embedded(smoke_pdf):
    html = smoke_pdf / "html"
    figures = 0
    for page in html.rglob("*.html"):
        if "_static" in page.parts:
            continue
        main = page.read_text(encoding="utf-8").split("<main", 1)[-1]
        figures += len(re.findall(r'<img[^>]+src="[^"]*_images/', main))
    done = subprocess.run(
        [_tool("pdfimages"), "-list", str(smoke_pdf / "pdf" / pdf.PDF_NAME)],
        capture_output=True,
        text=True,
        check=True,
    )
    # the rows after the two header lines; soft masks (transparency) are not figures
    images = [line.split() for line in done.stdout.splitlines()[2:] if line.strip()]
    embedded = sum(1 for row in images if row[2] == "image")
    assert figures >= 20
    assert embedded >= figures, (embedded, figures)


@pytest.mark.build
def test_the_page_count_is_sane_and_the_html_offers_the_pdf(smoke_pdf):
    built = smoke_pdf / "pdf" / pdf.PDF_NAME
    done = subprocess.run([_tool("pdfinfo"), str(built)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", done.stdout, re.M).group(1))
    assert PAGES[0] <= pages <= PAGES[1], pages
    offered = smoke_pdf / "html" / pdf.PDF_NAME
    assert offered.read_bytes() == built.read_bytes()
    intro = (smoke_pdf / "html" / "book" / "intro.html").read_text(encoding="utf-8")
    assert f'href="../{pdf.PDF_NAME}"' in intro and f"{pages} pages" in intro
