"""What a build checks and cleans, so that it never mixes profiles, goes stale or leaks the machine.

The helpers of :mod:`collapse_utils.book.build` that run before and around the
pipeline: the folders it may use (:func:`check_folders`), the optional packages
the parameters need (:func:`missing_packages`), the *stamp* an executed notebook
carries (profile, parameters, checksum of its source) and why a staged copy is
stale (:func:`stale_reason`), the footer line that names the profile on every
page, the cleaning of papermill's timestamps and paths, and the pruning of
figures whose notebook left the book. (Chapter: "How to run this book".)
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib.util import find_spec
from pathlib import Path

from collapse_utils.book.params import ParameterError

STAMP = "collapse_build"  # notebook metadata key of an executed notebook's stamp


def add_profile_footer(config: Path, profile_name: str) -> None:
    """Append "Built with the ``<profile>`` profile" to the footer of every page."""
    import yaml

    data = yaml.safe_load(config.read_text())
    html = data.setdefault("html", {})
    line = (f'<p class="collapse-profile">Built with the <code>{profile_name}</code> profile; '
            "see How to run this book for the others.</p>")
    html["extra_footer"] = (html.get("extra_footer") or "").rstrip("\n") + "\n" + line + "\n"
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def source_digest(source: Path) -> str:
    """SHA-256 of a source notebook's bytes."""
    return hashlib.sha256(Path(source).read_bytes()).hexdigest()


def stamp_of(parameters: dict, profile_name: str, source: Path, execution: dict | None = None) -> dict:
    """The stamp an executed notebook carries: profile, parameters, source checksum and,
    from the build, its execution key (:func:`collapse_utils.book.execution.execution_key`)."""
    stamp = {"profile": profile_name, "parameters": json.loads(json.dumps(parameters, default=repr)),
             "source_sha256": source_digest(source)}
    if execution is not None:
        stamp["execution"] = execution
    return stamp


def read_stamp(staged: Path) -> tuple[dict | None, str | None]:
    """``(stamp, None)`` of an executed copy, or ``(None, why there is none)``."""
    if not staged.exists():
        return None, "never executed"
    try:
        found = json.loads(staged.read_text()).get("metadata", {}).get(STAMP)
    except (OSError, ValueError, AttributeError):
        return None, "its executed copy is unreadable"
    if not found:
        return None, "executed by an older build (no stamp)"
    return found, None


def stale_reason(staged: Path, expected: dict, figures: Path | None = None) -> str | None:
    """Why the executed copy ``staged`` may not be published beside a build ``expected`` (None if it may).

    With an execution key in ``expected`` (what the build passes), the copy is
    current when the key is the same (a prose edit does not make it stale) and,
    given the ``figures`` folder, when the figure files its execution saved are
    there with the same bytes; without one, when the source and the parameters
    are the same."""
    from collapse_utils.book.execution import figures_of, key_changes

    found, why = read_stamp(staged)
    if why:
        return why
    if found.get("profile") != expected["profile"]:
        return f"executed under the {found.get('profile')!r} profile"
    if "execution" in expected:
        changes = key_changes(found.get("execution"), expected["execution"])
        if changes:
            return "; ".join(changes)
        if figures is not None and "figures" in found:
            now = figures_of(figures, staged.stem)
            if any(now.get(name) != sha for name, sha in found["figures"].items()):
                return "the figures it saved are missing or changed"
        return None
    if found.get("source_sha256") != expected["source_sha256"]:
        return "its source changed since it was executed"
    if found.get("parameters") != expected["parameters"]:
        return "its parameters changed since it was executed"
    return None


def clean_executed(notebook: dict) -> bool:
    """Drop papermill's timestamps and paths (notebook and cell metadata) and the
    cells' execution timestamps, and give papermill's injected-parameters cell a
    fixed id, so that two builds give the same files; True if changed."""
    changed = notebook.get("metadata", {}).pop("papermill", None) is not None
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {})
        if "injected-parameters" in meta.get("tags", []) and cell.get("id") != "injected-parameters":
            cell["id"] = "injected-parameters"  # papermill gives it a random id
            changed = True
        for key in ("papermill", "execution"):
            if meta.pop(key, None) is not None:
                changed = True
    return changed


def prune_figures(figures: Path, book: list[str], redrawn: list[str] | None) -> list[str]:
    """Remove figures that no longer belong to the book; return their names.

    A figure's manifest records the notebook that drew it. Removed: figures of a
    notebook not in ``book``; figures of the notebooks about to be re-executed
    (``redrawn``: they draw theirs again, and one they stopped drawing must go);
    with ``redrawn=None`` (a full build), every figure.
    """
    removed = []
    if not figures.is_dir():
        return removed
    for manifest in figures.glob("*.json"):
        try:
            owner = json.loads(manifest.read_text()).get("notebook")
        except (OSError, ValueError):
            owner = None
        if redrawn is None or owner not in book or owner in redrawn:
            for path in figures.glob(f"{manifest.stem}.*"):
                path.unlink()
            removed.append(manifest.stem)
    return sorted(removed)


#: Optional packages some parameter values need: (parameter, value) -> (package, what to run).
OPTIONAL_PACKAGES = {
    ("source", "wikitext2"): ("datasets", "pip install datasets  (and a network connection for the first download)"),
    ("source", "torchvision"): ("torchvision", "pip install -r requirements.txt  (torchvision is pinned there)"),
}


def missing_packages(parameters: dict[str, dict]) -> list[str]:
    """One message per notebook whose parameters need a package that is not installed."""
    problems = []
    for notebook, values in parameters.items():
        for (name, value), (package, install) in OPTIONAL_PACKAGES.items():
            if values.get(name) == value and find_spec(package) is None:
                problems.append(f"{notebook}: {name} = {value!r} needs the {package!r} package, "
                                f"which is not installed: {install}")
    return problems


def check_folders(root: Path, output: Path | None) -> tuple[Path, Path]:
    """The resolved book root and output folder, or :class:`ParameterError` (nothing written).

    The root must hold ``_toc.yml`` and ``_config.yml``; the output folder must
    exist, be writable, and be the root itself or lie outside it (inside the
    sources, the staged copy would contain itself).
    """
    root = Path(root).resolve()
    if not (root / "_toc.yml").is_file() or not (root / "_config.yml").is_file():
        raise ParameterError(f"--root: {root} is not a book root (it must hold _toc.yml and _config.yml)")
    if output is None:
        return root, root
    output = Path(output).resolve()
    if not output.is_dir():
        raise ParameterError(f"--output: {output} is not an existing folder; create it first")
    if not os.access(output, os.W_OK | os.X_OK):
        raise ParameterError(f"--output: {output} is not writable")
    if output != root and output.is_relative_to(root):
        raise ParameterError(f"--output: {output} lies inside the book's sources {root}; "
                             "use the root itself (the default) or a folder outside it")
    return root, output
