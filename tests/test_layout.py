"""The package's layout: layers that import only downwards, no import cycle, modules of a readable size.

Layers (see ``collapse_utils/__init__.py``):

- core: ``loop``, ``policies``, ``samplers``, ``cache``, ``checks``, ``data``;
- ``families/`` (model families), ``exact/`` (theory and fast simulators), ``measures/``;
- ``answers/`` (exercise numbers) and ``book/`` (the build machinery) on top.

Each layer imports only the layers below it: core < exact < families < measures
< answers < book. So the library (core, exact, families, measures) never imports
``answers`` or ``book``, the theory needs no model class, and no family depends on a
measurement.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "collapse_utils"
MAX_LINES = 400
REASON = "longer than 400 lines because"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(name: str) -> str:
    parts = name.split(".")
    if len(parts) == 1:
        return "init"
    return parts[1] if parts[1] in ("families", "exact", "measures", "answers", "book") else "core"


def imports(path: Path, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("collapse_utils"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("collapse_utils"))
    return {m for m in found if m in MODULES and m != "collapse_utils"}


ALLOWED = {  # core < exact < families < measures < answers < book
    "core": {"core"},
    "exact": {"core", "exact"},
    "families": {"core", "exact", "families"},
    "measures": {"core", "exact", "families", "measures"},
    "answers": {"core", "families", "exact", "measures", "answers", "book"},
    "book": {"core", "families", "exact", "measures", "answers", "book"},
    "init": set(),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_imports_only_allowed_layers(name):
    bad = sorted(m for m in imports(MODULES[name], top_level_only=False) if layer(m) not in ALLOWED[layer(name)])
    assert not bad, f"{name} ({layer(name)}) imports {bad}; allowed layers: {sorted(ALLOWED[layer(name)])}"


def test_no_import_cycle_at_module_level():
    graph = {name: imports(path, top_level_only=True) for name, path in MODULES.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_readable_or_say_why(name):
    path = MODULES[name]
    lines = len(path.read_text().splitlines())
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert lines <= MAX_LINES or REASON in doc.lower(), (
        f"{name} has {lines} lines; split it by concept or state in its docstring why it is "
        f"'{REASON} ...'"
    )


def test_every_folder_is_a_package_with_a_docstring():
    for folder in [PACKAGE, *(p for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__")]:
        init = folder / "__init__.py"
        assert init.exists(), f"{folder} has no __init__.py"
        assert ast.get_docstring(ast.parse(init.read_text())), f"{init} has no docstring saying what the folder holds"
