"""The collapse calculator in headless Chromium (Debian's browser, as test_browser.py):
the page of the smoke build loads its vendored plotly.js and its grid, shows for its
initial setting the values the library computes, and when a control is moved with the
keyboard or the mouse the displayed values change to the library's values for the new
setting. The page's own arithmetic (the detector's effective real fraction, the
nearest grid point) is compared with the library over many settings.

Exact computations: the displayed numbers must equal the library's, rounded to the
grid's significant digits (no tolerance beyond that rounding)."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml

from collapse_utils.book import explorer, sphinx_ext
from collapse_utils.exact import filtering

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PAGE = sphinx_ext.EXPLORER_DOC
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_PATH") or shutil.which("chromedriver")
READOUTS = {name: f"explorer-{name.replace('_', '-')}-value" for name in explorer.CURVES}
REPLACE = {name: f"explorer-{name.replace('_', '-')}-replace" for name in explorer.CURVES}


def _toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"], *(chapter["file"] for part in toc["parts"] for chapter in part["chapters"])]


@pytest.fixture(scope="module")
def page_url(smoke_build):
    assert PAGE in _toc_pages(), (
        f"{PAGE} is not in _toc.yml, so the book has no calculator: add `- file: {PAGE}` "
        "to the part 'Practice and results', after book/results"
    )
    html = smoke_build / "html"
    assert (html / f"{PAGE}.html").is_file(), f"the smoke build has no {PAGE}.html"
    assert (html / "_static" / sphinx_ext.EXPLORER_DATA).is_file(), "the build did not write the grid"

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/{PAGE}.html"
    httpd.shutdown()


@pytest.fixture(scope="module")
def grid(smoke_build):
    """The grid the page loads, read back from the build."""
    return explorer.read_grid(smoke_build / "html" / "_static" / sphinx_ext.EXPLORER_DATA)


@pytest.fixture(scope="module")
def driver():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("Debian's chromium and chromium-driver are needed (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1280,1600",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    chrome.set_page_load_timeout(60)
    yield chrome
    chrome.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _wait(driver, condition, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(condition))


def _open(driver, url):
    driver.get_log("browser")  # forget earlier pages' messages
    driver.get(url)
    _wait(
        driver,
        "return document.getElementById('explorer') && "
        "document.getElementById('explorer').dataset.ready === 'true'",
    )


def _shown(driver) -> dict:
    """The page's setting (its script's state) and what it displays."""
    state = driver.execute_script("return window.collapseExplorer.state()")
    values = driver.execute_script(
        "const out = {}; for (const id of arguments[0]) { const e = document.getElementById(id); "
        "out[id] = [e.textContent, e.dataset.value]; } return out;",
        [*READOUTS.values(), *REPLACE.values(), "explorer-k", "explorer-lambda"],
    )
    return {"state": state, "values": values}


def _rounded(x: float) -> float:
    return float(f"{float(x):.{explorer.DIGITS}g}")


def _check_against_library(shown: dict) -> dict:
    """The displayed numbers are the library's for the page's setting; returns them."""
    st, values = shown["state"], shown["values"]
    fresh = st["source"] == "fresh"
    expected = explorer.setting(
        st["n"], st["s"], st["r"], st["f"], fresh=fresh, w=st["w"], generations=st["t"]
    )
    assert st["k"] == expected["k"], (st, expected["k"])
    assert float(values["explorer-k"][1]) == expected["k"]
    assert float(values["explorer-lambda"][1]) == expected["effective_real_fraction"]
    replace = explorer.curves(st["n"], 0, fresh=fresh, w=st["w"], generations=st["t"])
    found = {}
    for name in explorer.CURVES:
        text, value = values[READOUTS[name]]
        exact = expected["curves"][name][st["t"]]
        assert float(value) == _rounded(exact), (name, st, value, exact)
        assert float(text) == float(value), (name, text, value)  # shown with the grid's 4 digits
        assert float(values[REPLACE[name]][1]) == _rounded(replace[name][st["t"]]), name
        found[name] = float(value)
    return found


def test_the_page_shows_the_library_s_values_and_follows_its_controls(driver, page_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _open(driver, page_url)
    first = _shown(driver)
    before = _check_against_library(first)

    # the detector's recall, moved with the keyboard: 0.90 -> 0.60
    recall = driver.find_element(By.ID, "explorer-r")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", recall)
    recall.send_keys(*[Keys.ARROW_LEFT] * 30)
    second = _shown(driver)
    assert second["state"]["r"] == pytest.approx(0.6) and second["state"]["k"] != first["state"]["k"]
    after = _check_against_library(second)
    assert after["variance"] != before["variance"] and after["mean_error"] != before["mean_error"]

    # one fixed pool instead of fresh data, and fewer points per generation
    driver.find_element(By.ID, "explorer-fixed").click()
    size = driver.find_element(By.ID, "explorer-n")
    size.send_keys(Keys.ARROW_LEFT)
    third = _shown(driver)
    assert third["state"]["source"] == "fixed" and third["state"]["n"] == 50
    _check_against_library(third)

    # the number of generations shown, and the minority component's weight
    driver.execute_script(
        "const t = document.getElementById('explorer-t'); t.value = '100'; "
        "t.dispatchEvent(new Event('input', {bubbles: true}))"
    )
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "explorer-w")).select_by_visible_text("0.005")
    fourth = _shown(driver)
    assert fourth["state"]["t"] == 100 and fourth["state"]["w"] == 0.005
    _check_against_library(fourth)

    # the three plots end at the readouts
    for name in explorer.CURVES:
        ends = driver.execute_script(
            "const p = document.getElementById(arguments[0]); "
            "return [p.querySelectorAll('.main-svg').length, p.data.map(d => d.y[d.y.length - 1])]",
            f"explorer-plot-{name}",
        )
        assert ends[0] >= 1, f"{name}: no plot drawn"
        assert ends[1][0] == float(fourth["values"][READOUTS[name]][1]), name
        assert ends[1][-1] == float(fourth["values"][REPLACE[name]][1]), name
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"console errors: {errors}"


def test_the_page_s_arithmetic_is_the_library_s(driver, page_url, grid):
    """The detector formula and the choice of grid point, over 2,000 random settings."""
    _open(driver, page_url)
    rng = np.random.default_rng(18)
    s, r, f = (np.round(rng.uniform(0, 1, 2000), 2) for _ in range(3))
    s[:20], r[:20] = 1.0, 1.0  # the filter keeps nothing
    page = driver.execute_script(
        "const e = window.collapseExplorer; return arguments[0].map((_, i) => "
        "e.effectiveRealFraction(arguments[0][i], arguments[1][i], arguments[2][i]))",
        s.tolist(),
        r.tolist(),
        f.tolist(),
    )
    kept = filtering.kept_fraction(s, r, f)
    lam = filtering.effective_real_fraction(s, r, f)
    assert [p["kept"] for p in page] == kept.tolist()
    # WebDriver returns the page's NaN (nothing kept) as None
    assert [np.nan if p["lambda"] is None else p["lambda"] for p in page] == pytest.approx(
        lam, nan_ok=True, rel=0, abs=0
    )
    for i, n in enumerate(grid["n"]):
        xs = np.concatenate([np.asarray(grid["k"][i], float), rng.uniform(0, n, 500)])
        snapped = driver.execute_script(
            "return arguments[1].map(x => window.collapseExplorer.snap(arguments[0], x))",
            grid["k"][i],
            xs.tolist(),
        )
        assert snapped == [explorer.grid_point(n, float(x)) for x in xs], n
