"""The store: read every file given (or under a folder given), combine the research rows, and write every
table as Parquet. `ingest(paths, store)` is the stage's entry point; `build(paths)` gives the tables in memory.

Research files can be large (a statewide year is ~3M rows), so their rows stay as Arrow columns from parsing
to Parquet: each column is typed on its own, '*' patterns and entity attributes are kept once and looked up
per row, and the store's results table is written in row groups.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from helpers.core import atomic
from helpers.core.errors import InputError, paths_as_given
from helpers.ingest import findings as finding
from helpers.ingest import store as stores
from helpers.ingest import student_file
from helpers.ingest.detect import Source, read_rows
from helpers.ingest.entities import Entities, entities_of
from helpers.ingest.results import Results, combine
from helpers.ingest.scope import County, impact_rows, in_county
from helpers.ingest.spill import Held, Yearly
from helpers.ingest.schema import KEY, RESULT_DTYPES, STORE_TABLES, arrow_schema
from helpers.ingest.text import MEMBER, source_name, zip_members

SUFFIXES = (".txt", ".csv", ".txt.gz", ".csv.gz")
ZIP = ".zip"
NOT_DATA = "not a .txt or .csv file (plain, .gz or in a .zip)"


def expand(paths: list[Path]) -> list[Path]:
    """Files given, the *.txt / *.csv files (gzipped or not) under any folder given, and the such members
    of each zip archive (as archive.zip!member), in a stable order."""
    return find_inputs(paths)[0]


def find_inputs(paths: list[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """(files to read as in `expand`, [(path, why)] of the files in a folder or archive that are skipped)."""
    out: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for p in paths:
        if p.is_dir():
            for q in sorted(q for q in p.rglob("*") if q.is_file()):
                if q.name.lower().endswith(ZIP):
                    out += members(q, skipped)
                elif q.name.lower().endswith(SUFFIXES):
                    out.append(q)
                else:
                    skipped.append((str(q), NOT_DATA))
        elif p.exists():
            out += members(p, skipped) if p.name.lower().endswith(ZIP) else [p]
        else:
            raise InputError(p, "no such file or folder")
    return sorted(set(out), key=lambda q: (source_name(q), str(q))), skipped


def members(archive: Path, skipped: list[tuple[str, str]]) -> list[Path]:
    """A zip archive's CAASPP files as archive.zip!member paths; the other members go to `skipped`."""
    out = []
    for name in zip_members(archive):
        path = f"{archive}{MEMBER}{name}"
        base = name.rsplit("/", 1)[-1]
        if name.startswith("__MACOSX/") or base.startswith("._"):
            skipped.append((path, "macOS metadata, not data"))
        elif base.lower().endswith(SUFFIXES):
            out.append(Path(path))
        else:
            skipped.append((path, NOT_DATA))
    return out


@dataclass
class Store:
    """Every table of the store: research rows in Arrow, the small tables in pandas."""

    results: Results | Yearly | None  # None: no research file among the inputs
    tables: dict[str, pd.DataFrame]  # entities, student_groups, tests, sources, students, findings
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why) of files not read
    impact: Results | None = None  # a county's read: every county's All Students SB rows (scope.impact_rows)


def read_store(paths: list[Path], county: str | None = None, scratch: Path | None = None) -> Store:
    """Read every file, then join research rows to their entities and check them; an error names the file
    by its path as given. With `county` (a 2-digit county code) only that county's and the state's research
    rows are kept, filtered as each file is read, and `Store.impact` holds every county's All Students
    Smarter Balanced rows (helpers.ingest.scope). With `scratch` (a folder), files of more than one year are
    kept there until the store is written, one year at a time (helpers.ingest.spill)."""
    with paths_as_given():
        return _read_store(paths, county, scratch)


def _read_store(paths: list[Path], county: str | None, scratch: Path | None) -> Store:
    parts: dict[str, list] = {k: [] for k in STORE_TABLES}
    impact, seen, results = [], [], Held(scratch)
    sources: list[Source] = []
    files, skipped = find_inputs(paths)
    scope = County(county) if county is not None else None
    for path in files:
        kind, rows, source = read_rows(path, scope)
        if scope is not None and kind == "results":
            impact.append(impact_rows(rows))
            rows = in_county(rows, scope.code)
        pa.default_memory_pool().release_unused()  # the file's text is freed: give its memory back
        sources.append(source)
        if kind != "results":
            rows["source_file"] = source.file
        if kind == "students":
            parts["student_issues"].append(rows.attrs.pop("issues"))
        if kind == "results":
            parts["findings"].append(finding.level_sums(rows))
            seen.append(finding.ids_seen(rows))
            results.add(rows)
        else:
            parts[kind].append(rows)
        del rows
    groups = [int(g) for f in parts["student_groups"] for g in f["student_group_id"].dropna()]
    parts["findings"].append(finding.unknown_ids(seen, groups))
    entities = entities_of(parts["entities"])
    return Store(results.results(Entities.of(entities)) if results else None, {
        "entities": entities,
        "student_groups": _concat(parts["student_groups"], ["student_group_id", "name", "category", "source_file"]),
        "tests": _concat(parts["tests"], ["test_id", "name", "source_file"]),
        "students": _concat(parts["students"], student_file.COLUMNS + ["source_file"]),
        "student_issues": _concat(parts["student_issues"], ["file", "line", "field", "reason", "severity"]),
        "sources": pd.DataFrame([asdict(s) for s in sources], columns=list(Source.__dataclass_fields__)),
        "findings": _concat([f for f in parts["findings"] if len(f)], finding.COLUMNS).astype({"line": "int64"}),
    }, skipped, combine(impact, Entities.of(entities)) if impact else None)


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

    def __init__(self, store_dir: Path, tables: dict[str, pd.DataFrame], skipped: list[tuple[str, str]] = ()):
        self.store_dir, self._tables, self.skipped = store_dir, dict(tables), list(skipped)

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
    """Write every table as Parquet (an empty results table when no research file was read), and a county's
    impact rows in its `impact` folder; the store is replaced whole, so a failure leaves the old one; a folder
    with files the tool did not write is refused."""
    with atomic.replacing(store_dir, "store", atomic.names_in(f"{t}.parquet" for t in STORE_TABLES)) as tmp:
        _write_results(store.results, tmp / "results.parquet")
        if store.impact is not None:
            (tmp / stores.IMPACT).mkdir()
            _write_results(store.impact, tmp / stores.IMPACT / "results.parquet")
        for name, frame in store.tables.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)


def _write_results(results: Results | None, path: Path) -> None:
    with pq.ParquetWriter(path, arrow_schema(tuple(RESULT_DTYPES.items())), compression="snappy") as out:
        for group in results.row_groups() if results is not None else ():
            out.write_table(group)
            del group
            pa.default_memory_pool().release_unused()


def ingest(paths: list[Path], store_dir: Path, require_results: bool = True,
           county: str | None = None) -> StoreTables:
    """Read `paths` (files or folders) into a fresh store at `store_dir`; return its tables. Without
    `require_results` (LEA mode) a Student Score Data File alone is enough; `county`: see `read_store`."""
    if county is not None and not (len(county) == 2 and county.isdigit() and county != "00"):
        raise ValueError(f"a county code is two digits, 01 to 58 (the first two of a CDS code), not {county!r}")
    store_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".ingest-", dir=store_dir.parent) as scratch:
        return _ingest(paths, store_dir, require_results, county, Path(scratch))


def _ingest(paths: list[Path], store_dir: Path, require_results: bool, county: str | None,
            scratch: Path) -> StoreTables:
    store = read_store(paths, county, scratch)
    has_results = store.results is not None and len(store.results) > 0
    if require_results and not has_results:
        raise InputError(paths[0] if paths else store_dir, "no research (results) file among the inputs",
                         as_given=True)
    if not has_results and store.tables["students"].empty:
        raise InputError(paths[0] if paths else store_dir, "no research file and no Student Score Data File "
                         "records among the inputs: nothing to report", as_given=True)
    with paths_as_given():  # several years' rows are joined and checked as they are written
        write(store, store_dir)
    return StoreTables(store_dir, store.tables, store.skipped)
