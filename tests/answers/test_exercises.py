"""Every chapter is a lesson: exercises with solutions, numeric answers from code.

Static checks of the notebooks (issue 7): every exercise is followed directly by
its solution in a dropdown; chapters 01-14 have three to five exercises; a
solution states no hand-typed numbers (they are glued from
``collapse_utils.answers``); every glued answer exists, is used, and is checked
by a test in ``tests/answers/test_answers_chNN.py``; every chapter opens with what it
shows and assumes and ends with a summary, exercises and references.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from collapse_utils import answers

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHAPTERS = {path.name[:2]: path for path in NOTEBOOKS}
MIN_EXERCISES, MAX_EXERCISES = 3, 5
GLUE_ANSWER = re.compile(r"\{glue(?::text|:any)?\}`(ans-(ex-[0-9a-z-]+?)--([a-z0-9_]+))(?::[^`]*)?`")


def markdown(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")


def blocks(text: str) -> list[dict]:
    """The ``:::{exercise}`` and ``:::{solution}`` blocks, in order, with what follows each."""
    lines = text.splitlines()
    found, i = [], 0
    while i < len(lines):
        match = re.match(r"^:::\{(exercise|solution)\}\s*(\S*)\s*$", lines[i])
        if not match:
            i += 1
            continue
        kind, argument = match.groups()
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == ":::"), None)
        assert end is not None, f"unclosed {kind} block at line {i + 1}"
        options = {}
        body_start = i + 1
        while body_start < end and lines[body_start].startswith(":"):
            key, _, value = lines[body_start][1:].partition(":")
            options[key.strip()] = value.strip()
            body_start += 1
        following = next((line for line in lines[end + 1 :] if line.strip()), "")
        found.append(
            {
                "kind": kind,
                "argument": argument,
                "options": options,
                "body": "\n".join(lines[body_start:end]),
                "next": following,
            }
        )
        i = end + 1
    return found


def exercises(path: Path) -> list[tuple[dict, dict | None]]:
    """(exercise, its solution or None) pairs of a notebook."""
    found = blocks(markdown(path))
    pairs = []
    for k, block in enumerate(found):
        if block["kind"] == "exercise":
            solution = found[k + 1] if k + 1 < len(found) and found[k + 1]["kind"] == "solution" else None
            pairs.append((block, solution))
    return pairs


def hand_typed_numbers(text: str) -> set[str]:
    """Numbers written by hand (not glued, not in code, not in a reference): decimals
    and integers of two or more digits."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"\{[a-z:]+\}`[^`]*`", " ", text)  # roles: glue, numref, ref, cite, doc
    text = re.sub(r"`[^`]*`", " ", text)  # inline code
    return set(re.findall(r"(?<![\w.])\d+\.\d+|(?<![\w.])\d{2,}(?![\w])", text))


def test_every_chapter_is_checked():
    assert set(CHAPTERS) >= {f"{k:02d}" for k in range(1, 12)}, sorted(CHAPTERS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_has_a_labelled_solution_in_a_dropdown_right_below(path):
    pairs = exercises(path)
    assert pairs, f"{path.name} has no exercise"
    prefix = f"ex-{path.name[:2]}-"
    for exercise, solution in pairs:
        label = exercise["options"].get("label", "")
        assert label.startswith(prefix), f"{path.name}: exercise label {label!r} must start with {prefix!r}"
        assert solution is not None, f"{path.name}: exercise {label} has no solution right below it"
        assert solution["argument"] == label, f"{path.name}: solution {solution['argument']!r} follows {label}"
        assert solution["options"].get("class") == "dropdown", f"{path.name}: solution of {label} is not a dropdown"
        assert len(solution["body"].split()) >= 15, f"{path.name}: solution of {label} is not worked out"
    solutions = [block for block in blocks(markdown(path)) if block["kind"] == "solution"]
    assert len(solutions) == len(pairs), f"{path.name}: a solution without its exercise right above"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not p.stem.endswith("_exercises")], ids=lambda p: p.stem)
def test_three_to_five_exercises_per_chapter(path):
    assert MIN_EXERCISES <= len(exercises(path)) <= MAX_EXERCISES, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_solutions_state_no_hand_typed_numbers(path):
    """Numbers in a solution are glued from collapse_utils.answers, or given in the statement."""
    for exercise, solution in exercises(path):
        label = exercise["options"]["label"]
        typed = hand_typed_numbers(solution["body"]) - hand_typed_numbers(exercise["body"])
        assert not typed, f"{path.name}: the solution of {label} types {sorted(typed)}; glue them from collapse_utils.answers"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_glued_answers_exist_and_every_answer_is_used(path):
    chapter = path.name[:2]
    text = markdown(path)
    used = {(label, name) for _, label, name in GLUE_ANSWER.findall(text)}
    registered = set(answers.labels(chapter)) if chapter in answers.chapters() else set()
    available = {(label, name) for label in registered for name in answers.solve(label)}
    assert used <= available, f"{path.name} glues answers nobody computes: {sorted(used - available)}"
    assert available <= used, f"{path.name} never shows computed answers: {sorted(available - used)}"
    exercise_labels = {exercise["options"]["label"] for exercise, _ in exercises(path)}
    assert registered <= exercise_labels, f"answers for exercises not in {path.name}: {registered - exercise_labels}"
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    if registered:
        assert f'glue_answers("{chapter}")' in code, f"{path.name} must call answers.glue_answers({chapter!r})"


@pytest.mark.parametrize("label", answers.labels(), ids=str)
def test_every_answer_is_checked_by_a_test(label):
    chapter = label.split("-")[1]
    tests = ROOT / "tests" / "answers" / f"test_answers_ch{chapter}.py"
    assert tests.exists() and f'"{label}"' in tests.read_text(), f"no check of {label} in {tests.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_opens_with_what_it_shows_and_assumes_and_ends_with_summary_exercises_references(path):
    text = markdown(path)
    first = text.split("\n## ", 1)[0]
    assert ":::{admonition} Overview" in first and "*Prerequisites:*" in first, path.name
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings[-3:] == ["Summary", "Exercises", "References"], (path.name, headings[-3:])
    assert re.search(r"\{cite(:t|:p)?\}`", text.rsplit("## References", 1)[1]), f"{path.name}: references cite nothing"


def test_answers_reject_unknown_labels():
    with pytest.raises(ValueError, match="label"):
        answers.solve("ex-99-nothing")
    with pytest.raises(ValueError, match="chapter"):
        answers.labels("99")
