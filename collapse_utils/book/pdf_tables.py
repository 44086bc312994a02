"""pandas tables as tables in the PDF (:mod:`collapse_utils.book.pdf`).

LaTeX shows a ``text/html`` output as its plain text; a pandas table would
reach the PDF as a column-aligned block of code. :func:`add_table_markdown`
gives each such output a ``text/markdown`` twin, a reStructuredText grid table
inside ``{eval-rst}`` (:func:`grid_table`), which LaTeX prefers and the HTML
ignores. (Chapter: "How to run this book".)
"""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Table(HTMLParser):
    """The cells of the one ``<table>`` of pandas' HTML and the text around it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[dict]] = []
        self.header_rows = 0
        self.tables = 0
        self.outside: list[str] = []
        self._cell: dict | None = None
        self._section = None
        self._skip = 0  # inside <style> or <script>

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "table":
            self.tables += 1
        elif tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr":
            self.rows.append([])
            if self._section == "thead":
                self.header_rows += 1
        elif tag in ("td", "th") and self.rows:
            span = {k: int(attrs.get(k) or 1) for k in ("colspan", "rowspan")}
            self._cell = {"text": "", **span}
            self.rows[-1].append(self._cell)

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1
        elif tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data):
        if self._skip:
            return
        if self._cell is not None:
            self._cell["text"] += data
        elif data.strip():
            self.outside.append(data.strip())


def _escape_rst(text: str) -> str:
    text = re.sub(r"([\\*`_|<>\[\]])", r"\\\1", " ".join(text.split()))
    # a cell that starts like a list item ("- a", "1. b", "(a) c") would become a list
    if re.match(r"^([-+*•]\s|\(?[0-9A-Za-z#]+[.)]\s|\(?[0-9A-Za-z#]+[.)]$)", text):
        text = "\\" + text
    return text


def _grid(rows: list[list[dict]]) -> tuple[list[list[int]], list[dict]]:
    """Place HTML cells on a grid: ``owner[r][c]`` is the index of the cell covering (r, c)."""
    cells, owner = [], [[] for _ in rows]
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while c < len(owner[r]) and owner[r][c] is not None:
                c += 1
            index = len(cells)
            cells.append({**cell, "row": r, "col": c})
            for rr in range(r, min(r + cell["rowspan"], len(rows))):
                line = owner[rr]
                line.extend([None] * (c + cell["colspan"] - len(line)))
                for cc in range(c, c + cell["colspan"]):
                    line[cc] = index
            c += cell["colspan"]
    width = max(len(line) for line in owner)
    if any(len(line) != width or None in line for line in owner):
        raise ValueError("the table's rows do not fill a rectangle")
    return owner, cells


def grid_table(html: str) -> str | None:
    """A pandas ``DataFrame.to_html`` table as an reStructuredText grid table, or None.

    The cells keep their text as displayed (spans included). pandas' row of
    index names (a last header row filled only under the empty corner cells of
    the row above) joins the row above. None when ``html`` holds no table, or more than one.

    Book: {doc}`../book/how_to_run`
    """
    from docutils.utils import column_width

    parser = _Table()
    parser.feed(html)
    if parser.tables != 1 or not parser.rows or not any(parser.rows):
        return None
    rows, header_rows = parser.rows, parser.header_rows
    if header_rows >= 2:
        names, above = rows[header_rows - 1], rows[header_rows - 2]
        filled = [i for i, cell in enumerate(names) if cell["text"].strip()]
        blank = 0  # the leading cells of the row above that are empty and one column wide
        while blank < len(above) and not above[blank]["text"].strip() and above[blank]["colspan"] == 1:
            blank += 1
        if filled and filled[-1] < blank and all(cell["colspan"] == 1 for cell in names[:blank]):
            for i in filled:
                above[i]["text"] = names[i]["text"]
            del rows[header_rows - 1]
            header_rows -= 1
    try:
        owner, cells = _grid(rows)
    except ValueError:
        return None
    for cell in cells:
        cell["text"] = _escape_rst(cell["text"])
    n_rows, n_cols = len(owner), len(owner[0])
    widths = [3] * n_cols
    for cell in sorted(cells, key=lambda cell: cell["colspan"]):
        span = range(cell["col"], cell["col"] + cell["colspan"])
        need = column_width(cell["text"]) + 2 - (sum(widths[c] for c in span) + len(span) - 1)
        if need > 0:
            widths[span[-1]] += need

    def border(b: int) -> str:
        rule = "=" if b == header_rows and 0 < b < n_rows else "-"
        cuts = [b in (0, n_rows) or owner[b - 1][c] != owner[b][c] for c in range(n_cols)]
        out = []
        for j in range(n_cols + 1):
            up = 0 < b and (j in (0, n_cols) or owner[b - 1][j - 1] != owner[b - 1][j])
            down = b < n_rows and (j in (0, n_cols) or owner[b][j - 1] != owner[b][j])
            side = (j > 0 and cuts[j - 1]) or (j < n_cols and cuts[j])
            out.append("+" if (up or down) and side else rule if side else "|" if up or down else " ")
            if j < n_cols:
                if cuts[j]:
                    out.append(rule * widths[j])
                else:  # a cell spanning rows continues: blank
                    out.append(" " * widths[j])
        return "".join(out)

    def content(r: int) -> str:
        out, c = [], 0
        while c < n_cols:
            cell = cells[owner[r][c]]
            span = cell["col"] + cell["colspan"] - c
            area = sum(widths[c : c + span]) + span - 1
            text = " " + cell["text"] if cell["row"] == r else ""
            out.append("|" + text + " " * (area - column_width(text)))
            c += span
        return "".join(out) + "|"

    lines = [border(0)]
    for r in range(n_rows):
        lines += [content(r), border(r + 1)]
    table = "\n".join(lines)
    if parser.outside:
        table += "\n\n" + _escape_rst(" ".join(parser.outside))
    return table


HTML_KEYS = ("text/html", "application/papermill.record/text/html")


def add_table_markdown(notebook: dict) -> int:
    """Give every output holding a pandas table a ``text/markdown`` twin (an ``{eval-rst}``
    grid table); LaTeX prefers it to the plain text, the HTML keeps its HTML. Returns how many.

    Book: {doc}`../book/how_to_run`
    """
    added = 0
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for key in HTML_KEYS:
                markdown_key = key.replace("text/html", "text/markdown")
                if key not in data or markdown_key in data:
                    continue
                source = data[key]
                text = "".join(source) if isinstance(source, list) else str(source)
                if 'class="dataframe"' not in text:
                    continue
                table = grid_table(text)
                if table is not None:
                    data[markdown_key] = "```{eval-rst}\n" + table + "\n```\n"
                    added += 1
    return added
