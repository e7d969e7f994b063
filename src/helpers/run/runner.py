"""Run the LEA notebook for every LEA: incremental (unchanged LEAs are skipped), on a pluggable backend,
recording every outcome in the manifest.

An LEA runs again when its input hash changes: the notebook, its parameters (including the hash of the
LEA's data slice) or the code it imports (helpers.run.lea_data.code_digest); or when its last run failed; or with
`force`. The manifest is merged with the previous one, so a partial or interrupted run keeps every LEA.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import time
import unicodedata
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator

from helpers.core import manifest
from helpers.core.manifest import LeaJob, LeaRecord
from helpers.core.paths import Paths
from helpers.ingest import slice_files
from helpers.ingest import store as stores
from helpers.run import kernels, lea_data
from helpers.run.backends import Backend, Lost, Serial
from helpers.run.execute import RunConfig, parameters, prepare, remove_outputs, run_lea

read_manifest, write_manifest = manifest.read, manifest.write
SAVE_EVERY = 5.0  # seconds between manifest saves during a run
SLICE_MODULES = ("helpers.ingest.slice_files", "helpers.run.lea_data")  # what makes a slice and its files


def slug(name: str) -> str:
    """ASCII, lower-case, hyphenated (ñ → n) for file names."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or "lea"


def rel(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).resolve().as_posix()


def _rel_in(path: Path, root: Path, folders: dict[Path, str]) -> str:
    """`rel(path, root)`, resolving each folder once (`folders`): a path that is not a symbolic link resolves
    to its resolved folder joined with its name."""
    if path.is_symlink():
        return rel(path, root)
    if path.parent not in folders:
        folders[path.parent] = rel(path.parent, root)
    folder = folders[path.parent]
    return path.name if folder == "." else f"{folder}/{path.name}"


@dataclass(frozen=True)
class Settings:
    """What to run and where (paths absolute; outputs and parameters are stored relative to `root`)."""

    root: Path
    notebook: Path
    store: Path
    tables: Path
    leas_dir: Path
    manifest: Path
    slices: Path  # each LEA's slice files (helpers.ingest.slice_files)
    year: int | None = None
    only: tuple[str, ...] = ()
    force: bool = False
    timeout: float = 600
    fresh_kernels: bool = False
    grace: float = 5.0  # wall clock per LEA = timeout + grace

    @classmethod
    def from_paths(cls, p, **kwargs) -> "Settings":
        """Defaults from a helpers.core.paths.Paths (store/tables may be overridden in kwargs)."""
        base = dict(root=p.root, notebook=p.notebook, store=p.store, tables=p.tables, leas_dir=p.leas,
                    manifest=p.manifest, slices=p.slices)
        base.update({k: v for k, v in kwargs.items() if v is not None})
        return cls(**base)

    @property
    def deadline(self) -> float:
        """When a worker process is killed as hung: the LEA's wall clock plus three kernel start attempts."""
        return self.timeout + self.grace + 3 * min(60, self.timeout) + 30

    def config(self) -> RunConfig:
        return RunConfig(self.notebook, self.root, rel(self.store, self.root), self.timeout, self.fresh_kernels,
                         grace=self.grace, tables=rel(self.tables, self.root))


def no_leas_message(s: Settings) -> str:
    """Why a run has nothing to do: no LEA (district or charter) has results in the year."""
    year = s.year or max(stores.years(s.tables), default=0)
    return (f"no LEA has results in {year} in {s.tables} (the store holds state or county rows only): no LEA "
            "pages to run; `caaspp-book build` makes the book without them")


class Plan:
    """Every LEA of the year (or the ones asked for), each a job to run or the skipped previous record."""

    def __init__(self, s: Settings) -> None:
        self.s = s
        years = stores.years(s.tables)
        if s.year is not None and s.year not in years:  # never an empty plan (and manifest) for a typo
            raise KeyError(f"no results for {s.year} in {s.tables}: its years are {', '.join(map(str, years))}")
        table = stores.leas(s.tables, s.year)  # empty for a store of state (or county) rows only: no LEA pages
        self.year = int(table["year"].iloc[0]) if len(table) else (s.year or (years[-1] if years else 0))
        self.universe = {(str(c), int(y)) for c, y in zip(table["cds"], table["year"])}
        if s.only:
            unknown = set(s.only) - set(table["cds"])
            if unknown:
                raise KeyError(f"not an LEA with results in the store: {', '.join(sorted(unknown))}")
            table = table[table["cds"].isin(set(s.only))]
        self.table = table
        self.total = len(table)
        self.previous = {r.cds: r for r in manifest.read_if_exists(s.manifest)}
        self.notebook_sha = lea_data.file_sha256(s.notebook)
        self.code = lea_data.code_digest(s.notebook, Paths(s.root).params)
        self.slice_code = lea_data.modules_digest(SLICE_MODULES, Paths(s.root).params)

    def items(self) -> Iterator[LeaJob | LeaRecord]:
        """Jobs and skipped records in county, CDS order; lazily, so execution starts while planning."""
        s, config = self.s, self.s.config()
        prints = lea_data.Fingerprints(s.tables)
        hasher: lea_data.SliceHasher | None = None
        folders: dict[Path, str] = {}  # a county's folder relative to the root, resolved once
        try:
            for _, county in itertools.groupby(self.table.itertuples(), key=lambda r: str(r.cds)[:2]):
                rows = list(county)
                keys = {str(r.cds): prints.lea_key(str(r.cds), self.slice_code) for r in rows}
                shas = {cds: self._kept_sha256(cds, key) for cds, key in keys.items()}
                stale = [cds for cds, sha in shas.items() if not sha]
                pieces: dict[str, stores.LeaSlice] = {}
                if stale:  # the county's changed slices, in one batch
                    hasher = hasher or lea_data.SliceHasher(s.tables, self.year)
                    pieces = hasher.slices(stale)
                for row in rows:
                    cds = str(row.cds)
                    files = slice_files.folder(s.slices, cds, self.year)
                    if not shas[cds]:
                        piece = pieces.pop(cds)
                        shas[cds] = stores.slice_sha256(piece)
                        slice_files.write(piece, files, shas[cds])
                    yield self._item(row, keys[cds], shas[cds], files, config, folders)
        finally:
            if hasher is not None:
                hasher.close()

    def _kept_sha256(self, cds: str, key: str) -> str:
        """The previous data hash of an LEA whose data key is unchanged and whose slice files are there, else ''."""
        prev = self.previous.get(cds)
        if (prev and prev.data_key == key and prev.year == self.year and prev.data_sha256
                and slice_files.complete(slice_files.folder(self.s.slices, cds, self.year))):
            return prev.data_sha256
        return ""

    def _item(self, row, key: str, data_sha: str, files: Path, config: RunConfig,
              folders: dict[Path, str]) -> LeaJob | LeaRecord:
        """The LEA's job, or its previous record when its input hash is unchanged and its notebook is there."""
        s, cds, prev = self.s, str(row.cds), self.previous.get(str(row.cds))
        nb = s.leas_dir / row.county_code / f"{cds}-{slug(row.name)}.ipynb"
        job = LeaJob(cds, self.year, row.name, row.county_code, row.county_name, int(row.type_id),
                     _rel_in(nb, s.root, folders), data_sha, _rel_in(files, s.root, folders), data_key=key)
        job = replace(job, input_hash=lea_data.input_hash(self.notebook_sha, parameters(job, config), self.code))
        if (not s.force and prev is not None and prev.built and prev.input_hash == job.input_hash
                and (s.root / prev.notebook).exists()):
            return manifest.skipped(prev, job)
        return job


@dataclass
class RunResult:
    records: list[LeaRecord]  # this run's, in county, CDS order
    manifest: list[LeaRecord]  # merged with the previous manifest
    seconds: float

    @property
    def failed(self) -> list[LeaRecord]:
        return [r for r in self.records if r.status == "failed"]


def outcome(job: LeaJob, result: LeaRecord | Lost, root: Path) -> LeaRecord:
    """A backend result as a record: a lost worker makes a failed LEA (its staging folder removed)."""
    if isinstance(result, LeaRecord):
        return result
    out = root / job.notebook
    shutil.rmtree(out.parent / f".{out.stem}.out", ignore_errors=True)
    return manifest.record(job, "failed", result.seconds, result.reason)


def drop_moved(rec: LeaRecord, prev: LeaRecord | None, s: Settings) -> None:
    """Once an LEA's page is written under a new name (its name changed), its earlier page and that page's
    CSVs go: only this tool's files, `<cds>-….ipynb` in the book's LEA folders, and only after the new page
    is written (a failed run keeps the old one, which the book then does not show)."""
    if rec.status != "ok" or prev is None or prev.notebook == rec.notebook:
        return
    old = s.root / prev.notebook
    if (old.suffix == ".ipynb" and old.name.startswith(f"{rec.cds}-")
            and old.resolve().is_relative_to(s.leas_dir.resolve())):
        remove_outputs(old)


def run(s: Settings, backend: Backend | None = None, on_record: Callable[[LeaRecord], None] | None = None,
        plan: Plan | None = None) -> RunResult:
    """Plan, execute on `backend` (default serial), save the merged manifest (during the run too)."""
    start = time.perf_counter()
    plan = plan or Plan(s)
    backend = backend or Serial()
    done: dict[str, LeaRecord] = {}
    saved = [time.monotonic()]

    def save(final: bool = False) -> list[LeaRecord]:
        if not final and time.monotonic() - saved[0] < SAVE_EVERY:
            return []
        merged = manifest.merge(plan.previous.values(), done.values(), plan.universe)
        manifest.write(merged, s.manifest)
        saved[0] = time.monotonic()
        return merged

    def emit(rec: LeaRecord) -> None:
        done[rec.cds] = rec
        if on_record:
            on_record(rec)
        save()

    def jobs() -> Iterable[LeaJob]:
        for item in plan.items():
            if isinstance(item, LeaRecord):
                emit(item)
            else:
                yield item

    try:
        config = s.config()
        for job, result in backend.map(partial(run_lea, config=config), jobs(), prepare=partial(prepare, config)):
            rec = outcome(job, result, s.root)
            drop_moved(rec, plan.previous.get(rec.cds), s)
            emit(rec)
    finally:
        merged = save(final=True)
        kernels.close_all()  # the serial backend's kernel
    records = sorted(done.values(), key=lambda r: (r.county_code, r.cds))
    return RunResult(records, merged, time.perf_counter() - start)


def write_timings(result: RunResult, path: Path) -> None:
    """Per-LEA phase seconds of this run (for benchmarks; run-dependent, so never in the manifest)."""
    rows = [{"cds": r.cds, "status": r.status, "duration": r.duration, **r.phases}
            for r in result.records if r.status != "skipped"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"seconds": round(result.seconds, 2), "leas": rows}, indent=1) + "\n")
