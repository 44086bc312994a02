"""Notebook parameters: declared types and ranges, checked before anything runs.

Every chapter notebook has one cell tagged ``parameters``. Its names, types and
allowed values are declared in :mod:`collapse_utils.book.profiles` together with the
values each named profile (``smoke``, ``book``, ``paper``) gives them. This module
checks a set of values against those declarations; the build calls it before it
executes any notebook, and every notebook calls :func:`check` right after its
parameters cell so that a reader who edits a value by hand gets the same clear
message. (Chapter: "How to run this book".)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ParameterError(ValueError):
    """A notebook parameter, a profile or a notebook name is not allowed."""


@dataclass(frozen=True)
class Param:
    """Declaration of one notebook parameter.

    ``kind`` is ``int``, ``float``, ``bool`` or ``str``. ``low``/``high`` bound
    numbers (inclusive); ``choices`` lists the allowed values of a string.
    """

    kind: type
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    doc: str = ""

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        name = self.kind.__name__
        if self.low is not None and self.high is not None:
            return f"{name} in [{self.low}, {self.high}]"
        if self.low is not None:
            return f"{name} >= {self.low}"
        if self.high is not None:
            return f"{name} <= {self.high}"
        return name

    def problem(self, value: Any) -> str | None:
        """Return why ``value`` is not allowed, or ``None`` if it is."""
        if self.kind is bool:
            ok_type = isinstance(value, bool)
        elif self.kind is int:
            ok_type = isinstance(value, int) and not isinstance(value, bool)
        elif self.kind is float:
            ok_type = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok_type = ok_type and math.isfinite(value)
        else:
            ok_type = isinstance(value, self.kind)
        if not ok_type:
            return f"wrong type {type(value).__name__}"
        if self.choices is not None and value not in self.choices:
            return "not an allowed value"
        if self.low is not None and value < self.low:
            return "below the allowed range"
        if self.high is not None and value > self.high:
            return "above the allowed range"
        return None


def _specs(notebook: str) -> Mapping[str, Param]:
    from collapse_utils.book.profiles import NOTEBOOKS

    if notebook not in NOTEBOOKS:
        raise ParameterError(
            f"unknown notebook {notebook!r}; known notebooks: {', '.join(sorted(NOTEBOOKS))}"
        )
    return NOTEBOOKS[notebook]


def check(notebook: str, **values: Any) -> dict[str, Any]:
    """Check parameter values of ``notebook``; raise :class:`ParameterError` if any is bad.

    Every declared name must be given and no other. The message names the
    notebook, the parameter, the value and what is allowed. Returns the values.
    """
    specs = _specs(notebook)
    problems = []
    for name, value in values.items():
        if name not in specs:
            problems.append(
                f"{notebook}: unknown parameter {name!r} = {value!r}; "
                f"known parameters: {', '.join(specs)}"
            )
            continue
        why = specs[name].problem(value)
        if why:
            problems.append(
                f"{notebook}: parameter {name!r} = {value!r} is {why}; "
                f"allowed: {specs[name].allowed()}"
            )
    missing = [name for name in specs if name not in values]
    if missing:
        problems.append(f"{notebook}: missing parameter(s) {', '.join(missing)}")
    if problems:
        raise ParameterError("\n".join(problems))
    return dict(values)


def profile_names() -> list[str]:
    """The known profile names."""
    from collapse_utils.book.profiles import PROFILES

    return list(PROFILES)


def profile(name: str) -> dict[str, dict[str, Any]]:
    """The parameters each notebook gets under profile ``name`` (defaults filled in).

    A profile lists, per notebook, only the values that differ from the
    notebook's defaults (the ``book`` values, which are also what the
    ``parameters`` cell holds).
    """
    from collapse_utils.book.profiles import DEFAULTS, PROFILES

    if name not in PROFILES:
        raise ParameterError(
            f"unknown profile {name!r}; known profiles: {', '.join(PROFILES)}"
        )
    result = {}
    for notebook, defaults in DEFAULTS.items():
        overrides = PROFILES[name].get(notebook, {})
        result[notebook] = {**defaults, **overrides}
    for notebook in PROFILES[name]:
        if notebook not in DEFAULTS:
            raise ParameterError(
                f"profile {name!r} names unknown notebook {notebook!r}; "
                f"known notebooks: {', '.join(DEFAULTS)}"
            )
    return result
