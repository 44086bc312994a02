"""The book's machinery, kept apart from the library: nothing outside ``book/`` imports it.

- :mod:`~collapse_utils.book.build`: validate parameters, execute every notebook with
  papermill, build the HTML (``python -m collapse_utils.book.build``);
- :mod:`~collapse_utils.book.params` and :mod:`~collapse_utils.book.profiles`: the
  notebooks' parameter declarations and the ``smoke`` / ``book`` / ``paper`` profiles;
- :mod:`~collapse_utils.book.glue`: ``glue_many``, ``show`` and ``setup`` for notebooks;
- :mod:`~collapse_utils.book.plotting`: the house style and ``save_figure``;
- :mod:`~collapse_utils.book.sphinx_ext`: the Sphinx extension the book registers (alt texts,
  CSS/JS for code, equations and the phone sidebar, favicon);
- :mod:`~collapse_utils.book.repository`: the repository URL, one setting, written everywhere;
- :mod:`~collapse_utils.book.glue_diff` and :mod:`~collapse_utils.book.cell_stats`: compare
  two builds' glued values; measure the notebooks' code cells.
"""
