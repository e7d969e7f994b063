"""What each LEA page is made from: data keys and exact slice hashes.

An LEA's slice (store.lea_slice) reads only rows whose CDS code (or LEA code) starts with the LEA's own
7-digit county+district code, the county's row and the state's rows. So:

- `Fingerprints`: one DuckDB pass per table sums a row hash per 7-digit group; an LEA's *data key*
  combines its group, its county's group and the state's. An LEA whose key is unchanged keeps its
  previous `data_sha256` (and slice files, helpers.ingest.slice_files) without reading its slice;
- `SliceHasher`: the slices from in-memory county tables, a county's changed LEAs in one batch of five
  queries (≈10 ms an LEA in a large county), each the same as store.lea_slice's (tests/test_lea_data.py), for
  its hash and its files.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from helpers.core.paths import PACKAGE
from helpers.ingest import store as stores

TABLES = ("levels", "trends", "impact")
STATE = "00"
LIBRARIES = ("caaspp-book", "pandas", "numpy", "matplotlib", "duckdb", "pyarrow", "papermill", "nbformat",
             "nbclient", "ipykernel", "ipython")


def helpers_imported(source: str) -> set[str]:
    """The helpers modules a piece of Python source imports (at any depth of the source, not transitively)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("helpers")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("helpers"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def notebook_modules(notebook: Path) -> list[Path]:
    """The source files of every helpers module the notebook imports, followed transitively."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    return module_files(helpers_imported("\n".join(line for line in code.splitlines()
                                                     if not line.lstrip().startswith(("%", "!")))))


def module_files(names: set[str]) -> list[Path]:
    """The source files of these helpers modules and of every helpers module they import, transitively."""
    todo = set(names)
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        path = _module_file(name)
        if name in seen or path is None:
            continue
        seen[name] = path
        todo |= helpers_imported(path.read_text(encoding="utf-8"))
        todo |= {name.rsplit(".", 1)[0]} if "." in name else set()  # a package's __init__ runs too
    return sorted(set(seen.values()))


def _module_file(name: str) -> Path | None:
    """helpers.a.b → src/helpers/a/b.py or src/helpers/a/b/__init__.py (None for a name that is not a module)."""
    base = PACKAGE.parent.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@functools.lru_cache(maxsize=8)
def code_digest(notebook: Path, params_dir: Path) -> str:
    """The code a page depends on besides its notebook: the helpers modules the notebook imports
    (transitively), params/ and library versions. The runner, CLI, site and synthetic generators are not in
    it, so editing them re-executes nothing (read once per process, like the modules themselves)."""
    digest = hashlib.sha256()
    for path in notebook_modules(notebook):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(_environment(params_dir).encode())
    return digest.hexdigest()


def modules_digest(names: tuple[str, ...], params_dir: Path) -> str:
    """Like `code_digest` for code run outside a notebook: these modules (transitively), params/ and
    library versions."""
    digest = hashlib.sha256()
    for path in module_files(set(names)):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(_environment(params_dir).encode())
    return digest.hexdigest()


def _environment(params_dir: Path) -> str:
    """params/ and library versions, as one digest."""
    digest = hashlib.sha256()
    for path in sorted(p for p in params_dir.glob("**/*") if p.is_file()):
        digest.update(path.relative_to(params_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for name in LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=-\n".encode())
    digest.update(platform.python_version().encode())
    return digest.hexdigest()


def input_hash(notebook_sha256: str, parameters: dict, code: str) -> str:
    """An LEA's input hash: notebook + parameters (which include data_sha256) + code."""
    text = json.dumps({"notebook": notebook_sha256, "parameters": parameters, "code": code}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _sha(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def _has_lea(con: duckdb.DuckDBPyConnection, source: str) -> bool:
    return "lea_cds" in [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]


class Fingerprints:
    """Row-hash sums of the tables per 7-digit CDS group (a district and its schools; the county; the
    state), from which LEA data keys are made."""

    def __init__(self, tables_dir: Path) -> None:
        self.groups: dict[str, dict[str, list]] = {}
        self.schema: dict[str, list] = {}
        with stores.connect() as con:
            for name in TABLES:
                source = stores.table(tables_dir, name)
                self.schema[name] = [list(map(str, r[:2])) for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
                extra = (f" UNION ALL SELECT substr(lea_cds, 1, 7), hash(t)::HUGEINT FROM {source} t "
                         f"WHERE substr(lea_cds, 1, 7) <> substr(cds, 1, 7)") if _has_lea(con, source) else ""
                sql = (f"SELECT g, count(*), sum(h)::VARCHAR FROM (SELECT substr(cds, 1, 7) AS g, hash(t)::HUGEINT AS h "
                       f"FROM {source} t{extra}) GROUP BY g")
                for group, n, total in con.execute(sql).fetchall():
                    self.groups.setdefault(str(group), {})[name] = [int(n), total]

    def lea_key(self, cds: str, code: str = "") -> str:
        """Changes whenever any row the LEA's slice could read changes, or the `code` digest of what makes
        the slice (runner.SLICE_MODULES)."""
        parts = [self.groups.get(g, {}) for g in (cds[:7], cds[:2] + "00000", STATE * 3 + "0")]
        return _sha({"schema": self.schema, "groups": parts, "code": code})


class SliceHasher:
    """store.slice_sha256 of LEA slices from in-memory copies of the rows slices read (one year's published
    rows: All Students, and every group's All Grades of LEAs, counties and the state), county by county."""

    def __init__(self, tables_dir: Path, year: int) -> None:
        self.year = year
        self.con = stores.connect()
        self.con.execute(f"CREATE TABLE h_levels AS SELECT * FROM {stores.table(tables_dir, 'levels')} "
                         f"WHERE year = ? AND source = 'published' AND (student_group_id = 1 OR "
                         f"(grade = 13 AND type_id IN (4, 5, 6, 9, 10)))", [year])  # + every group's All Grades
        self.con.execute(f"CREATE TABLE h_trends AS SELECT * FROM {stores.table(tables_dir, 'trends')} "
                         f"WHERE student_group_id = 1 AND (grade = 13 OR year = ?)", [year])
        self.con.execute(f"CREATE TABLE h_impact AS SELECT * FROM {stores.table(tables_dir, 'impact')}")
        self.lea = {name: _has_lea(self.con, f"h_{name}") for name in TABLES}
        self.county: str | None = None

    def close(self) -> None:
        self.con.close()

    def _select(self, code: str) -> None:
        if code == self.county:
            return
        keys = f"('{code}', '{STATE}')"
        for name in TABLES:
            extra = f" OR substr(lea_cds, 1, 2) IN {keys}" if self.lea[name] else ""
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE c_{name} AS SELECT * FROM h_{name} "
                             f"WHERE substr(cds, 1, 2) IN {keys}{extra}")
        self.county = code

    def _df(self, sql: str, params: dict) -> pd.DataFrame:
        return self.con.execute(sql, params).df()

    def lea_slice(self, cds: str) -> stores.LeaSlice:
        """store.lea_slice(tables, cds, year) from memory: the same queries on the same rows."""
        cds = str(cds)
        self._select(cds[:2])
        return stores.assemble_slice(self._df, SOURCES, cds, self.year)

    def slices(self, leas: list[str]) -> dict[str, stores.LeaSlice]:
        """`lea_slice` of each of these LEAs of one county, with five queries for them all rather than five
        each (an LEA's queries took ≈48 ms, mostly DuckDB's fixed cost per query)."""
        leas = [str(c) for c in leas]
        if len({c[:2] for c in leas}) > 1:
            raise ValueError(f"LEAs of more than one county in one batch: {leas[:3]}…")
        self._select(leas[0][:2])
        parts = {name: _split(self._batch(frame, leas), leas)
                 for name, frame in stores.slice_frames(SOURCES, *BATCH).items()}
        return {cds: stores.slice_of(cds, self.year, {name: part[cds] for name, part in parts.items()})
                for cds in leas}

    def _batch(self, frame: stores.FrameSql, leas: list[str]) -> pd.DataFrame:
        """One frame's rows for every LEA in `leas`, each row with its LEA in column `slice_lea`."""
        sql = (f"SELECT t.*{frame.extra}, l.slice_lea FROM {frame.source} t "
               f"JOIN (SELECT slice_lea, substr(slice_lea, 1, 2) || '000000000000' AS slice_cty "
               f"FROM (SELECT UNNEST($batch) AS slice_lea)) l ON ({frame.match}) WHERE ({frame.filters}) "
               f"ORDER BY slice_lea, {frame.order or 't.rowid'}")  # a table's rowid: the order a query of one keeps
        params = {"batch": leas, "year": self.year, "groups": [1]}
        return self.con.execute(sql, stores.used(params, sql)).df()

    def sha256(self, cds: str) -> str:
        return stores.slice_sha256(self.lea_slice(cds))


SOURCES = {"levels": "c_levels", "trends": "c_trends", "impact": "c_impact"}  # a county's rows (SliceHasher)
BATCH = ("l.slice_lea", "l.slice_cty")  # the LEA's and county's codes in a batch of slices


def _split(batch: pd.DataFrame, leas: list[str]) -> dict[str, pd.DataFrame]:
    """Each LEA's rows of a batch (contiguous: the batch is ordered by LEA first), as a query of that LEA
    alone gives them: DuckDB converts an integer or boolean column to pandas' nullable dtype only when a value
    is missing, and a text column with no text at all to objects (None)."""
    codes = batch["slice_lea"].to_numpy()
    rows = batch.drop(columns="slice_lea")
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([], dtype=int)
    bounds = dict(zip(codes[starts], zip(starts, np.r_[starts[1:], len(codes)])))
    missing = {name: (dtype, rows[name].isna().to_numpy()) for name, dtype in rows.dtypes.items()
               if _nullable_int(dtype) or isinstance(dtype, pd.StringDtype)}
    parts = {}
    for cds in leas:
        start, stop = bounds.get(cds, (0, 0))
        gaps = {name: (dtype, found[start:stop]) for name, (dtype, found) in missing.items()}
        parts[cds] = _as_alone(rows.iloc[start:stop].reset_index(drop=True), gaps)
    return parts


def _as_alone(part: pd.DataFrame, gaps: dict[str, tuple[object, np.ndarray]]) -> pd.DataFrame:
    """`part` with DuckDB's dtypes for these rows alone, from each column's batch dtype and missing values."""
    changed = {}
    for name, (dtype, missing) in gaps.items():
        if _nullable_int(dtype) and not missing.any():
            changed[name] = part[name].to_numpy(dtype=dtype.numpy_dtype)
        elif isinstance(dtype, pd.StringDtype) and missing.all():
            changed[name] = pd.Series([None] * len(part), dtype=object)
    return part.assign(**changed) if changed else part


def _nullable_int(dtype: object) -> bool:
    """pandas' nullable integer or boolean dtype."""
    return isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iub"
