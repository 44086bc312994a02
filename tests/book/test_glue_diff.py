"""The script that compares the glued values of two builds."""

from __future__ import annotations

import json

from collapse_utils.book import glue_diff

RECORD = "application/papermill.record/"


def notebook(path, values):
    outputs = [
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": k, "mime_prefix": RECORD}},
         "data": ({RECORD + "image/png": "x"} if v == "<figure>" else {RECORD + "text/plain": v})}
        for k, v in values.items()
    ]
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": outputs, "metadata": {}}], "metadata": {},
          "nbformat": 4, "nbformat_minor": 5}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))


def test_compare_reports_changed_added_and_removed_values(tmp_path, capsys):
    old, new = tmp_path / "old", tmp_path / "new"
    notebook(old / "_build/source/notebooks/01_a.ipynb", {"x": "0.5", "y": "2", "fig": "<figure>", "gone": "1"})
    notebook(new / "_build/source/notebooks/01_a.ipynb", {"x": "0.5", "y": "3", "fig": "<figure>", "new": "4"})
    rows = glue_diff.compare(old, new)
    assert rows == [("01_a", "gone", "1", None), ("01_a", "new", None, "4"), ("01_a", "y", "2", "3")]
    assert glue_diff.main([str(old), str(new)]) == 1
    assert "1 changed, 1 added, 1 removed" in capsys.readouterr().out
    assert glue_diff.main([str(old), str(old)]) == 0
    assert glue_diff.main([str(old), str(tmp_path / "missing")]) == 2
