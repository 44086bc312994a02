"""Compare the glued values of two builds: what the prose of the book would show differently.

``python -m collapse_utils.book.glue_diff OLD NEW`` reads the executed notebooks
of two builds (``OLD`` and ``NEW`` are build roots holding
``_build/source/notebooks/*.ipynb``, or those folders themselves) and prints,
per notebook, every glue key whose value differs, that appears in only one
build, and a final tally. Numbers are compared as the text the book pastes
(``text/plain``); figures are compared by whether both builds glue them.
Exit code 0 when nothing differs, 1 otherwise.

Book: {doc}`../../book/how_to_run`
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["glued_values", "compare", "main"]

RECORD = "application/papermill.record/"


def _notebooks_dir(root: Path) -> Path:
    for candidate in (root / "_build" / "source" / "notebooks", root / "source" / "notebooks", root):
        if candidate.is_dir() and any(candidate.glob("*.ipynb")):
            return candidate
    raise FileNotFoundError(f"no executed notebooks under {root} (expected _build/source/notebooks/*.ipynb)")


def glued_values(notebook: Path) -> dict[str, str]:
    """``{key: value}`` of every value glued in an executed notebook (``<figure>`` for images)."""
    nb = json.loads(notebook.read_text())
    values = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if not name:
                continue
            data = output.get("data", {})
            if any(k.startswith(RECORD + "image/") for k in data):
                values[name] = "<figure>"
            else:
                text = data.get(RECORD + "text/plain", "")
                values[name] = "".join(text) if isinstance(text, list) else str(text)
    return values


def compare(old: Path, new: Path) -> list[tuple[str, str, str | None, str | None]]:
    """Rows ``(notebook, key, old value, new value)`` for every difference (``None``: absent)."""
    old_dir, new_dir = _notebooks_dir(old), _notebooks_dir(new)
    rows = []
    names = sorted({p.name for p in old_dir.glob("*.ipynb")} | {p.name for p in new_dir.glob("*.ipynb")})
    for name in names:
        a = glued_values(old_dir / name) if (old_dir / name).exists() else {}
        b = glued_values(new_dir / name) if (new_dir / name).exists() else {}
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                rows.append((Path(name).stem, key, a.get(key), b.get(key)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m collapse_utils.book.glue_diff", description=__doc__.split("\n")[0])
    parser.add_argument("old", type=Path, help="the first build's root (or its executed notebooks folder)")
    parser.add_argument("new", type=Path, help="the second build's root (or its executed notebooks folder)")
    args = parser.parse_args(argv)
    try:
        rows = compare(args.old, args.new)
        total = sum(len(glued_values(p)) for p in _notebooks_dir(args.new).glob("*.ipynb"))
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for notebook, key, a, b in rows:
        print(f"{notebook:28s} {key:34s} {a if a is not None else '(absent)':>24s} -> "
              f"{b if b is not None else '(absent)'}")
    changed = sum(1 for r in rows if r[2] is not None and r[3] is not None)
    print(f"\n{total} values glued in the new build; {changed} changed, "
          f"{sum(1 for r in rows if r[2] is None)} added, {sum(1 for r in rows if r[3] is None)} removed")
    return 1 if rows else 0


if __name__ == "__main__":
    sys.exit(main())
