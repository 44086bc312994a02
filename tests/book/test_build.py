"""The execution pipeline: every notebook runs under the smoke profile and the book
builds from those executions with warnings as errors."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

from collapse_utils.book import build, params
from collapse_utils.book.build import BuildError, toc_notebooks

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["book/intro", "book/how_to_run", "book/notation", "book/bibliography"] + [
    f"notebooks/{nb.stem}" for nb in toc_notebooks(ROOT)
]

pytestmark = pytest.mark.build


def test_every_page_is_built(smoke_build):
    html = smoke_build / "html"
    assert (html / "index.html").exists()
    for page in PAGES:
        assert (html / f"{page}.html").exists(), page


def injected_values(source: str) -> dict:
    """The ``name = value`` lines papermill writes into the injected-parameters cell."""
    tree = ast.parse(source)
    return {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)}


def test_every_notebook_executed_with_outputs_in_the_staged_copy(smoke_build):
    report = json.loads((smoke_build / "build-report.json").read_text())
    smoke = params.profile("smoke", ROOT)
    assert [r["notebook"] for r in report["notebooks"]] == [nb.stem for nb in toc_notebooks(ROOT)]
    for r in report["notebooks"]:
        assert r["seconds"] > 0 and r["peak_mb"] > 0
        executed = nbformat.read(smoke_build / "source" / "notebooks" / f"{r['notebook']}.ipynb", as_version=4)
        injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1 and "Parameters" in injected[0].source
        # papermill injected the smoke values: the parameters cell's values and the profile's changes
        assert injected_values(injected[0].source) == smoke[r["notebook"]]
        assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    log = (smoke_build / "smoke-build.log").read_text()
    assert "wall time" in log and "peak memory" in log


def test_figures_are_saved_as_png_and_svg(smoke_build):
    figures = smoke_build / "figures"
    pngs = {p.stem for p in figures.glob("*.png")}
    assert {"intro_telephone", "01_policies_variance", "01_policies_histograms"} <= pngs
    assert pngs == {p.stem for p in figures.glob("*.svg")}


def test_glued_numbers_are_rendered(smoke_build):
    for page in PAGES:
        text = (smoke_build / "html" / f"{page}.html").read_text()
        # code may show the role's syntax (the how-to-run page explains it); prose may not
        prose = re.sub(r"<(code|pre)\b.*?</\1>", " ", text, flags=re.S)
        assert "{glue" not in prose, page
    intro = (smoke_build / "html" / "book" / "intro.html").read_text()
    assert re.search(r"shows\s*<span[^>]*>\s*<span[^>]*>4</span>", intro) or ">4<" in intro


def test_launch_and_download_buttons_point_at_the_repository(smoke_build):
    page = (smoke_build / "html" / "notebooks" / "01_retraining_loop.html").read_text()
    repo = "model-collapse-book/model-collapse"
    assert f"https://colab.research.google.com/github/{repo}/blob/main/notebooks/01_retraining_loop.ipynb" in page
    assert f"https://mybinder.org/v2/gh/{repo}/main?urlpath=tree/notebooks/01_retraining_loop.ipynb" in page
    assert f"https://github.com/{repo}/issues" in page
    assert "_sources/notebooks/01_retraining_loop.ipynb" in page  # download button
    assert (smoke_build / "html" / "_sources" / "notebooks" / "01_retraining_loop.ipynb").exists()


def test_failing_cell_stops_with_notebook_cell_and_traceback(tmp_path):
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [new_code_cell("x = 1"), new_code_cell("n = 3"), new_code_cell("y = 2"),
             new_code_cell("raise RuntimeError('boom at ' + str(n))")]
    cells[1].metadata["tags"] = ["parameters"]
    source = tmp_path / "broken.ipynb"
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}), source)
    with pytest.raises(BuildError) as err:
        build.execute(source, tmp_path / "out.ipynb", {"n": 5}, timeout=120)
    message = str(err.value)
    assert message.startswith("broken: cell 3 ")
    assert "RuntimeError: boom at 5" in message
    assert "Traceback" in message or "raise RuntimeError" in message


CHAPTERS = [nb.stem for nb in toc_notebooks(ROOT)]


def test_injected_parameters_cell_is_not_shown(smoke_build):
    """papermill's injected-parameters cell is tagged remove-cell in the staged copy,
    so no chapter page shows its "# Parameters" cell."""
    for stem in CHAPTERS:
        executed = json.loads((smoke_build / "source" / "notebooks" / f"{stem}.ipynb").read_text())
        [injected] = [c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        assert "remove-cell" in injected["metadata"]["tags"], stem
        page = (smoke_build / "html" / "notebooks" / f"{stem}.html").read_text()
        assert "# Parameters" not in page, stem


def test_downloaded_notebooks_show_glued_figures_and_values(smoke_build):
    """The .ipynb of the download button holds each glued output also as plain mime
    data (image/png with its width, text/plain), which Jupyter displays."""
    prefix = "application/papermill.record/"
    images = {}
    for stem in CHAPTERS:
        nb = nbformat.read(smoke_build / "html" / "_sources" / "notebooks" / f"{stem}.ipynb", as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "data" in o]
        for output in outputs:
            glued = [k[len(prefix):] for k in output.data if k.startswith(prefix)]
            for mime in glued:
                assert output.data[mime] == output.data[prefix + mime], (stem, mime)
        images[stem] = [o for o in outputs if "image/png" in o.data]
        for output in images[stem]:
            assert output.metadata["image/png"]["width"] > 0
    assert len(images["01_retraining_loop"]) >= 3  # its three figures
    # the staged notebooks (what the HTML is built from) keep the glued data only
    staged = nbformat.read(smoke_build / "source" / "notebooks" / "01_retraining_loop.ipynb", as_version=4)
    assert not any("image/png" in o.get("data", {}) for c in staged.cells if c.cell_type == "code" for o in c.outputs)


def test_glued_figures_are_sharp_with_a_manifest(smoke_build):
    """Each figure of a chapter is its glued PNG, twice as many pixels as the CSS width
    the <img> gets, and has a manifest (found by the PNG's sha256) that says so."""
    from PIL import Image

    manifests = {}
    for path in (smoke_build / "figures").glob("*.json"):
        manifest = json.loads(path.read_text())
        manifests[manifest["png_sha256"]] = manifest
    seen = 0
    for stem in CHAPTERS:
        page = (smoke_build / "html" / "notebooks" / f"{stem}.html").read_text()
        for sha, style in re.findall(r'<img [^>]*src="\.\./_images/([0-9a-f]{64})\.png"([^>]*)>', page):
            manifest = manifests[sha]
            width = Image.open(smoke_build / "html" / "_images" / f"{sha}.png").size[0]
            assert width == manifest["natural_width_px"] and manifest["css_width_px"] == width // 2
            assert f'style="width: {width // 2}px;"' in style, (stem, manifest["name"])
            assert manifest["dpi"] == 200 and 6 <= manifest["min_font_pt"] <= 12
            seen += 1
    assert seen >= 20
