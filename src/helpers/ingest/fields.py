"""A file's rows as text columns under canonical names, and each column typed and checked: numbers
('*' = suppressed, blank = missing) and zero-padded codes; a bad value names its file, line and field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.core.errors import InputError
from helpers.ingest.schema import CODE_WIDTHS
from helpers.ingest.text import NO_BLANKS, real_lines

DECIMAL = r"[+-]?(?:\d+\.?\d*|\.\d+)"  # a number written out in digits: no exponent, inf or nan
LARGEST = 2**53  # a count beyond this is not a count (and would overflow or lose digits)
PLAIN_DIGITS = 15  # characters: below 2**53, so pandas (via float64 when a column has "*") and Arrow agree
STAR, NO_TEXT = pa.scalar("*"), pa.scalar(None, pa.string())


@dataclass
class Text:
    """One file's rows as text columns under canonical names; row i is on line `first_line + i` (or, for
    the rows of a filtered read, `first_line + at[i]`), plus the blank lines before it."""

    path: Path
    columns: dict[str, pa.ChunkedArray]
    header: dict[str, str]  # canonical name → the header's spelling
    first_line: int
    rows: int
    blanks: np.ndarray = field(default_factory=lambda: NO_BLANKS)  # empty lines the parser skipped
    at: np.ndarray | None = None  # a filtered read's row numbers in the file (as the parser counts rows)

    def line(self, i: int) -> int:
        """The file's line number of row i."""
        return real_lines(self.first_line + (i if self.at is None else int(self.at[i])), self.blanks)

    def field(self, col: str) -> str:
        return self.header.get(col, col)

    def check(self, mask, field: str, message: Callable[[object], str], values) -> None:
        """Fail on the first row where `mask` (Arrow or numpy) is true, quoting `values` there."""
        i = first_true(mask)
        if i is not None:
            value = values[i].as_py() if isinstance(values, (pa.Array, pa.ChunkedArray)) else values.iloc[i]
            raise InputError(self.path, message(value), self.line(i), field)

    def source_lines(self) -> np.ndarray:
        return file_lines(self.first_line, self.blanks, self.at, self.rows)


def file_lines(first_line: int, blanks: np.ndarray, at: np.ndarray | None, rows: int) -> np.ndarray:
    """The file's line number of each of `rows` rows: consecutive from `first_line`, or at `at` (a filtered
    read), with the skipped blank lines counted."""
    index = np.arange(rows, dtype=np.int64) if at is None else at
    return real_lines(first_line + index, blanks)


def first_true(mask) -> int | None:
    if isinstance(mask, (pa.Array, pa.ChunkedArray)):
        i = pc.index(mask, True).as_py()
        return None if i < 0 else i
    hits = np.flatnonzero(np.asarray(mask))
    return int(hits[0]) if len(hits) else None


def canonical(path: Path, names: list[str], columns: list[pa.ChunkedArray], aliases: dict[str, str],
              first_line: int = 2, blanks: np.ndarray = NO_BLANKS, at: np.ndarray | None = None) -> Text:
    """Rename header names to canonical ones; an unknown or repeated name is an error."""
    seen: dict[str, str] = {}
    for name in names:
        if name not in aliases:
            raise InputError(path, "unknown column in header: not a known CAASPP layout", 1, name)
        key = aliases[name]
        if key in seen:
            raise InputError(path, f"column repeats '{seen[key]}'", 1, name)
        seen[key] = name
    rows = len(columns[0]) if columns else 0
    return Text(path, {aliases[n]: c for n, c in zip(names, columns)}, seen, first_line, rows, blanks, at)


def numeric(text: Text, col: str, *, whole: bool, lo: float | None = None,
            hi: float | None = None) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """Type one column: '*' → missing + suppressed flag, blank → missing, anything else must be a number."""
    raw, allowed = text.columns[col], b"0123456789*" if whole else b"0123456789.*"
    plain = only_bytes(raw, allowed)
    trimmed = raw if plain else pc.utf8_trim_whitespace(raw)  # plain text has no spaces to trim
    plain = plain or only_bytes(trimmed, allowed)
    star = pc.equal(trimmed, STAR)
    given = pc.if_else(pc.or_(star, pc.equal(pc.binary_length(trimmed), 0)), NO_TEXT, trimmed)
    values = _plain_number(given, whole) if plain else None
    if values is None:
        return _parsed_number(text, col, trimmed, star, whole, lo, hi), star
    field = text.field(col)
    if lo is not None and lo > 0:  # plain numbers are never negative
        text.check(pc.less(values, lo), field, lambda v: f"below {lo:g}: {v!r}", trimmed)
    if hi is not None:
        text.check(pc.greater(values, hi), field, lambda v: f"above {hi:g}: {v!r}", trimmed)
    return values, star


def only_bytes(col: pa.ChunkedArray, allowed: bytes) -> bool:
    """Whether every value of a text column is made of `allowed` characters (checked on its data buffers)."""
    ok = np.zeros(256, dtype=bool)
    ok[list(allowed)] = True
    for chunk in col.chunks:
        _, offsets, data = chunk.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int32)[[chunk.offset, chunk.offset + len(chunk)]]
        if data is not None and not ok[np.frombuffer(data, dtype=np.uint8)[bounds[0]:bounds[1]]].all():
            return False
    return True


def _plain_number(given: pa.ChunkedArray, whole: bool) -> pa.ChunkedArray | None:
    """`given` (digits, '.', '*') as int64 (whole) or float64, if each is one number that pandas would
    read the same: not '*' or '1.2.3', not too long."""
    if (pc.max(pc.binary_length(given)).as_py() or 0) > PLAIN_DIGITS:
        return None
    try:
        return pc.cast(given, pa.int64() if whole else pa.float64())
    except pa.ArrowInvalid:
        return None


def _parsed_number(text: Text, col: str, trimmed: pa.ChunkedArray, star: pa.ChunkedArray, whole: bool,
                   lo: float | None, hi: float | None) -> pa.ChunkedArray:
    """pandas' number parser for values that are not plain digits (signs, exponents, other scripts' digits,
    words): the values and the errors are the ones it has always given, and exponents (1e3), inf and nan
    and counts too large to be counts are errors."""
    strings, starred = trimmed.to_pandas(), star.to_numpy(zero_copy_only=False)
    blank = (strings == "").to_numpy()
    values = pd.to_numeric(strings.mask(starred | blank), errors="coerce")
    field, given = text.field(col), ~starred & ~blank
    written = strings.str.fullmatch(DECIMAL).fillna(False).to_numpy(dtype=bool)
    text.check(given & values.isna().to_numpy(), field, lambda v: f"not a number: {v!r}", strings)
    text.check(given & ~written, field, lambda v: f"not a number written in digits (no exponent, inf or nan): "
                                                  f"{v!r}", strings)
    if whole:
        text.check(given & (values.abs() >= LARGEST).fillna(False).to_numpy(dtype=bool), field,
                   lambda v: f"too large for a count: {v!r}", strings)
    if whole:
        text.check(values.notna() & (values % 1 != 0), field, lambda v: f"not a whole number: {v!r}", strings)
    if lo is not None:
        text.check(values < lo, field, lambda v: f"below {lo:g}: {v!r}", strings)
    if hi is not None:
        text.check(values > hi, field, lambda v: f"above {hi:g}: {v!r}", strings)
    return pa.chunked_array([pa.array(values.astype("Int64" if whole else "Float64").array)])


def code(text: Text, col: str, width: int) -> pa.ChunkedArray:
    """A zero-padded code column (county 2, district 5, school 7 digits)."""
    trimmed = pc.utf8_trim_whitespace(text.columns[col])
    if pc.all(pc.string_is_ascii(trimmed), min_count=0).as_py():
        bad = pc.invert(pc.and_(pc.ascii_is_decimal(trimmed), pc.less_equal(pc.binary_length(trimmed), width)))
    else:  # Python's \d, as pandas used for non-ASCII text: other scripts' digits are digits too
        bad = ~trimmed.to_pandas().str.fullmatch(r"\d{1,%d}" % width).to_numpy()
    text.check(bad, text.field(col), lambda v: f"not a {width}-digit code: {v!r}", trimmed)
    return pc.utf8_zfill(trimmed, width)


def cds_of(text: Text) -> pa.ChunkedArray:
    """The 14-digit CDS code from the three checked code columns."""
    return pc.binary_join_element_wise(*(code(text, c, w) for c, w in CODE_WIDTHS.items()), "")
