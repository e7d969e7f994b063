"""The `tables` stage in bounded memory: the same files as `contract.write(contract.compute(store))`.

The store's results are sorted by year and CDS code (ingest.KEY). Every relation the tables use stays
inside one year and one 7-digit district code (`cds[:7]`): suppression's constraints (a school and its
LEA share it; grades and groups are rows of one entity), reconciliation (one entity's grades) and, across
years, trends (one entity's years). So the results are read one year × run of district codes at a time,
each chunk's tables are pickled to a scratch folder, and each table is then written as CSV and Parquet
chunk by chunk, with the dtypes the whole table would have had (pandas' common dtype of the chunks: a
column is nullable, float or object in the whole table when it is in any chunk) and the row groups
`contract.write` would have written. Stores this does not hold for are computed whole, and so are
tables under the `complementary` suppression policy: its relations (county = its LEAs, state = the
counties) span every district code of a year.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import pickle
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpers.core import atomic
from helpers.ingest import store as stores
from helpers.stats import contract, csvbytes, dfs, suppress, tables

TARGET_ROWS = 250_000  # result rows per chunk (all years of a run of district codes)
MAX_JOBS = 2  # worker processes at most (each holds one chunk's tables: about 0.5 GiB at TARGET_ROWS)
PARALLEL_ROWS = 2 * TARGET_ROWS  # result rows from which the chunks are computed in worker processes
AHEAD = 3  # parts' CSV texts formatted ahead of the writing at most
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


@dataclass(frozen=True)
class Part:
    """One chunk of a table, pickled: its rows to write, and the chunk's dtypes (as an empty frame)."""

    path: Path
    empty: pd.DataFrame
    rows: int


def spill(folder: Path, stem: str, chunk: pd.DataFrame, rows: pd.DataFrame | None = None) -> Part:
    """Pickle `rows` (default the chunk) to folder/stem.pkl."""
    rows = chunk if rows is None else rows
    path = folder / f"{stem}.pkl"
    with path.open("wb") as f:
        pickle.dump(rows, f, protocol=pickle.HIGHEST_PROTOCOL)
    return Part(path, pd.DataFrame({c: pd.Series([], dtype=d) for c, d in chunk.dtypes.items()}), len(rows))


class Spilled:
    """A table computed in chunks: pickled to `folder` chunk by chunk, written whole at the end."""

    def __init__(self, folder: Path, name: str):
        self.folder, self.name = folder, name
        self.parts: list[Path] = []
        self.empty: list[pd.DataFrame] = []
        self.rows = 0

    def add(self, chunk: pd.DataFrame, rows: pd.DataFrame | None = None) -> None:
        """Keep `rows` (default the chunk); the chunk's dtypes count towards the table's."""
        self.add_part(spill(self.folder, f"{self.name}-{len(self.parts):05d}", chunk, rows))

    def add_part(self, part: Part) -> None:
        """Keep a part spilled by `spill` (in order)."""
        self.empty.append(part.empty)
        self.rows += part.rows  # the rows written
        self.parts.append(part.path)

    def dtypes(self) -> pd.Series:
        """The whole table's dtypes: pandas' common dtype of every chunk's."""
        return pd.concat(self.empty, ignore_index=True).dtypes

    def frames(self) -> Iterator[pd.DataFrame]:
        """The chunks in order, in the whole table's dtypes."""
        dtypes = self.dtypes()
        for path in self.parts:
            yield _load(path, dtypes)

    def write(self, out: Path, pool: Executor | None = None) -> None:
        """`out`/name.csv and .parquet, the bytes `DataFrame.to_csv`/`to_parquet` give the whole table; with a
        `pool`, its workers format the parts' CSV text ahead of the writing, in order."""
        texts = None
        if pool is not None:
            dtypes = self.dtypes()
            texts = _ahead(pool, _csv_text, [(path, dtypes, i == 0) for i, path in enumerate(self.parts)])
        write_frames(self.frames(), out, self.name, texts)


def _load(path: Path, dtypes: pd.Series) -> pd.DataFrame:
    """A spilled part in the whole table's dtypes."""
    with path.open("rb") as f:
        frame = pickle.load(f)
    return _cast(frame, dtypes)


def _csv_text(path: Path, dtypes: pd.Series, header: bool) -> bytes:
    """The CSV bytes of a spilled part (a worker's task)."""
    out = io.BytesIO()
    csvbytes.write(_load(path, dtypes), out, header=header)
    _release()
    return out.getvalue()


def _release() -> None:
    """Give the memory Arrow's pool holds and no longer uses back to the system (it keeps it otherwise: a
    process's resident size would stay at its largest chunk's)."""
    pa.default_memory_pool().release_unused()


def _ahead(pool: Executor, task: Callable, calls: list[tuple]) -> Iterator:
    """The results of `task(*call)` for each call, in order, with at most `AHEAD` calls queued or
    finished and not yet taken (each result is a part's CSV text: this bounds the memory they hold)."""
    pending: deque[Future] = deque()
    for call in calls:
        pending.append(pool.submit(task, *call))
        if len(pending) >= AHEAD:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _cast(frame: pd.DataFrame, dtypes: pd.Series) -> pd.DataFrame:
    """`frame` with the columns whose dtype differs from `dtypes` converted."""
    differ = {c: dtypes[c] for c in frame.columns if frame[c].dtype != dtypes[c]}
    return frame.astype(differ) if differ else frame


def write_frames(frames: Iterator[pd.DataFrame], out: Path, name: str, texts: Iterator[bytes] | None = None) -> None:
    """CSV and Parquet of the concatenated frames (same dtypes each), in `contract.write`'s row groups;
    the Parquet schema is that of the first frame with rows (object columns are typed by their values).
    `texts`: each frame's CSV bytes (with the header for the first), made elsewhere."""
    writer: pq.ParquetWriter | None = None
    buffer: list[pa.Table] = []
    last = None
    with (out / f"{name}.csv").open("wb") as csv:
        for i, frame in enumerate(frames):
            if texts is None:
                csvbytes.write(frame, csv, header=i == 0)  # frame.to_csv's bytes
            else:
                csv.write(next(texts))
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
            last.to_parquet(out / f"{name}.parquet", index=False, row_group_size=contract.ROW_GROUP)
        return
    _flush(writer, buffer, final=True)
    writer.close()
    _release()


def _flush(writer: pq.ParquetWriter, buffer: list[pa.Table], final: bool) -> list[pa.Table]:
    """Write every full row group of the buffered rows (and the rest when `final`); return the rest."""
    if not buffer:
        return buffer
    rows = pa.concat_tables(buffer)
    schema, n, columns = rows.schema, rows.num_rows, list(rows.columns)
    del rows
    buffer.clear()  # the buffered rows are now referenced by `columns` alone
    start = 0
    while n - start >= contract.ROW_GROUP or (final and start < n):
        size = min(contract.ROW_GROUP, n - start)
        group = []
        for j in range(len(columns)):  # column by column, each column's buffered chunks freed once copied
            group.append(columns[j].slice(0, size).combine_chunks())
            columns[j] = columns[j].slice(size)
        writer.write_table(pa.Table.from_arrays(group, schema=schema))
        del group
        start += size
    return [pa.Table.from_arrays(columns, schema=schema)] if start < n else []


# ---------------------------------------------------------------- the stage


def build(store: Path, out: Path, impact: contract.ImpactInputs, alt_cuts: Path | None = None,
          lea: str | None = None, year: int | None = None, target: int = TARGET_ROWS,
          policy: str = suppress.PUBLISHED, jobs: int | None = None) -> dict[str, int]:
    """Write every table of `store` to `out` (as contract.write(contract.compute(store, impact, policy=policy),
    out, lea, year)); return each table's row count. `jobs`: worker processes for the chunks (default:
    `default_jobs`); 1 computes every chunk in this process. The bytes written are the same either way."""
    chunks = plan(store, target) if policy == suppress.PUBLISHED else None
    _release()
    columns = _columns(store) if chunks else []
    retyped = _retyped(store, columns) if chunks else None
    if chunks is None or retyped is None:
        computed = contract.compute(store, impact, alt_cuts, policy=policy)
        contract.write(computed, out, lea, year)
        return {name: len(contract.select(frame, lea, year)) for name, frame in computed.items()}
    jobs = min(default_jobs(store) if jobs is None else jobs, len(chunks))
    with atomic.replacing(out, "tables", contract.legacy(contract.TABLES)) as tmp, _pool(jobs) as pool:
        scratch = Path(tempfile.mkdtemp(prefix=".scratch-", dir=tmp))
        source = stores.impact_source(store)  # a county's store: the state's candidates
        example = _submit(pool, _impact, source, impact, alt_cuts)  # beside the chunks when in a worker
        counts = _build(store, chunks, columns, retyped, tmp, scratch, (lea, year), pool, target)
        example = contract.select(example.result(), lea, year)
        counts["impact"] = len(example)
        contract.write_table(example, tmp, "impact")
        for path in scratch.iterdir():
            path.unlink()
        scratch.rmdir()
    return counts


def default_jobs(store: Path) -> int:
    """Two worker processes (at most one per core) for a store of more than PARALLEL_ROWS result rows; else
    none (a small store's chunks are computed faster than workers start)."""
    rows = pq.read_metadata(_path(store)).num_rows
    return min(MAX_JOBS, os.cpu_count() or 1) if rows > PARALLEL_ROWS else 1


@contextmanager
def _pool(jobs: int) -> Iterator[Executor | None]:
    """Worker processes (spawned: they share no thread or lock state with this process), or None for 1."""
    if jobs <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def _submit(pool: Executor | None, task: Callable, *args) -> Future:
    """`task(*args)` in a worker, or here and now without a pool."""
    if pool is not None:
        return pool.submit(task, *args)
    done: Future = Future()
    done.set_result(task(*args))
    return done


def _impact(source: Path, impact: contract.ImpactInputs, alt_cuts: Path | None) -> pd.DataFrame:
    """The impact example of the store `source` (a worker's task)."""
    return contract.impact_table(source, _example_lea(source, alt_cuts), impact, alt_cuts)


def _build(store: Path, chunks: list[Chunk], columns: list[str], retyped: dict[str, str], out: Path, scratch: Path,
           where: tuple[str | None, int | None], pool: Executor | None = None,
           target: int = TARGET_ROWS) -> dict[str, int]:
    """Levels and reconciliation chunk by chunk, then trends by group of chunks (all years of an entity); the
    chunks and groups in workers when there is a `pool`, each spilled to its own file, kept in order."""
    levels, recon = Spilled(scratch, "levels"), Spilled(scratch, "reconciliation")
    trend_input: dict[int, list[Path]] = {}
    present: set = set()
    calls = [(store, chunk, i, columns, retyped, scratch, where) for i, chunk in enumerate(chunks)]
    parts = pool.map(_chunk_tables, *zip(*calls)) if pool is not None else (_chunk_tables(*c) for c in calls)
    for chunk, (lv, rec, trend_path, years) in zip(chunks, parts):
        levels.add_part(lv)
        if rec is not None:
            recon.add_part(rec)
        trend_input.setdefault(chunk.group, []).append(trend_path)
        present |= years
    levels.write(out, pool)
    if recon.parts:
        recon.write(out, pool)
    else:
        contract.write_table(pd.DataFrame(), out, "reconciliation")
    trends = _trends(trend_input, levels.dtypes()[[*TREND_COLUMNS, "dfs"]], Spilled(scratch, "trends"), where,
                     present, pool, target)
    trends.write(out, pool)
    return {"levels": levels.rows, "reconciliation": recon.rows, "trends": trends.rows}


def _chunk_tables(store: Path, chunk: Chunk, i: int, columns: list[str], retyped: dict[str, str], scratch: Path,
                  where: tuple[str | None, int | None]) -> tuple[Part, Part | None, Path, set]:
    """One chunk's levels and reconciliation, spilled, its trends input and its years (a worker's task)."""
    results = read_chunk(store, chunk, columns, retyped)
    lv = dfs.add(suppress.suppress(tables.published_levels(results), policy=suppress.PUBLISHED))
    levels = spill(scratch, f"levels-{i:05d}", lv, contract.select(lv, *where))
    path = scratch / f"trend-input-{i:05d}.pkl"
    lv[[*TREND_COLUMNS, "dfs"]].to_pickle(path)
    years = set(lv["year"].unique())
    rec = tables.reconcile(results)
    recon = spill(scratch, f"reconciliation-{i:05d}", rec, contract.select(rec, *where)) if len(rec.columns) else None
    del results, lv, rec
    _release()
    return levels, recon, path, years


def _trends(parts: dict[int, list[Path]], dtypes: pd.Series, spilled: Spilled,
            where: tuple[str | None, int | None], present: set, pool: Executor | None = None,
            target: int = TARGET_ROWS) -> Spilled:
    """Trends of each group of chunks (an entity's every year is in one group), in the whole table's order."""
    calls = [(parts[group], dtypes, present, spilled.folder, f"{spilled.name}-{group:05d}", where, target)
             for group in sorted(parts)]
    done = pool.map(_trend_group, *zip(*calls)) if pool is not None else (_trend_group(*c) for c in calls)
    for group_parts in done:
        for part in group_parts:
            spilled.add_part(part)
    return spilled


def _trend_group(paths: list[Path], dtypes: pd.Series, present: set, folder: Path, stem: str,
                 where: tuple[str | None, int | None], target: int = TARGET_ROWS) -> list[Part]:
    """The trends of one group of chunks, spilled by runs of entities of about `target` rows (a worker's task).
    A group is one district code or more, and one district can be far over the target: Los Angeles Unified
    has 1.2 M rows in five statewide years, whose trends took 1.2 GiB in one worker."""
    base = pd.concat([_cast(pd.read_pickle(p), dtypes) for p in paths], ignore_index=True)
    runs = _entity_runs(base["cds"], target)
    pieces = (base[base["cds"].between(*run)].reset_index(drop=True) for run in runs) if runs else [base]
    parts = []
    for i, piece in enumerate(pieces):
        frame = dfs.trend(tables.trends(piece, present=present), piece)
        parts.append(spill(folder, f"{stem}-{i:05d}", frame, contract.select(frame, *where)))
        del piece, frame
    del base
    _release()
    return parts


def _entity_runs(cds: pd.Series, target: int) -> list[tuple[str, str]]:
    """(first, last) CDS codes of runs of entities in code order, each of about `target` rows or one entity: the
    trends relate an entity's rows only (its years, grades and groups), so each run is computed on its own."""
    runs: list[list] = []  # [first, last, rows]
    for code, n in cds.value_counts(sort=False).sort_index().items():
        if runs and runs[-1][2] + n <= target:
            runs[-1][1:] = [code, runs[-1][2] + n]
        else:
            runs.append([code, code, n])
    return [(first, last) for first, last, _ in runs]


def _example_lea(store: Path, alt_cuts: Path | None) -> tuple[str, int] | None:
    """contract.example_lea on the only rows it looks at."""
    rows = stores.query(f"SELECT year, type_id, grade, student_group_id, test_id, with_scores, cds "
                        f"FROM {stores.table(store, 'results')} WHERE grade = 13 AND student_group_id = 1 "
                        f"AND test_id IN {contract.SB_TESTS} AND type_id IN {stores.LEA_TYPES}")
    return contract.example_lea(rows, contract.alternative_years(alt_cuts))
