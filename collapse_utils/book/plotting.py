"""House style and the one helper that saves every figure of the book.

:func:`save_figure` writes a PNG and an SVG into the figures folder,
:func:`figures_dir`: ``$COLLAPSE_FIGURES_DIR`` (the build sets it to
``_build/figures``), else ``~/.cache/collapse_utils/figures`` (said once, the
first time a figure is saved). Backgrounds are opaque white, so figures stay
readable in dark mode, and no timestamp or random id is written, so the same
figure gives the same bytes.

Beside each figure, ``<name>.json`` is its manifest (:func:`write_manifest`):
the smallest font of its text, in points, and the pixels per inch of the saved
PNG and of the PNG glued into the book (:func:`glue_png`, twice the figure's
dpi, shown at half its pixel width), so a test can compute how large the text
is on screen. (Chapter: "How to run this book".)
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import struct
from pathlib import Path

import matplotlib as mpl

FIGURES_ENV = "COLLAPSE_FIGURES_DIR"

#: Where figures go outside the build (beside the cache, ``collapse_utils.cache``).
DEFAULT_FIGURES_DIR = Path("~/.cache/collapse_utils/figures")

_announced: set[Path] = set()

#: Colours of the data policies, the same in every chapter.
POLICY_COLORS = {
    "replace": "#c0392b",
    "mix": "#2e86c1",
    "mix_fixed": "#7d3c98",
    "accumulate": "#1e8449",
    "accumulate_subsample": "#d68910",
}

HOUSE_STYLE = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "font.size": 10,
    "svg.hashsalt": "model-collapse-book",
    "svg.fonttype": "path",
}


def use_house_style() -> None:
    """Apply the book's matplotlib style (white, opaque, light grid)."""
    mpl.rcParams.update(HOUSE_STYLE)


def figures_dir() -> Path:
    """The folder figures are saved to (created if missing).

    ``$COLLAPSE_FIGURES_DIR`` if set (the build sets it), else
    ``~/.cache/collapse_utils/figures``; the first time a figure goes there, one
    line says where and how to change it.

    Book: {doc}`book/how_to_run`
    """
    env = os.environ.get(FIGURES_ENV)
    path = Path(env) if env else DEFAULT_FIGURES_DIR.expanduser()
    if not env and path not in _announced:
        _announced.add(path)
        print(f"collapse_utils: figures are saved to {path} (set {FIGURES_ENV} to change)")
    path.mkdir(parents=True, exist_ok=True)
    return path


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels of a PNG, read from its header.

    Book: {doc}`book/how_to_run`
    """
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", png[16:24])


@contextlib.contextmanager
def _recording_fonts(sizes: list[float]):
    """Record the font size of every Text artist drawn meanwhile (visible, not empty)."""
    from matplotlib.text import Text

    draw = Text.draw

    def spy(self, renderer):
        if self.get_visible() and self.get_text():
            sizes.append(float(self.get_fontsize()))
        return draw(self, renderer)

    Text.draw = spy
    try:
        yield sizes
    finally:
        Text.draw = draw


def _png(fig, dpi: float, sizes: list[float] | None = None) -> bytes:
    """``fig`` as PNG bytes at ``dpi``, as :func:`save_figure` writes it."""
    buffer = io.BytesIO()
    with _recording_fonts(sizes if sizes is not None else []):
        fig.savefig(buffer, **_savefig_options("png"), dpi=dpi)
    return buffer.getvalue()


def _savefig_options(fmt: str) -> dict:
    """White, opaque, tight, and no timestamp or software name (same figure, same bytes)."""
    metadata = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    }
    return {"format": fmt, "facecolor": "white", "transparent": False,
            "bbox_inches": "tight", "metadata": metadata[fmt]}


def saved_dpi(fig) -> float:
    """The pixels per inch :func:`save_figure` gives the PNG (``savefig.dpi``).

    Book: {doc}`book/how_to_run`
    """
    dpi = mpl.rcParams["savefig.dpi"]
    return float(fig.dpi if dpi == "figure" else dpi)


def glue_png(fig) -> tuple[bytes, dict]:
    """The PNG glued into the book and its manifest fields.

    Rendered at twice the figure's dpi and meant to be shown at half its pixel
    width (what IPython's ``retina`` format does), so it stays sharp on any
    screen. Returns the PNG bytes and ``{"png_sha256", "natural_width_px",
    "css_width_px", "dpi", "min_font_pt"}``; myst-nb names the HTML image
    ``_images/<png_sha256>.png``.

    Book: {doc}`book/how_to_run`
    """
    dpi = 2 * float(fig.dpi)
    sizes: list[float] = []
    png = _png(fig, dpi, sizes)
    width, _ = png_size(png)
    return png, {
        "png_sha256": hashlib.sha256(png).hexdigest(),
        "natural_width_px": width,
        "css_width_px": width // 2,
        "dpi": dpi,
        "min_font_pt": min(sizes) if sizes else None,
    }


def write_manifest(name: str, **fields) -> Path:
    """Update ``<figures dir>/<name>.json`` with ``fields`` (a figure's manifest).

    The manifest of a figure saved by :func:`save_figure` holds ``name``,
    ``min_font_pt`` and ``saved_png`` (``dpi``, ``natural_width_px``); one glued
    by :func:`collapse_utils.book.glue.show` adds ``glue``, ``png_sha256``,
    ``natural_width_px``, ``css_width_px`` and ``dpi`` of the glued PNG (``None``
    until glued).

    Book: {doc}`book/how_to_run`
    """
    path = figures_dir() / f"{name}.json"
    manifest = {"name": name, "glue": None, "png_sha256": None, "natural_width_px": None,
                "css_width_px": None, "dpi": None, "min_font_pt": None,
                "notebook": os.environ.get("COLLAPSE_NOTEBOOK")}  # set by the build: who drew it
    if path.exists():
        manifest |= json.loads(path.read_text())
    manifest |= fields
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


def save_figure(fig, name: str, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    """Save ``fig`` as ``<figures dir>/<name>.<fmt>`` for each format; return the paths.

    ``name`` may contain only letters, digits, ``-`` and ``_``. Also writes the
    figure's manifest ``<name>.json`` (:func:`write_manifest`).

    Book: {doc}`book/how_to_run`
    """
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"figure name must use only letters, digits, '-' and '_'; got {name!r}")
    allowed = {"png", "svg", "pdf"}
    bad = [f for f in formats if f not in allowed]
    if bad:
        raise ValueError(f"formats must be among {sorted(allowed)}; got {bad}")
    paths = []
    dpi = saved_dpi(fig)
    fields: dict = {}
    with mpl.rc_context({"svg.hashsalt": HOUSE_STYLE["svg.hashsalt"]}):
        for fmt in formats:
            path = figures_dir() / f"{name}.{fmt}"
            if fmt == "png":
                sizes: list[float] = []
                png = _png(fig, dpi, sizes)
                path.write_bytes(png)
                fields = {"min_font_pt": min(sizes) if sizes else None,
                          "saved_png": {"dpi": dpi, "natural_width_px": png_size(png)[0]}}
            else:
                fig.savefig(path, **_savefig_options(fmt), dpi=dpi)
            paths.append(path)
    write_manifest(name, **fields)
    return paths
