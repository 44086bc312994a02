"""How long are the code cells the reader sees? Statistics per notebook and overall.

``python -m collapse_utils.book.cell_stats [--json] [notebooks...]`` (default:
every ``notebooks/NN_*.ipynb``). A code cell is *reader-visible* unless it is
tagged ``remove-cell`` or ``remove-input`` (``hide-cell`` / ``hide-input`` cells
are folded, not removed, so they count). For the visible cells it reports the
number of cells, the median and 90th percentile of non-blank lines, how many
cells are over 25 and over 30 lines, and how many ``glue(`` / ``glue_many(``
lines they contain (glue belongs in ``remove-cell`` cells).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

HIDDEN_TAGS = {"remove-cell", "remove-input"}
GLUE_CALL = re.compile(r"\bglue(_many)?\(")
ROOT = Path(__file__).resolve().parents[2]


def visible_code_cells(notebook: dict) -> list[str]:
    """The source of every code cell of ``notebook`` that the reader sees."""
    cells = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if HIDDEN_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        source = cell.get("source", "")
        cells.append(source if isinstance(source, str) else "".join(source))
    return cells


def is_glue_line(line: str) -> bool:
    """``True`` for a line that calls ``glue(`` or ``glue_many(``."""
    return GLUE_CALL.search(line) is not None


def stats(sources: list[str]) -> dict:
    """The statistics of a list of cell sources (see the module docstring)."""
    lengths = [sum(1 for line in s.splitlines() if line.strip()) for s in sources]
    glue_lines = sum(1 for s in sources for line in s.splitlines() if is_glue_line(line))
    return {
        "cells": len(lengths),
        "median": float(np.median(lengths)) if lengths else 0.0,
        "p90": float(np.percentile(lengths, 90)) if lengths else 0.0,
        "over_25": sum(n > 25 for n in lengths),
        "over_30": sum(n > 30 for n in lengths),
        "glue_lines": glue_lines,
    }


def report(paths: list[Path]) -> dict[str, dict]:
    """``{notebook stem: stats, ..., "overall": stats}`` for ``paths``."""
    out: dict[str, dict] = {}
    every: list[str] = []
    for path in paths:
        sources = visible_code_cells(json.loads(path.read_text()))
        out[path.stem] = stats(sources)
        every += sources
    out["overall"] = stats(every)
    return out


def format_table(result: dict[str, dict]) -> str:
    """``result`` of :func:`report` as a fixed-width text table."""
    header = f"{'notebook':<28}{'cells':>6}{'median':>8}{'p90':>7}{'>25':>5}{'>30':>5}{'glue':>6}"
    rows = [header, "-" * len(header)]
    for name, s in result.items():
        rows.append(f"{name:<28}{s['cells']:>6}{s['median']:>8.1f}{s['p90']:>7.1f}"
                    f"{s['over_25']:>5}{s['over_30']:>5}{s['glue_lines']:>6}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/NN_*.ipynb")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    result = report(paths)
    print(json.dumps(result, indent=1) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
