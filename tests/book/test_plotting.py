"""The figure helper: PNG + SVG, opaque, byte-for-byte reproducible."""

from __future__ import annotations

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
