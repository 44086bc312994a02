"""The figure helper: PNG + SVG, opaque, byte-for-byte reproducible."""

from __future__ import annotations

import base64
import hashlib
import io
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from collapse_utils.book.plotting import save_figure, use_house_style  # noqa: E402


def _figure(seed):
    use_house_style()
    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots()
    ax.hist(rng.normal(size=500), bins=30)
    ax.set_title("test")
    return fig


def test_same_figure_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("COLLAPSE_FIGURES_DIR", str(tmp_path / "a"))
    first = [p.read_bytes() for p in save_figure(_figure(0), "fig")]
    monkeypatch.setenv("COLLAPSE_FIGURES_DIR", str(tmp_path / "b"))
    second = [p.read_bytes() for p in save_figure(_figure(0), "fig")]
    assert first == second
    monkeypatch.setenv("COLLAPSE_FIGURES_DIR", str(tmp_path / "c"))
    third = [p.read_bytes() for p in save_figure(_figure(1), "fig")]
    assert third[0] != first[0]
    assert b"<dc:date>" not in first[1]


def test_png_and_svg_with_opaque_background(tmp_path, monkeypatch):
    monkeypatch.setenv("COLLAPSE_FIGURES_DIR", str(tmp_path))
    paths = save_figure(_figure(0), "opaque")
    assert [p.name for p in paths] == ["opaque.png", "opaque.svg"]
    image = np.asarray(Image.open(paths[0]).convert("RGBA"))
    assert image[..., 3].min() == 255  # no transparent pixel
    assert tuple(image[0, 0, :3]) == (255, 255, 255)  # white corner
    assert paths[1].read_text().lstrip().startswith("<?xml")


def test_bad_names_and_formats(tmp_path, monkeypatch):
    monkeypatch.setenv("COLLAPSE_FIGURES_DIR", str(tmp_path))
    fig = _figure(0)
    with pytest.raises(ValueError, match="figure name must use only"):
        save_figure(fig, "../escape")
    with pytest.raises(ValueError, match="formats must be among"):
        save_figure(fig, "ok", formats=("gif",))


def _small_figure():
    """A small figure whose smallest visible text is 7 pt (invisible and empty texts are smaller)."""
    use_house_style()
    fig, (ax, hidden) = plt.subplots(1, 2, figsize=(4, 2.5))
    ax.plot([0, 1], [0, 1], label="line")
    ax.legend(fontsize=8)
    ax.set_title("title", fontsize=12)
    ax.tick_params(labelsize=7)
    ax.text(0.5, 0.5, "not drawn", fontsize=4, visible=False)
    ax.text(0.2, 0.2, "", fontsize=3)
    hidden.tick_params(labelsize=5)
    hidden.axis("off")  # its tick labels are not drawn
    return fig


@pytest.fixture
def displayed(monkeypatch):
    """What ``IPython.display.display`` was given: (bundle, metadata) per call."""
    import IPython.display
    from IPython.core.interactiveshell import InteractiveShell

    calls = []
    monkeypatch.setattr(InteractiveShell, "initialized", classmethod(lambda cls: True))
    monkeypatch.setattr(IPython.display, "display",
                        lambda bundle, raw, metadata: calls.append((bundle, metadata)) if raw else None)
    return calls


def test_show_glues_a_sharp_png_and_writes_its_manifest(tmp_path, monkeypatch, displayed):
    from collapse_utils.book.glue import show

    monkeypatch.setenv("COLLAPSE_FIGURES_DIR", str(tmp_path))
    monkeypatch.setenv("COLLAPSE_BUILD", "1")
    fig = _small_figure()
    show(fig, "small_fig")
    assert not plt.fignum_exists(fig.number)
    [(bundle, metadata)] = displayed
    prefix = "application/papermill.record/"
    # stored as myst-nb's glue stores it, under the key {glue:figure} names
    assert set(bundle) == {prefix + "image/png", prefix + "text/plain"}
    assert metadata["scrapbook"] == {"name": "small-fig", "mime_prefix": prefix}
    png = base64.b64decode(bundle[prefix + "image/png"])
    width = Image.open(io.BytesIO(png)).size[0]
    manifest = json.loads((tmp_path / "small_fig.json").read_text())
    saved_width = Image.open(tmp_path / "small_fig.png").size[0]
    assert manifest == {
        "name": "small_fig",
        "glue": "small-fig",
        "png_sha256": hashlib.sha256(png).hexdigest(),  # myst-nb's _images/<sha256>.png
        "natural_width_px": width,
        "css_width_px": width // 2,
        "dpi": 200.0,
        "min_font_pt": 7.0,
        "saved_png": {"dpi": 150.0, "natural_width_px": saved_width},
        "notebook": None,  # the build sets COLLAPSE_NOTEBOOK; a figure drawn outside it has no owner
    }
    # twice the pixels, shown at the 1x width (the <img> gets it from this metadata)
    assert metadata["image/png"] == {"width": width // 2}
    assert abs(width - 2 * 100 * 4) < 0.2 * 800  # about 4 in at 2 x 100 dpi (tight box)
    assert abs(saved_width / width - 150 / 200) < 0.02


def test_show_outside_the_build_displays_the_image(tmp_path, monkeypatch, displayed):
    from collapse_utils.book.glue import show

    monkeypatch.setenv("COLLAPSE_FIGURES_DIR", str(tmp_path))
    monkeypatch.delenv("COLLAPSE_BUILD", raising=False)
    show(_small_figure(), "plain")
    [(bundle, metadata)] = displayed
    assert set(bundle) == {"image/png", "text/plain"} and "scrapbook" not in metadata
    sha = hashlib.sha256(base64.b64decode(bundle["image/png"])).hexdigest()
    assert json.loads((tmp_path / "plain.json").read_text())["png_sha256"] == sha


def test_figures_go_to_the_user_cache_outside_the_build_and_it_is_said_once(tmp_path, monkeypatch, capsys):
    from collapse_utils.book import plotting

    monkeypatch.delenv("COLLAPSE_FIGURES_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(plotting, "_announced", set(), raising=False)
    monkeypatch.chdir(tmp_path)
    fig = _figure(0)
    first = save_figure(fig, "where")
    save_figure(fig, "again")
    expected = tmp_path / "home" / ".cache" / "collapse_utils" / "figures"
    assert first[0] == expected / "where.png" and (expected / "again.svg").exists()
    assert not (tmp_path / "_build").exists()
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"collapse_utils: figures are saved to {expected} (set COLLAPSE_FIGURES_DIR to change)"]
    monkeypatch.setenv("COLLAPSE_FIGURES_DIR", str(tmp_path / "set"))
    assert plotting.figures_dir() == tmp_path / "set"
    assert capsys.readouterr().out == ""


def test_show_in_plain_python_saves_without_printing_the_image(tmp_path, monkeypatch, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    from collapse_utils.book.glue import show

    monkeypatch.setenv("COLLAPSE_FIGURES_DIR", str(tmp_path))
    monkeypatch.delenv("COLLAPSE_BUILD", raising=False)
    monkeypatch.setattr(InteractiveShell, "initialized", classmethod(lambda cls: False))
    show(_small_figure(), "script")
    assert capsys.readouterr().out == ""  # not the PNG's base64 text
    assert (tmp_path / "script.png").exists() and (tmp_path / "script.json").exists()
