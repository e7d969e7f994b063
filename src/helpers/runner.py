"""Execute the LEA notebook with papermill once per LEA and record a manifest."""

from __future__ import annotations

import json
import os
import re
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable

import nbformat

from . import report
from . import store as stores

HIDE = "remove-cell"


@dataclass
class LeaJob:
    cds: str
    year: int
    name: str
    county_code: str
    county_name: str
    type_id: int
    notebook: str  # path relative to the project root
    data_sha256: str


@dataclass
class LeaRecord:
    cds: str
    year: int
    name: str
    county_code: str
    county_name: str
    type_id: int
    notebook: str
    data_sha256: str
    status: str  # ok | failed
    duration: float
    error: str = ""
    failed_cell: int | None = None  # execution count (In [n]) of the cell that raised


def slug(name: str) -> str:
    """ASCII, lower-case, hyphenated (ñ → n) for file names."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or "lea"


def plan(tables: Path, root: Path, leas_dir: Path, year: int | None = None,
         only: Iterable[str] | None = None) -> list[LeaJob]:
    """One job per LEA in the levels table (or only the CDS codes given)."""
    table = stores.leas(tables, year)
    wanted = {str(c) for c in only} if only else None
    if wanted:
        unknown = wanted - set(table["cds"])
        if unknown:
            raise KeyError(f"not an LEA with results in the store: {', '.join(sorted(unknown))}")
        table = table[table["cds"].isin(wanted)]
    jobs = []
    for row in table.itertuples():
        piece = stores.lea_slice(tables, row.cds, int(row.year))
        nb = leas_dir / row.county_code / f"{row.cds}-{slug(row.name)}.ipynb"
        jobs.append(LeaJob(row.cds, int(row.year), row.name, row.county_code, row.county_name, int(row.type_id),
                           _rel(nb, root), stores.slice_sha256(piece)))
    return jobs


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def run_lea(job: LeaJob, notebook: Path, data: tuple[Path, Path], root: Path, timeout: int = 600) -> LeaRecord:
    """Execute the notebook for one LEA on `data` = (store, tables folder); write it atomically; never
    raise for a notebook error."""
    import papermill as pm

    out = root / job.notebook
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp.ipynb")
    start = time.perf_counter()
    store, tables = data
    params = {"cds": job.cds, "year": job.year, "store": _rel(store, root), "tables": _rel(tables, root),
              "data_sha256": job.data_sha256,
              "out_dir": _rel(out.parent, root), "stem": out.stem}
    try:
        pm.execute_notebook(str(notebook), str(tmp), parameters=params, cwd=str(root), kernel_name="python3",
                            progress_bar=False, request_save_on_cell_execute=False, execution_timeout=timeout)
    except Exception as exc:  # a failing LEA is recorded, the others go on
        return _failed(job, exc, tmp, out, time.perf_counter() - start)
    finish(tmp, job)
    os.replace(tmp, out)
    return LeaRecord(**asdict(job), status="ok", duration=round(time.perf_counter() - start, 2))


def _failed(job: LeaJob, exc: Exception, tmp: Path, out: Path, duration: float) -> LeaRecord:
    cell = getattr(exc, "exec_count", None)
    error = f"{getattr(exc, 'ename', type(exc).__name__)}: {getattr(exc, 'evalue', str(exc))}".strip()
    if tmp.exists():  # keep the partial notebook beside, never inside, the book
        tmp.replace(out.with_name(f".{out.stem}.failed.ipynb"))
    return LeaRecord(**asdict(job), status="failed", duration=round(duration, 2), error=error[:2000],
                     failed_cell=cell)


def finish(path: Path, job: LeaJob) -> None:
    """Give the page its title and hide the parameter cells."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            cell.metadata["tags"] = sorted(set(tags) | {HIDE})
    title = next(c for c in nb.cells if c.cell_type == "markdown")
    title.source = f"# {report.md_text(job.name)} ({job.cds})"
    nbformat.write(nb, path)


def run(jobs: list[LeaJob], notebook: Path, data: tuple[Path, Path], root: Path, jobs_n: int = 1, timeout: int = 600,
        on_done: Callable[[LeaRecord], None] | None = None) -> list[LeaRecord]:
    """Run every job (in `jobs_n` processes); return records in job order."""
    records: dict[str, LeaRecord] = {}
    if jobs_n <= 1:
        for job in jobs:
            records[job.cds] = run_lea(job, notebook, data, root, timeout)
            on_done and on_done(records[job.cds])
    else:
        with ProcessPoolExecutor(jobs_n) as pool:
            futures = {pool.submit(run_lea, j, notebook, data, root, timeout): j for j in jobs}
            for fut, job in futures.items():
                records[job.cds] = fut.result()
                on_done and on_done(records[job.cds])
    return [records[j.cds] for j in jobs]


def write_manifest(records: list[LeaRecord], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([asdict(r) for r in records], indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_manifest(path: Path) -> list[LeaRecord]:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `caaspp-book run` first")
    return [LeaRecord(**r) for r in json.loads(path.read_text(encoding="utf-8"))]
