"""The notebook side of the book build: glue values into the prose, end a figure, set up.

Three helpers keep the machinery out of the reader's way:

- :func:`glue_many` stores many values at once for the prose
  (``{glue:text}`key:.3f```); notebooks call it in a cell tagged
  ``remove-cell``, so the reader sees the argument, not the bookkeeping.
- :func:`show` ends every figure: it saves the PNG and SVG
  (:func:`collapse_utils.book.plotting.save_figure`), glues the figure under the
  same name for ``{glue:figure}``, and closes it.
- :func:`setup` applies the house style (call once in the imports cell).

With myst-nb installed the values are stored for the book; without it (Colab,
say) they are simply displayed, so notebooks run anywhere. Explained in the
book's page "How to run this book" (``book/how_to_run``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["glue", "glue_many", "show", "profile", "setup"]


def glue(name: str, value: Any, display: bool = False) -> None:
    """Glue ``value`` under ``name`` for the book; shown in place if myst-nb is absent."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # outside the book's environment: just show the value
        from IPython.display import display as show_value

        show_value(value)
        return
    myst_glue(name, value, display=display)


def glue_many(values: Mapping[str, Any]) -> None:
    """Glue every ``{name: value}`` of ``values`` (see :func:`glue`), in order.

    Names must be non-empty strings; the message names the first bad one.
    """
    if not isinstance(values, Mapping):
        raise ValueError(f"values must be a mapping of glue names to values; got {type(values).__name__}")
    for name in values:
        if not isinstance(name, str) or not name:
            raise ValueError(f"glue names must be non-empty strings; got {name!r}")
    for name, value in values.items():
        glue(name, value)


def show(fig, name: str, *, glue_as: str | None = None) -> None:
    """End a figure: save it as ``<name>.png`` and ``.svg``, glue it, close it.

    The figure is glued under ``glue_as`` (default: ``name`` with ``_`` turned
    into ``-``), the key a ``{glue:figure}`` directive names, as a sharp PNG: twice
    the figure's dpi, shown at half its pixel width (``width`` in the output's
    metadata, which myst-nb copies into the ``<img>``). The manifest
    ``<name>.json`` beside the saved figure records the glue key and that PNG
    (:func:`collapse_utils.book.plotting.write_manifest`). Outside the build
    (``COLLAPSE_BUILD`` unset) the same image is simply displayed (in plain
    Python, without IPython, there is nothing to display it in: it is only saved).
    """
    import base64

    import matplotlib.pyplot as plt
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display

    from collapse_utils.book.plotting import glue_png, save_figure, write_manifest

    key = glue_as or name.replace("_", "-")
    save_figure(fig, name)
    png, fields = glue_png(fig)
    bundle = {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": repr(fig)}
    metadata = {"image/png": {"width": fields["css_width_px"]}}
    if os.environ.get("COLLAPSE_BUILD"):
        # stored as myst-nb's glue stores it (myst_nb.glue with display=False)
        prefix = "application/papermill.record/"
        bundle = {prefix + mime: data for mime, data in bundle.items()}
        metadata["scrapbook"] = {"name": key, "mime_prefix": prefix}
    if InteractiveShell.initialized():  # else display would print the base64 text
        display(bundle, raw=True, metadata=metadata)
    write_manifest(name, glue=key, **fields)
    plt.close(fig)


def profile() -> str:
    """The profile the notebook runs under (``book`` when run by hand)."""
    return os.environ.get("COLLAPSE_PROFILE", "book")


def setup() -> None:
    """Apply the house plotting style (call once in the imports cell)."""
    from collapse_utils.book.plotting import use_house_style

    use_house_style()
