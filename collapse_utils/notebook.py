"""Small helpers every chapter notebook uses: glue numbers into the prose, set up.

:func:`glue` stores a value for the prose (``{glue:text}`key:.3f```) with
myst-nb when it is installed, and simply displays it otherwise (on Colab, say),
so notebooks run anywhere. :func:`setup` applies the house style.
(Chapter: "How to run this book".)
"""

from __future__ import annotations

import os
from typing import Any


def glue(name: str, value: Any, display: bool = False) -> None:
    """Glue ``value`` under ``name`` for the book; shown in place if myst-nb is absent."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # outside the book's environment: just show the value
        from IPython.display import display as show

        show(value)
        return
    myst_glue(name, value, display=display)


def profile() -> str:
    """The profile the notebook runs under (``book`` when run by hand)."""
    return os.environ.get("COLLAPSE_PROFILE", "book")


def setup() -> None:
    """Apply the house plotting style (call once in the imports cell)."""
    from collapse_utils.plotting import use_house_style

    use_house_style()
