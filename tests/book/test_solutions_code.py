"""Every code block of an exercise solution runs when a reader copies it.

A reader copies a solution's ```` ```python ```` block into a fresh session, so
the block must import everything it uses (a block that called
``mt.mix_fixed_point`` without importing ``mt`` raised a ``NameError``). Each
block of each ``solution`` directive in every chapter notebook runs in its own
Python process (a fresh namespace), from the ``notebooks/`` folder like the
notebook itself. Blocks that ``{literalinclude}`` library code are counted and
skipped: the answers tests run that code.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_FILES = sorted((ROOT / "notebooks").glob("*.ipynb"))

# Counted on 2 December 2026 (05: 2, 06: 1, 10: 1 runnable blocks; 7 literalincludes).
MIN_CODE_BLOCKS = 4
MIN_LITERALINCLUDES = 7
TIMEOUT_S = 300

SOLUTION_OPEN = re.compile(r"^\s*(?P<fence>:{3,}|`{3,})\s*\{solution\}")
CODE_OPEN = re.compile(
    r"^\s*(?P<fence>`{3,}|~{3,})\s*(?P<info>python3?|py|ipython3?|\{code-cell\}.*|\{code-block\}\s*python3?"
    r"|\{code\}\s*python3?|\{literalinclude\}.*)\s*$"
)
OPTION = re.compile(r"^\s*:[\w-]+:")


def _closes(line: str, fence: str) -> bool:
    """Whether ``line`` closes a block opened by ``fence`` (same character, at least as long)."""
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def solution_blocks(markdown: str) -> list[tuple[str, str]]:
    """The code blocks inside ``solution`` directives of ``markdown``, as (kind, code).

    ``kind`` is ``"literalinclude"`` (the code is the directive's argument) or
    ``"code"``; leading ``:option:`` lines of a directive are dropped.
    """
    lines = markdown.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opened = SOLUTION_OPEN.match(lines[i])
        i += 1
        if not opened:
            continue
        fence = opened["fence"]
        while i < len(lines) and not _closes(lines[i], fence):
            code_open = CODE_OPEN.match(lines[i])
            i += 1
            if not code_open:
                continue
            body = []
            while i < len(lines) and not _closes(lines[i], code_open["fence"]):
                body.append(lines[i])
                i += 1
            i += 1
            if code_open["info"].startswith("{literalinclude}"):
                blocks.append(("literalinclude", code_open["info"]))
                continue
            while body and (OPTION.match(body[0]) or not body[0].strip()):
                body.pop(0)
            blocks.append(("code", "\n".join(body) + "\n"))
        i += 1
    return blocks


def notebook_blocks(path: Path) -> list[tuple[str, int, str, str]]:
    """(notebook stem, cell index, kind, code) for every solution block of ``path``."""
    nb = nbformat.read(path, as_version=4)
    return [
        (path.stem, index, kind, code)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "markdown"
        for kind, code in solution_blocks(cell.source)
    ]


ALL_BLOCKS = [block for path in NOTEBOOK_FILES for block in notebook_blocks(path)]
CODE_BLOCKS = [block for block in ALL_BLOCKS if block[2] == "code"]


def run_block(code: str, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run ``code`` with ``exec`` in a fresh Python process, from ``notebooks/``."""
    env = os.environ | {"MPLBACKEND": "Agg", "PYTHONPATH": os.pathsep.join(filter(None, [
        str(ROOT), os.environ.get("PYTHONPATH")]))}
    runner = "import sys; exec(compile(sys.stdin.read(), '<solution>', 'exec'), {'__name__': '__main__'})"
    return subprocess.run([sys.executable, "-c", runner], input=code, cwd=ROOT / "notebooks", env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_solution_blocks_are_found():
    kinds = [block[2] for block in ALL_BLOCKS]
    assert kinds.count("code") >= MIN_CODE_BLOCKS, f"only {kinds.count('code')} solution code blocks found"
    assert kinds.count("literalinclude") >= MIN_LITERALINCLUDES, (
        f"only {kinds.count('literalinclude')} literalinclude blocks in solutions (skipped here)")


@pytest.mark.parametrize("stem, index, kind, code", CODE_BLOCKS,
                         ids=[f"{stem}-cell{index}-{n}" for n, (stem, index, _, _) in enumerate(CODE_BLOCKS)])
def test_solution_code_runs_in_a_fresh_session(stem, index, kind, code):
    start = time.perf_counter()
    done = run_block(code)
    elapsed = time.perf_counter() - start
    print(f"{stem} cell {index}: {elapsed:.1f} s")
    assert done.returncode == 0, (
        f"{stem}, markdown cell {index}: a solution's code block fails when run on its own "
        f"(does it import what it uses?):\n{code}\n{done.stderr[-3000:]}")


def test_the_extractor_finds_nested_blocks_and_a_missing_import_fails():
    markdown = "\n".join([
        "Text.", "", ":::{solution} ex-08-x", ":class: dropdown", "",
        "```{literalinclude} ../collapse_utils/answers/ch08.py", ":pyobject: enough_real", "```", "",
        "```python", "print(mt.mix_fixed_point(100, 0.1)[0])", "```", ":::", "",
        "```python", "outside = True", "```", "",
        "````{solution} ex-08-y", "```{code-cell} python", ":tags: [x]", "", "x = 1", "```", "````",
    ])
    blocks = solution_blocks(markdown)
    assert [kind for kind, _ in blocks] == ["literalinclude", "code", "code"]
    assert blocks[2][1] == "x = 1\n"
    done = run_block(blocks[1][1], timeout=60)
    assert done.returncode != 0 and "NameError" in done.stderr
    fixed = "from collapse_utils.exact import gaussian_mixing as mt\n" + blocks[1][1]
    assert run_block(fixed, timeout=60).returncode == 0
