"""The "Paper vs this book" table that opens every replication section.

A replication states, setting by setting, what the paper's released code does,
what the chapter does and why they differ. The book's column must come from
the configuration the chapter actually runs (its parameters, the model it
builds), never typed, so a chapter builds its rows with :class:`Setting` from
live values and glues :func:`paper_vs_book`'s table::

    rows = [
        Setting("Samples per generation", paper="1,000 (`Normals_GMM_experiments.ipynb`)",
                book=f"{n:,}"),
        Setting("Generations", paper="2,000", book=f"{generations:,}", why="..."),
    ]
    glue("paper-vs-book-04", paper_vs_book(rows), display=False)

A row whose two columns differ must say why (:func:`paper_vs_book` refuses an
empty reason), so no difference goes unexplained.

Book: {doc}`notebooks/04_gaussian_mixtures`
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

COLUMNS = ("Setting", "Paper's code", "This book", "Why")


@dataclass(frozen=True)
class Setting:
    """One row: a setting, what the paper's code does, what we do, and why they differ.

    ``same=True`` marks a row whose two descriptions are worded differently but
    mean the same thing (then no reason is needed).

    Book: {doc}`notebooks/04_gaussian_mixtures`
    """

    name: str
    paper: str
    book: str
    why: str = ""
    same: bool = False

    def __post_init__(self):
        for field in ("name", "paper", "book"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"Setting.{field} must be a non-empty string; got {value!r}")
        if not isinstance(self.why, str):
            raise ValueError(f"Setting.why must be a string; got {self.why!r}")

    @property
    def differs(self) -> bool:
        return not self.same and self.paper.strip() != self.book.strip()


def paper_vs_book(settings: Iterable[Setting]) -> pd.DataFrame:
    """The table: one row per setting, columns ``COLUMNS``; "same" where nothing differs.

    Raises ``ValueError`` for a row whose paper and book columns differ without a
    reason, or for two rows with the same name.

    Book: {doc}`notebooks/04_gaussian_mixtures`
    """
    rows = list(settings)
    if not rows:
        raise ValueError("paper_vs_book needs at least one Setting")
    seen = set()
    out = []
    for row in rows:
        if not isinstance(row, Setting):
            raise ValueError(f"paper_vs_book takes Setting rows; got {type(row).__name__}")
        if row.name in seen:
            raise ValueError(f"paper_vs_book: setting {row.name!r} appears twice")
        seen.add(row.name)
        if row.differs and not row.why.strip():
            raise ValueError(f"paper_vs_book: setting {row.name!r} differs from the paper "
                             f"({row.paper!r} vs {row.book!r}); give the reason in why=")
        out.append((row.name, row.paper, row.book, row.why.strip() if row.differs or row.why.strip() else "same"))
    return pd.DataFrame(out, columns=list(COLUMNS)).set_index("Setting")
