"""Notebook parameters: declared once, checked before anything runs.

Every chapter notebook has one cell tagged ``parameters``. That cell is the only
place that lists a notebook's parameters: their names, their ``book`` values and,
in a trailing ``# comment``, what each one means. :mod:`collapse_utils.book.profiles`
adds, per notebook, each parameter's type and allowed values (``NOTEBOOKS``),
constraints between parameters (``CONSTRAINTS``) and what the other profiles
change (``PROFILES``).

- :func:`check` is what a notebook calls right after its parameters cell,
  ``params.check("01_retraining_loop", globals())``, so that a reader who edits a
  value by hand gets the same clear message as the build.
- :func:`profile` gives each notebook its values under a profile (the cell's
  values and the profile's overrides) and refuses anything wrong with one message
  listing every problem; the build calls it before it executes any notebook.

(Chapter: "How to run this book".)
"""

from __future__ import annotations

import ast
import io
import math
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any


class ParameterError(ValueError):
    """A notebook parameter, a profile or a notebook name is not allowed."""


#: Upper bound of an ``int`` parameter that declares none: no count in this book
#: (samples, chains, generations, tokens) can be honoured beyond it.
MAX_INT = 10**9


@dataclass(frozen=True)
class Param:
    """Type and allowed values of one notebook parameter (its meaning is the
    comment next to it in the notebook's parameters cell).

    ``kind`` is ``int``, ``float``, ``bool`` or ``str``. ``low``/``high`` bound
    numbers (inclusive); ``choices`` lists the allowed values of a string. An
    ``int`` without a declared ``high`` is bounded by :data:`MAX_INT` (10^9): a
    count beyond it (``n = 10**30``) is refused before it reaches numpy.
    """

    kind: type
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None

    def __post_init__(self):
        if self.kind is int and self.high is None:
            object.__setattr__(self, "high", MAX_INT)

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


# --- the parameters cell -----------------------------------------------------------


@dataclass(frozen=True)
class ParametersCell:
    """What a notebook's ``parameters`` cell declares.

    ``index``: the cell's position in the notebook; ``values``: each name's
    (literal) value, in the cell's order; ``docs``: each name's trailing comment
    (names without a comment are left out).
    """

    index: int
    values: dict[str, Any]
    docs: dict[str, str] = field(default_factory=dict)


def read_parameters_cell(notebook: Path) -> ParametersCell:
    """Parse the cell tagged ``parameters`` of ``notebook``.

    It may only hold lines ``name = literal  # what it means`` (numbers, strings,
    booleans, ``None``, tuples/lists/dicts of those); anything else raises
    :class:`ParameterError` naming the notebook, the line and the parameter.
    """
    import nbformat

    notebook = Path(notebook)
    name = notebook.stem
    nb = nbformat.read(notebook, as_version=4)
    tagged = [(i, c) for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise ParameterError(f"{name}: expected exactly one cell tagged 'parameters', found {len(tagged)}")
    index, cell = tagged[0]
    source = cell.source
    try:
        body = ast.parse(source).body
    except SyntaxError as err:
        raise ParameterError(f"{name}: the parameters cell is not valid Python (line {err.lineno}: {err.msg})") from None
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    problems = []
    for node in body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, value = node.target.id, node.value
        else:
            problems.append(
                f"{name}: line {node.lineno} of the parameters cell "
                f"({ast.get_source_segment(source, node)!r}) is not of the form 'name = value'"
            )
            continue
        try:
            values[target] = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            problems.append(
                f"{name}: parameter {target!r} = {ast.get_source_segment(source, value)} in the parameters cell "
                f"is not a literal; write the value itself (a number, a string, True/False)"
            )
            continue
        lines[target] = node.end_lineno or node.lineno
    if problems:
        raise ParameterError("\n".join(problems))
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
    docs = {target: comments[line] for target, line in lines.items() if comments.get(line)}
    return ParametersCell(index, values, docs)


def parameters_cell(notebook: Path) -> tuple[int, dict[str, Any]]:
    """Index and values of the cell tagged ``parameters`` (see :func:`read_parameters_cell`)."""
    cell = read_parameters_cell(notebook)
    return cell.index, cell.values


# --- checking values ---------------------------------------------------------------


def _specs(notebook: str) -> Mapping[str, Param]:
    from collapse_utils.book.profiles import NOTEBOOKS

    if notebook not in NOTEBOOKS:
        raise ParameterError(
            f"unknown notebook {notebook!r}; known notebooks: {', '.join(sorted(NOTEBOOKS))}"
        )
    return NOTEBOOKS[notebook]


@cache
def _compile(expression: str):
    """The code of a constraint and the names it reads, in order of appearance."""
    tree = ast.parse(expression, mode="eval")
    nodes = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Name)), key=lambda n: n.col_offset)
    names = list(dict.fromkeys(n.id for n in nodes))
    return compile(tree, f"<constraint {expression}>", "eval"), names


def constraints(notebook: str) -> dict[str, str]:
    """The constraints declared for ``notebook``: expression -> why it must hold."""
    from collapse_utils.book.profiles import CONSTRAINTS

    return dict(CONSTRAINTS.get(notebook, {}))


def _problems(notebook: str, values: Mapping[str, Any]) -> list[str]:
    """Problems of the declared parameters present in ``values`` (types, ranges,
    then the constraints whose parameters are all present and fine)."""
    specs = _specs(notebook)
    problems, good = [], {}
    for name, spec in specs.items():
        if name not in values:
            continue
        why = spec.problem(values[name])
        if why:
            problems.append(
                f"{notebook}: parameter {name!r} = {values[name]!r} is {why}; allowed: {spec.allowed()}"
            )
        else:
            good[name] = values[name]
    for expression, reason in constraints(notebook).items():
        code, names = _compile(expression)
        undeclared = [n for n in names if n not in specs]
        if undeclared:
            problems.append(
                f"{notebook}: constraint {expression!r} reads undeclared parameter(s) {', '.join(undeclared)}"
            )
            continue
        if not all(n in good for n in names):
            continue  # already reported above (or missing)
        if not eval(code, {"__builtins__": {}}, dict(good)):  # our own declarations, no builtins
            given = ", ".join(f"{n} = {good[n]!r}" for n in names)
            problems.append(
                f"{notebook}: parameters {given} break the constraint {expression!r}"
                + (f" ({reason})" if reason else "")
            )
    return problems


def check(notebook: str, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """Check the parameters of ``notebook`` found in ``namespace``; return them.

    A notebook calls ``params.check("01_retraining_loop", globals())`` right after
    its parameters cell. Every parameter declared for the notebook in
    :mod:`collapse_utils.book.profiles` must be in ``namespace`` (other names are
    ignored) with an allowed value, and the notebook's constraints must hold;
    otherwise :class:`ParameterError` lists every problem, naming the notebook,
    the parameter, its value and what is allowed. Returns ``{name: value}`` in
    the declared order.
    """
    specs = _specs(notebook)
    problems = _problems(notebook, namespace)
    missing = [name for name in specs if name not in namespace]
    if missing:
        problems.append(
            f"{notebook}: parameter(s) {', '.join(missing)} not defined; "
            f"the parameters cell must define {', '.join(specs)}"
        )
    if problems:
        raise ParameterError("\n".join(problems))
    return {name: namespace[name] for name in specs}


# --- profiles ------------------------------------------------------------------------


def profile_names() -> list[str]:
    """The known profile names."""
    from collapse_utils.book.profiles import PROFILES

    return list(PROFILES)


def profile(
    name: str, root: Path | str = ".", notebooks: Sequence[Path] | None = None
) -> dict[str, dict[str, Any]]:
    """The parameters each notebook gets under profile ``name``; nothing runs.

    A notebook's values are those of its parameters cell (the ``book`` values)
    updated with what the profile changes. ``notebooks`` are the notebook files
    (default: every declared notebook, ``<root>/notebooks/<name>.ipynb``).

    Raises :class:`ParameterError` listing every problem: an unknown profile, a
    profile naming an unknown notebook or parameter, a notebook without
    declarations, a parameters cell that cannot be read (not a literal) or whose
    names differ from the declarations, a value of the wrong type or out of range,
    a constraint that does not hold.
    """
    from collapse_utils.book.profiles import NOTEBOOKS, PROFILES

    if name not in PROFILES:
        raise ParameterError(f"unknown profile {name!r}; known profiles: {', '.join(PROFILES)}")
    if notebooks is None:
        notebooks = [Path(root) / "notebooks" / f"{nb}.ipynb" for nb in NOTEBOOKS]
    overrides = PROFILES[name]
    if not isinstance(overrides, dict):
        raise ParameterError(f"profile {name!r} in collapse_utils/book/profiles.py must map notebook names to "
                             f"dicts of parameter values; got a {type(overrides).__name__}")
    misshapen = [nb for nb, changes in overrides.items()
                 if not isinstance(changes, dict) or not all(isinstance(k, str) for k in changes)]
    if misshapen:
        raise ParameterError("; ".join(
            f"profile {name!r}: the entry of {nb!r} in collapse_utils/book/profiles.py must be a dict of "
            f"parameter name -> value, like {{'n': 20}}; got {overrides[nb]!r}" for nb in misshapen))
    problems = [
        f"profile {name!r} names unknown notebook {nb!r}; known notebooks: {', '.join(NOTEBOOKS)}"
        for nb in overrides
        if nb not in NOTEBOOKS
    ]
    result = {}
    for path in notebooks:
        path = Path(path)
        nb = path.stem
        if nb not in NOTEBOOKS:
            problems.append(
                f"{nb}: no parameters declared in collapse_utils/book/profiles.py "
                f"(known notebooks: {', '.join(NOTEBOOKS)})"
            )
            continue
        if not path.exists():
            problems.append(f"{nb}: notebook not found: {path}")
            continue
        try:
            cell = read_parameters_cell(path)
        except ParameterError as err:
            problems.append(str(err))
            continue
        declared = NOTEBOOKS[nb]
        undeclared = [p for p in cell.values if p not in declared]
        if undeclared:
            problems.append(
                f"{nb}: the parameters cell defines {', '.join(undeclared)}, not declared in "
                f"collapse_utils/book/profiles.py (declared: {', '.join(declared)})"
            )
        absent = [p for p in declared if p not in cell.values]
        if absent:
            problems.append(
                f"{nb}: {', '.join(absent)} declared in collapse_utils/book/profiles.py "
                f"but missing from the parameters cell"
            )
        changes = overrides.get(nb, {})
        unknown = [p for p in changes if p not in declared]
        if unknown:
            problems.append(
                f"profile {name!r}: {nb}: unknown parameter(s) "
                + ", ".join(f"{p!r} = {changes[p]!r}" for p in unknown)
                + f"; known parameters: {', '.join(declared)}"
            )
        values = {**cell.values, **changes}
        problems += [f"profile {name!r}: {p}" for p in _problems(nb, values)]
        result[nb] = {p: values[p] for p in declared if p in values}
    if problems:
        raise ParameterError("\n".join(problems))
    return result
