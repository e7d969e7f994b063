"""One file of any kind: tell research, entities, lookup and Student Score Data Files apart by their
header, and read it with its reader."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.core.errors import InputError
from helpers.ingest import layouts, student_file
from helpers.ingest.fields import canonical
from helpers.ingest.lookups import (
    read_entities,
    read_headerless_subgroups,
    read_student_groups,
    read_tests,
)
from helpers.ingest.research import ResultPart, read_results
from helpers.ingest.scope import County
from helpers.ingest.text import (
    blank_lines,
    header_line,
    parse_rows,
    parse_rows_where,
    read_text,
    source_name,
    split_header,
)

HEADERLESS_SUBGROUPS = re.compile(r'^"\d{3}", ?\d+, ?"')


@dataclass(frozen=True)
class Source:
    """What was read from one file: a row of the store's sources table."""

    file: str
    sha256: str
    kind: str
    era: str
    delimiter: str
    rows_read: int
    bytes: int
    rows_rejected: int = 0  # a public file with a bad row is rejected whole; student files drop bad records


def read_file(path: Path) -> tuple[str, pd.DataFrame, Source]:
    """Read one file of any supported kind; return (kind, typed frame, source record)."""
    kind, rows, source = read_rows(path)
    return kind, rows.to_pandas() if isinstance(rows, ResultPart) else rows, source


def read_rows(path: Path, county: County | None = None) -> tuple[str, ResultPart | pd.DataFrame, Source]:
    """As `read_file`, but a research file's rows stay in Arrow; with `county`, only the rows of a research
    file its block filter keeps are typed (helpers.ingest.scope)."""
    file = read_text(path)
    data, sha, size = file.data, file.sha256, file.size
    if HEADERLESS_SUBGROUPS.match(header_line(data)):
        frame = read_headerless_subgroups(path, data)
        return "student_groups", frame, Source(source_name(path), sha, "student_groups",
                                               "2015–2019 headerless lookup", ",", len(frame), size)
    delim, names = split_header(path, data)
    if student_file.is_student_file(names):  # TOMS Student Score Data File: SSID dropped, bad records reported
        frame, report = student_file.read(path, decoded=file)
        frame.attrs["issues"] = report.to_frame()
        return "students", frame, Source(source_name(path), sha, "students", report.label, delim, report.records, size,
                                         report.excluded)
    del file
    kind, era, aliases, reader = classify(path, names, delim)
    at = None
    if county is not None and kind == "results":
        where = county.block_filter({aliases[n]: i for i, n in enumerate(names) if n in aliases})
        columns, at, parsed = parse_rows_where(path, data, delim, names, where)
    else:
        columns = parse_rows(path, data, delim, names)
        parsed = len(columns[0]) if columns else 0
    blanks = blank_lines(data)
    del data  # the text lives on in `columns`
    text = canonical(path, names, columns, aliases, blanks=blanks, at=at)
    del columns  # `text` alone holds the columns: readers free each one once typed
    rows = reader(text)
    return kind, rows, Source(source_name(path), sha, kind, era, delim, parsed if at is not None else len(rows),
                              size)


def classify(path: Path, names: list[str], delim: str = "^") -> tuple[str, str, dict[str, str], Callable]:
    """(kind, era label, header aliases, reader) of a file with this header."""
    header = set(names)
    if "Demographic ID Num" in header:
        return "student_groups", "lookup", layouts.STUDENT_GROUP_ALIASES, read_student_groups
    if "Test ID Num" in header:
        return "tests", "lookup", layouts.TEST_ALIASES, read_tests
    if "County Name" in header and not header & {"Test Id", "Test ID"}:
        era = layouts.detect_entity_era(names, delim)
        return "entities", era.label, layouts.ENTITY_ALIASES, read_entities
    era = layouts.detect_result_era(names)
    if era is None:
        raise InputError(path, "unknown header: not a CAASPP research, entities or lookup file "
                         f"(starts {', '.join(names[:4])})", 1)
    return "results", era.label, layouts.RESULTS_ALIASES, read_results
