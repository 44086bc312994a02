"""collapse_utils.book.compare: the paper-vs-book table of the replication chapters."""

import pytest

from collapse_utils.book.compare import COLUMNS, Setting, paper_vs_book


def test_the_table_has_one_row_per_setting_and_marks_agreement():
    table = paper_vs_book([
        Setting("Generations", paper="2,000", book="2,000"),
        Setting("Chains", paper="1", book="5", why="a band over chains"),
        Setting("Optimiser", paper="Adam(lr=1e-3)", book="torch.optim.Adam, lr 0.001", same=True),
    ])
    assert list(table.columns) == list(COLUMNS[1:]) and table.index.name == COLUMNS[0]
    assert table.loc["Generations", "Why"] == "same"
    assert table.loc["Chains", "Why"] == "a band over chains"
    assert table.loc["Optimiser", "Why"] == "same"


def test_a_difference_without_a_reason_is_refused():
    with pytest.raises(ValueError, match="'Chains' differs.*why="):
        paper_vs_book([Setting("Chains", paper="1", book="5")])


@pytest.mark.parametrize("rows, message", [
    ([], "at least one"),
    ([Setting("A", "1", "1"), Setting("A", "2", "2")], "appears twice"),
    (["not a setting"], "takes Setting rows"),
])
def test_bad_tables_are_refused(rows, message):
    with pytest.raises(ValueError, match=message):
        paper_vs_book(rows)


@pytest.mark.parametrize("field", ["name", "paper", "book"])
def test_empty_fields_are_refused(field):
    values = {"name": "A", "paper": "1", "book": "1"} | {field: " "}
    with pytest.raises(ValueError, match=f"Setting.{field}"):
        Setting(**values)
