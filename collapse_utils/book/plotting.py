"""House style and the one helper that saves every figure of the book.

:func:`save_figure` writes a PNG and an SVG into the figures folder, set by the
environment variable ``COLLAPSE_FIGURES_DIR`` (default ``_build/figures`` under
the current directory). Backgrounds are opaque white, so figures stay readable
in dark mode, and no timestamp or random id is written, so the same figure gives
the same bytes. (Chapter: "How to run this book".)
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib as mpl

FIGURES_ENV = "COLLAPSE_FIGURES_DIR"

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
    """The folder figures are saved to (created if missing)."""
    path = Path(os.environ.get(FIGURES_ENV, Path("_build") / "figures"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(fig, name: str, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    """Save ``fig`` as ``<figures dir>/<name>.<fmt>`` for each format; return the paths.

    ``name`` may contain only letters, digits, ``-`` and ``_``.
    """
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"figure name must use only letters, digits, '-' and '_'; got {name!r}")
    allowed = {"png", "svg", "pdf"}
    bad = [f for f in formats if f not in allowed]
    if bad:
        raise ValueError(f"formats must be among {sorted(allowed)}; got {bad}")
    metadata = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    }
    paths = []
    with mpl.rc_context({"svg.hashsalt": HOUSE_STYLE["svg.hashsalt"]}):
        for fmt in formats:
            path = figures_dir() / f"{name}.{fmt}"
            fig.savefig(
                path,
                format=fmt,
                facecolor="white",
                transparent=False,
                bbox_inches="tight",
                metadata=metadata[fmt],
            )
            paths.append(path)
    return paths
