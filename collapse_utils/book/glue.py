"""The notebook side of the book: glue values into the prose, end a figure, set up.

Three helpers keep the machinery out of the reader's way:

- :func:`glue_many` hands many values at once to the prose
  (``{glue:text}`key:.3f```); notebooks call it in a cell tagged
  ``remove-cell``, so the reader of the book sees the argument, not the
  bookkeeping. :func:`glue` hands over one value.
- :func:`show` ends every figure: it saves the PNG and SVG
  (:func:`collapse_utils.book.plotting.save_figure`), glues the figure under the
  same name for ``{glue:figure}``, and closes it.
- :func:`setup` applies the house style (call once in the imports cell).

Two modes, chosen by the environment variable ``COLLAPSE_BUILD``:

- In the build (``COLLAPSE_BUILD`` set, as :mod:`collapse_utils.book.build`
  does), values and figures are stored for the book exactly as myst-nb's
  ``glue(..., display=False)`` stores them, so the book's HTML shows them only
  where the prose names them.
- Everywhere else (a chapter run in JupyterLab, Colab, VS Code, or executed by
  papermill outside the build) nothing is stored: each figure is displayed, and
  the values glued in one cell are displayed as one compact table of key and
  value (an HTML table with a plain-text fallback; floats to 4 significant
  digits, arrays summarised), so a reader who runs a chapter sees the numbers
  the prose quotes. In plain Python, without IPython, nothing is printed.

Explained in the book's page "How to run this book" (``book/how_to_run``).
"""

from __future__ import annotations

import html
import math
import numbers
import os
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["glue", "glue_many", "show", "profile", "setup", "building", "format_value"]

#: The largest number of items of an array or list shown in full in the table.
SHOWN_ITEMS = 6


def building() -> bool:
    """True inside the book's build (``COLLAPSE_BUILD`` set): glue stores for the book.

    Book: {doc}`book/how_to_run`
    """
    return bool(os.environ.get("COLLAPSE_BUILD"))


def glue(name: str, value: Any, display: bool = False) -> None:
    """Glue ``value`` under ``name`` for the book; outside the build, show it.

    In the build (:func:`building`) this is ``myst_nb.glue(name, value,
    display=display)``. Outside it, the value joins the table of values glued in
    the current cell (one table per cell, however many calls; see
    :func:`glue_many`).

    Book: {doc}`book/how_to_run`
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"glue names must be non-empty strings; got {name!r}")
    if building():
        from myst_nb import glue as myst_glue

        myst_glue(name, value, display=display)
        return
    _show_values({name: value})


def glue_many(values: Mapping[str, Any]) -> None:
    """Glue every ``{name: value}`` of ``values`` (see :func:`glue`), in order.

    Names must be non-empty strings; the message names the first bad one.
    Outside the build the values are displayed as one table (key, value).

    Book: {doc}`book/how_to_run`
    """
    if not isinstance(values, Mapping):
        raise ValueError(f"values must be a mapping of glue names to values; got {type(values).__name__}")
    for name in values:
        if not isinstance(name, str) or not name:
            raise ValueError(f"glue names must be non-empty strings; got {name!r}")
    if building():
        for name, value in values.items():
            glue(name, value)
        return
    _show_values(dict(values))


def _format_number(value) -> str:
    if isinstance(value, (bool, numbers.Integral)):
        return str(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    if isinstance(value, numbers.Complex):
        return f"{complex(value):.4g}"
    return str(value)


def _summary(values, kind: str) -> str:
    """Up to SHOWN_ITEMS items in full, else the size, min, mean and max."""
    import numpy as np

    items = list(values)
    if len(items) <= SHOWN_ITEMS:
        return f"[{', '.join(format_value(v) for v in items)}]"
    try:
        arr = np.asarray(items, dtype=float)
    except (TypeError, ValueError):
        shown = ", ".join(format_value(v) for v in items[:3])
        return f"{kind} of {len(items)}: [{shown}, ...]"
    return (f"{kind} of {len(items)}: min {_format_number(np.nanmin(arr))}, "
            f"mean {_format_number(np.nanmean(arr))}, max {_format_number(np.nanmax(arr))}")


def format_value(value: Any) -> str:
    """``value`` as the table of glued values shows it (short and readable).

    Numbers (numpy's too) with floats to 4 significant digits; strings as they
    are (cut at 80 characters); arrays and lists in full up to
    :data:`SHOWN_ITEMS` items, else their size, min, mean and max; anything else
    by its ``repr``, cut at 80 characters.

    Book: {doc}`book/how_to_run`
    """
    import numpy as np

    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return format_value(value.item())
        if value.ndim == 1 and value.dtype.kind in "biuf":
            return _summary(value.tolist(), "array")
        return f"{value.dtype} array of shape {value.shape}"
    if isinstance(value, np.generic):
        return format_value(value.item())
    if isinstance(value, numbers.Number):
        return _format_number(value)
    if isinstance(value, str):
        text = value
    elif isinstance(value, (list, tuple)):
        return _summary(value, type(value).__name__)
    elif hasattr(value, "shape") and not callable(value.shape):  # a DataFrame, a tensor
        return f"{type(value).__name__} of shape {tuple(value.shape)}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:79] + "…"


def _bundle(values: Mapping[str, Any]) -> dict[str, str]:
    """The table of ``values`` as ``text/plain`` ("key  value" lines) and ``text/html``."""
    shown = {name: format_value(value) for name, value in values.items()}
    width = max(len(name) for name in shown)
    plain = "\n".join(f"{name:<{width}}  {text}" for name, text in shown.items())
    rows = "".join(
        f'<tr><td style="text-align:left"><code>{html.escape(name)}</code></td>'
        f'<td style="text-align:left">{html.escape(text)}</td></tr>'
        for name, text in shown.items()
    )
    table = (
        '<table class="collapse-glue">'
        '<thead><tr><th style="text-align:left">key</th>'
        '<th style="text-align:left">value</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
    return {"text/plain": plain, "text/html": table}


# The table of the cell being run: the cell's execution count, the display id
# and the values glued so far in that cell.
_table: dict[str, Any] = {"cell": None, "display_id": None, "values": {}}


def _show_values(values: Mapping[str, Any]) -> None:
    """Display ``values`` as a table; values glued later in the same cell join it."""
    if not values:
        return
    try:
        from IPython.core.interactiveshell import InteractiveShell
        from IPython.display import display, update_display
    except ImportError:  # plain Python without IPython: nothing to show it in
        return
    if not InteractiveShell.initialized():  # plain Python: no front end, print nothing
        return
    cell = InteractiveShell.instance().execution_count
    if _table["display_id"] is not None and _table["cell"] == cell:
        _table["values"].update(values)
        update_display(_bundle(_table["values"]), raw=True, display_id=_table["display_id"])
        return
    _table.update(cell=cell, display_id=uuid.uuid4().hex, values=dict(values))
    display(_bundle(_table["values"]), raw=True, display_id=_table["display_id"])


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
    if building():
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
