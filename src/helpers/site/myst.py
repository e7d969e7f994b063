"""MyST building blocks for generated chapters: numbered tables and figures, collapsible data tables, and
each table's CSV with a download link under it (while `csv_files` is active)."""

from __future__ import annotations

import contextlib
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pandas as pd

from helpers.core import stable_write
from helpers.report.page_tables import md_text

CSV_LINK = "Download this table (CSV)"


def md_table(frame: pd.DataFrame, index: bool = False) -> str:
    """A Markdown pipe table (cells escaped; blanks for missing values)."""
    if index:
        frame = frame.reset_index()
    head = [_md_cell(cell_text(c)) for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(cell_text(v)) for v in row) + " |")
    return "\n".join(lines) + "\n"


CODE = re.compile(r"`[^`|<>&]*`")


def _md_cell(text: str) -> str:
    """Literal text, except a cell that is one code span (a column name, a hash): entities are not decoded
    inside code, so escaping it would show `&#95;` on the page."""
    return text if CODE.fullmatch(text) else md_text(text)


def cell_text(value) -> str:
    """A cell or column name as shown: blank for missing, `:g` for floats, column tuples joined by ' · '."""
    if isinstance(value, tuple):
        return " · ".join(str(c) for c in value if str(c))
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass
class _CsvSink:
    folder: Path
    srcdir: Path  # the book's source root: links are absolute from it (`/book/_generated/csv/x.csv`)
    written: set[str] = field(default_factory=set)


_SINK: ContextVar[_CsvSink | None] = ContextVar("caaspp_csv_sink", default=None)


@contextlib.contextmanager
def csv_files(folder: Path, srcdir: Path) -> Iterator[None]:
    """While active, every `table` (and chart data table) is also written to `folder/<name>.csv` and gets a
    download link; on exit, CSVs of tables no longer generated are removed."""
    sink = _CsvSink(folder, srcdir)
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)
    for stale in folder.glob("*.csv") if folder.exists() else []:
        if stale.name not in sink.written:
            stale.unlink()


def _plain(frame: pd.DataFrame, index: bool) -> pd.DataFrame:
    """The table as shown, without Markdown code marks: the CSV's cells are the page's cells."""
    if index:
        frame = frame.reset_index()
    out = frame.map(lambda v: re.sub(r"`([^`]*)`", r"\1", cell_text(v)))
    out.columns = [re.sub(r"`([^`]*)`", r"\1", c) for c in (cell_text(c) for c in frame.columns)]
    return out


def csv_link(frame: pd.DataFrame, name: str, index: bool = False) -> str:
    """Write the table's CSV (when a sink is active) and return the Markdown link to it, else ''."""
    sink = _SINK.get()
    if sink is None:
        return ""
    path = sink.folder / f"{name}.csv"
    if path.name in sink.written:
        raise ValueError(f"two tables are named {name!r}: table names must be unique in the book")
    sink.written.add(path.name)
    stable_write.write_if_changed(path, _plain(frame, index).to_csv(index=False, lineterminator="\n"))
    return f"\n[{CSV_LINK}](/{path.relative_to(sink.srcdir).as_posix()})\n"


def label(*parts: object) -> str:
    """A cross-reference label from parts: lower-case ASCII words joined by hyphens."""
    text = "-".join(str(p) for p in parts)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def table(frame: pd.DataFrame, caption: str, name: str, index: bool = False, numbers: bool = False) -> str:
    """A numbered table with a caption (`caption` is Markdown: escape entity names with md_text);
    `numbers`: the compact style of the LEA pages' result tables."""
    style = ":class: caaspp-table\n" if numbers else ""
    # a colon fence: a backtick fence's info string (the caption) may not contain backticks
    return (f":::{{table}} {_one_line(caption)}\n:name: {name}\n{style}\n{md_table(frame, index=index)}:::\n"
            + csv_link(frame, name, index))


def figure(path: str, caption: str, alt: str, name: str) -> str:
    """A numbered figure with a caption and alt text; `path` is relative to the including chapter."""
    return (f"```{{figure}} {path}\n:name: {name}\n:alt: {_one_line(alt)}\n:width: 100%\n\n"
            f"{_one_line(caption)}\n```\n")


def dropdown(title: str, body: str) -> str:
    """A collapsible block (sphinx-design), closed by default: the numbers behind a chart."""
    return f":::{{dropdown}} {_one_line(title)}\n\n{body}\n:::\n"


def chart(path: str, caption: str, alt: str, name: str, data: pd.DataFrame) -> str:
    """A numbered figure followed by the table of its numbers in a dropdown."""
    return figure(path, caption, alt, name) + "\n" + dropdown(
        f"Data for {{numref}}`{name}`", md_table(data) + csv_link(data, f"{name}-data")) + "\n"


def heading(level: int, text: str) -> str:
    return f"{'#' * level} {md_text(text)}\n"
