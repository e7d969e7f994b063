"""One research file's rows typed as Arrow columns: the key, the numbers, and the '*' suppression
patterns (each distinct pattern spelled out once)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.core.errors import InputError
from helpers.ingest import layouts
from helpers.ingest.fields import Text, cds_of, file_lines, numeric
from helpers.ingest.schema import (
    CODE_WIDTHS,
    KEY_INTS,
    TYPED_DTYPES,
    arrow_table,
    is_count,
    is_pct,
)
from helpers.ingest.text import NO_BLANKS, real_lines


@dataclass
class ResultPart:
    """One research file's typed rows, kept as Arrow columns until the store is assembled."""

    path: Path
    columns: dict[str, pa.ChunkedArray]  # cds, the key numbers, test_type and the file's numeric columns
    pattern: pa.Array  # per row: its index in `patterns`
    patterns: pa.Table  # suppressed_fields and the three flags, one row per distinct set of '*' fields
    first_line: int = 2
    blanks: np.ndarray = field(default_factory=lambda: NO_BLANKS)  # empty lines the parser skipped
    at: np.ndarray | None = None  # a filtered read's row numbers in the file (fields.Text.at)

    def __len__(self) -> int:
        return len(self.pattern)

    def line(self, i: int) -> int:
        """The file's line number of row i."""
        return real_lines(self.first_line + (i if self.at is None else int(self.at[i])), self.blanks)

    def lines(self) -> np.ndarray:
        """The file's line number of every row."""
        return file_lines(self.first_line, self.blanks, self.at, len(self))

    def filter(self, keep: pa.Array) -> ResultPart:
        """The rows where `keep` is true, each keeping its line number in the file."""
        at = np.arange(len(self), dtype=np.int64) if self.at is None else self.at
        columns = {c: a.filter(keep) for c, a in self.columns.items()}
        return ResultPart(self.path, columns, self.pattern.filter(keep), self.patterns, self.first_line,
                          self.blanks, at[keep.to_numpy(zero_copy_only=False)])

    def to_pandas(self) -> pd.DataFrame:
        """The rows as `read_file` gives them: typed, before the entity join."""
        cds = self.columns["cds"]
        cols: dict[str, object] = {"cds": cds, "source_line": self.lines()}
        for (c, width), start in zip(CODE_WIDTHS.items(), (0, 2, 7)):
            cols[c] = pc.utf8_slice_codeunits(cds, start, start + width)
        cols["type_id"] = self.columns.get("type_id", pa.nulls(len(self), pa.int64()))
        cols |= row_columns(self.columns, take_rows(self.patterns, self.pattern), len(self))
        return arrow_table(cols, TYPED_DTYPES).to_pandas()


def read_results(text: Text) -> ResultPart:
    cols = {"cds": cds_of(text)}
    for col in KEY_INTS:
        if col in text.columns:
            cols[col], star = numeric(text, col, whole=True, lo=0)
            text.check(pc.or_(star, pc.is_null(cols[col])), text.field(col),
                       lambda v: f"a key field must have a value, found {v!r}", text.columns[col])
        elif col != "type_id":
            raise InputError(text.path, f"no {col} column: a research file needs {', '.join(KEY_INTS[:4])}", 1)
    if "test_type" in text.columns:
        cols["test_type"] = pc.utf8_trim_whitespace(text.columns["test_type"])
    stars = {}
    for col in layouts.RESULT_NUMERIC:
        if col in text.columns:
            cols[col], stars[col] = numeric(text, col, whole=is_count(col), lo=0, hi=100 if is_pct(col) else None)
            del text.columns[col]  # free the text as soon as it is typed
    pattern, patterns = suppression_patterns(stars, text.rows)
    return ResultPart(text.path, cols, pattern, patterns, text.first_line, text.blanks, text.at)


def suppression_patterns(stars: dict[str, pa.ChunkedArray], rows: int) -> tuple[pa.Array, pa.Table]:
    """`suppressed_fields` names every field that was '*'; three flags summarise them. Rows share a few
    patterns, so each distinct pattern is spelled out once and rows point at theirs."""
    names = list(stars)
    bits = np.zeros((rows, len(names)), dtype=bool)
    for j, col in enumerate(names):
        bits[:, j] = stars[col].to_numpy(zero_copy_only=False)
    pattern, first = group_rows(bits)
    chosen = bits[first]
    fields = ["|".join(c for c, on in zip(names, row) if on) for row in chosen]
    counts = chosen[:, [j for j, c in enumerate(names) if c in layouts.COUNT_FIELDS]].any(axis=1)
    results = chosen[:, [j for j, c in enumerate(names) if c in layouts.RESULT_FIELDS]].any(axis=1)
    patterns = pa.table({"suppressed_fields": pa.array(fields, pa.large_string()), "counts_suppressed": counts,
                         "results_suppressed": results, "suppressed": counts | results})
    return pa.array(pattern, pa.int32()), patterns


def group_rows(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group per row, first row of each group): rows with equal bits share a group number 0, 1, …"""
    packed = np.packbits(bits, axis=1)
    words = np.pad(packed, ((0, 0), (0, -packed.shape[1] % 8))).view(np.uint64)
    group = np.zeros(len(bits), dtype=np.int64)
    for word in words.T:  # one 64-bit word per 64 fields
        codes, uniques = pd.factorize(word)
        group, _ = pd.factorize(group * len(uniques) + codes)
    return group, np.unique(group, return_index=True)[1]


def row_columns(rows: Mapping[str, pa.ChunkedArray], patterns: Mapping[str, pa.ChunkedArray],
                n: int) -> dict[str, object]:
    """The per-row result columns shared by a file's typed rows and the store: keys, numbers, suppression."""
    out: dict[str, object] = {c: rows[c] for c in ("year", "student_group_id", "grade", "test_id")}
    out["test_type"] = rows.get("test_type", pa.repeat("", n))
    nulls = {t: pa.nulls(n, t) for t in (pa.int64(), pa.float64())}  # one per type, shared by absent columns
    for col in layouts.RESULT_NUMERIC:
        out[col] = rows[col] if col in rows else nulls[pa.int64() if is_count(col) else pa.float64()]
    return out | dict(patterns)


def take_rows(table: pa.Table, index: pa.Array) -> dict[str, pa.ChunkedArray]:
    """The table's rows at `index`, column by column (several times faster than Table.take)."""
    return {c: table[c].take(index) for c in table.column_names}
