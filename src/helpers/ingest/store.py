"""Query the Parquet store with DuckDB: the LEA list and one LEA's slice."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd
import pyarrow.parquet as pq

LEA_TYPES = (6, 9, 10)  # district (incl. county offices), direct- and locally funded charters
TYPE_LABELS = {4: "State", 5: "County", 6: "District", 7: "School",
               9: "Direct-funded charter", 10: "Locally funded charter"}


TABLES_STAGE = ("levels", "trends", "impact", "reconciliation")  # written by `caaspp-book tables`


IMPACT = "impact"  # a county's store (ingest --county): every county's All Students SB rows, as a store


def impact_source(store: Path | str) -> Path:
    """The store the cut-score impact example is chosen from and drawn on: a county's store keeps every
    county's candidates in its `impact` folder (helpers.ingest.scope); any other store is its own."""
    nested = Path(store) / IMPACT
    return nested if (nested / "results.parquet").is_file() else Path(store)


def table(store: Path | str, name: str) -> str:
    path = Path(store) / f"{name}.parquet"
    if not path.exists():
        stage = "`caaspp-book ingest` and `caaspp-book tables`" if name in TABLES_STAGE else "`caaspp-book ingest`"
        raise FileNotFoundError(f"{path} not found: run {stage} first")
    return f"read_parquet('{path.as_posix()}')"


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that prints nothing (no progress bar on a long query). In a Jupyter
    kernel DuckDB refuses the setting without ipywidgets, and draws no bar there either."""
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.InvalidInputException:
        pass
    return con


def query(sql: str, params: list | dict | None = None) -> pd.DataFrame:
    with connect() as con:
        return con.execute(sql, params or []).df()


_CONNECTIONS: dict[tuple[int, int], duckdb.DuckDBPyConnection] = {}  # (process id, thread id) → connection


def slice_query(sql: str, params: list | dict | None = None) -> pd.DataFrame:
    """`query` on this thread's own DuckDB connection, kept for the life of the process: a worker's kernel
    reads one slice per LEA, and a new connection's first query costs several times the query itself. Each
    query still reads the files afresh (DuckDB caches no local file data nor Parquet metadata by default).
    A forked child opens its own (the parent's stays referenced, never closed from the child)."""
    key = (os.getpid(), threading.get_ident())
    con = _CONNECTIONS.get(key)
    if con is None:
        con = _CONNECTIONS[key] = connect()
    return con.execute(sql, params or []).df()


def read_where(path: Path, where: str) -> pd.DataFrame:
    """The rows of a Parquet file that match the SQL condition `where`, in file order, as `pd.read_parquet`
    would give them (same dtypes). DuckDB reads the condition's columns first and decodes the others only where
    rows match: a filtered `read_parquet` decodes whole row groups (~1 GiB for one of the statewide levels
    table's million-row groups), and a batched filter decodes every column of every row (3.0 s against
    0.3 s for the state and county rows of the statewide levels table)."""
    schema = pq.ParquetFile(path).schema_arrow
    with connect() as con:
        found = con.sql(f"SELECT * FROM read_parquet($path) WHERE {where}", params={"path": str(path)})
        return found.to_arrow_table().cast(schema).to_pandas()


def years(tables: Path | str) -> list[int]:
    return [int(y) for y in query(f"SELECT DISTINCT year FROM {table(tables, 'levels')} ORDER BY year")["year"]]


def leas(tables: Path | str, year: int | None = None) -> pd.DataFrame:
    """Every LEA with published results in `year` (default: the latest year), once, in county then CDS order.
    Its name and type, and its county's name, are those of its first All Students row by test and grade, as
    on its page (slice_of), so rows that disagree (a corrected name) never make two LEAs of one code."""
    year = year or years(tables)[-1]
    levels = table(tables, "levels")
    first = "arg_min(struct_pack(type_id, entity_name), (student_group_id <> 1, test_id, grade, student_group_id, " \
            "entity_name, type_id))"
    return query(f"""
        WITH l AS (SELECT cds, year, {first} AS f FROM {levels}
                   WHERE year = $year AND type_id IN {LEA_TYPES} AND source = 'published' GROUP BY cds, year),
             c AS (SELECT cds, {first}.entity_name AS name FROM {levels}
                   WHERE year = $year AND type_id = 5 AND source = 'published' GROUP BY cds)
        SELECT l.cds, l.year, left(l.cds, 2) AS county_code, c.name AS county_name,
               l.f.type_id, l.f.entity_name AS name
        FROM l LEFT JOIN c ON c.cds = left(l.cds, 2) || '000000000000'
        ORDER BY county_code, l.cds""", {"year": year})


@dataclass
class LeaSlice:
    """One LEA's rows for one year: itself, its schools, its county and the state."""

    cds: str
    year: int
    name: str
    type_id: int
    county_code: str
    county_name: str
    rows: pd.DataFrame
    trend: pd.DataFrame
    impact: pd.DataFrame
    groups: pd.DataFrame  # All Grades rows of every student group: the LEA, its county and the state
    matched: pd.DataFrame  # the LEA's grade rows of `year` in the trends table (matched-grade view)

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.type_id, str(self.type_id))

    @property
    def suppression_policy(self) -> str:
        """The suppression policy of the slice's rows (see helpers.stats.suppress)."""
        return rows_policy(self.rows)

    def part(self, role: str) -> pd.DataFrame:
        """The rows of one role (lea, school, county, state), made once per `rows` frame and shared by the
        page's tables and charts: read, never modify in place."""
        rows, parts = self.__dict__.get("_parts", (None, {}))
        if rows is not self.rows:
            rows, parts = self.rows, {}
            self.__dict__["_parts"] = (rows, parts)
        if role not in parts:
            parts[role] = rows[rows["role"] == role]
        return parts[role]


def rows_policy(rows: pd.DataFrame) -> str:
    """The one suppression policy of levels rows: `published` or `complementary` (tables written before
    policies were recorded were all complementary)."""
    if "suppression_policy" not in rows or rows.empty:
        return "complementary"
    found = set(rows["suppression_policy"].dropna().astype(str))
    if len(found) != 1:
        raise ValueError(f"rows under more than one suppression policy: {sorted(found)}")
    return found.pop()


def suppression_policy(tables_dir: Path | str) -> str:
    """The suppression policy `caaspp-book tables` applied to the published rows of `tables_dir`."""
    levels = table(tables_dir, "levels")
    if "suppression_policy" not in pq.read_schema(Path(tables_dir) / "levels.parquet").names:
        return "complementary"
    return rows_policy(query(f"SELECT DISTINCT suppression_policy FROM {levels} WHERE source = 'published'"))


STATE_CDS = "0" * 14


@dataclass(frozen=True)
class FrameSql:
    """One frame of an LEA's slice as SQL parts. `match` ties a row to the LEA through the expressions of the
    LEA's and its county's codes (`$lea` and `$cty`, or a batch's columns, run.lea_data.SliceHasher);
    `filters` use the row alone ($year, $groups); with no `order` the rows keep the source's order."""

    source: str
    filters: str
    match: str
    order: str = ""
    extra: str = ""  # computed columns

    def alone(self) -> str:
        """The query of one LEA, with parameters $lea, $cty and those of `filters`."""
        order = f" ORDER BY {self.order}" if self.order else ""
        return f"SELECT *{self.extra} FROM {self.source} WHERE ({self.filters}) AND ({self.match}){order}"


def _rows_frame(source: str, lea: str = "$lea", cty: str = "$cty") -> FrameSql:
    """The LEA's rows, its schools', its county's and the state's, each with its role."""
    return FrameSql(
        source, "year = $year AND student_group_id IN (SELECT UNNEST($groups))",
        f"""cds IN ({lea}, {cty}) OR type_id = 4 OR (lea_cds = {lea} AND type_id IN (7, 9, 10) AND cds <> {lea})
            OR (right({lea}, 7) = '0000000' AND substr(cds, 1, 7) = substr({lea}, 1, 7) AND type_id IN (9, 10))""",
        "role, cds, test_id, grade",
        f""", CASE WHEN cds = {lea} THEN 'lea' WHEN cds = {cty} THEN 'county'
                   WHEN type_id = 4 THEN 'state' ELSE 'school' END AS role""")


def slice_frames(sources: dict[str, str], lea: str = "$lea", cty: str = "$cty") -> dict[str, FrameSql]:
    """The five frames of a LeaSlice from the levels, trends and impact relations in `sources` (SQL table
    expressions). Every order is total, so the same rows give the same bytes and hash (impact keeps the
    table's order)."""
    levels = f"(SELECT * FROM {sources['levels']} WHERE source = 'published')"
    state = f"'{STATE_CDS}'"
    return {
        "rows": _rows_frame(levels, lea, cty),
        "trend": FrameSql(sources["trends"], "student_group_id = 1 AND grade = 13", f"cds IN ({lea}, {cty}, {state})",
                          "test_id, year, cds"),
        "impact": FrameSql(sources["impact"], "year = $year", f"cds = {lea}"),  # the page's year
        "groups": FrameSql(levels, "year = $year AND grade = 13", f"cds IN ({lea}, {cty}, {state})",
                           "test_id, student_group_id, cds"),
        "matched": FrameSql(sources["trends"], "student_group_id = 1 AND year = $year AND grade < 13",
                            f"cds = {lea}", "test_id, grade"),
    }


def used(params: dict, sql: str) -> dict:
    """The named parameters `sql` refers to (DuckDB refuses any other)."""
    names = set(re.findall(r"\$([A-Za-z_]\w*)", sql))
    return {k: v for k, v in params.items() if k in names}


def _slice_params(cds: str, year: int, groups: tuple[int, ...]) -> dict:
    return {"lea": cds, "cty": cds[:2] + "0" * 12, "year": year, "groups": list(groups)}


def results_rows(store: Path | str, cds: str, year: int, groups: tuple[int, ...] = (1,)) -> pd.DataFrame:
    """The store's raw results for an LEA, its schools, county and state (with a `role` column). Internal:
    not suppressed beyond the file's own `*`, so never for publication."""
    sql = _rows_frame(table(store, "results")).alone()
    return query(sql, used(_slice_params(str(cds), year, groups), sql))


def lea_slice(tables_dir: Path | str, cds: str, year: int, groups: tuple[int, ...] = (1,),
              expect_sha256: str = "") -> LeaSlice:
    """The LEA's slice of the levels table (suppression applied): role 'lea' (its own rows), 'school',
    'county', 'state'; plus its trend and impact rows. With `expect_sha256` (the hash the runner planned
    with), data that changed since is an error, so a page never shows a hash other than its data's."""
    sources = {name: table(tables_dir, name) for name in ("levels", "trends", "impact")}
    piece = assemble_slice(slice_query, sources, str(cds), year, groups, f" in {tables_dir}")
    check_sha256(piece, expect_sha256, str(tables_dir))
    return piece


def check_sha256(piece: LeaSlice, expect_sha256: str, where: str) -> None:
    """With `expect_sha256`, raise if the slice's hash differs (its data changed since the run was planned)."""
    if expect_sha256 and (found := slice_sha256(piece)) != expect_sha256:
        raise ValueError(f"the data of LEA {piece.cds} in {where} changed since the run was planned (SHA-256 "
                         f"{found[:12]}…, expected {expect_sha256[:12]}…): run `caaspp-book run` again")


def assemble_slice(run: Callable[[str, dict], pd.DataFrame], sources: dict[str, str], cds: str, year: int,
                   groups: tuple[int, ...] = (1,), where: str = "") -> LeaSlice:
    """An LEA's slice from the levels, trends and impact relations in `sources` (SQL table expressions),
    with `run(sql, params)` executing each query (a fresh DuckDB connection, or a worker's own)."""
    params = _slice_params(cds, year, groups)
    frames = {}
    for name, frame in slice_frames(sources).items():
        sql = frame.alone()
        frames[name] = run(sql, used(params, sql))
    frames["rows"] = frames["rows"].reset_index(drop=True)
    return slice_of(cds, year, frames, where)


def slice_of(cds: str, year: int, frames: dict[str, pd.DataFrame], where: str = "") -> LeaSlice:
    """The LeaSlice of LEA `cds` in `year` made of `frames` (rows, trend, impact, groups, matched): its name
    and type from its own rows, its county's name from the county's."""
    rows = frames["rows"]
    own = rows[rows["role"] == "lea"]
    if own.empty:
        raise KeyError(f"LEA {cds} has no results for {year}{where}")
    found = {(str(c), int(y)) for c, y in zip(own["cds"], own["year"])}
    if found != {(cds, year)}:
        raise ValueError(f"the slice{where} is not LEA {cds}'s of {year}: it holds {sorted(found)}")
    first = own.iloc[0]
    county_rows = rows[rows["role"] == "county"]
    county_name = str(county_rows["entity_name"].iloc[0]) if len(county_rows) else ""
    return LeaSlice(cds, year, str(first["entity_name"]), int(first["type_id"]), cds[:2], county_name, rows,
                    frames["trend"], frames["impact"], frames["groups"], frames["matched"])


def slice_sha256(piece: LeaSlice) -> str:
    """A stable hash of the data an LEA page is made from."""
    digest = hashlib.sha256()
    for frame in (piece.rows, piece.trend, piece.impact, piece.groups, piece.matched):
        digest.update(frame.to_csv(index=False).encode())
    return digest.hexdigest()
