"""collapse_utils.book.renumber: moving chapters to new numbers across the repository."""

import subprocess

import pytest

from collapse_utils.book.renumber import renumber, rewrite

MAPPING = {"08": "09", "09": "10"}
STEMS = {"08_sampling": "09_sampling", "09_tails": "10_tails"}


@pytest.mark.parametrize("before, after", [
    ("see {doc}`08_sampling` and {doc}`09_tails`", "see {doc}`09_sampling` and {doc}`10_tails`"),
    ("{numref}`fig-08-zipf`, {prf:ref}`thm-09-clean`", "{numref}`fig-09-zipf`, {prf:ref}`thm-10-clean`"),
    ("{glue:text}`ans-ex-08-top--n`", "{glue:text}`ans-ex-09-top--n`"),
    ("from collapse_utils.answers import ch08", "from collapse_utils.answers import ch09"),
    ('glue_answers("09")', 'glue_answers("10")'),
    ('"glue_answers(\\"09\\")"', '"glue_answers(\\"10\\")"'),  # inside a notebook's JSON
    ('show(fig, \\"08_zipf\\", glue_as=\\"fig-08-zipf\\")', 'show(fig, \\"09_zipf\\", glue_as=\\"fig-09-zipf\\")'),
    ("```{figure} figures/08_zipf.png", "```{figure} figures/09_zipf.png"),
    ("Chapter 08 and chapters 07–09; chapters 08, 09 and 11", "Chapter 09 and chapters 07–10; chapters 09, 10 and 11"),
    ("The torch-free chapters: 01, 08 and 09.", "The torch-free chapters: 01, 09 and 10."),
    ("| `samplers` | one filter | 07, 08 |", "| `samplers` | one filter | 07, 09 |"),
    ("{doc}`Ch. 8 <../notebooks/08_sampling>`", "{doc}`Ch. 9 <../notebooks/09_sampling>`"),
])
def test_every_kind_of_chapter_number_moves_at_once(before, after):
    assert rewrite(before, MAPPING, STEMS)[0] == after


@pytest.mark.parametrize("text", [
    '"id": "cell-08-b"',  # cell ids are not chapter numbers
    "n = 08 + 09",  # a number without a chapter context
    "epoch08, batch09",
    "chapter 07",  # not in the mapping
])
def test_what_is_not_a_chapter_number_stays(text):
    assert rewrite(text, MAPPING, STEMS) == (text, 0)


def test_the_mapping_is_applied_simultaneously_not_in_a_chain():
    assert rewrite("chapter 08, chapter 09", MAPPING)[0] == "chapter 09, chapter 10"


@pytest.mark.parametrize("mapping, message", [
    ({"8": "09"}, "two digits"),
    ({"08": "10", "09": "10"}, "same new number"),
])
def test_bad_mappings_are_refused(mapping, message):
    with pytest.raises(ValueError, match=message):
        rewrite("chapter 08", mapping)


def test_files_are_moved_and_rewritten_in_a_git_tree(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "answers").mkdir()
    (tmp_path / "notebooks" / "08_sampling.ipynb").write_text('{"text": "chapter 08, see 09_tails"}')
    (tmp_path / "notebooks" / "09_tails.ipynb").write_text('{"text": "{numref}`fig-09-a`"}')
    (tmp_path / "answers" / "ch08.py").write_text("# chapter 08\n")
    (tmp_path / "CHANGELOG.md").write_text("chapter 08 was added\n")
    git("init", "-q")
    git("add", ".")
    changed = renumber(tmp_path, MAPPING)
    assert (tmp_path / "notebooks" / "09_sampling.ipynb").read_text() == '{"text": "chapter 09, see 10_tails"}'
    assert (tmp_path / "notebooks" / "10_tails.ipynb").read_text() == '{"text": "{numref}`fig-10-a`"}'
    assert (tmp_path / "answers" / "ch09.py").read_text() == "# chapter 09\n"
    assert not (tmp_path / "notebooks" / "08_sampling.ipynb").exists()
    assert (tmp_path / "CHANGELOG.md").read_text() == "chapter 08 was added\n"  # history keeps its numbers
    assert "notebooks/08_sampling.ipynb -> notebooks/09_sampling.ipynb" in changed
