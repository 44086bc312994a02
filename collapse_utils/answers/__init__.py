"""Numeric answers of the book's exercises, computed by code (every chapter).

Each chapter's answers live in ``collapse_utils/answers/chNN.py``: one function
per exercise, registered with :func:`answer` under the exercise's label and
returning a dict of named numbers (the givens of the statement and the results
of the solution). The chapter glues them with :func:`glue_answers`, so the
statement and its solution read ``{glue:text}`ans-<label>--<name>:.3f```, and
``tests/test_answers_chNN.py`` checks every number by an independent route (a
simulation, a library routine or brute force). A wrong solution fails CI.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Callable

import numpy as np

from collapse_utils.checks import check_choice

Answer = dict[str, float]

_REGISTRY: dict[str, Callable[[], Answer]] = {}


def chapters() -> list[str]:
    """The chapters (``"01"``, ``"02"``, ...) that have an answers module."""
    import collapse_utils.answers as package

    return sorted(
        name[2:] for _, name, _ in pkgutil.iter_modules(package.__path__) if name.startswith("ch")
    )


def _load(chapter: str) -> None:
    check_choice("chapter", chapter, chapters())
    importlib.import_module(f"collapse_utils.answers.ch{chapter}")


def answer(label: str) -> Callable[[Callable[[], Answer]], Callable[[], Answer]]:
    """Register the decorated function as the answer of exercise ``label``."""
    if not (isinstance(label, str) and label.startswith("ex-")):
        raise ValueError(f"label must be an exercise label starting with 'ex-'; got {label!r}")

    def register(function: Callable[[], Answer]) -> Callable[[], Answer]:
        if label in _REGISTRY and _REGISTRY[label] is not function:
            raise ValueError(f"label {label!r} is registered twice")
        _REGISTRY[label] = function
        return function

    return register


def labels(chapter: str | None = None) -> list[str]:
    """Labels of the exercises with numeric answers (of one chapter, or all)."""
    for each in [chapter] if chapter is not None else chapters():
        _load(each)
    if chapter is None:
        return sorted(_REGISTRY)
    return sorted(label for label in _REGISTRY if label.startswith(f"ex-{chapter}-"))


def solve(label: str) -> Answer:
    """The named numbers of exercise ``label``'s answer (all finite)."""
    parts = label.split("-") if isinstance(label, str) else []
    if len(parts) < 3 or parts[0] != "ex" or parts[1] not in chapters():
        raise ValueError(
            f"label must look like 'ex-<chapter>-<name>' with chapter in {chapters()}; got {label!r}"
        )
    check_choice("label", label, labels(parts[1]))
    values = _REGISTRY[label]()
    for name, value in values.items():
        if not (isinstance(name, str) and name and "-" not in name.replace("_", "")):
            raise ValueError(f"answer names of {label!r} must be words (no '-'); got {name!r}")
        if not math.isfinite(float(value)):
            raise ValueError(f"answer {name!r} of {label!r} is not finite: {value!r}")
    return values


def glue_key(label: str, name: str) -> str:
    """The glue key of answer ``name`` of exercise ``label``: ``ans-<label>--<name>``."""
    return f"ans-{label}--{name}"


def glue_answers(chapter: str) -> None:
    """Glue every answer of ``chapter`` (call it in the chapter's notebook).

    Returns nothing, so that a notebook run outside the build shows the table of
    glued answers (:func:`collapse_utils.book.glue.glue`) and not also a dict.
    """
    from collapse_utils.book.glue import glue

    for label in labels(chapter):
        for name, value in solve(label).items():
            value = value.item() if isinstance(value, np.generic) else value
            glue(glue_key(label, name), value)
