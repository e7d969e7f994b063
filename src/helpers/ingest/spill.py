"""Research rows of several years, assembled one year at a time so memory holds one year, not all of them.

The store's results are sorted by KEY, whose first field is the year, so the store is the years' sorted rows
one after the other. While the files read hold one year, their typed rows stay in memory (`Held`). Once a
second year appears, every file's typed rows are written to a scratch Parquet file (with their pattern and
line in the file) and freed; the store is then written year by year (`Yearly`): each year's rows are read
back from every file holding that year, joined to their entities, checked unique and sorted
(helpers.ingest.results.combine), and cut into the same row groups an all-years sort would give.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from helpers.ingest.entities import Entities
from helpers.ingest.research import ResultPart
from helpers.ingest import results as combining
from helpers.ingest.results import Results, combine

PATTERN, AT = "__pattern", "__at"  # the scratch file's columns beside the part's own


@dataclass
class Spilled:
    """One file's typed rows in a scratch Parquet file, and what is needed to read them back as a part."""

    part: ResultPart  # path, patterns, first line and blank lines; no rows
    file: Path
    years: tuple[int, ...]
    rows: int

    def load(self, year: int) -> ResultPart:
        only = self.years == (year,)  # a filter would copy the rows it keeps: read the file as it is
        table = pq.read_table(self.file, filters=None if only else [("year", "=", year)])
        columns = {c: table[c] for c in table.column_names if c not in (PATTERN, AT)}
        p = self.part
        return ResultPart(p.path, columns, table[PATTERN].combine_chunks(), p.patterns, p.first_line, p.blanks,
                          table[AT].to_numpy())


def spill(part: ResultPart, file: Path) -> Spilled:
    """Write `part`'s rows to `file`; the returned record reads them back one year at a time."""
    at = part.at if part.at is not None else np.arange(len(part), dtype=np.int64)
    pq.write_table(pa.table({**part.columns, PATTERN: part.pattern, AT: pa.array(at)}), file, compression="snappy")
    years = tuple(int(y) for y in np.unique(part.columns["year"].to_numpy(zero_copy_only=False)))
    empty = ResultPart(part.path, {}, pa.array([], pa.int32()), part.patterns, part.first_line, part.blanks)
    return Spilled(empty, file, years, len(part))


class Held:
    """The research files' typed rows: in memory while they hold one year, spilled to `scratch` (when given)
    from the first file that brings a second."""

    def __init__(self, scratch: Path | None):
        self.scratch, self.parts, self.spilled, self.years = scratch, [], [], set()

    def add(self, part: ResultPart) -> None:
        self.years |= set(np.unique(part.columns["year"].to_numpy(zero_copy_only=False)).tolist())
        self.parts.append(part)
        if self.scratch is not None and (self.spilled or len(self.years) > 1):
            for held in self.parts:
                self.spilled.append(spill(held, self.scratch / f"{len(self.spilled)}.parquet"))
            self.parts.clear()
            pa.default_memory_pool().release_unused()

    def __bool__(self) -> bool:
        return bool(self.parts or self.spilled)

    def results(self, entities: Entities) -> Results | Yearly:
        return Yearly(self.spilled, entities) if self.spilled else combine(self.parts, entities)


class Yearly:
    """The store's results from spilled files, made one year at a time (as `Results` for writing)."""

    def __init__(self, spilled: list[Spilled], entities: Entities):
        self.spilled, self.entities = spilled, entities
        self.years = sorted({y for s in spilled for y in s.years})

    def __len__(self) -> int:
        return sum(s.rows for s in self.spilled)

    def year(self, year: int) -> Results:
        """One year's rows, joined, checked unique and sorted."""
        return combine([s.load(year) for s in self.spilled if year in s.years], self.entities)

    def row_groups(self) -> Iterator[pa.Table]:
        """results.ROW_GROUP rows at a time across the years, as an all-years `Results` gives them. Each
        piece is taken (copied) from its year's rows, so nothing of a year is kept once the next is read."""
        size, carry = combining.ROW_GROUP, None  # carry: the last year's final rows, fewer than `size`
        for year in self.years:
            results = self.year(year)
            start = 0
            if carry is not None:
                start = min(size - len(carry), len(results))
                carry = pa.concat_tables([carry, results.table(0, start)])
                if len(carry) == size:
                    yield carry
                    carry = None
            for at in range(start, len(results), size):
                piece = results.table(at, size)
                if len(piece) < size:
                    carry = piece
                else:
                    yield piece
                del piece
            del results
            pa.default_memory_pool().release_unused()  # give the year's memory back before the next is read
        if carry is not None:
            yield carry

    def to_pandas(self) -> pd.DataFrame:
        return pa.concat_tables(list(self.row_groups())).to_pandas()
