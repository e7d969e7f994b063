"""MyST building blocks for generated chapters: numbered tables and figures, collapsible data tables, and
each table's CSV with a download link under it (while `csv_files` is active): `book/_data/<name>.csv`.

Every text given to these functions is literal (helpers.core.text), except the `caption` of `table`,
`figure` and `chart`, which is Markdown the caller built with `md_text` around any input text. A table cell
is literal text, or a `Code` (code spans) or `Linked` (text whose http(s) URLs are links) made by this
program."""

from __future__ import annotations

import contextlib
import html
import posixpath
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from helpers.core import stable_write
from helpers.core import text as literal
from helpers.report.page_tables import md_text

CSV_LINK = "Download this table (CSV)"


def code_span(text: str) -> str:
    """`text` as one Markdown code span (shown verbatim in a table cell too: `|` escaped for the table)."""
    body = literal.plain(text).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    pad = " " if body.startswith(("`", " ")) or body.endswith(("`", " ")) else ""
    return f"{fence}{pad}{body}{pad}{fence}"


class Code:
    """A cell of code spans (a column name, a hash, header names), joined by ', ' on the page and in its CSV."""

    __slots__ = ("parts",)

    def __init__(self, *parts: object) -> None:
        self.parts = tuple(str(p) for p in parts)

    def markdown(self) -> str:
        return ", ".join(code_span(p) for p in self.parts)

    def __str__(self) -> str:
        return ", ".join(self.parts)


URL = re.compile(r"https?://[^\s<>\"`|\\]*[^\s<>\"`|\\.,;:!?)\]}']")


def linked(text: object) -> str:
    """`text` as literal Markdown, with each http(s) URL in it an autolink (`<https://…>`)."""
    shown, out, end = literal.plain(text), [], 0
    for m in URL.finditer(shown):
        out += [md_text(shown[end:m.start()]), f"<{m.group(0)}>"]
        end = m.end()
    return "".join(out + [md_text(shown[end:])])


@dataclass(frozen=True)
class Linked:
    """A cell of literal text whose http(s) URLs are links (a cut table's source)."""

    text: str

    def markdown(self) -> str:
        return linked(self.text)

    def __str__(self) -> str:
        return self.text


def md_table(frame: pd.DataFrame, index: bool = False) -> str:
    """A Markdown pipe table of literal cells (and program-made `Code`/`Linked` cells); blanks for missing
    values."""
    if index:
        frame = frame.reset_index()
    head = [_md_cell(c) for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _md_cell(value: object) -> str:
    return value.markdown() if isinstance(value, (Code, Linked)) else md_text(cell_text(value))


def cell_text(value) -> str:
    """A cell or column name as shown: blank for missing, `:g` for floats, column tuples joined by ' · '."""
    if isinstance(value, (Code, Linked)):
        return str(value)
    if isinstance(value, tuple):
        return " · ".join(str(c) for c in value if str(c))
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


DATA = "book/_data"  # where the chapters' CSVs are in the site: book/_data/<table name>.csv


@dataclass
class _CsvSink:
    folder: Path  # copied into the site as DATA (html_extra_path: see helpers.site.book)
    written: set[str] = field(default_factory=set)


_SINK: ContextVar[_CsvSink | None] = ContextVar("caaspp_csv_sink", default=None)


@contextlib.contextmanager
def csv_files(folder: Path) -> Iterator[None]:
    """While active, every `table` (and chart data table) is also written to `folder/<name>.csv` (the site's
    `DATA/<name>.csv`) and gets a download link; on exit, CSVs of tables no longer generated are removed."""
    sink = _CsvSink(folder)
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)
    for stale in folder.glob("*.csv") if folder.exists() else []:
        if stale.name not in sink.written:
            stale.unlink()


def csv_sink() -> tuple[Path, frozenset[str]] | None:
    """The active `csv_files` folder and the CSV names written into it so far, or None."""
    sink = _SINK.get()
    return None if sink is None else (sink.folder, frozenset(sink.written))


def keep_csvs(names: Iterable[str]) -> None:
    """Count CSVs written by an earlier build as written by this one (a page kept as it was, whose tables
    would write the same files): `csv_files` then keeps them."""
    sink = _SINK.get()
    for name in names:
        if sink is None or name in sink.written or not (sink.folder / name).is_file():
            raise ValueError(f"{name} cannot be kept: no CSV sink, written twice, or not written before")
        sink.written.add(name)


def _plain(frame: pd.DataFrame, index: bool) -> pd.DataFrame:
    """The table as shown (code spans as their text): the CSV's cells are the page's cells."""
    if index:
        frame = frame.reset_index()
    out = frame.map(cell_text)
    out.columns = [cell_text(c) for c in frame.columns]
    if "" in list(out.columns):
        raise ValueError(f"a column of the table has no name: {list(out.columns)}")
    return out


def csv_link(frame: pd.DataFrame, name: str, index: bool = False, page_dir: str = "book") -> str:
    """Write the table's CSV (when a sink is active) and return the HTML link to it from a page in the site
    folder `page_dir` (a plain link, not a Sphinx download: its path is stable and readable), else ''."""
    sink = _SINK.get()
    if sink is None:
        return ""
    path = sink.folder / f"{name}.csv"
    if path.name in sink.written:
        raise ValueError(f"two tables are named {name!r}: table names must be unique in the book")
    sink.written.add(path.name)
    stable_write.write_if_changed(path, literal.csv_frame(_plain(frame, index)).to_csv(index=False, lineterminator="\n"))
    href = posixpath.relpath(f"{DATA}/{path.name}", page_dir)
    return f'\n<p class="caaspp-csv"><a href="{html.escape(href, quote=True)}" download>{CSV_LINK}</a></p>\n'


def label(*parts: object) -> str:
    """A cross-reference label from parts: lower-case ASCII words joined by hyphens."""
    text = "-".join(str(p) for p in parts)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def table(frame: pd.DataFrame, caption: str, name: str, index: bool = False, numbers: bool = False) -> str:
    """A numbered table with a caption (`caption` is Markdown: escape input text in it with md_text);
    `numbers`: the compact style of the LEA pages' result tables."""
    style = ":class: caaspp-table\n" if numbers else ""
    # a colon fence: a backtick fence's info string (the caption) may not contain backticks
    return (f":::{{table}} {_one_line(caption)}\n:name: {name}\n{style}\n{md_table(frame, index=index)}:::\n"
            + csv_link(frame, name, index))


def figure(path: str, caption: str, alt: str, name: str) -> str:
    """A numbered figure with a caption (Markdown) and alt text (literal); `path` is relative to the including
    chapter."""
    return (f"```{{figure}} {path}\n:name: {name}\n:alt: {literal.option(_one_line(alt))}\n:width: 100%\n\n"
            f"{_one_line(caption)}\n```\n")


def dropdown(title: str, body: str) -> str:
    """A collapsible block (sphinx-design), closed by default: the numbers behind a chart (`title`: Markdown)."""
    return f":::{{dropdown}} {_one_line(title)}\n\n{body}\n:::\n"


def chart(path: str, caption: str, alt: str, name: str, data: pd.DataFrame) -> str:
    """A numbered figure followed by the table of its numbers in a dropdown."""
    return figure(path, caption, alt, name) + "\n" + dropdown(
        f"Data for {{numref}}`{name}`", md_table(data) + csv_link(data, f"{name}-data")) + "\n"


def heading(level: int, text: str) -> str:
    """A heading whose text is literal."""
    return f"{'#' * level} {md_text(text)}\n"
