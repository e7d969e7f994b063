"""The `tables` stage in bounded memory: the same files as `contract.write(contract.compute(store))`.

The store's results are sorted by year and CDS code (ingest.KEY). Every relation the tables use stays
inside one year and one 7-digit district code (`cds[:7]`): suppression's constraints (a school and its
LEA share it; grades and groups are rows of one entity), reconciliation (one entity's grades) and, across
years, trends (one entity's years). So the results are read one year × run of district codes at a time,
each chunk's tables are pickled to a scratch folder, and each table is then written as CSV and Parquet
chunk by chunk, with the dtypes the whole table would have had (pandas' common dtype of the chunks: a
column is nullable, float or object in the whole table when it is in any chunk) and the row groups
`DataFrame.to_parquet` would have written. Stores this does not hold for are computed whole, and so are
tables under the `complementary` suppression policy: its relations (county = its LEAs, state = the
counties) span every district code of a year.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpers.core import atomic
from helpers.ingest import store as stores
from helpers.stats import contract, dfs, suppress, tables

TARGET_ROWS = 250_000  # result rows per chunk (all years of a run of district codes)
ROW_GROUP = 1024 * 1024  # pyarrow's default row group length (DataFrame.to_parquet)
EXTRA_COLUMNS = ("results_suppressed", "suppressed_fields")
TREND_COLUMNS = ["cds", "test_id", "grade", "student_group_id", "year", "type_id", "entity_name", "enrolled", "tested",
                 "with_scores", "mean_scale_score", "pct_met_and_above", "suppressed"]


@dataclass(frozen=True)
class Chunk:
    """Rows of one year whose district code (cds[:7]) is in [first, last]; `group`: the trends chunk."""

    year: int
    first: str
    last: str
    group: int


# ---------------------------------------------------------------- planning


def _path(store: Path) -> Path:
    """The store's results file (the store's own error when it is missing)."""
    stores.table(store, "results")
    return Path(store) / "results.parquet"


def plan(store: Path, target: int = TARGET_ROWS) -> list[Chunk] | None:
    """Chunks covering every result row in store order, or None when the store does not allow them. The keys
    are read one row group at a time (a statewide store of five years has ~15 M rows)."""
    file = pq.ParquetFile(_path(store))
    if file.metadata.num_rows == 0:
        return None
    counts: dict[tuple[int, str], int] = {}
    last: tuple[int, str] | None = None  # (year, cds) of the last row read
    for g in range(file.num_row_groups):
        keys = file.read_row_group(g, columns=["year", "cds", "lea_cds"])
        if keys["year"].null_count or keys["cds"].null_count:
            return None
        year = keys["year"].to_numpy()
        cds = keys["cds"].combine_chunks()
        prefix = pc.utf8_slice_codeunits(cds, 0, 7)
        lea = pc.utf8_slice_codeunits(keys["lea_cds"].combine_chunks(), 0, 7)
        first = (int(year[0]), cds[0].as_py())
        if (not _sorted(year, cds) or (last is not None and first < last)
                or not pc.all(pc.or_kleene(pc.is_null(lea), pc.equal(lea, prefix))).as_py()):
            return None
        last = (int(year[-1]), cds[-1].as_py())
        pairs = pd.DataFrame({"year": year, "prefix": prefix.to_numpy(zero_copy_only=False)})
        for (y, p), n in pairs.value_counts(sort=False).items():
            counts[int(y), p] = counts.get((int(y), p), 0) + int(n)
    return _chunks(counts, target)


def _sorted(year: np.ndarray, cds: pa.Array) -> bool:
    """Rows in (year, cds) order."""
    if year.size < 2:
        return True
    same = year[1:] == year[:-1]
    back = pc.less(cds.slice(1), cds.slice(0, len(cds) - 1)).to_numpy(zero_copy_only=False)
    return bool((year[1:] >= year[:-1]).all() and not (same & back).any())


def _chunks(counts: dict[tuple[int, str], int], target: int) -> list[Chunk]:
    """The same district-code cuts for every year, each group of about `target` rows over all years
    (`counts`: rows per year and district code)."""
    per_code: dict[str, int] = {}
    for (_, code), n in counts.items():
        per_code[code] = per_code.get(code, 0) + n
    group_of, group, total = {}, 0, 0
    for code in sorted(per_code):
        if total and total + per_code[code] > target:
            group, total = group + 1, 0
        group_of[code] = group
        total += per_code[code]
    out = []
    for y in sorted({y for y, _ in counts}):
        present = sorted(code for year, code in counts if year == y)
        for g in sorted({group_of[p] for p in present}):
            mine = [p for p in present if group_of[p] == g]
            out.append(Chunk(int(y), mine[0], mine[-1], int(g)))
    return out


# ---------------------------------------------------------------- reading


def _columns(store: Path) -> list[str]:
    """The result columns the tables read (levels, reconciliation, the impact example)."""
    names = set(pq.read_schema(_path(store)).names)
    wanted = dict.fromkeys([*tables.LEVELS_COLUMNS, *EXTRA_COLUMNS])
    return [c for c in wanted if c in names]


def _retyped(store: Path, columns: list[str]) -> dict[str, str] | None:
    """Dtypes DuckDB gives a column of the whole table but not of every chunk: Int64 for an integer
    column with a null anywhere, str for a text column with a value anywhere (a chunk of nulls is object).
    None when a boolean column has nulls or a column's null count is not in the file's statistics."""
    schema = pq.read_schema(_path(store))
    meta = pq.read_metadata(_path(store))
    nulls = dict.fromkeys(columns, 0)
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for i in range(group.num_columns):
            col = group.column(i)
            name = col.path_in_schema
            if name in nulls:
                stats = col.statistics
                if stats is None or not stats.has_null_count:
                    return None
                nulls[name] += stats.null_count
    kinds = {c: schema.field(c).type for c in columns}
    if any(nulls[c] and pa.types.is_boolean(t) for c, t in kinds.items()):
        return None
    ints = {c: "Int64" for c, t in kinds.items() if pa.types.is_integer(t) and nulls[c]}
    text = (pa.types.is_string(t) or pa.types.is_large_string(t) for t in kinds.values())
    return ints | {c: "str" for c, is_text in zip(kinds, text) if is_text and nulls[c] < meta.num_rows}


def read_chunk(store: Path, chunk: Chunk, columns: list[str], retyped: dict[str, str]) -> pd.DataFrame:
    """A chunk's results with the dtypes `contract.read_results` gives the whole table."""
    cols = ", ".join(f'"{c}"' for c in columns)
    frame = stores.query(f"SELECT {cols} FROM {stores.table(store, 'results')} WHERE year = ? "
                         "AND substr(cds, 1, 7) BETWEEN ? AND ?", [chunk.year, chunk.first, chunk.last])
    for col, dtype in retyped.items():
        if frame[col].dtype != dtype:
            frame[col] = frame[col].astype(dtype)
    return frame


# ---------------------------------------------------------------- spilled tables


class Spilled:
    """A table computed in chunks: pickled to `folder` chunk by chunk, written whole at the end."""

    def __init__(self, folder: Path, name: str):
        self.folder, self.name = folder, name
        self.parts: list[Path] = []
        self.empty: list[pd.DataFrame] = []
        self.rows = 0

    def add(self, chunk: pd.DataFrame, rows: pd.DataFrame | None = None) -> None:
        """Keep `rows` (default the chunk); the chunk's dtypes count towards the table's."""
        rows = chunk if rows is None else rows
        self.empty.append(pd.DataFrame({c: pd.Series([], dtype=d) for c, d in chunk.dtypes.items()}))
        self.rows += len(rows)  # the rows written
        path = self.folder / f"{self.name}-{len(self.parts):05d}.pkl"
        with path.open("wb") as f:
            pickle.dump(rows, f, protocol=pickle.HIGHEST_PROTOCOL)
        self.parts.append(path)

    def dtypes(self) -> pd.Series:
        """The whole table's dtypes: pandas' common dtype of every chunk's."""
        return pd.concat(self.empty, ignore_index=True).dtypes

    def frames(self) -> Iterator[pd.DataFrame]:
        """The chunks in order, in the whole table's dtypes."""
        dtypes = self.dtypes()
        for path in self.parts:
            with path.open("rb") as f:
                frame = pickle.load(f)
            yield _cast(frame, dtypes)

    def write(self, out: Path) -> None:
        """`out`/name.csv and .parquet, the bytes `DataFrame.to_csv`/`to_parquet` give the whole table."""
        write_frames(self.frames(), out, self.name)


def _cast(frame: pd.DataFrame, dtypes: pd.Series) -> pd.DataFrame:
    """`frame` with the columns whose dtype differs from `dtypes` converted."""
    differ = {c: dtypes[c] for c in frame.columns if frame[c].dtype != dtypes[c]}
    return frame.astype(differ) if differ else frame


def write_frames(frames: Iterator[pd.DataFrame], out: Path, name: str) -> None:
    """CSV and Parquet of the concatenated frames (same dtypes each), in `DataFrame.to_parquet`'s row groups;
    the Parquet schema is that of the first frame with rows (object columns are typed by their values)."""
    writer: pq.ParquetWriter | None = None
    buffer: list[pa.Table] = []
    last = None
    with (out / f"{name}.csv").open("w", encoding="utf-8", newline="") as csv:
        for i, frame in enumerate(frames):
            frame.to_csv(csv, index=False, header=i == 0, lineterminator="\n")
            last = frame
            if frame.empty:
                continue
            if writer is None:
                writer = pq.ParquetWriter(out / f"{name}.parquet", pa.Schema.from_pandas(frame, preserve_index=False),
                                          compression="snappy")
            buffer.append(pa.Table.from_pandas(frame, schema=writer.schema, preserve_index=False))
            buffer = _flush(writer, buffer, final=False)
    if writer is None:  # no rows: as to_parquet writes an empty frame
        if last is not None:
            last.to_parquet(out / f"{name}.parquet", index=False)
        return
    _flush(writer, buffer, final=True)
    writer.close()


def _flush(writer: pq.ParquetWriter, buffer: list[pa.Table], final: bool) -> list[pa.Table]:
    """Write every full row group of the buffered rows (and the rest when `final`); return the rest."""
    if not buffer:
        return buffer
    rows = pa.concat_tables(buffer)
    start = 0
    while rows.num_rows - start >= ROW_GROUP or (final and start < rows.num_rows):
        writer.write_table(rows.slice(start, ROW_GROUP).combine_chunks())
        start += ROW_GROUP
    return [rows.slice(start)] if start < rows.num_rows else []


# ---------------------------------------------------------------- the stage


def build(store: Path, out: Path, impact: contract.ImpactInputs, alt_cuts: Path | None = None,
          lea: str | None = None, year: int | None = None, target: int = TARGET_ROWS,
          policy: str = suppress.PUBLISHED) -> dict[str, int]:
    """Write every table of `store` to `out` (as contract.write(contract.compute(store, impact, policy=policy),
    out, lea, year)); return each table's row count."""
    chunks = plan(store, target) if policy == suppress.PUBLISHED else None
    columns = _columns(store) if chunks else []
    retyped = _retyped(store, columns) if chunks else None
    if chunks is None or retyped is None:
        computed = contract.compute(store, impact, alt_cuts, policy=policy)
        contract.write(computed, out, lea, year)
        return {name: len(contract.select(frame, lea, year)) for name, frame in computed.items()}
    with atomic.replacing(out, "tables", contract.legacy(contract.TABLES)) as tmp:
        scratch = Path(tempfile.mkdtemp(prefix=".scratch-", dir=tmp))
        counts = _build(store, chunks, columns, retyped, tmp, scratch, (lea, year))
        source = stores.impact_source(store)  # a county's store: the state's candidates
        example = contract.impact_table(source, _example_lea(source, alt_cuts), impact, alt_cuts)
        example = contract.select(example, lea, year)
        counts["impact"] = len(example)
        _write_whole(example, tmp, "impact")
        for path in scratch.iterdir():
            path.unlink()
        scratch.rmdir()
    return counts


def _build(store: Path, chunks: list[Chunk], columns: list[str], retyped: dict[str, str], out: Path, scratch: Path,
           where: tuple[str | None, int | None]) -> dict[str, int]:
    """Levels and reconciliation chunk by chunk, then trends by group of chunks (all years of an entity)."""
    levels, recon = Spilled(scratch, "levels"), Spilled(scratch, "reconciliation")
    trend_input: dict[int, list[Path]] = {}
    for i, chunk in enumerate(chunks):
        results = read_chunk(store, chunk, columns, retyped)
        lv = dfs.add(suppress.suppress(tables.published_levels(results), policy=suppress.PUBLISHED))
        levels.add(lv, contract.select(lv, *where))
        path = scratch / f"trend-input-{i:05d}.pkl"
        lv[[*TREND_COLUMNS, "dfs"]].to_pickle(path)
        trend_input.setdefault(chunk.group, []).append(path)
        rec = tables.reconcile(results)
        if len(rec.columns):
            recon.add(rec, contract.select(rec, *where))
        del results, lv, rec
    levels.write(out)
    if recon.parts:
        recon.write(out)
    else:
        _write_whole(pd.DataFrame(), out, "reconciliation")
    trends = _trends(trend_input, levels.dtypes()[[*TREND_COLUMNS, "dfs"]], Spilled(scratch, "trends"), where)
    trends.write(out)
    return {"levels": levels.rows, "reconciliation": recon.rows, "trends": trends.rows}


def _trends(parts: dict[int, list[Path]], dtypes: pd.Series, spill: Spilled,
            where: tuple[str | None, int | None]) -> Spilled:
    """Trends of each group of chunks (an entity's every year is in one group), in the whole table's order."""
    present = set()
    for paths in parts.values():
        for path in paths:
            present |= set(pd.read_pickle(path)["year"].unique())
    for group in sorted(parts):
        base = pd.concat([_cast(pd.read_pickle(p), dtypes) for p in parts[group]], ignore_index=True)
        frame = dfs.trend(tables.trends(base, present=present), base)
        spill.add(frame, contract.select(frame, *where))
    return spill


def _write_whole(frame: pd.DataFrame, out: Path, name: str) -> None:
    """As contract.write writes one table."""
    frame.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
    frame.to_parquet(out / f"{name}.parquet", index=False)


def _example_lea(store: Path, alt_cuts: Path | None) -> tuple[str, int] | None:
    """contract.example_lea on the only rows it looks at."""
    rows = stores.query(f"SELECT year, type_id, grade, student_group_id, test_id, with_scores, cds "
                        f"FROM {stores.table(store, 'results')} WHERE grade = 13 AND student_group_id = 1 "
                        f"AND test_id IN {contract.SB_TESTS} AND type_id IN {stores.LEA_TYPES}")
    return contract.example_lea(rows, contract.alternative_years(alt_cuts))
