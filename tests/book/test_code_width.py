"""Reader-visible code fits the text column: lines of at most 79 characters.

At desktop width the column shows 79 monospace characters; a longer line
scrolls sideways, and the reader loses its end. Visible code is every code
cell not tagged ``remove-cell`` or ``remove-input`` (``hide-cell`` cells can be
opened) and every fenced code block in a markdown cell (solutions, snippets).
Reads the source notebooks, so it needs no build.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_FILES = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_WIDTH = 79
HIDDEN_TAGS = {"remove-cell", "remove-input"}
FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})\s*(?P<info>\S.*)?$")
CODE_INFO = re.compile(r"^(python3?|py|ipython3?|pycon|\{(code-cell|code-block|code)\}.*)$")


def markdown_code_lines(markdown: str) -> list[str]:
    """The lines of the fenced code blocks (```` ```python ````, ```` ```{code-cell} ````...) of ``markdown``."""
    lines, inside, fence = [], False, ""
    for line in markdown.splitlines():
        match = FENCE.match(line)
        if inside:
            if match and not match["info"] and line.strip()[0] == fence[0] and len(line.strip()) >= len(fence):
                inside = False
            else:
                lines.append(line)
        elif match and match["info"] and CODE_INFO.match(match["info"].strip()):
            inside, fence = True, match["fence"]
    return lines


def visible_code(path: Path) -> list[tuple[int, str]]:
    """(cell index, line) for every reader-visible code line of the notebook ``path``."""
    nb = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and not HIDDEN_TAGS & set(cell.metadata.get("tags", [])):
            found += [(index, line) for line in cell.source.splitlines()]
        elif cell.cell_type == "markdown":
            found += [(index, line) for line in markdown_code_lines(cell.source)]
    return found


def test_notebooks_have_visible_code():
    assert NOTEBOOK_FILES
    assert sum(len(visible_code(path)) for path in NOTEBOOK_FILES) > 100


def test_markdown_code_lines_reads_only_code_blocks():
    markdown = "\n".join(["x" * 100, "```python", "a = 1", "```", "```{glue:figure} key", "y" * 100,
                          "```", "````{code-cell} ipython3", "b = 2", "````", "```text", "z", "```"])
    assert markdown_code_lines(markdown) == ["a = 1", "b = 2"]


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_visible_code_lines_fit_the_column(path):
    long = [f"{path.name}, cell {index}, {len(line)} characters: {line}"
            for index, line in visible_code(path) if len(line) > MAX_WIDTH]
    assert not long, f"{len(long)} visible code lines longer than {MAX_WIDTH} characters:\n" + "\n".join(long)
