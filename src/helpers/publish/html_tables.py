"""The tables of an HTML text, read in one streaming pass (no document tree: the privacy scan reads every
page and notebook of a statewide site, and a tree costs twice the parse).

Each `<table>` gives its header (the text of every `th` in it) and its rows (the `td` texts of each `tr`;
rows without a `td` left out). A cell's text is its strings, each stripped, joined by one space, as
BeautifulSoup's `get_text(" ", strip=True)` gives it. Cells of a table inside a table belong to the inner
one. Browsers' leniency is followed where a file may lean on it: an unclosed cell ends at the next cell, row
or table, an unclosed row at the next row or the table's end, an unclosed table at the end of the text."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

Table = tuple[list[str], list[list[str]]]


@dataclass
class _Open:
    order: int  # tables are listed in the order they start
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    row: list[str] | None = None
    cell: str | None = None  # "th" or "td" while inside one
    parts: list[str] = field(default_factory=list)

    def end_cell(self) -> None:
        if self.cell is None:
            return
        text = " ".join(s for s in (p.strip() for p in self.parts) if s)
        if self.cell == "th":
            self.header.append(text)
        elif self.row is not None:
            self.row.append(text)
        else:  # a td outside any tr is a row of its own
            self.rows.append([text])
        self.cell, self.parts = None, []

    def end_row(self) -> None:
        self.end_cell()
        if self.row:
            self.rows.append(self.row)
        self.row = None


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[_Open] = []
        self.done: list[tuple[int, Table]] = []  # (order of the table's start, table)
        self.started = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self.open.append(_Open(self.started))
            self.started += 1
        elif self.open and tag == "tr":
            self.open[-1].end_row()
            self.open[-1].row = []
        elif self.open and tag in ("td", "th"):
            self.open[-1].end_cell()
            self.open[-1].cell = tag

    def handle_endtag(self, tag: str) -> None:
        if not self.open:
            return
        if tag == "table":
            self._close()
        elif tag == "tr":
            self.open[-1].end_row()
        elif tag in ("td", "th"):
            self.open[-1].end_cell()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1].cell is not None:
            self.open[-1].parts.append(data)

    def _close(self) -> None:
        table = self.open.pop()
        table.end_row()
        self.done.append((table.order, (table.header, table.rows)))

    def tables(self) -> list[Table]:
        self.close()
        while self.open:
            self._close()
        return [t for _, t in sorted(self.done, key=lambda d: d[0])]


def read(html: str) -> list[Table]:
    """Every table of `html`, in the order they start: (header texts, rows of cell texts)."""
    reader = _Reader()
    reader.feed(html)
    return reader.tables()
