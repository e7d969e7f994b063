"""Every research file's rows combined: joined to their entities, checked unique by KEY, sorted, and made
into the store's results table in row groups."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.core.errors import InputError
from helpers.ingest import layouts
from helpers.ingest.entities import Entities, dashed
from helpers.ingest.research import ResultPart, row_columns, take_rows
from helpers.ingest.schema import KEY, RESULT_DTYPES, arrow_table, is_count, series
from helpers.ingest.text import source_name

ROW_GROUP = 1 << 19  # rows per Parquet row group: each is assembled in memory before it is written


@dataclass
class Results:
    """Every research row as Arrow columns in file order, with the order that sorts them by KEY; entity
    attributes and suppression patterns are looked up per row when a table is made."""

    rows: dict[str, pa.Array]  # the key numbers, test_type, numeric columns, entity, pattern, file, line
    order: pa.Array
    entities: pa.Table
    patterns: pa.Table
    files: pa.Array

    def __len__(self) -> int:
        return len(self.order)

    def table(self, start: int = 0, length: int | None = None) -> pa.Table:
        """Rows [start, start + length) of the store's results table."""
        at = self.order.slice(start, length)
        rows = {c: a.take(at) for c, a in self.rows.items()}
        cols = take_rows(self.entities, rows["entity"])
        cols |= row_columns(rows, take_rows(self.patterns, rows["pattern"]), len(at))
        cols |= {"source_line": rows["source_line"], "source_file": self.files.take(rows["file"])}
        return arrow_table(cols, RESULT_DTYPES)

    def row_groups(self) -> Iterator[pa.Table]:
        for start in range(0, len(self), ROW_GROUP):
            yield self.table(start, ROW_GROUP)

    def to_pandas(self) -> pd.DataFrame:
        return self.table().to_pandas()


def combine(parts: list[ResultPart], entities: Entities) -> Results:
    """Join every file's rows to their entities (file by file), check the keys are unique, sort by KEY."""
    found = [entities.find(p) for p in parts]
    offsets = np.cumsum([0] + [len(p.patterns) for p in parts])
    per_part = [_part_rows(p, i, e, int(o)) for i, (p, e, o) in enumerate(zip(parts, found, offsets))]
    files = pa.array([source_name(p.path) for p in parts], pa.large_string())
    paths = [str(p.path) for p in parts]
    patterns = pa.concat_tables([p.patterns for p in parts])
    parts.clear()
    del found
    names = ["cds", "year", "student_group_id", "grade", "test_id", "test_type",
             *(c for c in layouts.RESULT_NUMERIC if any(c in r for r in per_part)),
             "entity", "pattern", "file", "source_line"]
    # one contiguous column at a time, each file's chunks dropped as soon as they are copied
    rows = {c: _contiguous([r.pop(c) if c in r else _nulls(c, len(r["source_line"])) for r in per_part]) for c in names}
    order = pc.sort_indices(pa.table({k: rows[k] for k in KEY}), sort_keys=[(k, "ascending") for k in KEY])
    check_unique(rows, order, files, paths)
    del rows["cds"]  # the entity's
    return Results(rows, order, entities.table, patterns, files)


def _part_rows(part: ResultPart, i: int, entity: pa.ChunkedArray, offset: int) -> dict[str, object]:
    """One file's per-row columns for the store (its numeric columns, where it has them)."""
    n = len(part)
    rows = dict(part.columns)
    rows.setdefault("test_type", pa.repeat("", n))
    rows["source_line"] = pa.array(part.lines())
    rows.pop("type_id", None)  # the entity's Type ID (checked against this one) is the store's
    return rows | {"entity": entity, "pattern": pc.add(part.pattern, pa.scalar(offset, pa.int32())),
                   "file": pa.array(np.full(n, i, dtype=np.int32))}


def _nulls(col: str, n: int) -> pa.Array:
    return pa.nulls(n, pa.int64() if is_count(col) else pa.float64())


def _contiguous(values: list) -> pa.Array:
    chunks = [c for v in values for c in (v.chunks if isinstance(v, pa.ChunkedArray) else [v])]
    return pa.concat_arrays(chunks) if chunks else pa.array([], values[0].type)


def check_unique(rows: dict[str, pa.Array], order: pa.Array, files: pa.Array, paths: list[str]) -> None:
    """Two rows with one KEY are an error naming both, the later one (by file and line, its path as given)
    as the place."""
    if len(order) < 2:
        return
    same = None
    for k in KEY:
        col = rows[k].take(order)
        eq = pc.equal(col.slice(1), col.slice(0, len(col) - 1))
        same = eq if same is None else pc.and_(same, eq)
    pairs = np.flatnonzero(same.to_numpy(zero_copy_only=False))
    if not len(pairs):
        return
    at = pa.array(np.sort(order.to_numpy()[np.union1d(pairs, pairs + 1)]))  # in the order the files were read
    dup = pd.DataFrame({k: series(rows[k].take(at)) for k in KEY})
    dup["source_file"] = files.take(rows["file"].take(at)).to_pandas()
    dup["path"] = [paths[i] for i in rows["file"].take(at).to_pylist()]
    dup["source_line"] = rows["source_line"].take(at).to_numpy()
    dup = dup.sort_values(["source_file", "source_line"])
    first, second = dup.iloc[0], dup[dup[KEY].eq(dup.iloc[0][KEY]).all(axis=1)].iloc[1]
    raise InputError(second["path"], f"duplicate key (year {first['year']}, {dashed(first['cds'])}, "
                     f"test {first['test_id']}, group {first['student_group_id']}, grade {first['grade']}) "
                     f"already on line {first['source_line']} of {first['source_file']}",
                     int(second["source_line"]), "Grade")
