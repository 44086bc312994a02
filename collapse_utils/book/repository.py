"""The repository URL: one setting, ``repository.url`` in ``_config.yml``.

The URL also appears where a reader meets it without the book's configuration:
the first cell of every chapter notebook (tagged ``remove-cell``: outside the
book's environment, in Colab say, it installs ``collapse_utils`` from the
repository, and says clearly what to do if that fails), ``repository-code`` in
``CITATION.cff`` and the release links of ``CHANGELOG.md``. Those copies are
written from the setting, never by hand:

- ``python -m collapse_utils.book.repository`` rewrites them from ``_config.yml``
  (:func:`apply`);
- ``python -m collapse_utils.book.repository --set URL`` changes the setting,
  then rewrites them;
- ``python -m collapse_utils.book.repository --check`` lists the copies that
  disagree (:func:`check`); the build runs the same check before executing
  anything. (Chapter: "How to run this book".)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

URL = re.compile(r"^https?://[^\s\"'\\]+[^\s\"'\\/]$")
# the url line of the repository block of _config.yml
CONFIG_URL = re.compile(r"^(repository:[ \t]*\n(?:[ \t]+.*\n|[ \t]*\n)*?[ \t]+url:[ \t]*)(\S+)", re.M)
CITATION_URL = re.compile(r'^(repository-code:[ \t]*)"?([^"\n]*)"?[ \t]*$', re.M)
# [0.1.0]: <url>/releases/tag/v0.1.0, [Unreleased]: <url>/compare/v0.1.0...HEAD
CHANGELOG_URL = re.compile(r"^(\[[^\]\n]+\]:[ \t]*)(\S+?)(/(?:compare|releases)/\S*)$", re.M)


def _checked(url: str) -> str:
    if not isinstance(url, str) or not URL.match(url):
        raise ValueError(f"repository URL must look like https://host/owner/name (no quotes, spaces "
                         f"or trailing slash); got {url!r}")
    return url


def url(root: Path = Path(".")) -> str:
    """The repository URL: ``repository.url`` of ``<root>/_config.yml``.

    Book: {doc}`book/how_to_run`
    """
    import yaml

    config = yaml.safe_load((Path(root) / "_config.yml").read_text())
    try:
        value = config["repository"]["url"]
    except (KeyError, TypeError):
        raise ValueError(f"{Path(root) / '_config.yml'} has no repository.url") from None
    return _checked(value)


def bootstrap_source(url: str) -> str:
    """The first cell of every chapter notebook, for the repository at ``url``.

    Where ``collapse_utils`` is missing it is installed with pip from ``url``; if
    that fails, a short ``RuntimeError`` says what to do (not pip's traceback).

    Book: {doc}`book/how_to_run`
    """
    _checked(url)
    return (
        "# Outside the book's environment (Colab, say), install the helper package.\n"
        "try:\n"
        "    import collapse_utils  # noqa: F401\n"
        "except ImportError:\n"
        "    import subprocess\n"
        "    import sys\n"
        "\n"
        f'    url = "{url}"\n'
        "    try:\n"
        '        subprocess.check_call([sys.executable, "-m", "pip", "install",\n'
        '                               "--quiet", f"collapse-utils @ git+{url}"])\n'
        "    except subprocess.CalledProcessError:\n"
        "        raise RuntimeError(\n"
        '            f"could not install collapse_utils from {url}: install it"\n'
        '            " yourself with `pip install -e .` in a clone of the"\n'
        '            " repository (see How to run this book)") from None'
    )


def _chapters(root: Path) -> list[Path]:
    from collapse_utils.book.build import toc_notebooks  # build imports this module

    return [nb for nb in toc_notebooks(Path(root)) if nb.suffix == ".ipynb"]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _is_bootstrap(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and "import collapse_utils" in _source(cell)


def _notebook_problem(path: Path, expected: str) -> str | None:
    cells = json.loads(path.read_text())["cells"]
    if not cells or not _is_bootstrap(cells[0]):
        return f"{path.name}: the first cell is not the bootstrap cell (it installs collapse_utils)"
    if _source(cells[0]) != expected:
        return f"{path.name}: the first cell differs from repository.bootstrap_source(url)"
    if "remove-cell" not in cells[0].get("metadata", {}).get("tags", []):
        return f"{path.name}: the first cell is not tagged remove-cell"
    return None


def check(root: Path = Path(".")) -> list[str]:
    """Every copy of the URL that disagrees with ``_config.yml``, one line each (empty: all agree).

    The first cell of each chapter notebook must be :func:`bootstrap_source`
    of the URL, tagged ``remove-cell``; ``CITATION.cff`` and ``CHANGELOG.md``,
    where they exist, must name the URL.

    Book: {doc}`book/how_to_run`
    """
    root = Path(root)
    expected_url = url(root)
    expected = bootstrap_source(expected_url)
    problems = [p for p in (_notebook_problem(nb, expected) for nb in _chapters(root)) if p]
    citation = root / "CITATION.cff"
    if citation.exists():
        found = CITATION_URL.search(citation.read_text())
        if not found or found.group(2) != expected_url:
            problems.append(f"CITATION.cff: repository-code is {found.group(2) if found else 'missing'!r}, "
                            f"not {expected_url!r}")
    changelog = root / "CHANGELOG.md"
    if changelog.exists():
        for match in CHANGELOG_URL.finditer(changelog.read_text()):
            if match.group(2) != expected_url:
                problems.append(f"CHANGELOG.md: link {match.group(0)!r} is not under {expected_url}")
    return problems


def _lines(text: str) -> list[str]:
    """A notebook cell's source as the repository stores it: a list of lines."""
    return text.splitlines(keepends=True)


def _rewrite(path: Path, pattern: re.Pattern, value: str) -> bool:
    text = path.read_text()
    new = pattern.sub(lambda m: m.group(1) + value + (m.group(3) if pattern.groups >= 3 else ""), text)
    if new != text:
        path.write_text(new)
    return new != text


def apply(root: Path = Path(".")) -> list[Path]:
    """Rewrite every copy of the URL from ``_config.yml``; return the files changed.

    The first cell of each chapter notebook becomes :func:`bootstrap_source`
    (tagged ``remove-cell``; its id and other metadata are kept); the URL of
    ``CITATION.cff`` and of the links of ``CHANGELOG.md`` becomes the setting.
    A notebook whose first cell is not a bootstrap cell (it imports
    ``collapse_utils``) is an error, named, and nothing is written for it.

    Book: {doc}`book/how_to_run`
    """
    root = Path(root)
    value = url(root)
    source = _lines(bootstrap_source(value))
    changed = []
    for path in _chapters(root):
        nb = json.loads(path.read_text())
        if not nb["cells"] or not _is_bootstrap(nb["cells"][0]):
            raise ValueError(f"{path}: the first cell is not the bootstrap cell (it imports collapse_utils); "
                             f"add one (see CONTRIBUTING.md) and run this again")
        first = nb["cells"][0]
        tags = first.setdefault("metadata", {}).setdefault("tags", [])
        if first["source"] == source and "remove-cell" in tags:
            continue
        first["source"] = source
        if "remove-cell" not in tags:
            tags.append("remove-cell")
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        changed.append(path)
    for name, pattern, new in (("CITATION.cff", CITATION_URL, f'"{value}"'),
                               ("CHANGELOG.md", CHANGELOG_URL, value)):
        path = root / name
        if path.exists() and _rewrite(path, pattern, new):
            changed.append(path)
    return changed


def set_url(root: Path, new_url: str) -> list[Path]:
    """Make ``new_url`` the setting (``repository.url`` of ``_config.yml``), then :func:`apply` it.

    Returns the files changed, ``_config.yml`` first if it changed.

    Book: {doc}`book/how_to_run`
    """
    root = Path(root)
    config = root / "_config.yml"
    if not CONFIG_URL.search(config.read_text()):
        raise ValueError(f"{config}: no url line under repository:")
    changed = [config] if _rewrite(config, CONFIG_URL, _checked(new_url)) else []
    assert url(root) == new_url, "the rewritten _config.yml does not read back the new URL"
    return changed + apply(root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m collapse_utils.book.repository",
        description="Write the repository URL of _config.yml into the notebooks' first cells, "
                    "CITATION.cff and CHANGELOG.md (or check that they agree).",
    )
    parser.add_argument("--set", metavar="URL", help="first make URL the setting in _config.yml")
    parser.add_argument("--check", action="store_true", help="only list the copies that disagree")
    parser.add_argument("--root", type=Path, default=Path("."), help="the book root (holds _config.yml)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check(args.root)
            for problem in problems:
                print(problem)
            return 1 if problems else 0
        changed = set_url(args.root, args.set) if args.set else apply(args.root)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"rewrote {path}")
    print(f"repository URL {url(args.root)}: {len(changed)} file(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
