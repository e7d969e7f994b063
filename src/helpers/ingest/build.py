"""The store: read every file given (or under a folder given), combine the research rows, and write every
table as Parquet. `ingest(paths, store)` is the stage's entry point; `build(paths)` gives the tables in memory.

Research files can be large (a statewide year is ~3M rows), so their rows stay as Arrow columns from parsing
to Parquet: each column is typed on its own, '*' patterns and entity attributes are kept once and looked up
per row, and the store's results table is written in row groups.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from helpers.core import atomic
from helpers.core.errors import InputError
from helpers.ingest import student_file
from helpers.ingest.detect import Source, read_rows
from helpers.ingest.entities import Entities, entities_of
from helpers.ingest.results import Results, combine, in_county
from helpers.ingest.schema import KEY, RESULT_DTYPES, STORE_TABLES, arrow_schema

SUFFIXES = (".txt", ".csv", ".txt.gz", ".csv.gz")


def expand(paths: list[Path]) -> list[Path]:
    """Files given, and the *.txt / *.csv files (gzipped or not) under any folder given, in a stable order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.name.lower().endswith(SUFFIXES) and q.is_file())
        elif p.exists():
            out.append(p)
        else:
            raise InputError(p, "no such file or folder")
    return sorted(set(out), key=lambda q: (q.name, str(q)))


@dataclass
class Store:
    """Every table of the store: research rows in Arrow, the small tables in pandas."""

    results: Results | None  # None: no research file among the inputs
    tables: dict[str, pd.DataFrame]  # entities, student_groups, tests, sources


def read_store(paths: list[Path], county: str | None = None) -> Store:
    """Read every file, then join research rows to their entities and check them; with `county` (a 2-digit
    county code) only that county's and the state's research rows are kept, as each file is read."""
    parts: dict[str, list] = {k: [] for k in STORE_TABLES}
    sources: list[Source] = []
    for path in expand(paths):
        kind, rows, source = read_rows(path)
        if county is not None and kind == "results":
            rows = in_county(rows, county)
        pa.default_memory_pool().release_unused()  # the file's text is freed: give its memory back
        sources.append(source)
        if kind != "results":
            rows["source_file"] = path.name
        if kind == "students":
            parts["student_issues"].append(rows.attrs.pop("issues"))
        parts[kind].append(rows)
    entities = entities_of(parts["entities"])
    results = combine(parts["results"], Entities.of(entities)) if parts["results"] else None
    return Store(results, {
        "entities": entities,
        "student_groups": _concat(parts["student_groups"], ["student_group_id", "name", "category", "source_file"]),
        "tests": _concat(parts["tests"], ["test_id", "name", "source_file"]),
        "students": _concat(parts["students"], student_file.COLUMNS + ["source_file"]),
        "student_issues": _concat(parts["student_issues"], ["file", "line", "field", "reason", "severity"]),
        "sources": pd.DataFrame([asdict(s) for s in sources], columns=list(Source.__dataclass_fields__)),
    })


def _concat(frames: list[pd.DataFrame], cols: list[str]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def _empty_results() -> pd.DataFrame:
    return pd.DataFrame(columns=KEY + ["lea_cds", "entity_name"])


def build(paths: list[Path]) -> dict[str, pd.DataFrame]:
    """Read every file and assemble the store's tables (in memory)."""
    store = read_store(paths)
    results = store.results.to_pandas() if store.results is not None else _empty_results()
    return {"results": results, **store.tables}


class StoreTables(Mapping[str, pd.DataFrame]):
    """The tables `ingest` wrote. `results` (millions of rows for a statewide year) is read back from the
    store when first asked for; the others are in memory."""

    def __init__(self, store_dir: Path, tables: dict[str, pd.DataFrame]):
        self.store_dir, self._tables = store_dir, dict(tables)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name == "results" and name not in self._tables:
            self._tables[name] = pd.read_parquet(self.store_dir / "results.parquet")
        return self._tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(STORE_TABLES)

    def __len__(self) -> int:
        return len(STORE_TABLES)

    def __contains__(self, name: object) -> bool:
        return name in STORE_TABLES

    def rows(self, name: str) -> int:
        """A table's row count, without reading `results` back."""
        if name == "results" and name not in self._tables:
            return pq.read_metadata(self.store_dir / "results.parquet").num_rows
        return len(self._tables[name])


def write(store: Store, store_dir: Path) -> None:
    """Write every table as Parquet (an empty results table when no research file was read); the store is
    replaced whole, so a failure leaves the old one; a folder with files the tool did not write is refused."""
    with atomic.replacing(store_dir, "store", atomic.names_in(f"{t}.parquet" for t in STORE_TABLES)) as tmp:
        with pq.ParquetWriter(tmp / "results.parquet", arrow_schema(tuple(RESULT_DTYPES.items())),
                              compression="snappy") as out:
            for group in store.results.row_groups() if store.results is not None else ():
                out.write_table(group)
                del group
                pa.default_memory_pool().release_unused()
        for name, frame in store.tables.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)


def ingest(paths: list[Path], store_dir: Path, require_results: bool = True,
           county: str | None = None) -> StoreTables:
    """Read `paths` (files or folders) into a fresh store at `store_dir`; return its tables. Without
    `require_results` (LEA mode) a Student Score Data File alone is enough; `county`: see `read_store`."""
    if county is not None and not (len(county) == 2 and county.isdigit() and county != "00"):
        raise ValueError(f"a county code is two digits, 01 to 58 (the first two of a CDS code), not {county!r}")
    store = read_store(paths, county)
    has_results = store.results is not None and len(store.results) > 0
    if require_results and not has_results:
        raise InputError(paths[0] if paths else store_dir, "no research (results) file among the inputs")
    if not has_results and store.tables["students"].empty:
        raise InputError(paths[0] if paths else store_dir, "no research file and no Student Score Data File "
                         "records among the inputs: nothing to report")
    write(store, store_dir)
    return StoreTables(store_dir, store.tables)
