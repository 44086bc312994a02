"""The built book in headless Chromium (Debian's browser, no download): title and
navigation, figures loaded, math typeset by the locally served MathJax; a
screenshot of every page is saved under _build/screenshots."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from collapse_utils.book.build import toc_notebooks

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHAPTERS = [f"notebooks/{nb.stem}" for nb in toc_notebooks(ROOT)]
PAGES = ["book/intro", "book/how_to_run", "book/notation", "book/glossary", *CHAPTERS, "book/results",
         "book/bibliography"]
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


@pytest.mark.parametrize("page", PAGES)
def test_page_renders(browser, server, page):
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
