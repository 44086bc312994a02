"""The built book in headless Chromium (Debian's browser, no download): title and
navigation, figures loaded, math typeset by the locally served MathJax, no console
error on any page; figures with alt texts and legible text; code and equations
within the text column; the table of contents opens on a phone. A screenshot of
every page is saved under _build/screenshots."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
import yaml

from collapse_utils.book.build import toc_notebooks

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHAPTERS = [f"notebooks/{nb.stem}" for nb in toc_notebooks(ROOT)]
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
PAGES = [TOC["root"], *(chapter["file"] for part in TOC["parts"] for chapter in part["chapters"])]
# pages that must show at least one figure, and pages that must show typeset math
WITH_FIGURES = {"book/intro", "book/results", *CHAPTERS}
WITH_MATH = {"book/notation", *CHAPTERS}

pytestmark = pytest.mark.browser

# Debian's packages by default; CHROMIUM_PATH / CHROMEDRIVER_PATH point elsewhere
# (GitHub's runners use their preinstalled Chrome).
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_PATH") or shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        message = "Debian's chromium and chromium-driver are needed (.ci/run installs them)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def server(smoke_build):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(smoke_build / "html"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _wait(driver, condition, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(condition))


def _severe(driver) -> list[str]:
    """The console's SEVERE entries since the last call (errors, failed requests)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.mark.parametrize("page", PAGES)
def test_page_renders(browser, server, page):
    _severe(browser)  # forget the previous page's log
    browser.get(f"{server}/{page}.html")
    _wait(browser, "return document.readyState === 'complete'")
    assert "Model Collapse" in browser.title
    # navigation: the sidebar lists every chapter
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('nav.bd-docs-nav a')).map(a => a.getAttribute('href'))"
    )
    for chapter in CHAPTERS:
        if chapter == page:
            continue  # the current page links to itself as "#"
        assert any(chapter.split("/")[-1] in (href or "") for href in links), (page, chapter, links)

    images = browser.execute_script(
        "return Array.from(document.querySelectorAll('article img')).map(i => [i.src, i.complete, i.naturalWidth])"
    )
    if page in WITH_FIGURES:
        assert images, f"{page}: no figure"
    broken = [src for src, complete, width in images if not (complete and width > 0)]
    assert not broken, f"{page}: figures that did not load: {broken}"

    if page in WITH_MATH:
        # MathJax comes from the book's own _static folder and typesets the math
        sources = browser.execute_script("return Array.from(document.scripts).map(s => s.src)")
        mathjax = [src for src in sources if "/_static/mathjax/" in src]
        assert len(mathjax) == 1 and mathjax[0].startswith(server), mathjax
        assert "/_static/mathjax/tex-chtml.js" in mathjax[0]
        _wait(browser, "return window.MathJax && MathJax.startup && MathJax.startup.promise && "
                       "document.querySelectorAll('mjx-container').length > 0")
        errors = browser.execute_script("return document.querySelectorAll('mjx-merror').length")
        assert errors == 0, f"{page}: {errors} MathJax errors"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{page.replace('/', '__')}.png"))
    errors = _severe(browser)
    assert not errors, f"{page}: console errors: {errors}"


@pytest.mark.parametrize("page", CHAPTERS)
def test_solutions_are_folded_and_open_with_one_click(browser, server, page):
    from selenium.webdriver.common.by import By

    browser.get(f"{server}/{page}.html")
    _wait(browser, "return document.readyState === 'complete'")
    solutions = browser.find_elements(By.CSS_SELECTOR, "div.solution.dropdown")
    assert solutions, f"{page}: no solution dropdown"
    for solution in solutions:
        body = solution.find_elements(By.CSS_SELECTOR, "section, p:not(.admonition-title)")
        assert body and not any(element.is_displayed() for element in body), f"{page}: a solution is open"
    first = solutions[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", first)
    first.find_element(By.CSS_SELECTOR, "button.toggle-button").click()
    body = first.find_elements(By.CSS_SELECTOR, "section, p:not(.admonition-title)")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(lambda d: any(element.is_displayed() for element in body))


def _load(driver, server, page):
    driver.get(f"{server}/{page}.html")
    _wait(driver, "return document.readyState === 'complete'")
    _wait(driver, "return Array.from(document.querySelectorAll('article img')).every(i => i.complete)")


IMAGES = """return Array.from(document.querySelectorAll('article img')).map(i => ({
    src: i.getAttribute('src'), alt: i.getAttribute('alt'), in_figure: !!i.closest('figure'),
    rendered: i.getBoundingClientRect().width, natural: i.naturalWidth}))"""


def looks_like_a_path(alt: str) -> bool:
    """One word with a slash or an image file's suffix ("../_images/<sha256>.png")."""
    alt = alt.strip()
    return bool(alt) and not any(c.isspace() for c in alt) and (
        "/" in alt or alt.lower().endswith((".png", ".svg", ".jpg", ".jpeg", ".gif")))


@pytest.mark.parametrize("page", [page for page in PAGES if page in WITH_FIGURES])
def test_figures_have_alt_texts(browser, server, page):
    """Every figure image says what it shows: no alt text that is a file path, none empty."""
    _load(browser, server, page)
    images = browser.execute_script(IMAGES)
    paths = [(image["src"], image["alt"]) for image in images if looks_like_a_path(image["alt"] or "")]
    assert not paths, f"{page}: alt texts that are paths: {paths}"
    empty = [image["src"] for image in images if image["in_figure"] and not (image["alt"] or "").strip()]
    assert not empty, f"{page}: figure images without alt text: {empty}"


def _manifests(figures: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """Figure manifests (``<figures>/<name>.json``) by glued PNG's sha256 and by name."""
    by_sha, by_name = {}, {}
    for path in sorted(figures.glob("*.json")):
        manifest = json.loads(path.read_text())
        if "min_font_pt" not in manifest:
            continue
        by_name[manifest["name"]] = manifest
        if manifest.get("png_sha256"):
            by_sha[manifest["png_sha256"]] = manifest
    return by_sha, by_name


# The smallest text of a figure, in CSS pixels, that a reader can still read.
MIN_TEXT_PX = 9


@pytest.mark.parametrize("page", [page for page in PAGES if page in WITH_FIGURES])
def test_figure_text_is_legible(browser, server, smoke_build, page):
    """A figure's smallest text, as shown, is at least 9 CSS px at 1280 px width.

    Shown text px = min_font_pt / 72 × dpi × (rendered width / natural width), with
    the figure's smallest font and dpi from the manifest ``show`` and
    ``save_figure`` write next to the figure (chapters: the glued PNG, found by its
    sha256, the name myst-nb gives it; prose pages: ``figures/<name>.png``).
    """
    by_sha, by_name = _manifests(smoke_build / "figures")
    _load(browser, server, page)
    problems = []
    for image in browser.execute_script(IMAGES):
        stem = Path(image["src"]).stem
        if stem in by_sha:
            manifest = by_sha[stem]
            dpi = manifest["dpi"]
        elif stem in by_name and "saved_png" in by_name[stem]:
            manifest = by_name[stem]
            dpi = manifest["saved_png"]["dpi"]
        else:
            problems.append(f"{image['src']}: no figure manifest (not made by glue.show / save_figure)")
            continue
        if manifest["min_font_pt"] is None:
            continue  # a figure without text
        scale = image["rendered"] / image["natural"]
        text_px = manifest["min_font_pt"] / 72 * dpi * scale
        if text_px < MIN_TEXT_PX:
            problems.append(f"{manifest['name']}: shown at scale {scale:.2f}, smallest text {text_px:.1f} px")
    assert not problems, f"{page}: figures with text under {MIN_TEXT_PX} px:\n" + "\n".join(problems)


WIDE_BLOCKS = """
const column = document.querySelector('article.bd-article').getBoundingClientRect();
const wide = el => el.scrollWidth > column.width + 1 || el.getBoundingClientRect().right > column.right + 1;
const start = el => el.textContent.trim().slice(0, 60);
return {
  code: Array.from(document.querySelectorAll('div.cell_input pre, div.highlight pre'))
            .filter(el => wide(el) || el.scrollWidth > el.clientWidth + 1).map(start),
  math: Array.from(document.querySelectorAll('mjx-container[display="true"]'))
            .filter(el => wide(el) || wide(el.firstElementChild || el)).map(start),
  page: [document.documentElement.scrollWidth, window.innerWidth],
}"""


@pytest.mark.parametrize("page", PAGES)
def test_code_and_equations_fit_the_text_column(browser, server, page):
    """At 1280 px, no code block or display equation is wider than the article column
    (none scrolls sideways), and the page itself does not scroll sideways."""
    _load(browser, server, page)
    if page in WITH_MATH:
        _wait(browser, "return window.MathJax && MathJax.startup && MathJax.startup.promise && "
                       "document.querySelectorAll('mjx-container').length > 0")
        browser.execute_async_script("MathJax.startup.promise.then(arguments[arguments.length - 1])")
    found = browser.execute_script(WIDE_BLOCKS)
    scroll_width, inner_width = found["page"]
    problems = [f"code wider than the text column: {start!r}" for start in found["code"]]
    problems += [f"display equation wider than the text column: {start!r}" for start in found["math"]]
    if scroll_width > inner_width:
        problems.append(f"the page scrolls sideways ({scroll_width} > {inner_width} px)")
    assert not problems, f"{page}:\n" + "\n".join(problems)


PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}


def test_phone_table_of_contents_opens_and_leads_to_a_chapter(browser, server):
    """At 390 px, the visible "table of contents" button opens the sidebar on screen,
    and a chapter link in it opens that chapter."""
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        browser.get(f"{server}/book/intro.html")
        _wait(browser, "return document.readyState === 'complete'")
        assert browser.execute_script("return window.innerWidth") == PHONE["width"]
        toggles = [b for b in browser.find_elements(By.CSS_SELECTOR, "button.primary-toggle") if b.is_displayed()]
        assert toggles, "no visible button opens the table of contents"
        toggles[0].click()
        chapter = CHAPTERS[1]
        link = f"nav.bd-docs-nav a[href$='{chapter.split('/')[-1]}.html']"
        _wait(browser, f"const a = document.querySelector(\"{link}\"); if (!a) return false; "
                       "const r = a.getBoundingClientRect(); "
                       "return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth "
                       "&& r.top >= 0 && r.bottom <= window.innerHeight", timeout=10)
        sidebar = browser.execute_script(
            "const r = document.querySelector('nav.bd-docs-nav').getBoundingClientRect(); "
            "return [r.left, r.right, r.width]")
        assert sidebar[0] >= 0 and sidebar[2] > 200, f"the sidebar is not on screen: {sidebar}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENSHOTS / "phone_toc_open.png"))
        browser.find_element(By.CSS_SELECTOR, link).click()
        _wait(browser, f"return location.pathname.endsWith('/{chapter}.html') "
                       "&& document.readyState === 'complete'")
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
