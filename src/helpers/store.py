"""Query the Parquet store with DuckDB: the LEA list and one LEA's slice."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

LEA_TYPES = (6, 9, 10)  # district (incl. county offices), direct- and locally funded charters
TYPE_LABELS = {4: "State", 5: "County", 6: "District", 7: "School",
               9: "Direct-funded charter", 10: "Locally funded charter"}


def table(store: Path | str, name: str) -> str:
    path = Path(store) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `caaspp-book ingest` first")
    return f"read_parquet('{path.as_posix()}')"


def query(sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect() as con:
        return con.execute(sql, params or []).df()


def years(store: Path | str) -> list[int]:
    return [int(y) for y in query(f"SELECT DISTINCT year FROM {table(store, 'results')} ORDER BY year")["year"]]


def leas(store: Path | str, year: int | None = None) -> pd.DataFrame:
    """Every LEA with results in `year` (default: the latest year), in county then CDS order."""
    year = year or years(store)[-1]
    return query(f"""
        SELECT DISTINCT cds, year, county_code, county_name, type_id, entity_name AS name
        FROM {table(store, 'results')}
        WHERE year = ? AND type_id IN {LEA_TYPES}
        ORDER BY county_code, cds""", [year])


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

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.type_id, str(self.type_id))

    def part(self, role: str) -> pd.DataFrame:
        return self.rows[self.rows["role"] == role]


def lea_slice(store: Path | str, cds: str, year: int, groups: tuple[int, ...] = (1,)) -> LeaSlice:
    """The LEA's slice: role 'lea' (its own rows), 'school', 'county', 'state'."""
    cds = str(cds)
    county = cds[:2] + "0" * 12
    rows = query(f"""
        SELECT *, CASE WHEN cds = ? THEN 'lea' WHEN cds = ? THEN 'county'
                       WHEN type_id = 4 THEN 'state' ELSE 'school' END AS role
        FROM {table(store, 'results')}
        WHERE year = ? AND student_group_id IN ({','.join('?' * len(groups))})
          AND (cds IN (?, ?) OR type_id = 4
               OR (lea_cds = ? AND type_id IN (7, 9, 10) AND cds <> ?)
               OR (? AND county_code || district_code = ? AND type_id IN (9, 10)))
        ORDER BY role, cds, test_id, grade""",
        [cds, county, year, *groups, cds, county, cds, cds, cds.endswith("0000000"), cds[:7]])
    own = rows[rows["role"] == "lea"]
    if own.empty:
        raise KeyError(f"LEA {cds} has no results for {year} in the store")
    first = own.iloc[0]
    return LeaSlice(cds, year, str(first["entity_name"]), int(first["type_id"]), str(first["county_code"]),
                    str(first["county_name"]), rows.reset_index(drop=True))


def slice_sha256(piece: LeaSlice) -> str:
    """A stable hash of the data an LEA page is made from."""
    data = piece.rows.drop(columns=["source_line"]).sort_values(["role", "cds", "test_id", "grade",
                                                                  "student_group_id"])
    return hashlib.sha256(data.to_csv(index=False).encode()).hexdigest()
