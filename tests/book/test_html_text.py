"""Markup that did not render: the built HTML's reader-visible text (outside code
and math) must hold no TeX and no MyST syntax.

MathJax reports nothing when a ``$$`` block is never recognised as math (inside a
``prf`` directive, a ``$$`` that starts on the line right after text is left as
text), and Sphinx says nothing when a role sits inside a code span or a directive
line is swallowed by a paragraph. So the check reads the text a reader sees.

Run by hand on any build: ``python tests/book/test_html_text.py _build/html``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.build

# What is dropped before reading the text: code, math, and scripts.
SKIP_ELEMENTS = ("script", "style", "pre", "code", "kbd", "samp", "mjx-container", "math", "svg",
                 "nav", "header", "footer")
SKIP_CLASSES = ("math", "highlight", "cell_output", "output", "MathJax", "bd-sidebar-primary", "bd-header",
                "search-button", "docutils literal", "toc-h1")

PATTERNS = {
    "TeX control word": re.compile(r"\\[A-Za-z]{2,}"),
    "TeX dollar": re.compile(r"(?<!\d)\$(?!\d)"),  # "$5" and "5$" are money
    "MyST role": re.compile(r"\{[a-z][\w:-]*\}`"),
    "MyST directive": re.compile(r"(:::|```)\s*\{[a-z][\w:-]*\}"),
    "directive option": re.compile(r"(?m)^\s*:(name|label|class|alt|width|align|nonumber|dropdown):\s"),
    "glue key": re.compile(r"\{glue(:\w+)?\}"),
}


def visible_text(html: str) -> str:
    """The page's article text outside code, math, scripts and navigation."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    article = soup.find("article") or soup
    for element in article.find_all(SKIP_ELEMENTS):
        element.decompose()
    for cls in SKIP_CLASSES:
        for element in article.select("." + ".".join(cls.split())):
            element.decompose()
    return article.get_text("\n")


# A word of six letters or more inside math, outside \\text{...}-like groups and
# control words, is prose that a broken ``$`` pair swallowed ("withmeans...").
TEXT_GROUPS = re.compile(r"\\(text|mathrm|operatorname|mathsf|textrm|mbox|texttt|textbf|mathbf|textit|begin|end)\{[^}]*\}")
CONTROL_WORD = re.compile(r"\\[A-Za-z]+")
WORD = re.compile(r"[A-Za-z]{6,}")


def prose_in_math(html: str) -> list[str]:
    """The math elements of ``html`` whose content is prose."""
    from bs4 import BeautifulSoup

    found = []
    for element in BeautifulSoup(html, "html.parser").select(".math"):
        tex = element.get_text()
        if WORD.search(CONTROL_WORD.sub("", TEXT_GROUPS.sub("", tex))):
            found.append(" ".join(tex.split())[:100])
    return found


def stray_markup(html: str) -> list[tuple[str, str]]:
    """Every ``(kind, context)`` of markup left as text in ``html``, and prose typeset as math."""
    found = [("prose typeset as math", tex) for tex in prose_in_math(html)]
    text = visible_text(html)
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            start, end = max(0, match.start() - 40), min(len(text), match.end() + 40)
            found.append((kind, " ".join(text[start:end].split())))
    return found


def test_detector_sees_what_the_reviewer_saw():
    # chapter 04's Definition 8 as it rendered: raw $, \mathbb and run-together words
    broken = ("<article><p>with means $\\mu_k \\in \\mathbb{R}^d$ and</p>"
              "<p>{glue:text}`med-replace:.3f`</p><p>:::{admonition} Overview</p>"
              "<span class='math'>\\( and full covariance matrices \\)</span></article>")
    kinds = {kind for kind, _ in stray_markup(broken)}
    assert kinds >= {"TeX control word", "TeX dollar", "MyST role", "MyST directive", "prose typeset as math"}
    fine = ("<article><p>Cost is 5$ or $5.</p><span class='math'>\\(\\mu\\)</span>"
            "<pre>{glue:text}`x`</pre><code>\\frac</code>"
            "<span class='math'>\\(\\operatorname{Binomial}(n, p) + \\text{otherwise}\\)</span>"
            "<div class='math'>\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}</div></article>")
    assert stray_markup(fine) == []


def _pages(html_dir: Path) -> list[Path]:
    skip = {"genindex.html", "search.html"}
    return sorted(p for p in html_dir.rglob("*.html")
                  if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts)


def test_no_markup_left_as_text(smoke_build):
    problems = []
    for page in _pages(smoke_build / "html"):
        for kind, context in stray_markup(page.read_text(encoding="utf-8")):
            problems.append(f"{page.relative_to(smoke_build / 'html')}: {kind}: ...{context}...")
    assert not problems, f"{len(problems)} pieces of markup left as text:\n" + "\n".join(problems)


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html")
    count = 0
    for page in _pages(root):
        for kind, context in stray_markup(page.read_text(encoding="utf-8")):
            count += 1
            print(f"{page.relative_to(root)}: {kind}: ...{context}...")
    print(f"{count} found")
    sys.exit(1 if count else 0)
