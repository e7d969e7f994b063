"""The tables of an HTML text, read in one streaming pass of lxml's HTML parser (libxml2) with a parser
target (no document tree: the privacy scan reads every page and notebook of a statewide site, and a tree
costs twice the parse). Python's own `html.parser` read the same tables three times slower (docs/benchmarks.md,
run J).

Each `<table>` gives its header (the text of every `th` in it) and its rows (the `td` texts of each `tr`;
rows without a `td` left out). A cell's text is its strings, each stripped, joined by one space, as
BeautifulSoup's `get_text(" ", strip=True)` gives it. Cells of a table inside a table belong to the inner
one. Browsers' leniency is followed where a file may lean on it: an unclosed cell ends at the next cell, row
or table, an unclosed row at the next row or the table's end, an unclosed table at the end of the text."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

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


class _Reader:
    """An lxml parser target: the parser's start, end and data events; the strings of consecutive data
    events are one string (libxml2 may hand one text in pieces)."""

    def __init__(self) -> None:
        self.open: list[_Open] = []
        self.done: list[tuple[int, Table]] = []  # (order of the table's start, table)
        self.started = 0
        self.in_text = False  # the last event was data

    def start(self, tag: str, attrib) -> None:
        self.in_text = False
        if tag == "table":
            self.open.append(_Open(self.started))
            self.started += 1
        elif self.open and tag == "tr":
            self.open[-1].end_row()
            self.open[-1].row = []
        elif self.open and tag in ("td", "th"):
            self.open[-1].end_cell()
            self.open[-1].cell = tag

    def end(self, tag: str) -> None:
        self.in_text = False
        if not self.open:
            return
        if tag == "table":
            self._close()
        elif tag == "tr":
            self.open[-1].end_row()
        elif tag in ("td", "th"):
            self.open[-1].end_cell()

    def data(self, data: str) -> None:
        if self.open and self.open[-1].cell is not None:
            parts = self.open[-1].parts
            if self.in_text and parts:
                parts[-1] += data
            else:
                parts.append(data)
        self.in_text = True

    def comment(self, text: str) -> None:  # a comment, instruction or declaration parts the texts around it
        self.in_text = False

    def pi(self, target: str, data: str | None = None) -> None:
        self.in_text = False

    def doctype(self, *declaration) -> None:
        self.in_text = False

    def _close(self) -> None:
        table = self.open.pop()
        table.end_row()
        self.done.append((table.order, (table.header, table.rows)))

    def close(self) -> list[Table]:
        while self.open:
            self._close()
        return [t for _, t in sorted(self.done, key=lambda d: d[0])]


def read(html: str) -> list[Table]:
    """Every table of `html`, in the order they start: (header texts, rows of cell texts)."""
    parser = etree.HTMLParser(target=_Reader(), no_network=True, huge_tree=True)
    parser.feed(html)
    return parser.close()
